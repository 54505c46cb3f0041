/* train/trainer.h — the training step loop, independent of the model and of
 * the loss: the model, the data and the loss are callbacks, so that
 * distill/ reuses this loop with a KD loss and tests drive it with toy models.
 *
 * One optimizer step = zero grads; accum x { draw B sequences at the data
 * cursor, forward, loss (writes dlogits scaled by 1/accum), backward };
 * clip the global gradient norm; AdamW at the scheduled lr.  Every
 * eval_every steps the validation loss; every log_every a JSON line in
 * <dir>/metrics.jsonl; every ckpt_every steps, at the end and on a stop
 * request (SIGINT/SIGTERM flag) a checkpoint (train/ckpt.h).  A run started
 * on a directory holding checkpoints resumes from the newest readable one
 * and continues exactly: sequences are drawn in an order that depends only
 * on (seed, epoch), and the cursor, RNG and optimizer state are restored.
 *
 *   slm_trainer_params p = slm_trainer_default_params();
 *   p.steps = 100; p.B = 8; p.T = 128; p.dir = "run"; ...
 *   st = slm_trainer_run(&p, &model, &data, slm_loss_cross_entropy, NULL, &res);
 */
#ifndef SLM_TRAIN_TRAINER_H
#define SLM_TRAIN_TRAINER_H

#include <signal.h>

#include "core/params.h"
#include "train/ckpt.h"
#include "train/optim.h"

/* One micro-batch as the loss sees it. */
typedef struct {
    int64_t B, T;
    const int32_t *tokens;  /* (B, T) model input */
    const int32_t *targets; /* (B, T) next tokens */
    const uint8_t *mask;    /* (B, T) 1 = position counts in the loss */
    const int64_t *seq_ids; /* (B) sequence index in the data source (e.g. a logit-dump row) */
    bool val;               /* drawn from the validation split */
} slm_batch;

/* Loss callback.  logits (B*T, V).  Returns the mean loss over counted
 * positions and their number in *n_counted.  If dlogits != NULL it writes
 * (=) d(mean loss)/d(logits) * grad_scale there; dlogits may alias logits. */
typedef double (*slm_loss_fn)(void *ctx, float *dlogits, const float *logits,
                              const slm_batch *b, int64_t V, float grad_scale,
                              int64_t *n_counted);

/* Default loss: cross-entropy with the loss mask (core/ops fused kernel). */
double slm_loss_cross_entropy(void *ctx, float *dlogits, const float *logits,
                              const slm_batch *b, int64_t V, float grad_scale,
                              int64_t *n_counted);

/* The model being trained (e.g. a wrapped slm_llama_train). */
typedef struct {
    void *ctx;
    int64_t n_vocab;
    const slm_param_list *(*params)(void *ctx);
    void (*zero_grad)(void *ctx);
    /* tokens (B, T) -> logits (B, T, V); rng NULL = evaluation (no dropout) */
    float *(*forward)(void *ctx, const int32_t *tokens, slm_rng *rng);
    void (*backward)(void *ctx, const float *dlogits);
    /* Optional (NULL: the model has none): the gradient-ready hook that lets
     * the MPI all-reduce overlap the last backward (train/dist.h).
     * grad_stages fills stage_of[i] for every parameter (the backward stage
     * after which its gradient is final, 0 first) and returns the number of
     * stages; set_grad_ready installs fn (NULL removes it), called with fctx
     * after each stage during backward. */
    int64_t (*grad_stages)(void *ctx, int64_t *stage_of);
    void (*set_grad_ready)(void *ctx, void (*fn)(void *fctx, int64_t stage), void *fctx);
} slm_train_model;

/* Training/validation sequences of T tokens. */
typedef struct {
    void *ctx;
    int64_t n_train, n_val; /* sequences available (n_val may be 0) */
    /* Fills tokens (T), targets (T) and mask (T) of sequence seq. */
    slm_status (*get)(void *ctx, bool val, int64_t seq, int32_t *tokens, int32_t *targets,
                      uint8_t *mask);
} slm_train_data;

typedef struct {
    int64_t steps;      /* total optimizer steps (a resumed run continues to this) */
    int64_t B, T, accum;
    slm_sched sched;
    slm_adamw_params adamw;
    float grad_clip;    /* 0 = off */
    uint64_t seed;      /* batch order and the dropout stream */
    int64_t eval_every, eval_batches, ckpt_every, keep, log_every;
    const char *dir;    /* run directory; NULL: no checkpoints, no metrics file */
    const char *config_text, *mode, *fingerprint; /* stored in checkpoints */
    slm_ckpt_check_fn check; /* validates a checkpoint before resuming (may be NULL) */
    void *check_ctx;
    bool progress;      /* progress bar on stderr when it is a TTY, else log lines */
    volatile sig_atomic_t *stop; /* set asynchronously: finish the step, checkpoint, return */
    /* Optional extra training metric of the loss (distillation's KL term):
     * the loss callback accumulates it over the positions it counts, and
     * extra_take(loss_ctx, &sum, &count) returns what was accumulated since
     * the last call and resets it.  The trainer sums it over ranks and logs
     * sum/count of the logged interval as "<extra_name>" in metrics.jsonl. */
    const char *extra_name;
    void (*extra_take)(void *loss_ctx, double *sum, double *count);
} slm_trainer_params;

typedef struct {
    int64_t start_step;   /* 0, or the step resumed from */
    int64_t step;         /* steps completed */
    double loss;          /* last training loss */
    double val_loss;      /* last validation loss (NAN if none) */
    int64_t tokens_seen;
    bool interrupted;
} slm_trainer_result;

slm_trainer_params slm_trainer_default_params(void);
/* Returns SLM_OK at the end, SLM_ERR_INTERRUPTED after a stop request (state
 * saved), SLM_ERR_RUNTIME if the loss becomes non-finite. */
slm_status slm_trainer_run(const slm_trainer_params *p, slm_train_model *m, slm_train_data *d,
                           slm_loss_fn loss, void *loss_ctx, slm_trainer_result *res);

#endif
