/* quantize/gptq.h — error-feedback quantization of a weight matrix from the
 * covariance of its inputs (the GPTQ method, Frantar et al. 2022), written
 * for ggml's block formats so that the output stays compatible.
 *
 * For a weight W (rows x n) whose input activations x have second moment
 * H = E[x x^T] (n x n), the output error of a quantized row q is
 * (w - q)^T H (w - q).  Columns are quantized left to right; after column i
 * the remaining columns of the row absorb its rounding error through the
 * upper Cholesky factor U of H^-1 (H^-1 = U^T U):
 *     e = (w_i - q_i) / U_ii,   w_j -= e * U_ij  for j > i,
 * which minimises the output error of the row given the columns already
 * fixed.  ggml's block parameters (d, dmin, sub-block scales and mins) are
 * chosen per block (256 columns for K types, 32 for the others) by slm's
 * usual importance-weighted search (plus the least-squares refinement with
 * --refine) on the row as updated so far;
 * the levels inside the block then come from the error-feedback pass.
 * Updates across blocks are applied per row, 64 columns at a time, in
 * a fixed order (the bytes do not depend on the thread count).
 *
 * H is dampened by `damp` x mean(diag H) on the diagonal (more if the
 * Cholesky factorisation fails); columns with H_ii = 0 (never activated)
 * are quantized as zeros.  Rows are independent (OpenMP over rows).
 */
#ifndef SLM_QUANTIZE_GPTQ_H
#define SLM_QUANTIZE_GPTQ_H

#include "quantize/quant_refine.h"

typedef struct slm_gptq slm_gptq; /* the factor U for one H */

/* True for the types slm_gptq_rows handles: Q2_K..Q6_K (block parameters
 * per 256 columns) and Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (per 32). */
bool slm_gptq_supports(slm_type t);

/* H (n x n, row-major, symmetric, any positive scale: only its direction
 * matters) -> factor.  SLM_ERR_FORMAT if H is not finite or cannot be made
 * positive definite. */
slm_status slm_gptq_new(const float *H, int64_t n, double damp, slm_gptq **out);
void slm_gptq_free(slm_gptq *g);
int64_t slm_gptq_n(const slm_gptq *g);

/* Quantizes rows x n values W (row-major, overwritten: used as scratch) to
 * type t into dst (rows * slm_quant_row_bytes(t, n) bytes).  imat (n) are
 * the weights of the block-parameter search (NULL: diag H). */
slm_status slm_gptq_rows(const slm_gptq *g, slm_type t, float *W, int64_t rows, const float *imat,
                         bool refine, void *dst);

#endif
