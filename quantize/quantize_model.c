/* quantize/quantize_model.c — the streaming model quantizer (see quantize_model.h). */
#include "quantize/quantize_model.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"
#include "quantize/gptq.h"
#include "quantize/quant_refine.h"
#include "quantize/quants.h"

#define SLM_GGML_QNT_VERSION 2 /* general.quantization_version as llama.cpp writes it */

slm_quantize_params slm_quantize_default_params(void) {
    slm_quantize_params p;
    memset(&p, 0, sizeof p);
    p.ftype = SLM_FTYPE_Q8_0;
    p.refine = false;
    p.damp = 0.01;
    return p;
}

/* The last factor of H made, kept for the next tensor reading the same
 * input (attn_k and attn_v after attn_q, ffn_up after ffn_gate: their
 * entries are the same tensor of the hessian file). */
typedef struct {
    const float *H;
    slm_gptq *g;
} gptq_cache;

typedef struct {
    const slm_gguf_tensor *src;
    slm_type type;
    const float *imat; /* (ne[0]) or NULL */
    const float *H;    /* (ne[0] x ne[0]) input second moments, or NULL */
    gptq_cache *gc;    /* shared by all tensors */
    const slm_quantize_params *p;
    int64_t index, count;
    double t0; /* when the first chunk started */
} fill_ctx;

/* Every element finite: an exponent field of all ones is Inf or NaN
 * (integer test, so the loop vectorises). */
static bool row_finite(const float *x, int64_t n) {
    uint32_t bad = 0;
    for (int64_t j = 0; j < n; j++) {
        uint32_t u;
        memcpy(&u, &x[j], sizeof u);
        bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    return !bad;
}

/* Error-feedback path: the chunk's rows copied (or dequantized) into one
 * buffer, then slm_gptq_rows with the factor of the tensor's H (made on the
 * first chunk, or kept from the previous tensor reading the same input). */
static slm_status fill_rows_gptq(fill_ctx *c, void *dst, int64_t row0, int64_t n_rows) {
    const slm_gguf_tensor *s = c->src;
    const int64_t n = s->ne[0];
    const size_t rb_in = slm_quant_row_bytes(s->type, n);
    slm_status st = SLM_OK;
    gptq_cache *gc = c->gc;
    if (gc->H != c->H) {
        slm_gptq_free(gc->g);
        gc->g = NULL, gc->H = NULL;
        st = slm_gptq_new(c->H, n, c->p->damp, &gc->g);
        if (st == SLM_OK) gc->H = c->H;
    }
    float *W = st == SLM_OK ? malloc(sizeof(float) * (size_t)(n_rows * n)) : NULL;
    if (st == SLM_OK && !W) st = SLM_ERR_NOMEM;
    for (int64_t r = 0; st == SLM_OK && r < n_rows; r++) {
        float *x = W + r * n;
        slm_dequantize_row(s->type, (const uint8_t *)s->data + (size_t)(row0 + r) * rb_in, x, n);
        if (!row_finite(x, n)) {
            slm_log_error("quantize: tensor '%s' row %lld holds NaN or Inf: refusing to quantize it",
                          s->name, (long long)(row0 + r));
            st = SLM_ERR_FORMAT;
        }
    }
    if (st == SLM_OK) st = slm_gptq_rows(gc->g, c->type, W, n_rows, c->imat, c->p->refine, dst);
    free(W);
    return st;
}

/* Rows [row0, row0 + n_rows) of the output tensor, in parallel over rows.  An
 * F32 input row is quantized in place in the mapping; other input types are
 * first dequantized into a per-thread row buffer. */
static slm_status fill_rows(void *vctx, void *dst, int64_t row0, int64_t n_rows) {
    fill_ctx *c = vctx;
    const slm_gguf_tensor *s = c->src;
    const int64_t n_per_row = s->ne[0], nrows = s->n_elements / n_per_row;
    const size_t rb_in = slm_quant_row_bytes(s->type, n_per_row);
    const size_t rb_out = slm_quant_row_bytes(c->type, n_per_row);
    const bool direct = s->type == SLM_TYPE_F32;
    slm_quant_opts o = {c->imat, c->p->refine};
    int64_t bad_row = -1;
    if (row0 == 0) c->t0 = slm_time_sec();
    if (c->H) {
        slm_status st = fill_rows_gptq(c, dst, row0, n_rows);
        if (st != SLM_OK) return st;
        goto done;
    }
#pragma omp parallel
    {
        float *row = direct ? NULL : malloc(sizeof(float) * (size_t)n_per_row);
#pragma omp for schedule(dynamic, 4)
        for (int64_t r = row0; r < row0 + n_rows; r++) {
            const uint8_t *in = (const uint8_t *)s->data + (size_t)r * rb_in;
            const float *x = (const float *)in;
            if (!direct) {
                if (!row) continue;
                slm_dequantize_row(s->type, in, row, n_per_row);
                x = row;
            }
            if (!row_finite(x, n_per_row)) {
#pragma omp critical
                if (bad_row < 0 || r < bad_row) bad_row = r;
                continue;
            }
            slm_quantize_row(c->type, x, (uint8_t *)dst + (size_t)(r - row0) * rb_out, n_per_row, &o);
        }
        if (!direct && !row) {
#pragma omp critical
            bad_row = -2;
        }
        free(row);
    }
    if (bad_row == -2) return SLM_ERR_NOMEM;
    if (bad_row >= 0) {
        slm_log_error("quantize: tensor '%s' row %lld holds NaN or Inf: refusing to quantize it",
                      s->name, (long long)bad_row);
        return SLM_ERR_FORMAT;
    }
done:
    if (!c->p->quiet && row0 + n_rows == nrows)
        slm_log_info("[%3lld/%3lld] %-28s %-5s -> %-5s [%lld x %lld] %.2f s%s", (long long)c->index + 1,
                     (long long)c->count, s->name, slm_quant_type_name(s->type),
                     slm_quant_type_name(c->type), (long long)n_per_row, (long long)nrows,
                     slm_time_sec() - c->t0, c->H ? " (imatrix, error feedback)" : c->imat ? " (imatrix)" : "");
    return SLM_OK;
}

static bool skip_key(const char *k) {
    return !strcmp(k, "general.file_type") || !strcmp(k, "general.quantization_version");
}

slm_status slm_quantize_model(const char *in_path, const char *out_path, const slm_quantize_params *p) {
    slm_gguf *g = NULL;
    slm_gguf_writer *w = NULL;
    slm_mix_tensor *mt = NULL;
    slm_type *types = NULL;
    fill_ctx *ctx = NULL;
    gptq_cache gc = {NULL, NULL};
    slm_status st = slm_gguf_open(in_path, &g);
    if (st != SLM_OK) return st;
    const char *arch = NULL;
    uint64_t arch_len = 0;
    uint32_t n_layer = 0, n_head = 0, n_head_kv = 0;
    st = slm_gguf_get_str(g, "general.architecture", true, &arch, &arch_len);
    if (st == SLM_OK && (arch_len != 5 || memcmp(arch, "llama", 5))) {
        slm_log_error("%s: general.architecture is '%.*s'; slm quantize handles 'llama' models",
                      in_path, (int)arch_len, arch);
        st = SLM_ERR_FORMAT;
    }
    if (st == SLM_OK) st = slm_gguf_get_u32(g, "llama.block_count", true, &n_layer);
    if (st == SLM_OK) st = slm_gguf_get_u32(g, "llama.attention.head_count", true, &n_head);
    n_head_kv = n_head;
    if (st == SLM_OK) st = slm_gguf_get_u32(g, "llama.attention.head_count_kv", false, &n_head_kv);
    if (st == SLM_OK && (n_head == 0 || n_head_kv == 0 || n_head % n_head_kv)) {
        slm_log_error("%s: llama.attention.head_count %u is not a multiple of head_count_kv %u",
                      in_path, n_head, n_head_kv);
        st = SLM_ERR_FORMAT;
    }
    const int64_t nt = slm_gguf_n_tensors(g);
    if (st == SLM_OK) {
        mt = calloc((size_t)nt + 1, sizeof *mt);
        types = calloc((size_t)nt + 1, sizeof *types);
        ctx = calloc((size_t)nt + 1, sizeof *ctx);
        if (!mt || !types || !ctx) st = SLM_ERR_NOMEM;
    }
    for (int64_t i = 0; st == SLM_OK && i < nt; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        if (!slm_quant_can_dequantize(t->type)) {
            slm_log_error("%s: tensor '%s' has type %d, which slm cannot read (F32, F16, BF16, "
                          "Q4_0..Q8_0, Q2_K..Q6_K)", in_path, t->name, (int)t->type);
            st = SLM_ERR_FORMAT;
        }
        mt[i].name = t->name;
        mt[i].n_dims = t->n_dims;
        memcpy(mt[i].ne, t->ne, sizeof mt[i].ne);
        mt[i].type = t->type;
    }
    int n_fallback = 0;
    slm_mix_params mp = {p->ftype, n_layer, n_head, n_head_kv, p->imatrix != NULL,
                         p->overrides, p->n_overrides, p->keep, p->n_keep};
    if (st == SLM_OK) st = slm_mix_choose(&mp, mt, nt, types, &n_fallback);
    if (st == SLM_OK && !(w = slm_gguf_writer_new())) st = SLM_ERR_NOMEM;
    if (st == SLM_OK) st = slm_gguf_copy_all_kv(w, g, skip_key);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "general.quantization_version", SLM_GGML_QNT_VERSION);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "general.file_type", (uint32_t)p->ftype);
    size_t in_bytes = 0, out_bytes = 0;
    int n_imat = 0, n_gptq = 0;
    for (int64_t i = 0; st == SLM_OK && i < nt; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        in_bytes += t->n_bytes;
        out_bytes += slm_quant_row_bytes(types[i], t->ne[0]) * (size_t)(t->n_elements / t->ne[0]);
        if (types[i] == t->type) {
            st = slm_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
            continue;
        }
        const float *imat = NULL;
        int64_t n_im = 0;
        if (p->imatrix && (imat = slm_imatrix_find(p->imatrix, t->name, &n_im)) != NULL) {
            if (n_im != t->ne[0]) {
                slm_log_error("quantize: imatrix entry '%s' has %lld values, the tensor %lld columns",
                              t->name, (long long)n_im, (long long)t->ne[0]);
                st = SLM_ERR_FORMAT;
                break;
            }
            n_imat++;
        }
        const float *H = NULL;
        int64_t n_h = 0;
        if (p->hessian && slm_gptq_supports(types[i]) &&
            (H = slm_hessian_find(p->hessian, t->name, &n_h)) != NULL) {
            if (n_h != t->ne[0]) {
                slm_log_error("quantize: hessian entry for '%s' is %lld x %lld, the tensor has %lld columns: "
                              "the --hessian file comes from another model (rerun 'slm imatrix --hessian' "
                              "with this one)", t->name, (long long)n_h, (long long)n_h, (long long)t->ne[0]);
                st = SLM_ERR_FORMAT;
                break;
            }
            n_gptq++;
        }
        ctx[i] = (fill_ctx){t, types[i], imat, H, &gc, p, i, nt, 0.0};
        st = slm_gguf_add_tensor_rows(w, t->name, types[i], t->n_dims, t->ne, fill_rows, &ctx[i]);
    }
    if (st == SLM_OK && p->hessian && n_gptq == 0)
        slm_log_warn("quantize: --hessian given but no tensor uses it: error feedback covers block types "
                     "(Q4_0..Q8_0, Q2_K..Q6_K) whose input the file describes; %s has none",
                     slm_ftype_name(p->ftype));
    if (st == SLM_OK) {
        if (p->n_threads > 0) omp_set_num_threads(p->n_threads);
        slm_log_info("quantize: %s -> %s as %s, %lld tensors, %d fallbacks, %d with imatrix, %d with error "
                     "feedback, %d threads", in_path, out_path, slm_ftype_name(p->ftype), (long long)nt,
                     n_fallback, n_imat, n_gptq,
                     p->n_threads > 0 ? p->n_threads : omp_get_max_threads());
        const double t0 = slm_time_sec();
        st = slm_gguf_writer_write(w, out_path);
        if (st == SLM_OK)
            slm_log_info("quantize: %.2f MiB -> %.2f MiB in %.2f s (of which fsync + rename %.2f s)",
                         in_bytes / 1048576.0, out_bytes / 1048576.0, slm_time_sec() - t0,
                         slm_gguf_writer_commit_seconds(w));
    }
    slm_gguf_writer_free(w);
    slm_gptq_free(gc.g);
    free(mt);
    free(types);
    free(ctx);
    slm_gguf_close(g);
    return st;
}
