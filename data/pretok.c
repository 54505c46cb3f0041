/* data/pretok.c — the pre-tokenizer matchers of pretok.h.  The structure of
 * each matcher follows the alternation order of its regular expression; a
 * position past the end of the current segment has no class (flags 0), as
 * in llama.cpp's unicode_regex_split_custom_*. */
#include "data/pretok.h"

#include <stdlib.h>
#include <string.h>

#include "data/unicode.h"

#define OUT_OF_RANGE 0xFFFFFFFFu

static slm_status push(slm_pretok_words *w, size_t len) {
    if (len == 0) return SLM_OK;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        uint32_t *p = realloc(w->len, cap * sizeof *p);
        if (!p) return SLM_ERR_NOMEM;
        w->len = p;
        w->cap = cap;
    }
    w->len[w->n++] = (uint32_t)len;
    return SLM_OK;
}

void slm_pretok_words_free(slm_pretok_words *w) {
    if (!w) return;
    free(w->len);
    memset(w, 0, sizeof *w);
}

/* A segment [ini, end) of the code points with accessors that return
 * "nothing" outside it. */
typedef struct {
    const uint32_t *cps;
    const uint16_t *fl;
    size_t ini, end;
} seg;

static inline uint32_t cpt_at(const seg *s, size_t i) { return i < s->end ? s->cps[i] : OUT_OF_RANGE; }
static inline uint16_t fl_at(const seg *s, size_t i) { return i < s->end ? s->fl[i] : 0; }
#define IS_L(f) ((f) & SLM_UCP_LETTER)
#define IS_N(f) ((f) & SLM_UCP_NUMBER)
#define IS_WS(f) ((f) & SLM_UCP_WHITESPACE)
/* [^\s\p{L}\p{N}]: any code point in the segment that is none of these */
#define IS_OTHER(f) (!((f) & (SLM_UCP_WHITESPACE | SLM_UCP_LETTER | SLM_UCP_NUMBER)) && (f) != 0)

/* 's|'t|'re|'ve|'m|'ll|'d (ci: case-insensitive); returns the match length or 0 */
static size_t match_contraction(const seg *s, size_t pos, bool ci) {
    if (cpt_at(s, pos) != '\'' || pos + 1 >= s->end) return 0;
    uint32_t a = cpt_at(s, pos + 1);
    if (ci) a = slm_unicode_tolower(a);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 >= s->end) return 0;
    uint32_t b = cpt_at(s, pos + 2);
    if (ci) b = slm_unicode_tolower(b);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static slm_status split_gpt2(const seg *s, slm_pretok_words *w) {
    size_t pos = s->ini, prev = s->ini;
    slm_status st = SLM_OK;
#define EMIT(e) do { st = push(w, (e) - prev); prev = (e); if (st) return st; } while (0)
    while (pos < s->end) {
        uint32_t c = cpt_at(s, pos);
        uint16_t f = fl_at(s, pos);
        size_t k = match_contraction(s, pos, false);
        if (k) {
            pos += k;
            EMIT(pos);
            continue;
        }
        uint16_t f2 = c == ' ' ? fl_at(s, pos + 1) : f;
        if (IS_L(f2)) { /* ' ?\p{L}+' */
            pos += c == ' ';
            while (IS_L(fl_at(s, pos))) pos++;
            EMIT(pos);
            continue;
        }
        if (IS_N(f2)) { /* ' ?\p{N}+' */
            pos += c == ' ';
            while (IS_N(fl_at(s, pos))) pos++;
            EMIT(pos);
            continue;
        }
        if (IS_OTHER(f2)) { /* ' ?[^\s\p{L}\p{N}]+' */
            pos += c == ' ';
            while (IS_OTHER(fl_at(s, pos))) pos++;
            EMIT(pos);
            continue;
        }
        size_t nws = 0;
        while (IS_WS(fl_at(s, pos + nws))) nws++;
        if (nws > 1 && cpt_at(s, pos + nws) != OUT_OF_RANGE) { /* '\s+(?!\S)' */
            pos += nws - 1;
            EMIT(pos);
            continue;
        }
        if (nws > 0) { /* '\s+' */
            pos += nws;
            EMIT(pos);
            continue;
        }
        pos++; /* no alternative matches: the code point stands alone */
        EMIT(pos);
    }
    return st;
}

/* LLAMA3 (max_digits 3) and QWEN2 (max_digits 1); see pretok.h. */
static slm_status split_llama3(const seg *s, size_t max_digits, slm_pretok_words *w) {
    size_t pos = s->ini, prev = s->ini;
    slm_status st = SLM_OK;
    while (pos < s->end) {
        uint32_t c = cpt_at(s, pos);
        uint16_t f = fl_at(s, pos);
        size_t k = match_contraction(s, pos, true);
        if (k) {
            pos += k;
            EMIT(pos);
            continue;
        }
        /* [^\r\n\p{L}\p{N}]?\p{L}+ */
        if (!(c == '\r' || c == '\n' || IS_N(f)) && (IS_L(f) || IS_L(fl_at(s, pos + 1)))) {
            pos++;
            while (IS_L(fl_at(s, pos))) pos++;
            EMIT(pos);
            continue;
        }
        if (IS_N(f)) { /* \p{N}{1,max_digits} */
            size_t ini = pos;
            while (IS_N(fl_at(s, pos))) {
                if (++pos - ini >= max_digits) {
                    EMIT(pos);
                    ini = pos;
                }
            }
            EMIT(pos);
            continue;
        }
        /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
        uint16_t f2 = c == ' ' ? fl_at(s, pos + 1) : f;
        if (IS_OTHER(f2)) {
            pos += c == ' ';
            while (IS_OTHER(fl_at(s, pos))) pos++;
            while (cpt_at(s, pos) == '\r' || cpt_at(s, pos) == '\n') pos++;
            EMIT(pos);
            continue;
        }
        size_t nws = 0, last_nl_end = 0;
        while (IS_WS(fl_at(s, pos + nws))) {
            uint32_t c2 = cpt_at(s, pos + nws);
            if (c2 == '\r' || c2 == '\n') last_nl_end = pos + nws + 1;
            nws++;
        }
        if (last_nl_end > 0) { /* \s*[\r\n]+ */
            pos = last_nl_end;
            EMIT(pos);
            continue;
        }
        if (nws > 1 && cpt_at(s, pos + nws) != OUT_OF_RANGE) { /* \s+(?!\S) */
            pos += nws - 1;
            EMIT(pos);
            continue;
        }
        if (nws > 0) { /* \s+ */
            pos += nws;
            EMIT(pos);
            continue;
        }
        pos++;
        EMIT(pos);
    }
    return st;
#undef EMIT
}

/* Runs of code points satisfying pred become words, the text between them
 * too (std::regex_iterator over "[class]+" as llama.cpp applies it). */
typedef bool (*cp_pred)(uint32_t cp, uint16_t fl);

static slm_status split_runs(const seg *s, cp_pred pred, slm_pretok_words *w) {
    size_t pos = s->ini, prev = s->ini;
    slm_status st;
    while (pos < s->end) {
        if (!pred(s->cps[pos], s->fl[pos])) {
            pos++;
            continue;
        }
        size_t a = pos;
        while (pos < s->end && pred(s->cps[pos], s->fl[pos])) pos++;
        if ((st = push(w, a - prev)) || (st = push(w, pos - a))) return st;
        prev = pos;
    }
    return push(w, s->end - prev);
}

/* [\p{P}\$\+<=>\^~\|]: llama.cpp matches it on "collapsed" text where ASCII
 * stays itself (so the ASCII members are P plus $+<=>^~|, i.e. every ASCII
 * punctuation or symbol except '`') and any other code point that is not
 * whitespace stands for its class (so only \p{P} matches). */
static bool is_default_punct(uint32_t cp, uint16_t fl) {
    if (cp < 128) return (fl & (SLM_UCP_PUNCT | SLM_UCP_SYMBOL)) && cp != '`';
    return !(fl & SLM_UCP_WHITESPACE) && (fl & SLM_UCP_PUNCT);
}

/* \p{N}+ on collapsed text: ASCII 0-9 or a non-whitespace number */
static bool is_number(uint32_t cp, uint16_t fl) {
    (void)cp;
    return (fl & SLM_UCP_NUMBER) && !(fl & SLM_UCP_WHITESPACE);
}

/* [0-9][0-9][0-9]: non-overlapping triples of ASCII digits, leftmost first */
static slm_status split_digit_triples(const seg *s, slm_pretok_words *w) {
    size_t pos = s->ini, prev = s->ini;
    slm_status st;
    while (pos + 3 <= s->end) {
        const uint32_t *c = s->cps + pos;
        if (c[0] >= '0' && c[0] <= '9' && c[1] >= '0' && c[1] <= '9' && c[2] >= '0' && c[2] <= '9') {
            if ((st = push(w, pos - prev)) || (st = push(w, 3))) return st;
            pos += 3;
            prev = pos;
        } else {
            pos++;
        }
    }
    return push(w, s->end - prev);
}

/* Applies one expression to every segment listed in in (lengths), appending to out. */
static slm_status apply(int which, const uint32_t *cps, const uint16_t *fl, const slm_pretok_words *in,
                        slm_pretok_words *out) {
    size_t start = 0;
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        seg s = {cps, fl, start, start + in->len[i]};
        slm_status st;
        switch (which) {
        case 0: st = split_runs(&s, is_default_punct, out); break;
        case 1: st = split_gpt2(&s, out); break;
        case 2: st = split_runs(&s, is_number, out); break;
        default: st = split_digit_triples(&s, out); break;
        }
        if (st) return st;
        start = s.end;
    }
    return SLM_OK;
}

slm_status slm_pretok_split(slm_pretok_kind kind, const uint32_t *cps, const uint16_t *fl,
                            size_t n, slm_pretok_words *w) {
    w->n = 0;
    if (n == 0) return SLM_OK;
    seg s = {cps, fl, 0, n};
    switch (kind) {
    case SLM_PRETOK_GPT2: return split_gpt2(&s, w);
    case SLM_PRETOK_LLAMA3: return split_llama3(&s, 3, w);
    case SLM_PRETOK_QWEN2: return split_llama3(&s, 1, w);
    case SLM_PRETOK_DEFAULT: {
        slm_pretok_words a = {0}, b = {0};
        slm_status st = push(&a, n);
        for (int which = 0; which < 4 && st == SLM_OK; which++) {
            st = apply(which, cps, fl, &a, &b);
            slm_pretok_words t = a;
            a = b;
            b = t;
        }
        slm_pretok_words_free(&b);
        if (st == SLM_OK) {
            slm_pretok_words_free(w);
            *w = a;
        } else {
            slm_pretok_words_free(&a);
        }
        return st;
    }
    default: SLM_ASSERT(!"unknown pre-tokenizer kind");
    }
    return SLM_OK;
}

/* tokenizer.ggml.pre names llama.cpp maps to these four expressions. */
static const struct {
    const char *name;
    slm_pretok_kind kind;
} k_names[] = {
    {"default", SLM_PRETOK_DEFAULT}, {"gpt-2", SLM_PRETOK_GPT2},     {"phi-2", SLM_PRETOK_GPT2},
    {"jina-es", SLM_PRETOK_GPT2},    {"jina-de", SLM_PRETOK_GPT2},   {"gigachat", SLM_PRETOK_GPT2},
    {"jina-v2-es", SLM_PRETOK_GPT2}, {"jina-v2-de", SLM_PRETOK_GPT2}, {"mpt", SLM_PRETOK_GPT2},
    {"olmo", SLM_PRETOK_GPT2},       {"jais", SLM_PRETOK_GPT2},      {"trillion", SLM_PRETOK_GPT2},
    {"exaone4", SLM_PRETOK_GPT2},    {"llama3", SLM_PRETOK_LLAMA3},  {"llama-v3", SLM_PRETOK_LLAMA3},
    {"llama-bpe", SLM_PRETOK_LLAMA3}, {"falcon3", SLM_PRETOK_LLAMA3}, {"pixtral", SLM_PRETOK_LLAMA3},
    {"dbrx", SLM_PRETOK_LLAMA3},     {"smaug-bpe", SLM_PRETOK_LLAMA3}, {"qwen2", SLM_PRETOK_QWEN2},
    {"deepseek-r1-qwen", SLM_PRETOK_QWEN2}, {"stablelm2", SLM_PRETOK_QWEN2}, {"megrez", SLM_PRETOK_QWEN2},
};

bool slm_pretok_from_name(const char *pre, size_t len, slm_pretok_kind *kind) {
    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++) {
        if (strlen(k_names[i].name) == len && !memcmp(k_names[i].name, pre, len)) {
            *kind = k_names[i].kind;
            return true;
        }
    }
    return false;
}
