/* data/tokenizer.c — loading a tokenizer from GGUF metadata the way
 * llama.cpp's llama_vocab::impl::load does (token types, special token
 * defaults and auto-detection, add_bos rules), accessors, pieces, decode and
 * the fingerprint.  Encoding lives in tok_encode.c, the models in tok_spm.c
 * and tok_bpe.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "data/tok_internal.h"
#include "data/unicode.h"

/* Texts llama.cpp marks as control (end-of-generation, FIM) even when the
 * file says otherwise (llama-vocab.cpp, "auto-detect special tokens"). */
static const char *const k_forced_control[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
    "<end_of_utterance>", "<|eom_id|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "</s>",
    "<eos>", "<turn|>", "<|tool_response>", "[e~[", "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
    "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", "<|fim_suffix|>", "<fim-suffix>",
    "<fim_suffix>", "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", "<|fim_middle|>",
    "<fim-middle>", "<fim_middle>", "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>",
    "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>", "<|repo_name|>",
    "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
};

static uint8_t attr_of_type(int32_t type) {
    switch (type) {
    case 1: return SLM_TATTR_NORMAL;
    case 2: return SLM_TATTR_UNKNOWN;
    case 3: return SLM_TATTR_CONTROL;
    case 4: return SLM_TATTR_USER_DEFINED;
    case 5: return SLM_TATTR_UNUSED;
    case 6: return SLM_TATTR_BYTE;
    default: return 0; /* undefined */
    }
}

void slm_tokenizer_free(slm_tokenizer *t) {
    if (!t) return;
    slm_strmap_free(&t->syms);
    free(t->scores);
    free(t->types);
    free(t->attr);
    free(t->special);
    free(t->merges);
    free(t->piece);
    free(t->piece_off);
    free(t);
}

static slm_status fail(const slm_gguf *g, const char *key, const char *what) {
    slm_log_error("%s: %s: %s", slm_gguf_path(g), key, what);
    return SLM_ERR_FORMAT;
}

/* Numeric array key with element type want and at least n elements, or absent (-1). */
static slm_status find_array(const slm_gguf *g, const char *key, slm_gguf_type want, slm_gguf_type alt,
                             uint64_t n, int64_t *idx) {
    *idx = slm_gguf_find_key(g, key);
    if (*idx < 0) return SLM_OK;
    if (slm_gguf_kv_type(g, *idx) != SLM_GGUF_ARRAY ||
        (slm_gguf_arr_type(g, *idx) != want && slm_gguf_arr_type(g, *idx) != alt))
        return fail(g, key, "has the wrong type (expected a numeric array)");
    if (slm_gguf_arr_n(g, *idx) < n) return fail(g, key, "has fewer elements than tokenizer.ggml.tokens");
    return SLM_OK;
}

static slm_status special_id(const slm_gguf *g, const char *key, int32_t n_vocab, int32_t *id) {
    if (*id >= n_vocab) *id = -1; /* default out of range: disabled */
    int64_t v = -1;
    slm_status st = slm_gguf_get_i64(g, key, false, &v);
    if (st) return st;
    if (v < 0) return SLM_OK;
    if (v >= n_vocab) slm_log_warn("%s: %s = %lld is outside the vocabulary (%d tokens); ignored",
                                   slm_gguf_path(g), key, (long long)v, n_vocab);
    else *id = (int32_t)v;
    return SLM_OK;
}

static int cmp_special(const void *a, const void *b, void *ctx) {
    const slm_tokenizer *t = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    uint64_t lx = t->syms.off[x + 1] - t->syms.off[x], ly = t->syms.off[y + 1] - t->syms.off[y];
    if (lx != ly) return lx > ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

static slm_status build_pieces(slm_tokenizer *t) {
    size_t total = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) total += t->syms.off[i + 1] - t->syms.off[i];
    t->piece = malloc(total + 1);
    t->piece_off = malloc(sizeof(uint64_t) * ((size_t)t->n_vocab + 1));
    if (!t->piece || !t->piece_off) return SLM_ERR_NOMEM;
    size_t k = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        size_t len;
        const char *s = slm_strmap_str(&t->syms, i, &len);
        uint8_t a = t->attr[i];
        t->piece_off[i] = k;
        if (a & (SLM_TATTR_UNKNOWN | SLM_TATTR_CONTROL | SLM_TATTR_USER_DEFINED)) {
            memcpy(t->piece + k, s, len), k += len;
        } else if (a & SLM_TATTR_NORMAL) {
            if (t->model == SLM_TOK_MODEL_SPM) { /* '▁' -> ' ' */
                for (size_t j = 0; j < len;) {
                    if (j + 3 <= len && !memcmp(s + j, "\xE2\x96\x81", 3)) t->piece[k++] = ' ', j += 3;
                    else t->piece[k++] = s[j++];
                }
            } else { /* GPT-2 characters -> bytes (other characters kept as they are) */
                for (size_t j = 0; j < len;) {
                    size_t used;
                    uint32_t cp = slm_utf8_decode((const unsigned char *)s + j, len - j, &used);
                    int b = slm_unicode_cp_to_byte(cp);
                    if (b >= 0) t->piece[k++] = (char)b;
                    else memcpy(t->piece + k, s + j, used), k += used;
                    j += used;
                }
            }
        } else if ((a & SLM_TATTR_BYTE) && len == 6 && !memcmp(s, "<0x", 3)) {
            t->piece[k++] = (char)strtol((char[3]){s[3], s[4], 0}, NULL, 16);
        }
        /* unused / undefined: nothing, as llama.cpp */
    }
    t->piece_off[t->n_vocab] = k;
    return SLM_OK;
}

static void fingerprint(slm_tokenizer *t) {
    slm_sha256 h;
    uint8_t d[32];
    slm_sha256_init(&h);
    slm_sha256_update(&h, t->model_name, strlen(t->model_name) + 1);
    slm_sha256_update(&h, t->pre_name, strlen(t->pre_name) + 1);
    for (int32_t i = 0; i < t->n_vocab; i++) {
        size_t len;
        const char *s = slm_strmap_str(&t->syms, i, &len);
        uint64_t l = len;
        slm_sha256_update(&h, &l, sizeof l);
        slm_sha256_update(&h, s, len);
        slm_sha256_update(&h, &t->types[i], sizeof(int32_t));
        slm_sha256_update(&h, &t->scores[i], sizeof(float));
    }
    slm_sha256_update(&h, t->merges_sha, sizeof t->merges_sha);
    int32_t sp[4] = {t->bos, t->eos, t->add_bos, t->add_space_prefix};
    slm_sha256_update(&h, sp, sizeof sp);
    slm_sha256_final(&h, d);
    slm_sha256_hex(d, t->fingerprint);
}

slm_status slm_tokenizer_from_gguf(const slm_gguf *g, slm_tokenizer **out) {
    *out = NULL;
    const char *s;
    uint64_t len;
    slm_status st = slm_gguf_get_str(g, "tokenizer.ggml.model", true, &s, &len);
    if (st) return st;
    slm_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return SLM_ERR_NOMEM;
    t->bos = t->eos = t->unk = t->pad = t->eot = -1;
    if (len == 5 && !memcmp(s, "llama", 5)) {
        t->model = SLM_TOK_MODEL_SPM;
        t->bos = 1, t->eos = 2, t->unk = 0;
        t->add_bos = true, t->add_space_prefix = true;
    } else if (len == 4 && !memcmp(s, "gpt2", 4)) {
        t->model = SLM_TOK_MODEL_BPE;
        t->bos = 11, t->eos = 11; /* llama.cpp's defaults */
        t->clean_spaces = true;
    } else {
        slm_log_error("%s: tokenizer.ggml.model = '%.*s' is not supported (slm reads 'llama' and 'gpt2')",
                      slm_gguf_path(g), (int)(len > 64 ? 64 : len), s);
        free(t);
        return SLM_ERR_FORMAT;
    }
    snprintf(t->model_name, sizeof t->model_name, "%s", t->model == SLM_TOK_MODEL_SPM ? "llama" : "gpt2");
    const char *pre = NULL;
    uint64_t pre_len = 0;
    if ((st = slm_gguf_get_str(g, "tokenizer.ggml.pre", false, &pre, &pre_len))) goto done;
    snprintf(t->pre_name, sizeof t->pre_name, "%.*s", (int)(pre_len < 63 ? pre_len : 63), pre ? pre : "");
    if (t->model == SLM_TOK_MODEL_BPE) {
        if (!pre || pre_len == 0) {
            slm_log_warn("%s: tokenizer.ggml.pre missing; using llama.cpp's 'default' pre-tokenizer",
                         slm_gguf_path(g));
            t->pre = SLM_PRETOK_DEFAULT;
        } else if (!slm_pretok_from_name(pre, pre_len, &t->pre)) {
            slm_log_error("%s: tokenizer.ggml.pre = '%s' is not supported by slm (known: default, gpt-2, "
                          "llama-bpe/llama3, qwen2 and their aliases)", slm_gguf_path(g), t->pre_name);
            st = SLM_ERR_FORMAT;
            goto done;
        }
        const char *lb[] = {"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"};
        for (size_t i = 0; i < sizeof lb / sizeof lb[0]; i++)
            if (!strcmp(t->pre_name, lb[i])) t->ignore_merges = true, t->add_bos = true;
        if (t->pre == SLM_PRETOK_QWEN2) t->clean_spaces = false;
    } else {
        t->pre = SLM_PRETOK_DEFAULT;
    }
    if ((st = slm_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", false, &t->add_space_prefix))) goto done;

    int64_t tk = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    if (tk < 0 || slm_gguf_kv_type(g, tk) != SLM_GGUF_ARRAY || slm_gguf_arr_type(g, tk) != SLM_GGUF_STRING) {
        st = fail(g, "tokenizer.ggml.tokens", "missing or not an array of strings");
        goto done;
    }
    uint64_t n = slm_gguf_arr_n(g, tk);
    if (n == 0 || n > INT32_MAX / 2) {
        st = fail(g, "tokenizer.ggml.tokens", "has no tokens or too many");
        goto done;
    }
    t->n_vocab = (int32_t)n;
    int64_t sk, yk;
    if ((st = find_array(g, "tokenizer.ggml.scores", SLM_GGUF_FLOAT32, SLM_GGUF_INT32, n, &sk)) ||
        (st = find_array(g, "tokenizer.ggml.token_type", SLM_GGUF_INT32, SLM_GGUF_INT32, n, &yk)))
        goto done;
    t->scores = calloc(n, sizeof *t->scores);
    t->types = malloc(n * sizeof *t->types);
    t->attr = malloc(n);
    if (!t->scores || !t->types || !t->attr) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    const void *sd = sk >= 0 ? slm_gguf_arr_data(g, sk) : NULL;
    const int32_t *yd = yk >= 0 ? slm_gguf_arr_data(g, yk) : NULL;
    bool scores_int = sk >= 0 && slm_gguf_arr_type(g, sk) == SLM_GGUF_INT32;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t l;
        const char *w = slm_gguf_arr_str(g, tk, i, &l);
        char empty[32];
        if (l == 0) { /* llama.cpp renames empty tokens */
            slm_log_warn("%s: token %llu is empty", slm_gguf_path(g), (unsigned long long)i);
            l = (uint64_t)snprintf(empty, sizeof empty, "[EMPTY_%llu]", (unsigned long long)i);
            w = empty;
        }
        int32_t id;
        bool added;
        if ((st = slm_strmap_add(&t->syms, w, l, &id, &added))) goto done;
        if (!added) {
            slm_log_error("%s: tokenizer.ggml.tokens: duplicate token '%.*s' at ids %d and %llu",
                          slm_gguf_path(g), (int)(l > 64 ? 64 : l), w, id, (unsigned long long)i);
            st = SLM_ERR_FORMAT;
            goto done;
        }
        if (sd) {
            if (scores_int) t->scores[i] = (float)((const int32_t *)sd)[i];
            else memcpy(&t->scores[i], (const char *)sd + 4 * i, 4);
        }
        t->types[i] = yd ? yd[i] : 1;
        t->attr[i] = yd ? attr_of_type(yd[i]) : SLM_TATTR_NORMAL;
    }
    if (t->model == SLM_TOK_MODEL_BPE) {
        int64_t mk = slm_gguf_find_key(g, "tokenizer.ggml.merges");
        if (mk < 0 || slm_gguf_kv_type(g, mk) != SLM_GGUF_ARRAY || slm_gguf_arr_type(g, mk) != SLM_GGUF_STRING) {
            st = fail(g, "tokenizer.ggml.merges", "missing or not an array of strings (needed by 'gpt2')");
            goto done;
        }
        if ((st = slm_bpe_load_merges(t, g, mk))) goto done;
    }
    /* byte fallback tokens (SPM): "<0xXX>", else the byte itself */
    for (int b = 0; b < 256; b++) {
        char hx[8];
        snprintf(hx, sizeof hx, "<0x%02X>", b);
        int32_t id = slm_strmap_find(&t->syms, hx, 6);
        if (id < 0 || id >= t->n_vocab) id = slm_strmap_find(&t->syms, (char[1]){(char)b}, 1);
        t->byte_tok[b] = id >= 0 && id < t->n_vocab ? id : -1;
    }
    if ((st = special_id(g, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos)) ||
        (st = special_id(g, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos)) ||
        (st = special_id(g, "tokenizer.ggml.unknown_token_id", t->n_vocab, &t->unk)) ||
        (st = special_id(g, "tokenizer.ggml.padding_token_id", t->n_vocab, &t->pad)) ||
        (st = special_id(g, "tokenizer.ggml.eot_token_id", t->n_vocab, &t->eot)) ||
        (st = slm_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", false, &t->add_bos)) ||
        (st = slm_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", false, &t->add_eos)))
        goto done;
    if (t->add_bos && t->bos < 0) {
        st = fail(g, "tokenizer.ggml.add_bos_token", "is true but tokenizer.ggml.bos_token_id is not set");
        goto done;
    }
    /* llama.cpp's auto-detection of control and unused tokens */
    for (size_t i = 0; i < sizeof k_forced_control / sizeof k_forced_control[0]; i++) {
        int32_t id = slm_strmap_find(&t->syms, k_forced_control[i], strlen(k_forced_control[i]));
        if (id >= 0 && id < t->n_vocab) t->attr[id] |= SLM_TATTR_CONTROL;
    }
    for (int32_t i = 0; i < t->n_vocab; i++) {
        size_t l;
        const char *w = slm_strmap_str(&t->syms, i, &l);
        if ((t->attr[i] & SLM_TATTR_CONTROL) && memmem(w, l, "unused", 6)) t->attr[i] |= SLM_TATTR_UNUSED;
    }
    t->nl_barrier = true;
    for (int32_t i = 0; i < t->n_vocab && t->nl_barrier; i++) {
        size_t l;
        const char *w = slm_strmap_str(&t->syms, i, &l);
        if (l > 1 && memchr(w, '\n', l)) t->nl_barrier = false;
    }
    /* SPM: does '▁' ever follow another character inside a token that is not all '▁'? */
    t->ws_barrier = t->model == SLM_TOK_MODEL_SPM;
    for (int32_t i = 0; i < t->n_vocab && t->ws_barrier; i++) {
        size_t l;
        const char *w = slm_strmap_str(&t->syms, i, &l);
        bool inner = false, all_ws = l > 0 && l % 3 == 0;
        for (size_t j = 1; j + 3 <= l && !inner; j++) inner = !memcmp(w + j, "\xE2\x96\x81", 3);
        for (size_t j = 0; j + 3 <= l && all_ws; j += 3) all_ws = !memcmp(w + j, "\xE2\x96\x81", 3);
        if (inner && !all_ws) t->ws_barrier = false;
    }
    const char *ud[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"};
    for (size_t i = 0; i < 4; i++) {
        int32_t id = slm_strmap_find(&t->syms, ud[i], strlen(ud[i]));
        if (id >= 0 && id < t->n_vocab) t->attr[id] = SLM_TATTR_USER_DEFINED;
    }
    /* special-token partition list: control, user-defined and unknown, longest first */
    t->special = malloc(n * sizeof *t->special);
    if (!t->special) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->attr[i] & (SLM_TATTR_CONTROL | SLM_TATTR_USER_DEFINED | SLM_TATTR_UNKNOWN))
            t->special[t->n_special++] = i;
    qsort_r(t->special, t->n_special, sizeof *t->special, cmp_special, t);
    if ((st = build_pieces(t))) goto done;
    fingerprint(t);
done:
    if (st) {
        slm_tokenizer_free(t);
        return st;
    }
    *out = t;
    return SLM_OK;
}

int32_t slm_tokenizer_n_vocab(const slm_tokenizer *t) { return t->n_vocab; }
int32_t slm_tokenizer_bos(const slm_tokenizer *t) { return t->bos; }
int32_t slm_tokenizer_eos(const slm_tokenizer *t) { return t->eos; }
int32_t slm_tokenizer_pad(const slm_tokenizer *t) { return t->pad; }
bool slm_tokenizer_add_bos(const slm_tokenizer *t) { return t->add_bos; }
bool slm_tokenizer_add_eos(const slm_tokenizer *t) { return t->add_eos; }
const char *slm_tokenizer_model_name(const slm_tokenizer *t) { return t->model_name; }
const char *slm_tokenizer_pre_name(const slm_tokenizer *t) { return t->pre_name; }
void slm_tokenizer_fingerprint(const slm_tokenizer *t, char out[65]) { memcpy(out, t->fingerprint, 65); }

int32_t slm_tokenizer_find(const slm_tokenizer *t, const char *piece) {
    int32_t id = slm_strmap_find(&t->syms, piece, strlen(piece));
    return id < t->n_vocab ? id : -1;
}

const char *slm_tokenizer_token_text(const slm_tokenizer *t, int32_t id) {
    SLM_ASSERT(id >= 0 && id < t->n_vocab);
    return t->syms.text + t->syms.off[id];
}

bool slm_tokenizer_is_control(const slm_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab && (t->attr[id] & SLM_TATTR_CONTROL);
}

int32_t slm_tokenizer_token_type(const slm_tokenizer *t, int32_t id) {
    SLM_ASSERT(id >= 0 && id < t->n_vocab);
    return t->types[id];
}

const char *slm_tokenizer_piece(const slm_tokenizer *t, int32_t id, bool render_special, size_t *len) {
    SLM_ASSERT(id >= 0 && id < t->n_vocab);
    if (!render_special && (t->attr[id] & (SLM_TATTR_CONTROL | SLM_TATTR_UNKNOWN))) {
        *len = 0;
        return "";
    }
    *len = (size_t)(t->piece_off[id + 1] - t->piece_off[id]);
    return t->piece + t->piece_off[id];
}

slm_status slm_tokenizer_decode(const slm_tokenizer *t, const int32_t *ids, size_t n, bool render_special,
                                char **buf, size_t *len) {
    size_t cap = 64, k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab) {
            slm_log_error("slm_tokenizer_decode: token id %d at position %zu is outside the vocabulary "
                          "(0..%d)", ids[i], i, t->n_vocab - 1);
            return SLM_ERR_USAGE;
        }
        cap += t->piece_off[ids[i] + 1] - t->piece_off[ids[i]];
    }
    char *out = malloc(cap);
    if (!out) return SLM_ERR_NOMEM;
    /* SPM: the space the encoder put in front of the text is dropped again
     * from the first token after an optional leading BOS (llama.cpp's
     * detokenize with add_space_prefix and remove_special) */
    size_t strip_at = n > 0 && ids[0] == t->bos ? 1 : 0;
    bool strip = t->add_space_prefix && t->model == SLM_TOK_MODEL_SPM;
    for (size_t i = 0; i < n; i++) {
        size_t l;
        const char *p = slm_tokenizer_piece(t, ids[i], render_special, &l);
        if (strip && i == strip_at && l > 0 && p[0] == ' ') p++, l--;
        memcpy(out + k, p, l);
        k += l;
    }
    out[k] = 0;
    *buf = out;
    *len = k;
    return SLM_OK;
}
