/* quantize/gptq.c — error-feedback quantization of K-quant rows (see gptq.h). */
#include "quantize/gptq.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "quantize/quants_impl.h"

/* LAPACK (exported by OpenBLAS): Cholesky factorisation and inverse. */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);

struct slm_gptq {
    int64_t n;
    float *U;     /* (n x n) row-major; U[i][j], j >= i, the upper factor of H^-1 */
    float *diagH; /* (n) diagonal of H as given (the default search weights) */
    bool *dead;   /* (n) H_ii == 0 */
};

bool slm_gptq_supports(slm_type t) {
    return slm_kdesc_of(t) != NULL || t == SLM_TYPE_Q4_0 || t == SLM_TYPE_Q4_1 || t == SLM_TYPE_Q5_0 ||
           t == SLM_TYPE_Q5_1 || t == SLM_TYPE_Q8_0;
}
int64_t slm_gptq_n(const slm_gptq *g) { return g->n; }

void slm_gptq_free(slm_gptq *g) {
    if (!g) return;
    free(g->U);
    free(g->diagH);
    free(g->dead);
    free(g);
}

/* A = H + lambda I with dead columns replaced by unit rows/columns, then
 * A <- chol(A^-1) (upper factor, row-major).  Row-major symmetric storage
 * is LAPACK's column-major transpose: LAPACK's 'L' factor of A^-1 read
 * row-major is the upper U with A^-1 = U^T U.  Returns the LAPACK info. */
static int factor(const float *H, const bool *dead, int64_t n, double lambda, double *A) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            A[i * n + j] = (dead[i] || dead[j]) ? (i == j ? 1.0 : 0.0) : (double)H[i * n + j];
    for (int64_t i = 0; i < n; i++)
        if (!dead[i]) A[i * n + i] += lambda;
    const int ni = (int)n;
    int info = 0;
    dpotrf_("L", &ni, A, &ni, &info);
    if (info == 0) dpotri_("L", &ni, A, &ni, &info);
    if (info == 0) dpotrf_("L", &ni, A, &ni, &info);
    return info;
}

slm_status slm_gptq_new(const float *H, int64_t n, double damp, slm_gptq **out) {
    *out = NULL;
    if (n <= 0 || n > 65536) return SLM_ERR_FORMAT;
    slm_gptq *g = calloc(1, sizeof *g);
    double *A = malloc(sizeof(double) * (size_t)(n * n));
    if (g) {
        g->n = n;
        g->U = malloc(sizeof(float) * (size_t)(n * n));
        g->diagH = malloc(sizeof(float) * (size_t)n);
        g->dead = calloc((size_t)n, sizeof(bool));
    }
    if (!g || !A || !g->U || !g->diagH || !g->dead) {
        free(A);
        slm_gptq_free(g);
        return SLM_ERR_NOMEM;
    }
    double mean = 0;
    int64_t live = 0;
    bool finite = true;
    for (int64_t i = 0; i < n * n; i++) finite &= isfinite(H[i]) != 0;
    for (int64_t i = 0; i < n; i++) {
        const float d = H[i * n + i];
        g->diagH[i] = d > 0 ? d : 0.0f;
        g->dead[i] = !(d > 0);
        if (d > 0) mean += d, live++;
    }
    mean = live ? mean / (double)live : 1.0;
    int info = finite ? 1 : -1;
    /* OpenBLAS's threaded potrf/potri round according to the thread count
     * (it reads omp_get_max_threads()): factor on one thread so that the
     * output bytes do not depend on -t. */
    const int nthr = omp_get_max_threads();
    omp_set_num_threads(1);
    for (int tries = 0; info > 0 && tries < 6; tries++) /* damp x 1, 10, ... 1e5 */
        info = factor(H, g->dead, n, damp * pow(10.0, tries) * mean, A);
    omp_set_num_threads(nthr);
    if (info != 0) {
        slm_log_error("gptq: the input covariance (%lld x %lld) is %s", (long long)n, (long long)n,
                      finite ? "not positive definite even after dampening" : "not finite");
        free(A);
        slm_gptq_free(g);
        return SLM_ERR_FORMAT;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) g->U[i * n + j] = j >= i ? (float)A[i * n + j] : 0.0f;
    free(A);
    *out = g;
    return SLM_OK;
}

/* A block's grid, value = dd[i] * L - dm[i] with L in [lmin, lmax]: the
 * K types through slm_kunp; the 32-element types from their header
 * (Q4_0 (L - 8) d, Q4_1 L d + m, Q5_0 (L - 16) d, Q5_1 L d + m, Q8_0 L d). */
typedef struct {
    float dd[SLM_QK_K], dm[SLM_QK_K];
    int lmin, lmax, n;
    slm_kunp u; /* K types */
} grid;

static void grid_of(slm_type t, const void *blk, grid *gr) {
    const slm_kdesc *k = slm_kdesc_of(t);
    if (k) {
        slm_kblock_unpack(t, blk, &gr->u);
        gr->n = SLM_QK_K, gr->lmin = k->lmin, gr->lmax = k->lmax;
        for (int i = 0; i < SLM_QK_K; i++) {
            const int j = i / k->sublen;
            gr->dd[i] = gr->u.d * (float)gr->u.sc[j];
            gr->dm[i] = gr->u.dmin * (float)gr->u.m[j];
        }
        return;
    }
    const slm_half *h = blk;
    const bool has_min = t == SLM_TYPE_Q4_1 || t == SLM_TYPE_Q5_1;
    const float d = slm_f16_to_f32(h[0]), m = has_min ? slm_f16_to_f32(h[1]) : 0.0f;
    gr->n = 32;
    switch (t) {
    case SLM_TYPE_Q4_0: gr->lmin = -8, gr->lmax = 7; break;
    case SLM_TYPE_Q4_1: gr->lmin = 0, gr->lmax = 15; break;
    case SLM_TYPE_Q5_0: gr->lmin = -16, gr->lmax = 15; break;
    case SLM_TYPE_Q5_1: gr->lmin = 0, gr->lmax = 31; break;
    default: gr->lmin = -127, gr->lmax = 127; break; /* Q8_0, as ggml's quantizer */
    }
    for (int i = 0; i < 32; i++) gr->dd[i] = d, gr->dm[i] = -m;
}

/* Writes the levels L into blk (its header, i.e. the scales, unchanged). */
static void grid_pack(slm_type t, grid *gr, const int *L, void *blk) {
    if (slm_kdesc_of(t)) {
        memcpy(gr->u.L, L, sizeof gr->u.L);
        slm_kblock_pack(t, &gr->u, blk);
        return;
    }
    uint8_t U[32];
    for (int i = 0; i < 32; i++) U[i] = (uint8_t)(L[i] - (gr->lmin < 0 ? gr->lmin : 0));
    switch (t) {
    case SLM_TYPE_Q4_0: case SLM_TYPE_Q4_1: {
        uint8_t *qs = (uint8_t *)blk + (t == SLM_TYPE_Q4_0 ? 2 : 4);
        for (int j = 0; j < 16; j++) qs[j] = (uint8_t)(U[j] | (U[j + 16] << 4));
        break;
    }
    case SLM_TYPE_Q5_0: case SLM_TYPE_Q5_1: {
        uint8_t *qh = (uint8_t *)blk + (t == SLM_TYPE_Q5_0 ? 2 : 4);
        slm_pack_q5(U, qh + 4, qh);
        break;
    }
    default: {
        slm_block_q8_0 *b = blk;
        for (int i = 0; i < 32; i++) b->qs[i] = (int8_t)L[i];
    }
    }
}

/* One block [c0, c0 + B) of one row w (the whole row, updated in place
 * inside the block): block parameters from slm's search on the current
 * values, then levels column by column with error feedback inside the
 * block; e (B) receives the scaled errors for the trailing update. */
static void row_block(const slm_gptq *g, slm_type t, int64_t B, float *w, int64_t c0, const float *imat,
                      bool refine, void *blk, float *e) {
    const int64_t n = g->n;
    slm_quant_opts o = {imat + c0, refine};
    slm_quantize_row(t, w + c0, blk, B, &o);
    grid gr;
    grid_of(t, blk, &gr);
    int L[SLM_QK_K];
    for (int i = 0; i < B; i++) {
        const int64_t c = c0 + i;
        const float dd = gr.dd[i], dm = gr.dm[i], x = w[c];
        int l = dd != 0.0f ? slm_nearest_int(SLM_QMAX(-1e6f, SLM_QMIN(1e6f, (x + dm) / dd))) : 0;
        l = SLM_QMAX(gr.lmin, SLM_QMIN(gr.lmax, l));
        L[i] = l;
        const float err = (x - (dd * (float)l - dm)) / g->U[c * n + c];
        e[i] = err;
        const float *Ui = g->U + c * n;
        for (int64_t jj = c + 1; jj < c0 + B; jj++) w[jj] -= err * Ui[jj];
    }
    grid_pack(t, &gr, L, blk);
}

/* w[c1:n] -= e . U[c0:c0+B, c1:n], c1 = c0 + B, for one row w, in tiles
 * of 64 columns kept in registers: every element sums its B terms in the
 * same order whatever the thread count (a threaded sgemm over all rows
 * rounds according to OpenBLAS's partition, which made the output bytes
 * depend on -t). */
static void trailing_update(const slm_gptq *g, float *w, const float *e, int64_t c0, int64_t B) {
    enum { TILE = 64 };
    const int64_t n = g->n;
    for (int64_t j0 = c0 + B; j0 < n; j0 += TILE) {
        const int64_t nj = n - j0 < TILE ? n - j0 : TILE;
        float acc[TILE];
        memcpy(acc, w + j0, sizeof(float) * (size_t)nj);
        for (int i = 0; i < B; i++) {
            const float ei = e[i], *u = g->U + (c0 + i) * n + j0;
            for (int64_t j = 0; j < nj; j++) acc[j] -= ei * u[j];
        }
        memcpy(w + j0, acc, sizeof(float) * (size_t)nj);
    }
}

slm_status slm_gptq_rows(const slm_gptq *g, slm_type t, float *W, int64_t rows, const float *imat,
                         bool refine, void *dst) {
    const int64_t n = g->n, B = slm_quant_block_size(t);
    const size_t rb = slm_quant_row_bytes(t, n), bb = slm_quant_block_bytes(t);
    if (!slm_gptq_supports(t) || rb == 0) return SLM_ERR_USAGE;
    const float *wts = imat ? imat : g->diagH;
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t r = 0; r < rows; r++) {
        float *w = W + r * n, e[SLM_QK_K];
        for (int64_t c = 0; c < n; c++)
            if (g->dead[c]) w[c] = 0.0f;
        for (int64_t c0 = 0; c0 < n; c0 += B) {
            row_block(g, t, B, w, c0, wts, refine, (uint8_t *)dst + (size_t)r * rb + (size_t)(c0 / B) * bb, e);
            trailing_update(g, w, e, c0, B);
        }
    }
    return SLM_OK;
}
