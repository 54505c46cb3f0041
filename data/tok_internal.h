/* data/tok_internal.h — what tokenizer.c, tok_spm.c and tok_bpe.c share:
 * the tokenizer struct, a string -> id hash table, growable id vectors and
 * the per-thread encoding session.  Not a public interface. */
#ifndef SLM_DATA_TOK_INTERNAL_H
#define SLM_DATA_TOK_INTERNAL_H

#include "data/pretok.h"
#include "data/tokenizer.h"

/* Token attributes: llama.cpp's llama_token_attr bits. */
enum {
    SLM_TATTR_UNKNOWN = 1 << 0,
    SLM_TATTR_UNUSED = 1 << 1,
    SLM_TATTR_NORMAL = 1 << 2,
    SLM_TATTR_CONTROL = 1 << 3,
    SLM_TATTR_USER_DEFINED = 1 << 4,
    SLM_TATTR_BYTE = 1 << 5,
};

typedef struct {
    int32_t *v; /* (n) */
    size_t n, cap;
} slm_ivec;

slm_status slm_ivec_push(slm_ivec *a, int32_t x);
slm_status slm_ivec_append(slm_ivec *a, const int32_t *x, size_t n);

/* Open-addressing map from byte strings (stored in an owned arena) to dense
 * ids 0..n-1 in insertion order. */
typedef struct {
    char *text;     /* (text_len) all strings back to back */
    size_t text_len, text_cap;
    uint64_t *off;  /* (n + 1) string i is text[off[i] .. off[i+1]-1), NUL-terminated */
    size_t n, cap;
    int32_t *slot;  /* (n_slots) id or -1 */
    size_t n_slots; /* power of two */
} slm_strmap;

uint64_t slm_str_hash(const char *s, size_t len);
int32_t slm_strmap_find(const slm_strmap *m, const char *s, size_t len);
/* Adds s unless present; *id receives the (new or existing) id. */
slm_status slm_strmap_add(slm_strmap *m, const char *s, size_t len, int32_t *id, bool *added);
void slm_strmap_free(slm_strmap *m);
static inline const char *slm_strmap_str(const slm_strmap *m, int32_t id, size_t *len) {
    *len = (size_t)(m->off[id + 1] - m->off[id] - 1);
    return m->text + m->off[id];
}

typedef enum { SLM_TOK_MODEL_SPM, SLM_TOK_MODEL_BPE } slm_tok_model;

/* One BPE merge: (left, right) symbol pair -> rank and merged symbol. */
typedef struct {
    uint64_t key; /* left << 32 | right; UINT64_MAX marks an empty slot */
    int32_t rank;
    int32_t result;
} slm_bpe_merge;

struct slm_tokenizer {
    slm_tok_model model;
    slm_pretok_kind pre;
    char model_name[32];
    char pre_name[64];
    int32_t n_vocab;
    /* Symbols: ids 0..n_vocab-1 are the tokens; BPE adds merge parts and
     * results that are not tokens as ids >= n_vocab. */
    slm_strmap syms;
    float *scores;    /* (n_vocab) */
    int32_t *types;   /* (n_vocab) tokenizer.ggml.token_type as read (1 if absent) */
    uint8_t *attr;    /* (n_vocab) SLM_TATTR_* after llama.cpp's auto-detection */
    int32_t bos, eos, unk, pad, eot;
    bool add_bos, add_eos, add_space_prefix, ignore_merges, clean_spaces;
    int32_t *special; /* (n_special) control/user-defined/unknown ids, longest text first */
    size_t n_special;
    int32_t byte_tok[256]; /* SPM byte fallback token of each byte (-1: none) */
    int32_t byte_sym[256]; /* BPE symbol of each byte's GPT-2 character */
    bool nl_barrier;       /* no token contains '\n' next to other text: chunks may split after '\n' */
    bool ws_barrier;       /* SPM: '▁' only leads tokens (or fills them): merges stay within "▁*[^▁]*" */
    slm_bpe_merge *merges; /* (n_merge_slots) hash table */
    size_t n_merge_slots, n_merges;
    uint8_t merges_sha[32]; /* SHA-256 of the merge strings in rank order */
    char *piece;      /* decoded text of every token (control tokens: their text) */
    uint64_t *piece_off; /* (n_vocab + 1) */
    char fingerprint[65];
};

/* Scratch of one encoding thread: buffers reused across calls and a cache
 * of BPE word -> ids. */
typedef struct slm_tok_session {
    const slm_tokenizer *t;
    char *buf;        /* escaped / sanitized text */
    size_t buf_cap;
    uint32_t *cps;    /* (cap_cp) code points */
    uint16_t *fl;     /* (cap_cp) their classes */
    uint8_t *cplen;   /* (cap_cp) their UTF-8 byte lengths */
    size_t cap_cp;
    slm_pretok_words words;
    void *sym;        /* merge symbols, model specific */
    size_t sym_cap;
    void *heap;
    size_t heap_cap;
    slm_strmap cache; /* BPE: word -> index into cache_ids */
    slm_ivec cache_ids;
    slm_ivec cache_start; /* (cache.n + 1) */
} slm_tok_session;

/* Session cache of text piece -> ids: get appends the cached ids to out and
 * returns true on a hit (*st: the append's status); put stores a piece. */
bool slm_tok_cache_get(slm_tok_session *s, const char *key, size_t len, slm_ivec *out, slm_status *st);
slm_status slm_tok_cache_put(slm_tok_session *s, const char *key, size_t len, const int32_t *ids, size_t n);

/* SPM-encodes one raw text fragment (adding the '▁' prefix if prefix). */
slm_status slm_spm_encode(slm_tok_session *s, const char *text, size_t len, bool prefix, slm_ivec *out);
/* BPE-encodes one raw text fragment: pre-tokenize, then merge each word. */
slm_status slm_bpe_encode(slm_tok_session *s, const char *text, size_t len, slm_ivec *out);
/* Builds the BPE symbol table and merge ranks from tokenizer.ggml.merges. */
slm_status slm_bpe_load_merges(slm_tokenizer *t, const slm_gguf *g, int64_t key);

/* Grows *p (capacity *cap elements of elem bytes) to at least need elements. */
slm_status slm_tok_grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
