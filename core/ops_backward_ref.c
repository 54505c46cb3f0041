/* core/ops_backward_ref.c — naive twins of the backward kernels (STYLE rule
 * 5): single-threaded loops, no BLAS, double accumulators, the full (T, T)
 * probability matrix per head.  The oracle of tests/unit/test_ops_grad.c for
 * training-size shapes, where finite differences can only sample. */
#include <math.h>
#include <stdlib.h>

#include "core/ops_ref.h"

void slm_embedding_backward_ref(float *dtable, const float *dout, const int32_t *tokens,
                                int64_t N, int64_t C) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < C; j++) dtable[(int64_t)tokens[n] * C + j] += dout[n * C + j];
}

void slm_rmsnorm_backward_ref(float *dinp, float *dw, const float *dout, const float *inp,
                              const float *w, const float *rstd, int64_t N, int64_t C) {
    for (int64_t n = 0; n < N; n++) {
        const float *x = inp + n * C, *d = dout + n * C;
        const double r = rstd[n];
        double dot = 0;
        for (int64_t j = 0; j < C; j++) dot += (double)w[j] * d[j] * x[j];
        for (int64_t i = 0; i < C; i++) {
            dinp[n * C + i] += (float)(r * w[i] * d[i] - r * r * r / (double)C * x[i] * dot);
            if (dw) dw[i] += (float)((double)d[i] * x[i] * r);
        }
    }
}

void slm_matmul_backward_ref(float *dinp, float *dw, const float *dout, const float *inp,
                             const float *w, int64_t N, int64_t IC, int64_t OC) {
    if (dinp)
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < IC; i++) {
                double s = 0;
                for (int64_t o = 0; o < OC; o++) s += (double)dout[n * OC + o] * w[o * IC + i];
                dinp[n * IC + i] += (float)s;
            }
    if (dw)
        for (int64_t o = 0; o < OC; o++)
            for (int64_t i = 0; i < IC; i++) {
                double s = 0;
                for (int64_t n = 0; n < N; n++) s += (double)dout[n * OC + o] * inp[n * IC + i];
                dw[o * IC + i] += (float)s;
            }
}

void slm_rope_backward_ref(float *dx, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                           float base) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t h = 0; h < NH; h++)
            for (int64_t i = 0; i < hs / 2; i++) {
                const double th = (double)pos[n] * pow((double)base, -2.0 * (double)i / (double)hs);
                float *d = dx + (n * NH + h) * hs + 2 * i;
                const double d0 = d[0], d1 = d[1];
                d[0] = (float)(d0 * cos(th) + d1 * sin(th));
                d[1] = (float)(-d0 * sin(th) + d1 * cos(th));
            }
}

void slm_attention_backward_ref(float *dq, float *dk, float *dv, const float *dout,
                                const float *q, const float *k, const float *v,
                                const float *out, const float *lse, int64_t B, int64_t T,
                                int64_t NH, int64_t NKV, int64_t hs) {
    (void)out;
    const int64_t G = NH / NKV;
    const double sc = 1.0 / sqrt((double)hs);
    double *P = malloc((size_t)(T * T) * sizeof(double)), *dS = malloc((size_t)(T * T) * sizeof(double));
    if (!P || !dS) abort();
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++) {
            const int64_t g = h / G;
#define QV(t) (q + ((b * T + (t)) * NH + h) * hs)
#define DO(t) (dout + ((b * T + (t)) * NH + h) * hs)
#define KV(a, t) (a + ((b * T + (t)) * NKV + g) * hs)
            for (int64_t t = 0; t < T; t++) {
                double rowsum = 0; /* sum_s P dP */
                for (int64_t s = 0; s < T; s++) {
                    P[t * T + s] = dS[t * T + s] = 0;
                    if (s > t) continue;
                    double qk = 0, dp = 0;
                    for (int64_t j = 0; j < hs; j++) {
                        qk += (double)QV(t)[j] * KV(k, s)[j];
                        dp += (double)DO(t)[j] * KV(v, s)[j];
                    }
                    P[t * T + s] = exp(qk * sc - lse[(b * NH + h) * T + t]);
                    dS[t * T + s] = dp;
                    rowsum += P[t * T + s] * dp;
                }
                for (int64_t s = 0; s <= t; s++) dS[t * T + s] = P[t * T + s] * (dS[t * T + s] - rowsum);
            }
            for (int64_t t = 0; t < T; t++)
                for (int64_t j = 0; j < hs; j++) {
                    double aq = 0, ak = 0, av = 0;
                    for (int64_t s = 0; s < T; s++) {
                        aq += dS[t * T + s] * KV(k, s)[j];
                        ak += dS[s * T + t] * QV(s)[j];
                        av += P[s * T + t] * DO(s)[j];
                    }
                    dq[((b * T + t) * NH + h) * hs + j] += (float)(aq * sc);
                    KV(dk, t)[j] += (float)(ak * sc);
                    KV(dv, t)[j] += (float)av;
                }
#undef QV
#undef DO
#undef KV
        }
    free(P);
    free(dS);
}

void slm_swiglu_backward_ref(float *dgate, float *dup, const float *dout, const float *gate,
                             const float *up, int64_t N, int64_t F) {
    for (int64_t i = 0; i < N * F; i++) {
        const double g = gate[i], s = 1.0 / (1.0 + exp(-g));
        dgate[i] += (float)(dout[i] * up[i] * s * (1.0 + g * (1.0 - s)));
        dup[i] += (float)(dout[i] * g * s);
    }
}
