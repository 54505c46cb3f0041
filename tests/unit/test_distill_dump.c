/* tests/unit/test_distill_dump.c — logit dump: round trip in f32 and f16,
 * resume after an interrupted write, and every class of bad dump refused with
 * SLM_ERR_FORMAT (vocabulary, k > V, ids out of range, NaN/inf, token mismatch);
 * id datasets stored as uint16 (format version 2) when the vocabulary allows,
 * int32 (version 1 layout) otherwise or on request, both read back equal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"
#include "distill/dump.h"

#define F16_TOL 4e-3 /* relative rounding of a float16 log-prob */

enum { V = 50, T = 6, K = 4, S = 5 };

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/slm_dump_test_%d", (int)getpid());
    char cmd[128];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    return system(cmd);
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static slm_dump_info make_info(bool f16) {
    slm_dump_info in = slm_dump_default_info();
    in.vocab_size = V;
    in.k = K;
    in.seq_len = T;
    in.f16 = f16;
    snprintf(in.tokenizer_fp, sizeof in.tokenizer_fp, "%064d", 7);
    snprintf(in.teacher, sizeof in.teacher, "unit-test teacher");
    snprintf(in.teacher_fp, sizeof in.teacher_fp, "%064d", 9);
    return in;
}

/* deterministic content for sequence s: a valid sorted top-k of a log-softmax */
static void fill_batch(slm_dump_batch *b, int64_t s0) {
    for (int64_t r = 0; r < b->n; r++) {
        int64_t s = s0 + r;
        for (int64_t t = 0; t < T; t++) {
            int64_t i = r * T + t;
            b->tokens[i] = (int32_t)((s * 7 + t * 3) % V);
            b->targets[i] = t + 1 < T ? (int32_t)((s * 7 + (t + 1) * 3) % V) : -1;
            b->mask[i] = (uint8_t)(t != 0);
            for (int64_t j = 0; j < K; j++) {
                b->ids[i * K + j] = (int32_t)((s + t + j * 11) % V);
                b->logprobs[i * K + j] = -0.5f - 1.25f * (float)j - 0.01f * (float)(s + t);
            }
        }
    }
}

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

static bool g_ids32; /* write_dump: the version 1 layout (int32 ids) */

static void write_dump(const char *path, bool f16, int64_t n_seqs) {
    slm_dump_info in = make_info(f16);
    in.ids32 = g_ids32;
    slm_dump_writer *w;
    assert_int_equal(slm_dump_writer_open(path, &in, false, &w), SLM_OK);
    slm_dump_batch b;
    assert_int_equal(slm_dump_batch_alloc(&in, 2, &b), SLM_OK);
    for (int64_t s = 0; s < n_seqs; s += 2) {
        b.n = s + 2 <= n_seqs ? 2 : n_seqs - s;
        fill_batch(&b, s);
        assert_int_equal(slm_dump_writer_append(w, &b), SLM_OK);
    }
    slm_dump_batch_free(&b);
    assert_int_equal(slm_dump_writer_finish(w), SLM_OK);
}

static void check_dump(const char *path, bool f16, int64_t n_seqs) {
    slm_dump *d;
    assert_int_equal(slm_dump_open(path, &d), SLM_OK);
    const slm_dump_info *in = slm_dump_get_info(d);
    assert_int_equal(in->vocab_size, V);
    assert_int_equal(in->k, K);
    assert_int_equal(in->seq_len, T);
    assert_int_equal(in->mode, SLM_DUMP_TOPK);
    assert_int_equal(in->f16, f16);
    assert_string_equal(in->teacher, "unit-test teacher");
    assert_int_equal(slm_dump_n_seqs(d), n_seqs);
    slm_dump_batch got, want;
    assert_int_equal(slm_dump_batch_alloc(in, n_seqs, &got), SLM_OK);
    assert_int_equal(slm_dump_batch_alloc(in, n_seqs, &want), SLM_OK);
    fill_batch(&want, 0);
    assert_int_equal(slm_dump_read(d, 0, &got), SLM_OK);
    assert_memory_equal(got.tokens, want.tokens, n_seqs * T * sizeof(int32_t));
    assert_memory_equal(got.targets, want.targets, n_seqs * T * sizeof(int32_t));
    assert_memory_equal(got.mask, want.mask, n_seqs * T);
    assert_memory_equal(got.ids, want.ids, n_seqs * T * K * sizeof(int32_t));
    for (int64_t i = 0; i < n_seqs * T * K; i++) {
        double tol = f16 ? F16_TOL * fabs(want.logprobs[i]) : 0;
        assert_true(fabs(got.logprobs[i] - want.logprobs[i]) <= tol);
    }
    assert_int_equal(slm_dump_check_vocab(d, V, in->tokenizer_fp), SLM_OK);
    assert_int_equal(slm_dump_check_tokens(d, 1, want.tokens + T, "unit-data"), SLM_OK);
    double tail = -1, bpp = -1;
    assert_int_equal(slm_dump_validate_all(d, &tail, &bpp), SLM_OK);
    assert_true(tail > 0 && tail < 1 && bpp > 0);
    slm_dump_batch_free(&got);
    slm_dump_batch_free(&want);
    slm_dump_close(d);
}

static void test_dump_roundtrip(void **state) {
    (void)state;
    char p[128];
    path_of(p, sizeof p, "f32.h5");
    write_dump(p, false, S);
    check_dump(p, false, S);
    path_of(p, sizeof p, "f16.h5");
    write_dump(p, true, S);
    check_dump(p, true, S);
    char partial[160];
    snprintf(partial, sizeof partial, "%s.partial", p);
    assert_int_not_equal(access(partial, F_OK), 0); /* renamed away at the end */
}

static void test_dump_resume(void **state) {
    (void)state;
    char p[128];
    path_of(p, sizeof p, "resume.h5");
    slm_dump_info in = make_info(true);
    slm_dump_writer *w;
    slm_dump_batch b;
    assert_int_equal(slm_dump_batch_alloc(&in, 3, &b), SLM_OK);
    assert_int_equal(slm_dump_writer_open(p, &in, true, &w), SLM_OK);
    fill_batch(&b, 0);
    assert_int_equal(slm_dump_writer_append(w, &b), SLM_OK);
    slm_dump_writer_close(w); /* "interrupted": only the partial exists */
    assert_int_not_equal(access(p, F_OK), 0);

    /* a partial made by another teacher is not resumed silently */
    slm_dump_info other = in;
    other.teacher_fp[0] = 'x';
    assert_int_equal(slm_dump_writer_open(p, &other, true, &w), SLM_ERR_USAGE);

    assert_int_equal(slm_dump_writer_open(p, &in, true, &w), SLM_OK);
    assert_int_equal(slm_dump_writer_done(w), 3);
    b.n = 2;
    fill_batch(&b, 3);
    assert_int_equal(slm_dump_writer_append(w, &b), SLM_OK);
    assert_int_equal(slm_dump_writer_finish(w), SLM_OK);
    slm_dump_batch_free(&b);
    check_dump(p, true, S);
}

/* Rewrites one element of a dataset or one attribute of a finished dump. */
static void poke_i32(const char *path, const char *ds, hsize_t idx, int32_t v) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t coord[3] = {0};
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[3];
    H5Sget_simple_extent_dims(sp, dims, NULL);
    for (int i = rank - 1; i >= 0; i--) {
        coord[i] = idx % dims[i];
        idx /= dims[i];
    }
    H5Sselect_elements(sp, H5S_SELECT_SET, 1, coord);
    hsize_t one = 1;
    hid_t ms = H5Screate_simple(1, &one, NULL);
    assert_true(H5Dwrite(d, H5T_NATIVE_INT32, ms, sp, H5P_DEFAULT, &v) >= 0);
    H5Sclose(ms);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
}

static void poke_f32(const char *path, hsize_t idx, float v) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "topk_logprobs", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t coord[3] = {idx / (T * K), (idx / K) % T, idx % K}, one = 1;
    H5Sselect_elements(sp, H5S_SELECT_SET, 1, coord);
    hid_t ms = H5Screate_simple(1, &one, NULL);
    assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, ms, sp, H5P_DEFAULT, &v) >= 0);
    H5Sclose(ms);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
}

static void poke_attr(const char *path, const char *name, int64_t v) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    assert_true(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(a);
    H5Fclose(f);
}

static slm_status read_all(const char *path) {
    slm_dump *d;
    slm_status st = slm_dump_open(path, &d);
    if (st) return st;
    st = slm_dump_validate_all(d, NULL, NULL);
    slm_dump_close(d);
    return st;
}

static void test_dump_bad(void **state) {
    (void)state;
    char p[128];
    path_of(p, sizeof p, "bad.h5");

    write_dump(p, false, S);
    poke_i32(p, "topk_ids", 2 * T * K + 5, V + 3); /* id out of range */
    assert_int_equal(read_all(p), SLM_ERR_FORMAT);

    g_ids32 = true; /* a negative id needs the int32 layout of version 1 */
    write_dump(p, false, S);
    poke_i32(p, "topk_ids", 7, -2);
    assert_int_equal(read_all(p), SLM_ERR_FORMAT);
    g_ids32 = false;

    write_dump(p, false, S);
    poke_f32(p, 9, NAN);
    assert_int_equal(read_all(p), SLM_ERR_FORMAT);

    write_dump(p, false, S);
    poke_f32(p, 10, INFINITY);
    assert_int_equal(read_all(p), SLM_ERR_FORMAT);

    write_dump(p, false, S);
    poke_f32(p, 11, 0.5f); /* positive log-prob: not a log-softmax */
    assert_int_equal(read_all(p), SLM_ERR_FORMAT);

    write_dump(p, false, S);
    poke_i32(p, "tokens", 4, V); /* token out of range */
    assert_int_equal(read_all(p), SLM_ERR_FORMAT);

    write_dump(p, false, S);
    poke_attr(p, "vocab_size", K - 1); /* k > vocabulary */
    slm_dump *d = NULL;
    assert_int_equal(slm_dump_open(p, &d), SLM_ERR_FORMAT);
    assert_null(d);

    write_dump(p, false, S);
    poke_attr(p, "format_version", 99);
    assert_int_equal(slm_dump_open(p, &d), SLM_ERR_FORMAT);

    write_dump(p, false, S);
    poke_attr(p, "done", S + 4); /* claims more rows than stored */
    assert_int_equal(slm_dump_open(p, &d), SLM_ERR_FORMAT);

    /* vocabulary and data mismatches against a valid dump */
    write_dump(p, false, S);
    assert_int_equal(slm_dump_open(p, &d), SLM_OK);
    assert_int_equal(slm_dump_check_vocab(d, V + 1, NULL), SLM_ERR_FORMAT);
    assert_int_equal(slm_dump_check_vocab(d, V, "0123abcd"), SLM_ERR_FORMAT);
    int32_t toks[T] = {0};
    assert_int_equal(slm_dump_check_tokens(d, 0, toks, "other.h5"), SLM_ERR_FORMAT);
    assert_int_equal(slm_dump_check_tokens(d, S, toks, "other.h5"), SLM_ERR_FORMAT);
    slm_dump_close(d);

    /* not a dump at all */
    FILE *f = fopen(p, "wb");
    fputs("hello", f);
    fclose(f);
    assert_int_equal(slm_dump_open(p, &d), SLM_ERR_FORMAT);
}

static void test_dump_sample_mode(void **state) {
    (void)state;
    char p[128];
    path_of(p, sizeof p, "sample.h5");
    slm_dump_info in = make_info(false);
    in.mode = SLM_DUMP_SAMPLE;
    in.sample_n = 10;
    slm_dump_writer *w;
    slm_dump_batch b;
    assert_int_equal(slm_dump_writer_open(p, &in, false, &w), SLM_OK);
    assert_int_equal(slm_dump_batch_alloc(&in, 1, &b), SLM_OK);
    fill_batch(&b, 0);
    for (int64_t i = 0; i < T; i++) {
        uint16_t c[K] = {6, 3, 1, 0};
        memcpy(b.counts + i * K, c, sizeof c);
        b.ids[i * K + 3] = -1;
    }
    assert_int_equal(slm_dump_writer_append(w, &b), SLM_OK);
    assert_int_equal(slm_dump_writer_finish(w), SLM_OK);
    slm_dump *d;
    assert_int_equal(slm_dump_open(p, &d), SLM_OK);
    assert_int_equal(slm_dump_get_info(d)->mode, SLM_DUMP_SAMPLE);
    assert_int_equal(slm_dump_get_info(d)->sample_n, 10);
    slm_dump_batch g;
    assert_int_equal(slm_dump_batch_alloc(slm_dump_get_info(d), 1, &g), SLM_OK);
    assert_int_equal(slm_dump_read(d, 0, &g), SLM_OK);
    assert_memory_equal(g.counts, b.counts, T * K * sizeof(uint16_t));
    slm_dump_close(d);
    /* counts that do not sum to sample_n are refused */
    b.counts[0] = 5;
    assert_int_equal(slm_dump_writer_open(p, &in, false, &w), SLM_OK);
    assert_int_equal(slm_dump_writer_append(w, &b), SLM_OK);
    assert_int_equal(slm_dump_writer_finish(w), SLM_OK);
    assert_int_equal(read_all(p), SLM_ERR_FORMAT);
    slm_dump_batch_free(&b);
    slm_dump_batch_free(&g);
}

/* stored type of a dataset: size in bytes, negative if signed */
static int stored_int(const char *path, const char *ds) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    assert_int_equal(H5Tget_class(t), H5T_INTEGER);
    int n = (int)H5Tget_size(t) * (H5Tget_sign(t) == H5T_SGN_2 ? -1 : 1);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(f);
    return n;
}

static int64_t version_of(const char *path) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    int64_t v = -1;
    assert_true(H5Aread(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(a);
    H5Fclose(f);
    return v;
}

static void test_dump_id_types(void **state) {
    (void)state;
    char p[128];
    path_of(p, sizeof p, "narrow.h5");
    write_dump(p, true, S); /* V = 50: uint16 tokens and ids, version 2 */
    assert_int_equal(stored_int(p, "topk_ids"), 2);
    assert_int_equal(stored_int(p, "tokens"), 2);
    assert_int_equal(stored_int(p, "targets"), -4); /* holds -1 */
    assert_int_equal(version_of(p), 2);
    check_dump(p, true, S);
    path_of(p, sizeof p, "wide.h5");
    g_ids32 = true; /* the version 1 layout, still written on request and read */
    write_dump(p, true, S);
    g_ids32 = false;
    assert_int_equal(stored_int(p, "topk_ids"), -4);
    assert_int_equal(stored_int(p, "tokens"), -4);
    assert_int_equal(version_of(p), 1);
    check_dump(p, true, S);
    slm_dump *d1;
    assert_int_equal(slm_dump_open(p, &d1), SLM_OK); /* what the reader reports */
    assert_int_equal(slm_dump_get_info(d1)->version, 1);
    assert_int_equal(slm_dump_get_info(d1)->id_bytes, 4);
    slm_dump_close(d1);

    /* the largest vocabulary uint16 holds (ids up to 65535), and one more (int32) */
    for (int64_t nv = 65536; nv <= 65537; nv++) {
        path_of(p, sizeof p, "edge.h5");
        slm_dump_info in = make_info(false);
        in.vocab_size = nv;
        slm_dump_batch b, g;
        assert_int_equal(slm_dump_batch_alloc(&in, 1, &b), SLM_OK);
        fill_batch(&b, 0);
        for (int64_t i = 0; i < T; i++) {
            b.tokens[i] = (int32_t)(nv - 1 - i);
            for (int64_t j = 0; j < K; j++) b.ids[i * K + j] = (int32_t)(nv - 1 - i - 7 * j);
        }
        slm_dump_writer *w;
        assert_int_equal(slm_dump_writer_open(p, &in, false, &w), SLM_OK);
        assert_int_equal(slm_dump_writer_append(w, &b), SLM_OK);
        assert_int_equal(slm_dump_writer_finish(w), SLM_OK);
        assert_int_equal(stored_int(p, "topk_ids"), nv <= 65536 ? 2 : -4);
        slm_dump *d;
        assert_int_equal(slm_dump_open(p, &d), SLM_OK);
        assert_int_equal(slm_dump_batch_alloc(slm_dump_get_info(d), 1, &g), SLM_OK);
        assert_int_equal(slm_dump_read(d, 0, &g), SLM_OK);
        assert_memory_equal(g.tokens, b.tokens, T * sizeof(int32_t));
        assert_memory_equal(g.ids, b.ids, T * K * sizeof(int32_t));
        slm_dump_close(d);
        slm_dump_batch_free(&b);
        slm_dump_batch_free(&g);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_roundtrip),
        cmocka_unit_test(test_dump_resume),
        cmocka_unit_test(test_dump_bad),
        cmocka_unit_test(test_dump_sample_mode),
        cmocka_unit_test(test_dump_id_types),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
