/* data/bpe_train.c — byte-level BPE training (see bpe_train.h).
 *
 * State: the unique pre-tokenizer words with their counts, each word as an
 * array of symbol ids; the count of every adjacent symbol pair over all
 * words (times the word count) and, per pair, the list of words that
 * contained it when it was last increased; a lazy max-heap of
 * (count, left, right).  A merge rewrites only the words on the merged
 * pair's list, subtracting their old pairs and adding their new ones, so one
 * merge costs time proportional to the words it touches. */
#include "data/bpe_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"
#include "data/pretok.h"
#include "data/tok_internal.h"
#include "data/unicode.h"

const char *const slm_bpe_default_chat_specials[] = {
    "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
    "<|eot_id|>",   "<|system|>", "<|user|>",          "<|assistant|>",
};
const size_t slm_bpe_n_default_chat_specials =
    sizeof slm_bpe_default_chat_specials / sizeof slm_bpe_default_chat_specials[0];

slm_bpe_train_params slm_bpe_train_default_params(void) {
    slm_bpe_train_params p = {4096, 2, slm_bpe_default_chat_specials, 0, "slm-bpe"};
    p.n_extra_special = slm_bpe_n_default_chat_specials;
    return p;
}

typedef struct {
    int64_t count;
    int32_t l, r;
} heap_ent;

typedef struct {
    int32_t *v;
    uint32_t n, cap;
} i32list;

struct slm_bpe_trainer {
    slm_bpe_train_params p;
    char **special; /* (n_special) owned copies: <pad>, <s>, </s>, extras without duplicates */
    size_t n_special;
    /* counting */
    slm_strmap wordmap; /* word bytes -> word id */
    int64_t *wcount;    /* (n_words) */
    size_t wcount_cap;
    slm_pretok_words pw;
    uint32_t *cps;
    uint16_t *fl;
    uint8_t *cplen;
    size_t cap_cp;
    int64_t bytes, docs, words;
    /* training */
    int32_t *wsym;      /* symbols of all words back to back */
    uint64_t *woff;     /* (n_words + 1) */
    uint32_t *wlen;     /* (n_words) current length */
    int32_t *wstamp;    /* (n_words) last merge that rewrote the word */
    slm_strmap syms;    /* symbol bytes -> symbol id (0..255 are the bytes) */
    int32_t (*merges)[3]; /* (n_merges) left, right, result */
    size_t n_merges, merges_cap;
    /* pairs: open addressing u64 key -> index */
    uint64_t *pkey;
    int32_t *pidx;
    size_t p_slots, n_pairs;
    int64_t *pcount;  /* (n_pairs) */
    int32_t *pstamp;  /* (n_pairs) last merge that queued the pair */
    i32list *pwhere;  /* (n_pairs) */
    size_t pairs_cap;
    heap_ent *heap;
    size_t heap_n, heap_cap;
    bool trained;
};

static char *dupstr(const char *s) {
    char *d = malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

slm_status slm_bpe_trainer_new(const slm_bpe_train_params *p, slm_bpe_trainer **out) {
    *out = NULL;
    if (p->min_frequency < 1) {
        slm_log_error("tokenizer train: min_frequency %lld must be >= 1", (long long)p->min_frequency);
        return SLM_ERR_USAGE;
    }
    slm_bpe_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return SLM_ERR_NOMEM;
    tr->p = *p;
    tr->special = calloc(3 + p->n_extra_special, sizeof(char *));
    if (!tr->special) goto oom;
    const char *base[3] = {"<pad>", "<s>", "</s>"};
    for (size_t i = 0; i < 3 + p->n_extra_special; i++) {
        const char *s = i < 3 ? base[i] : p->extra_special[i - 3];
        bool dup = !*s;
        for (size_t j = 0; j < tr->n_special && !dup; j++) dup = !strcmp(tr->special[j], s);
        if (dup) continue;
        if (!(tr->special[tr->n_special] = dupstr(s))) goto oom;
        tr->n_special++;
    }
    int64_t min_vocab = (int64_t)tr->n_special + 256;
    if (p->vocab_size < min_vocab || p->vocab_size > (1 << 24)) {
        slm_log_error("tokenizer train: vocab size %lld must be between %lld (256 bytes + %zu special "
                      "tokens) and %d", (long long)p->vocab_size, (long long)min_vocab, tr->n_special, 1 << 24);
        slm_bpe_trainer_free(tr);
        return SLM_ERR_USAGE;
    }
    *out = tr;
    return SLM_OK;
oom:
    slm_bpe_trainer_free(tr);
    return SLM_ERR_NOMEM;
}

void slm_bpe_trainer_free(slm_bpe_trainer *tr) {
    if (!tr) return;
    for (size_t i = 0; i < tr->n_special; i++) free(tr->special[i]);
    free(tr->special);
    slm_strmap_free(&tr->wordmap);
    free(tr->wcount);
    slm_pretok_words_free(&tr->pw);
    free(tr->cps);
    free(tr->fl);
    free(tr->cplen);
    free(tr->wsym);
    free(tr->woff);
    free(tr->wlen);
    free(tr->wstamp);
    slm_strmap_free(&tr->syms);
    free(tr->merges);
    free(tr->pkey);
    free(tr->pidx);
    free(tr->pcount);
    free(tr->pstamp);
    if (tr->pwhere)
        for (size_t i = 0; i < tr->n_pairs; i++) free(tr->pwhere[i].v);
    free(tr->pwhere);
    free(tr->heap);
    free(tr);
}

slm_status slm_bpe_trainer_add_text(slm_bpe_trainer *tr, const char *text, size_t len) {
    SLM_ASSERT(!tr->trained);
    const unsigned char *u = (const unsigned char *)text;
    if (len + 1 > tr->cap_cp) {
        size_t cap = tr->cap_cp ? tr->cap_cp : 4096;
        while (cap < len + 1) cap *= 2;
        uint32_t *c = realloc(tr->cps, cap * sizeof *c);
        if (c) tr->cps = c;
        uint16_t *f = realloc(tr->fl, cap * sizeof *f);
        if (f) tr->fl = f;
        uint8_t *l = realloc(tr->cplen, cap);
        if (l) tr->cplen = l;
        if (!c || !f || !l) return SLM_ERR_NOMEM;
        tr->cap_cp = cap;
    }
    size_t n = 0;
    for (size_t i = 0; i < len;) { /* decode as the tokenizer does; words are rebuilt from code points */
        size_t used;
        uint32_t cp = slm_utf8_decode(u + i, len - i, &used);
        unsigned char e[4];
        tr->cps[n] = cp;
        tr->fl[n] = slm_unicode_flags(cp);
        tr->cplen[n] = (uint8_t)slm_utf8_encode(cp, e);
        i += used;
        n++;
    }
    slm_status st = slm_pretok_split(SLM_PRETOK_GPT2, tr->cps, tr->fl, n, &tr->pw);
    size_t pos = 0;
    unsigned char wb[1024];
    for (size_t w = 0; w < tr->pw.n && st == SLM_OK; w++) {
        size_t k = 0;
        bool too_long = false;
        for (uint32_t j = 0; j < tr->pw.len[w]; j++) {
            if (k + 4 > sizeof wb) too_long = true;
            else k += slm_utf8_encode(tr->cps[pos + j], wb + k);
        }
        pos += tr->pw.len[w];
        tr->words++;
        if (too_long) continue; /* a >1 KB word (whitespace run, unbroken script) teaches no merges worth having */
        int32_t id;
        bool added;
        if ((st = slm_strmap_add(&tr->wordmap, (const char *)wb, k, &id, &added))) break;
        if (added) {
            if ((size_t)id >= tr->wcount_cap) {
                size_t cap = tr->wcount_cap ? 2 * tr->wcount_cap : 4096;
                int64_t *c = realloc(tr->wcount, cap * sizeof *c);
                if (!c) return SLM_ERR_NOMEM;
                tr->wcount = c;
                tr->wcount_cap = cap;
            }
            tr->wcount[id] = 0;
        }
        tr->wcount[id]++;
    }
    tr->bytes += (int64_t)len;
    tr->docs++;
    return st;
}

/* ---- pairs ---- */

static inline uint64_t pkey_of(int32_t l, int32_t r) { return (uint64_t)(uint32_t)l << 32 | (uint32_t)r; }
static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static int32_t pair_find(const slm_bpe_trainer *tr, int32_t l, int32_t r) {
    if (!tr->p_slots) return -1;
    uint64_t k = pkey_of(l, r);
    size_t mask = tr->p_slots - 1;
    for (size_t i = mix(k) & mask;; i = (i + 1) & mask) {
        if (tr->pidx[i] < 0) return -1;
        if (tr->pkey[i] == k) return tr->pidx[i];
    }
}

static slm_status pair_get(slm_bpe_trainer *tr, int32_t l, int32_t r, int32_t *out) {
    int32_t f = pair_find(tr, l, r);
    if (f >= 0) {
        *out = f;
        return SLM_OK;
    }
    if ((tr->n_pairs + 1) * 2 > tr->p_slots) { /* grow and rehash */
        size_t slots = tr->p_slots ? 2 * tr->p_slots : 1 << 16;
        uint64_t *k = malloc(slots * sizeof *k);
        int32_t *ix = malloc(slots * sizeof *ix);
        if (!k || !ix) {
            free(k);
            free(ix);
            return SLM_ERR_NOMEM;
        }
        memset(ix, 0xff, slots * sizeof *ix);
        for (size_t i = 0; i < tr->p_slots; i++) {
            if (tr->pidx[i] < 0) continue;
            size_t j = mix(tr->pkey[i]) & (slots - 1);
            while (ix[j] >= 0) j = (j + 1) & (slots - 1);
            k[j] = tr->pkey[i];
            ix[j] = tr->pidx[i];
        }
        free(tr->pkey);
        free(tr->pidx);
        tr->pkey = k;
        tr->pidx = ix;
        tr->p_slots = slots;
    }
    if (tr->n_pairs == tr->pairs_cap) {
        size_t cap = tr->pairs_cap ? 2 * tr->pairs_cap : 1 << 15;
        int64_t *c = realloc(tr->pcount, cap * sizeof *c);
        if (c) tr->pcount = c;
        i32list *w = realloc(tr->pwhere, cap * sizeof *w);
        if (w) tr->pwhere = w;
        int32_t *ps = realloc(tr->pstamp, cap * sizeof *ps);
        if (ps) tr->pstamp = ps;
        if (!c || !w || !ps) return SLM_ERR_NOMEM;
        tr->pairs_cap = cap;
    }
    uint64_t k = pkey_of(l, r);
    size_t j = mix(k) & (tr->p_slots - 1);
    while (tr->pidx[j] >= 0) j = (j + 1) & (tr->p_slots - 1);
    tr->pkey[j] = k;
    tr->pidx[j] = (int32_t)tr->n_pairs;
    tr->pcount[tr->n_pairs] = 0;
    tr->pwhere[tr->n_pairs] = (i32list){0};
    tr->pstamp[tr->n_pairs] = -1;
    *out = (int32_t)tr->n_pairs++;
    return SLM_OK;
}

static slm_status list_push(i32list *a, int32_t x) {
    if (a->n && a->v[a->n - 1] == x) return SLM_OK; /* same word twice in a row */
    if (a->n == a->cap) {
        uint32_t cap = a->cap ? 2 * a->cap : 4;
        int32_t *p = realloc(a->v, cap * sizeof *p);
        if (!p) return SLM_ERR_NOMEM;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return SLM_OK;
}

/* heap order: larger count, then smaller left, then smaller right */
static inline bool ent_before(const heap_ent *a, const heap_ent *b) {
    if (a->count != b->count) return a->count > b->count;
    if (a->l != b->l) return a->l < b->l;
    return a->r < b->r;
}

static slm_status heap_push(slm_bpe_trainer *tr, heap_ent x) {
    if (tr->heap_n == tr->heap_cap) {
        size_t cap = tr->heap_cap ? 2 * tr->heap_cap : 1 << 15;
        heap_ent *h = realloc(tr->heap, cap * sizeof *h);
        if (!h) return SLM_ERR_NOMEM;
        tr->heap = h;
        tr->heap_cap = cap;
    }
    heap_ent *h = tr->heap;
    size_t i = tr->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ent_before(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
    return SLM_OK;
}

static heap_ent heap_pop(slm_bpe_trainer *tr) {
    heap_ent *h = tr->heap, top = h[0], x = h[--tr->heap_n];
    size_t i = 0, n = tr->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && ent_before(&h[c + 1], &h[c])) c++;
        if (!ent_before(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    if (n) h[i] = x;
    return top;
}

/* Adds delta * (pairs of word w) to the pair counts; with delta > 0 also
 * records w on the pairs' lists. */
static slm_status add_word_pairs(slm_bpe_trainer *tr, int32_t w, int64_t delta) {
    const int32_t *s = tr->wsym + tr->woff[w];
    slm_status st;
    for (uint32_t i = 0; i + 1 < tr->wlen[w]; i++) {
        int32_t p;
        if ((st = pair_get(tr, s[i], s[i + 1], &p))) return st;
        tr->pcount[p] += delta;
        if (delta > 0 && (st = list_push(&tr->pwhere[p], w))) return st;
    }
    return SLM_OK;
}

static slm_status sym_bytes_concat(slm_bpe_trainer *tr, int32_t l, int32_t r, int32_t *out) {
    size_t ll, rl;
    const char *a = slm_strmap_str(&tr->syms, l, &ll);
    const char *b = slm_strmap_str(&tr->syms, r, &rl);
    char buf[2048];
    if (ll + rl > sizeof buf) return SLM_ERR_RUNTIME; /* words are < 1 KB */
    memcpy(buf, a, ll);
    memcpy(buf + ll, b, rl);
    return slm_strmap_add(&tr->syms, buf, ll + rl, out, NULL);
}

slm_status slm_bpe_trainer_train(slm_bpe_trainer *tr) {
    SLM_ASSERT(!tr->trained);
    tr->trained = true;
    slm_status st;
    size_t nw = tr->wordmap.n;
    for (int b = 0; b < 256; b++) {
        int32_t id;
        if ((st = slm_strmap_add(&tr->syms, (char[1]){(char)b}, 1, &id, NULL))) return st;
    }
    tr->woff = malloc((nw + 1) * sizeof *tr->woff);
    tr->wlen = malloc((nw + 1) * sizeof *tr->wlen);
    tr->wstamp = malloc((nw + 1) * sizeof *tr->wstamp);
    tr->wsym = malloc((tr->wordmap.text_len + 1) * sizeof *tr->wsym);
    if (!tr->woff || !tr->wlen || !tr->wstamp || !tr->wsym) return SLM_ERR_NOMEM;
    uint64_t k = 0;
    for (size_t w = 0; w < nw; w++) {
        size_t len;
        const char *s = slm_strmap_str(&tr->wordmap, (int32_t)w, &len);
        tr->woff[w] = k;
        tr->wlen[w] = (uint32_t)len;
        tr->wstamp[w] = -1;
        for (size_t i = 0; i < len; i++) tr->wsym[k++] = (unsigned char)s[i];
        if ((st = add_word_pairs(tr, (int32_t)w, tr->wcount[w]))) return st;
    }
    for (size_t i = 0; i < tr->p_slots; i++) {
        if (tr->pidx[i] < 0) continue;
        int32_t p = tr->pidx[i];
        if (tr->pcount[p] > 0 &&
            (st = heap_push(tr, (heap_ent){tr->pcount[p], (int32_t)(tr->pkey[i] >> 32), (int32_t)(uint32_t)tr->pkey[i]})))
            return st;
    }
    int64_t target = tr->p.vocab_size - (int64_t)tr->n_special; /* symbols wanted (bytes + merges) */
    int32_t *touched = NULL;
    size_t n_touched = 0, touched_cap = 0;
    while ((int64_t)tr->syms.n < target && tr->heap_n > 0) {
        heap_ent e = heap_pop(tr);
        int32_t p = pair_find(tr, e.l, e.r);
        int64_t cur = p >= 0 ? tr->pcount[p] : 0;
        if (cur != e.count) { /* stale: requeue with the current count */
            if (cur > 0 && (st = heap_push(tr, (heap_ent){cur, e.l, e.r}))) goto out;
            continue;
        }
        if (cur < tr->p.min_frequency) break;
        int32_t ns;
        if ((st = sym_bytes_concat(tr, e.l, e.r, &ns))) goto out;
        if (tr->n_merges == tr->merges_cap) {
            size_t cap = tr->merges_cap ? 2 * tr->merges_cap : 1024;
            int32_t(*m)[3] = realloc(tr->merges, cap * sizeof *m);
            if (!m) {
                st = SLM_ERR_NOMEM;
                goto out;
            }
            tr->merges = m;
            tr->merges_cap = cap;
        }
        int32_t stamp = (int32_t)tr->n_merges;
        tr->merges[tr->n_merges][0] = e.l;
        tr->merges[tr->n_merges][1] = e.r;
        tr->merges[tr->n_merges][2] = ns;
        tr->n_merges++;
        /* rewrite every word that holds the pair (the list may be a copy:
         * i32list of p can grow while we add pairs, so walk by index) */
        n_touched = 0;
        for (uint32_t wi = 0; wi < tr->pwhere[p].n; wi++) {
            int32_t w = tr->pwhere[p].v[wi];
            if (tr->wstamp[w] == stamp) continue;
            tr->wstamp[w] = stamp;
            int32_t *s = tr->wsym + tr->woff[w];
            bool has = false;
            for (uint32_t i = 0; i + 1 < tr->wlen[w] && !has; i++) has = s[i] == e.l && s[i + 1] == e.r;
            if (!has) continue;
            if ((st = add_word_pairs(tr, w, -tr->wcount[w]))) goto out;
            uint32_t o = 0;
            for (uint32_t i = 0; i < tr->wlen[w]; i++) {
                if (i + 1 < tr->wlen[w] && s[i] == e.l && s[i + 1] == e.r) {
                    s[o++] = ns;
                    i++;
                } else {
                    s[o++] = s[i];
                }
            }
            tr->wlen[w] = o;
            if ((st = add_word_pairs(tr, w, tr->wcount[w]))) goto out;
            for (uint32_t i = 0; i + 1 < o; i++) {
                if (s[i] != ns && s[i + 1] != ns) continue;
                if (n_touched + 2 > touched_cap) {
                    touched_cap = touched_cap ? 2 * touched_cap : 1024;
                    int32_t *tt = realloc(touched, touched_cap * 2 * sizeof *tt);
                    if (!tt) {
                        st = SLM_ERR_NOMEM;
                        goto out;
                    }
                    touched = tt;
                }
                touched[2 * n_touched] = s[i];
                touched[2 * n_touched + 1] = s[i + 1];
                n_touched++;
            }
        }
        /* pairs with the new symbol only grew: queue each once with its final count */
        for (size_t i = 0; i < n_touched; i++) {
            int32_t q = pair_find(tr, touched[2 * i], touched[2 * i + 1]);
            if (q < 0 || tr->pcount[q] <= 0) continue;
            if (tr->pstamp[q] == stamp) continue; /* queued already for this merge */
            tr->pstamp[q] = stamp;
            if ((st = heap_push(tr, (heap_ent){tr->pcount[q], touched[2 * i], touched[2 * i + 1]}))) goto out;
        }
    }
    if ((int64_t)tr->syms.n < target)
        slm_log_warn("tokenizer train: stopped at %zu tokens (of %lld requested): no pair left that occurs "
                     "at least %lld times; more text would give a larger vocabulary",
                     tr->syms.n + tr->n_special, (long long)tr->p.vocab_size, (long long)tr->p.min_frequency);
    st = SLM_OK;
out:
    free(touched);
    return st;
}

/* GPT-2 characters of symbol bytes */
static slm_status enc_sym(const slm_bpe_trainer *tr, int32_t id, char *out, size_t cap, size_t *len) {
    size_t l;
    const char *s = slm_strmap_str(&tr->syms, id, &l);
    size_t k = 0;
    for (size_t i = 0; i < l; i++) {
        if (k + 4 >= cap) return SLM_ERR_RUNTIME;
        k += slm_utf8_encode(slm_unicode_byte_to_cp((uint8_t)s[i]), (unsigned char *)out + k);
    }
    out[k] = 0;
    *len = k;
    return SLM_OK;
}

slm_status slm_bpe_trainer_write_gguf(const slm_bpe_trainer *tr, const char *path) {
    SLM_ASSERT(tr->trained);
    size_t n_tok = tr->n_special + tr->syms.n, n_m = tr->n_merges;
    char **tok = calloc(n_tok, sizeof *tok), **mer = calloc(n_m ? n_m : 1, sizeof *mer);
    int32_t *types = malloc(n_tok * sizeof *types);
    slm_gguf_writer *w = slm_gguf_writer_new();
    slm_status st = tok && mer && types && w ? SLM_OK : SLM_ERR_NOMEM;
    char buf[8192];
    size_t len;
    for (size_t i = 0; i < n_tok && st == SLM_OK; i++) {
        if (i < tr->n_special) {
            tok[i] = dupstr(tr->special[i]);
            types[i] = 3; /* control */
        } else {
            st = enc_sym(tr, (int32_t)(i - tr->n_special), buf, sizeof buf, &len);
            tok[i] = st == SLM_OK ? dupstr(buf) : NULL;
            types[i] = 1; /* normal */
        }
        if (st == SLM_OK && !tok[i]) st = SLM_ERR_NOMEM;
    }
    for (size_t i = 0; i < n_m && st == SLM_OK; i++) {
        size_t ll, rl;
        if ((st = enc_sym(tr, tr->merges[i][0], buf, sizeof buf / 2, &ll))) break;
        buf[ll] = ' ';
        if ((st = enc_sym(tr, tr->merges[i][1], buf + ll + 1, sizeof buf / 2, &rl))) break;
        if (!(mer[i] = dupstr(buf))) st = SLM_ERR_NOMEM;
    }
    if (st == SLM_OK) st = slm_gguf_set_str(w, "general.architecture", "llama");
    if (st == SLM_OK) st = slm_gguf_set_str(w, "general.name", tr->p.name ? tr->p.name : "slm-bpe");
    if (st == SLM_OK) st = slm_gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    if (st == SLM_OK) st = slm_gguf_set_str(w, "tokenizer.ggml.pre", "gpt-2");
    if (st == SLM_OK) st = slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, n_tok);
    if (st == SLM_OK) st = slm_gguf_set_arr(w, "tokenizer.ggml.token_type", SLM_GGUF_INT32, types, n_tok);
    if (st == SLM_OK) st = slm_gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)mer, n_m);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "tokenizer.ggml.padding_token_id", 0);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    if (st == SLM_OK) st = slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", false);
    if (st == SLM_OK) st = slm_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", false);
    if (st == SLM_OK) st = slm_gguf_writer_write(w, path);
    slm_gguf_writer_free(w);
    if (tok)
        for (size_t i = 0; i < n_tok; i++) free(tok[i]);
    if (mer)
        for (size_t i = 0; i < n_m; i++) free(mer[i]);
    free(tok);
    free(mer);
    free(types);
    return st;
}

void slm_bpe_trainer_stats(const slm_bpe_trainer *tr, slm_bpe_train_stats *s) {
    s->bytes = tr->bytes;
    s->documents = tr->docs;
    s->words = tr->words;
    s->unique_words = (int64_t)tr->wordmap.n;
    s->merges = (int64_t)tr->n_merges;
    s->vocab_size = tr->trained ? (int64_t)(tr->n_special + tr->syms.n) : 0;
}
