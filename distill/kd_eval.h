/* distill/kd_eval.h — how close a model is to the teacher of a logit dump
 * (`slm eval --dump dump.h5 --model S.gguf`): over every position where the
 * dump's loss mask is set, the KL divergence KL(teacher || model) at
 * temperature 1 over the dump's buckets (top-k + tail, as the KD loss
 * defines it; in sample mode the unbiased sampled estimate), the top-1
 * agreement (model argmax == teacher's most probable stored id) and the
 * cross-entropy of the model on the dump's targets. */
#ifndef SLM_DISTILL_KD_EVAL_H
#define SLM_DISTILL_KD_EVAL_H

#include "core/base.h"
#include "model/llama.h"

typedef struct {
    double kl;        /* mean KL(teacher || model), nats */
    double top1;      /* fraction of positions where the argmaxes agree */
    double ce;        /* mean cross-entropy on /targets (positions with a target) */
    int64_t n_pos;    /* positions evaluated */
    int64_t n_seqs;
} slm_kd_eval_result;

/* tokenizer_fp (may be NULL) must match the dump's; the vocabulary sizes
 * must match (SLM_ERR_FORMAT otherwise).  max_seqs 0 = all. */
slm_status slm_kd_eval(const slm_llama_weights *w, const char *tokenizer_fp,
                       const char *dump_path, int64_t max_seqs, int64_t batch,
                       slm_kd_eval_result *r);

#endif
