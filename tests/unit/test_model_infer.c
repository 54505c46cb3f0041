/* tests/unit/test_model_infer.c — the inference forward pass of model/infer.c
 * against a forward composed here from the naive kernels of core/ops_ref.c
 * (every position), last-position logits against all-position ones,
 * incremental decoding with the KV cache against the full block, batch
 * independence, and the samplers of model/sample.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/ops_ref.h"
#include "model/infer.h"
#include "model/llama.h"
#include "model/sample.h"

#define NMSE_TOL 1e-7   /* fast vs naive forward */
#define CACHE_TOL 1e-5  /* KV-cache decode vs full block: max abs diff / max |logit| */

static double nmse(const float *a, const float *ref, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += d * d, den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

/* C = 48: wq/wk/wv and gate/up are laid out back to back (fused sgemms in
 * model/infer.c); odd = true gives C = 30, F = 50, sizes that are not
 * multiples of 16 floats, so the separate products run. */
static void make_model_shape(slm_llama_weights *w, bool tied, uint64_t seed, bool odd) {
    slm_llama_hparams hp = {.n_vocab = 97, .n_embd = odd ? 30 : 48, .n_layer = 2,
                            .n_head = odd ? 3 : 6, .n_head_kv = odd ? 1 : 2, .head_dim = odd ? 10 : 8,
                            .n_ff = odd ? 50 : 80, .n_ctx = 64,
                            .rms_eps = 1e-5f, .rope_base = 10000.0f, .tied_output = tied};
    assert_int_equal(slm_llama_weights_alloc(&hp, w), SLM_OK);
    slm_rng r;
    slm_rng_seed(&r, seed);
    for (int64_t i = 0; i < slm_llama_n_tensors(w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(w, i, &t);
        const int64_t n = t.ne[0] * t.ne[1];
        for (int64_t j = 0; j < n; j++)
            t.data[j] = t.n_dims == 1 ? 1.0f + 0.1f * slm_rng_normal(&r)
                                      : 0.3f * slm_rng_normal(&r);
    }
    if (tied) assert_ptr_equal(w->output, w->token_embd);
    if (odd) assert_true(w->layers[0].wk != w->layers[0].wq + 30 * 30);
    else assert_true(w->layers[0].wk == w->layers[0].wq + 48 * 48);
}

static void make_model(slm_llama_weights *w, bool tied, uint64_t seed) {
    make_model_shape(w, tied, seed, false);
}

/* Naive forward of one sequence: logits (T, V). */
static void ref_forward(const slm_llama_weights *w, const int32_t *tok, int64_t T, float *logits) {
    const slm_llama_hparams *hp = &w->hp;
    const int64_t C = hp->n_embd, Q = hp->n_head * hp->head_dim,
                  KV = hp->n_head_kv * hp->head_dim, F = hp->n_ff;
    float *x = slm_alloc(T * C * 4), *h = slm_alloc(T * C * 4), *q = slm_alloc(T * Q * 4),
          *k = slm_alloc(T * KV * 4), *v = slm_alloc(T * KV * 4), *a = slm_alloc(T * Q * 4),
          *g = slm_alloc(T * F * 4), *u = slm_alloc(T * F * 4), *o = slm_alloc(T * C * 4);
    int32_t pos[64];
    for (int i = 0; i < T; i++) pos[i] = i;
    slm_embedding_forward_ref(x, tok, w->token_embd, T, C);
    for (int64_t l = 0; l < hp->n_layer; l++) {
        const slm_llama_layer *L = &w->layers[l];
        slm_rmsnorm_forward_ref(h, NULL, x, L->attn_norm, T, C, hp->rms_eps);
        slm_matmul_forward_ref(q, h, L->wq, T, C, Q, 0);
        slm_matmul_forward_ref(k, h, L->wk, T, C, KV, 0);
        slm_matmul_forward_ref(v, h, L->wv, T, C, KV, 0);
        slm_rope_forward_ref(q, pos, T, hp->n_head, hp->head_dim, hp->rope_base);
        slm_rope_forward_ref(k, pos, T, hp->n_head_kv, hp->head_dim, hp->rope_base);
        slm_attention_forward_ref(a, NULL, q, k, v, 1, T, hp->n_head, hp->n_head_kv, hp->head_dim);
        slm_matmul_forward_ref(o, a, L->wo, T, Q, C, 0);
        slm_add_inplace_ref(x, o, T * C);
        slm_rmsnorm_forward_ref(h, NULL, x, L->ffn_norm, T, C, hp->rms_eps);
        slm_matmul_forward_ref(g, h, L->w_gate, T, C, F, 0);
        slm_matmul_forward_ref(u, h, L->w_up, T, C, F, 0);
        slm_swiglu_forward_ref(g, g, u, T, F);
        slm_matmul_forward_ref(o, g, L->w_down, T, F, C, 0);
        slm_add_inplace_ref(x, o, T * C);
    }
    slm_rmsnorm_forward_ref(h, NULL, x, w->output_norm, T, C, hp->rms_eps);
    slm_matmul_forward_ref(logits, h, w->output, T, C, hp->n_vocab, 0);
    slm_free(x), slm_free(h), slm_free(q), slm_free(k), slm_free(v), slm_free(a);
    slm_free(g), slm_free(u), slm_free(o);
}

static void forward_case(bool tied, bool odd) {
    slm_llama_weights w;
    make_model_shape(&w, tied, tied ? 11 : 12, odd);
    const int64_t B = 2, T = 23, V = w.hp.n_vocab;
    int32_t tok[2 * 23];
    slm_rng r;
    slm_rng_seed(&r, 5);
    for (int i = 0; i < B * T; i++) tok[i] = (int32_t)slm_rng_below(&r, V);
    slm_llama_infer_params p = {.B = B, .T_max = 32, .n_kv = 0, .all_logits = true};
    slm_llama_infer *s;
    assert_int_equal(slm_llama_infer_init(&w, &p, &s), SLM_OK);
    float *all = slm_alloc(B * T * V * 4), *ref = slm_alloc(T * V * 4);
    memcpy(all, slm_llama_infer_forward(s, tok, T, SLM_LOGITS_ALL), B * T * V * 4);
    for (int64_t b = 0; b < B; b++) {
        ref_forward(&w, tok + b * T, T, ref);
        double e = nmse(all + b * T * V, ref, T * V);
        if (!(e <= NMSE_TOL)) fail_msg("seq %lld: nmse %.3g", (long long)b, e);
    }
    /* last-position logits are the last row of the all-position ones */
    const float *last = slm_llama_infer_forward(s, tok, T, SLM_LOGITS_LAST);
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < V; i++)
            assert_true(fabsf(last[b * V + i] - all[(b * T + T - 1) * V + i]) <= 1e-5f);
    slm_llama_infer_free(s);
    slm_free(all), slm_free(ref);
    slm_llama_weights_free(&w);
}

static void test_forward_untied(void **state) { (void)state; forward_case(false, false); }
static void test_forward_tied(void **state) { (void)state; forward_case(true, false); }
static void test_forward_unfused(void **state) { (void)state; forward_case(false, true); }

static void test_kv_cache(void **state) {
    (void)state;
    slm_llama_weights w;
    make_model(&w, false, 21);
    const int64_t T = 20, V = w.hp.n_vocab, P = 7;
    int32_t tok[20];
    for (int i = 0; i < T; i++) tok[i] = (i * 31 + 3) % (int32_t)V;
    float *ref = slm_alloc(T * V * 4);
    ref_forward(&w, tok, T, ref);
    slm_llama_infer_params p = {.B = 1, .T_max = T, .n_kv = 32, .all_logits = true};
    slm_llama_infer *s;
    assert_int_equal(slm_llama_infer_init(&w, &p, &s), SLM_OK);
    /* prompt of P tokens in one call, then one token per call */
    const float *lg = slm_llama_infer_forward(s, tok, P, SLM_LOGITS_ALL);
    double md = 0;
    for (int64_t i = 0; i < P * V; i++) md = fmax(md, fabs(lg[i] - ref[i]));
    for (int64_t t = P; t < T; t++) {
        lg = slm_llama_infer_forward(s, tok + t, 1, SLM_LOGITS_LAST);
        for (int64_t i = 0; i < V; i++) md = fmax(md, fabs(lg[i] - ref[t * V + i]));
    }
    assert_int_equal(slm_llama_infer_n_past(s), T);
    double mx = 0;
    for (int64_t i = 0; i < T * V; i++) mx = fmax(mx, fabs(ref[i]));
    if (!(md <= CACHE_TOL * mx)) fail_msg("kv cache decode max abs diff %.3g (max |logit| %.3g)", md, mx);
    slm_llama_infer_reset(s);
    assert_int_equal(slm_llama_infer_n_past(s), 0);
    /* again with last-position logits for the prompt (the last layer then
     * runs on the last row only) and two tokens per later call */
    double md2 = 0;
    lg = slm_llama_infer_forward(s, tok, P, SLM_LOGITS_LAST);
    for (int64_t i = 0; i < V; i++) md2 = fmax(md2, fabs(lg[i] - ref[(P - 1) * V + i]));
    for (int64_t t = P; t + 2 <= T; t += 2) {
        lg = slm_llama_infer_forward(s, tok + t, 2, SLM_LOGITS_LAST);
        for (int64_t i = 0; i < V; i++) md2 = fmax(md2, fabs(lg[i] - ref[(t + 1) * V + i]));
    }
    if (!(md2 <= CACHE_TOL * mx)) fail_msg("kv cache, last-only: max abs diff %.3g", md2);
    slm_llama_infer_reset(s);
    slm_llama_infer_free(s);
    slm_free(ref);
    slm_llama_weights_free(&w);
}

static void test_sampler(void **state) {
    (void)state;
    float lg[6] = {0.5f, 2.0f, 1.0f, 2.0f, -1.0f, 0.0f};
    slm_rng r;
    slm_rng_seed(&r, 3);
    assert_int_equal(slm_argmax(lg, 6), 1); /* first of the tied maxima */
    slm_sampler *s;
    slm_sampler_params gp = {.temp = 0, .top_k = 0, .top_p = 1};
    assert_int_equal(slm_sampler_init(6, &gp, &s), SLM_OK);
    assert_int_equal(slm_sampler_sample(s, lg, &r), 1);
    slm_sampler_free(s);
    /* top_k = 1 is greedy at any temperature */
    slm_sampler_params k1 = {.temp = 5, .top_k = 1, .top_p = 1};
    assert_int_equal(slm_sampler_init(6, &k1, &s), SLM_OK);
    for (int i = 0; i < 50; i++) assert_int_equal(slm_sampler_sample(s, lg, &r), 1);
    slm_sampler_free(s);
    /* temp 1, no filter: frequencies follow softmax(lg) */
    slm_sampler_params t1 = {.temp = 1, .top_k = 0, .top_p = 1};
    assert_int_equal(slm_sampler_init(6, &t1, &s), SLM_OK);
    int cnt[6] = {0};
    const int n = 60000;
    for (int i = 0; i < n; i++) cnt[slm_sampler_sample(s, lg, &r)]++;
    double z = 0;
    for (int i = 0; i < 6; i++) z += exp(lg[i]);
    for (int i = 0; i < 6; i++) {
        double p = exp(lg[i]) / z, sd = sqrt(p * (1 - p) / n);
        if (fabs(cnt[i] / (double)n - p) > 5 * sd) fail_msg("token %d: freq %.4f, p %.4f", i, cnt[i] / (double)n, p);
    }
    slm_sampler_free(s);
    /* top_p = 0.5: only the two tied maxima (each ~0.33 of the mass) survive */
    slm_sampler_params tp = {.temp = 1, .top_k = 0, .top_p = 0.5f};
    assert_int_equal(slm_sampler_init(6, &tp, &s), SLM_OK);
    for (int i = 0; i < 200; i++) {
        int32_t id = slm_sampler_sample(s, lg, &r);
        assert_true(id == 1 || id == 3);
    }
    slm_sampler_free(s);
    /* same seed, same draws */
    slm_sampler_params d = slm_sampler_default_params();
    assert_int_equal(slm_sampler_init(6, &d, &s), SLM_OK);
    slm_rng a, b;
    slm_rng_seed(&a, 99), slm_rng_seed(&b, 99);
    for (int i = 0; i < 100; i++) assert_int_equal(slm_sampler_sample(s, lg, &a), slm_sampler_sample(s, lg, &b));
    slm_sampler_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_untied),
        cmocka_unit_test(test_forward_tied),
        cmocka_unit_test(test_forward_unfused),
        cmocka_unit_test(test_kv_cache),
        cmocka_unit_test(test_sampler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
