/* tests/unit/test_ops_forward.c — every forward kernel of core/ops.c against
 * its naive twin in core/ops_ref.c (STYLE rule 17c: NMSE <= 1e-7), on odd
 * shapes, T = 1, grouped-query attention, the KV-cache variant, and fixed
 * cases with values worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/base.h"
#include "core/ops.h"
#include "core/ops_ref.h"

#define NMSE_TOL 1e-7     /* fast vs _ref, normalised mean squared error */
#define EXACT_TOL 1e-6    /* hand-computed closed forms */

static float *randv(slm_rng *r, int64_t n, float scale) {
    float *v = slm_alloc((size_t)n * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++) v[i] = scale * slm_rng_normal(r);
    return v;
}

static double nmse(const float *a, const float *ref, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

static void check(const char *what, const float *a, const float *ref, int64_t n) {
    double e = nmse(a, ref, n);
    if (!(e <= NMSE_TOL)) fail_msg("%s: nmse %.3g > %.3g", what, e, NMSE_TOL);
}

static void test_embedding(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 1);
    const int64_t V = 37, C = 13, N = 11;
    float *tab = randv(&r, V * C, 1.0f), *a = randv(&r, N * C, 1), *b = randv(&r, N * C, 1);
    int32_t tok[11];
    for (int i = 0; i < N; i++) tok[i] = (int32_t)slm_rng_below(&r, V);
    slm_embedding_forward(a, tok, tab, N, C);
    slm_embedding_forward_ref(b, tok, tab, N, C);
    assert_memory_equal(a, b, (size_t)(N * C) * sizeof(float));
    assert_true(a[3 * C + 5] == tab[tok[3] * C + 5]);
    slm_free(tab), slm_free(a), slm_free(b);
}

static void test_rmsnorm(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 2);
    const int64_t shapes[][2] = {{1, 1}, {1, 7}, {5, 33}, {64, 288}};
    for (int s = 0; s < 4; s++) {
        int64_t N = shapes[s][0], C = shapes[s][1];
        float *x = randv(&r, N * C, 3), *w = randv(&r, C, 1), *a = randv(&r, N * C, 1),
              *b = randv(&r, N * C, 1), *ra = randv(&r, N, 1), *rb = randv(&r, N, 1);
        slm_rmsnorm_forward(a, ra, x, w, N, C, 1e-5f);
        slm_rmsnorm_forward_ref(b, rb, x, w, N, C, 1e-5f);
        check("rmsnorm out", a, b, N * C);
        check("rmsnorm rstd", ra, rb, N);
        slm_free(x), slm_free(w), slm_free(a), slm_free(b), slm_free(ra), slm_free(rb);
    }
    /* x = (3, 4), w = 1: rms = sqrt(12.5) */
    float x[2] = {3, 4}, w[2] = {1, 1}, y[2], rs;
    slm_rmsnorm_forward(y, &rs, x, w, 1, 2, 0.0f);
    assert_true(fabs(y[0] - 3 / sqrt(12.5)) < EXACT_TOL && fabs(y[1] - 4 / sqrt(12.5)) < EXACT_TOL);
}

static void test_matmul(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 3);
    const int64_t shapes[][3] = {{1, 1, 1}, {1, 288, 768}, {7, 13, 5}, {33, 64, 97}};
    for (int s = 0; s < 4; s++) {
        int64_t N = shapes[s][0], IC = shapes[s][1], OC = shapes[s][2];
        for (int beta = 0; beta <= 1; beta++) {
            float *x = randv(&r, N * IC, 1), *w = randv(&r, OC * IC, 1),
                  *a = randv(&r, N * OC, 1), *b = slm_alloc((size_t)(N * OC) * sizeof(float));
            memcpy(b, a, (size_t)(N * OC) * sizeof(float));
            slm_matmul_forward(a, x, w, N, IC, OC, (float)beta);
            slm_matmul_forward_ref(b, x, w, N, IC, OC, (float)beta);
            check("matmul", a, b, N * OC);
            slm_free(x), slm_free(w), slm_free(a), slm_free(b);
        }
    }
    /* [1 2] @ [[1 0],[0 1],[1 1]]^T = [1 2 3] */
    float x[2] = {1, 2}, w[6] = {1, 0, 0, 1, 1, 1}, y[3];
    slm_matmul_forward(y, x, w, 1, 2, 3, 0.0f);
    assert_true(y[0] == 1 && y[1] == 2 && y[2] == 3);
}

static void test_rope(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 4);
    const int64_t N = 19, NH = 3, hs = 10;
    float *a = randv(&r, N * NH * hs, 1), *b = slm_alloc((size_t)(N * NH * hs) * sizeof(float));
    memcpy(b, a, (size_t)(N * NH * hs) * sizeof(float));
    int32_t pos[19];
    for (int i = 0; i < N; i++) pos[i] = i * 37;
    slm_rope_forward(a, pos, N, NH, hs, 10000.0f);
    slm_rope_forward_ref(b, pos, N, NH, hs, 10000.0f);
    check("rope", a, b, N * NH * hs);
    /* pair 0 at pos 1 rotates by exactly 1 radian; position 0 is the identity */
    float v[4] = {1, 0, 2, 5};
    int32_t p1 = 1;
    slm_rope_forward(v, &p1, 1, 1, 4, 10000.0f);
    assert_true(fabs(v[0] - cos(1.0)) < EXACT_TOL && fabs(v[1] - sin(1.0)) < EXACT_TOL);
    float u[4] = {1, 2, 3, 4};
    int32_t p0 = 0;
    slm_rope_forward(u, &p0, 1, 1, 4, 500000.0f);
    assert_true(u[0] == 1 && u[1] == 2 && u[2] == 3 && u[3] == 4);
    slm_free(a), slm_free(b);
}

static void attn_case(slm_rng *r, int64_t B, int64_t T, int64_t NH, int64_t NKV, int64_t hs) {
    float *q = randv(r, B * T * NH * hs, 1), *k = randv(r, B * T * NKV * hs, 1),
          *v = randv(r, B * T * NKV * hs, 1), *a = randv(r, B * T * NH * hs, 1),
          *b = randv(r, B * T * NH * hs, 1), *la = randv(r, B * NH * T, 1),
          *lb = randv(r, B * NH * T, 1);
    slm_attention_forward(a, la, q, k, v, B, T, NH, NKV, hs);
    slm_attention_forward_ref(b, lb, q, k, v, B, T, NH, NKV, hs);
    check("attention out", a, b, B * T * NH * hs);
    check("attention lse", la, lb, B * NH * T);
    slm_free(q), slm_free(k), slm_free(v), slm_free(a), slm_free(b), slm_free(la), slm_free(lb);
}

static void test_attention(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 5);
    attn_case(&r, 1, 1, 1, 1, 4);   /* T = 1: out = v */
    attn_case(&r, 2, 17, 4, 2, 6);  /* GQA 2:1, odd T */
    attn_case(&r, 1, 33, 6, 1, 8);  /* multi-query */
    attn_case(&r, 3, 64, 6, 6, 48); /* MHA, hs of the 15M model */
    attn_case(&r, 2, 130, 4, 2, 16); /* three 64-row tiles of the sgemm path */
    /* T = 1: softmax over one key is 1, so out = v and lse = q.k / sqrt(hs) */
    float q[2] = {1, 2}, k[2] = {3, 4}, v[2] = {5, 6}, o[2], l;
    slm_attention_forward(o, &l, q, k, v, 1, 1, 1, 1, 2);
    assert_true(o[0] == 5 && o[1] == 6);
    assert_true(fabs(l - 11 / sqrt(2.0)) < EXACT_TOL);
}

static void test_attention_kv(void **state) {
    (void)state;
    /* The last Tq rows of a full causal pass equal a cached pass over them. */
    slm_rng r;
    slm_rng_seed(&r, 6);
    const int64_t B = 2, T = 21, S = 32, NH = 4, NKV = 2, hs = 8, Tq = 5;
    float *q = randv(&r, B * T * NH * hs, 1), *k = randv(&r, B * T * NKV * hs, 1),
          *v = randv(&r, B * T * NKV * hs, 1), *full = randv(&r, B * T * NH * hs, 1),
          *kc = randv(&r, B * S * NKV * hs, 1), *vc = randv(&r, B * S * NKV * hs, 1),
          *qt = randv(&r, B * Tq * NH * hs, 1), *a = randv(&r, B * Tq * NH * hs, 1),
          *b = randv(&r, B * Tq * NH * hs, 1), *tail = randv(&r, B * Tq * NH * hs, 1);
    for (int64_t bb = 0; bb < B; bb++) {
        memcpy(kc + bb * S * NKV * hs, k + bb * T * NKV * hs, (size_t)(T * NKV * hs) * 4);
        memcpy(vc + bb * S * NKV * hs, v + bb * T * NKV * hs, (size_t)(T * NKV * hs) * 4);
        memcpy(qt + bb * Tq * NH * hs, q + (bb * T + T - Tq) * NH * hs, (size_t)(Tq * NH * hs) * 4);
    }
    slm_attention_forward(full, NULL, q, k, v, B, T, NH, NKV, hs);
    for (int64_t bb = 0; bb < B; bb++)
        memcpy(tail + bb * Tq * NH * hs, full + (bb * T + T - Tq) * NH * hs, (size_t)(Tq * NH * hs) * 4);
    slm_attention_forward_kv(a, NULL, qt, kc, vc, B, Tq, T, S, NH, NKV, hs);
    slm_attention_forward_kv_ref(b, NULL, qt, kc, vc, B, Tq, T, S, NH, NKV, hs);
    check("attention kv vs ref", a, b, B * Tq * NH * hs);
    check("attention kv vs full", a, tail, B * Tq * NH * hs);
    slm_free(q), slm_free(k), slm_free(v), slm_free(full), slm_free(kc), slm_free(vc);
    slm_free(qt), slm_free(a), slm_free(b), slm_free(tail);
}

static void test_swiglu(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 7);
    const int64_t N = 9, F = 77;
    float *g = randv(&r, N * F, 4), *u = randv(&r, N * F, 1), *a = randv(&r, N * F, 1),
          *b = randv(&r, N * F, 1);
    slm_swiglu_forward(a, g, u, N, F);
    slm_swiglu_forward_ref(b, g, u, N, F);
    check("swiglu", a, b, N * F);
    float g0 = 0, u0 = 5, o;
    slm_swiglu_forward(&o, &g0, &u0, 1, 1);
    assert_true(o == 0.0f);
    slm_free(g), slm_free(u), slm_free(a), slm_free(b);
}

static void test_cross_entropy(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 8);
    const int64_t N = 13, V = 301;
    float *x = randv(&r, N * V, 3), *da = randv(&r, N * V, 1), *db = randv(&r, N * V, 1),
          *la = randv(&r, N, 1), *lb = randv(&r, N, 1);
    int32_t tg[13];
    uint8_t mask[13];
    for (int i = 0; i < N; i++) tg[i] = (int32_t)slm_rng_below(&r, V), mask[i] = i % 4 != 1;
    tg[6] = -1; /* ignored */
    double ma = slm_cross_entropy_forward_backward(da, la, x, tg, mask, N, V, 0.5f);
    double mb = slm_cross_entropy_forward_backward_ref(db, lb, x, tg, mask, N, V, 0.5f);
    assert_true(fabs(ma - mb) <= 1e-6 * fabs(mb));
    check("ce losses", la, lb, N);
    check("ce dlogits", da, db, N * V);
    /* aliasing dlogits = logits gives the same gradient */
    double mc = slm_cross_entropy_forward_backward(x, NULL, x, tg, mask, N, V, 0.5f);
    assert_true(ma == mc);
    check("ce aliased", x, da, N * V);
    /* uniform logits: loss = log V */
    float z[4] = {0, 0, 0, 0};
    int32_t t0 = 2;
    double l = slm_cross_entropy_forward_backward(NULL, NULL, z, &t0, NULL, 1, 4, 1.0f);
    assert_true(fabs(l - log(4.0)) < EXACT_TOL);
    slm_free(x), slm_free(da), slm_free(db), slm_free(la), slm_free(lb);
}

static void test_add(void **state) {
    (void)state;
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 1, 1, 1, -5};
    slm_add_inplace(a, b, 5);
    assert_true(a[0] == 2 && a[4] == 0);
}

static void test_deterministic(void **state) {
    (void)state;
    /* two runs, same threads: bit-identical */
    slm_rng r;
    slm_rng_seed(&r, 9);
    const int64_t B = 2, T = 40, NH = 4, NKV = 2, hs = 16, N = 40, V = 500;
    float *q = randv(&r, B * T * NH * hs, 1), *k = randv(&r, B * T * NKV * hs, 1),
          *v = randv(&r, B * T * NKV * hs, 1), *a = randv(&r, B * T * NH * hs, 1),
          *b = randv(&r, B * T * NH * hs, 1), *x = randv(&r, N * V, 2);
    int32_t tg[40];
    for (int i = 0; i < N; i++) tg[i] = i * 7 % V;
    slm_attention_forward(a, NULL, q, k, v, B, T, NH, NKV, hs);
    slm_attention_forward(b, NULL, q, k, v, B, T, NH, NKV, hs);
    assert_memory_equal(a, b, (size_t)(B * T * NH * hs) * 4);
    double l1 = slm_cross_entropy_forward_backward(NULL, NULL, x, tg, NULL, N, V, 1);
    double l2 = slm_cross_entropy_forward_backward(NULL, NULL, x, tg, NULL, N, V, 1);
    assert_true(l1 == l2);
    slm_free(q), slm_free(k), slm_free(v), slm_free(a), slm_free(b), slm_free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedding),     cmocka_unit_test(test_rmsnorm),
        cmocka_unit_test(test_matmul),        cmocka_unit_test(test_rope),
        cmocka_unit_test(test_attention),     cmocka_unit_test(test_attention_kv),
        cmocka_unit_test(test_swiglu),        cmocka_unit_test(test_cross_entropy),
        cmocka_unit_test(test_add),           cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
