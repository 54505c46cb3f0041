/* quantize/imatrix_collect.h — importance matrix from calibration tokens
 * (STYLE row 4): runs the Llama forward pass over chunks of ctx tokens and
 * sums, for every weight matrix, the squared input activation of each column
 * (the input of attn_q/k/v is the normed residual, of attn_output the
 * attention output, of ffn_gate/up the normed residual, of ffn_down the
 * SwiGLU output, of output the final normed state), as llama-imatrix does.
 * Saved with slm_imatrix_save (llama.cpp's GGUF imatrix format). */
#ifndef SLM_QUANTIZE_IMATRIX_COLLECT_H
#define SLM_QUANTIZE_IMATRIX_COLLECT_H

#include "model/llama.h"
#include "quantize/imatrix.h"

typedef struct slm_imatrix_stats slm_imatrix_stats; /* opaque accumulator */

slm_status slm_imatrix_stats_init(const slm_llama_weights *w, slm_imatrix_stats **out);
void slm_imatrix_stats_free(slm_imatrix_stats *s);
/* Also sum x x^T per distinct input (attn_q, attn_output, ffn_gate,
 * ffn_down, output): the entries' cov for slm_hessian_save. */
slm_status slm_imatrix_stats_enable_cov(slm_imatrix_stats *s);
/* Sensitivity matrix of token_embd's columns (M: n_embd x n_embd, needs
 * enable_cov before the chunks), playing the role of the input second
 * moments for error feedback: an error e in a token's embedding enters the
 * residual stream and reaches every later matrix W through its RMSNorm
 * (gain g), changing W's output by W diag(g) e / rms, so
 *   M = sum over the norms of E[1/rms^2] diag(g) W^T W diag(g)
 * (attn_norm -> q, k, v; ffn_norm -> gate, up; output_norm -> output), and
 * e^T M e is the first-order squared change of all those outputs. */
slm_status slm_imatrix_stats_embd_cov(const slm_imatrix_stats *s, double *M);
/* One chunk: tokens (T), positions 0..T-1, causal.  Accumulates. */
slm_status slm_imatrix_stats_add(slm_imatrix_stats *s, const int32_t *tokens, int64_t T);
/* The accumulated entries (borrowed, valid until free). */
const slm_imatrix_acc *slm_imatrix_stats_entries(const slm_imatrix_stats *s, int64_t *n);

#endif
