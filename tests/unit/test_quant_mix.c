/* tests/unit/test_quant_mix.c — the mix rules on hand-built tensor lists
 * (expected types written from llama-quant.cpp's rules, independently of the
 * code), name parsing, overrides/keep, fallbacks, bad patterns, and the
 * imatrix reader on bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "quantize/imatrix.h"
#include "quantize/mix.h"

enum { L = 16, NT = 3 + 9 * L };

static char NAMES[NT][64];
static slm_mix_tensor T[NT];

/* A 16-layer model, dim 512, ffn 1024 (all multiples of 256), untied;
 * listed in a shuffled order to check that counters use llama.cpp's order. */
static void build(int64_t dim) {
    static const char *per[9] = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                                 "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"};
    int k = 0;
    for (int l = L - 1; l >= 0; l--)
        for (int j = 0; j < 9; j++) {
            snprintf(NAMES[k], 64, "blk.%d.%s.weight", l, per[j]);
            bool norm = strstr(per[j], "norm") != NULL;
            T[k] = (slm_mix_tensor){NAMES[k], norm ? 1 : 2, {!strcmp(per[j], "ffn_down") ? 1024 : dim,
                                                              norm ? 1 : 256, 1, 1}, SLM_TYPE_F32};
            k++;
        }
    const char *top[3] = {"output.weight", "token_embd.weight", "output_norm.weight"};
    for (int j = 0; j < 3; j++, k++) {
        snprintf(NAMES[k], 64, "%s", top[j]);
        T[k] = (slm_mix_tensor){NAMES[k], j == 2 ? 1 : 2, {dim, j == 2 ? 1 : 1000, 1, 1}, SLM_TYPE_F32};
    }
}

static slm_type type_of(const slm_type *out, const char *name) {
    for (int i = 0; i < NT; i++)
        if (!strcmp(T[i].name, name)) return out[i];
    fail_msg("no tensor %s", name);
    return SLM_TYPE_COUNT;
}

static void choose(slm_ftype f, int64_t nh, int64_t nkv, slm_type *out) {
    slm_mix_params p = {f, L, nh, nkv, false, NULL, 0, NULL, 0};
    assert_int_equal(slm_mix_choose(&p, T, NT, out, NULL), SLM_OK);
}

static void test_q4_k_m(void **state) {
    (void)state;
    build(512);
    slm_type out[NT];
    choose(SLM_FTYPE_Q4_K_M, 8, 8, out);
    /* use_more_bits(i, 16): i < 2 || i >= 14 || (i - 2) % 3 == 2 -> 0,1,4,7,10,13,14,15 */
    const int more[L] = {1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1};
    char n[64];
    for (int l = 0; l < L; l++) {
        snprintf(n, sizeof n, "blk.%d.attn_v.weight", l);
        assert_int_equal(type_of(out, n), more[l] ? SLM_TYPE_Q6_K : SLM_TYPE_Q4_K);
        snprintf(n, sizeof n, "blk.%d.ffn_down.weight", l);
        assert_int_equal(type_of(out, n), more[l] ? SLM_TYPE_Q6_K : SLM_TYPE_Q4_K);
        snprintf(n, sizeof n, "blk.%d.attn_q.weight", l);
        assert_int_equal(type_of(out, n), SLM_TYPE_Q4_K);
        snprintf(n, sizeof n, "blk.%d.attn_norm.weight", l);
        assert_int_equal(type_of(out, n), SLM_TYPE_F32);
    }
    assert_int_equal(type_of(out, "output.weight"), SLM_TYPE_Q6_K);
    assert_int_equal(type_of(out, "token_embd.weight"), SLM_TYPE_Q4_K);
}

static void test_q2_k_gqa_and_q3_k_m(void **state) {
    (void)state;
    build(512);
    slm_type out[NT];
    choose(SLM_FTYPE_Q2_K, 8, 2, out); /* GQA 4 */
    assert_int_equal(type_of(out, "blk.3.attn_v.weight"), SLM_TYPE_Q4_K);
    assert_int_equal(type_of(out, "blk.3.ffn_down.weight"), SLM_TYPE_Q3_K);
    assert_int_equal(type_of(out, "blk.3.attn_output.weight"), SLM_TYPE_Q3_K);
    assert_int_equal(type_of(out, "blk.3.ffn_up.weight"), SLM_TYPE_Q2_K);
    choose(SLM_FTYPE_Q2_K, 8, 4, out); /* GQA 2 */
    assert_int_equal(type_of(out, "blk.3.attn_v.weight"), SLM_TYPE_Q3_K);
    choose(SLM_FTYPE_Q3_K_M, 8, 8, out);
    assert_int_equal(type_of(out, "blk.0.attn_v.weight"), SLM_TYPE_Q5_K);
    assert_int_equal(type_of(out, "blk.1.attn_v.weight"), SLM_TYPE_Q5_K);
    assert_int_equal(type_of(out, "blk.2.attn_v.weight"), SLM_TYPE_Q4_K);
    assert_int_equal(type_of(out, "blk.0.ffn_down.weight"), SLM_TYPE_Q5_K); /* 0 < 16/16 */
    assert_int_equal(type_of(out, "blk.1.ffn_down.weight"), SLM_TYPE_Q4_K);
    assert_int_equal(type_of(out, "blk.5.attn_output.weight"), SLM_TYPE_Q4_K);
    choose(SLM_FTYPE_Q8_0, 8, 8, out);
    assert_int_equal(type_of(out, "output.weight"), SLM_TYPE_Q8_0);
    choose(SLM_FTYPE_F16, 8, 8, out);
    assert_int_equal(type_of(out, "output.weight"), SLM_TYPE_F16);
    assert_int_equal(type_of(out, "blk.0.ffn_norm.weight"), SLM_TYPE_F32);
}

static void test_fallback_and_overrides(void **state) {
    (void)state;
    build(288); /* multiple of 32, not of 256 */
    slm_type out[NT];
    int nf = 0;
    slm_mix_override ov[1] = {{"attn_q", SLM_TYPE_Q8_0}};
    const char *keep[1] = {"blk\\.1\\."};
    slm_mix_params p = {SLM_FTYPE_Q4_K_M, L, 8, 8, false, ov, 1, keep, 1};
    assert_int_equal(slm_mix_choose(&p, T, NT, out, &nf), SLM_OK);
    assert_int_equal(type_of(out, "blk.2.attn_k.weight"), SLM_TYPE_Q5_0); /* Q4_K -> Q5_0 */
    assert_int_equal(type_of(out, "blk.0.attn_v.weight"), SLM_TYPE_Q8_0); /* Q6_K -> Q8_0 */
    assert_int_equal(type_of(out, "blk.2.ffn_down.weight"), SLM_TYPE_Q4_K); /* 1024 columns */
    assert_int_equal(type_of(out, "output.weight"), SLM_TYPE_Q8_0);
    assert_int_equal(type_of(out, "blk.2.attn_q.weight"), SLM_TYPE_Q8_0); /* override */
    assert_int_equal(type_of(out, "blk.1.ffn_up.weight"), SLM_TYPE_F32);   /* kept */
    assert_true(nf > 0);
    slm_mix_override bad[1] = {{"attn_(", SLM_TYPE_Q8_0}};
    p.overrides = bad;
    assert_int_equal(slm_mix_choose(&p, T, NT, out, NULL), SLM_ERR_USAGE);
}

static void test_names(void **state) {
    (void)state;
    slm_ftype f;
    assert_true(slm_ftype_from_name("q4_k_m", &f) && f == SLM_FTYPE_Q4_K_M);
    assert_true(slm_ftype_from_name("BF16", &f) && f == 32);
    assert_false(slm_ftype_from_name("Q4_K", &f));
    assert_int_equal(slm_ftype_base_type(SLM_FTYPE_Q3_K_L), SLM_TYPE_Q3_K);
}

static void test_imatrix_bad_files(void **state) {
    (void)state;
    slm_imatrix *m = NULL;
    char path[] = "/tmp/slm_test_imatrix_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "GGUF\3\0\0\0garbage", 15), 15);
    close(fd);
    assert_int_equal(slm_imatrix_load(path, &m), SLM_ERR_FORMAT);
    assert_null(m);
    /* a well-formed GGUF without .in_sum2 tensors is refused too */
    slm_imatrix_acc acc = {"blk.0.attn_q.weight", 4, (double[]){1, 2, 3, 4}, 2, NULL};
    assert_int_equal(slm_imatrix_save(path, &acc, 1, "t", 1, 2), SLM_OK);
    assert_int_equal(slm_imatrix_load(path, &m), SLM_OK);
    int64_t n = 0;
    const float *v = slm_imatrix_find(m, "blk.0.attn_q.weight", &n);
    assert_non_null(v);
    assert_int_equal(n, 4);
    assert_true(v[0] == 0.5f && v[3] == 2.0f); /* sum2 / count */
    assert_null(slm_imatrix_find(m, "blk.0.attn_k.weight", NULL));
    slm_imatrix_free(m);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q4_k_m),
        cmocka_unit_test(test_q2_k_gqa_and_q3_k_m),
        cmocka_unit_test(test_fallback_and_overrides),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_imatrix_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
