/* quantize/quant_refine.h — slm's quantizers: ggml's search followed by a
 * format-compatible least-squares refinement, plus the row-parallel driver.
 *
 * Refinement (K types always, 32-element types only with an importance
 * matrix, so that Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 stay bit-identical to ggml
 * without one): starting from ggml's block, alternate
 *   (a) per sub-block: least-squares scale (and min) for the current levels,
 *       rounded to the 4/6/8-bit grid, neighbours tried, levels re-rounded;
 *   (b) per super-block: least-squares d and dmin for the current integer
 *       scales and levels, rounded to half precision, levels re-rounded;
 * and keep a change only if the block's error decreases.  The error is
 *   sum_i w_i (x_i - dequant_i)^2,  w_i = imatrix_i (1 without imatrix),
 * evaluated with the exact float expression of the dequantizer, so the
 * result's error is never above ggml's on any block.
 */
#ifndef SLM_QUANTIZE_QUANT_REFINE_H
#define SLM_QUANTIZE_QUANT_REFINE_H

#include "quantize/quants.h"

typedef struct {
    const float *imatrix; /* (n_per_row) importance of each column, or NULL */
    bool refine;          /* least-squares refinement after ggml's search */
} slm_quant_opts;

slm_quant_opts slm_quant_default_opts(void); /* imatrix NULL, refine true */

/* One row x (n) -> y (slm_quant_row_bytes(t, n) bytes).  t is F32, F16,
 * BF16 or a quantizable block type; n a multiple of its block size. */
void slm_quantize_row(slm_type t, const float *x, void *y, int64_t n, const slm_quant_opts *o);

/* nrows rows (OpenMP over rows); returns the bytes written. */
size_t slm_quantize_rows(slm_type t, const float *src, void *dst, int64_t nrows,
                         int64_t n_per_row, const slm_quant_opts *o);

/* sum_i w_i (x_i - dequant(y)_i)^2 over one row (w NULL: 1), in double. */
double slm_quant_row_sqerr(slm_type t, const float *x, const void *y, int64_t n, const float *w);

#endif
