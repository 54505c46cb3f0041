/* train/setup.c — config -> model hyper-parameters, initialisation, data
 * (see setup.h). */
#include "train/setup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"

void slm_train_hparams_from_config(const slm_train_config *c, int64_t n_vocab,
                                   slm_llama_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    hp->n_vocab = n_vocab;
    hp->n_embd = c->dim;
    hp->n_layer = c->layers;
    hp->n_head = c->heads;
    hp->n_head_kv = c->kv_heads ? c->kv_heads : c->heads;
    hp->head_dim = c->dim / c->heads;
    hp->n_ff = c->ffn ? c->ffn : ((8 * c->dim / 3 + 31) / 32) * 32;
    hp->n_ctx = c->ctx ? c->ctx : c->seq_len;
    hp->rms_eps = (float)c->rms_eps;
    hp->rope_base = (float)c->rope_base;
    hp->tied_output = c->tied;
}

void slm_train_init_weights(slm_llama_weights *w, float std, slm_rng *rng) {
    const float proj_std = std / sqrtf(2.0f * (float)w->hp.n_layer);
    for (int64_t i = 0; i < slm_llama_n_tensors(w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(w, i, &t);
        const int64_t n = t.ne[0] * (t.n_dims == 2 ? t.ne[1] : 1);
        if (t.n_dims == 1) {
            for (int64_t j = 0; j < n; j++) t.data[j] = 1.0f;
            continue;
        }
        const float s = t.kind == SLM_W_ATTN_OUTPUT || t.kind == SLM_W_FFN_DOWN ? proj_std : std;
        for (int64_t j = 0; j < n; j++) t.data[j] = s * slm_rng_normal(rng);
    }
}

slm_status slm_gguf_vocab_size(const slm_gguf *g, int64_t *n) {
    int64_t k = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    if (k < 0 || slm_gguf_kv_type(g, k) != SLM_GGUF_ARRAY || slm_gguf_arr_n(g, k) == 0) {
        slm_log_error("%s: no tokenizer.ggml.tokens array: not a vocabulary GGUF "
                      "(make one with `slm tokenizer train`)",
                      slm_gguf_path(g));
        return SLM_ERR_FORMAT;
    }
    *n = (int64_t)slm_gguf_arr_n(g, k);
    return SLM_OK;
}

static slm_status check_ids(const int32_t *t, int64_t n, int64_t V, const char *what,
                            const char *split) {
    for (int64_t i = 0; i < n; i++)
        if (t[i] < 0 || t[i] >= V) {
            slm_log_error("%s: %s token %lld has id %d, outside the model's vocabulary [0, %lld)",
                          what, split, (long long)i, t[i], (long long)V);
            return SLM_ERR_FORMAT;
        }
    return SLM_OK;
}

slm_status slm_token_data_init(slm_token_data *td, int32_t *train, uint8_t *train_mask,
                               int64_t n_train, int32_t *val, uint8_t *val_mask, int64_t n_val,
                               int64_t T, int64_t n_vocab, const char *what) {
    memset(td, 0, sizeof *td);
    td->tok[0] = train;
    td->mask[0] = train_mask;
    td->n[0] = n_train;
    td->tok[1] = val;
    td->mask[1] = val_mask;
    td->n[1] = n_val;
    td->T = T;
    td->n_vocab = n_vocab;
    slm_status st = check_ids(train, n_train, n_vocab, what, "train");
    if (st == SLM_OK) st = check_ids(val, n_val, n_vocab, what, "val");
    return st;
}

slm_status slm_token_data_from_dataset(slm_token_data *td, const char *path, int64_t T,
                                       int64_t n_vocab, const char *fingerprint,
                                       const char *model_what) {
    memset(td, 0, sizeof *td);
    int32_t *tok[2] = {NULL, NULL};
    uint8_t *mask[2] = {NULL, NULL};
    int64_t n[2] = {0, 0};
    slm_status st = SLM_OK;
    for (int s = 0; s < 2 && st == SLM_OK; s++) {
        slm_dataset *ds = NULL;
        st = slm_dataset_open(path, s ? "val" : "train", &ds);
        if (st == SLM_OK && fingerprint) st = slm_dataset_check_fingerprint(ds, fingerprint, model_what);
        if (st == SLM_OK && slm_dataset_vocab_size(ds) > n_vocab) {
            slm_log_error("%s: vocab_size %lld exceeds the model's %lld", path,
                          (long long)slm_dataset_vocab_size(ds), (long long)n_vocab);
            st = SLM_ERR_FORMAT;
        }
        if (st == SLM_OK) st = slm_dataset_read_all(ds, &tok[s], &mask[s], &n[s]);
        slm_dataset_close(ds);
    }
    if (st == SLM_OK)
        return slm_token_data_init(td, tok[0], mask[0], n[0], tok[1], mask[1], n[1], T, n_vocab, path);
    for (int s = 0; s < 2; s++) {
        free(tok[s]);
        free(mask[s]);
    }
    return st;
}

void slm_token_data_free(slm_token_data *td) {
    for (int s = 0; s < 2; s++) {
        free(td->tok[s]);
        free(td->mask[s]);
    }
    memset(td, 0, sizeof *td);
}

static slm_status get_seq(void *ctx, bool val, int64_t seq, int32_t *tokens, int32_t *targets,
                          uint8_t *mask) {
    slm_token_data *td = ctx;
    const int s = val ? 1 : 0;
    const int64_t T = td->T, o = seq * T;
    SLM_ASSERT(seq >= 0 && o + T + 1 <= td->n[s]);
    memcpy(tokens, td->tok[s] + o, (size_t)T * sizeof *tokens);
    memcpy(targets, td->tok[s] + o + 1, (size_t)T * sizeof *targets);
    if (td->mask[s]) memcpy(mask, td->mask[s] + o + 1, (size_t)T);
    else memset(mask, 1, (size_t)T);
    return SLM_OK;
}

slm_train_data slm_token_data_source(slm_token_data *td) {
    slm_train_data d = {.ctx = td, .get = get_seq};
    d.n_train = td->n[0] > td->T ? (td->n[0] - 1) / td->T : 0;
    d.n_val = td->n[1] > td->T ? (td->n[1] - 1) / td->T : 0;
    return d;
}

static const slm_param_list *graph_params(void *c) {
    return slm_llama_train_param_list(((slm_graph_ctx *)c)->tr);
}
static void graph_zero(void *c) { slm_llama_train_zero_grad(((slm_graph_ctx *)c)->tr); }
static float *graph_forward(void *c, const int32_t *tokens, slm_rng *rng) {
    slm_graph_ctx *gr = c;
    slm_rng eval_rng;
    if (!rng && gr->dropout) {
        slm_rng_seed(&eval_rng, 0x5eed);
        rng = &eval_rng;
    }
    return slm_llama_train_forward(gr->tr, tokens, rng);
}
static void graph_backward(void *c, const float *dlogits) {
    slm_llama_train_backward(((slm_graph_ctx *)c)->tr, dlogits);
}

static int64_t graph_stages(void *c, int64_t *stage_of) {
    slm_llama_train *tr = ((slm_graph_ctx *)c)->tr;
    const slm_param_list *pl = slm_llama_train_param_list(tr);
    for (int64_t i = 0; i < pl->n; i++) stage_of[i] = slm_llama_train_param_stage(tr, i);
    return slm_llama_train_n_stages(tr);
}
static void graph_set_ready(void *c, void (*fn)(void *, int64_t), void *fctx) {
    slm_llama_train_set_grad_ready(((slm_graph_ctx *)c)->tr, fn, fctx);
}

slm_train_model slm_graph_model(slm_graph_ctx *gr, int64_t n_vocab) {
    return (slm_train_model){.ctx = gr, .n_vocab = n_vocab, .params = graph_params,
                             .zero_grad = graph_zero, .forward = graph_forward,
                             .backward = graph_backward, .grad_stages = graph_stages,
                             .set_grad_ready = graph_set_ready};
}

slm_trainer_params slm_trainer_params_from_config(const slm_train_config *c) {
    slm_trainer_params p = slm_trainer_default_params();
    p.steps = c->steps;
    p.B = c->batch;
    p.T = c->seq_len;
    p.accum = c->accum;
    p.sched = (slm_sched){.kind = (slm_sched_kind)c->schedule, .lr = (float)c->lr,
                          .min_lr = (float)c->min_lr, .warmup = c->warmup, .total = c->steps};
    p.adamw = (slm_adamw_params){.beta1 = (float)c->beta1, .beta2 = (float)c->beta2,
                                 .eps = (float)c->eps, .weight_decay = (float)c->weight_decay,
                                 .decay_all = c->decay_all};
    p.grad_clip = (float)c->grad_clip;
    p.seed = (uint64_t)c->seed;
    p.eval_every = c->eval_every;
    p.eval_batches = c->eval_batches;
    p.ckpt_every = c->ckpt_every;
    p.keep = c->keep;
    p.log_every = c->log_every;
    p.dir = c->dir;
    p.mode = slm_train_mode_name((slm_train_mode)c->mode);
    return p;
}
