/* model/infer.c — Llama inference forward (see model/infer.h), built from the
 * kernels of core/ops.h exactly as llama.cpp's llm_build_llama composes them:
 *   x = token_embd[tokens]
 *   per layer: h = rmsnorm(x) * attn_norm; q, k, v = h Wq, h Wk, h Wv;
 *              rope(q), rope(k); x += attention(q, k, v) Wo
 *              h = rmsnorm(x) * ffn_norm; x += (silu(h Wgate) * h Wup) Wdown
 *   logits = (rmsnorm(x) * output_norm) Woutput
 * Matrix products are sgemm calls from this serial code; the other kernels
 * are OpenMP loops. */
#include "model/infer.h"

#include <math.h>
#include <string.h>

#include "core/ops.h"
#include "core/ops_math.h"
#include "model/kvcache.h"

struct slm_llama_infer {
    const slm_llama_weights *w;
    slm_llama_infer_params p;
    slm_kvcache kv;    /* used when p.n_kv > 0 */
    float *mem;        /* one allocation for the buffers below */
    float *x;          /* (N, C) residual stream, N = B * T_max */
    float *xn;         /* (N, C) normalised */
    float *q, *att;    /* (N, NH*hs) */
    float *k, *v;      /* (N, NKV*hs) */
    float *g, *u;      /* (N, F) */
    float *qkv;        /* (N, Q + 2 KV) fused projection output */
    float *gu;         /* (N, 2 F) fused gate/up output */
    float *last;       /* (B, C) */
    float *logits;     /* (N, V) or (B, V) */
    int32_t *pos;      /* (N) */
};

/* The allocator of model/llama.c lays wq, wk, wv (and w_gate, w_up) out back
 * to back whenever their sizes are multiples of 16 floats; then they form one
 * (Q + 2 KV, C) (and (2 F, C)) matrix and one sgemm replaces three (two),
 * which pays at small N.  Otherwise the separate products run. */
static bool qkv_contiguous(const slm_llama_layer *L, int64_t C, int64_t Q, int64_t KV) {
    return L->wk == L->wq + Q * C && L->wv == L->wk + KV * C;
}

static bool gate_up_contiguous(const slm_llama_layer *L, int64_t C, int64_t F) {
    return L->w_up == L->w_gate + F * C;
}

/* q (N, Q), k, v (N, KV) <- qkv (N, Q + 2 KV) */
static void split_qkv(float *q, float *k, float *v, const float *qkv, int64_t N, int64_t Q,
                      int64_t KV) {
    const int64_t W = Q + 2 * KV;
#pragma omp parallel for schedule(static) if (N * W > 16384)
    for (int64_t n = 0; n < N; n++) {
        memcpy(q + n * Q, qkv + n * W, (size_t)Q * sizeof(float));
        memcpy(k + n * KV, qkv + n * W + Q, (size_t)KV * sizeof(float));
        memcpy(v + n * KV, qkv + n * W + Q + KV, (size_t)KV * sizeof(float));
    }
}

/* out (N, F) = silu(gu[:, :F]) * gu[:, F:], gu (N, 2F): slm_swiglu_forward's
 * formula on the fused layout */
static void swiglu_fused(float *out, const float *gu, int64_t N, int64_t F) {
#pragma omp parallel for schedule(static) if (N * F > 16384)
    for (int64_t n = 0; n < N; n++) {
        const float *g = gu + n * 2 * F, *u = g + F;
        float *o = out + n * F;
        for (int64_t i = 0; i < F; i++) o[i] = g[i] / (1.0f + slm_exp_fast(-g[i])) * u[i];
    }
}

slm_llama_infer_params slm_llama_infer_default_params(void) {
    slm_llama_infer_params p = {.B = 1, .T_max = 512, .n_kv = 0, .all_logits = true};
    return p;
}

slm_status slm_llama_infer_init(const slm_llama_weights *w, const slm_llama_infer_params *p,
                                slm_llama_infer **out) {
    const slm_llama_hparams *hp = &w->hp;
    *out = NULL;
    SLM_ASSERT(p->B > 0 && p->T_max > 0 && p->n_kv >= 0);
    slm_llama_infer *s = slm_calloc(1, sizeof *s);
    if (!s) return SLM_ERR_NOMEM;
    s->w = w;
    s->p = *p;
    const int64_t N = p->B * p->T_max, C = hp->n_embd, Q = hp->n_head * hp->head_dim,
                  KV = hp->n_head_kv * hp->head_dim, F = hp->n_ff, V = hp->n_vocab;
    const int64_t sizes[] = {N * C, N * C, N * Q, N * Q, N * KV, N * KV, N * F, N * F,
                             p->B * C, (p->all_logits ? N : p->B) * V, N, N * (Q + 2 * KV),
                             N * 2 * F};
    float **dst[] = {&s->x, &s->xn, &s->q, &s->att, &s->k, &s->v,
                     &s->g, &s->u, &s->last, &s->logits, (float **)&s->pos,
                     &s->qkv, &s->gu};
    int64_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += (sizes[i] + 15) / 16 * 16;
    size_t bytes;
    slm_status st = SLM_OK;
    if (!slm_mul_size((size_t)total, sizeof(float), &bytes)) st = SLM_ERR_NOMEM;
    if (st == SLM_OK && !(s->mem = slm_alloc_aligned(bytes))) st = SLM_ERR_NOMEM;
    if (st == SLM_OK && p->n_kv > 0)
        st = slm_kvcache_init(&s->kv, hp->n_layer, p->B, p->n_kv, hp->n_head_kv, hp->head_dim);
    if (st != SLM_OK) {
        slm_llama_infer_free(s);
        return st;
    }
    float *m = s->mem;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        *dst[i] = m, m += (sizes[i] + 15) / 16 * 16;
    *out = s;
    return SLM_OK;
}

void slm_llama_infer_free(slm_llama_infer *s) {
    if (!s) return;
    slm_kvcache_free(&s->kv);
    slm_free(s->mem);
    slm_free(s);
}

void slm_llama_infer_reset(slm_llama_infer *s) { s->kv.n_past = 0; }

int64_t slm_llama_infer_n_past(const slm_llama_infer *s) { return s->kv.n_past; }

const float *slm_llama_infer_forward(slm_llama_infer *s, const int32_t *tokens, int64_t T,
                                     slm_logits_mode mode) {
    const slm_llama_weights *w = s->w;
    const slm_llama_hparams *hp = &w->hp;
    const int64_t B = s->p.B, N = B * T, C = hp->n_embd, NH = hp->n_head,
                  NKV = hp->n_head_kv, hs = hp->head_dim, Q = NH * hs, KV = NKV * hs,
                  F = hp->n_ff, V = hp->n_vocab;
    const bool cached = s->p.n_kv > 0;
    const int64_t past = cached ? s->kv.n_past : 0;
    SLM_ASSERT(T >= 1 && T <= s->p.T_max && (mode == SLM_LOGITS_LAST || s->p.all_logits));
    SLM_ASSERT(!cached || past + T <= s->p.n_kv);
    for (int64_t n = 0; n < N; n++) {
        SLM_ASSERT(tokens[n] >= 0 && tokens[n] < V);
        s->pos[n] = (int32_t)(past + n % T);
    }

    bool x_rows_are_last = T == 1; /* rows 0..B-1 of x hold the last positions */
    slm_embedding_forward(s->x, tokens, w->token_embd, N, C);
    for (int64_t l = 0; l < hp->n_layer; l++) {
        const slm_llama_layer *L = &w->layers[l];
        slm_rmsnorm_forward(s->xn, NULL, s->x, L->attn_norm, N, C, hp->rms_eps);
        if (qkv_contiguous(L, C, Q, KV)) {
            slm_matmul_forward(s->qkv, s->xn, L->wq, N, C, Q + 2 * KV, 0.0f);
            split_qkv(s->q, s->k, s->v, s->qkv, N, Q, KV);
        } else {
            slm_matmul_forward(s->q, s->xn, L->wq, N, C, Q, 0.0f);
            slm_matmul_forward(s->k, s->xn, L->wk, N, C, KV, 0.0f);
            slm_matmul_forward(s->v, s->xn, L->wv, N, C, KV, 0.0f);
        }
        slm_rope_forward(s->q, s->pos, N, NH, hs, hp->rope_base); /* cached angle table */
        slm_rope_forward(s->k, s->pos, N, NKV, hs, hp->rope_base);
        /* Last layer with last-position logits (llama.cpp does the same):
         * only the last query of each sequence matters from here on, so
         * attention runs for that query alone and the rest of the layer on
         * B rows instead of B*T. */
        const bool only_last = mode == SLM_LOGITS_LAST && l == hp->n_layer - 1 && T > 1;
        const int64_t nr = only_last ? B : N;   /* rows after attention */
        const int64_t tq = only_last ? 1 : T;   /* queries per sequence */
        const float *qa = s->q;
        if (only_last) { /* q rows (b, T-1) -> scratch (B, 1, NH, hs); g is free until the FFN */
            for (int64_t b = 0; b < B; b++)
                memcpy(s->g + b * Q, s->q + (b * T + T - 1) * Q, (size_t)Q * sizeof(float));
            qa = s->g;
        }
        if (cached) {
            slm_kvcache_store(&s->kv, l, s->k, s->v, T);
            slm_attention_forward_kv(s->att, NULL, qa, slm_kvcache_k(&s->kv, l),
                                     slm_kvcache_v(&s->kv, l), B, tq, past + T, s->p.n_kv, NH,
                                     NKV, hs);
        } else if (only_last) {
            slm_attention_forward_kv(s->att, NULL, qa, s->k, s->v, B, 1, T, T, NH, NKV, hs);
        } else {
            slm_attention_forward(s->att, NULL, s->q, s->k, s->v, B, T, NH, NKV, hs);
        }
        if (only_last) /* residual rows (b, T-1) -> rows b; b <= b*T+T-1, in order */
            for (int64_t b = 0; b < B; b++)
                memmove(s->x + b * C, s->x + (b * T + T - 1) * C, (size_t)C * sizeof(float));
        slm_matmul_forward(s->x, s->att, L->wo, nr, Q, C, 1.0f); /* residual */
        slm_rmsnorm_forward(s->xn, NULL, s->x, L->ffn_norm, nr, C, hp->rms_eps);
        if (gate_up_contiguous(L, C, F)) {
            slm_matmul_forward(s->gu, s->xn, L->w_gate, nr, C, 2 * F, 0.0f);
            swiglu_fused(s->g, s->gu, nr, F);
        } else {
            slm_matmul_forward(s->g, s->xn, L->w_gate, nr, C, F, 0.0f);
            slm_matmul_forward(s->u, s->xn, L->w_up, nr, C, F, 0.0f);
            slm_swiglu_forward(s->g, s->g, s->u, nr, F);
        }
        slm_matmul_forward(s->x, s->g, L->w_down, nr, F, C, 1.0f); /* residual */
        if (only_last) x_rows_are_last = true;
    }
    if (cached) s->kv.n_past += T;
    if (mode == SLM_LOGITS_ALL) {
        slm_rmsnorm_forward(s->xn, NULL, s->x, w->output_norm, N, C, hp->rms_eps);
        slm_matmul_forward(s->logits, s->xn, w->output, N, C, V, 0.0f);
    } else {
        if (!x_rows_are_last)
            for (int64_t b = 0; b < B; b++)
                memmove(s->x + b * C, s->x + (b * T + T - 1) * C, (size_t)C * sizeof(float));
        slm_rmsnorm_forward(s->last, NULL, s->x, w->output_norm, B, C, hp->rms_eps);
        slm_matmul_forward(s->logits, s->last, w->output, B, C, V, 0.0f);
    }
    return s->logits;
}
