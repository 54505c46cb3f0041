/* core/ops_backward.c — hand-written backward kernels of core/ops.h.
 *
 * Each function differentiates the forward kernel of the same name (the
 * forward line is quoted above the code that differentiates it).  Every
 * gradient is ACCUMULATED (+=).  Parallel loops run over an index that no two
 * threads write (STYLE rule 6): where a backward writes tensors indexed
 * differently (rows vs columns) it has one loop per written tensor.  Matrix
 * products go to cblas_sgemm; inside the attention kernel's own parallel
 * region sgemm runs single-threaded (the OpenMP build of OpenBLAS does that
 * by itself when omp_in_parallel()).  Nothing here depends on the thread
 * count except through OpenBLAS's blocking, so results are repeatable for a
 * given thread count.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/ops.h"
#include "core/ops_math.h"

/* ---- embedding ---------------------------------------------------------- */

/* forward: out[n, :] = table[tokens[n], :]
 * Threads own column blocks of dtable; each walks n in order, so repeated
 * tokens are summed in the same order whatever the thread count. */
void slm_embedding_backward(float *dtable, const float *dout, const int32_t *tokens,
                            int64_t N, int64_t C) {
    const int64_t CB = 64;
    const int64_t nblk = (C + CB - 1) / CB;
#pragma omp parallel for schedule(static)
    for (int64_t jb = 0; jb < nblk; jb++) {
        int64_t j0 = jb * CB, j1 = j0 + CB < C ? j0 + CB : C;
        for (int64_t n = 0; n < N; n++) {
            float *dt = dtable + (size_t)tokens[n] * (size_t)C;
            const float *d = dout + (size_t)n * (size_t)C;
            for (int64_t j = j0; j < j1; j++) dt[j] += d[j];
        }
    }
}

/* ---- RMSNorm ------------------------------------------------------------ */

/* forward: rstd[n] = 1 / sqrt(mean_j(x[n,j]^2) + eps);  out[n,j] = x[n,j] * rstd[n] * w[j]
 * d out[n,j] / d x[n,i] = rstd w[j] delta_ij - rstd^3 / C * x[n,i] x[n,j] w[j], so
 * dx[n,i] = rstd * (w[i] dout[n,i] - x[n,i] * rstd^2 / C * sum_j w[j] dout[n,j] x[n,j]). */
void slm_rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                          const float *w, const float *rstd, int64_t N, int64_t C) {
    /* loop 1 writes dinp rows */
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * (size_t)C;
        const float *d = dout + (size_t)n * (size_t)C;
        float *dx = dinp + (size_t)n * (size_t)C;
        double dot = 0.0;
        for (int64_t j = 0; j < C; j++) dot += (double)w[j] * d[j] * x[j];
        float r = rstd[n];
        float c = (float)(dot * (double)r * r / (double)C);
        for (int64_t j = 0; j < C; j++) dx[j] += r * (w[j] * d[j] - x[j] * c);
    }
    if (!dw) return;
    /* loop 2 writes dw columns: dw[j] += sum_n dout[n,j] * x[n,j] * rstd[n] */
    const int64_t CB = 32;
    const int64_t nblk = (C + CB - 1) / CB;
#pragma omp parallel for schedule(static)
    for (int64_t jb = 0; jb < nblk; jb++) {
        int64_t j0 = jb * CB, j1 = j0 + CB < C ? j0 + CB : C;
        double acc[32] = {0};
        for (int64_t n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * (size_t)C;
            const float *d = dout + (size_t)n * (size_t)C;
            float r = rstd[n];
            for (int64_t j = j0; j < j1; j++) acc[j - j0] += (double)(d[j] * x[j] * r);
        }
        for (int64_t j = j0; j < j1; j++) dw[j] += (float)acc[j - j0];
    }
}

/* ---- matmul ------------------------------------------------------------- */

/* forward: out (N, OC) = inp (N, IC) @ w (OC, IC)^T */
void slm_matmul_backward(float *dinp, float *dw, const float *dout, const float *inp,
                         const float *w, int64_t N, int64_t IC, int64_t OC) {
    SLM_ASSERT(!omp_in_parallel());
    if (N == 0) return;
    /* dinp (N, IC) += dout (N, OC) @ w (OC, IC) */
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)IC, (int)OC,
                    1.0f, dout, (int)OC, w, (int)IC, 1.0f, dinp, (int)IC);
    /* dw (OC, IC) += dout^T (OC, N) @ inp (N, IC) */
    if (dw)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)IC, (int)N, 1.0f,
                    dout, (int)OC, inp, (int)IC, 1.0f, dw, (int)IC);
}

/* ---- RoPE --------------------------------------------------------------- */

/* forward, for each pair i < hs/2 with theta = pos * base^(-2i/hs):
 *   y0 = x0 cos - x1 sin ;  y1 = x0 sin + x1 cos
 * The rotation is orthogonal, so the backward rotates by -theta:
 *   dx0 = dy0 cos + dy1 sin ;  dx1 = -dy0 sin + dy1 cos
 * Angles come from the same cached table as the forward (slm_rope_cache). */
void slm_rope_backward(float *dx, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                       float base) {
    SLM_ASSERT(hs % 2 == 0);
    const int64_t half = hs / 2;
    int32_t max_pos = 0;
    for (int64_t n = 0; n < N; n++) max_pos = pos[n] > max_pos ? pos[n] : max_pos;
    const float *tab = slm_rope_cache(max_pos, hs, base); /* the forward's angles */
#pragma omp parallel for schedule(static) if (N * NH * hs > 16384)
    for (int64_t n = 0; n < N; n++) {
        SLM_ASSERT(pos[n] >= 0);
        const float *c = tab + (size_t)pos[n] * hs, *s = c + half;
        for (int64_t h = 0; h < NH; h++) {
            float *d = dx + ((size_t)n * (size_t)NH + (size_t)h) * (size_t)hs;
            for (int64_t i = 0; i < half; i++) {
                float d0 = d[2 * i], d1 = d[2 * i + 1];
                d[2 * i] = d0 * c[i] + d1 * s[i];
                d[2 * i + 1] = -d0 * s[i] + d1 * c[i];
            }
        }
    }
}

/* ---- attention ---------------------------------------------------------- */

/* Per-thread scratch for the attention backward: two (ATT_TILE, T) blocks.
 * Grown (outside any parallel region) only when T or the thread count grows,
 * so after the first step the backward allocates nothing.  Kernels are not
 * called concurrently from several host threads. */
#define ATT_TILE 64
static float *g_att_ws;
static size_t g_att_ws_n;

static float *att_workspace(size_t n) {
    if (n > g_att_ws_n) {
        slm_free(g_att_ws);
        g_att_ws = slm_alloc_aligned(n * sizeof(float));
        SLM_ASSERT(g_att_ws != NULL);
        g_att_ws_n = n;
    }
    return g_att_ws;
}

/* forward, per batch b, head h (kv head g = h / (NH/NKV)), query t, key s <= t:
 *   S[t,s] = q_t . k_s / sqrt(hs) ;  P[t,s] = exp(S[t,s] - lse[t]) ;  o_t = sum_s P[t,s] v_s
 * backward (softmax Jacobian, with D_t = sum_s P[t,s] dP[t,s] = do_t . o_t):
 *   dP[t,s] = do_t . v_s ;  dS = P * (dP - D_t)
 *   dq_t += dS[t,:] K / sqrt(hs) ;  dk_s += dS[:,s]^T Q / sqrt(hs) ;  dv_s += P[:,s]^T dO
 * Work is split over (b, kv head): the heads sharing a kv head run in one
 * task, so no two threads write the same dk/dv rows.  Query rows go in tiles
 * of ATT_TILE against keys [0, t1), so the masked upper triangle is mostly
 * skipped; each tile is 5 sgemms. */
void slm_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                            const float *q, const float *k, const float *v,
                            const float *out, const float *lse, int64_t B, int64_t T,
                            int64_t NH, int64_t NKV, int64_t hs) {
    SLM_ASSERT(!omp_in_parallel());
    SLM_ASSERT(NKV > 0 && NH % NKV == 0);
    const int64_t G = NH / NKV;
    const int ldq = (int)(NH * hs), ldk = (int)(NKV * hs);
    const float scale = 1.0f / sqrtf((float)hs);
    const int nthr = omp_get_max_threads();
    const size_t per_thr = 2 * (size_t)ATT_TILE * (size_t)T;
    float *ws = att_workspace(per_thr * (size_t)nthr);

#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t task = 0; task < B * NKV; task++) {
        const int64_t b = task / NKV, g = task % NKV;
        float *P = ws + per_thr * (size_t)omp_get_thread_num();
        float *dS = P + (size_t)ATT_TILE * (size_t)T;
        const float *Kb = k + (size_t)b * T * ldk + (size_t)g * hs;
        const float *Vb = v + (size_t)b * T * ldk + (size_t)g * hs;
        float *dKb = dk + (size_t)b * T * ldk + (size_t)g * hs;
        float *dVb = dv + (size_t)b * T * ldk + (size_t)g * hs;
        for (int64_t hh = 0; hh < G; hh++) {
            const int64_t h = g * G + hh;
            const float *Qb = q + (size_t)b * T * ldq + (size_t)h * hs;
            const float *dOb = dout + (size_t)b * T * ldq + (size_t)h * hs;
            const float *Ob = out + (size_t)b * T * ldq + (size_t)h * hs;
            float *dQb = dq + (size_t)b * T * ldq + (size_t)h * hs;
            const float *L = lse + ((size_t)b * NH + (size_t)h) * (size_t)T;
            for (int64_t t0 = 0; t0 < T; t0 += ATT_TILE) {
                const int64_t t1 = t0 + ATT_TILE < T ? t0 + ATT_TILE : T;
                const int m = (int)(t1 - t0), n = (int)t1;
                /* S = Q[t0:t1] K[0:t1]^T * scale  (m, n) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, (int)hs, scale,
                            Qb + (size_t)t0 * ldq, ldq, Kb, ldk, 0.0f, P, n);
                /* dP = dO[t0:t1] V[0:t1]^T  (m, n) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, (int)hs, 1.0f,
                            dOb + (size_t)t0 * ldq, ldq, Vb, ldk, 0.0f, dS, n);
                for (int64_t i = 0; i < m; i++) {
                    const int64_t t = t0 + i;
                    float *p = P + (size_t)i * n, *ds = dS + (size_t)i * n;
                    const float *o = Ob + (size_t)t * ldq, *d = dOb + (size_t)t * ldq;
                    double Dd = 0.0;
                    for (int64_t j = 0; j < hs; j++) Dd += (double)o[j] * d[j];
                    const float D = (float)Dd, lt = L[t];
                    for (int64_t s = 0; s <= t; s++) {
                        p[s] = expf(p[s] - lt);
                        ds[s] = p[s] * (ds[s] - D);
                    }
                    for (int64_t s = t + 1; s < n; s++) p[s] = ds[s] = 0.0f;
                }
                /* dQ[t0:t1] += dS K[0:t1] * scale */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, (int)hs, n, scale,
                            dS, n, Kb, ldk, 1.0f, dQb + (size_t)t0 * ldq, ldq);
                /* dK[0:t1] += dS^T Q[t0:t1] * scale */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, (int)hs, m, scale, dS,
                            n, Qb + (size_t)t0 * ldq, ldq, 1.0f, dKb, ldk);
                /* dV[0:t1] += P^T dO[t0:t1] */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, (int)hs, m, 1.0f, P, n,
                            dOb + (size_t)t0 * ldq, ldq, 1.0f, dVb, ldk);
            }
        }
    }
}

/* ---- SwiGLU ------------------------------------------------------------- */

/* forward: out = silu(g) * u,  silu(g) = g * sigmoid(g)
 *   d out / d u = silu(g) ;  d out / d g = u * sigmoid(g) * (1 + g * (1 - sigmoid(g)))
 * One loop: dgate[i] and dup[i] are written at the same index by one thread. */
void slm_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                         const float *up, int64_t N, int64_t F) {
    const int64_t n = N * F;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        float sg = 1.0f / (1.0f + slm_exp_fast(-g));
        float silu = g * sg;
        dgate[i] += dout[i] * up[i] * sg * (1.0f + g * (1.0f - sg));
        dup[i] += dout[i] * silu;
    }
}
