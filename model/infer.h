/* model/infer.h — the Llama forward pass for inference: a [B, T] block of
 * tokens -> logits at every position or at the last one, with all
 * activations in one workspace allocated at init, and optionally a KV cache
 * so that successive calls continue the same B sequences (generation).
 *
 *   slm_llama_infer_params p = {.B = 1, .T_max = 256, .n_kv = 0};
 *   slm_llama_infer *s;
 *   st = slm_llama_infer_init(&weights, &p, &s);
 *   const float *logits = slm_llama_infer_forward(s, tokens, T, SLM_LOGITS_ALL); // (B, T, V)
 *   slm_llama_infer_free(s);
 *
 * With n_kv > 0 each call appends T tokens per sequence at positions
 * n_past .. n_past+T-1 (n_past + T <= n_kv); slm_llama_infer_reset() starts over.
 * Without a cache each call is an independent block at positions 0..T-1.
 */
#ifndef SLM_MODEL_INFER_H
#define SLM_MODEL_INFER_H

#include "model/llama.h"

typedef enum {
    SLM_LOGITS_LAST = 0, /* (B, V): the last position of each sequence */
    SLM_LOGITS_ALL,      /* (B, T, V) */
    SLM_LOGITS_COUNT
} slm_logits_mode;

typedef struct {
    int64_t B;       /* sequences per call */
    int64_t T_max;   /* tokens per sequence per call, at most */
    int64_t n_kv;    /* KV cache positions per sequence; 0 = no cache */
    bool all_logits; /* reserve room for SLM_LOGITS_ALL */
} slm_llama_infer_params;

typedef struct slm_llama_infer slm_llama_infer;

slm_llama_infer_params slm_llama_infer_default_params(void);
/* w is borrowed and must outlive s. */
slm_status slm_llama_infer_init(const slm_llama_weights *w, const slm_llama_infer_params *p,
                                slm_llama_infer **out);
void slm_llama_infer_free(slm_llama_infer *s);
/* tokens (B, T), 1 <= T <= T_max, ids in [0, V).  Returns the logits, valid
 * until the next call.  No allocation. */
const float *slm_llama_infer_forward(slm_llama_infer *s, const int32_t *tokens, int64_t T,
                                     slm_logits_mode mode);
void slm_llama_infer_reset(slm_llama_infer *s);
int64_t slm_llama_infer_n_past(const slm_llama_infer *s);

#endif
