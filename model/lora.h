/* model/lora.h — LoRA adapters over the Llama projections (DESIGN.md LoRA,
 * STYLE rule 16):  y = W x + scale * B (A dropout(x)),  scale from
 * slm_lora_scale() (alpha / r, rsLoRA alpha / sqrt(r)).
 *
 * Shapes: A (r, in) = GGUF ne [in, r], B (out, r) = GGUF ne [r, out], so the
 * arrays are written to a llama.cpp adapter GGUF as they are.  Names are the
 * base tensor's GGUF name + ".lora_a" / ".lora_b" ("blk.3.attn_q.weight.lora_a").
 * A starts Kaiming-uniform as PEFT does (kaiming_uniform_(a=sqrt(5)), i.e.
 * U(-1/sqrt(in), 1/sqrt(in))), B starts at zero, so W' = W at step 0.
 *
 * Export (`slm export`): slm_lora_merge() folds adapters into (a copy of) the
 * base weights; slm_lora_adapter_writer() builds the adapter GGUF.  Both take
 * a param list (names + data), so they work on tensors read from a checkpoint.
 */
#ifndef SLM_MODEL_LORA_H
#define SLM_MODEL_LORA_H

#include "core/gguf.h"
#include "core/params.h"
#include "model/llama.h"

#define SLM_LORA_N_TARGETS 7 /* q, k, v, o, gate, up, down: bit i = SLM_LORA_* */

typedef struct {
    float *a, *b;   /* (r, in), (out, r); NULL when the target is not adapted */
    float *ga, *gb; /* gradients, same shapes */
    int64_t in, out;
} slm_lora_pair;

typedef struct {
    int64_t n_layer, rank;
    uint32_t targets;     /* SLM_LORA_* bits */
    float scale;          /* slm_lora_scale(alpha, rank, rslora) */
    slm_lora_pair *pairs; /* [n_layer * SLM_LORA_N_TARGETS] */
    float *mem, *gmem;    /* one allocation each for data and gradients */
    int64_t n_floats;
} slm_lora;

/* Short config name ("q", "gate", ...) and base tensor stem ("attn_q", ...) of target i. */
const char *slm_lora_target_name(int i);
const char *slm_lora_target_stem(int i);
/* in/out features of target i; the base weight of target i in layer l. */
void slm_lora_target_dims(const slm_llama_hparams *hp, int i, int64_t *in, int64_t *out);
float *slm_lora_base_weight(const slm_llama_weights *w, int64_t l, int i);

/* A Kaiming-uniform from rng (layer-major, target order), B zero. */
slm_status slm_lora_init(slm_lora *lo, const slm_llama_hparams *hp, int64_t rank,
                         uint32_t targets, float scale, slm_rng *rng);
void slm_lora_free(slm_lora *lo); /* accepts a zeroed struct */
/* Appends the 2 * n_adapted trainable tensors (A then B per target, layer
 * order) to v[*n]; v must have room.  decay = true. */
void slm_lora_fill_params(const slm_lora *lo, slm_param *v, int64_t *n);

/* w[base] += scale * B @ A for every "<base>.lora_a" / "<base>.lora_b" pair in
 * lora (other entries are ignored).  SLM_ERR_FORMAT naming the tensor when a
 * base name is unknown, a partner is missing, or shapes disagree. */
slm_status slm_lora_merge(slm_llama_weights *w, const slm_param_list *lora, float scale);
/* The adapter.lora.alpha to write so that llama.cpp, which scales by
 * alpha / r (r read from lora_b), applies slm's scale: alpha for plain LoRA,
 * alpha * sqrt(r) for rsLoRA. */
float slm_lora_adapter_alpha(float alpha, int64_t rank, bool rslora);
/* A writer holding general.architecture = llama, general.type = adapter,
 * adapter.type = lora, adapter.lora.alpha and every .lora_a/.lora_b tensor
 * of lora as F32 (data borrowed until the write).  Caller writes and frees. */
slm_status slm_lora_adapter_writer(const slm_param_list *lora, float adapter_alpha,
                                   slm_gguf_writer **out);

#endif
