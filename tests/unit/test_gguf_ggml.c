/* tests/unit/test_gguf_ggml.c — independent check of core/gguf against
 * ggml's own GGUF code (libggml-base.so from node-llama-cpp, via dlopen):
 *   1. a file slm writes is read by gguf_init_from_file, and every key, type,
 *      value, array, tensor name, type, offset, size and the data offset agree;
 *   2. a file ggml writes (gguf_write_to_file) is read by slm and agrees.
 * Exits 77 (skip) when $SLM_GGML_DIR/libggml-base.so is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <dlfcn.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gguf.h"

/* Prototypes from ggml's gguf.h (ids are int64_t, sizes size_t). */
struct gguf_context;
struct gguf_init_params {
    bool no_alloc;
    void **ctx; /* struct ggml_context ** */
};
static struct {
    struct gguf_context *(*init_from_file)(const char *, struct gguf_init_params);
    struct gguf_context *(*init_empty)(void);
    void (*free)(struct gguf_context *);
    uint32_t (*get_version)(const struct gguf_context *);
    size_t (*get_alignment)(const struct gguf_context *);
    size_t (*get_data_offset)(const struct gguf_context *);
    int64_t (*get_n_kv)(const struct gguf_context *);
    const char *(*get_key)(const struct gguf_context *, int64_t);
    int (*get_kv_type)(const struct gguf_context *, int64_t);
    int (*get_arr_type)(const struct gguf_context *, int64_t);
    const void *(*get_val_data)(const struct gguf_context *, int64_t);
    const char *(*get_val_str)(const struct gguf_context *, int64_t);
    size_t (*get_arr_n)(const struct gguf_context *, int64_t);
    const void *(*get_arr_data)(const struct gguf_context *, int64_t);
    const char *(*get_arr_str)(const struct gguf_context *, int64_t, size_t);
    int64_t (*get_n_tensors)(const struct gguf_context *);
    const char *(*get_tensor_name)(const struct gguf_context *, int64_t);
    int (*get_tensor_type)(const struct gguf_context *, int64_t);
    size_t (*get_tensor_offset)(const struct gguf_context *, int64_t);
    size_t (*get_tensor_size)(const struct gguf_context *, int64_t);
    void (*set_val_u32)(struct gguf_context *, const char *, uint32_t);
    void (*set_val_i8)(struct gguf_context *, const char *, int8_t);
    void (*set_val_f64)(struct gguf_context *, const char *, double);
    void (*set_val_bool)(struct gguf_context *, const char *, bool);
    void (*set_val_str)(struct gguf_context *, const char *, const char *);
    void (*set_arr_data)(struct gguf_context *, const char *, int, const void *, size_t);
    void (*set_arr_str)(struct gguf_context *, const char *, const char **, size_t);
    bool (*write_to_file)(const struct gguf_context *, const char *, bool);
    /* ggml's row converters (ggml-quants.h, ggml.h) */
    void (*quantize_q8_0)(const float *, void *, int64_t);
    void (*dequantize_q8_0)(const void *, float *, int64_t);
    void (*fp16_to_fp32_row)(const uint16_t *, float *, int64_t);
    void (*bf16_to_fp32_row)(const uint16_t *, float *, int64_t);
    int64_t (*blck_size)(int);
    size_t (*type_size)(int);
    const char *(*type_name)(int);
} gg;

static void *lib;
static char dir[64];

static const char *tmp(const char *name) {
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static int load_ggml(void) {
    const char *d = getenv("SLM_GGML_DIR");
    if (!d || !*d) return -1;
    char path[1024];
    snprintf(path, sizeof path, "%s/libggml-base.so", d);
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return -1;
    }
#define SYM(field, name)                                                                           \
    do {                                                                                           \
        *(void **)&gg.field = dlsym(lib, name);                                                    \
        if (!gg.field) {                                                                           \
            fprintf(stderr, "missing symbol %s in %s\n", name, path);                              \
            return -2;                                                                             \
        }                                                                                          \
    } while (0)
    SYM(init_from_file, "gguf_init_from_file");
    SYM(init_empty, "gguf_init_empty");
    SYM(free, "gguf_free");
    SYM(get_version, "gguf_get_version");
    SYM(get_alignment, "gguf_get_alignment");
    SYM(get_data_offset, "gguf_get_data_offset");
    SYM(get_n_kv, "gguf_get_n_kv");
    SYM(get_key, "gguf_get_key");
    SYM(get_kv_type, "gguf_get_kv_type");
    SYM(get_arr_type, "gguf_get_arr_type");
    SYM(get_val_data, "gguf_get_val_data");
    SYM(get_val_str, "gguf_get_val_str");
    SYM(get_arr_n, "gguf_get_arr_n");
    SYM(get_arr_data, "gguf_get_arr_data");
    SYM(get_arr_str, "gguf_get_arr_str");
    SYM(get_n_tensors, "gguf_get_n_tensors");
    SYM(get_tensor_name, "gguf_get_tensor_name");
    SYM(get_tensor_type, "gguf_get_tensor_type");
    SYM(get_tensor_offset, "gguf_get_tensor_offset");
    SYM(get_tensor_size, "gguf_get_tensor_size");
    SYM(set_val_u32, "gguf_set_val_u32");
    SYM(set_val_i8, "gguf_set_val_i8");
    SYM(set_val_f64, "gguf_set_val_f64");
    SYM(set_val_bool, "gguf_set_val_bool");
    SYM(set_val_str, "gguf_set_val_str");
    SYM(set_arr_data, "gguf_set_arr_data");
    SYM(set_arr_str, "gguf_set_arr_str");
    SYM(write_to_file, "gguf_write_to_file");
    SYM(quantize_q8_0, "quantize_row_q8_0_ref");
    SYM(dequantize_q8_0, "dequantize_row_q8_0");
    SYM(fp16_to_fp32_row, "ggml_fp16_to_fp32_row");
    SYM(bf16_to_fp32_row, "ggml_bf16_to_fp32_row");
    SYM(blck_size, "ggml_blck_size");
    SYM(type_size, "ggml_type_size");
    SYM(type_name, "ggml_type_name");
#undef SYM
    return 0;
}

/* ggml hands strings out as C strings: a value with a NUL byte is cut there. */
static size_t c_len(const char *s, uint64_t len) {
    const char *z = memchr(s, 0, (size_t)len);
    return z ? (size_t)(z - s) : (size_t)len;
}

/* Every key of slm's view and ggml's view agrees: name, type, value bytes. */
static void compare_kv(const slm_gguf *g, const struct gguf_context *c) {
    assert_int_equal(slm_gguf_n_kv(g), gg.get_n_kv(c));
    for (int64_t i = 0; i < slm_gguf_n_kv(g); i++) {
        assert_string_equal(slm_gguf_key(g, i), gg.get_key(c, i));
        slm_gguf_type t = slm_gguf_kv_type(g, i);
        assert_int_equal((int)t, gg.get_kv_type(c, i));
        if (t == SLM_GGUF_STRING) {
            const char *s;
            uint64_t len;
            assert_int_equal(slm_gguf_get_str(g, slm_gguf_key(g, i), true, &s, &len), SLM_OK);
            const char *gs = gg.get_val_str(c, i);
            assert_int_equal(c_len(s, len), strlen(gs));
            assert_memory_equal(s, gs, c_len(s, len));
        } else if (t == SLM_GGUF_ARRAY) {
            slm_gguf_type et = slm_gguf_arr_type(g, i);
            assert_int_equal((int)et, gg.get_arr_type(c, i));
            uint64_t n = slm_gguf_arr_n(g, i);
            assert_int_equal(n, gg.get_arr_n(c, i));
            if (et == SLM_GGUF_STRING) {
                for (uint64_t j = 0; j < n; j++) {
                    uint64_t len;
                    const char *s = slm_gguf_arr_str(g, i, j, &len);
                    const char *gs = gg.get_arr_str(c, i, (size_t)j);
                    assert_int_equal(c_len(s, len), strlen(gs));
                    assert_memory_equal(s, gs, c_len(s, len));
                }
            } else if (et == SLM_GGUF_BOOL) { /* ggml normalises bools to 0/1 */
                const uint8_t *a = slm_gguf_arr_data(g, i), *b = gg.get_arr_data(c, i);
                for (uint64_t j = 0; j < n; j++) assert_int_equal(a[j] != 0, b[j] != 0);
            } else if (n > 0) {
                assert_memory_equal(slm_gguf_arr_data(g, i), gg.get_arr_data(c, i),
                                    n * slm_gguf_type_size(et));
            }
        } else {
            /* scalar: compare through slm's text rendering of ggml's raw bytes
             * would be circular; compare the bytes ggml holds with slm's typed getters */
            const void *gv = gg.get_val_data(c, i);
            size_t sz = slm_gguf_type_size(t);
            uint8_t mine[8] = {0};
            const char *key = slm_gguf_key(g, i);
            if (t == SLM_GGUF_FLOAT32) {
                float f;
                assert_int_equal(slm_gguf_get_f32(g, key, true, &f), SLM_OK);
                memcpy(mine, &f, 4);
            } else if (t == SLM_GGUF_BOOL) {
                bool b; /* any non-zero byte is true */
                assert_int_equal(slm_gguf_get_bool(g, key, true, &b), SLM_OK);
                assert_int_equal(b, *(const uint8_t *)gv != 0);
                continue;
            } else if (t == SLM_GGUF_FLOAT64) {
                /* no f64 getter: the rendering carries 17 significant digits */
                char buf[64];
                double d, gd;
                slm_gguf_kv_to_string(g, i, buf, sizeof buf);
                d = strtod(buf, NULL);
                memcpy(&gd, gv, 8);
                if (isnan(gd)) {
                    assert_true(isnan(d));
                    continue;
                }
                memcpy(mine, &d, 8);
            } else if (t == SLM_GGUF_UINT64) {
                char buf[64];
                slm_gguf_kv_to_string(g, i, buf, sizeof buf);
                uint64_t u = strtoull(buf, NULL, 10);
                memcpy(mine, &u, 8);
            } else {
                int64_t v;
                assert_int_equal(slm_gguf_get_i64(g, key, true, &v), SLM_OK);
                memcpy(mine, &v, sz); /* little-endian truncation keeps the low bytes */
            }
            assert_memory_equal(mine, gv, sz);
        }
    }
}

static void compare_tensors(const slm_gguf *g, const struct gguf_context *c) {
    assert_int_equal(slm_gguf_n_tensors(g), gg.get_n_tensors(c));
    assert_int_equal(slm_gguf_alignment(g), gg.get_alignment(c));
    assert_int_equal(slm_gguf_data_offset(g), gg.get_data_offset(c));
    for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        assert_string_equal(t->name, gg.get_tensor_name(c, i));
        assert_int_equal((int)t->type, gg.get_tensor_type(c, i));
        assert_int_equal(t->offset, gg.get_tensor_offset(c, i));
        assert_int_equal(t->n_bytes, gg.get_tensor_size(c, i));
    }
}

static void write_sample(const char *path, uint32_t align) {
    slm_gguf_writer *w = slm_gguf_writer_new();
    assert_non_null(w);
    const char *vocab[5] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81hello", "x\ny"};
    float scores[5] = {0, 0, 0, -1.5f, -2.25f};
    int32_t types[5] = {2, 3, 3, 1, 1};
    int16_t i16[3] = {-1, 2, -3};
    uint64_t u64[2] = {1, UINT64_MAX};
    double f64[2] = {0.1, -1e300};
    uint8_t bools[3] = {1, 0, 1};
    assert_int_equal(slm_gguf_set_str(w, "general.architecture", "llama"), SLM_OK);
    if (align != 32) assert_int_equal(slm_gguf_set_u32(w, "general.alignment", align), SLM_OK);
    assert_int_equal(slm_gguf_set_u32(w, "llama.block_count", 2), SLM_OK);
    assert_int_equal(slm_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f), SLM_OK);
    assert_int_equal(slm_gguf_set_u8(w, "t.u8", 250), SLM_OK);
    assert_int_equal(slm_gguf_set_i8(w, "t.i8", -7), SLM_OK);
    assert_int_equal(slm_gguf_set_u16(w, "t.u16", 65000), SLM_OK);
    assert_int_equal(slm_gguf_set_i16(w, "t.i16", -300), SLM_OK);
    assert_int_equal(slm_gguf_set_i32(w, "t.i32", -123456), SLM_OK);
    assert_int_equal(slm_gguf_set_u64(w, "t.u64", 0x123456789abcdefull), SLM_OK);
    assert_int_equal(slm_gguf_set_i64(w, "t.i64", -0x123456789abcdefll), SLM_OK);
    assert_int_equal(slm_gguf_set_f64(w, "t.f64", 2.718281828459045), SLM_OK);
    assert_int_equal(slm_gguf_set_bool(w, "t.bool", false), SLM_OK);
    assert_int_equal(slm_gguf_set_str(w, "tokenizer.ggml.model", "llama"), SLM_OK);
    assert_int_equal(slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", vocab, 5), SLM_OK);
    assert_int_equal(slm_gguf_set_arr(w, "tokenizer.ggml.scores", SLM_GGUF_FLOAT32, scores, 5), SLM_OK);
    assert_int_equal(slm_gguf_set_arr(w, "tokenizer.ggml.token_type", SLM_GGUF_INT32, types, 5), SLM_OK);
    assert_int_equal(slm_gguf_set_arr(w, "t.arr_i16", SLM_GGUF_INT16, i16, 3), SLM_OK);
    assert_int_equal(slm_gguf_set_arr(w, "t.arr_u64", SLM_GGUF_UINT64, u64, 2), SLM_OK);
    assert_int_equal(slm_gguf_set_arr(w, "t.arr_f64", SLM_GGUF_FLOAT64, f64, 2), SLM_OK);
    assert_int_equal(slm_gguf_set_arr(w, "t.arr_bool", SLM_GGUF_BOOL, bools, 3), SLM_OK);
    static float f32[96];
    static uint16_t f16[96];
    static uint8_t q8[3 * 34], q4_0[2 * 18], q6k[210], q5_1[24 * 3];
    for (int i = 0; i < 96; i++) {
        f32[i] = (float)i / 7;
        f16[i] = slm_f32_to_f16((float)i / 3);
    }
    int64_t ne_a[2] = {32, 3}, ne_b[3] = {8, 4, 3}, ne_c[1] = {96}, ne_d[2] = {32, 2},
            ne_e[1] = {256}, ne_f[2] = {32, 3};
    assert_int_equal(slm_gguf_add_tensor(w, "token_embd.weight", SLM_TYPE_F32, 2, ne_a, f32), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "blk.0.attn_q.weight", SLM_TYPE_F16, 3, ne_b, f16), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "blk.0.attn_k.weight", SLM_TYPE_Q8_0, 1, ne_c, q8), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "blk.0.attn_v.weight", SLM_TYPE_Q4_0, 2, ne_d, q4_0), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "blk.0.ffn_up.weight", SLM_TYPE_Q6_K, 1, ne_e, q6k), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "output.weight", SLM_TYPE_Q5_1, 2, ne_f, q5_1), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(w, path), SLM_OK);
    slm_gguf_writer_free(w);
}

static void check_slm_written(uint32_t align) {
    char name[32];
    snprintf(name, sizeof name, "slm_%u.gguf", align);
    write_sample(tmp(name), align);
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(tmp(name), &g), SLM_OK);
    struct gguf_context *c = gg.init_from_file(tmp(name), (struct gguf_init_params){true, NULL});
    assert_non_null(c);
    assert_int_equal(gg.get_version(c), 3);
    compare_kv(g, c);
    compare_tensors(g, c);
    gg.free(c);
    slm_gguf_close(g);
}

static void test_ggml_reads_slm_align32(void **state) {
    (void)state;
    check_slm_written(32);
}

static void test_ggml_reads_slm_align128(void **state) {
    (void)state;
    check_slm_written(128);
}

/* ggml writes metadata (no tensors); slm reads the same values. */
static void test_slm_reads_ggml(void **state) {
    (void)state;
    struct gguf_context *c = gg.init_empty();
    assert_non_null(c);
    const char *strs[3] = {"a", "", "\xc3\xa9t\xc3\xa9"};
    int32_t arr[4] = {1, -2, 3, -4};
    gg.set_val_str(c, "general.architecture", "llama");
    gg.set_val_u32(c, "llama.context_length", 2048);
    gg.set_val_i8(c, "t.i8", -100);
    gg.set_val_f64(c, "t.f64", -0.125);
    gg.set_val_bool(c, "t.bool", true);
    gg.set_arr_str(c, "t.strs", strs, 3);
    gg.set_arr_data(c, "t.arr", SLM_GGUF_INT32, arr, 4);
    assert_true(gg.write_to_file(c, tmp("ggml.gguf"), false));
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(tmp("ggml.gguf"), &g), SLM_OK);
    compare_kv(g, c);
    /* no tensors: both report the end of the header as the data offset */
    struct gguf_context *c2 = gg.init_from_file(tmp("ggml.gguf"), (struct gguf_init_params){true, NULL});
    assert_non_null(c2);
    compare_kv(g, c2);
    compare_tensors(g, c2);
    gg.free(c2);
    assert_int_equal(slm_gguf_n_tensors(g), 0);
    uint32_t u = 0;
    assert_int_equal(slm_gguf_get_u32(g, "llama.context_length", true, &u), SLM_OK);
    assert_int_equal(u, 2048);
    slm_gguf_close(g);
    gg.free(c);
}

/* slm_gguf_tensor_to_f32 is bit-identical to ggml's row converters for F16,
 * BF16 and Q8_0 (Q8_0 blocks made by ggml's quantize_row_q8_0_ref). */
static void test_to_f32_matches_ggml(void **state) {
    (void)state;
    enum { N = 4096 };
    float *x = malloc(N * sizeof *x), *mine = malloc(N * sizeof *mine), *ref = malloc(N * sizeof *ref);
    uint16_t *h = malloc(N * 2), *bf = malloc(N * 2);
    uint8_t *q = malloc(N / 32 * 34);
    slm_rng r;
    slm_rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        x[i] = slm_rng_normal(&r) * (i % 97 == 0 ? 100.0f : 0.5f);
        do h[i] = (uint16_t)slm_rng_u64(&r); while ((h[i] & 0x7c00) == 0x7c00);   /* finite halves */
        do bf[i] = (uint16_t)slm_rng_u64(&r); while ((bf[i] & 0x7f80) == 0x7f80); /* finite bf16 */
    }
    gg.quantize_q8_0(x, q, N);
    int64_t ne[2] = {256, N / 256};
    slm_gguf_writer *w = slm_gguf_writer_new();
    assert_int_equal(slm_gguf_add_tensor(w, "f32", SLM_TYPE_F32, 2, ne, x), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "f16", SLM_TYPE_F16, 2, ne, h), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "bf16", SLM_TYPE_BF16, 2, ne, bf), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "q8_0", SLM_TYPE_Q8_0, 2, ne, q), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "q4_0", SLM_TYPE_Q4_0, 1, ne, q), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(w, tmp("conv.gguf")), SLM_OK);
    slm_gguf_writer_free(w);
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(tmp("conv.gguf"), &g), SLM_OK);
    assert_int_equal(slm_gguf_tensor_to_f32(g, slm_gguf_find_tensor(g, "f32"), mine), SLM_OK);
    assert_memory_equal(mine, x, N * sizeof *x);
    gg.fp16_to_fp32_row(h, ref, N);
    assert_int_equal(slm_gguf_tensor_to_f32(g, slm_gguf_find_tensor(g, "f16"), mine), SLM_OK);
    assert_memory_equal(mine, ref, N * sizeof *ref);
    gg.bf16_to_fp32_row(bf, ref, N);
    assert_int_equal(slm_gguf_tensor_to_f32(g, slm_gguf_find_tensor(g, "bf16"), mine), SLM_OK);
    assert_memory_equal(mine, ref, N * sizeof *ref);
    gg.dequantize_q8_0(q, ref, N);
    assert_int_equal(slm_gguf_tensor_to_f32(g, slm_gguf_find_tensor(g, "q8_0"), mine), SLM_OK);
    assert_memory_equal(mine, ref, N * sizeof *ref);
    assert_int_equal(slm_gguf_tensor_to_f32(g, slm_gguf_find_tensor(g, "q4_0"), mine), SLM_ERR_FORMAT);
    slm_gguf_close(g);
    free(x), free(mine), free(ref), free(h), free(bf), free(q);
}

/* slm's type table equals ggml's for every type ggml defines (block size,
 * block bytes, name); ids ggml removed have size 0 in both. */
static void test_type_table_matches_ggml(void **state) {
    (void)state;
    int known = 0;
    for (int t = 0; t < SLM_TYPE_COUNT; t++) {
        size_t gbytes = gg.type_size(t);
        if (gbytes == 0) { /* removed id (Q4_2, Q4_3, Q4_0_4_4, ...) */
            assert_int_equal(slm_type_block_size((slm_type)t), 0);
            continue;
        }
        known++;
        assert_int_equal(slm_type_block_size((slm_type)t), gg.blck_size(t));
        assert_int_equal(slm_type_block_bytes((slm_type)t), gbytes);
        const char *name = slm_type_name((slm_type)t);
        assert_non_null(name);
        char upper[32];
        snprintf(upper, sizeof upper, "%s", gg.type_name(t));
        for (char *p = upper; *p; p++)
            if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
        assert_string_equal(name, upper);
    }
    assert_true(known >= 30);
}

/* Differential check on the kept fuzz corpus (valid and invalid files):
 *   ggml accepts (metadata) and the data lies within the file => slm accepts;
 *   slm accepts and the tensors are packed in order => ggml accepts.
 * (slm also accepts aligned, non-overlapping tensors in any placement, and
 * checks tensor data bounds, which ggml's no_alloc reader leaves to llama.) */
static void test_differential_corpus(void **state) {
    (void)state;
    const char *dir = "tests/fuzz/corpus/gguf";
    DIR *d = opendir(dir);
    if (!d) {
        printf("skip: %s not found (run from the repository root)\n", dir);
        skip();
    }
    int n = 0, both = 0;
    slm_log_level = -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        size_t size = (size_t)ftell(f);
        fclose(f);
        slm_gguf *g = NULL;
        bool s_ok = slm_gguf_open(path, &g) == SLM_OK;
        struct gguf_context *c = gg.init_from_file(path, (struct gguf_init_params){true, NULL});
        n++;
        if (c) {
            bool data_inside = true;
            for (int64_t i = 0; i < gg.get_n_tensors(c); i++)
                data_inside &= gg.get_data_offset(c) + gg.get_tensor_offset(c, i) + gg.get_tensor_size(c, i) <= size;
            if (data_inside && !s_ok) fail_msg("%s: ggml accepts, slm refuses", path);
        }
        if (s_ok) {
            bool packed = true;
            size_t expect = 0, al = slm_gguf_alignment(g);
            for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
                const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
                packed &= t->offset == expect;
                expect += (t->n_bytes + al - 1) / al * al;
            }
            if (packed && !c) fail_msg("%s: slm accepts, ggml refuses", path);
            if (c) {
                compare_kv(g, c);
                compare_tensors(g, c);
                both++;
            }
        }
        if (c) gg.free(c);
        slm_gguf_close(g);
    }
    closedir(d);
    slm_log_level = 2;
    printf("differential: %d corpus files, %d accepted by both and identical\n", n, both);
    assert_true(n >= 8);
}

/* llama.cpp's own vocab GGUFs: slm and ggml see the same keys and values. */
static void test_vocab_files_agree(void **state) {
    (void)state;
    const char *shared = getenv("SLM_SHARED");
    if (!shared || !*shared) {
        printf("skip: SLM_SHARED not set (no vocabulary GGUFs)\n");
        skip();
    }
    char pat[1024];
    snprintf(pat, sizeof pat, "%s/vocab/*.gguf", shared);
    glob_t gl;
    assert_int_equal(glob(pat, 0, NULL, &gl), 0);
    for (size_t f = 0; f < gl.gl_pathc; f++) {
        slm_gguf *g;
        assert_int_equal(slm_gguf_open(gl.gl_pathv[f], &g), SLM_OK);
        struct gguf_context *c = gg.init_from_file(gl.gl_pathv[f], (struct gguf_init_params){true, NULL});
        assert_non_null(c);
        compare_kv(g, c);
        compare_tensors(g, c);
        gg.free(c);
        slm_gguf_close(g);
    }
    globfree(&gl);
}

int main(void) {
    int rc = load_ggml();
    if (rc == -1) {
        printf("skip: libggml-base.so not found in $SLM_GGML_DIR (node-llama-cpp not installed)\n");
        return 77;
    }
    if (rc != 0) return 1;
    snprintf(dir, sizeof dir, "/tmp/slm_gguf_ggml.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ggml_reads_slm_align32),
        cmocka_unit_test(test_ggml_reads_slm_align128),
        cmocka_unit_test(test_slm_reads_ggml),
        cmocka_unit_test(test_vocab_files_agree),
        cmocka_unit_test(test_to_f32_matches_ggml),
        cmocka_unit_test(test_type_table_matches_ggml),
        cmocka_unit_test(test_differential_corpus),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
