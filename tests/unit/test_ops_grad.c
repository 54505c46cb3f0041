/* tests/unit/test_ops_grad.c — every backward kernel of core/ops.h against
 * central finite differences.
 *
 * The oracle is independent of slm's forward kernels: each op has a
 * double-precision reference forward written here.  With a random upstream
 * gradient dy, the scalar L(x) = sum(dy * f(x)) has dL/dx = backward(dy);
 * the numerical gradient (L(x + e) - L(x - e)) / 2e in double (e = FD_EPS)
 * has truncation and rounding errors ~1e-10, so the error measured is the
 * float kernel's own.  Criterion per tensor (over all elements, or a random
 * sample of FD_SAMPLES elements for the larger shapes):
 *     ||g_slm - g_fd||_2 / ||g_fd||_2 <= GRAD_REL_TOL
 * Gradients start from random values, so the check also proves that the
 * kernels accumulate (+=) rather than overwrite.  Shapes are odd on purpose:
 * T = 1, T not a multiple of the attention tile (64) nor of 8, NKV < NH.
 * Training-size shapes (T = 256, hs = 48), where FD can only sample, are
 * checked against the naive twins of core/ops_backward_ref.c instead:
 * NMSE <= REF_NMSE_TOL on every output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/base.h"
#include "core/ops.h"
#include "core/ops_ref.h"

#define FD_EPS 1e-5
#define GRAD_REL_TOL 2e-5
#define FD_SAMPLES 160
#define REF_NMSE_TOL 1e-7 /* fast vs naive _ref (STYLE 17c): sum (a-b)^2 / sum b^2 */

typedef void (*fwd_fn)(const void *ctx, double *const *in, double *y);

static double *dvec(int64_t n) { return slm_calloc((size_t)n, sizeof(double)); }
static float *fvec(int64_t n) { return slm_calloc((size_t)n, sizeof(float)); }

/* random floats, stored both as float (for slm) and the same values in double */
static void rand_fill(float *f, double *d, int64_t n, float lo, float hi, slm_rng *r) {
    for (int64_t i = 0; i < n; i++) {
        f[i] = lo + (hi - lo) * slm_rng_uniform(r);
        if (d) d[i] = f[i];
    }
}

static double loss_of(fwd_fn f, const void *ctx, double *const *in, const double *dy,
                      double *y, int64_t M) {
    f(ctx, in, y);
    double L = 0.0;
    for (int64_t i = 0; i < M; i++) L += dy[i] * y[i];
    return L;
}

/* Compares (g_after - g_before) with the FD gradient of input `which`. */
static void check_grad(const char *what, fwd_fn f, const void *ctx, double **in, int which,
                       int64_t n_in, const float *g_after, const float *g_before,
                       const double *dy, int64_t M, slm_rng *r) {
    double *y = dvec(M);
    double num2 = 0.0, den2 = 0.0;
    int64_t n_check = n_in <= FD_SAMPLES * 2 ? n_in : FD_SAMPLES;
    for (int64_t c = 0; c < n_check; c++) {
        int64_t i = n_check == n_in ? c : (int64_t)slm_rng_below(r, (uint64_t)n_in);
        double x0 = in[which][i];
        in[which][i] = x0 + FD_EPS;
        double lp = loss_of(f, ctx, in, dy, y, M);
        in[which][i] = x0 - FD_EPS;
        double lm = loss_of(f, ctx, in, dy, y, M);
        in[which][i] = x0;
        double g_fd = (lp - lm) / (2 * FD_EPS);
        double g = (double)g_after[i] - (double)g_before[i];
        num2 += (g - g_fd) * (g - g_fd);
        den2 += g_fd * g_fd;
    }
    /* an exactly zero true gradient (dq at T = 1) is checked in absolute terms */
    double rel = den2 > 0.0 ? sqrt(num2 / den2) : sqrt(num2);
    printf("  %-34s %6lld checked  %s L2 err %.2e\n", what, (long long)n_check,
           den2 > 0.0 ? "rel" : "abs", rel);
    assert_true(rel <= GRAD_REL_TOL);
    slm_free(y);
}

static float *copy_f(const float *a, int64_t n) {
    float *b = fvec(n);
    memcpy(b, a, (size_t)n * sizeof(float));
    return b;
}

/* ---- embedding ---------------------------------------------------------- */

typedef struct { const int32_t *tok; int64_t N, C; } emb_ctx;

static void emb_fwd(const void *vc, double *const *in, double *y) {
    const emb_ctx *c = vc;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t j = 0; j < c->C; j++) y[n * c->C + j] = in[0][c->tok[n] * c->C + j];
}

static void test_embedding_grad(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 1);
    const int64_t V = 11, C = 67, N = 23;
    int32_t tok[23];
    for (int64_t n = 0; n < N; n++) tok[n] = (int32_t)slm_rng_below(&r, 5); /* repeats */
    float *tab = fvec(V * C), *dy = fvec(N * C), *g = fvec(V * C);
    double *tabd = dvec(V * C), *dyd = dvec(N * C);
    rand_fill(tab, tabd, V * C, -1, 1, &r);
    rand_fill(dy, dyd, N * C, -1, 1, &r);
    rand_fill(g, NULL, V * C, -1, 1, &r);
    float *g0 = copy_f(g, V * C);
    slm_embedding_backward(g, dy, tok, N, C);
    emb_ctx c = {tok, N, C};
    double *in[1] = {tabd};
    check_grad("embedding dtable", emb_fwd, &c, in, 0, V * C, g, g0, dyd, N * C, &r);
    slm_free(tab); slm_free(dy); slm_free(g); slm_free(g0); slm_free(tabd); slm_free(dyd);
}

/* ---- RMSNorm ------------------------------------------------------------ */

typedef struct { int64_t N, C; double eps; } rms_ctx;

static void rms_fwd(const void *vc, double *const *in, double *y) {
    const rms_ctx *c = vc;
    for (int64_t n = 0; n < c->N; n++) {
        const double *x = in[0] + n * c->C;
        double ss = 0;
        for (int64_t j = 0; j < c->C; j++) ss += x[j] * x[j];
        double rs = 1.0 / sqrt(ss / c->C + c->eps);
        for (int64_t j = 0; j < c->C; j++) y[n * c->C + j] = x[j] * rs * in[1][j];
    }
}

static void run_rmsnorm(int64_t N, int64_t C) {
    slm_rng r;
    slm_rng_seed(&r, 2 + (uint64_t)N);
    const float eps = 1e-5f;
    float *x = fvec(N * C), *w = fvec(C), *dy = fvec(N * C), *gx = fvec(N * C), *gw = fvec(C);
    double *xd = dvec(N * C), *wd = dvec(C), *dyd = dvec(N * C);
    rand_fill(x, xd, N * C, -2, 2, &r);
    rand_fill(w, wd, C, 0.5f, 1.5f, &r);
    rand_fill(dy, dyd, N * C, -1, 1, &r);
    rand_fill(gx, NULL, N * C, -1, 1, &r);
    rand_fill(gw, NULL, C, -1, 1, &r);
    float *gx0 = copy_f(gx, N * C), *gw0 = copy_f(gw, C), *rstd = fvec(N);
    for (int64_t n = 0; n < N; n++) { /* rstd as the forward saves it */
        double ss = 0;
        for (int64_t j = 0; j < C; j++) ss += xd[n * C + j] * xd[n * C + j];
        rstd[n] = (float)(1.0 / sqrt(ss / C + eps));
    }
    slm_rmsnorm_backward(gx, gw, dy, x, w, rstd, N, C);
    rms_ctx c = {N, C, eps};
    double *in[2] = {xd, wd};
    check_grad("rmsnorm dinp", rms_fwd, &c, in, 0, N * C, gx, gx0, dyd, N * C, &r);
    check_grad("rmsnorm dw", rms_fwd, &c, in, 1, C, gw, gw0, dyd, N * C, &r);
    /* frozen weight: dw NULL leaves dinp identical */
    float *gx2 = copy_f(gx0, N * C);
    slm_rmsnorm_backward(gx2, NULL, dy, x, w, rstd, N, C);
    assert_memory_equal(gx2, gx, (size_t)(N * C) * sizeof(float));
    slm_free(x); slm_free(w); slm_free(dy); slm_free(gx); slm_free(gw); slm_free(gx0);
    slm_free(gw0); slm_free(rstd); slm_free(xd); slm_free(wd); slm_free(dyd); slm_free(gx2);
}

static void test_rmsnorm_grad(void **state) {
    (void)state;
    run_rmsnorm(1, 5);
    run_rmsnorm(13, 67);
}

/* ---- matmul ------------------------------------------------------------- */

typedef struct { int64_t N, IC, OC; } mm_ctx;

static void mm_fwd(const void *vc, double *const *in, double *y) {
    const mm_ctx *c = vc;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t o = 0; o < c->OC; o++) {
            double s = 0;
            for (int64_t i = 0; i < c->IC; i++) s += in[0][n * c->IC + i] * in[1][o * c->IC + i];
            y[n * c->OC + o] = s;
        }
}

static void run_matmul(int64_t N, int64_t IC, int64_t OC) {
    slm_rng r;
    slm_rng_seed(&r, 3 + (uint64_t)N);
    float *x = fvec(N * IC), *w = fvec(OC * IC), *dy = fvec(N * OC);
    float *gx = fvec(N * IC), *gw = fvec(OC * IC);
    double *xd = dvec(N * IC), *wd = dvec(OC * IC), *dyd = dvec(N * OC);
    rand_fill(x, xd, N * IC, -1, 1, &r);
    rand_fill(w, wd, OC * IC, -1, 1, &r);
    rand_fill(dy, dyd, N * OC, -1, 1, &r);
    rand_fill(gx, NULL, N * IC, -1, 1, &r);
    rand_fill(gw, NULL, OC * IC, -1, 1, &r);
    float *gx0 = copy_f(gx, N * IC), *gw0 = copy_f(gw, OC * IC);
    slm_matmul_backward(gx, gw, dy, x, w, N, IC, OC);
    mm_ctx c = {N, IC, OC};
    double *in[2] = {xd, wd};
    check_grad("matmul dinp", mm_fwd, &c, in, 0, N * IC, gx, gx0, dyd, N * OC, &r);
    check_grad("matmul dw", mm_fwd, &c, in, 1, OC * IC, gw, gw0, dyd, N * OC, &r);
    slm_free(x); slm_free(w); slm_free(dy); slm_free(gx); slm_free(gw); slm_free(gx0);
    slm_free(gw0); slm_free(xd); slm_free(wd); slm_free(dyd);
}

static void test_matmul_grad(void **state) {
    (void)state;
    run_matmul(1, 7, 3);
    run_matmul(37, 29, 53);
}

/* ---- RoPE --------------------------------------------------------------- */

typedef struct { const int32_t *pos; int64_t N, NH, hs; double base; } rope_ctx;

/* llama.cpp normal mode: adjacent pairs, theta = pos * base^(-2i/hs) */
static void rope_fwd(const void *vc, double *const *in, double *y) {
    const rope_ctx *c = vc;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t h = 0; h < c->NH; h++)
            for (int64_t i = 0; i < c->hs / 2; i++) {
                double th = c->pos[n] * pow(c->base, -2.0 * i / c->hs);
                int64_t o = (n * c->NH + h) * c->hs + 2 * i;
                double x0 = in[0][o], x1 = in[0][o + 1];
                y[o] = x0 * cos(th) - x1 * sin(th);
                y[o + 1] = x0 * sin(th) + x1 * cos(th);
            }
}

static void run_rope(int64_t N, int64_t NH, int64_t hs) {
    slm_rng r;
    slm_rng_seed(&r, 4 + (uint64_t)N);
    int32_t pos[64];
    for (int64_t n = 0; n < N; n++) pos[n] = (int32_t)slm_rng_below(&r, 300);
    const int64_t M = N * NH * hs;
    float *dy = fvec(M), *g = fvec(M);
    double *xd = dvec(M), *dyd = dvec(M);
    float *x = fvec(M);
    rand_fill(x, xd, M, -1, 1, &r);
    rand_fill(dy, dyd, M, -1, 1, &r);
    /* rope_backward works in place: dx <- R^T dy; the accumulation is the caller's */
    memcpy(g, dy, (size_t)M * sizeof(float));
    slm_rope_backward(g, pos, N, NH, hs, 10000.0f);
    float *zero = fvec(M);
    rope_ctx c = {pos, N, NH, hs, 10000.0};
    double *in[1] = {xd};
    check_grad("rope dx", rope_fwd, &c, in, 0, M, g, zero, dyd, M, &r);
    slm_free(dy); slm_free(g); slm_free(xd); slm_free(dyd); slm_free(x); slm_free(zero);
}

static void test_rope_grad(void **state) {
    (void)state;
    run_rope(1, 1, 2);
    run_rope(19, 3, 10);
}

/* ---- attention ---------------------------------------------------------- */

typedef struct { int64_t B, T, NH, NKV, hs; } att_ctx;

/* also fills lse (B, NH, T) when lse != NULL */
static void att_fwd_lse(const att_ctx *c, double *const *in, double *y, double *lse) {
    const int64_t B = c->B, T = c->T, NH = c->NH, NKV = c->NKV, hs = c->hs, G = NH / NKV;
    const double sc = 1.0 / sqrt((double)hs);
    double *s = dvec(T);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++)
            for (int64_t t = 0; t < T; t++) {
                const double *q = in[0] + ((b * T + t) * NH + h) * hs;
                double mx = -INFINITY;
                for (int64_t u = 0; u <= t; u++) {
                    const double *k = in[1] + ((b * T + u) * NKV + h / G) * hs;
                    double d = 0;
                    for (int64_t j = 0; j < hs; j++) d += q[j] * k[j];
                    s[u] = d * sc;
                    if (s[u] > mx) mx = s[u];
                }
                double z = 0;
                for (int64_t u = 0; u <= t; u++) z += exp(s[u] - mx);
                double l = mx + log(z);
                if (lse) lse[(b * NH + h) * T + t] = l;
                double *o = y + ((b * T + t) * NH + h) * hs;
                for (int64_t j = 0; j < hs; j++) o[j] = 0;
                for (int64_t u = 0; u <= t; u++) {
                    const double *v = in[2] + ((b * T + u) * NKV + h / G) * hs;
                    double p = exp(s[u] - l);
                    for (int64_t j = 0; j < hs; j++) o[j] += p * v[j];
                }
            }
    slm_free(s);
}

static void att_fwd(const void *vc, double *const *in, double *y) {
    att_fwd_lse(vc, in, y, NULL);
}

static void run_attention(int64_t B, int64_t T, int64_t NH, int64_t NKV, int64_t hs) {
    printf(" attention B=%lld T=%lld NH=%lld NKV=%lld hs=%lld\n", (long long)B, (long long)T,
           (long long)NH, (long long)NKV, (long long)hs);
    slm_rng r;
    slm_rng_seed(&r, 5 + (uint64_t)T);
    const int64_t MQ = B * T * NH * hs, MK = B * T * NKV * hs;
    float *q = fvec(MQ), *k = fvec(MK), *v = fvec(MK), *dy = fvec(MQ);
    double *qd = dvec(MQ), *kd = dvec(MK), *vd = dvec(MK), *dyd = dvec(MQ);
    rand_fill(q, qd, MQ, -1.5f, 1.5f, &r);
    rand_fill(k, kd, MK, -1.5f, 1.5f, &r);
    rand_fill(v, vd, MK, -1, 1, &r);
    rand_fill(dy, dyd, MQ, -1, 1, &r);
    float *gq = fvec(MQ), *gk = fvec(MK), *gv = fvec(MK);
    rand_fill(gq, NULL, MQ, -1, 1, &r);
    rand_fill(gk, NULL, MK, -1, 1, &r);
    rand_fill(gv, NULL, MK, -1, 1, &r);
    float *gq0 = copy_f(gq, MQ), *gk0 = copy_f(gk, MK), *gv0 = copy_f(gv, MK);
    /* forward outputs the backward consumes, from the double reference */
    double *od = dvec(MQ), *lsed = dvec(B * NH * T);
    att_ctx c = {B, T, NH, NKV, hs};
    double *in[3] = {qd, kd, vd};
    att_fwd_lse(&c, in, od, lsed);
    float *o = fvec(MQ), *lse = fvec(B * NH * T);
    for (int64_t i = 0; i < MQ; i++) o[i] = (float)od[i];
    for (int64_t i = 0; i < B * NH * T; i++) lse[i] = (float)lsed[i];
    slm_attention_backward(gq, gk, gv, dy, q, k, v, o, lse, B, T, NH, NKV, hs);
    check_grad("attention dq", att_fwd, &c, in, 0, MQ, gq, gq0, dyd, MQ, &r);
    check_grad("attention dk", att_fwd, &c, in, 1, MK, gk, gk0, dyd, MQ, &r);
    check_grad("attention dv", att_fwd, &c, in, 2, MK, gv, gv0, dyd, MQ, &r);
    slm_free(q); slm_free(k); slm_free(v); slm_free(dy); slm_free(qd); slm_free(kd);
    slm_free(vd); slm_free(dyd); slm_free(gq); slm_free(gk); slm_free(gv); slm_free(gq0);
    slm_free(gk0); slm_free(gv0); slm_free(od); slm_free(lsed); slm_free(o); slm_free(lse);
}

static void test_attention_grad(void **state) {
    (void)state;
    run_attention(1, 1, 2, 1, 4);   /* T = 1 */
    run_attention(2, 7, 4, 2, 6);   /* GQA, tiny T */
    run_attention(2, 67, 6, 2, 8);  /* T crosses the 64-row tile; group of 3 */
    run_attention(1, 130, 2, 2, 4); /* three tiles, no GQA */
}

/* ---- SwiGLU ------------------------------------------------------------- */

typedef struct { int64_t n; } sw_ctx;

static void sw_fwd(const void *vc, double *const *in, double *y) {
    const sw_ctx *c = vc;
    for (int64_t i = 0; i < c->n; i++) {
        double g = in[0][i];
        y[i] = g / (1.0 + exp(-g)) * in[1][i];
    }
}

static void test_swiglu_grad(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 6);
    const int64_t N = 9, F = 37, M = N * F;
    float *g = fvec(M), *u = fvec(M), *dy = fvec(M), *gg = fvec(M), *gu = fvec(M);
    double *gd = dvec(M), *ud = dvec(M), *dyd = dvec(M);
    rand_fill(g, gd, M, -6, 6, &r);
    rand_fill(u, ud, M, -2, 2, &r);
    rand_fill(dy, dyd, M, -1, 1, &r);
    rand_fill(gg, NULL, M, -1, 1, &r);
    rand_fill(gu, NULL, M, -1, 1, &r);
    float *gg0 = copy_f(gg, M), *gu0 = copy_f(gu, M);
    slm_swiglu_backward(gg, gu, dy, g, u, N, F);
    sw_ctx c = {M};
    double *in[2] = {gd, ud};
    check_grad("swiglu dgate", sw_fwd, &c, in, 0, M, gg, gg0, dyd, M, &r);
    check_grad("swiglu dup", sw_fwd, &c, in, 1, M, gu, gu0, dyd, M, &r);
    slm_free(g); slm_free(u); slm_free(dy); slm_free(gg); slm_free(gu); slm_free(gd);
    slm_free(ud); slm_free(dyd); slm_free(gg0); slm_free(gu0);
}

/* ---- fast vs naive _ref at training-size shapes ------------------------- */

static void check_nmse(const char *what, const float *a, const float *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    double e = num / (den + 1e-300);
    printf("  %-34s nmse %.2e\n", what, e);
    assert_true(den > 0 && e <= REF_NMSE_TOL);
}

static float *rnd(slm_rng *r, int64_t n, float a) {
    float *x = fvec(n);
    rand_fill(x, NULL, n, -a, a, r);
    return x;
}

static void test_backward_vs_ref(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 8);
    { /* attention: 4 tiles, GQA groups of 3, hs of the 15M model */
        const int64_t B = 2, T = 256, NH = 6, NKV = 2, hs = 48;
        const int64_t MQ = B * T * NH * hs, MK = B * T * NKV * hs;
        float *q = rnd(&r, MQ, 1), *k = rnd(&r, MK, 1), *v = rnd(&r, MK, 1), *dy = rnd(&r, MQ, 1);
        float *o = fvec(MQ), *lse = fvec(B * NH * T);
        slm_attention_forward(o, lse, q, k, v, B, T, NH, NKV, hs);
        float *g[6];
        for (int i = 0; i < 6; i++) g[i] = rnd(&r, i % 3 == 0 ? MQ : MK, 0.1f);
        for (int i = 0; i < 3; i++) memcpy(g[i + 3], g[i], (size_t)(i == 0 ? MQ : MK) * 4);
        slm_attention_backward(g[0], g[1], g[2], dy, q, k, v, o, lse, B, T, NH, NKV, hs);
        slm_attention_backward_ref(g[3], g[4], g[5], dy, q, k, v, o, lse, B, T, NH, NKV, hs);
        check_nmse("attention dq vs ref", g[0], g[3], MQ);
        check_nmse("attention dk vs ref", g[1], g[4], MK);
        check_nmse("attention dv vs ref", g[2], g[5], MK);
        slm_free(q), slm_free(k), slm_free(v), slm_free(dy), slm_free(o), slm_free(lse);
        for (int i = 0; i < 6; i++) slm_free(g[i]);
    }
    { /* rmsnorm, matmul, swiglu, rope, embedding */
        const int64_t N = 300, C = 288, OC = 200, V = 50;
        float *x = rnd(&r, N * C, 2), *w = rnd(&r, C, 1), *dy = rnd(&r, N * C, 1);
        float *rs = fvec(N), *y = fvec(N * C);
        slm_rmsnorm_forward(y, rs, x, w, N, C, 1e-5f);
        float *a = rnd(&r, N * C, 0.1f), *b = copy_f(a, N * C), *da = rnd(&r, C, 0.1f), *db = copy_f(da, C);
        slm_rmsnorm_backward(a, da, dy, x, w, rs, N, C);
        slm_rmsnorm_backward_ref(b, db, dy, x, w, rs, N, C);
        check_nmse("rmsnorm dinp vs ref", a, b, N * C);
        check_nmse("rmsnorm dw vs ref", da, db, C);
        float *W = rnd(&r, OC * C, 1), *dyo = rnd(&r, N * OC, 1);
        float *gw = rnd(&r, OC * C, 0.1f), *gw2 = copy_f(gw, OC * C);
        memcpy(b, a, (size_t)(N * C) * 4);
        slm_matmul_backward(a, gw, dyo, x, W, N, C, OC);
        slm_matmul_backward_ref(b, gw2, dyo, x, W, N, C, OC);
        check_nmse("matmul dinp vs ref", a, b, N * C);
        check_nmse("matmul dw vs ref", gw, gw2, OC * C);
        float *u = rnd(&r, N * C, 2);
        memcpy(b, a, (size_t)(N * C) * 4);
        float *du = rnd(&r, N * C, 0.1f), *du2 = copy_f(du, N * C);
        slm_swiglu_backward(a, du, dy, x, u, N, C);
        slm_swiglu_backward_ref(b, du2, dy, x, u, N, C);
        check_nmse("swiglu dgate vs ref", a, b, N * C);
        check_nmse("swiglu dup vs ref", du, du2, N * C);
        int32_t pos[300], tok[300];
        for (int64_t n = 0; n < N; n++) {
            pos[n] = (int32_t)slm_rng_below(&r, 2048);
            tok[n] = (int32_t)slm_rng_below(&r, (uint64_t)V);
        }
        memcpy(a, dy, (size_t)(N * C) * 4);
        memcpy(b, dy, (size_t)(N * C) * 4);
        slm_rope_backward(a, pos, N, 6, 48, 10000.0f);
        slm_rope_backward_ref(b, pos, N, 6, 48, 10000.0f);
        check_nmse("rope dx vs ref (pos < 2048)", a, b, N * C);
        float *t1 = rnd(&r, V * C, 0.1f), *t2 = copy_f(t1, V * C);
        slm_embedding_backward(t1, dy, tok, N, C);
        slm_embedding_backward_ref(t2, dy, tok, N, C);
        check_nmse("embedding dtable vs ref", t1, t2, V * C);
        slm_free(x), slm_free(w), slm_free(dy), slm_free(rs), slm_free(y), slm_free(a);
        slm_free(b), slm_free(da), slm_free(db), slm_free(W), slm_free(dyo), slm_free(gw);
        slm_free(gw2), slm_free(u), slm_free(du), slm_free(du2), slm_free(t1), slm_free(t2);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedding_grad), cmocka_unit_test(test_rmsnorm_grad),
        cmocka_unit_test(test_matmul_grad),    cmocka_unit_test(test_rope_grad),
        cmocka_unit_test(test_attention_grad), cmocka_unit_test(test_swiglu_grad),
        cmocka_unit_test(test_backward_vs_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
