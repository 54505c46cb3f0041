/* model/kvcache.c — see model/kvcache.h. */
#include "model/kvcache.h"

#include <string.h>

slm_status slm_kvcache_init(slm_kvcache *c, int64_t L, int64_t B, int64_t n_ctx, int64_t NKV,
                            int64_t hs) {
    memset(c, 0, sizeof *c);
    size_t n, bytes;
    if (!slm_mul_size((size_t)(L * B), (size_t)(n_ctx * NKV * hs), &n) ||
        !slm_mul_size(n, sizeof(float), &bytes))
        return SLM_ERR_NOMEM;
    c->k = slm_alloc_aligned(bytes);
    c->v = slm_alloc_aligned(bytes);
    if (!c->k || !c->v) {
        slm_kvcache_free(c);
        return SLM_ERR_NOMEM;
    }
    c->L = L, c->B = B, c->n_ctx = n_ctx, c->NKV = NKV, c->hs = hs;
    return SLM_OK;
}

void slm_kvcache_free(slm_kvcache *c) {
    if (!c) return;
    slm_free(c->k);
    slm_free(c->v);
    memset(c, 0, sizeof *c);
}

float *slm_kvcache_k(const slm_kvcache *c, int64_t l) {
    return c->k + l * c->B * c->n_ctx * c->NKV * c->hs;
}

float *slm_kvcache_v(const slm_kvcache *c, int64_t l) {
    return c->v + l * c->B * c->n_ctx * c->NKV * c->hs;
}

void slm_kvcache_store(slm_kvcache *c, int64_t l, const float *k, const float *v, int64_t T) {
    SLM_ASSERT(l >= 0 && l < c->L && c->n_past + T <= c->n_ctx);
    const int64_t row = c->NKV * c->hs;
    float *kc = slm_kvcache_k(c, l), *vc = slm_kvcache_v(c, l);
    for (int64_t b = 0; b < c->B; b++) {
        memcpy(kc + (b * c->n_ctx + c->n_past) * row, k + b * T * row, (size_t)(T * row) * sizeof(float));
        memcpy(vc + (b * c->n_ctx + c->n_past) * row, v + b * T * row, (size_t)(T * row) * sizeof(float));
    }
}
