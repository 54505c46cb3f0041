/* core/ops.h — forward and backward kernels on raw float arrays (STYLE row 2).
 *
 * Conventions (STYLE rules 3-8): row-major, dim 0 (the last index written)
 * contiguous; N = B*T rows; shapes in comments.  Forward kernels write their
 * outputs (=); backward kernels ACCUMULATE into every gradient (+=), zeroing
 * is the caller's job.  Every kernel has a naive *_ref twin in ops_ref.c used
 * as the test oracle.  Matrix products go to cblas_sgemm and must not be
 * called from inside an OpenMP parallel region; everything else is an OpenMP
 * loop over an index that no two threads write to.  Reductions that feed a
 * compared value go through per-thread partials combined in fixed order.
 *
 * Weights follow GGUF: a weight with ne = [IC, OC] is row-major (OC, IC) and
 * y = W x.  Attention layout: q (B, T, NH, hs), k/v (B, T, NKV, hs), head
 * h of q reads kv head h / (NH / NKV) (grouped-query attention).  RoPE is
 * llama.cpp's normal mode: pairs (x[2i], x[2i+1]) rotate by pos * base^(-2i/hs).
 */
#ifndef SLM_CORE_OPS_H
#define SLM_CORE_OPS_H

#include "core/base.h"

/* out (N, C) = table[tokens[n]] ; table (V, C) */
void slm_embedding_forward(float *out, const int32_t *tokens, const float *table,
                           int64_t N, int64_t C);
/* dtable (V, C) += scatter of dout (N, C) by tokens (sequential over n: deterministic) */
void slm_embedding_backward(float *dtable, const float *dout, const int32_t *tokens,
                            int64_t N, int64_t C);

/* out (N, C) = inp * rstd * w ; rstd (N) saved for backward (may be NULL) */
void slm_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w,
                         int64_t N, int64_t C, float eps);
/* dinp (N, C) +=, dw (C) += (dw may be NULL when frozen) */
void slm_rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                          const float *w, const float *rstd, int64_t N, int64_t C);

/* out (N, OC) = inp (N, IC) @ w (OC, IC)^T ; beta 0 overwrites, 1 accumulates */
void slm_matmul_forward(float *out, const float *inp, const float *w, int64_t N,
                        int64_t IC, int64_t OC, float beta);
/* dinp (N, IC) += dout @ w ; dw (OC, IC) += dout^T @ inp ; either may be NULL */
void slm_matmul_backward(float *dinp, float *dw, const float *dout, const float *inp,
                         const float *w, int64_t N, int64_t IC, int64_t OC);

/* In place on x (N, NH, hs) with positions pos (N). */
void slm_rope_forward(float *x, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                      float base);
/* In place: dx (N, NH, hs) becomes the gradient w.r.t. the un-rotated input. */
void slm_rope_backward(float *dx, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                       float base);

/* Causal self-attention with GQA over a batch of independent sequences:
 * out (B, T, NH, hs) = softmax(q k^T / sqrt(hs), causal) v ;
 * lse (B, NH, T) = log-sum-exp of each score row, saved for the backward,
 * which recomputes the probabilities (no (T, T) matrix kept). */
void slm_attention_forward(float *out, float *lse, const float *q, const float *k,
                           const float *v, int64_t B, int64_t T, int64_t NH, int64_t NKV,
                           int64_t hs);
/* Generalisation used by the KV cache (incremental decoding): Tq queries
 * q (B, Tq, NH, hs) at absolute positions Tk-Tq .. Tk-1 attend causally to
 * the first Tk rows of k, v (B, kv_stride_t, NKV, hs); out (B, Tq, NH, hs),
 * lse (B, NH, Tq) or NULL.  slm_attention_forward is the case Tq = Tk =
 * kv_stride_t = T. */
void slm_attention_forward_kv(float *out, float *lse, const float *q, const float *k,
                              const float *v, int64_t B, int64_t Tq, int64_t Tk,
                              int64_t kv_stride_t, int64_t NH, int64_t NKV, int64_t hs);
/* dq (B,T,NH,hs) +=, dk, dv (B,T,NKV,hs) += */
void slm_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                            const float *q, const float *k, const float *v,
                            const float *out, const float *lse, int64_t B, int64_t T,
                            int64_t NH, int64_t NKV, int64_t hs);

/* out (N, F) = silu(gate) * up */
void slm_swiglu_forward(float *out, const float *gate, const float *up, int64_t N,
                        int64_t F);
/* dgate, dup (N, F) += */
void slm_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                         const float *up, int64_t N, int64_t F);

/* Fused cross-entropy over the vocabulary.  logits (N, V), targets (N),
 * mask (N) (NULL = all ones).  losses (N) = -log softmax(logits)[target]
 * (0 where masked).  Returns the mean over unmasked rows (double, fixed-order
 * sum; a negative target counts as masked).  If dlogits != NULL it receives (=, not +=) d(mean loss)/dlogits
 * scaled by grad_scale (e.g. 1/accumulation steps), 0 in masked rows;
 * dlogits may alias logits. */
double slm_cross_entropy_forward_backward(float *dlogits, float *losses,
                                          const float *logits, const int32_t *targets,
                                          const uint8_t *mask, int64_t N, int64_t V,
                                          float grad_scale);

/* out (N) += a (N) ; plain vector helpers, OpenMP */
void slm_add_inplace(float *out, const float *a, int64_t n);

#endif
