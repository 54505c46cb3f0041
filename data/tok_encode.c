/* data/tok_encode.c — encoding: the special-token partition, the per-model
 * encoders, BOS/EOS, sessions and the multi-threaded variant.
 *
 * Partition (llama.cpp's tokenizer_st_partition): the special tokens
 * (control, user-defined, unknown; longest text first, ties by id) are cut
 * out of the text one after the other, each from the raw pieces the
 * previous ones left.  Without parse_special only user-defined tokens are
 * cut out.  The raw pieces are then encoded by the model, each SPM piece
 * with a leading '▁' when add_space_prefix. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "data/tok_internal.h"
#include "data/unicode.h"

typedef struct {
    size_t off, len; /* raw text piece, or ... */
    int32_t token;   /* ... a special token (>= 0) */
    bool first;      /* first chunk of its raw piece (SPM prefix goes here) */
} fragment;

typedef struct {
    fragment *v;
    size_t n, cap;
} frag_list;

static slm_status frag_push(frag_list *l, fragment f) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        fragment *p = realloc(l->v, cap * sizeof *p);
        if (!p) return SLM_ERR_NOMEM;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = f;
    return SLM_OK;
}

static slm_status partition(const slm_tokenizer *t, const char *text, size_t len, bool parse_special,
                            frag_list *out) {
    frag_list a = {0}, b = {0};
    slm_status st = SLM_OK;
    if (len > 0 && (st = frag_push(&a, (fragment){0, len, -1, true}))) goto done;
    for (size_t k = 0; k < t->n_special && st == SLM_OK; k++) {
        int32_t id = t->special[k];
        if (!parse_special && (t->attr[id] & (SLM_TATTR_CONTROL | SLM_TATTR_UNKNOWN))) continue;
        size_t tl;
        const char *tx = slm_strmap_str(&t->syms, id, &tl);
        b.n = 0;
        for (size_t i = 0; i < a.n && st == SLM_OK; i++) {
            fragment f = a.v[i];
            if (f.token >= 0) {
                st = frag_push(&b, f);
                continue;
            }
            size_t pos = f.off, end = f.off + f.len;
            for (;;) {
                const char *m = memmem(text + pos, end - pos, tx, tl);
                if (!m) break;
                size_t mo = (size_t)(m - text);
                if (mo > pos && (st = frag_push(&b, (fragment){pos, mo - pos, -1, true}))) break;
                if ((st = frag_push(&b, (fragment){0, 0, id, false}))) break;
                pos = mo + tl;
            }
            if (st == SLM_OK && pos < end) st = frag_push(&b, (fragment){pos, end - pos, -1, true});
        }
        frag_list tmp = a;
        a = b;
        b = tmp;
    }
done:
    free(b.v);
    if (st) {
        free(a.v);
        return st;
    }
    *out = a;
    return SLM_OK;
}

slm_tok_session *slm_tok_session_new(const slm_tokenizer *t) {
    slm_tok_session *s = calloc(1, sizeof *s);
    if (s) s->t = t;
    else slm_log_error("out of memory allocating a tokenizer session");
    return s;
}

void slm_tok_session_free(slm_tok_session *s) {
    if (!s) return;
    free(s->buf);
    free(s->cps);
    free(s->fl);
    free(s->cplen);
    slm_pretok_words_free(&s->words);
    free(s->sym);
    free(s->heap);
    slm_strmap_free(&s->cache);
    free(s->cache_ids.v);
    free(s->cache_start.v);
    free(s);
}

static slm_status encode_fragment(slm_tok_session *s, const char *text, const fragment *f, slm_ivec *out) {
    if (f->token >= 0) return slm_ivec_push(out, f->token);
    if (s->t->model == SLM_TOK_MODEL_SPM)
        return slm_spm_encode(s, text + f->off, f->len, f->first && s->t->add_space_prefix, out);
    return slm_bpe_encode(s, text + f->off, f->len, out);
}

static slm_status finish(slm_ivec *v, int32_t **ids, size_t *n_ids) {
    if (!v->v && !(v->v = malloc(sizeof(int32_t)))) return SLM_ERR_NOMEM;
    *ids = v->v;
    *n_ids = v->n;
    return SLM_OK;
}

slm_status slm_tok_session_encode(slm_tok_session *s, const char *text, size_t len, bool add_bos,
                                  bool parse_special, int32_t **ids, size_t *n_ids) {
    const slm_tokenizer *t = s->t;
    *ids = NULL;
    *n_ids = 0;
    frag_list fr = {0};
    slm_ivec v = {0};
    slm_status st = partition(t, text, len, parse_special, &fr);
    if (st == SLM_OK && add_bos) {
        if (t->bos < 0) {
            slm_log_error("slm_tokenizer_encode: BOS requested but the vocabulary has no BOS token");
            st = SLM_ERR_USAGE;
        } else {
            st = slm_ivec_push(&v, t->bos);
        }
    }
    for (size_t i = 0; i < fr.n && st == SLM_OK; i++) st = encode_fragment(s, text, &fr.v[i], &v);
    free(fr.v);
    if (st) {
        free(v.v);
        return st;
    }
    return finish(&v, ids, n_ids);
}

slm_status slm_tokenizer_encode(const slm_tokenizer *t, const char *text, size_t len, bool add_bos,
                                bool parse_special, int32_t **ids, size_t *n_ids) {
    slm_tok_session *s = slm_tok_session_new(t);
    if (!s) return SLM_ERR_NOMEM;
    slm_status st = slm_tok_session_encode(s, text, len, add_bos, parse_special, ids, n_ids);
    slm_tok_session_free(s);
    return st;
}

/* A cut between text[i-1] == '\n' and text[i] splits no token.
 * SPM: no token holds '\n' together with other bytes (t->nl_barrier), so no
 * merge crosses it.  BPE: the newline must be a whitespace run of its own,
 * between two printable ASCII characters: then every pre-tokenizer ends a
 * word after it and starts one at text[i], with or without the cut (a
 * longer run would not do: "\n\nX" splits as "\n" "\n" "X" because of
 * \s+(?!\S), but "\n\n" at the end of a chunk stays whole). */
static bool safe_cut(const slm_tokenizer *t, const char *text, size_t i) {
    if (i < 2 || text[i - 1] != '\n') return false;
    if (t->model == SLM_TOK_MODEL_SPM) return t->nl_barrier;
    unsigned char a = (unsigned char)text[i - 2], c = (unsigned char)text[i];
    return a > 0x20 && a < 0x7F && c > 0x20 && c < 0x7F;
}

#define CHUNK_TARGET (64 * 1024)

slm_status slm_tokenizer_encode_mt(const slm_tokenizer *t, const char *text, size_t len, bool add_bos,
                                   bool parse_special, int n_threads, int32_t **ids, size_t *n_ids) {
    *ids = NULL;
    *n_ids = 0;
    if (n_threads <= 0) n_threads = omp_get_max_threads();
    frag_list fr = {0}, ch = {0};
    slm_status st = partition(t, text, len, parse_special, &fr);
    /* cut raw fragments into chunks of ~CHUNK_TARGET bytes at safe places */
    for (size_t i = 0; i < fr.n && st == SLM_OK; i++) {
        fragment f = fr.v[i];
        if (f.token >= 0 || f.len <= CHUNK_TARGET) {
            st = frag_push(&ch, f);
            continue;
        }
        size_t start = f.off, end = f.off + f.len;
        bool first = true;
        while (st == SLM_OK && end - start > CHUNK_TARGET) {
            size_t cut = start + CHUNK_TARGET, lim = start + 4 * CHUNK_TARGET < end ? start + 4 * CHUNK_TARGET : end;
            while (cut < lim && !safe_cut(t, text, cut)) cut++;
            if (cut >= lim) break; /* no safe place nearby: keep the rest whole */
            st = frag_push(&ch, (fragment){start, cut - start, -1, first});
            first = false;
            start = cut;
        }
        if (st == SLM_OK) st = frag_push(&ch, (fragment){start, end - start, -1, first});
    }
    free(fr.v);
    slm_ivec *parts = st == SLM_OK ? calloc(ch.n ? ch.n : 1, sizeof *parts) : NULL;
    if (st == SLM_OK && !parts) st = SLM_ERR_NOMEM;
    if (st == SLM_OK) {
        int failed = 0;
#pragma omp parallel num_threads(n_threads)
        {
            slm_tok_session *s = slm_tok_session_new(t);
            if (!s) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic, 1)
            for (size_t i = 0; i < ch.n; i++) {
                if (s && encode_fragment(s, text, &ch.v[i], &parts[i]) != SLM_OK) {
#pragma omp atomic write
                    failed = 1;
                }
            }
            slm_tok_session_free(s);
        }
        if (failed) st = SLM_ERR_NOMEM;
    }
    slm_ivec v = {0};
    if (st == SLM_OK && add_bos) {
        if (t->bos < 0) {
            slm_log_error("slm_tokenizer_encode_mt: BOS requested but the vocabulary has no BOS token");
            st = SLM_ERR_USAGE;
        } else {
            st = slm_ivec_push(&v, t->bos);
        }
    }
    for (size_t i = 0; i < ch.n && st == SLM_OK; i++) st = slm_ivec_append(&v, parts[i].v, parts[i].n);
    if (parts)
        for (size_t i = 0; i < ch.n; i++) free(parts[i].v);
    free(parts);
    free(ch.v);
    if (st) {
        free(v.v);
        return st;
    }
    return finish(&v, ids, n_ids);
}
