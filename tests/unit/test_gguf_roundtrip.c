/* tests/unit/test_gguf_roundtrip.c — core/gguf writer -> reader round trips:
 * every metadata value type, arrays of every element type (strings too),
 * tensors of several ggml types, alignment 32 and custom alignments, the
 * streaming fill path, key replacement/removal/copying and writer refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/gguf.h"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/slm_gguf_rt.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp(const char *name) {
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static void test_scalars(void **state) {
    (void)state;
    slm_gguf_writer *w = slm_gguf_writer_new();
    assert_non_null(w);
    assert_int_equal(slm_gguf_set_u8(w, "t.u8", 200), SLM_OK);
    assert_int_equal(slm_gguf_set_i8(w, "t.i8", -100), SLM_OK);
    assert_int_equal(slm_gguf_set_u16(w, "t.u16", 60000), SLM_OK);
    assert_int_equal(slm_gguf_set_i16(w, "t.i16", -30000), SLM_OK);
    assert_int_equal(slm_gguf_set_u32(w, "t.u32", 4000000000u), SLM_OK);
    assert_int_equal(slm_gguf_set_i32(w, "t.i32", -2000000000), SLM_OK);
    assert_int_equal(slm_gguf_set_f32(w, "t.f32", 1.5e-5f), SLM_OK);
    assert_int_equal(slm_gguf_set_bool(w, "t.bool", true), SLM_OK);
    assert_int_equal(slm_gguf_set_str(w, "t.str", "h\xc3\xa9llo \"w\"\n"), SLM_OK);
    assert_int_equal(slm_gguf_set_str(w, "t.empty", ""), SLM_OK);
    assert_int_equal(slm_gguf_set_u64(w, "t.u64", 0xfedcba9876543210ull), SLM_OK);
    assert_int_equal(slm_gguf_set_i64(w, "t.i64", INT64_MIN + 7), SLM_OK);
    assert_int_equal(slm_gguf_set_f64(w, "t.f64", 3.141592653589793), SLM_OK);
    /* replacing keeps the position; removing drops it */
    assert_int_equal(slm_gguf_set_u32(w, "t.replace", 1), SLM_OK);
    assert_int_equal(slm_gguf_set_str(w, "t.gone", "x"), SLM_OK);
    assert_int_equal(slm_gguf_set_u32(w, "t.replace", 2), SLM_OK);
    assert_int_equal(slm_gguf_remove_key(w, "t.gone"), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(w, tmp("s.gguf")), SLM_OK);
    slm_gguf_writer_free(w);

    slm_gguf *g;
    assert_int_equal(slm_gguf_open(tmp("s.gguf"), &g), SLM_OK);
    assert_int_equal(slm_gguf_version(g), 3);
    assert_int_equal(slm_gguf_n_kv(g), 14);
    assert_int_equal(slm_gguf_n_tensors(g), 0);
    static const struct {
        const char *key;
        slm_gguf_type type;
    } want[] = {{"t.u8", SLM_GGUF_UINT8},     {"t.i8", SLM_GGUF_INT8},    {"t.u16", SLM_GGUF_UINT16},
                {"t.i16", SLM_GGUF_INT16},    {"t.u32", SLM_GGUF_UINT32}, {"t.i32", SLM_GGUF_INT32},
                {"t.f32", SLM_GGUF_FLOAT32},  {"t.bool", SLM_GGUF_BOOL},  {"t.str", SLM_GGUF_STRING},
                {"t.empty", SLM_GGUF_STRING}, {"t.u64", SLM_GGUF_UINT64}, {"t.i64", SLM_GGUF_INT64},
                {"t.f64", SLM_GGUF_FLOAT64},  {"t.replace", SLM_GGUF_UINT32}};
    for (int i = 0; i < 14; i++) {
        assert_string_equal(slm_gguf_key(g, i), want[i].key);
        assert_int_equal(slm_gguf_kv_type(g, i), want[i].type);
        assert_int_equal(slm_gguf_find_key(g, want[i].key), i);
    }
    assert_int_equal(slm_gguf_find_key(g, "t.gone"), -1);
    uint32_t u32 = 0;
    int64_t i64 = 0;
    float f = 0;
    bool b = false;
    const char *s;
    uint64_t len;
    assert_int_equal(slm_gguf_get_u32(g, "t.u8", true, &u32), SLM_OK);
    assert_int_equal(u32, 200);
    assert_int_equal(slm_gguf_get_i64(g, "t.i8", true, &i64), SLM_OK);
    assert_int_equal(i64, -100);
    assert_int_equal(slm_gguf_get_u32(g, "t.u16", true, &u32), SLM_OK);
    assert_int_equal(u32, 60000);
    assert_int_equal(slm_gguf_get_i64(g, "t.i16", true, &i64), SLM_OK);
    assert_int_equal(i64, -30000);
    assert_int_equal(slm_gguf_get_u32(g, "t.u32", true, &u32), SLM_OK);
    assert_int_equal(u32, 4000000000u);
    assert_int_equal(slm_gguf_get_i64(g, "t.i32", true, &i64), SLM_OK);
    assert_int_equal(i64, -2000000000);
    assert_int_equal(slm_gguf_get_f32(g, "t.f32", true, &f), SLM_OK);
    assert_true(f == 1.5e-5f);
    assert_int_equal(slm_gguf_get_bool(g, "t.bool", true, &b), SLM_OK);
    assert_true(b);
    assert_int_equal(slm_gguf_get_str(g, "t.str", true, &s, &len), SLM_OK);
    assert_int_equal(len, strlen("h\xc3\xa9llo \"w\"\n"));
    assert_memory_equal(s, "h\xc3\xa9llo \"w\"\n", len);
    assert_int_equal(slm_gguf_get_str(g, "t.empty", true, &s, &len), SLM_OK);
    assert_int_equal(len, 0);
    assert_int_equal(slm_gguf_get_i64(g, "t.i64", true, &i64), SLM_OK);
    assert_true(i64 == INT64_MIN + 7);
    assert_int_equal(slm_gguf_get_f32(g, "t.f64", true, &f), SLM_OK);
    assert_true(f == (float)3.141592653589793);
    assert_int_equal(slm_gguf_get_u32(g, "t.replace", true, &u32), SLM_OK);
    assert_int_equal(u32, 2);
    /* refusals: wrong type, out of range, negative into unsigned, missing required */
    assert_int_equal(slm_gguf_get_u32(g, "t.u64", true, &u32), SLM_ERR_FORMAT);
    assert_int_equal(slm_gguf_get_u32(g, "t.i8", true, &u32), SLM_ERR_FORMAT);
    assert_int_equal(slm_gguf_get_i64(g, "t.u64", true, &i64), SLM_ERR_FORMAT);
    assert_int_equal(slm_gguf_get_u32(g, "t.str", true, &u32), SLM_ERR_FORMAT);
    assert_int_equal(slm_gguf_get_str(g, "t.u8", true, &s, &len), SLM_ERR_FORMAT);
    assert_int_equal(slm_gguf_get_bool(g, "t.u8", true, &b), SLM_ERR_FORMAT);
    assert_int_equal(slm_gguf_get_f32(g, "t.u8", true, &f), SLM_ERR_FORMAT);
    assert_int_equal(slm_gguf_get_u32(g, "t.missing", true, &u32), SLM_ERR_FORMAT);
    u32 = 77;
    assert_int_equal(slm_gguf_get_u32(g, "t.missing", false, &u32), SLM_OK);
    assert_int_equal(u32, 77);
    /* rendering */
    char buf[256];
    slm_gguf_kv_to_string(g, slm_gguf_find_key(g, "t.str"), buf, sizeof buf);
    assert_string_equal(buf, "\"h\xc3\xa9llo \\\"w\\\"\\n\"");
    slm_gguf_kv_to_string(g, slm_gguf_find_key(g, "t.i16"), buf, sizeof buf);
    assert_string_equal(buf, "-30000");
    slm_gguf_kv_to_string(g, slm_gguf_find_key(g, "t.bool"), buf, sizeof buf);
    assert_string_equal(buf, "true");
    slm_gguf_close(g);
}

/* Arrays of every element type, each written after an odd-length string so
 * that numeric elements land misaligned in the file. */
static void test_arrays(void **state) {
    (void)state;
    uint8_t u8[5] = {0, 1, 127, 128, 255};
    int8_t i8[4] = {-128, -1, 0, 127};
    uint16_t u16[3] = {0, 1, 65535};
    int16_t i16[3] = {-32768, 0, 32767};
    uint32_t u32[3] = {0, 7, 4294967295u};
    int32_t i32[7] = {-5, 4, -3, 2, -1, 0, 2147483647};
    float f32[3] = {0.5f, -0.0f, 1e30f};
    uint8_t bl[3] = {1, 0, 1};
    uint64_t u64[2] = {0, UINT64_MAX};
    int64_t i64[2] = {INT64_MIN, INT64_MAX};
    double f64[2] = {1e-300, -2.5};
    const char *strs[4] = {"<s>", "", "\xe2\x96\x81the", "a\"b"};
    const struct {
        const char *key;
        slm_gguf_type t;
        const void *data;
        uint64_t n;
    } arrs[] = {
        {"a.u8", SLM_GGUF_UINT8, u8, 5},     {"a.i8", SLM_GGUF_INT8, i8, 4},
        {"a.u16", SLM_GGUF_UINT16, u16, 3},  {"a.i16", SLM_GGUF_INT16, i16, 3},
        {"a.u32", SLM_GGUF_UINT32, u32, 3},  {"a.i32", SLM_GGUF_INT32, i32, 7},
        {"a.f32", SLM_GGUF_FLOAT32, f32, 3}, {"a.bool", SLM_GGUF_BOOL, bl, 3},
        {"a.u64", SLM_GGUF_UINT64, u64, 2},  {"a.i64", SLM_GGUF_INT64, i64, 2},
        {"a.f64", SLM_GGUF_FLOAT64, f64, 2}, {"a.empty", SLM_GGUF_INT32, i32, 0},
    };
    const int n_arrs = (int)(sizeof arrs / sizeof arrs[0]);
    slm_gguf_writer *w = slm_gguf_writer_new();
    for (int i = 0; i < n_arrs; i++) {
        char k[32];
        snprintf(k, sizeof k, "pad%d", i);
        assert_int_equal(slm_gguf_set_str(w, k, "odd"), SLM_OK);
        assert_int_equal(slm_gguf_set_arr(w, arrs[i].key, arrs[i].t, arrs[i].data, arrs[i].n), SLM_OK);
    }
    assert_int_equal(slm_gguf_set_arr_str(w, "a.str", strs, 4), SLM_OK);
    assert_int_equal(slm_gguf_set_arr_str(w, "a.str_empty", strs, 0), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(w, tmp("a.gguf")), SLM_OK);
    slm_gguf_writer_free(w);

    slm_gguf *g;
    assert_int_equal(slm_gguf_open(tmp("a.gguf"), &g), SLM_OK);
    for (int i = 0; i < n_arrs; i++) {
        int64_t k = slm_gguf_find_key(g, arrs[i].key);
        assert_true(k >= 0);
        assert_int_equal(slm_gguf_kv_type(g, k), SLM_GGUF_ARRAY);
        assert_int_equal(slm_gguf_arr_type(g, k), arrs[i].t);
        assert_int_equal(slm_gguf_arr_n(g, k), arrs[i].n);
        const void *d = slm_gguf_arr_data(g, k);
        size_t esz = slm_gguf_type_size(arrs[i].t);
        assert_int_equal((uintptr_t)d % esz, 0);
        if (arrs[i].n) assert_memory_equal(d, arrs[i].data, arrs[i].n * esz);
    }
    int64_t k = slm_gguf_find_key(g, "a.str");
    assert_int_equal(slm_gguf_arr_type(g, k), SLM_GGUF_STRING);
    assert_int_equal(slm_gguf_arr_n(g, k), 4);
    for (uint64_t j = 0; j < 4; j++) {
        uint64_t len;
        const char *s = slm_gguf_arr_str(g, k, j, &len);
        assert_int_equal(len, strlen(strs[j]));
        assert_memory_equal(s, strs[j], len);
    }
    assert_int_equal(slm_gguf_arr_n(g, slm_gguf_find_key(g, "a.str_empty")), 0);
    char buf[256];
    slm_gguf_kv_to_string(g, k, buf, sizeof buf);
    assert_string_equal(buf, "[STRING x 4] \"<s>\", \"\", \"\xe2\x96\x81the\", \"a\\\"b\"");
    slm_gguf_kv_to_string(g, slm_gguf_find_key(g, "a.i32"), buf, sizeof buf);
    assert_string_equal(buf, "[INT32 x 7] -5, 4, -3, 2, -1, 0, ...");

    /* copying every key into a new file reproduces them byte for byte */
    w = slm_gguf_writer_new();
    assert_int_equal(slm_gguf_copy_all_kv(w, g, NULL), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(w, tmp("a2.gguf")), SLM_OK);
    slm_gguf_writer_free(w);
    slm_gguf *g2;
    assert_int_equal(slm_gguf_open(tmp("a2.gguf"), &g2), SLM_OK);
    assert_int_equal(slm_gguf_file_size(g2), slm_gguf_file_size(g));
    FILE *f1 = fopen(tmp("a.gguf"), "rb"), *f2 = fopen(tmp("a2.gguf"), "rb");
    for (int c1, c2; (c1 = fgetc(f1)) != EOF;) {
        c2 = fgetc(f2);
        assert_int_equal(c1, c2);
    }
    fclose(f1);
    fclose(f2);
    slm_gguf_close(g2);
    slm_gguf_close(g);
}

typedef struct {
    int calls;
    uint8_t seed;
} fill_ctx;

static slm_status fill_pattern(void *ctx, void *dst, size_t n) {
    fill_ctx *c = ctx;
    c->calls++;
    for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)(c->seed + i * 7);
    return SLM_OK;
}

/* Tensors of several types; checks names, shapes, sizes, offsets, alignment
 * and bytes, for the default alignment and custom ones. */
static void check_tensors(size_t align) {
    enum { N = 6 };
    float f32[3 * 5];
    uint16_t f16[64], bf16[33 * 2];
    uint8_t q8[34 * 4], q4k[144 * 2];
    for (int i = 0; i < 15; i++) f32[i] = (float)i * 0.25f - 1.0f;
    for (int i = 0; i < 64; i++) f16[i] = slm_f32_to_f16((float)i / 8);
    for (int i = 0; i < 66; i++) bf16[i] = slm_f32_to_bf16((float)-i);
    for (int i = 0; i < (int)sizeof q8; i++) q8[i] = (uint8_t)(i * 13);
    for (int i = 0; i < (int)sizeof q4k; i++) q4k[i] = (uint8_t)(i * 31 + 5);
    const struct {
        const char *name;
        slm_type type;
        int n_dims;
        int64_t ne[4];
        const void *data;
        size_t bytes;
    } ts[N] = {
        {"token_embd.weight", SLM_TYPE_F32, 2, {5, 3}, f32, sizeof f32},
        {"blk.0.attn_q.weight", SLM_TYPE_F16, 3, {4, 4, 4}, f16, sizeof f16},
        {"blk.0.ffn_up.weight", SLM_TYPE_BF16, 2, {33, 2}, bf16, sizeof bf16},
        {"blk.0.attn_k.weight", SLM_TYPE_Q8_0, 2, {64, 2}, q8, sizeof q8},
        {"blk.0.ffn_down.weight", SLM_TYPE_Q4_K, 4, {256, 1, 2, 1}, q4k, sizeof q4k},
        {"streamed", SLM_TYPE_Q6_K, 1, {512}, NULL, 2 * 210},
    };
    fill_ctx fc = {0, 3};
    slm_gguf_writer *w = slm_gguf_writer_new();
    assert_int_equal(slm_gguf_set_str(w, "general.architecture", "llama"), SLM_OK);
    if (align != SLM_GGUF_DEFAULT_ALIGNMENT)
        assert_int_equal(slm_gguf_set_u32(w, "general.alignment", (uint32_t)align), SLM_OK);
    for (int i = 0; i < N; i++) {
        if (ts[i].data)
            assert_int_equal(slm_gguf_add_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, ts[i].data), SLM_OK);
        else
            assert_int_equal(slm_gguf_add_tensor_fn(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, fill_pattern, &fc), SLM_OK);
    }
    char name[32];
    snprintf(name, sizeof name, "t%zu.gguf", align);
    assert_int_equal(slm_gguf_writer_write(w, tmp(name)), SLM_OK);
    assert_int_equal(fc.calls, 1);
    slm_gguf_writer_free(w);

    slm_gguf *g;
    assert_int_equal(slm_gguf_open(tmp(name), &g), SLM_OK);
    assert_int_equal(slm_gguf_alignment(g), align);
    assert_int_equal(slm_gguf_data_offset(g) % align, 0);
    assert_int_equal(slm_gguf_n_tensors(g), N);
    size_t expect_off = 0;
    for (int i = 0; i < N; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        assert_string_equal(t->name, ts[i].name);
        assert_ptr_equal(slm_gguf_find_tensor(g, ts[i].name), t);
        assert_int_equal(t->type, ts[i].type);
        assert_int_equal(t->n_dims, ts[i].n_dims);
        int64_t n_el = 1;
        for (int d = 0; d < 4; d++) {
            int64_t e = d < ts[i].n_dims ? ts[i].ne[d] : 1;
            assert_int_equal(t->ne[d], e);
            n_el *= e;
        }
        assert_int_equal(t->n_elements, n_el);
        assert_int_equal(t->n_bytes, ts[i].bytes);
        assert_int_equal(t->offset, expect_off); /* packed in order, as ggml requires */
        assert_int_equal(((const uint8_t *)t->data - (const uint8_t *)slm_gguf_tensor_at(g, 0)->data) % align, 0);
        expect_off += (ts[i].bytes + align - 1) / align * align;
        if (ts[i].data) {
            assert_memory_equal(t->data, ts[i].data, ts[i].bytes);
        } else {
            for (size_t j = 0; j < ts[i].bytes; j++)
                assert_int_equal(((const uint8_t *)t->data)[j], (uint8_t)(3 + j * 7));
        }
    }
    assert_null(slm_gguf_find_tensor(g, "nope"));
    assert_int_equal(slm_gguf_file_size(g), slm_gguf_data_offset(g) + expect_off);
    slm_gguf_close(g);
}

static void test_tensors_align32(void **state) {
    (void)state;
    check_tensors(32);
}

static void test_tensors_custom_alignment(void **state) {
    (void)state;
    check_tensors(64);
    check_tensors(8);
    check_tensors(4096);
}

static void test_writer_refusals(void **state) {
    (void)state;
    float x[64] = {0};
    int64_t ne[2] = {64, 1}, ne_bad[2] = {33, 1}, ne_neg[2] = {-1, 1};
    char longname[80];
    memset(longname, 'a', 64);
    longname[64] = 0;
    slm_gguf_writer *w = slm_gguf_writer_new();
    assert_int_equal(slm_gguf_add_tensor(w, "a", SLM_TYPE_F32, 2, ne, x), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "a", SLM_TYPE_F32, 2, ne, x), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_add_tensor(w, longname, SLM_TYPE_F32, 2, ne, x), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_add_tensor(w, "b", SLM_TYPE_Q8_0, 2, ne_bad, x), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_add_tensor(w, "c", SLM_TYPE_F32, 2, ne_neg, x), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_add_tensor(w, "d", (slm_type)4, 2, ne, x), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_add_tensor(w, "e", SLM_TYPE_F32, 5, ne, x), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_set_u32(w, "", 1), SLM_ERR_USAGE);
    /* bad alignment: nothing written */
    assert_int_equal(slm_gguf_set_u32(w, "general.alignment", 48), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(w, tmp("bad.gguf")), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_set_u64(w, "general.alignment", 64), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(w, tmp("bad.gguf")), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_remove_key(w, "general.alignment"), SLM_OK);
    /* a NaN refuses the write and leaves neither the file nor a temporary */
    x[17] = NAN;
    assert_int_equal(slm_gguf_writer_write(w, tmp("bad.gguf")), SLM_ERR_RUNTIME);
    struct stat sb;
    assert_int_equal(stat(tmp("bad.gguf"), &sb), -1);
    char tmpname[160];
    snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", tmp("bad.gguf"), (long)getpid());
    assert_int_equal(stat(tmpname, &sb), -1);
    x[17] = 0;
    assert_int_equal(slm_gguf_writer_write(w, tmp("bad.gguf")), SLM_OK);
    /* an unwritable directory is an I/O error */
    assert_int_equal(slm_gguf_writer_write(w, "/nonexistent-dir/x.gguf"), SLM_ERR_IO);
    slm_gguf_writer_free(w);
}

/* Empty tensors (a zero dimension), shape overflow refusals, f32 conversion,
 * the in-memory entry point, and open failures that are not format errors. */
static void test_edges(void **state) {
    (void)state;
    float x[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    uint16_t h[4] = {0x3c00, 0xc000, 0x3800, 0x4200};             /* 1, -2, 0.5, 3 as halves */
    uint16_t bf[4] = {0x3f80, 0xc000, 0x3f00, 0x4040};            /* the same as bfloat16 */
    uint8_t q8[34] = {0x00, 0x38};                                /* d = 0.5 (f16 0x3800) */
    for (int j = 0; j < 32; j++) q8[2 + j] = (uint8_t)(int8_t)(j - 16);
    int64_t ne4[1] = {4}, ne_empty[3] = {32, 0, 5}, ne_q[1] = {32};
    int64_t ne_over[4] = {INT64_C(1) << 40, INT64_C(1) << 40, 1, 1};
    slm_gguf_writer *w = slm_gguf_writer_new();
    assert_int_equal(slm_gguf_add_tensor(w, "f32", SLM_TYPE_F32, 1, ne4, x), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "f16", SLM_TYPE_F16, 1, ne4, h), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "bf16", SLM_TYPE_BF16, 1, ne4, bf), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "q8", SLM_TYPE_Q8_0, 1, ne_q, q8), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "empty", SLM_TYPE_Q8_0, 3, ne_empty, NULL), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "over", SLM_TYPE_F32, 2, ne_over, x), SLM_ERR_USAGE);
    assert_int_equal(slm_gguf_writer_write(w, tmp("e.gguf")), SLM_OK);
    slm_gguf_writer_free(w);

    slm_gguf *g;
    assert_int_equal(slm_gguf_open(tmp("e.gguf"), &g), SLM_OK);
    const slm_gguf_tensor *t = slm_gguf_find_tensor(g, "empty");
    assert_int_equal(t->n_elements, 0);
    assert_int_equal(t->n_bytes, 0);
    assert_int_equal(t->ne[1], 0);
    float out[32];
    static const char *names[3] = {"f32", "f16", "bf16"};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(slm_gguf_tensor_to_f32(g, slm_gguf_find_tensor(g, names[k]), out), SLM_OK);
        assert_memory_equal(out, x, sizeof x);
    }
    assert_int_equal(slm_gguf_tensor_to_f32(g, slm_gguf_find_tensor(g, "q8"), out), SLM_OK);
    for (int j = 0; j < 32; j++) assert_true(out[j] == 0.5f * (float)(j - 16));

    /* the same bytes through slm_gguf_open_memory */
    FILE *f = fopen(tmp("e.gguf"), "rb");
    static uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, slm_gguf_file_size(g));
    slm_gguf *m;
    assert_int_equal(slm_gguf_open_memory(buf, n, "mem.gguf", &m), SLM_OK);
    assert_string_equal(slm_gguf_path(m), "mem.gguf");
    assert_int_equal(slm_gguf_n_tensors(m), 5);
    assert_memory_equal(slm_gguf_find_tensor(m, "q8")->data, q8, 34);
    slm_gguf_close(m);
    assert_int_equal(slm_gguf_open_memory(buf, 23, "short.gguf", &m), SLM_ERR_FORMAT);
    assert_null(m);
    slm_gguf_close(g);

    /* not format errors: a missing file is a usage error, a directory is not a GGUF */
    assert_int_equal(slm_gguf_open(tmp("missing.gguf"), &g), SLM_ERR_USAGE);
    assert_null(g);
    assert_int_equal(slm_gguf_open(tmpdir, &g), SLM_ERR_FORMAT);
    assert_null(g);
}

static void test_type_table(void **state) {
    (void)state;
    /* ggml-common.h block sizes (sizeof block_*), QK_K = 256 */
    static const struct {
        slm_type t;
        const char *name;
        int64_t bs;
        size_t bytes;
    } want[] = {{SLM_TYPE_F32, "F32", 1, 4},      {SLM_TYPE_F16, "F16", 1, 2},
                {SLM_TYPE_BF16, "BF16", 1, 2},    {SLM_TYPE_Q4_0, "Q4_0", 32, 18},
                {SLM_TYPE_Q4_1, "Q4_1", 32, 20},  {SLM_TYPE_Q5_0, "Q5_0", 32, 22},
                {SLM_TYPE_Q5_1, "Q5_1", 32, 24},  {SLM_TYPE_Q8_0, "Q8_0", 32, 34},
                {SLM_TYPE_Q8_1, "Q8_1", 32, 36},  {SLM_TYPE_Q2_K, "Q2_K", 256, 84},
                {SLM_TYPE_Q3_K, "Q3_K", 256, 110}, {SLM_TYPE_Q4_K, "Q4_K", 256, 144},
                {SLM_TYPE_Q5_K, "Q5_K", 256, 176}, {SLM_TYPE_Q6_K, "Q6_K", 256, 210},
                {SLM_TYPE_Q8_K, "Q8_K", 256, 292}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(slm_type_block_size(want[i].t), want[i].bs);
        assert_int_equal(slm_type_block_bytes(want[i].t), want[i].bytes);
        assert_string_equal(slm_type_name(want[i].t), want[i].name);
        slm_type t;
        assert_true(slm_type_from_name(want[i].name, &t));
        assert_int_equal(t, want[i].t);
        assert_int_equal(slm_type_row_bytes(want[i].t, want[i].bs * 3), want[i].bytes * 3);
    }
    slm_type t;
    assert_true(slm_type_from_name("q4_k", &t));
    assert_int_equal(t, SLM_TYPE_Q4_K);
    assert_false(slm_type_from_name("Q4", &t));
    assert_int_equal(slm_type_block_size((slm_type)4), 0);
    assert_null(slm_type_name((slm_type)38)); /* removed from ggml */
    assert_string_equal(slm_type_name((slm_type)20), "IQ4_NL");
    assert_int_equal(slm_type_row_bytes(SLM_TYPE_Q8_0, 33), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_table),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_tensors_align32),
        cmocka_unit_test(test_tensors_custom_alignment),
        cmocka_unit_test(test_writer_refusals),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
