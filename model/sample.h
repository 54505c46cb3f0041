/* model/sample.h — choosing the next token from logits: greedy (temp <= 0),
 * or top-k, then top-p (nucleus, on the temperature-1 distribution), then
 * temperature, then a draw from a seeded slm_rng — the order of llama.cpp's
 * default sampler chain (top_k, top_p, temp, dist).
 *
 *   slm_sampler *sm;
 *   st = slm_sampler_init(V, &p, &sm);
 *   int32_t id = slm_sampler_sample(sm, logits, &rng);
 *   slm_sampler_free(sm);
 */
#ifndef SLM_MODEL_SAMPLE_H
#define SLM_MODEL_SAMPLE_H

#include "core/base.h"

typedef struct {
    float temp;    /* <= 0: greedy (first arg-max) */
    int64_t top_k; /* <= 0: off */
    float top_p;   /* >= 1: off */
} slm_sampler_params;

typedef struct slm_sampler slm_sampler;

slm_sampler_params slm_sampler_default_params(void); /* temp 0.8, top_k 40, top_p 0.95 */
slm_status slm_sampler_init(int64_t V, const slm_sampler_params *p, slm_sampler **out);
void slm_sampler_free(slm_sampler *s);
/* logits (V) -> token id.  rng is only used when temp > 0. */
int32_t slm_sampler_sample(slm_sampler *s, const float *logits, slm_rng *rng);
/* First index of the maximum of x (n). */
int32_t slm_argmax(const float *x, int64_t n);

#endif
