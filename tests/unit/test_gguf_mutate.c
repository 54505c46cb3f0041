/* tests/unit/test_gguf_mutate.c — corrupted GGUF corpus for the reader.
 * Builds a valid small GGUF with slm's writer, locates every field with an
 * independent walker (this file's own reading of the format), then opens
 * mutated copies:
 *   - every truncation length (valid only when all tensor data is still there),
 *   - header counts, string lengths, array counts flipped to small/huge values,
 *   - value types, element types, n_dims, ne, tensor types, offsets corrupted,
 *   - bad version/magic, bad general.alignment, duplicate keys/tensor names,
 *   - seeded random byte flips.
 * Every mutation must return an error (with "<file>: <field>: found X,
 * expected Y" on stderr), or SLM_OK only when the file is still valid, in
 * which case every accessor and every tensor byte is walked (ASan/UBSan in
 * tests/e2e/test_gguf_asan.sh catch any out-of-bounds access). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gguf.h"

#define RANDOM_FLIP_ROUNDS 6000
#define TRUNC_SAMPLE_STRIDE 1 /* every length: the file is small */

static char dir[64], path[128], logpath[128];
static uint8_t *orig;
static size_t orig_len;
static int log_fd = -1, saved_stderr = -1;

/* ---- fields of the valid file, found by an independent walk ---- */
typedef enum { F_U32, F_U64 } width;
typedef enum {
    K_MAGIC, K_VERSION, K_NT, K_NKV, K_KEYLEN, K_VTYPE, K_STRLEN, K_ATYPE, K_ACOUNT, K_ASTRLEN,
    K_NAMELEN, K_NDIMS, K_NE, K_TTYPE, K_TOFF, K_ALIGNVAL
} kind;
typedef struct {
    kind k;
    size_t pos;
    uint64_t val;
} field;
static field fields[256];
static int n_fields;
static size_t data_start, data_end, key_pos[64], key_len[64], name_pos[16], name_len[16];
static int n_keys, n_names;

static uint64_t get(const uint8_t *p, size_t pos, int w) {
    uint64_t v = 0;
    memcpy(&v, p + pos, (size_t)w);
    return v;
}

static void add_field(kind k, size_t pos, uint64_t val) {
    assert_true(n_fields < 256);
    fields[n_fields++] = (field){k, pos, val};
}

static size_t elem_size(uint32_t t) {
    static const size_t sz[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < 13 ? sz[t] : 0;
}

static void walk(const uint8_t *p) {
    add_field(K_MAGIC, 0, get(p, 0, 4));
    add_field(K_VERSION, 4, get(p, 4, 4));
    uint64_t nt = get(p, 8, 8), nkv = get(p, 16, 8);
    add_field(K_NT, 8, nt);
    add_field(K_NKV, 16, nkv);
    size_t pos = 24;
    for (uint64_t i = 0; i < nkv; i++) {
        uint64_t kl = get(p, pos, 8);
        add_field(K_KEYLEN, pos, kl);
        key_pos[n_keys] = pos + 8;
        key_len[n_keys++] = kl;
        bool is_align = kl == 17 && !memcmp(p + pos + 8, "general.alignment", 17);
        pos += 8 + kl;
        uint32_t t = (uint32_t)get(p, pos, 4);
        add_field(K_VTYPE, pos, t);
        pos += 4;
        if (is_align) add_field(K_ALIGNVAL, pos, get(p, pos, 4));
        if (t == 8) {
            add_field(K_STRLEN, pos, get(p, pos, 8));
            pos += 8 + get(p, pos, 8);
        } else if (t == 9) {
            uint32_t et = (uint32_t)get(p, pos, 4);
            add_field(K_ATYPE, pos, et);
            uint64_t n = get(p, pos + 4, 8);
            add_field(K_ACOUNT, pos + 4, n);
            pos += 12;
            for (uint64_t j = 0; j < n; j++) {
                if (et == 8) {
                    add_field(K_ASTRLEN, pos, get(p, pos, 8));
                    pos += 8 + get(p, pos, 8);
                } else {
                    pos += elem_size(et);
                }
            }
        } else {
            pos += elem_size(t);
        }
    }
    data_end = 0;
    size_t ends[16], offs[16];
    for (uint64_t i = 0; i < nt; i++) {
        uint64_t nl = get(p, pos, 8);
        add_field(K_NAMELEN, pos, nl);
        name_pos[n_names] = pos + 8;
        name_len[n_names++] = nl;
        pos += 8 + nl;
        uint32_t nd = (uint32_t)get(p, pos, 4);
        add_field(K_NDIMS, pos, nd);
        pos += 4;
        for (uint32_t d = 0; d < nd; d++, pos += 8) add_field(K_NE, pos, get(p, pos, 8));
        add_field(K_TTYPE, pos, get(p, pos, 4));
        pos += 4;
        add_field(K_TOFF, pos, get(p, pos, 8));
        offs[i] = get(p, pos, 8);
        pos += 8;
        ends[i] = 0;
    }
    data_start = (pos + 31) / 32 * 32;
    /* tensor sizes from slm's (already round-trip-tested) reader */
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(path, &g), SLM_OK);
    assert_int_equal(slm_gguf_data_offset(g), data_start);
    for (uint64_t i = 0; i < nt; i++) {
        ends[i] = offs[i] + slm_gguf_tensor_at(g, (int64_t)i)->n_bytes;
        if (data_start + ends[i] > data_end) data_end = data_start + ends[i];
    }
    slm_gguf_close(g);
}

/* ---- running one mutation ---- */
static int n_ok, n_err;

/* Touches everything an open file exposes; returns a checksum so nothing is elided. */
static uint64_t walk_handle(const slm_gguf *g) {
    uint64_t sum = 0;
    char buf[512];
    for (int64_t i = 0; i < slm_gguf_n_kv(g); i++) {
        slm_gguf_kv_to_string(g, i, buf, sizeof buf);
        sum += strlen(buf) + strlen(slm_gguf_key(g, i));
        assert_int_equal(slm_gguf_find_key(g, slm_gguf_key(g, i)), i);
        if (slm_gguf_kv_type(g, i) != SLM_GGUF_ARRAY) continue;
        uint64_t n = slm_gguf_arr_n(g, i);
        if (slm_gguf_arr_type(g, i) == SLM_GGUF_STRING) {
            for (uint64_t j = 0; j < n; j++) {
                uint64_t len;
                const char *s = slm_gguf_arr_str(g, i, j, &len);
                for (uint64_t c = 0; c < len; c++) sum += (uint8_t)s[c];
            }
        } else {
            const uint8_t *d = slm_gguf_arr_data(g, i);
            for (uint64_t c = 0; c < n * slm_gguf_type_size(slm_gguf_arr_type(g, i)); c++) sum += d[c];
        }
    }
    for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        assert_true(slm_gguf_data_offset(g) + t->offset + t->n_bytes <= slm_gguf_file_size(g));
        assert_int_equal(t->offset % slm_gguf_alignment(g), 0);
        assert_true(t->n_dims >= 0 && t->n_dims <= 4);
        assert_int_equal(t->ne[0] % slm_type_block_size(t->type), 0);
        assert_ptr_equal(slm_gguf_find_tensor(g, t->name), t);
        for (size_t c = 0; c < t->n_bytes; c++) sum += ((const uint8_t *)t->data)[c];
    }
    return sum;
}

/* Writes buf, opens it; expect: 1 must succeed, 0 must fail, -1 either. */
static void try_open(const uint8_t *buf, size_t len, int expect, const char *what) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(ftruncate(log_fd, 0), 0);
    assert_int_equal(lseek(log_fd, 0, SEEK_SET), 0);
    slm_gguf *g = NULL;
    fflush(stderr);
    assert_true(dup2(log_fd, 2) >= 0);
    slm_status st = slm_gguf_open(path, &g);
    /* the in-memory entry point reaches the same verdict */
    slm_gguf *gm = NULL;
    slm_status stm = slm_gguf_open_memory(buf, len, path, &gm);
    slm_gguf_close(gm);
    fflush(stderr);
    assert_true(dup2(saved_stderr, 2) >= 0);
    assert_int_equal(stm, st);
    if (st == SLM_OK) {
        n_ok++;
        volatile uint64_t sink = walk_handle(g);
        (void)sink;
        slm_gguf_close(g);
        if (expect == 0) fail_msg("mutation '%s' (len %zu) was accepted", what, len);
    } else {
        n_err++;
        assert_null(g);
        if (expect == 1) fail_msg("valid variant '%s' (len %zu) was refused", what, len);
        assert_int_equal(st, SLM_ERR_FORMAT);
        char msg[2048] = {0};
        ssize_t got = pread(log_fd, msg, sizeof msg - 1, 0);
        assert_true(got > 0);
        if (!strstr(msg, path) || !strstr(msg, ": found ") || !strstr(msg, ", expected "))
            fail_msg("mutation '%s': error text lacks file/field/found/expected: %s", what, msg);
    }
}

static int setup(void **state) {
    (void)state;
    /* tmpfs when available: thousands of small files are written */
    snprintf(dir, sizeof dir, "%s/slm_gguf_mut.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/m.gguf", dir);
    snprintf(logpath, sizeof logpath, "%s/log.txt", dir);
    /* the valid file */
    slm_gguf_writer *w = slm_gguf_writer_new();
    const char *strs[3] = {"<s>", "", "tok"};
    int32_t ints[3] = {1, -2, 3};
    float f32[16];
    uint16_t f16[4], bf16[8];
    uint8_t q8[2 * 34], q4k[144];
    for (int i = 0; i < 16; i++) f32[i] = (float)i;
    for (int i = 0; i < 4; i++) f16[i] = slm_f32_to_f16((float)i);
    for (int i = 0; i < 8; i++) bf16[i] = slm_f32_to_bf16((float)i);
    memset(q8, 7, sizeof q8);
    memset(q4k, 9, sizeof q4k);
    int64_t ne_a[2] = {8, 2}, ne_b[1] = {4}, ne_c[2] = {32, 2}, ne_d[1] = {256}, ne_e[3] = {2, 2, 2};
    int ok = slm_gguf_set_str(w, "general.architecture", "llama") == SLM_OK &&
             slm_gguf_set_u32(w, "general.alignment", 32) == SLM_OK &&
             slm_gguf_set_u8(w, "k.u8", 3) == SLM_OK && slm_gguf_set_i16(w, "k.i16", -4) == SLM_OK &&
             slm_gguf_set_f32(w, "k.f32", 0.5f) == SLM_OK && slm_gguf_set_bool(w, "k.bool", true) == SLM_OK &&
             slm_gguf_set_u64(w, "k.u64", 1ull << 40) == SLM_OK && slm_gguf_set_f64(w, "k.f64", 0.25) == SLM_OK &&
             slm_gguf_set_arr_str(w, "k.strs", strs, 3) == SLM_OK &&
             slm_gguf_set_arr(w, "k.ints", SLM_GGUF_INT32, ints, 3) == SLM_OK &&
             slm_gguf_set_arr(w, "k.none", SLM_GGUF_UINT8, ints, 0) == SLM_OK &&
             slm_gguf_add_tensor(w, "t.f32", SLM_TYPE_F32, 2, ne_a, f32) == SLM_OK &&
             slm_gguf_add_tensor(w, "t.f16", SLM_TYPE_F16, 1, ne_b, f16) == SLM_OK &&
             slm_gguf_add_tensor(w, "t.q80", SLM_TYPE_Q8_0, 2, ne_c, q8) == SLM_OK &&
             slm_gguf_add_tensor(w, "t.q4k", SLM_TYPE_Q4_K, 1, ne_d, q4k) == SLM_OK &&
             slm_gguf_add_tensor(w, "t.b16", SLM_TYPE_BF16, 3, ne_e, bf16) == SLM_OK &&
             slm_gguf_writer_write(w, path) == SLM_OK;
    slm_gguf_writer_free(w);
    if (!ok) return -1;
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    orig_len = (size_t)ftell(f);
    rewind(f);
    orig = malloc(orig_len);
    if (fread(orig, 1, orig_len, f) != orig_len) return -1;
    fclose(f);
    walk(orig);
    /* the reader's errors go to a log file we can inspect */
    log_fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    saved_stderr = dup(2);
    return log_fd < 0 || saved_stderr < 0 ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    close(saved_stderr);
    close(log_fd);
    printf("mutations: %d refused, %d accepted (and walked)\n", n_err, n_ok);
    free(orig);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_valid(void **state) {
    (void)state;
    assert_true(n_fields > 30);
    assert_true(data_end > data_start && data_end <= orig_len);
    try_open(orig, orig_len, 1, "unchanged");
}

static void test_truncations(void **state) {
    (void)state;
    for (size_t len = 0; len < orig_len; len += TRUNC_SAMPLE_STRIDE)
        try_open(orig, len, len >= data_end ? 1 : 0, "truncation");
    /* explicitly at every field boundary (also covered above) */
    for (int i = 0; i < n_fields; i++) try_open(orig, fields[i].pos, 0, "truncation at field");
}

static void set_field(uint8_t *b, const field *f, uint64_t v) {
    int w = (f->k == K_MAGIC || f->k == K_VERSION || f->k == K_VTYPE || f->k == K_ATYPE ||
             f->k == K_NDIMS || f->k == K_TTYPE || f->k == K_ALIGNVAL)
                ? 4
                : 8;
    memcpy(b + f->pos, &v, (size_t)w);
}

static void mutate_field(int i, uint64_t v, int expect, const char *what) {
    uint8_t *b = malloc(orig_len);
    memcpy(b, orig, orig_len);
    set_field(b, &fields[i], v);
    try_open(b, orig_len, expect, what);
    free(b);
}

static void test_counts_and_lengths(void **state) {
    (void)state;
    const uint64_t huge[] = {orig_len, orig_len + 1, 1ull << 32, 1ull << 61, (1ull << 63) - 1,
                             1ull << 63, UINT64_MAX, UINT64_MAX / 8 + 1, UINT64_MAX / 13 + 1};
    for (int i = 0; i < n_fields; i++) {
        kind k = fields[i].k;
        if (k != K_NT && k != K_NKV && k != K_KEYLEN && k != K_STRLEN && k != K_ACOUNT &&
            k != K_ASTRLEN && k != K_NAMELEN)
            continue;
        for (size_t h = 0; h < sizeof huge / sizeof huge[0]; h++) mutate_field(i, huge[h], 0, "huge count/length");
        /* off by one either way: anything may happen except a crash */
        mutate_field(i, fields[i].val + 1, -1, "count/length + 1");
        if (fields[i].val) mutate_field(i, fields[i].val - 1, -1, "count/length - 1");
        mutate_field(i, 0, -1, "count/length 0");
    }
}

static void test_types_shapes_offsets(void **state) {
    (void)state;
    int n_tensors = 0;
    for (int i = 0; i < n_fields; i++) {
        const field *f = &fields[i];
        switch (f->k) {
        case K_MAGIC:
            mutate_field(i, 0x46554748, 0, "magic");
            mutate_field(i, 0, 0, "magic 0");
            break;
        case K_VERSION:
            mutate_field(i, 1, 0, "version 1");
            mutate_field(i, 2, 0, "version 2");
            mutate_field(i, 4, 0, "version 4");
            mutate_field(i, 0x03000000, 0, "version big-endian");
            break;
        case K_VTYPE:
            mutate_field(i, 13, 0, "value type 13");
            mutate_field(i, 0xffffffff, 0, "value type -1");
            for (uint32_t t = 0; t < 13; t++) mutate_field(i, t, -1, "value type other");
            break;
        case K_ATYPE:
            mutate_field(i, 9, 0, "nested array");
            mutate_field(i, 13, 0, "array type 13");
            for (uint32_t t = 0; t < 13; t++) mutate_field(i, t, -1, "array type other");
            break;
        case K_NDIMS:
            mutate_field(i, 5, 0, "n_dims 5");
            mutate_field(i, 0xffffffff, 0, "n_dims -1");
            for (uint32_t d = 0; d <= 4; d++) mutate_field(i, d, -1, "n_dims other");
            break;
        case K_NE:
            mutate_field(i, (uint64_t)-1, 0, "ne -1");
            mutate_field(i, 1ull << 62, 0, "ne 2^62");
            mutate_field(i, 1ull << 40, 0, "ne 2^40 (data beyond file)");
            mutate_field(i, f->val + 1, -1, "ne + 1 (may still fit in the padding)");
            mutate_field(i, f->val * 64, 0, "ne * 64 (overlaps the next tensor or the end)");
            mutate_field(i, 0, -1, "ne 0");
            break;
        case K_TTYPE:
            mutate_field(i, 4, 0, "tensor type 4 (removed Q4_2)");
            mutate_field(i, 40, 0, "tensor type 40");
            mutate_field(i, 0xffffffff, 0, "tensor type -1");
            for (uint32_t t = 0; t < 31; t++) mutate_field(i, t, -1, "tensor type other");
            break;
        case K_TOFF:
            mutate_field(i, f->val + 1, 0, "offset + 1 (misaligned)");
            mutate_field(i, f->val + 16, 0, "offset + 16 (misaligned)");
            mutate_field(i, UINT64_MAX - 31, 0, "offset huge");
            mutate_field(i, 1ull << 63, 0, "offset 2^63");
            mutate_field(i, orig_len, 0, "offset past end");
            /* overlap: every tensor after the first moved onto the first */
            if (n_tensors++ > 0) mutate_field(i, 0, 0, "offset 0 (overlaps tensor 0)");
            break;
        case K_ALIGNVAL:
            mutate_field(i, 0, 0, "alignment 0");
            mutate_field(i, 3, 0, "alignment 3");
            mutate_field(i, 48, 0, "alignment 48");
            mutate_field(i, 0x80000000u, 0, "alignment 2^31 (data beyond file)");
            mutate_field(i, 16, 1, "alignment 16 (offsets still aligned)");
            break;
        default:
            break;
        }
    }
    /* the alignment key with another type of the same width */
    for (int i = 0; i < n_fields; i++)
        if (fields[i].k == K_ALIGNVAL) mutate_field(i - 1, SLM_GGUF_INT32, 0, "alignment as INT32");
}

static void test_duplicates(void **state) {
    (void)state;
    uint8_t *b = malloc(orig_len);
    /* a key renamed to an earlier key of the same length; same for tensor names */
    for (int i = 0; i < n_keys; i++)
        for (int j = 0; j < i; j++) {
            if (key_len[i] != key_len[j]) continue;
            memcpy(b, orig, orig_len);
            memcpy(b + key_pos[i], orig + key_pos[j], key_len[i]);
            try_open(b, orig_len, 0, "duplicate key");
        }
    for (int i = 0; i < n_names; i++)
        for (int j = 0; j < i; j++) {
            if (name_len[i] != name_len[j]) continue;
            memcpy(b, orig, orig_len);
            memcpy(b + name_pos[i], orig + name_pos[j], name_len[i]);
            try_open(b, orig_len, 0, "duplicate tensor name");
        }
    /* NUL inside a key or name */
    memcpy(b, orig, orig_len);
    b[key_pos[0] + 1] = 0;
    try_open(b, orig_len, 0, "NUL in key");
    memcpy(b, orig, orig_len);
    b[name_pos[0] + 1] = 0;
    try_open(b, orig_len, 0, "NUL in tensor name");
    free(b);
}

static void test_random_flips(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 20261125);
    uint8_t *b = malloc(orig_len);
    for (int round = 0; round < RANDOM_FLIP_ROUNDS; round++) {
        memcpy(b, orig, orig_len);
        int n = 1 + (int)slm_rng_below(&r, 4);
        /* most flips in the header (data bytes rarely matter) */
        size_t span = slm_rng_below(&r, 4) ? data_start : orig_len;
        for (int k = 0; k < n; k++) {
            size_t at = slm_rng_below(&r, span);
            switch (slm_rng_below(&r, 3)) {
            case 0: b[at] ^= (uint8_t)(1u << slm_rng_below(&r, 8)); break;
            case 1: b[at] = (uint8_t)slm_rng_u64(&r); break;
            default: b[at] = slm_rng_below(&r, 2) ? 0xff : 0x00; break;
            }
        }
        size_t len = slm_rng_below(&r, 8) ? orig_len : slm_rng_below(&r, orig_len + 1);
        try_open(b, len, -1, "random flips");
    }
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_counts_and_lengths),
        cmocka_unit_test(test_types_shapes_offsets),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_random_flips),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
