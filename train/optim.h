/* train/optim.h — AdamW, learning-rate schedules and global-norm gradient
 * clipping over a list of trainable tensors (core/params.h).
 *
 * AdamW follows PyTorch's torch.optim.AdamW (decoupled weight decay,
 * Loshchilov & Hutter 2019), in PyTorch's order of operations so that a
 * reference run agrees step by step:
 *   p <- p * (1 - lr * wd)                      (only where decay applies)
 *   m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
 *   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 *   slm_adamw opt;
 *   st = slm_adamw_init(&opt, params, &ap);      // m, v zeroed, t = 0
 *   norm = slm_grad_clip(params, clip);          // before each step
 *   slm_adamw_step(&opt, params, slm_lr_at(&sched, step));
 *   slm_adamw_free(&opt);
 */
#ifndef SLM_TRAIN_OPTIM_H
#define SLM_TRAIN_OPTIM_H

#include "core/params.h"

typedef struct {
    float beta1, beta2, eps;
    float weight_decay;
    bool decay_all; /* true: decay every tensor, ignoring slm_param.decay */
} slm_adamw_params;

typedef struct {
    slm_adamw_params p;
    int64_t t;         /* steps taken (bias correction uses t after increment) */
    int64_t n_tensors; /* must match the param list it was made for */
    float **m;         /* [n_tensors] -> (param n), first moments */
    float **v;         /* [n_tensors] -> (param n), second moments */
    float *mem;        /* one allocation holding every m and v */
    int64_t n_floats;  /* total floats in one of m or v */
} slm_adamw;

slm_adamw_params slm_adamw_default_params(void); /* 0.9, 0.999, 1e-8, wd 0 */
slm_status slm_adamw_init(slm_adamw *opt, const slm_param_list *params,
                          const slm_adamw_params *p);
void slm_adamw_free(slm_adamw *opt); /* accepts a zeroed struct */
/* One update of every tensor with its .grad at learning rate lr. */
void slm_adamw_step(slm_adamw *opt, const slm_param_list *params, float lr);

typedef enum {
    SLM_SCHED_CONSTANT = 0,
    SLM_SCHED_LINEAR,
    SLM_SCHED_COSINE,
    SLM_SCHED_COUNT
} slm_sched_kind;

typedef struct {
    slm_sched_kind kind;
    float lr;       /* peak learning rate */
    float min_lr;   /* floor reached at the last step (linear, cosine) */
    int64_t warmup; /* steps of linear warm-up from lr/warmup to lr */
    int64_t total;  /* total optimizer steps */
} slm_sched;

/* Learning rate for 0-based optimizer step s:
 *   s < warmup: lr * (s + 1) / warmup
 *   else with p = (s - warmup) / max(1, total - 1 - warmup) clamped to [0, 1]:
 *     constant: lr ; linear: min_lr + (lr - min_lr) (1 - p) ;
 *     cosine: min_lr + (lr - min_lr) (1 + cos(pi p)) / 2   (Loshchilov & Hutter 2017) */
float slm_lr_at(const slm_sched *s, int64_t step);
const char *slm_sched_name(slm_sched_kind k);

/* Global L2 norm of every .grad (double sum over fixed 4096-element chunks
 * added in order: the same bits for any thread count).  If max_norm > 0 and
 * the norm exceeds it, every gradient is scaled by max_norm / (norm + 1e-6)
 * (as torch.nn.utils.clip_grad_norm_).  Returns the norm before clipping. */
double slm_grad_global_norm(const slm_param_list *params);
double slm_grad_clip(const slm_param_list *params, float max_norm);

#endif
