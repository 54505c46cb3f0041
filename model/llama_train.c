/* model/llama_train.c — the Llama model as a trainable graph (llama_train.h).
 *
 * Forward, per layer (N = B*T rows; x is the residual stream):
 *   xn = rmsnorm(x) ; q,k,v = xn W^T (+ LoRA) ; rope(q), rope(k)
 *   a = attention(q, k, v) ; x2 = x + a Wo^T (+ LoRA)
 *   xn2 = rmsnorm(x2) ; g, u = xn2 Wg^T, xn2 Wu^T (+ LoRA) ; h = silu(g) * u
 *   x3 = x2 + h Wd^T (+ LoRA)
 * then xf = rmsnorm(x_L) and logits = xf Wout^T (Wout = token_embd when tied).
 * Each op stores what its backward needs in the per-step arena and records a
 * closure on the tape; backward replays the tape in reverse.
 *
 * Gradient buffers for activations are a fixed set of scratch tensors shared
 * by all layers: dres (N, C) carries d(residual stream) down the network, and
 * because a residual add passes its gradient through unchanged, the skip
 * connections need no op at all (the norm and projection backwards add into
 * dres).  A consumer that runs first in backward zeroes its input gradient
 * (din_zero), the others accumulate.
 *
 * Full mode: grads mirror the weight arena (one allocation, same offsets), so
 * a tied output head and the embedding share a gradient for free.  LoRA mode:
 * base weights are frozen (dW = NULL, no buffers); only A and B have grads.
 */
#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "core/ops.h"
#include "core/tape.h"
#include "model/llama_train.h"
#include "model/lora.h"

struct slm_llama_train {
    slm_llama_weights *w;
    slm_llama_train_params p;
    int64_t N;
    slm_param_list params;
    float *grad_mem;   /* full mode: (w->n_floats), mirrors w->mem */
    slm_lora lora;     /* LoRA mode */
    slm_tape tape;
    int32_t *pos;      /* (N) position of each row within its sequence */
    int32_t *tokens;   /* (N) copy of the last forward's tokens */
    float *logits;     /* (N, V); the caller may overwrite it with dlogits */
    const float *dlogits;
    /* activation-gradient scratch, shared by all layers */
    float *dres, *dxn;       /* (N, C) */
    float *dq, *datt;        /* (N, NH*hs) */
    float *dk, *dv;          /* (N, NKV*hs) */
    float *dgate, *dup, *dh; /* (N, F) */
    float *du;               /* (N, r) LoRA */
    float *dtmp;             /* (N, max(C, NH*hs, F)) LoRA dropout */
    float *scratch_mem;
    slm_grad_ready_fn grad_ready; /* NULL: off */
    void *grad_ready_ctx;
    bool profile;
    double fwd_sec[8]; /* forward seconds per op kind (op_kinds) when profiling */
};

static const char *const op_kinds[8] = {"embedding", "rmsnorm", "linear", "rope",
                                        "attention", "swiglu",  "head",   "copy"};
enum { K_EMB, K_NORM, K_LIN, K_ROPE, K_ATT, K_SWI, K_HEAD, K_COPY };
/* runs stmt, adding its time to tr->fwd_sec[kind] when profiling */
#define TIMED(tr, kind, stmt)                                                    \
    do {                                                                         \
        double t0_ = (tr)->profile ? slm_time_sec() : 0.0;                       \
        stmt;                                                                    \
        if ((tr)->profile) (tr)->fwd_sec[kind] += slm_time_sec() - t0_;          \
    } while (0)

slm_llama_train_params slm_llama_train_default_params(void) {
    return (slm_llama_train_params){.B = 1,
                                    .T = 256,
                                    .lora = false,
                                    .lora_rank = 16,
                                    .lora_alpha = 32.0f,
                                    .lora_rslora = false,
                                    .lora_dropout = 0.0f,
                                    .lora_targets = SLM_LORA_ALL};
}

/* ---- closures ------------------------------------------------------------ */

typedef struct {
    float *din;        /* (N, IC) gradient of the input, or NULL */
    bool din_zero;     /* first consumer of din in backward: overwrite */
    float *dw;         /* (OC, IC) or NULL (frozen) */
    const float *dout; /* (N, OC) */
    const float *inp, *w;
    int64_t N, IC, OC;
    /* LoRA: y += scale * (xd A^T) B^T, xd = dropout(inp) */
    const slm_lora_pair *lo;
    int64_t r;
    float scale, keep_inv;
    const float *xd;      /* (N, IC) dropped input (== inp without dropout) */
    const uint8_t *mask;  /* (N, IC) or NULL */
    const float *u;       /* (N, r) = xd A^T */
    float *du, *dtmp;     /* scratch */
} linear_ctx;

/* forward: y = inp @ W^T [+ scale * (xd @ A^T) @ B^T] */
static void linear_backward(void *vc) {
    linear_ctx *c = vc;
    if (c->din && c->din_zero) memset(c->din, 0, (size_t)(c->N * c->IC) * sizeof(float));
    slm_matmul_backward(c->din, c->dw, c->dout, c->inp, c->w, c->N, c->IC, c->OC);
    if (!c->lo) return;
    const int N = (int)c->N, IC = (int)c->IC, OC = (int)c->OC, r = (int)c->r;
    /* dB (OC, r) += scale * dout^T (OC, N) @ u (N, r) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, r, N, c->scale, c->dout, OC, c->u,
                r, 1.0f, c->lo->gb, r);
    /* du (N, r) = scale * dout (N, OC) @ B (OC, r) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, r, OC, c->scale, c->dout, OC,
                c->lo->b, r, 0.0f, c->du, r);
    /* dA (r, IC) += du^T (r, N) @ xd (N, IC) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, IC, N, 1.0f, c->du, r, c->xd, IC,
                1.0f, c->lo->ga, IC);
    if (!c->din) return;
    if (!c->mask) { /* din (N, IC) += du @ A (r, IC) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, r, 1.0f, c->du, r,
                    c->lo->a, IC, 1.0f, c->din, IC);
        return;
    }
    /* xd = inp * mask / (1 - p): din += (du @ A) * mask / (1 - p) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, r, 1.0f, c->du, r, c->lo->a,
                IC, 0.0f, c->dtmp, IC);
    const int64_t n = c->N * c->IC;
    const float k = c->keep_inv;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) c->din[i] += c->mask[i] ? c->dtmp[i] * k : 0.0f;
}

typedef struct {
    float *din;
    bool din_zero;
    float *dw;
    const float *dout, *inp, *w, *rstd;
    int64_t N, C;
} rmsnorm_ctx;

/* forward: out = inp * rstd * w */
static void rmsnorm_backward(void *vc) {
    rmsnorm_ctx *c = vc;
    if (c->din_zero) memset(c->din, 0, (size_t)(c->N * c->C) * sizeof(float));
    slm_rmsnorm_backward(c->din, c->dw, c->dout, c->inp, c->w, c->rstd, c->N, c->C);
}

typedef struct {
    float *dx;
    const int32_t *pos;
    int64_t N, NH, hs;
    float base;
} rope_ctx;

/* forward: rope(x) in place (dq / dk are rotated back in place) */
static void rope_backward(void *vc) {
    rope_ctx *c = vc;
    slm_rope_backward(c->dx, c->pos, c->N, c->NH, c->hs, c->base);
}

typedef struct {
    float *dq, *dk, *dv;
    const float *dout, *q, *k, *v, *out, *lse;
    int64_t B, T, NH, NKV, hs;
} attention_ctx;

/* forward: out = softmax(q k^T / sqrt(hs), causal) v */
static void attention_backward(void *vc) {
    attention_ctx *c = vc;
    memset(c->dq, 0, (size_t)(c->B * c->T * c->NH * c->hs) * sizeof(float));
    memset(c->dk, 0, (size_t)(c->B * c->T * c->NKV * c->hs) * sizeof(float));
    memset(c->dv, 0, (size_t)(c->B * c->T * c->NKV * c->hs) * sizeof(float));
    slm_attention_backward(c->dq, c->dk, c->dv, c->dout, c->q, c->k, c->v, c->out, c->lse,
                           c->B, c->T, c->NH, c->NKV, c->hs);
}

typedef struct {
    float *dgate, *dup;
    const float *dout, *gate, *up;
    int64_t N, F;
} swiglu_ctx;

/* forward: h = silu(gate) * up */
static void swiglu_backward(void *vc) {
    swiglu_ctx *c = vc;
    memset(c->dgate, 0, (size_t)(c->N * c->F) * sizeof(float));
    memset(c->dup, 0, (size_t)(c->N * c->F) * sizeof(float));
    slm_swiglu_backward(c->dgate, c->dup, c->dout, c->gate, c->up, c->N, c->F);
}

typedef struct {
    float *dtable;
    const float *dout;
    const int32_t *tokens;
    int64_t N, C;
} embedding_ctx;

/* forward: x = token_embd[tokens] */
static void embedding_backward(void *vc) {
    embedding_ctx *c = vc;
    slm_embedding_backward(c->dtable, c->dout, c->tokens, c->N, c->C);
}

typedef struct {
    const float *const *dlogits; /* -> tr->dlogits, set by slm_llama_train_backward */
    float *dxf, *dw;
    const float *xf, *w;
    int64_t N, C, V;
} head_ctx;

/* forward: logits (N, V) = xf (N, C) @ Wout (V, C)^T */
static void head_backward(void *vc) {
    head_ctx *c = vc;
    memset(c->dxf, 0, (size_t)(c->N * c->C) * sizeof(float));
    slm_matmul_backward(c->dxf, c->dw, *c->dlogits, c->xf, c->w, c->N, c->C, c->V);
}

typedef struct {
    const slm_llama_train *tr;
    int64_t stage;
} ready_ctx;

/* a marker recorded before a stage's first forward op, so that it runs after
 * the stage's last backward op; tells the hook (if any) the stage is final */
static void ready_backward(void *vc) {
    ready_ctx *c = vc;
    if (c->tr->grad_ready) c->tr->grad_ready(c->tr->grad_ready_ctx, c->stage);
}

/* ---- init ---------------------------------------------------------------- */

static float *grad_of(slm_llama_train *tr, const float *weight) {
    if (tr->p.lora) return NULL;
    return tr->grad_mem + (weight - tr->w->mem);
}

slm_status slm_llama_train_init(slm_llama_weights *w, const slm_llama_train_params *p,
                                slm_rng *rng, slm_llama_train **out) {
    *out = NULL;
    const slm_llama_hparams *hp = &w->hp;
    if (p->B < 1 || p->T < 1) {
        slm_log_error("llama_train: batch %lld x seq %lld: both must be >= 1", (long long)p->B,
                      (long long)p->T);
        return SLM_ERR_USAGE;
    }
    if (p->lora && (p->lora_rank < 1 || p->lora_targets == 0 || p->lora_dropout < 0.0f ||
                    p->lora_dropout >= 1.0f)) {
        slm_log_error("llama_train: lora rank %lld (>= 1), targets 0x%x (non-empty), dropout "
                      "%g (in [0, 1)) out of range", (long long)p->lora_rank,
                      (unsigned)p->lora_targets, (double)p->lora_dropout);
        return SLM_ERR_USAGE;
    }
    slm_llama_train *tr = slm_calloc(1, sizeof *tr);
    if (!tr) return SLM_ERR_NOMEM;
    tr->w = w;
    tr->p = *p;
    const int64_t N = p->B * p->T, C = hp->n_embd, V = hp->n_vocab, F = hp->n_ff;
    const int64_t Q = hp->n_head * hp->head_dim, KV = hp->n_head_kv * hp->head_dim;
    tr->N = N;
    slm_status st = SLM_ERR_NOMEM;

    /* parameters */
    const int64_t nt = slm_llama_n_tensors(w);
    tr->params.v = slm_calloc((size_t)(nt + 2 * hp->n_layer * SLM_LORA_N_TARGETS),
                              sizeof(slm_param));
    if (!tr->params.v) goto fail;
    if (!p->lora) {
        tr->grad_mem = slm_alloc_aligned(w->n_floats * sizeof(float));
        if (!tr->grad_mem) goto fail;
        for (int64_t i = 0; i < nt; i++) {
            slm_llama_tensor_ref r;
            slm_llama_tensor(w, i, &r);
            slm_param *pp = &tr->params.v[tr->params.n++];
            snprintf(pp->name, sizeof pp->name, "%s", r.name);
            pp->data = r.data;
            pp->grad = grad_of(tr, r.data);
            pp->n = r.ne[0] * r.ne[1];
            pp->n_dims = r.n_dims;
            pp->ne[0] = r.ne[0], pp->ne[1] = r.ne[1];
            pp->decay = r.kind != SLM_W_TOKEN_EMBD && r.kind != SLM_W_ATTN_NORM &&
                        r.kind != SLM_W_FFN_NORM && r.kind != SLM_W_OUTPUT_NORM;
        }
    } else {
        st = slm_lora_init(&tr->lora, hp, p->lora_rank, p->lora_targets,
                           slm_lora_scale(p->lora_alpha, p->lora_rank, p->lora_rslora), rng);
        if (st != SLM_OK) goto fail;
        st = SLM_ERR_NOMEM;
        slm_lora_fill_params(&tr->lora, tr->params.v, &tr->params.n);
    }

    /* long-lived buffers: positions, tokens, logits, gradient scratch */
    tr->pos = slm_alloc((size_t)N * sizeof(int32_t));
    tr->tokens = slm_alloc((size_t)N * sizeof(int32_t));
    tr->logits = slm_alloc_aligned((size_t)(N * V) * sizeof(float));
    const int64_t r = p->lora ? p->lora_rank : 0;
    const int64_t maxin = F > C ? (F > Q ? F : Q) : (C > Q ? C : Q);
    const int64_t dtmp_n = p->lora && p->lora_dropout > 0.0f ? maxin : 0;
    const int64_t per_row = 2 * C + 2 * Q + 2 * KV + 3 * F + r + dtmp_n;
    tr->scratch_mem = slm_alloc_aligned((size_t)(N * per_row + 16 * 12) * sizeof(float));
    if (!tr->pos || !tr->tokens || !tr->logits || !tr->scratch_mem) goto fail;
    for (int64_t i = 0; i < N; i++) tr->pos[i] = (int32_t)(i % p->T);
    float *s = tr->scratch_mem;
#define CARVE(ptr, n) (ptr = s, s += ((n) + 15) / 16 * 16)
    CARVE(tr->dres, N * C);
    CARVE(tr->dxn, N * C);
    CARVE(tr->dq, N * Q);
    CARVE(tr->datt, N * Q);
    CARVE(tr->dk, N * KV);
    CARVE(tr->dv, N * KV);
    CARVE(tr->dgate, N * F);
    CARVE(tr->dup, N * F);
    CARVE(tr->dh, N * F);
    CARVE(tr->du, N * r);
    CARVE(tr->dtmp, N * dtmp_n);
#undef CARVE

    /* activation arena: exact for the tensors below, plus room for closures */
    int64_t per_layer = 2 * C + 2 * Q + 2 * KV + 2 + hp->n_head + 2 * C + 3 * F + 16 * 20;
    if (p->lora) {
        int64_t lo = 0;
        for (int i = 0; i < SLM_LORA_N_TARGETS; i++) {
            if (!(p->lora_targets & (1u << i))) continue;
            int64_t in, o;
            slm_lora_target_dims(hp, i, &in, &o);
            lo += r + 16 + (p->lora_dropout > 0.0f ? in + in / 4 + 32 : 0);
        }
        per_layer += lo;
    }
    size_t arena = (size_t)(N * (hp->n_layer * per_layer + 2 * C + 1 + 64)) * sizeof(float) +
                   (size_t)(hp->n_layer + 1) * 16 * 1024;
    st = slm_tape_init(&tr->tape, arena);
    if (st != SLM_OK) goto fail;
    *out = tr;
    return SLM_OK;
fail:
    slm_llama_train_free(tr);
    return st;
}

void slm_llama_train_free(slm_llama_train *tr) {
    if (!tr) return;
    slm_free(tr->params.v);
    slm_free(tr->grad_mem);
    slm_lora_free(&tr->lora);
    slm_tape_free(&tr->tape);
    slm_free(tr->pos);
    slm_free(tr->tokens);
    slm_free(tr->logits);
    slm_free(tr->scratch_mem);
    slm_free(tr);
}

const slm_param_list *slm_llama_train_param_list(slm_llama_train *tr) { return &tr->params; }

void slm_llama_train_zero_grad(slm_llama_train *tr) {
    if (tr->grad_mem) memset(tr->grad_mem, 0, tr->w->n_floats * sizeof(float));
    if (tr->lora.gmem) memset(tr->lora.gmem, 0, (size_t)tr->lora.n_floats * sizeof(float));
}

size_t slm_llama_train_arena_bytes(const slm_llama_train *tr) {
    return tr->tape.arena.cap > tr->tape.arena.peak ? tr->tape.arena.cap : tr->tape.arena.peak;
}

/* ---- forward ------------------------------------------------------------- */

/* y (N, OC) = x @ W^T (beta 0) or y += x @ W^T (beta 1), plus LoRA target ti
 * of layer l when adapted; records the backward closure. */
static void linear(slm_llama_train *tr, float *y, const float *x, const float *W, float *din,
                   bool din_zero, const float *dout, int64_t IC, int64_t OC, float beta,
                   int64_t l, int ti, slm_rng *rng) {
    const int64_t N = tr->N;
    const double t0 = tr->profile ? slm_time_sec() : 0.0;
    slm_matmul_forward(y, x, W, N, IC, OC, beta);
    linear_ctx *c = slm_tape_record(&tr->tape, "linear", linear_backward, sizeof *c);
    *c = (linear_ctx){.din = din, .din_zero = din_zero, .dw = grad_of(tr, W), .dout = dout,
                      .inp = x, .w = W, .N = N, .IC = IC, .OC = OC};
    if (!tr->p.lora || !(tr->p.lora_targets & (1u << ti))) {
        if (tr->profile) tr->fwd_sec[K_LIN] += slm_time_sec() - t0;
        return;
    }
    const slm_lora_pair *lo = &tr->lora.pairs[l * SLM_LORA_N_TARGETS + ti];
    const int64_t r = tr->lora.rank;
    const float *xd = x;
    const float pdrop = tr->p.lora_dropout;
    if (pdrop > 0.0f) { /* inverted dropout on the adapter input, one mask per target */
        SLM_ASSERT(rng != NULL);
        float *xdrop = slm_arena_floats(&tr->tape.arena, N * IC);
        uint8_t *mask = slm_arena_alloc(&tr->tape.arena, (size_t)(N * IC));
        const float keep_inv = 1.0f / (1.0f - pdrop);
        for (int64_t i = 0; i < N * IC; i++) {
            mask[i] = slm_rng_uniform(rng) >= pdrop;
            xdrop[i] = mask[i] ? x[i] * keep_inv : 0.0f;
        }
        xd = xdrop;
        c->mask = mask;
        c->keep_inv = keep_inv;
    }
    float *u = slm_arena_floats(&tr->tape.arena, N * r);
    /* u (N, r) = xd (N, IC) @ A (r, IC)^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)r, (int)IC, 1.0f, xd,
                (int)IC, lo->a, (int)IC, 0.0f, u, (int)r);
    /* y (N, OC) += scale * u (N, r) @ B (OC, r)^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)OC, (int)r,
                tr->lora.scale, u, (int)r, lo->b, (int)r, 1.0f, y, (int)OC);
    c->lo = lo, c->r = r, c->scale = tr->lora.scale, c->xd = xd, c->u = u;
    c->du = tr->du, c->dtmp = tr->dtmp;
    if (tr->profile) tr->fwd_sec[K_LIN] += slm_time_sec() - t0;
}

static void rmsnorm(slm_llama_train *tr, float *out, const float *x, const float *wt,
                    float *din, bool din_zero, const float *dout) {
    const int64_t N = tr->N, C = tr->w->hp.n_embd;
    float *rstd = slm_arena_floats(&tr->tape.arena, N);
    TIMED(tr, K_NORM, slm_rmsnorm_forward(out, rstd, x, wt, N, C, tr->w->hp.rms_eps));
    rmsnorm_ctx *c = slm_tape_record(&tr->tape, "rmsnorm", rmsnorm_backward, sizeof *c);
    *c = (rmsnorm_ctx){.din = din, .din_zero = din_zero, .dw = grad_of(tr, wt), .dout = dout,
                       .inp = x, .w = wt, .rstd = rstd, .N = N, .C = C};
}

static void rope(slm_llama_train *tr, float *x, float *dx, int64_t NHx) {
    const slm_llama_hparams *hp = &tr->w->hp;
    TIMED(tr, K_ROPE, slm_rope_forward(x, tr->pos, tr->N, NHx, hp->head_dim, hp->rope_base));
    rope_ctx *c = slm_tape_record(&tr->tape, "rope", rope_backward, sizeof *c);
    *c = (rope_ctx){.dx = dx, .pos = tr->pos, .N = tr->N, .NH = NHx, .hs = hp->head_dim,
                    .base = hp->rope_base};
}

static void mark_ready(slm_llama_train *tr, int64_t stage) {
    ready_ctx *c = slm_tape_record(&tr->tape, "grad_ready", ready_backward, sizeof *c);
    *c = (ready_ctx){.tr = tr, .stage = stage};
}

float *slm_llama_train_forward(slm_llama_train *tr, const int32_t *tokens, slm_rng *rng) {
    const slm_llama_weights *w = tr->w;
    const slm_llama_hparams *hp = &w->hp;
    const int64_t N = tr->N, B = tr->p.B, T = tr->p.T, C = hp->n_embd, V = hp->n_vocab;
    const int64_t F = hp->n_ff, NH = hp->n_head, NKV = hp->n_head_kv, hs = hp->head_dim;
    const int64_t Q = NH * hs, KV = NKV * hs;
    slm_tape *tp = &tr->tape;
    slm_arena *ar = &tp->arena;
    slm_tape_reset(tp);
    memset(tr->fwd_sec, 0, sizeof tr->fwd_sec);
    memcpy(tr->tokens, tokens, (size_t)N * sizeof(int32_t));

    const int64_t L = hp->n_layer;
    mark_ready(tr, L + 1); /* runs last in backward: token_embd is final */
    float *x = slm_arena_floats(ar, N * C);
    TIMED(tr, K_EMB, slm_embedding_forward(x, tr->tokens, w->token_embd, N, C));
    if (!tr->p.lora) {
        embedding_ctx *c = slm_tape_record(tp, "embedding", embedding_backward, sizeof *c);
        *c = (embedding_ctx){.dtable = grad_of(tr, w->token_embd), .dout = tr->dres,
                             .tokens = tr->tokens, .N = N, .C = C};
    }
    for (int64_t l = 0; l < hp->n_layer; l++) {
        const slm_llama_layer *Ly = &w->layers[l];
        mark_ready(tr, 1 + (L - 1 - l)); /* after the layer's backward */
        float *xn = slm_arena_floats(ar, N * C);
        rmsnorm(tr, xn, x, Ly->attn_norm, tr->dres, false, tr->dxn);
        float *q = slm_arena_floats(ar, N * Q), *k = slm_arena_floats(ar, N * KV);
        float *v = slm_arena_floats(ar, N * KV);
        /* q, k, v share dxn; v runs first in backward and zeroes it */
        linear(tr, q, xn, Ly->wq, tr->dxn, false, tr->dq, C, Q, 0.0f, l, 0, rng);
        linear(tr, k, xn, Ly->wk, tr->dxn, false, tr->dk, C, KV, 0.0f, l, 1, rng);
        linear(tr, v, xn, Ly->wv, tr->dxn, true, tr->dv, C, KV, 0.0f, l, 2, rng);
        rope(tr, q, tr->dq, NH);
        rope(tr, k, tr->dk, NKV);
        float *att = slm_arena_floats(ar, N * Q), *lse = slm_arena_floats(ar, B * NH * T);
        TIMED(tr, K_ATT, slm_attention_forward(att, lse, q, k, v, B, T, NH, NKV, hs));
        attention_ctx *ac = slm_tape_record(tp, "attention", attention_backward, sizeof *ac);
        *ac = (attention_ctx){.dq = tr->dq, .dk = tr->dk, .dv = tr->dv, .dout = tr->datt,
                              .q = q, .k = k, .v = v, .out = att, .lse = lse, .B = B, .T = T,
                              .NH = NH, .NKV = NKV, .hs = hs};
        /* x2 = x + att @ Wo^T (the residual passes dres through unchanged) */
        float *x2 = slm_arena_floats(ar, N * C);
        TIMED(tr, K_COPY, memcpy(x2, x, (size_t)(N * C) * sizeof(float)));
        linear(tr, x2, att, Ly->wo, tr->datt, true, tr->dres, Q, C, 1.0f, l, 3, rng);
        float *xn2 = slm_arena_floats(ar, N * C);
        rmsnorm(tr, xn2, x2, Ly->ffn_norm, tr->dres, false, tr->dxn);
        float *g = slm_arena_floats(ar, N * F), *u = slm_arena_floats(ar, N * F);
        linear(tr, g, xn2, Ly->w_gate, tr->dxn, false, tr->dgate, C, F, 0.0f, l, 4, rng);
        linear(tr, u, xn2, Ly->w_up, tr->dxn, true, tr->dup, C, F, 0.0f, l, 5, rng);
        float *h = slm_arena_floats(ar, N * F);
        TIMED(tr, K_SWI, slm_swiglu_forward(h, g, u, N, F));
        swiglu_ctx *sc = slm_tape_record(tp, "swiglu", swiglu_backward, sizeof *sc);
        *sc = (swiglu_ctx){.dgate = tr->dgate, .dup = tr->dup, .dout = tr->dh, .gate = g,
                           .up = u, .N = N, .F = F};
        float *x3 = slm_arena_floats(ar, N * C);
        TIMED(tr, K_COPY, memcpy(x3, x2, (size_t)(N * C) * sizeof(float)));
        linear(tr, x3, h, Ly->w_down, tr->dh, true, tr->dres, F, C, 1.0f, l, 6, rng);
        x = x3;
    }
    mark_ready(tr, 0); /* after the head and the final norm */
    /* final norm: its backward is the first writer of dres */
    float *xf = slm_arena_floats(ar, N * C);
    rmsnorm(tr, xf, x, w->output_norm, tr->dres, true, tr->dxn);
    TIMED(tr, K_HEAD, slm_matmul_forward(tr->logits, xf, w->output, N, C, V, 0.0f));
    head_ctx *hc = slm_tape_record(tp, "head", head_backward, sizeof *hc);
    *hc = (head_ctx){.dlogits = &tr->dlogits, .dxf = tr->dxn, .dw = grad_of(tr, w->output),
                     .xf = xf, .w = w->output, .N = N, .C = C, .V = V};
    return tr->logits;
}

void slm_llama_train_backward(slm_llama_train *tr, const float *dlogits) {
    tr->dlogits = dlogits;
    slm_tape_backward(&tr->tape);
    tr->dlogits = NULL;
}

void slm_llama_train_set_grad_ready(slm_llama_train *tr, slm_grad_ready_fn fn, void *ctx) {
    tr->grad_ready = fn;
    tr->grad_ready_ctx = ctx;
}

int64_t slm_llama_train_n_stages(const slm_llama_train *tr) { return tr->w->hp.n_layer + 2; }

int64_t slm_llama_train_param_stage(const slm_llama_train *tr, int64_t i) {
    SLM_ASSERT(i >= 0 && i < tr->params.n);
    const int64_t L = tr->w->hp.n_layer;
    const char *name = tr->params.v[i].name;
    long long l = -1;
    if (sscanf(name, "blk.%lld.", &l) == 1 && l >= 0 && l < L) return 1 + (L - 1 - l);
    if (strncmp(name, "token_embd", 10) == 0) return L + 1;
    return 0; /* output_norm, output */
}

void slm_llama_train_set_profile(slm_llama_train *tr, bool on) {
    tr->profile = on;
    tr->tape.profile = on;
}

void slm_llama_train_print_profile(const slm_llama_train *tr) {
    double bwd[8] = {0};
    const char *tape_names[8] = {"embedding", "rmsnorm", "linear", "rope",
                                 "attention", "swiglu",  "head",   "-"};
    for (int64_t i = 0; i < tr->tape.n; i++)
        for (int k = 0; k < 7; k++)
            if (strcmp(tr->tape.ops[i].name, tape_names[k]) == 0) bwd[k] += tr->tape.ops[i].seconds;
    fprintf(stderr, "    profile (s, last step):");
    for (int k = 0; k < 8; k++)
        fprintf(stderr, " %s %.3f/%.3f", op_kinds[k], tr->fwd_sec[k], bwd[k]);
    fprintf(stderr, "  (forward/backward)\n");
}
