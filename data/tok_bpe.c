/* data/tok_bpe.c — byte-level BPE as llama.cpp's llm_tokenizer_bpe does it
 * (tokenizer.ggml.model = "gpt2"):
 *   1. the text is decoded to code points (invalid UTF-8 bytes become U+FFFD)
 *      and split into words by the pre-tokenizer (pretok.h);
 *   2. each word's bytes are written as GPT-2 characters (bytes_to_unicode),
 *      one symbol per byte;
 *   3. adjacent symbol pairs listed in tokenizer.ggml.merges are merged,
 *      lowest rank first (ties: leftmost), until no listed pair is left;
 *   4. each final symbol that is a token is emitted; otherwise each byte of
 *      its (GPT-2-encoded) text that is a token on its own.
 * With ignore_merges (llama-3 pre-tokenizers) a word that is a token as a
 * whole is emitted directly.  Symbols are ids: 0..n_vocab-1 are tokens, merge
 * parts and results that are not tokens get ids after them, so step 3 works
 * on integer pairs.  Words are cached per session (word -> ids). */
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "data/tok_internal.h"
#include "data/unicode.h"

#define EMPTY_KEY UINT64_MAX

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static const slm_bpe_merge *merge_find(const slm_tokenizer *t, int32_t l, int32_t r) {
    uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
    size_t mask = t->n_merge_slots - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        const slm_bpe_merge *m = &t->merges[i];
        if (m->key == key) return m;
        if (m->key == EMPTY_KEY) return NULL;
    }
}

slm_status slm_bpe_load_merges(slm_tokenizer *t, const slm_gguf *g, int64_t key) {
    uint64_t n = key >= 0 ? slm_gguf_arr_n(g, key) : 0;
    size_t slots = 1024;
    while (slots < 2 * n + 2) slots *= 2;
    t->merges = malloc(slots * sizeof *t->merges);
    if (!t->merges) return SLM_ERR_NOMEM;
    for (size_t i = 0; i < slots; i++) t->merges[i].key = EMPTY_KEY;
    t->n_merge_slots = slots;
    char *tmp = NULL;
    size_t tmp_cap = 0;
    slm_status st = SLM_OK;
    slm_sha256 sha;
    slm_sha256_init(&sha);
    for (uint64_t r = 0; r < n && st == SLM_OK; r++) {
        uint64_t len;
        const char *w = slm_gguf_arr_str(g, key, r, &len);
        slm_sha256_update(&sha, &len, sizeof len);
        slm_sha256_update(&sha, w, len);
        /* "left right", split at the first space after the first byte */
        const char *sp = len > 1 ? memchr(w + 1, ' ', len - 1) : NULL;
        if (!sp) continue; /* llama.cpp records ("", "") which never matches */
        size_t ll = (size_t)(sp - w), rl = len - ll - 1;
        int32_t a, b, c;
        if (ll + rl > tmp_cap) {
            tmp_cap = 2 * (ll + rl) + 64;
            char *p = realloc(tmp, tmp_cap);
            if (!p) { st = SLM_ERR_NOMEM; break; }
            tmp = p;
        }
        memcpy(tmp, w, ll);
        memcpy(tmp + ll, sp + 1, rl);
        if ((st = slm_strmap_add(&t->syms, w, ll, &a, NULL)) ||
            (st = slm_strmap_add(&t->syms, sp + 1, rl, &b, NULL)) ||
            (st = slm_strmap_add(&t->syms, tmp, ll + rl, &c, NULL)))
            break;
        uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
        size_t mask = slots - 1, i = mix64(k) & mask;
        while (t->merges[i].key != EMPTY_KEY && t->merges[i].key != k) i = (i + 1) & mask;
        if (t->merges[i].key == k) continue; /* a repeated pair keeps its first rank */
        t->merges[i] = (slm_bpe_merge){k, (int32_t)r, c};
        t->n_merges++;
    }
    free(tmp);
    slm_sha256_final(&sha, t->merges_sha);
    if (st) return st;
    /* symbol of each byte's GPT-2 character */
    for (int byte = 0; byte < 256; byte++) {
        unsigned char u[4];
        size_t l = slm_utf8_encode(slm_unicode_byte_to_cp((uint8_t)byte), u);
        if ((st = slm_strmap_add(&t->syms, (const char *)u, l, &t->byte_sym[byte], NULL))) return st;
    }
    return SLM_OK;
}

typedef struct {
    int32_t prev, next;
    int32_t sym; /* -1 once merged away */
} bpe_sym;

typedef struct {
    int32_t rank, left, right;
    int32_t lsym, rsym; /* symbols when queued (stale check) */
} bpe_pair;

static inline bool pair_before(const bpe_pair *a, const bpe_pair *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void pair_push(bpe_pair *h, size_t *n, bpe_pair x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!pair_before(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static bpe_pair pair_pop(bpe_pair *h, size_t *n) {
    bpe_pair top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && pair_before(&h[c + 1], &h[c])) c++;
        if (!pair_before(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}


/* Steps 2-4 for one word w[0..n) (bytes of the sanitized text). */
static slm_status encode_word(slm_tok_session *s, const unsigned char *w, size_t n, slm_ivec *out) {
    const slm_tokenizer *t = s->t;
    slm_status st;
    if (t->ignore_merges) {
        unsigned char *enc;
        if ((st = slm_tok_grow((void **)&s->buf, &s->buf_cap, 2 * n + 1, 1))) return st;
        enc = (unsigned char *)s->buf;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) k += slm_utf8_encode(slm_unicode_byte_to_cp(w[i]), enc + k);
        int32_t id = slm_strmap_find(&t->syms, (const char *)enc, k);
        if (id >= 0 && id < t->n_vocab) return slm_ivec_push(out, id);
    }
    if ((st = slm_tok_grow(&s->sym, &s->sym_cap, n, sizeof(bpe_sym)))) return st;
    bpe_sym *sym = s->sym;
    for (size_t i = 0; i < n; i++)
        sym[i] = (bpe_sym){(int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1, t->byte_sym[w[i]]};
    if (n > 1) {
        if ((st = slm_tok_grow(&s->heap, &s->heap_cap, 3 * n, sizeof(bpe_pair)))) return st;
        bpe_pair *h = s->heap;
        size_t hn = 0;
#define ADD_PAIR(L, R)                                                                \
    do {                                                                              \
        int32_t l_ = (L), r_ = (R);                                                   \
        if (l_ >= 0 && r_ >= 0) {                                                     \
            const slm_bpe_merge *m_ = merge_find(t, sym[l_].sym, sym[r_].sym);         \
            if (m_) {                                                                 \
                if (hn == s->heap_cap) {                                              \
                    if ((st = slm_tok_grow(&s->heap, &s->heap_cap, hn + 1, sizeof(bpe_pair)))) \
                        return st;                                                    \
                    h = s->heap;                                                      \
                }                                                                     \
                pair_push(h, &hn, (bpe_pair){m_->rank, l_, r_, sym[l_].sym, sym[r_].sym}); \
            }                                                                         \
        }                                                                             \
    } while (0)
        for (size_t i = 1; i < n; i++) ADD_PAIR((int32_t)i - 1, (int32_t)i);
        while (hn > 0) {
            bpe_pair p = pair_pop(h, &hn);
            bpe_sym *l = &sym[p.left], *r = &sym[p.right];
            if (l->sym != p.lsym || r->sym != p.rsym || l->next != p.right) continue;
            l->sym = merge_find(t, p.lsym, p.rsym)->result;
            r->sym = -1;
            l->next = r->next;
            if (r->next >= 0) sym[r->next].prev = p.left;
            ADD_PAIR(l->prev, p.left);
            ADD_PAIR(p.left, l->next);
        }
#undef ADD_PAIR
    }
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        int32_t id = sym[i].sym;
        if (id < t->n_vocab) {
            if ((st = slm_ivec_push(out, id))) return st;
            continue;
        }
        size_t len;
        const char *txt = slm_strmap_str(&t->syms, id, &len);
        for (size_t j = 0; j < len; j++) { /* llama.cpp: single bytes that are tokens */
            int32_t b = slm_strmap_find(&t->syms, txt + j, 1);
            if (b >= 0 && b < t->n_vocab && (st = slm_ivec_push(out, b))) return st;
        }
    }
    return SLM_OK;
}

static slm_status encode_word_cached(slm_tok_session *s, const unsigned char *w, size_t n, slm_ivec *out) {
    slm_status st = SLM_OK;
    if (slm_tok_cache_get(s, (const char *)w, n, out, &st)) return st;
    size_t before = out->n;
    if ((st = encode_word(s, w, n, out))) return st;
    if (n > 256) return SLM_OK; /* long words (whitespace runs, CJK text) are rarely repeated */
    return slm_tok_cache_put(s, (const char *)w, n, out->v + before, out->n - before);
}

slm_status slm_bpe_encode(slm_tok_session *s, const char *text, size_t len, slm_ivec *out) {
    const unsigned char *u = (const unsigned char *)text;
    slm_status st;
    if (len == 0) return SLM_OK;
    if (len + 1 > s->cap_cp) {
        size_t cap = s->cap_cp ? s->cap_cp : 1024;
        while (cap < len + 1) cap *= 2;
        uint32_t *c = realloc(s->cps, cap * sizeof *c);
        if (c) s->cps = c;
        uint16_t *f = realloc(s->fl, cap * sizeof *f);
        if (f) s->fl = f;
        uint8_t *l = realloc(s->cplen, cap);
        if (l) s->cplen = l;
        if (!c || !f || !l) return SLM_ERR_NOMEM;
        s->cap_cp = cap;
    }
    /* 1. decode; note whether re-encoding changes any bytes (invalid UTF-8) */
    size_t n = 0;
    bool canonical = true;
    for (size_t i = 0; i < len;) {
        size_t used;
        uint32_t cp = u[i] < 0x80 ? (used = 1, u[i]) : slm_utf8_decode(u + i, len - i, &used);
        s->cps[n] = cp;
        s->fl[n] = slm_unicode_flags(cp);
        if (cp >= 0x80) {
            unsigned char e[4];
            size_t el = slm_utf8_encode(cp, e);
            if (el != used || memcmp(e, u + i, el)) canonical = false;
            s->cplen[n] = (uint8_t)el;
        } else {
            s->cplen[n] = 1;
            if (used != 1) canonical = false;
        }
        i += used;
        n++;
    }
    const unsigned char *src = u;
    unsigned char *san = NULL;
    if (!canonical) { /* llama.cpp rebuilds words from code points: U+FFFD for bad bytes */
        san = malloc(4 * n + 1);
        if (!san) return SLM_ERR_NOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) k += slm_utf8_encode(s->cps[i], san + k);
        src = san;
    }
    st = slm_pretok_split(s->t->pre, s->cps, s->fl, n, &s->words);
    size_t cp_pos = 0, byte_pos = 0;
    for (size_t wi = 0; wi < s->words.n && st == SLM_OK; wi++) {
        size_t wl = 0;
        for (uint32_t j = 0; j < s->words.len[wi]; j++) wl += s->cplen[cp_pos + j];
        cp_pos += s->words.len[wi];
        st = encode_word_cached(s, src + byte_pos, wl, out);
        byte_pos += wl;
    }
    free(san);
    return st;
}
