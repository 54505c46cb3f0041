/* tests/unit/test_distill_kld.c — llama.cpp --kl-divergence-base reader.
 * The input file is produced here by a writer that follows the layout of
 * llama.cpp's tools/perplexity/perplexity.cpp (header, tokens, per-row
 * uint16 codes with float scale and min log-prob); it is checked against
 * that documented layout, not against a file from a real llama.cpp run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"
#include "distill/dump.h"
#include "distill/kld_llamacpp.h"

enum { NV = 37, NCTX = 10, NCHUNK = 3, KTOP = 5 };

static double logits[NCHUNK][NCTX][NV];
static int32_t tokens[NCHUNK * NCTX];

/* compress one row as llama.cpp's log_softmax(n_vocab, logits, log_prob, tok) does */
static void compress_row(const double *z, uint16_t *out) {
    float mx = (float)z[0], mn = (float)z[0];
    for (int j = 1; j < NV; j++) mx = fmaxf(mx, (float)z[j]), mn = fminf(mn, (float)z[j]);
    mn = fmaxf(mn, mx - 16);
    double se = 0;
    for (int j = 0; j < NV; j++) se += expf((float)z[j] - mx);
    float lse = (float)log(se), minlp = mn - mx - lse, scale = (mx - mn) / 65535.f;
    memcpy(out, &scale, 4);
    memcpy(out + 2, &minlp, 4);
    for (int j = 0; j < NV + 1; j++) out[4 + j] = 0; /* row padded to even length */
    for (int j = 0; j < NV; j++)
        out[4 + j] = (float)z[j] > mn ? (uint16_t)lrintf(((float)z[j] - mn) / scale) : 0;
}

static void write_kld(const char *path, int n_chunk_claimed, bool truncate) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    int32_t hdr[3] = {NCTX, NV, n_chunk_claimed};
    fwrite("_logits_", 1, 8, f);
    fwrite(hdr, 4, 3, f);
    fwrite(tokens, 4, NCHUNK * NCTX, f);
    int nv = 2 * ((NV + 1) / 2) + 4;
    uint16_t row[2 * ((NV + 1) / 2) + 4];
    for (int c = 0; c < NCHUNK; c++)
        for (int t = NCTX / 2; t < NCTX - 1; t++) {
            compress_row(logits[c][t], row);
            fwrite(row, 2, (size_t)nv, f);
        }
    fclose(f);
    if (truncate) assert_int_equal(truncate64(path, 100), 0);
}

static void test_kld_convert(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 5);
    for (int c = 0; c < NCHUNK; c++)
        for (int t = 0; t < NCTX; t++)
            for (int j = 0; j < NV; j++) logits[c][t][j] = 3.0 * slm_rng_normal(&r);
    for (int i = 0; i < NCHUNK * NCTX; i++) tokens[i] = (int32_t)slm_rng_below(&r, NV);
    char kld[64], out[64];
    snprintf(kld, sizeof kld, "/tmp/slm_kld_%d.kld", (int)getpid());
    snprintf(out, sizeof out, "/tmp/slm_kld_%d.h5", (int)getpid());
    write_kld(kld, NCHUNK, false);

    slm_kld_header h;
    assert_int_equal(slm_kld_read_header(kld, &h), SLM_OK);
    assert_int_equal(h.first, NCTX / 2);
    assert_int_equal(h.rows_per_chunk, NCTX - 1 - NCTX / 2);

    slm_dump_info in = slm_dump_default_info();
    in.k = KTOP;
    in.f16 = false;
    const int32_t bos = 1;
    assert_int_equal(slm_kld_convert(kld, out, &in, bos), SLM_OK);

    slm_dump *d;
    assert_int_equal(slm_dump_open(out, &d), SLM_OK);
    assert_int_equal(slm_dump_n_seqs(d), NCHUNK);
    assert_int_equal(slm_dump_get_info(d)->vocab_size, NV);
    assert_int_equal(slm_dump_get_info(d)->seq_len, NCTX);
    slm_dump_batch b;
    assert_int_equal(slm_dump_batch_alloc(slm_dump_get_info(d), NCHUNK, &b), SLM_OK);
    assert_int_equal(slm_dump_read(d, 0, &b), SLM_OK);
    for (int c = 0; c < NCHUNK; c++)
        for (int t = 0; t < NCTX; t++) {
            int i = c * NCTX + t;
            assert_int_equal(b.tokens[i], t == 0 ? bos : tokens[i]);
            assert_int_equal(b.targets[i], t + 1 < NCTX ? tokens[i + 1] : -1);
            bool has = t >= NCTX / 2 && t < NCTX - 1;
            assert_int_equal(b.mask[i], has);
            if (!has) continue;
            /* true log-softmax and top-k from the float64 logits */
            const double *z = logits[c][t];
            double m = -INFINITY, s = 0;
            for (int j = 0; j < NV; j++) m = fmax(m, z[j]);
            for (int j = 0; j < NV; j++) s += exp(z[j] - m);
            bool used[NV] = {0};
            double scale_bound = 16.0 / 65535.0;
            for (int k = 0; k < KTOP; k++) {
                int best = -1;
                for (int j = 0; j < NV; j++)
                    if (!used[j] && (best < 0 || z[j] > z[best])) best = j;
                used[best] = true;
                assert_int_equal(b.ids[i * KTOP + k], best);
                double lsm = z[best] - m - log(s);
                assert_true(fabs(b.logprobs[i * KTOP + k] - lsm) <= scale_bound + 1e-5);
            }
        }
    slm_dump_batch_free(&b);
    slm_dump_close(d);

    /* truncated, wrong size, bad magic: SLM_ERR_FORMAT */
    write_kld(kld, NCHUNK + 1, false);
    assert_int_equal(slm_kld_convert(kld, out, &in, -1), SLM_ERR_FORMAT);
    write_kld(kld, NCHUNK, true);
    assert_int_equal(slm_kld_read_header(kld, &h), SLM_ERR_FORMAT);
    FILE *f = fopen(kld, "wb");
    fputs("_LOGITS_ and more bytes", f);
    fclose(f);
    assert_int_equal(slm_kld_read_header(kld, &h), SLM_ERR_FORMAT);
    in.k = NV + 1;
    write_kld(kld, NCHUNK, false);
    assert_int_equal(slm_kld_convert(kld, out, &in, -1), SLM_ERR_USAGE);
    unlink(kld);
    unlink(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kld_convert)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
