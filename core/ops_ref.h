/* core/ops_ref.h — naive, obviously-correct twins of the kernels in
 * core/ops.h (STYLE rule 5): single-threaded, no BLAS, double accumulators
 * where a sum is long.  They are the oracle of tests/unit/test_ops_*.c and
 * never used on a hot path.  Signatures equal those of ops.h with a _ref
 * suffix.  (Backward twins are declared in the second section, by the owner
 * of core/ops_backward.c.) */
#ifndef SLM_CORE_OPS_REF_H
#define SLM_CORE_OPS_REF_H

#include "core/base.h"

/* ---- forward ---- */
void slm_embedding_forward_ref(float *out, const int32_t *tokens, const float *table,
                               int64_t N, int64_t C);
void slm_rmsnorm_forward_ref(float *out, float *rstd, const float *inp, const float *w,
                             int64_t N, int64_t C, float eps);
void slm_matmul_forward_ref(float *out, const float *inp, const float *w, int64_t N,
                            int64_t IC, int64_t OC, float beta);
void slm_rope_forward_ref(float *x, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                          float base);
/* Materialises the full (T, T) score matrix per head, masks it, softmaxes it. */
void slm_attention_forward_ref(float *out, float *lse, const float *q, const float *k,
                               const float *v, int64_t B, int64_t T, int64_t NH,
                               int64_t NKV, int64_t hs);
void slm_attention_forward_kv_ref(float *out, float *lse, const float *q, const float *k,
                                  const float *v, int64_t B, int64_t Tq, int64_t Tk,
                                  int64_t kv_stride_t, int64_t NH, int64_t NKV, int64_t hs);
void slm_swiglu_forward_ref(float *out, const float *gate, const float *up, int64_t N,
                            int64_t F);
double slm_cross_entropy_forward_backward_ref(float *dlogits, float *losses,
                                              const float *logits, const int32_t *targets,
                                              const uint8_t *mask, int64_t N, int64_t V,
                                              float grad_scale);
void slm_add_inplace_ref(float *out, const float *a, int64_t n);

/* ---- backward (core/ops_backward_ref.c) ---- */
void slm_embedding_backward_ref(float *dtable, const float *dout, const int32_t *tokens,
                                int64_t N, int64_t C);
void slm_rmsnorm_backward_ref(float *dinp, float *dw, const float *dout, const float *inp,
                              const float *w, const float *rstd, int64_t N, int64_t C);
void slm_matmul_backward_ref(float *dinp, float *dw, const float *dout, const float *inp,
                             const float *w, int64_t N, int64_t IC, int64_t OC);
void slm_rope_backward_ref(float *dx, const int32_t *pos, int64_t N, int64_t NH, int64_t hs,
                           float base);
/* Recomputes the full (T, T) probabilities per head from lse, in double. */
void slm_attention_backward_ref(float *dq, float *dk, float *dv, const float *dout,
                                const float *q, const float *k, const float *v,
                                const float *out, const float *lse, int64_t B, int64_t T,
                                int64_t NH, int64_t NKV, int64_t hs);
void slm_swiglu_backward_ref(float *dgate, float *dup, const float *dout, const float *gate,
                             const float *up, int64_t N, int64_t F);

#endif
