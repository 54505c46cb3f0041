/* distill/teacher.h — running a teacher over a tokenized dataset and writing
 * its logit dump (`slm dump-logits`), plus the per-position selection
 * kernels (top-k of a log-softmax; sampled ids with counts).
 *
 * Sequences: sequence s of a dataset split is the window of T + 1 tokens
 * starting at s*T (consecutive windows share one token): the teacher reads
 * tokens[s*T .. s*T+T-1], position t predicts tokens[s*T+t+1] (stored in
 * /targets) and /loss_mask[t] is the split's loss_mask of that target.
 * S = (n_tokens - 1) / T sequences (the remainder is dropped). */
#ifndef SLM_DISTILL_TEACHER_H
#define SLM_DISTILL_TEACHER_H

#include "core/base.h"

typedef struct {
    const char *teacher;   /* GGUF path (required) */
    const char *lora;      /* llama.cpp LoRA adapter GGUF merged into the teacher, or NULL */
    float lora_scale;
    const char *data;      /* slm dataset (required) */
    const char *split;     /* "train" (default) or "val" */
    const char *out;       /* dump path (written via out.partial) */
    int64_t k;             /* top-k entries (top-k mode) */
    int64_t sample_n;      /* > 0: sample mode with N draws per position (k = N) */
    int64_t seq_len;       /* T (0: min(256, the teacher's n_ctx)) */
    int64_t batch;         /* sequences per forward pass */
    int64_t max_seqs;      /* 0: every sequence of the split */
    bool f16;              /* store log-probs as float16 */
    int deflate;           /* zlib level 0..9 */
    bool shuffle;          /* HDF5 shuffle filter */
    int64_t chunk_seqs;    /* sequences per HDF5 chunk (default 1) */
    bool resume;           /* continue a matching out.partial (default true) */
    uint64_t seed;         /* sample mode draws */
} slm_dump_logits_params;

slm_dump_logits_params slm_dump_logits_default_params(void);
/* Runs the whole dump; logs progress (sequences, tokens/s) at info level.
 * Stats (may be NULL): tokens processed in this run and seconds spent. */
slm_status slm_dump_logits_run(const slm_dump_logits_params *p, int64_t *tokens_done,
                               double *seconds);

/* logits (V) -> the K largest log-softmax entries, sorted by descending
 * log-prob (ties by ascending id): ids (K), lp (K).  Returns log-sum-exp. */
double slm_topk_logprobs(const float *logits, int64_t V, int64_t K, int32_t *ids, float *lp);
/* logits (V) -> N draws from softmax(logits) by inverse CDF with N sorted
 * uniforms from rng: distinct ids in ascending order with their counts and
 * log-probs, K slots (unused: id -1, count 0, log-prob 0). */
void slm_sample_logprobs(const float *logits, int64_t V, int64_t N, int64_t K, slm_rng *rng,
                         int32_t *ids, float *lp, uint16_t *counts);

#endif
