/* model/kvcache.h — the key/value cache of incremental decoding: per layer
 * the rotated keys and the values of every position seen so far, for B
 * sequences that advance together.
 *
 *   slm_kvcache kv;
 *   st = slm_kvcache_init(&kv, L, B, n_ctx, NKV, hs);
 *   per layer l: slm_kvcache_store(&kv, l, k, v, T);   // k, v (B, T, NKV, hs)
 *   after the last layer: kv.n_past += T;
 *   slm_kvcache_free(&kv);
 */
#ifndef SLM_MODEL_KVCACHE_H
#define SLM_MODEL_KVCACHE_H

#include "core/base.h"

typedef struct {
    float *k;       /* (L, B, n_ctx, NKV, hs), owned */
    float *v;       /* (L, B, n_ctx, NKV, hs), owned */
    int64_t L, B, n_ctx, NKV, hs;
    int64_t n_past; /* positions 0..n_past-1 are filled */
} slm_kvcache;

slm_status slm_kvcache_init(slm_kvcache *c, int64_t L, int64_t B, int64_t n_ctx, int64_t NKV,
                            int64_t hs);
void slm_kvcache_free(slm_kvcache *c); /* accepts a zeroed struct */
/* Layer l's cache, (B, n_ctx, NKV, hs). */
float *slm_kvcache_k(const slm_kvcache *c, int64_t l);
float *slm_kvcache_v(const slm_kvcache *c, int64_t l);
/* Copies k, v (B, T, NKV, hs) into positions n_past..n_past+T-1 of layer l. */
void slm_kvcache_store(slm_kvcache *c, int64_t l, const float *k, const float *v, int64_t T);

#endif
