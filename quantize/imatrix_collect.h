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
/* One chunk: tokens (T), positions 0..T-1, causal.  Accumulates. */
slm_status slm_imatrix_stats_add(slm_imatrix_stats *s, const int32_t *tokens, int64_t T);
/* The accumulated entries (borrowed, valid until free). */
const slm_imatrix_acc *slm_imatrix_stats_entries(const slm_imatrix_stats *s, int64_t *n);

#endif
