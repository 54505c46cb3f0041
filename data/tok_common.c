/* data/tok_common.c — growable id vectors and the string -> id hash map
 * shared by the tokenizers (tok_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "data/tok_internal.h"

slm_status slm_ivec_push(slm_ivec *a, int32_t x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        int32_t *p = realloc(a->v, cap * sizeof *p);
        if (!p) return SLM_ERR_NOMEM;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return SLM_OK;
}

slm_status slm_ivec_append(slm_ivec *a, const int32_t *x, size_t n) {
    if (a->n + n > a->cap) {
        size_t cap = a->cap ? a->cap : 64;
        while (cap < a->n + n) cap *= 2;
        int32_t *p = realloc(a->v, cap * sizeof *p);
        if (!p) return SLM_ERR_NOMEM;
        a->v = p;
        a->cap = cap;
    }
    if (n) memcpy(a->v + a->n, x, n * sizeof *x);
    a->n += n;
    return SLM_OK;
}

/* 64-bit FNV-1a over 8-byte words, finished with a murmur-style mix. */
uint64_t slm_str_hash(const char *s, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull ^ (len * 0x9E3779B97F4A7C15ull);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    memcpy(&w, s + i, len - i);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

int32_t slm_strmap_find(const slm_strmap *m, const char *s, size_t len) {
    if (!m->n_slots) return -1;
    size_t mask = m->n_slots - 1;
    for (size_t i = slm_str_hash(s, len) & mask;; i = (i + 1) & mask) {
        int32_t id = m->slot[i];
        if (id < 0) return -1;
        if (m->off[id + 1] - m->off[id] == len + 1 && !memcmp(m->text + m->off[id], s, len)) return id;
    }
}

static slm_status rehash(slm_strmap *m, size_t n_slots) {
    int32_t *slot = malloc(n_slots * sizeof *slot);
    if (!slot) return SLM_ERR_NOMEM;
    memset(slot, 0xff, n_slots * sizeof *slot);
    size_t mask = n_slots - 1;
    for (size_t id = 0; id < m->n; id++) {
        size_t i = slm_str_hash(m->text + m->off[id], (size_t)(m->off[id + 1] - m->off[id] - 1)) & mask;
        while (slot[i] >= 0) i = (i + 1) & mask;
        slot[i] = (int32_t)id;
    }
    free(m->slot);
    m->slot = slot;
    m->n_slots = n_slots;
    return SLM_OK;
}

slm_status slm_strmap_add(slm_strmap *m, const char *s, size_t len, int32_t *id, bool *added) {
    int32_t found = slm_strmap_find(m, s, len);
    if (added) *added = found < 0;
    if (found >= 0) {
        *id = found;
        return SLM_OK;
    }
    if (m->n >= INT32_MAX - 1) return SLM_ERR_NOMEM;
    if ((m->n + 1) * 2 > m->n_slots) {
        slm_status st = rehash(m, m->n_slots ? 2 * m->n_slots : 1024);
        if (st) return st;
    }
    if (m->n + 2 > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        uint64_t *off = realloc(m->off, cap * sizeof *off);
        if (!off) return SLM_ERR_NOMEM;
        if (!m->cap) off[0] = 0;
        m->off = off;
        m->cap = cap;
    }
    if (m->text_len + len + 1 > m->text_cap) {
        size_t cap = m->text_cap ? m->text_cap : 4096;
        while (cap < m->text_len + len + 1) cap *= 2;
        char *p = realloc(m->text, cap);
        if (!p) return SLM_ERR_NOMEM;
        m->text = p;
        m->text_cap = cap;
    }
    if (len) memcpy(m->text + m->text_len, s, len);
    m->text[m->text_len + len] = 0;
    m->text_len += len + 1;
    m->off[m->n + 1] = m->text_len;
    size_t mask = m->n_slots - 1;
    size_t i = slm_str_hash(s, len) & mask;
    while (m->slot[i] >= 0) i = (i + 1) & mask;
    m->slot[i] = (int32_t)m->n;
    *id = (int32_t)m->n++;
    return SLM_OK;
}

void slm_strmap_free(slm_strmap *m) {
    if (!m) return;
    free(m->text);
    free(m->off);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* ---- per-session cache: text piece -> ids ---- */

#define CACHE_MAX_ENTRIES (1u << 20)

bool slm_tok_cache_get(slm_tok_session *s, const char *key, size_t len, slm_ivec *out, slm_status *st) {
    int32_t idx = slm_strmap_find(&s->cache, key, len);
    if (idx < 0) return false;
    int32_t a = s->cache_start.v[idx], b = s->cache_start.v[idx + 1];
    *st = slm_ivec_append(out, s->cache_ids.v + a, (size_t)(b - a));
    return true;
}

slm_status slm_tok_cache_put(slm_tok_session *s, const char *key, size_t len, const int32_t *ids, size_t n) {
    slm_status st;
    if (s->cache.n >= CACHE_MAX_ENTRIES) { /* bound memory: start over */
        slm_strmap_free(&s->cache);
        s->cache_ids.n = 0;
        s->cache_start.n = 0;
    }
    if (s->cache_start.n == 0 && (st = slm_ivec_push(&s->cache_start, 0))) return st;
    int32_t idx;
    bool added;
    if ((st = slm_strmap_add(&s->cache, key, len, &idx, &added))) return st;
    if (!added) return SLM_OK;
    if ((st = slm_ivec_append(&s->cache_ids, ids, n))) return st;
    return slm_ivec_push(&s->cache_start, (int32_t)s->cache_ids.n);
}

/* Grows a per-session scratch array (doubling, from 256) to hold need elements. */
slm_status slm_tok_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return SLM_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return SLM_ERR_NOMEM;
    *p = q;
    *cap = c;
    return SLM_OK;
}
