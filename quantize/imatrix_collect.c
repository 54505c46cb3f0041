/* quantize/imatrix_collect.c — squared-activation sums over a plain f32
 * Llama forward pass (see imatrix_collect.h).  The forward follows
 * llama.cpp's llama architecture: RMSNorm, RoPE on adjacent pairs (normal
 * mode), causal GQA attention, SwiGLU; matrix products via cblas_sgemm. */
#include "quantize/imatrix_collect.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slm_imatrix_stats {
    const slm_llama_weights *w;
    slm_imatrix_acc *acc; /* per layer: q,k,v (shared input), o, gate, up (shared), down; then output */
    char (*names)[64];
    int64_t n_acc;
    double *inv_r2; /* (2 n_layer + 1) sum over tokens of 1/rms^2 at each norm, or NULL */
    double n_tok;
};

enum { A_Q, A_K, A_V, A_O, A_GATE, A_UP, A_DOWN, A_PER_LAYER };

void slm_imatrix_stats_free(slm_imatrix_stats *s) {
    if (!s) return;
    for (int64_t i = 0; i < s->n_acc; i++) free(s->acc[i].sum2), free(s->acc[i].cov);
    free(s->acc);
    free(s->names);
    free(s->inv_r2);
    free(s);
}

slm_status slm_imatrix_stats_init(const slm_llama_weights *w, slm_imatrix_stats **out) {
    const slm_llama_hparams *hp = &w->hp;
    slm_imatrix_stats *s = calloc(1, sizeof *s);
    if (!s) return SLM_ERR_NOMEM;
    s->w = w;
    s->n_acc = hp->n_layer * A_PER_LAYER + 1;
    s->acc = calloc((size_t)s->n_acc, sizeof *s->acc);
    s->names = calloc((size_t)s->n_acc, sizeof *s->names);
    if (!s->acc || !s->names) {
        slm_imatrix_stats_free(s);
        return SLM_ERR_NOMEM;
    }
    static const char *nm[A_PER_LAYER] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                          "ffn_gate", "ffn_up", "ffn_down"};
    for (int64_t i = 0; i < s->n_acc; i++) {
        int64_t l = i / A_PER_LAYER, k = i % A_PER_LAYER;
        int64_t n = hp->n_embd;
        if (i == s->n_acc - 1) {
            snprintf(s->names[i], 64, "%s", hp->tied_output ? "token_embd.weight" : "output.weight");
        } else {
            snprintf(s->names[i], 64, "blk.%lld.%s.weight", (long long)l, nm[k]);
            if (k == A_O) n = hp->n_head * hp->head_dim;
            if (k == A_DOWN) n = hp->n_ff;
        }
        s->acc[i].name = s->names[i];
        s->acc[i].n = n;
        s->acc[i].sum2 = calloc((size_t)n, sizeof(double));
        if (!s->acc[i].sum2) {
            slm_imatrix_stats_free(s);
            return SLM_ERR_NOMEM;
        }
    }
    *out = s;
    return SLM_OK;
}

const slm_imatrix_acc *slm_imatrix_stats_entries(const slm_imatrix_stats *s, int64_t *n) {
    *n = s->n_acc;
    return s->acc;
}

slm_status slm_imatrix_stats_enable_cov(slm_imatrix_stats *s) {
    if (!s->inv_r2 && !(s->inv_r2 = calloc((size_t)(2 * s->w->hp.n_layer + 1), sizeof(double))))
        return SLM_ERR_NOMEM;
    for (int64_t i = 0; i < s->n_acc; i++) {
        const int64_t k = i % A_PER_LAYER;
        const bool first_reader = i == s->n_acc - 1 || k == A_Q || k == A_O || k == A_GATE || k == A_DOWN;
        if (!first_reader || s->acc[i].cov) continue;
        s->acc[i].cov = calloc((size_t)(s->acc[i].n * s->acc[i].n), sizeof(double));
        if (!s->acc[i].cov) return SLM_ERR_NOMEM;
    }
    return SLM_OK;
}

/* acc->sum2[j] += sum_t x[t][j]^2; acc->count += T; with a cov, also
 * cov += x^T x (one sgemm per chunk into a float buffer).  x (T, n) */
static slm_status accumulate(slm_imatrix_acc *a, const float *x, int64_t T) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < a->n; j++) a->sum2[j] += (double)x[t * a->n + j] * x[t * a->n + j];
    a->count += (double)T;
    if (!a->cov) return SLM_OK;
    const int64_t n = a->n;
    float *c = malloc(sizeof(float) * (size_t)(n * n));
    if (!c) return SLM_ERR_NOMEM;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)T, 1.0f, x, (int)n, x, (int)n,
                0.0f, c, (int)n);
    for (int64_t i = 0; i < n * n; i++) a->cov[i] += c[i];
    free(c);
    return SLM_OK;
}

/* inv_r2 (may be NULL) += sum over tokens of 1 / rms^2 */
static void rmsnorm(float *out, const float *x, const float *g, int64_t T, int64_t C, float eps,
                    double *inv_r2) {
    for (int64_t t = 0; t < T; t++) {
        double ss = 0;
        for (int64_t j = 0; j < C; j++) ss += (double)x[t * C + j] * x[t * C + j];
        float r = 1.0f / sqrtf((float)(ss / C) + eps);
        if (inv_r2) *inv_r2 += (double)r * r;
        for (int64_t j = 0; j < C; j++) out[t * C + j] = x[t * C + j] * r * g[j];
    }
}

/* out (T, N) = in (T, K) . W^T, W (N, K) */
static void matmul(float *out, const float *in, const float *W, int64_t T, int64_t N, int64_t K) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)N, (int)K, 1.0f, in, (int)K,
                W, (int)K, 0.0f, out, (int)N);
}

/* RoPE, normal mode: rotate adjacent pairs (2i, 2i+1) by pos * base^(-2i/hs). x (T, nh, hs) */
static void rope(float *x, int64_t T, int64_t nh, int64_t hs, float base) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t h = 0; h < nh; h++)
            for (int64_t i = 0; i < hs / 2; i++) {
                double th = (double)t * pow(base, -2.0 * (double)i / (double)hs);
                float c = (float)cos(th), s = (float)sin(th);
                float *p = x + (t * nh + h) * hs + 2 * i;
                float a = p[0], b = p[1];
                p[0] = a * c - b * s;
                p[1] = a * s + b * c;
            }
}

slm_status slm_imatrix_stats_add(slm_imatrix_stats *s, const int32_t *tokens, int64_t T) {
    const slm_llama_weights *w = s->w;
    const slm_llama_hparams *hp = &w->hp;
    const int64_t C = hp->n_embd, NH = hp->n_head, NKV = hp->n_head_kv, hs = hp->head_dim, F = hp->n_ff;
    const int64_t QD = NH * hs, KD = NKV * hs;
    float *x = calloc((size_t)(T * C), 4), *h = calloc((size_t)(T * C), 4);
    float *q = calloc((size_t)(T * QD), 4), *k = calloc((size_t)(T * KD), 4), *v = calloc((size_t)(T * KD), 4);
    float *o = calloc((size_t)(T * QD), 4), *g = calloc((size_t)(T * F), 4), *u = calloc((size_t)(T * F), 4);
    float *tmp = calloc((size_t)(T * (C > F ? C : F)), 4), *att = calloc((size_t)T, 4);
    slm_status st = (x && h && q && k && v && o && g && u && tmp && att) ? SLM_OK : SLM_ERR_NOMEM;
    for (int64_t t = 0; st == SLM_OK && t < T; t++) {
        if (tokens[t] < 0 || tokens[t] >= hp->n_vocab) {
            slm_log_error("imatrix: token id %d out of range [0, %lld)", tokens[t], (long long)hp->n_vocab);
            st = SLM_ERR_FORMAT;
            break;
        }
        memcpy(x + t * C, w->token_embd + (int64_t)tokens[t] * C, sizeof(float) * (size_t)C);
    }
    for (int64_t l = 0; st == SLM_OK && l < hp->n_layer; l++) {
        const slm_llama_layer *L = &w->layers[l];
        slm_imatrix_acc *a = s->acc + l * A_PER_LAYER;
        rmsnorm(h, x, L->attn_norm, T, C, hp->rms_eps, s->inv_r2 ? s->inv_r2 + 2 * l : NULL);
        if (st == SLM_OK) st = accumulate(&a[A_Q], h, T);
        if (st == SLM_OK) st = accumulate(&a[A_K], h, T);
        if (st == SLM_OK) st = accumulate(&a[A_V], h, T);
        matmul(q, h, L->wq, T, QD, C);
        matmul(k, h, L->wk, T, KD, C);
        matmul(v, h, L->wv, T, KD, C);
        rope(q, T, NH, hs, hp->rope_base);
        rope(k, T, NKV, hs, hp->rope_base);
        const float scale = 1.0f / sqrtf((float)hs);
        for (int64_t hh = 0; hh < NH; hh++) {
            const int64_t kh = hh / (NH / NKV);
            for (int64_t t = 0; t < T; t++) {
                const float *qv = q + (t * NH + hh) * hs;
                float mx = -INFINITY;
                for (int64_t t2 = 0; t2 <= t; t2++) {
                    const float *kv = k + (t2 * NKV + kh) * hs;
                    float d = 0;
                    for (int64_t i = 0; i < hs; i++) d += qv[i] * kv[i];
                    att[t2] = d * scale;
                    if (att[t2] > mx) mx = att[t2];
                }
                double sum = 0;
                for (int64_t t2 = 0; t2 <= t; t2++) sum += (att[t2] = expf(att[t2] - mx));
                float *ov = o + (t * NH + hh) * hs;
                memset(ov, 0, sizeof(float) * (size_t)hs);
                for (int64_t t2 = 0; t2 <= t; t2++) {
                    const float p = (float)(att[t2] / sum), *vv = v + (t2 * NKV + kh) * hs;
                    for (int64_t i = 0; i < hs; i++) ov[i] += p * vv[i];
                }
            }
        }
        if (st == SLM_OK) st = accumulate(&a[A_O], o, T);
        matmul(tmp, o, L->wo, T, C, QD);
        for (int64_t i = 0; i < T * C; i++) x[i] += tmp[i];
        rmsnorm(h, x, L->ffn_norm, T, C, hp->rms_eps, s->inv_r2 ? s->inv_r2 + 2 * l + 1 : NULL);
        if (st == SLM_OK) st = accumulate(&a[A_GATE], h, T);
        if (st == SLM_OK) st = accumulate(&a[A_UP], h, T);
        matmul(g, h, L->w_gate, T, F, C);
        matmul(u, h, L->w_up, T, F, C);
        for (int64_t i = 0; i < T * F; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
        if (st == SLM_OK) st = accumulate(&a[A_DOWN], g, T);
        matmul(tmp, g, L->w_down, T, C, F);
        for (int64_t i = 0; i < T * C; i++) x[i] += tmp[i];
    }
    if (st == SLM_OK) {
        rmsnorm(h, x, w->output_norm, T, C, hp->rms_eps, s->inv_r2 ? s->inv_r2 + 2 * hp->n_layer : NULL);
        s->n_tok += (double)T;
        st = accumulate(&s->acc[s->n_acc - 1], h, T);
    }
    free(x), free(h), free(q), free(k), free(v), free(o), free(g), free(u), free(tmp), free(att);
    return st;
}

/* M += a * G W^T W G, G = diag(g), W (rows, C) row-major, M (C, C). */
static void add_reader(double *M, float *tmp, const float *g, const float *W, int64_t rows, int64_t C,
                       double a) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)C, (int)C, (int)rows, 1.0f, W, (int)C, W,
                (int)C, 0.0f, tmp, (int)C);
    for (int64_t i = 0; i < C; i++)
        for (int64_t j = 0; j < C; j++) M[i * C + j] += a * (double)g[i] * g[j] * tmp[i * C + j];
}

slm_status slm_imatrix_stats_embd_cov(const slm_imatrix_stats *s, double *M) {
    const slm_llama_weights *w = s->w;
    const slm_llama_hparams *hp = &w->hp;
    const int64_t C = hp->n_embd, QD = hp->n_head * hp->head_dim, KD = hp->n_head_kv * hp->head_dim;
    if (!s->inv_r2 || !(s->n_tok > 0)) return SLM_ERR_USAGE;
    float *tmp = malloc(sizeof(float) * (size_t)(C * C));
    if (!tmp) return SLM_ERR_NOMEM;
    memset(M, 0, sizeof(double) * (size_t)(C * C));
    for (int64_t l = 0; l < hp->n_layer; l++) {
        const slm_llama_layer *L = &w->layers[l];
        const double a = s->inv_r2[2 * l] / s->n_tok, f = s->inv_r2[2 * l + 1] / s->n_tok;
        add_reader(M, tmp, L->attn_norm, L->wq, QD, C, a);
        add_reader(M, tmp, L->attn_norm, L->wk, KD, C, a);
        add_reader(M, tmp, L->attn_norm, L->wv, KD, C, a);
        add_reader(M, tmp, L->ffn_norm, L->w_gate, hp->n_ff, C, f);
        add_reader(M, tmp, L->ffn_norm, L->w_up, hp->n_ff, C, f);
    }
    add_reader(M, tmp, w->output_norm, w->output, hp->n_vocab, C, s->inv_r2[2 * hp->n_layer] / s->n_tok);
    free(tmp);
    return SLM_OK;
}
