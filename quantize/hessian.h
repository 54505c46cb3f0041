/* quantize/hessian.h — second moments of the inputs of every weight matrix
 * (x x^T summed over calibration tokens), for `slm quantize --hessian`
 * (error-feedback quantization, quantize/gptq.h).
 *
 * File: GGUF written by `slm imatrix --hessian FILE`,
 *   general.type = "slm.hessian"; for each distinct input a tensor
 *   "W.in_cov" F32 [n, n] (sum over tokens of x x^T) and "W.counts" F32
 *   [1, 1] (tokens), where W is the first weight reading that input:
 *   blk.N.attn_q.weight (q, k and v share it), blk.N.attn_output.weight,
 *   blk.N.ffn_gate.weight (gate and up), blk.N.ffn_down.weight and
 *   output.weight.  slm_hessian_find maps k, v and up to their sibling.
 *   For an untied token_embd (no input activations), "token_embd.weight.in_cov"
 *   holds its sensitivity matrix instead (slm_imatrix_stats_embd_cov), counts 1.
 *   A 110M model (dim 768, ffn 2048) gives ~290 MB; the diagonal is the
 *   imatrix's in_sum2.
 */
#ifndef SLM_QUANTIZE_HESSIAN_H
#define SLM_QUANTIZE_HESSIAN_H

#include "core/base.h"
#include "quantize/imatrix.h"

typedef struct slm_hessian slm_hessian; /* opaque; keeps the file mapped */

/* Reads and validates (F32 square tensors, counts > 0, finite). */
slm_status slm_hessian_load(const char *path, slm_hessian **out);
void slm_hessian_free(slm_hessian *h);
/* The n x n sum for weight name (siblings mapped) or NULL.  Its scale (the
 * token count) does not matter to error feedback. */
const float *slm_hessian_find(const slm_hessian *h, const char *weight, int64_t *n);

/* Writes the entries of acc that have a cov (n x n doubles). */
slm_status slm_hessian_save(const char *path, const slm_imatrix_acc *acc, int64_t n_acc);

#endif
