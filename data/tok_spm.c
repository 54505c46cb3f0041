/* data/tok_spm.c — SentencePiece BPE as llama.cpp's llm_tokenizer_spm does
 * it (tokenizer.ggml.model = "llama"):
 *   1. spaces become U+2581 '▁' (and one is prepended when asked);
 *   2. the text is cut into UTF-8 characters (symbols);
 *   3. every adjacent pair whose concatenation is a token goes into a
 *      priority queue keyed by that token's score (higher first; ties: the
 *      leftmost pair first); the best pair is merged, stale entries skipped,
 *      and the new neighbours queued, until the queue is empty;
 *   4. a final symbol that is a token is emitted, any other is emitted as
 *      its bytes' <0xXX> tokens (byte fallback).
 * (llama.cpp's resegment() also consults a map of earlier merges for
 * symbols that are not tokens; such a symbol is always a single character
 * here, for which that map has no entry, so step 4 is the same.) */
#include <stdlib.h>
#include <string.h>

#include "data/tok_internal.h"
#include "data/unicode.h"

typedef struct {
    int32_t prev, next; /* neighbours in the live chain, -1 at the ends */
    uint32_t off, n;    /* bytes text[off .. off+n); n == 0 once merged away */
} spm_sym;

typedef struct {
    float score;
    int32_t left, right;
    uint32_t size; /* byte length of the pair when queued (stale check) */
} spm_bigram;

/* true if a should come out of the queue before b */
static inline bool bigram_before(const spm_bigram *a, const spm_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(spm_bigram *h, size_t *n, spm_bigram x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_before(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static spm_bigram heap_pop(spm_bigram *h, size_t *n) {
    spm_bigram top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && bigram_before(&h[c + 1], &h[c])) c++;
        if (!bigram_before(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}


static inline bool is_ws(const char *b, const spm_sym *x) {
    return x->n == 3 && !memcmp(b + x->off, "\xE2\x96\x81", 3);
}

/* Steps 3-4 on the symbols [a, e) of s->buf (their prev/next are relinked
 * to the range). */
static slm_status merge_range(slm_tok_session *s, spm_sym *sym, int32_t a, int32_t e, slm_ivec *out) {
    const slm_tokenizer *t = s->t;
    const char *b = s->buf;
    slm_status st;
    int32_t n = e - a;
    for (int32_t i = a; i < e; i++) {
        sym[i].prev = i - 1 >= a ? i - 1 : -1;
        sym[i].next = i + 1 < e ? i + 1 : -1;
    }
    if ((st = slm_tok_grow(&s->heap, &s->heap_cap, (size_t)n * 2 + 2, sizeof(spm_bigram)))) return st;
    spm_bigram *heap = s->heap;
    size_t hn = 0;
#define TRY_ADD(L, R)                                                                        \
    do {                                                                                     \
        int32_t l_ = (L), r_ = (R);                                                          \
        if (l_ >= 0 && r_ >= 0) {                                                            \
            uint32_t sz_ = sym[l_].n + sym[r_].n;                                            \
            int32_t id_ = slm_strmap_find(&t->syms, b + sym[l_].off, sz_);                   \
            if (id_ >= 0 && id_ < t->n_vocab) {                                              \
                if (hn == s->heap_cap) {                                                     \
                    if ((st = slm_tok_grow(&s->heap, &s->heap_cap, hn + 1, sizeof(spm_bigram))))     \
                        return st;                                                           \
                    heap = s->heap;                                                          \
                }                                                                            \
                heap_push(heap, &hn, (spm_bigram){t->scores[id_], l_, r_, sz_});             \
            }                                                                                \
        }                                                                                    \
    } while (0)
    /* 3. merge by score */
    for (int32_t i = a + 1; i < e; i++) TRY_ADD(i - 1, i);
    while (hn > 0) {
        spm_bigram bg = heap_pop(heap, &hn);
        spm_sym *l = &sym[bg.left], *r = &sym[bg.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != bg.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = bg.left;
        TRY_ADD(l->prev, bg.left);
        TRY_ADD(bg.left, l->next);
    }
#undef TRY_ADD
    /* 4. emit */
    for (int32_t i = a; i != -1; i = sym[i].next) {
        int32_t id = slm_strmap_find(&t->syms, b + sym[i].off, sym[i].n);
        if (id >= 0 && id < t->n_vocab) {
            if ((st = slm_ivec_push(out, id))) return st;
            continue;
        }
        for (uint32_t j = 0; j < sym[i].n; j++) {
            int32_t bt = t->byte_tok[(unsigned char)b[sym[i].off + j]];
            if (bt >= 0 && (st = slm_ivec_push(out, bt))) return st;
        }
    }
    return SLM_OK;
}

slm_status slm_spm_encode(slm_tok_session *s, const char *text, size_t len, bool prefix, slm_ivec *out) {
    const slm_tokenizer *t = s->t;
    slm_status st;
    /* 1. escape: ' ' -> "\xE2\x96\x81" (3 bytes), optional leading one */
    size_t n_sp = prefix;
    for (size_t i = 0; i < len; i++) n_sp += text[i] == ' ';
    size_t blen = len + (prefix ? 1 : 0) + 2 * n_sp;
    if ((st = slm_tok_grow((void **)&s->buf, &s->buf_cap, blen + 1, 1))) return st;
    char *b = s->buf;
    size_t k = 0;
    if (prefix) memcpy(b + k, "\xE2\x96\x81", 3), k += 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') memcpy(b + k, "\xE2\x96\x81", 3), k += 3;
        else b[k++] = text[i];
    }
    blen = k;
    if (blen == 0) return SLM_OK;
    /* 2. symbols = UTF-8 characters (a truncated tail keeps what is there) */
    if ((st = slm_tok_grow(&s->sym, &s->sym_cap, blen, sizeof(spm_sym)))) return st;
    spm_sym *sym = s->sym;
    int32_t n = 0;
    for (size_t off = 0; off < blen;) {
        size_t l = slm_utf8_len((unsigned char)b[off]);
        if (l > blen - off) l = blen - off;
        sym[n] = (spm_sym){n - 1, 0, (uint32_t)off, (uint32_t)l};
        off += l;
        sym[n].next = off == blen ? -1 : n + 1;
        n++;
    }
    if (!t->ws_barrier) return merge_range(s, sym, 0, n, out);
    /* merges never cross a '▁' that follows another character: encode each
     * "▁*[^▁]*" run on its own, through the session cache */
    for (int32_t a = 0; a < n;) {
        int32_t e = a;
        while (e < n && is_ws(b, &sym[e])) e++;
        while (e < n && !is_ws(b, &sym[e])) e++;
        const char *key = b + sym[a].off;
        size_t klen = sym[e - 1].off + sym[e - 1].n - sym[a].off;
        if (!slm_tok_cache_get(s, key, klen, out, &st)) {
            size_t before = out->n;
            if ((st = merge_range(s, sym, a, e, out))) return st;
            if (klen <= 256) st = slm_tok_cache_put(s, key, klen, out->v + before, out->n - before);
        }
        if (st) return st;
        a = e;
    }
    return SLM_OK;
}
