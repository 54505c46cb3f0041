/* model/llama_train.h — the Llama model as a trainable graph: a forward pass
 * that keeps the activations it needs in a per-step arena, and a backward
 * pass that accumulates gradients into the trainable tensors (all weights for
 * full training and pretraining, only the LoRA adapters for LoRA).
 *
 * The loss is not part of the model: the caller gets the logits, computes a
 * loss and writes d(loss)/d(logits) (cross-entropy, KD, ...), then calls
 * backward.  This is what lets train/ stay ignorant of distill/.
 *
 *   slm_llama_train *tr;
 *   st = slm_llama_train_init(&weights, &p, &rng, &tr);
 *   const slm_param_list *params = slm_llama_train_param_list(tr);
 *   for each step:
 *       slm_llama_train_zero_grad(tr);
 *       for each micro-batch:
 *           float *logits = slm_llama_train_forward(tr, tokens, &rng);   // (B, T, V)
 *           loss = slm_cross_entropy_forward_backward(logits, NULL, logits, targets,
 *                                                     mask, B*T, V, 1.0f / n_micro);
 *           slm_llama_train_backward(tr, logits);                        // dlogits in place
 *       optimizer step over params
 *   slm_llama_train_free(tr);
 */
#ifndef SLM_MODEL_LLAMA_TRAIN_H
#define SLM_MODEL_LLAMA_TRAIN_H

#include "core/params.h"
#include "model/llama.h"

/* LoRA target bits, by the short names used in configs (q,k,v,o,gate,up,down). */
enum {
    SLM_LORA_Q = 1 << 0,
    SLM_LORA_K = 1 << 1,
    SLM_LORA_V = 1 << 2,
    SLM_LORA_O = 1 << 3,
    SLM_LORA_GATE = 1 << 4,
    SLM_LORA_UP = 1 << 5,
    SLM_LORA_DOWN = 1 << 6,
    SLM_LORA_ALL = (1 << 7) - 1
};

typedef struct {
    int64_t B;             /* sequences per micro-batch */
    int64_t T;             /* tokens per sequence */
    bool lora;             /* false: every weight trains */
    int64_t lora_rank;     /* r */
    float lora_alpha;      /* scale = alpha / r, or alpha / sqrt(r) with rslora */
    bool lora_rslora;
    float lora_dropout;    /* dropout on the adapter input x, training only */
    uint32_t lora_targets; /* SLM_LORA_* bits */
} slm_llama_train_params;

typedef struct slm_llama_train slm_llama_train;

slm_llama_train_params slm_llama_train_default_params(void);
/* Parses "q,k,v,o" / "all" into SLM_LORA_* bits; SLM_ERR_USAGE naming the bad entry. */
slm_status slm_lora_parse_targets(const char *s, uint32_t *out);
/* One place computes the adapter scale (STYLE rule 16). */
float slm_lora_scale(float alpha, int64_t rank, bool rslora);

/* w is borrowed and must outlive tr.  LoRA A is Kaiming-uniform from rng, B zero. */
slm_status slm_llama_train_init(slm_llama_weights *w, const slm_llama_train_params *p,
                                slm_rng *rng, slm_llama_train **out);
void slm_llama_train_free(slm_llama_train *tr);
/* The trainable tensors with their gradients (order fixed for a given config). */
const slm_param_list *slm_llama_train_param_list(slm_llama_train *tr);
void slm_llama_train_zero_grad(slm_llama_train *tr);
/* tokens (B, T) -> logits (B, T, V), valid until the next forward.  rng drives
 * LoRA dropout (may be NULL when dropout is 0).  No allocation after the first call. */
float *slm_llama_train_forward(slm_llama_train *tr, const int32_t *tokens, slm_rng *rng);
/* dlogits (B, T, V) (may be the buffer forward returned); accumulates grads. */
void slm_llama_train_backward(slm_llama_train *tr, const float *dlogits);
/* Gradient-ready hook (data-parallel overlap, docs/mpi.md).  Backward makes
 * the parameter gradients final in stages, fired in order 0, 1, ..., n-1:
 *   stage 0            output_norm (and output when not tied), after the head
 *                      and the final norm;
 *   stage 1 + (L-1-l)  every tensor of layer l (LoRA: its adapters), after the
 *                      layer's first op (attn_norm) has been differentiated;
 *   stage L + 1        token_embd (and the tied output head), at the end.
 * A stage may hold no trainable tensor (LoRA: stages 0 and L+1); it still
 * fires.  fn(ctx, stage) runs on the backward's thread between two ops; it
 * must not touch the gradients of later stages.  fn = NULL (the default)
 * turns it off: backward then runs exactly as without it (a no-op marker per
 * stage), and the numerics never depend on it. */
typedef void (*slm_grad_ready_fn)(void *ctx, int64_t stage);
void slm_llama_train_set_grad_ready(slm_llama_train *tr, slm_grad_ready_fn fn, void *ctx);
/* Number of stages (n_layer + 2). */
int64_t slm_llama_train_n_stages(const slm_llama_train *tr);
/* The stage after which the gradient of parameter i of the param list is final. */
int64_t slm_llama_train_param_stage(const slm_llama_train *tr, int64_t i);
/* Bytes of the activation arena (for memory reports). */
size_t slm_llama_train_arena_bytes(const slm_llama_train *tr);
/* Profiling for benchmarks: when on, forward and backward time every op;
 * print_profile writes the seconds per op kind of the last step to stderr. */
void slm_llama_train_set_profile(slm_llama_train *tr, bool on);
void slm_llama_train_print_profile(const slm_llama_train *tr);

#endif
