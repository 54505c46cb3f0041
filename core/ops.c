/* core/ops.c — forward kernels of core/ops.h (the backward half lives in
 * core/ops_backward.c).  Matrix products go to cblas_sgemm, called from the
 * serial part of the program only (slm links the OpenMP build of OpenBLAS,
 * whose threads are OpenMP's own threads: see docs/model.md, "Threads").
 * Everything else is an OpenMP loop over an index that no two threads write.
 * Every kernel is checked against its naive twin in core/ops_ref.c. */
#include "core/ops.h"

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

void slm_rope_forward(float *x, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                      float base) {
    // x (N, NH, hs) in place, pos (N).  llama.cpp normal mode: the pair
    // (x[2i], x[2i+1]) rotates by theta = pos * base^(-2i/hs).  The angle is
    // formed in double and rounded once, so that the angle table does not
    // depend on how it was accumulated.
    SLM_ASSERT(hs % 2 == 0);
    const int64_t half = hs / 2;
#pragma omp parallel
    {
        float cs[512], sn[512]; // per-row tables; hs <= 1024
        SLM_ASSERT(half <= 512);
#pragma omp for schedule(static)
        for (int64_t n = 0; n < N; n++) {
            for (int64_t i = 0; i < half; i++) {
                double theta = (double)pos[n] * pow((double)base, -2.0 * (double)i / (double)hs);
                cs[i] = (float)cos(theta);
                sn[i] = (float)sin(theta);
            }
            for (int64_t h = 0; h < NH; h++) {
                float *v = x + (n * NH + h) * hs;
                for (int64_t i = 0; i < half; i++) {
                    float x0 = v[2 * i], x1 = v[2 * i + 1];
                    v[2 * i] = x0 * cs[i] - x1 * sn[i];
                    v[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
                }
            }
        }
    }
}

/* One query row against keys 0..nk-1 of one kv head: two passes over a score
 * row held in scratch (nk floats).  Returns the log-sum-exp of the scaled
 * scores.  q, o (hs); k, v rows of stride ks; att scratch (nk). */
static float attn_row(float *o, const float *q, const float *k, const float *v, int64_t ks,
                      int64_t nk, int64_t hs, float scale, float *att) {
    float mx = -INFINITY;
    for (int64_t j = 0; j < nk; j++) {
        const float *kj = k + j * ks;
        float d = 0.0f;
        for (int64_t i = 0; i < hs; i++) d += q[i] * kj[i];
        d *= scale;
        att[j] = d;
        if (d > mx) mx = d;
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < nk; j++) {
        float e = expf(att[j] - mx);
        att[j] = e;
        sum += e;
    }
    for (int64_t i = 0; i < hs; i++) o[i] = 0.0f;
    for (int64_t j = 0; j < nk; j++) {
        const float *vj = v + j * ks;
        const float p = att[j];
        for (int64_t i = 0; i < hs; i++) o[i] += p * vj[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < hs; i++) o[i] *= inv;
    return mx + logf(sum);
}

void slm_attention_forward_kv(float *out, float *lse, const float *q, const float *k,
                              const float *v, int64_t B, int64_t Tq, int64_t Tk,
                              int64_t kv_stride_t, int64_t NH, int64_t NKV, int64_t hs) {
    // out, q (B, Tq, NH, hs); k, v (B, kv_stride_t, NKV, hs) of which the
    // first Tk positions are used; lse (B, NH, Tq) or NULL.  Query t sits at
    // absolute position Tk - Tq + t and sees keys 0..Tk-Tq+t.
    SLM_ASSERT(NKV > 0 && NH % NKV == 0 && Tq <= Tk && Tk <= kv_stride_t);
    const int64_t group = NH / NKV, ks = NKV * hs, past = Tk - Tq;
    const float scale = 1.0f / sqrtf((float)hs);
    const int64_t rows = B * NH * Tq;
#pragma omp parallel
    {
        float *att = slm_alloc((size_t)(Tk > 0 ? Tk : 1) * sizeof(float));
        SLM_ASSERT(att != NULL);
        // (b, h, t) with t fastest: consecutive rows of a thread share a kv head.
        // Dynamic chunks balance the causal triangle.
#pragma omp for schedule(dynamic, 16)
        for (int64_t r = 0; r < rows; r++) {
            const int64_t t = r % Tq, h = (r / Tq) % NH, b = r / (Tq * NH);
            const int64_t hk = h / group;
            const float *qr = q + ((b * Tq + t) * NH + h) * hs;
            const float *kb = k + (b * kv_stride_t * NKV + hk) * hs;
            const float *vb = v + (b * kv_stride_t * NKV + hk) * hs;
            float *o = out + ((b * Tq + t) * NH + h) * hs;
            float l = attn_row(o, qr, kb, vb, ks, past + t + 1, hs, scale, att);
            if (lse) lse[(b * NH + h) * Tq + t] = l;
        }
        slm_free(att);
    }
}

void slm_attention_forward(float *out, float *lse, const float *q, const float *k,
                           const float *v, int64_t B, int64_t T, int64_t NH, int64_t NKV,
                           int64_t hs) {
    slm_attention_forward_kv(out, lse, q, k, v, B, T, T, T, NH, NKV, hs);
}

void slm_swiglu_forward(float *out, const float *gate, const float *up, int64_t N,
                        int64_t F) {
    // out (N, F) = silu(gate) * up, silu(x) = x / (1 + exp(-x)) (ggml_silu_f32)
    const int64_t n = N * F;
#pragma omp parallel for schedule(static) if (n > 16384)
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
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
        float mx = -INFINITY;
        for (int64_t i = 0; i < V; i++) mx = x[i] > mx ? x[i] : mx;
        double sum = 0.0;
        for (int64_t i = 0; i < V; i++) sum += (double)expf(x[i] - mx);
        const double lse = (double)mx + log(sum);
        rowloss[n] = lse - (double)x[targets[n]];
        if (dlogits) {
            float *d = dlogits + n * V;
            const int64_t tgt = targets[n];
            for (int64_t i = 0; i < V; i++) {
                float p = (float)exp((double)x[i] - lse);
                d[i] = (p - (i == tgt ? 1.0f : 0.0f)) * g;
            }
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
