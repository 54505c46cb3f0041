/* core/params.h — the list of trainable tensors that the optimizer,
 * checkpoints, gradient clipping, MPI all-reduce and export iterate over.
 * Produced by the model (full training: every weight; LoRA: the adapters),
 * consumed by train/, distill/ and cli/.  Data and grad are borrowed. */
#ifndef SLM_CORE_PARAMS_H
#define SLM_CORE_PARAMS_H

#include "core/base.h"

typedef struct {
    char name[96];   /* GGUF name: "blk.0.attn_q.weight", "blk.0.attn_q.weight.lora_a" */
    float *data;     /* (n) */
    float *grad;     /* (n), accumulated by backward (+=), zeroed by the trainer */
    int64_t n;       /* element count */
    int n_dims;
    int64_t ne[2];   /* GGUF order: ne[0] contiguous */
    bool decay;      /* AdamW weight decay applies (false for norms and embeddings by default) */
} slm_param;

typedef struct {
    slm_param *v;
    int64_t n;
} slm_param_list;

#endif
