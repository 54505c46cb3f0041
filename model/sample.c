/* model/sample.c — see model/sample.h. */
#include "model/sample.h"

#include <math.h>
#include <stdlib.h>

struct slm_sampler {
    slm_sampler_params p;
    int64_t V;
    int32_t *idx; /* (V) candidates */
    float *prob;  /* (V) */
};

slm_sampler_params slm_sampler_default_params(void) {
    slm_sampler_params p = {.temp = 0.8f, .top_k = 40, .top_p = 0.95f};
    return p;
}

slm_status slm_sampler_init(int64_t V, const slm_sampler_params *p, slm_sampler **out) {
    *out = NULL;
    slm_sampler *s = slm_calloc(1, sizeof *s);
    if (!s) return SLM_ERR_NOMEM;
    s->p = *p;
    s->V = V;
    s->idx = slm_alloc((size_t)V * sizeof(int32_t));
    s->prob = slm_alloc((size_t)V * sizeof(float));
    if (!s->idx || !s->prob) {
        slm_sampler_free(s);
        return SLM_ERR_NOMEM;
    }
    *out = s;
    return SLM_OK;
}

void slm_sampler_free(slm_sampler *s) {
    if (!s) return;
    slm_free(s->idx);
    slm_free(s->prob);
    slm_free(s);
}

int32_t slm_argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return (int32_t)best;
}

static int cmp_desc(const void *a, const void *b, void *ctx) {
    const float *lg = ctx;
    float x = lg[*(const int32_t *)a], y = lg[*(const int32_t *)b];
    if (x != y) return x > y ? -1 : 1;
    return *(const int32_t *)a - *(const int32_t *)b; /* ties: lower id first */
}

int32_t slm_sampler_sample(slm_sampler *s, const float *logits, slm_rng *rng) {
    const int64_t V = s->V;
    if (s->p.temp <= 0.0f) return slm_argmax(logits, V);
    /* candidates sorted by logit, descending */
    for (int64_t i = 0; i < V; i++) s->idx[i] = (int32_t)i;
    qsort_r(s->idx, (size_t)V, sizeof(int32_t), cmp_desc, (void *)logits);
    int64_t n = V;
    if (s->p.top_k > 0 && s->p.top_k < n) n = s->p.top_k;
    /* top-p on the untempered softmax of the top-k candidates */
    const float mx = logits[s->idx[0]];
    if (s->p.top_p < 1.0f) {
        double sum = 0;
        for (int64_t i = 0; i < n; i++) sum += s->prob[i] = expf(logits[s->idx[i]] - mx);
        double cum = 0;
        for (int64_t i = 0; i < n; i++) {
            cum += s->prob[i] / sum;
            if (cum >= s->p.top_p) {
                n = i + 1;
                break;
            }
        }
    }
    /* temperature, then a draw */
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += s->prob[i] = expf((logits[s->idx[i]] - mx) / s->p.temp);
    double r = (double)slm_rng_uniform(rng) * sum, cum = 0;
    for (int64_t i = 0; i < n; i++) {
        cum += s->prob[i];
        if (r < cum) return s->idx[i];
    }
    return s->idx[n - 1];
}
