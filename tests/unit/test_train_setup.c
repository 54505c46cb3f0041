/* tests/unit/test_train_setup.c — packing of token sequences (inputs,
 * shifted targets, loss mask of the target token), vocabulary range checks,
 * pretraining hyper-parameters from a config, initialisation statistics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/setup.h"

#define INIT_STD_TOL 0.05 /* relative, over ~10^4 samples */

static void test_packing_and_mask(void **state) {
    (void)state;
    /* train: 0..22 (23 tokens), T = 5 -> (23 - 1) / 5 = 4 sequences */
    int32_t *tr = malloc(23 * sizeof *tr), *va = malloc(7 * sizeof *va);
    uint8_t *mtr = malloc(23), *mva = NULL;
    for (int i = 0; i < 23; i++) tr[i] = i, mtr[i] = (uint8_t)(i % 3 != 0);
    for (int i = 0; i < 7; i++) va[i] = 30 + i;
    slm_token_data td;
    assert_int_equal(slm_token_data_init(&td, tr, mtr, 23, va, mva, 7, 5, 40, "t"), SLM_OK);
    slm_train_data d = slm_token_data_source(&td);
    assert_int_equal(d.n_train, 4);
    assert_int_equal(d.n_val, 1); /* (7 - 1) / 5 */
    int32_t tok[5], tgt[5];
    uint8_t m[5];
    assert_int_equal(d.get(d.ctx, false, 3, tok, tgt, m), SLM_OK);
    for (int t = 0; t < 5; t++) {
        assert_int_equal(tok[t], 15 + t);
        assert_int_equal(tgt[t], 16 + t);
        assert_int_equal(m[t], (16 + t) % 3 != 0); /* mask of the target token */
    }
    assert_int_equal(d.get(d.ctx, true, 0, tok, tgt, m), SLM_OK);
    assert_int_equal(tok[0], 30);
    assert_int_equal(tgt[4], 35);
    for (int t = 0; t < 5; t++) assert_int_equal(m[t], 1); /* no mask: all count */
    slm_token_data_free(&td);
}

static void test_ids_out_of_range(void **state) {
    (void)state;
    int32_t *tr = malloc(4 * sizeof *tr);
    tr[0] = 1, tr[1] = 2, tr[2] = 40, tr[3] = 0;
    slm_token_data td;
    assert_int_equal(slm_token_data_init(&td, tr, NULL, 4, NULL, NULL, 0, 2, 40, "t"), SLM_ERR_FORMAT);
    slm_token_data_free(&td);
}

static void test_hparams_and_init(void **state) {
    (void)state;
    slm_train_config c;
    slm_train_config_defaults(&c);
    slm_train_config_set(&c, "model.dim=128", "t");
    slm_train_config_set(&c, "model.heads=4", "t");
    slm_train_config_set(&c, "model.kv_heads=2", "t");
    slm_train_config_set(&c, "model.layers=2", "t");
    slm_train_config_set(&c, "data.seq_len=64", "t");
    slm_llama_hparams hp;
    slm_train_hparams_from_config(&c, 300, &hp);
    assert_int_equal(hp.n_ff, 352); /* 8*128/3 = 341 -> next multiple of 32 */
    assert_int_equal(hp.head_dim, 32);
    assert_int_equal(hp.n_head_kv, 2);
    assert_int_equal(hp.n_ctx, 64);
    assert_true(hp.tied_output);
    slm_train_config_set(&c, "model.kv_heads=0", "t");
    slm_train_hparams_from_config(&c, 300, &hp);
    assert_int_equal(hp.n_head_kv, 4);
    slm_llama_weights w;
    assert_int_equal(slm_llama_weights_alloc(&hp, &w), SLM_OK);
    slm_rng r;
    slm_rng_seed(&r, 1);
    slm_train_init_weights(&w, 0.02f, &r);
    for (int64_t i = 0; i < slm_llama_n_tensors(&w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(&w, i, &t);
        int64_t n = t.ne[0] * (t.n_dims == 2 ? t.ne[1] : 1);
        double s2 = 0;
        for (int64_t j = 0; j < n; j++) s2 += (double)t.data[j] * t.data[j];
        if (t.n_dims == 1) {
            assert_true(s2 == (double)n); /* norms are 1 */
            continue;
        }
        double want = t.kind == SLM_W_ATTN_OUTPUT || t.kind == SLM_W_FFN_DOWN ? 0.02 / sqrt(4.0) : 0.02;
        double got = sqrt(s2 / (double)n);
        if (fabs(got / want - 1) > INIT_STD_TOL) fail_msg("%s: std %g, want %g", t.name, got, want);
    }
    slm_llama_weights_free(&w);
    slm_train_config_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packing_and_mask),
        cmocka_unit_test(test_ids_out_of_range),
        cmocka_unit_test(test_hparams_and_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
