/* core/ops_ref.c — naive forward twins of core/ops.c (see core/ops_ref.h).
 * Written straight from the formulas, in double where a sum is long; no
 * threads, no BLAS, no tiling. */
#include "core/ops_ref.h"

#include <math.h>
#include <string.h>

void slm_embedding_forward_ref(float *out, const int32_t *tokens, const float *table,
                               int64_t N, int64_t C) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < C; i++) out[n * C + i] = table[(int64_t)tokens[n] * C + i];
}

void slm_rmsnorm_forward_ref(float *out, float *rstd, const float *inp, const float *w,
                             int64_t N, int64_t C, float eps) {
    // y = x / sqrt(mean(x^2) + eps) * w  (Zhang & Sennrich 2019)
    for (int64_t n = 0; n < N; n++) {
        double ss = 0;
        for (int64_t i = 0; i < C; i++) ss += (double)inp[n * C + i] * inp[n * C + i];
        double s = 1.0 / sqrt(ss / (double)C + eps);
        for (int64_t i = 0; i < C; i++) out[n * C + i] = (float)(inp[n * C + i] * s * w[i]);
        if (rstd) rstd[n] = (float)s;
    }
}

void slm_matmul_forward_ref(float *out, const float *inp, const float *w, int64_t N,
                            int64_t IC, int64_t OC, float beta) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < OC; o++) {
            double acc = 0;
            for (int64_t i = 0; i < IC; i++) acc += (double)inp[n * IC + i] * w[o * IC + i];
            float prev = beta != 0.0f ? beta * out[n * OC + o] : 0.0f;
            out[n * OC + o] = (float)acc + prev;
        }
}

void slm_rope_forward_ref(float *x, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                          float base) {
    // RoFormer (Su et al. 2021) eq. 34, adjacent pairs as llama.cpp's normal mode
    for (int64_t n = 0; n < N; n++)
        for (int64_t h = 0; h < NH; h++)
            for (int64_t i = 0; i < hs / 2; i++) {
                float *v = x + (n * NH + h) * hs + 2 * i;
                double th = pos[n] * pow(base, -2.0 * i / (double)hs);
                double x0 = v[0], x1 = v[1];
                v[0] = (float)(x0 * cos(th) - x1 * sin(th));
                v[1] = (float)(x0 * sin(th) + x1 * cos(th));
            }
}

void slm_attention_forward_kv_ref(float *out, float *lse, const float *q, const float *k,
                                  const float *v, int64_t B, int64_t Tq, int64_t Tk,
                                  int64_t kv_stride_t, int64_t NH, int64_t NKV, int64_t hs) {
    // softmax(q k^T / sqrt(hs) + causal mask) v  (Vaswani et al. 2017, eq. 1)
    double *s = slm_alloc((size_t)(Tq * Tk + 1) * sizeof(double));
    SLM_ASSERT(s != NULL);
    const int64_t past = Tk - Tq;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++) {
            const int64_t hk = h / (NH / NKV);
            for (int64_t t = 0; t < Tq; t++)
                for (int64_t j = 0; j < Tk; j++) {
                    double d = 0;
                    for (int64_t i = 0; i < hs; i++)
                        d += (double)q[((b * Tq + t) * NH + h) * hs + i] *
                             k[((b * kv_stride_t + j) * NKV + hk) * hs + i];
                    s[t * Tk + j] = j <= past + t ? d / sqrt((double)hs) : -INFINITY;
                }
            for (int64_t t = 0; t < Tq; t++) {
                double *row = s + t * Tk, mx = -INFINITY, sum = 0;
                for (int64_t j = 0; j < Tk; j++) mx = fmax(mx, row[j]);
                for (int64_t j = 0; j < Tk; j++) sum += row[j] = exp(row[j] - mx);
                if (lse) lse[(b * NH + h) * Tq + t] = (float)(mx + log(sum));
                for (int64_t i = 0; i < hs; i++) {
                    double acc = 0;
                    for (int64_t j = 0; j < Tk; j++)
                        acc += row[j] / sum * v[((b * kv_stride_t + j) * NKV + hk) * hs + i];
                    out[((b * Tq + t) * NH + h) * hs + i] = (float)acc;
                }
            }
        }
    slm_free(s);
}

void slm_attention_forward_ref(float *out, float *lse, const float *q, const float *k,
                               const float *v, int64_t B, int64_t T, int64_t NH,
                               int64_t NKV, int64_t hs) {
    slm_attention_forward_kv_ref(out, lse, q, k, v, B, T, T, T, NH, NKV, hs);
}

void slm_swiglu_forward_ref(float *out, const float *gate, const float *up, int64_t N,
                            int64_t F) {
    // Shazeer 2020, "GLU variants": silu(g) * u, silu(g) = g * sigmoid(g)
    for (int64_t i = 0; i < N * F; i++) {
        double g = gate[i];
        out[i] = (float)(g / (1.0 + exp(-g)) * up[i]);
    }
}

double slm_cross_entropy_forward_backward_ref(float *dlogits, float *losses,
                                              const float *logits, const int32_t *targets,
                                              const uint8_t *mask, int64_t N, int64_t V,
                                              float grad_scale) {
    int64_t cnt = 0;
    for (int64_t n = 0; n < N; n++) cnt += (!mask || mask[n]) && targets[n] >= 0;
    double total = 0;
    for (int64_t n = 0; n < N; n++) {
        const float *x = logits + n * V;
        bool on = (!mask || mask[n]) && targets[n] >= 0;
        double mx = -INFINITY, sum = 0;
        for (int64_t i = 0; i < V; i++) mx = fmax(mx, x[i]);
        for (int64_t i = 0; i < V; i++) sum += exp(x[i] - mx);
        double lse = mx + log(sum);
        double l = on ? lse - x[targets[n]] : 0.0;
        total += l;
        if (losses) losses[n] = (float)l;
        if (dlogits) {
            int32_t tgt = on ? targets[n] : -1;
            for (int64_t i = 0; i < V; i++) {
                double p = exp(x[i] - lse) - (i == tgt);
                dlogits[n * V + i] = on ? (float)(p * grad_scale / (double)cnt) : 0.0f;
            }
        }
    }
    return cnt ? total / (double)cnt : 0.0;
}

void slm_add_inplace_ref(float *out, const float *a, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] += a[i];
}
