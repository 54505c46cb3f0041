/* core/ops.c — forward kernels of core/ops.h (the backward half lives in
 * core/ops_backward.c).  Matrix products go to cblas_sgemm, called from the
 * serial part of the program only (slm links the OpenMP build of OpenBLAS,
 * whose threads are OpenMP's own threads: see docs/model.md, "Threads").
 * Everything else is an OpenMP loop over an index that no two threads write.
 * Every kernel is checked against its naive twin in core/ops_ref.c. */
#include "core/ops.h"
#include "core/ops_math.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include <omp.h>

void slm_embedding_forward(float *out, const int32_t *tokens, const float *table,
                           int64_t N, int64_t C) {
    // out (N, C), tokens (N), table (V, C)
    const size_t row = (size_t)C * sizeof(float);
#pragma omp parallel for schedule(static) if (N * C > 16384)
    for (int64_t n = 0; n < N; n++)
        memcpy(out + n * C, table + (int64_t)tokens[n] * C, row);
}

void slm_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w,
                         int64_t N, int64_t C, float eps) {
    // out (N, C), rstd (N) or NULL, inp (N, C), w (C)
    // As ggml_compute_forward_rms_norm_f32: mean of squares in double,
    // scale = 1 / sqrtf(mean + eps) in float.
#pragma omp parallel for schedule(static) if (N * C > 16384)
    for (int64_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        float *y = out + n * C;
        double ss = 0.0;
        for (int64_t i = 0; i < C; i++) ss += (double)(x[i] * x[i]);
        const float s = 1.0f / sqrtf((float)(ss / (double)C) + eps);
        for (int64_t i = 0; i < C; i++) y[i] = x[i] * s * w[i];
        if (rstd) rstd[n] = s;
    }
}

void slm_matmul_forward(float *out, const float *inp, const float *w, int64_t N,
                        int64_t IC, int64_t OC, float beta) {
    // out (N, OC) = inp (N, IC) @ w (OC, IC)^T
    SLM_ASSERT(!omp_in_parallel());
    if (N == 0 || OC == 0) return;
    SLM_ASSERT(N <= INT32_MAX && IC <= INT32_MAX && OC <= INT32_MAX);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)OC, (int)IC, 1.0f,
                inp, (int)IC, w, (int)IC, beta, out, (int)OC);
}

void slm_rope_table(float *cs, float *sn, const int32_t *pos, int64_t N, int64_t hs, float base) {
    // cs, sn (N, hs/2).  llama.cpp normal mode: pair i of position p rotates
    // by theta = p * base^(-2i/hs).  The angle is formed in double and rounded
    // once, so it does not depend on how it was accumulated.
    SLM_ASSERT(hs % 2 == 0 && hs <= 2048);
    const int64_t half = hs / 2;
    double inv_freq[1024];
    for (int64_t i = 0; i < half; i++) inv_freq[i] = pow((double)base, -2.0 * (double)i / (double)hs);
#pragma omp parallel for schedule(static) if (N * half > 4096)
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < half; i++) {
            double th = (double)pos[n] * inv_freq[i];
            cs[n * half + i] = (float)cos(th);
            sn[n * half + i] = (float)sin(th);
        }
}

void slm_rope_forward_table(float *x, const float *cs, const float *sn, int64_t N, int64_t NH,
                            int64_t hs) {
    // x (N, NH, hs) in place; cs, sn (N, hs/2)
    const int64_t half = hs / 2;
#pragma omp parallel for schedule(static) if (N * NH * hs > 16384)
    for (int64_t n = 0; n < N; n++) {
        const float *c = cs + n * half, *s = sn + n * half;
        for (int64_t h = 0; h < NH; h++) {
            float *v = x + (n * NH + h) * hs;
            for (int64_t i = 0; i < half; i++) {
                float x0 = v[2 * i], x1 = v[2 * i + 1];
                v[2 * i] = x0 * c[i] - x1 * s[i];
                v[2 * i + 1] = x0 * s[i] + x1 * c[i];
            }
        }
    }
}

void slm_rope_forward(float *x, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                      float base) {
    // x (N, NH, hs) in place, pos (N).  The angles come from the cached
    // per-position table of core/ops_math.c (the same values slm_rope_table
    // computes: pos * base^(-2i/hs) in double, rounded once), shared with
    // slm_rope_backward, so the training step computes no cos/sin.
    SLM_ASSERT(hs % 2 == 0);
    const int64_t half = hs / 2;
    int32_t max_pos = 0;
    for (int64_t n = 0; n < N; n++) {
        SLM_ASSERT(pos[n] >= 0);
        max_pos = pos[n] > max_pos ? pos[n] : max_pos;
    }
    const float *tab = slm_rope_cache(max_pos, hs, base);
#pragma omp parallel for schedule(static) if (N * NH * hs > 16384)
    for (int64_t n = 0; n < N; n++) {
        const float *c = tab + (size_t)pos[n] * hs, *s = c + half;
        for (int64_t h = 0; h < NH; h++) {
            float *v = x + (n * NH + h) * hs;
            for (int64_t i = 0; i < half; i++) {
                float x0 = v[2 * i], x1 = v[2 * i + 1];
                v[2 * i] = x0 * c[i] - x1 * s[i];
                v[2 * i + 1] = x0 * s[i] + x1 * c[i];
            }
        }
    }
}

/* Attention works on tiles of ATT_QT consecutive queries of one head.  Per
 * tile the keys it can see are transposed into kt (hs, nk) so that the
 * scores of one query against all keys are a loop over keys (contiguous,
 * vectorised, no reassociation: every score is the same ordered sum over
 * hs as a plain dot product).  Then softmax in two passes over the score
 * row, and out = sum_j p_j v_j, a loop over hs per key. */
#define ATT_QT 32

void slm_attention_forward_kv(float *out, float *lse, const float *q, const float *k,
                              const float *v, int64_t B, int64_t Tq, int64_t Tk,
                              int64_t kv_stride_t, int64_t NH, int64_t NKV, int64_t hs) {
    // out, q (B, Tq, NH, hs); k, v (B, kv_stride_t, NKV, hs) of which the
    // first Tk positions are used; lse (B, NH, Tq) or NULL.  Query t sits at
    // absolute position Tk - Tq + t and sees keys 0..Tk-Tq+t.
    SLM_ASSERT(NKV > 0 && NH % NKV == 0 && Tq <= Tk && Tk <= kv_stride_t);
    const int64_t group = NH / NKV, ks = NKV * hs, past = Tk - Tq;
    const float scale = 1.0f / sqrtf((float)hs);
    const int64_t n_tiles = (Tq + ATT_QT - 1) / ATT_QT, tasks = B * NH * n_tiles;
#pragma omp parallel
    {
        float *kt = slm_alloc((size_t)(hs * Tk + Tk + 16) * sizeof(float));
        SLM_ASSERT(kt != NULL);
        float *att = kt + hs * Tk;
        // Tiles in reverse order (largest causal triangles first), dynamic:
        // balances the work without changing any result.
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = tasks - 1; task >= 0; task--) {
            const int64_t tile = task % n_tiles, h = (task / n_tiles) % NH, b = task / (n_tiles * NH);
            const int64_t hk = h / group, t0 = tile * ATT_QT;
            const int64_t t1 = t0 + ATT_QT < Tq ? t0 + ATT_QT : Tq;
            const int64_t nk = past + t1; /* keys visible to the last query of the tile */
            const float *kb = k + (b * kv_stride_t * NKV + hk) * hs;
            const float *vb = v + (b * kv_stride_t * NKV + hk) * hs;
            for (int64_t j = 0; j < nk; j++)
                for (int64_t i = 0; i < hs; i++) kt[i * nk + j] = kb[j * ks + i];
            for (int64_t t = t0; t < t1; t++) {
                const float *qr = q + ((b * Tq + t) * NH + h) * hs;
                float *o = out + ((b * Tq + t) * NH + h) * hs;
                const int64_t n = past + t + 1;
                for (int64_t j = 0; j < n; j++) att[j] = 0.0f;
                for (int64_t i = 0; i < hs; i++) {
                    const float qi = qr[i] * scale;
                    const float *kr = kt + i * nk;
                    for (int64_t j = 0; j < n; j++) att[j] += qi * kr[j];
                }
                float mx = -INFINITY;
                for (int64_t j = 0; j < n; j++) mx = att[j] > mx ? att[j] : mx;
                float sum = 0.0f;
                for (int64_t j = 0; j < n; j++) {
                    const float e = expf(att[j] - mx);
                    att[j] = e;
                    sum += e;
                }
                for (int64_t i = 0; i < hs; i++) o[i] = 0.0f;
                for (int64_t j = 0; j < n; j++) {
                    const float *vj = vb + j * ks;
                    const float p = att[j];
                    for (int64_t i = 0; i < hs; i++) o[i] += p * vj[i];
                }
                const float inv = 1.0f / sum;
                for (int64_t i = 0; i < hs; i++) o[i] *= inv;
                if (lse) lse[(b * NH + h) * Tq + t] = mx + logf(sum);
            }
        }
        slm_free(kt);
    }
}

/* max of x (n), 16 independent lanes so that the compiler vectorises */
static float row_max(const float *x, int64_t n) {
    float m[16];
    for (int j = 0; j < 16; j++) m[j] = -INFINITY;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    for (; i < n; i++) m[0] = x[i] > m[0] ? x[i] : m[0];
    float mx = m[0];
    for (int j = 1; j < 16; j++) mx = m[j] > mx ? m[j] : mx;
    return mx;
}

/* e (n) = exp(x - mx) (e may alias x, or be NULL); returns sum e in a fixed
 * order: 16 float lanes, combined in double. */
static double exp_sum(float *e, const float *x, float mx, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    if (e) {
        for (; i + 16 <= n; i += 16)
            for (int j = 0; j < 16; j++) {
                const float v = slm_exp_fast(x[i + j] - mx);
                e[i + j] = v;
                acc[j] += v;
            }
        for (; i < n; i++) acc[0] += e[i] = slm_exp_fast(x[i] - mx);
    } else {
        for (; i + 16 <= n; i += 16)
            for (int j = 0; j < 16; j++) acc[j] += slm_exp_fast(x[i + j] - mx);
        for (; i < n; i++) acc[0] += slm_exp_fast(x[i] - mx);
    }
    double s = 0.0;
    for (int j = 0; j < 16; j++) s += (double)acc[j];
    return s;
}

/* Training-size attention: per (b, h) query tiles of ATT_TILE rows against
 * keys [0, t1) as two sgemms (S = Q K^T, O = P V), the softmax in between.
 * The sgemms run inside the parallel region on one thread each (the OpenMP
 * OpenBLAS does that by itself).  Scratch (ATT_TILE, T) per thread, grown
 * outside the parallel region only when T or the thread count grows. */
#define ATT_TILE 64
static float *g_attf_ws;
static size_t g_attf_n;

void slm_attention_forward(float *out, float *lse, const float *q, const float *k,
                           const float *v, int64_t B, int64_t T, int64_t NH, int64_t NKV,
                           int64_t hs) {
    // out, q (B, T, NH, hs); k, v (B, T, NKV, hs); lse (B, NH, T) or NULL
    if (omp_in_parallel() || T < 32) { /* short blocks: the row kernel is as good */
        slm_attention_forward_kv(out, lse, q, k, v, B, T, T, T, NH, NKV, hs);
        return;
    }
    SLM_ASSERT(NKV > 0 && NH % NKV == 0);
    const int64_t G = NH / NKV;
    const int ldq = (int)(NH * hs), ldk = (int)(NKV * hs);
    const float scale = 1.0f / sqrtf((float)hs);
    const size_t per_thr = (size_t)ATT_TILE * (size_t)T;
    const size_t need = per_thr * (size_t)omp_get_max_threads();
    if (need > g_attf_n) {
        slm_free(g_attf_ws);
        g_attf_ws = slm_alloc_aligned(need * sizeof(float));
        SLM_ASSERT(g_attf_ws != NULL);
        g_attf_n = need;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t task = 0; task < B * NH; task++) {
        const int64_t b = task / NH, h = task % NH, g = h / G;
        float *P = g_attf_ws + per_thr * (size_t)omp_get_thread_num();
        const float *Qb = q + (size_t)b * T * ldq + (size_t)h * hs;
        const float *Kb = k + (size_t)b * T * ldk + (size_t)g * hs;
        const float *Vb = v + (size_t)b * T * ldk + (size_t)g * hs;
        float *Ob = out + (size_t)b * T * ldq + (size_t)h * hs;
        for (int64_t t0 = 0; t0 < T; t0 += ATT_TILE) {
            const int64_t t1 = t0 + ATT_TILE < T ? t0 + ATT_TILE : T;
            const int m = (int)(t1 - t0), n = (int)t1;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, (int)hs, scale,
                        Qb + (size_t)t0 * ldq, ldq, Kb, ldk, 0.0f, P, n);
            for (int64_t i = 0; i < m; i++) {
                const int64_t t = t0 + i;
                float *p = P + (size_t)i * n;
                const float mx = row_max(p, t + 1);
                const double sum = exp_sum(p, p, mx, t + 1);
                const float inv = (float)(1.0 / sum);
                for (int64_t s2 = 0; s2 <= t; s2++) p[s2] *= inv;
                for (int64_t s2 = t + 1; s2 < n; s2++) p[s2] = 0.0f;
                if (lse) lse[((size_t)b * NH + (size_t)h) * T + t] = mx + (float)log(sum);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, (int)hs, n, 1.0f, P, n,
                        Vb, ldk, 0.0f, Ob + (size_t)t0 * ldq, ldq);
        }
    }
}

void slm_swiglu_forward(float *out, const float *gate, const float *up, int64_t N,
                        int64_t F) {
    // out (N, F) = silu(gate) * up, silu(x) = x / (1 + exp(-x)) (ggml_silu_f32)
    const int64_t n = N * F;
#pragma omp parallel for schedule(static) if (n > 16384)
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + slm_exp_fast(-g)) * up[i]; /* rel. error < 2e-7 vs expf */
    }
}

double slm_cross_entropy_forward_backward(float *dlogits, float *losses,
                                          const float *logits, const int32_t *targets,
                                          const uint8_t *mask, int64_t N, int64_t V,
                                          float grad_scale) {
    // logits (N, V), targets (N), mask (N) or NULL, losses (N) or NULL,
    // dlogits (N, V) or NULL (may alias logits).  A negative target counts
    // as masked (like PyTorch's ignore_index).
    double *rowloss = slm_alloc((size_t)(N > 0 ? N : 1) * sizeof(double));
    SLM_ASSERT(rowloss != NULL);
    int64_t n_active = 0;
    for (int64_t n = 0; n < N; n++) {
        const bool on = (!mask || mask[n]) && targets[n] >= 0;
        if (on) SLM_ASSERT(targets[n] < V);
        n_active += on;
    }
    const float g = n_active > 0 ? grad_scale / (float)n_active : 0.0f;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; n++) {
        const float *x = logits + n * V;
        const bool on = (!mask || mask[n]) && targets[n] >= 0;
        if (!on) {
            rowloss[n] = 0.0;
            if (dlogits) memset(dlogits + n * V, 0, (size_t)V * sizeof(float));
            continue;
        }
        // d may alias x: the target logit is read first, then each exp(x - mx)
        // is stored over its own logit, then scaled to p and shifted at the target
        const int64_t tgt = targets[n];
        const float xt = x[tgt];
        const float mx = row_max(x, V);
        float *d = dlogits ? dlogits + n * V : NULL;
        const double sum = exp_sum(d, x, mx, V);
        rowloss[n] = (double)mx + log(sum) - (double)xt;
        if (d) { // d = (softmax - onehot) * g
            const float sc = (float)((double)g / sum);
            for (int64_t i = 0; i < V; i++) d[i] *= sc;
            d[tgt] -= g;
        }
    }
    double total = 0.0;
    for (int64_t n = 0; n < N; n++) {
        total += rowloss[n];
        if (losses) losses[n] = (float)rowloss[n];
    }
    slm_free(rowloss);
    return n_active > 0 ? total / (double)n_active : 0.0;
}

void slm_add_inplace(float *out, const float *a, int64_t n) {
    // out (n) += a (n)
#pragma omp parallel for schedule(static) if (n > 16384)
    for (int64_t i = 0; i < n; i++) out[i] += a[i];
}
