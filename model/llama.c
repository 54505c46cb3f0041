/* model/llama.c — Llama hyper-parameters from GGUF metadata, the f32 weight
 * arena, loading (F32/F16/BF16 here; quantized types through
 * quantize/quants.h when that module is built in), tensor iteration in a
 * fixed order, and writing a model back to GGUF (F32/F16/BF16). */
#include "model/llama.h"

#include <stdio.h>
#include <string.h>

#if defined(__has_include)
#if __has_include("quantize/quants.h")
#include "quantize/quants.h"
#define SLM_HAVE_QUANTS 1
#endif
#endif

static slm_status get_dim(const slm_gguf *g, const char *key, bool required, int64_t *out) {
    int64_t v = *out;
    slm_status st = slm_gguf_get_i64(g, key, required, &v);
    if (st != SLM_OK) return st;
    if (v <= 0 || v > (int64_t)1 << 31) {
        slm_log_error("%s: key %s = %lld, expected a positive value below 2^31",
                      slm_gguf_path(g), key, (long long)v);
        return SLM_ERR_FORMAT;
    }
    *out = v;
    return SLM_OK;
}

slm_status slm_llama_hparams_from_gguf(const slm_gguf *g, slm_llama_hparams *hp) {
    const char *path = slm_gguf_path(g);
    const char *arch;
    uint64_t alen;
    slm_status st = slm_gguf_get_str(g, "general.architecture", true, &arch, &alen);
    if (st != SLM_OK) return st;
    if (alen != 5 || memcmp(arch, "llama", 5) != 0) {
        slm_log_error("%s: general.architecture is '%.*s', expected 'llama' (slm runs "
                      "Llama-architecture models only)", path, (int)(alen > 64 ? 64 : alen), arch);
        return SLM_ERR_FORMAT;
    }
    memset(hp, 0, sizeof *hp);
    hp->n_ctx = 2048;
    hp->rms_eps = 1e-5f;
    hp->rope_base = 10000.0f;
    if ((st = get_dim(g, "llama.embedding_length", true, &hp->n_embd)) != SLM_OK ||
        (st = get_dim(g, "llama.block_count", true, &hp->n_layer)) != SLM_OK ||
        (st = get_dim(g, "llama.feed_forward_length", true, &hp->n_ff)) != SLM_OK ||
        (st = get_dim(g, "llama.attention.head_count", true, &hp->n_head)) != SLM_OK ||
        (st = get_dim(g, "llama.context_length", false, &hp->n_ctx)) != SLM_OK)
        return st;
    hp->n_head_kv = hp->n_head;
    if ((st = get_dim(g, "llama.attention.head_count_kv", false, &hp->n_head_kv)) != SLM_OK)
        return st;
    if ((st = slm_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", false,
                               &hp->rms_eps)) != SLM_OK ||
        (st = slm_gguf_get_f32(g, "llama.rope.freq_base", false, &hp->rope_base)) != SLM_OK)
        return st;
    if (hp->n_embd % hp->n_head != 0 || hp->n_head % hp->n_head_kv != 0) {
        slm_log_error("%s: embedding_length %lld, head_count %lld, head_count_kv %lld: "
                      "expected head_count | embedding_length and head_count_kv | head_count",
                      path, (long long)hp->n_embd, (long long)hp->n_head,
                      (long long)hp->n_head_kv);
        return SLM_ERR_FORMAT;
    }
    hp->head_dim = hp->n_embd / hp->n_head;
    int64_t rot = hp->head_dim, kl = hp->head_dim;
    if ((st = get_dim(g, "llama.rope.dimension_count", false, &rot)) != SLM_OK ||
        (st = get_dim(g, "llama.attention.key_length", false, &kl)) != SLM_OK)
        return st;
    if (rot != hp->head_dim || kl != hp->head_dim || hp->head_dim % 2 != 0 || hp->head_dim > 1024) {
        slm_log_error("%s: rope.dimension_count %lld / key_length %lld with head size %lld: "
                      "slm supports full rotary embedding over an even head size <= 1024 only",
                      path, (long long)rot, (long long)kl, (long long)hp->head_dim);
        return SLM_ERR_FORMAT;
    }
    if (!(hp->rms_eps > 0.0f && hp->rms_eps < 1.0f) || !(hp->rope_base > 1.0f)) {
        slm_log_error("%s: layer_norm_rms_epsilon %g / rope.freq_base %g out of range",
                      path, (double)hp->rms_eps, (double)hp->rope_base);
        return SLM_ERR_FORMAT;
    }
    /* Vocabulary size: the tokenizer's token list, else token_embd's rows. */
    const slm_gguf_tensor *te = slm_gguf_find_tensor(g, "token_embd.weight");
    int64_t ki = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    if (ki >= 0) hp->n_vocab = (int64_t)slm_gguf_arr_n(g, ki);
    else if (te && te->n_dims == 2) hp->n_vocab = te->ne[1];
    if (te && te->n_dims == 2 && te->ne[1] != hp->n_vocab) {
        slm_log_error("%s: token_embd.weight has %lld rows but the vocabulary has %lld tokens",
                      path, (long long)te->ne[1], (long long)hp->n_vocab);
        return SLM_ERR_FORMAT;
    }
    if (hp->n_vocab <= 0) {
        slm_log_error("%s: no vocabulary size: neither tokenizer.ggml.tokens nor a 2-D "
                      "token_embd.weight is present", path);
        return SLM_ERR_FORMAT;
    }
    hp->tied_output = slm_gguf_find_tensor(g, "output.weight") == NULL;
    return SLM_OK;
}

/* Sizes of one layer's tensors in slm_llama_wkind order (ATTN_NORM..FFN_DOWN). */
static void layer_shapes(const slm_llama_hparams *hp, int64_t ne[9][2]) {
    const int64_t C = hp->n_embd, q = hp->n_head * hp->head_dim,
                  kv = hp->n_head_kv * hp->head_dim, F = hp->n_ff;
    const int64_t s[9][2] = {{C, 1}, {C, q}, {C, kv}, {C, kv}, {q, C},
                             {C, 1}, {C, F}, {C, F},  {F, C}};
    memcpy(ne, s, sizeof s);
}

slm_status slm_llama_weights_alloc(const slm_llama_hparams *hp, slm_llama_weights *w) {
    memset(w, 0, sizeof *w);
    int64_t ne[9][2];
    layer_shapes(hp, ne);
    int64_t per_layer = 0;
    for (int i = 0; i < 9; i++) per_layer += (ne[i][0] * ne[i][1] + 15) / 16 * 16;
    const int64_t VC = (hp->n_vocab * hp->n_embd + 15) / 16 * 16;
    const int64_t Cp = (hp->n_embd + 15) / 16 * 16;
    int64_t total = VC + hp->n_layer * per_layer + Cp + (hp->tied_output ? 0 : VC);
    size_t bytes;
    if (!slm_mul_size((size_t)total, sizeof(float), &bytes)) return SLM_ERR_NOMEM;
    w->layers = slm_calloc((size_t)hp->n_layer, sizeof(slm_llama_layer));
    w->mem = slm_alloc_aligned(bytes);
    if (!w->layers || !w->mem) {
        slm_llama_weights_free(w);
        return SLM_ERR_NOMEM;
    }
    w->hp = *hp;
    w->n_floats = (size_t)total;
    float *p = w->mem; /* every tensor starts on a 64-byte boundary */
    w->token_embd = p, p += VC;
    for (int64_t l = 0; l < hp->n_layer; l++) {
        float **dst[9] = {&w->layers[l].attn_norm, &w->layers[l].wq,     &w->layers[l].wk,
                          &w->layers[l].wv,        &w->layers[l].wo,     &w->layers[l].ffn_norm,
                          &w->layers[l].w_gate,    &w->layers[l].w_up,   &w->layers[l].w_down};
        for (int i = 0; i < 9; i++) *dst[i] = p, p += (ne[i][0] * ne[i][1] + 15) / 16 * 16;
    }
    w->output_norm = p, p += Cp;
    w->output = hp->tied_output ? w->token_embd : p;
    return SLM_OK;
}

void slm_llama_weights_free(slm_llama_weights *w) {
    if (!w) return;
    slm_free(w->mem);
    slm_free(w->layers);
    memset(w, 0, sizeof *w);
}

int64_t slm_llama_n_tensors(const slm_llama_weights *w) {
    return 1 + 9 * w->hp.n_layer + 1 + (w->hp.tied_output ? 0 : 1);
}

static const char *const layer_names[9] = {"attn_norm", "attn_q",   "attn_k",
                                           "attn_v",    "attn_output", "ffn_norm",
                                           "ffn_gate",  "ffn_up",   "ffn_down"};

void slm_llama_tensor(const slm_llama_weights *w, int64_t i, slm_llama_tensor_ref *out) {
    const slm_llama_hparams *hp = &w->hp;
    SLM_ASSERT(i >= 0 && i < slm_llama_n_tensors(w));
    memset(out, 0, sizeof *out);
    out->layer = -1;
    out->n_dims = 2;
    if (i == 0) {
        snprintf(out->name, sizeof out->name, "token_embd.weight");
        out->kind = SLM_W_TOKEN_EMBD;
        out->ne[0] = hp->n_embd, out->ne[1] = hp->n_vocab;
        out->data = w->token_embd;
        return;
    }
    i -= 1;
    if (i < 9 * hp->n_layer) {
        int64_t l = i / 9, j = i % 9;
        int64_t ne[9][2];
        layer_shapes(hp, ne);
        const slm_llama_layer *L = &w->layers[l];
        float *d[9] = {L->attn_norm, L->wq,     L->wk,   L->wv,    L->wo,
                       L->ffn_norm,  L->w_gate, L->w_up, L->w_down};
        snprintf(out->name, sizeof out->name, "blk.%d.%s.weight", (int)l, layer_names[j]);
        out->kind = (slm_llama_wkind)(SLM_W_ATTN_NORM + j);
        out->layer = (int)l;
        out->n_dims = ne[j][1] == 1 ? 1 : 2;
        out->ne[0] = ne[j][0], out->ne[1] = ne[j][1];
        out->data = d[j];
        return;
    }
    i -= 9 * hp->n_layer;
    if (i == 0) {
        snprintf(out->name, sizeof out->name, "output_norm.weight");
        out->kind = SLM_W_OUTPUT_NORM;
        out->n_dims = 1;
        out->ne[0] = hp->n_embd, out->ne[1] = 1;
        out->data = w->output_norm;
        return;
    }
    snprintf(out->name, sizeof out->name, "output.weight");
    out->kind = SLM_W_OUTPUT;
    out->ne[0] = hp->n_embd, out->ne[1] = hp->n_vocab;
    out->data = w->output;
}

slm_status slm_llama_dequantize(const char *path, const slm_gguf_tensor *t, float *dst) {
    const int64_t n = t->n_elements;
    switch (t->type) {
    case SLM_TYPE_F32:
        memcpy(dst, t->data, (size_t)n * sizeof(float));
        return SLM_OK;
    case SLM_TYPE_F16: {
        const uint16_t *s = t->data;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; i++) dst[i] = slm_f16_to_f32(s[i]);
        return SLM_OK;
    }
    case SLM_TYPE_BF16: {
        const uint16_t *s = t->data;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; i++) dst[i] = slm_bf16_to_f32(s[i]);
        return SLM_OK;
    }
    default:
#ifdef SLM_HAVE_QUANTS
        if (slm_quant_can_dequantize(t->type) && t->ne[0] % slm_quant_block_size(t->type) == 0) {
            const int64_t row = t->ne[0], rows = n / row;
            const size_t rb = slm_type_row_bytes(t->type, row);
            const char *s = t->data;
#pragma omp parallel for schedule(static)
            for (int64_t r = 0; r < rows; r++)
                slm_dequantize_row(t->type, s + (size_t)r * rb, dst + r * row, row);
            return SLM_OK;
        }
#endif
        slm_log_error("%s: tensor '%s' has type %s, which this build of slm cannot read "
                      "(supported: F32, F16, BF16%s)", path, t->name,
                      slm_type_name(t->type) ? slm_type_name(t->type) : "unknown",
#ifdef SLM_HAVE_QUANTS
                      " and the quantized types of quantize/"
#else
                      ""
#endif
        );
        return SLM_ERR_FORMAT;
    }
}

/* Tensors slm's Llama does not use (e.g. rope_freqs of Llama 3.1 scaling)
 * and RoPE scaling keys: the model would run, but not as llama.cpp runs it. */
static void warn_unused(const slm_gguf *g, const slm_llama_weights *w) {
    const char *path = slm_gguf_path(g);
    const int64_t nt = slm_llama_n_tensors(w);
    for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const char *name = slm_gguf_tensor_at(g, i)->name;
        bool used = false;
        for (int64_t j = 0; j < nt && !used; j++) {
            slm_llama_tensor_ref r;
            slm_llama_tensor(w, j, &r);
            used = !strcmp(r.name, name);
        }
        if (!used)
            slm_log_warn("%s: tensor '%s' is not part of slm's Llama and is ignored; logits "
                         "may differ from llama.cpp's", path, name);
    }
    const char *st;
    uint64_t len;
    if (slm_gguf_find_key(g, "llama.rope.scaling.type") >= 0 &&
        slm_gguf_get_str(g, "llama.rope.scaling.type", false, &st, &len) == SLM_OK &&
        !(len == 4 && !memcmp(st, "none", 4)))
        slm_log_warn("%s: llama.rope.scaling.type = '%.*s' is not implemented (plain RoPE is "
                     "used); logits may differ from llama.cpp's", path, (int)(len > 32 ? 32 : len), st);
}

slm_status slm_llama_weights_load(const slm_gguf *g, slm_llama_weights *w) {
    const char *path = slm_gguf_path(g);
    const int64_t nt = slm_llama_n_tensors(w);
    warn_unused(g, w);
    for (int64_t i = 0; i < nt; i++) {
        slm_llama_tensor_ref r;
        slm_llama_tensor(w, i, &r);
        const slm_gguf_tensor *t = slm_gguf_find_tensor(g, r.name);
        if (!t) {
            slm_log_error("%s: tensor '%s' is missing", path, r.name);
            return SLM_ERR_FORMAT;
        }
        bool ok = t->ne[0] == r.ne[0] && (r.n_dims == 1 ? t->n_elements == r.ne[0]
                                                         : t->ne[1] == r.ne[1] &&
                                                               t->n_elements == r.ne[0] * r.ne[1]);
        if (!ok) {
            slm_log_error("%s: tensor '%s' has shape [%lld, %lld, %lld, %lld], expected "
                          "[%lld, %lld] from the llama.* hyper-parameters", path, r.name,
                          (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                          (long long)t->ne[3], (long long)r.ne[0], (long long)r.ne[1]);
            return SLM_ERR_FORMAT;
        }
        slm_status st = slm_llama_dequantize(path, t, r.data);
        if (st != SLM_OK) return st;
    }
    return SLM_OK;
}

slm_status slm_llama_load(const char *path, slm_gguf **g_out, slm_llama_weights *w) {
    slm_gguf *g = NULL;
    slm_llama_hparams hp;
    memset(w, 0, sizeof *w);
    slm_status st = slm_gguf_open(path, &g);
    if (st == SLM_OK) st = slm_llama_hparams_from_gguf(g, &hp);
    if (st == SLM_OK) st = slm_llama_weights_alloc(&hp, w);
    if (st == SLM_OK) st = slm_llama_weights_load(g, w);
    if (st != SLM_OK || !g_out) slm_gguf_close(g), g = NULL;
    if (st != SLM_OK) slm_llama_weights_free(w);
    if (g_out) *g_out = g;
    return st;
}

/* ---- writer ---- */

static slm_status fill_f16(void *ctx, void *dst, size_t n_bytes) {
    const float *s = ctx;
    uint16_t *d = dst;
    const int64_t n = (int64_t)(n_bytes / 2);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) d[i] = slm_f32_to_f16(s[i]);
    return SLM_OK;
}

static slm_status fill_bf16(void *ctx, void *dst, size_t n_bytes) {
    const float *s = ctx;
    uint16_t *d = dst;
    const int64_t n = (int64_t)(n_bytes / 2);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) d[i] = slm_f32_to_bf16(s[i]);
    return SLM_OK;
}

/* Keys copied from the source file: its tokenizer and general.* description,
 * never its hyper-parameters (those come from the weights being written). */
static bool skip_key(const char *key) {
    if (!strncmp(key, "tokenizer.", 10)) return false;
    if (!strncmp(key, "general.", 8))
        return !strcmp(key, "general.architecture") || !strcmp(key, "general.file_type") ||
               !strcmp(key, "general.alignment") || !strcmp(key, "general.type");
    return true;
}

slm_status slm_llama_gguf_writer(const slm_llama_weights *w, const slm_gguf *meta_src,
                                 slm_type type, slm_gguf_writer **out) {
    const slm_llama_hparams *hp = &w->hp;
    *out = NULL;
    if (type != SLM_TYPE_F32 && type != SLM_TYPE_F16 && type != SLM_TYPE_BF16) {
        slm_log_error("slm_llama_gguf_writer: type %s not supported here (F32, F16, BF16; "
                      "use slm quantize for block types)", slm_type_name(type) ? slm_type_name(type) : "?");
        return SLM_ERR_USAGE;
    }
    slm_gguf_writer *gw = slm_gguf_writer_new();
    if (!gw) return SLM_ERR_NOMEM;
    slm_status st = slm_gguf_set_str(gw, "general.architecture", "llama");
    if (st == SLM_OK && meta_src) st = slm_gguf_copy_all_kv(gw, meta_src, skip_key);
    /* llama_ftype: 0 ALL_F32, 1 MOSTLY_F16, 32 MOSTLY_BF16 */
    uint32_t ftype = type == SLM_TYPE_F32 ? 0 : type == SLM_TYPE_F16 ? 1 : 32;
    if (st == SLM_OK) st = slm_gguf_set_u32(gw, "general.file_type", ftype);
    if (st == SLM_OK) st = slm_gguf_set_u32(gw, "llama.context_length", (uint32_t)hp->n_ctx);
    if (st == SLM_OK) st = slm_gguf_set_u32(gw, "llama.embedding_length", (uint32_t)hp->n_embd);
    if (st == SLM_OK) st = slm_gguf_set_u32(gw, "llama.block_count", (uint32_t)hp->n_layer);
    if (st == SLM_OK) st = slm_gguf_set_u32(gw, "llama.feed_forward_length", (uint32_t)hp->n_ff);
    if (st == SLM_OK) st = slm_gguf_set_u32(gw, "llama.attention.head_count", (uint32_t)hp->n_head);
    if (st == SLM_OK)
        st = slm_gguf_set_u32(gw, "llama.attention.head_count_kv", (uint32_t)hp->n_head_kv);
    if (st == SLM_OK)
        st = slm_gguf_set_f32(gw, "llama.attention.layer_norm_rms_epsilon", hp->rms_eps);
    if (st == SLM_OK) st = slm_gguf_set_f32(gw, "llama.rope.freq_base", hp->rope_base);
    if (st == SLM_OK)
        st = slm_gguf_set_u32(gw, "llama.rope.dimension_count", (uint32_t)hp->head_dim);
    if (st == SLM_OK) st = slm_gguf_set_u32(gw, "llama.vocab_size", (uint32_t)hp->n_vocab);
    const int64_t nt = slm_llama_n_tensors(w);
    for (int64_t i = 0; i < nt && st == SLM_OK; i++) {
        slm_llama_tensor_ref r;
        slm_llama_tensor(w, i, &r);
        /* 1-D tensors (norms) stay F32, as llama.cpp's converters keep them */
        if (type == SLM_TYPE_F32 || r.n_dims == 1)
            st = slm_gguf_add_tensor(gw, r.name, SLM_TYPE_F32, r.n_dims, r.ne, r.data);
        else
            st = slm_gguf_add_tensor_fn(gw, r.name, type, r.n_dims, r.ne,
                                        type == SLM_TYPE_F16 ? fill_f16 : fill_bf16, r.data);
    }
    if (st != SLM_OK) {
        slm_gguf_writer_free(gw);
        return st;
    }
    *out = gw;
    return SLM_OK;
}

slm_status slm_llama_save_gguf(const slm_llama_weights *w, const slm_gguf *meta_src,
                               slm_type type, const char *path) {
    slm_gguf_writer *gw;
    slm_status st = slm_llama_gguf_writer(w, meta_src, type, &gw);
    if (st != SLM_OK) return st;
    st = slm_gguf_writer_write(gw, path);
    slm_gguf_writer_free(gw);
    return st;
}
