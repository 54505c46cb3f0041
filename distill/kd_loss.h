/* distill/kd_loss.h — fused knowledge-distillation loss over the vocabulary:
 * forward and backward in one pass per position, on the student's logits and
 * the teacher's sparse entries from a logit dump.  Same calling convention as
 * slm_cross_entropy_forward_backward (core/ops.h), so it plugs into the
 * trainer's loss callback.
 *
 * Per unmasked position n (targets[n] >= 0 for the CE term):
 *   loss_n = alpha * T^2 * D(teacher_T, student_T) + (1 - alpha) * CE(student, target)
 * and the function returns the mean over unmasked positions.
 *
 * Buckets (top-k mode): the K teacher ids, plus one tail bucket holding every
 * other id (absent when K = V).  With lp_i the stored teacher log-probs
 * (log-softmax at temperature 1 over the full vocabulary):
 *   tail mass  P = max(1 - sum_i exp(lp_i), SLM_KD_TAIL_FLOOR)        (K < V)
 *   teacher_T weights  w_i = exp(lp_i / T),
 *                      w_tail = (V - K) * (P / (V - K))^(1/T)
 *   (the tail mass is assumed spread evenly over its V - K ids, each tempered
 *   like a top-k id; at T = 1 w_tail = P exactly), teacher_T = w / sum(w).
 *   student_T = softmax(z / T) over the full vocabulary, summed per bucket
 *   (the tail bucket sums the student's probabilities of every non-top-k id).
 *   Forward D = KL(teacher_T || student_T), reverse D = KL(student_T || teacher_T),
 *   both over the K (+1) buckets.
 * Renormalised top-k: no tail bucket; teacher_T = softmax(lp / T) over the K
 * ids and student_T = softmax(z / T) restricted to the K ids, renormalised.
 * Sample mode (estimator of arXiv 2503.16870 with the teacher itself as the
 * proposal): the dump holds N draws from the teacher (T = 1) as distinct ids
 * with counts c_i; teacher ~= c_i / N (an unbiased estimate of the teacher
 * distribution).  Forward D = sum_i (c_i/N) (lp_i - log s_i), an unbiased
 * estimate of KL(teacher || student) whose gradient (s - c/N) is unbiased for
 * the full KD gradient (s - p).  Temperature must be 1; reverse KL is refused.
 *
 * Gradients (d/dz_j of D times alpha*T^2, before the 1/n_rows and grad_scale):
 *   forward:  (1/T) s_j (1 - p_b(j) / s_b(j))   = (s_j - p_j)/T for a top-k id
 *   reverse:  (1/T) s_j (g_b(j) - sum_b s_b g_b),  g_b = log s_b - log p_b
 * where b(j) is the bucket of id j.  CE adds (softmax(z)_j - [j = target]).
 */
#ifndef SLM_DISTILL_KD_LOSS_H
#define SLM_DISTILL_KD_LOSS_H

#include "core/base.h"

/* Floor of the teacher's tail mass when K < V (keeps the reverse KL finite
 * when rounded top-k probabilities sum to 1). */
#define SLM_KD_TAIL_FLOOR 1e-6

typedef enum {
    SLM_KD_FORWARD = 0, /* KL(teacher || student): mean-seeking (default) */
    SLM_KD_REVERSE,     /* KL(student || teacher): mode-seeking */
    SLM_KD_DIR_COUNT
} slm_kd_direction;

typedef struct {
    float alpha;                /* weight of the KD term, 1 - alpha on CE */
    float temperature;          /* T > 0 */
    slm_kd_direction direction;
    bool renormalize;           /* top-k only, no tail bucket */
} slm_kd_params;

/* The teacher's entries for N positions (one micro-batch), borrowed. */
typedef struct {
    const int32_t *ids;       /* (N, K), in [0, V); -1 in unused sample slots */
    const float *logprobs;    /* (N, K) log-softmax at temperature 1 over V */
    const uint16_t *counts;   /* (N, K) sample mode (draw counts), else NULL */
    int64_t K;
    int64_t sample_n;         /* draws per position in sample mode */
} slm_kd_teacher;

/* Means over the unmasked positions (0 when there are none). */
typedef struct {
    double loss; /* alpha*T^2*D + (1-alpha)*CE */
    double kd;   /* D (without alpha and T^2) */
    double ce;   /* cross-entropy on the targets (positions with target >= 0) */
    int64_t n_rows;
} slm_kd_stats;

slm_kd_params slm_kd_default_params(void); /* alpha 0.5, T 1, forward, tail bucket */
/* SLM_ERR_USAGE (logged) for alpha outside [0,1], T <= 0, or sample mode with
 * T != 1, reverse KL or renormalize. */
slm_status slm_kd_check_params(const slm_kd_params *p, bool sample_mode);

/* logits (N, V); targets (N) (-1: no CE term at that row); mask (N) (NULL =
 * all ones); losses (N) per row (may be NULL; 0 where masked).  If dlogits !=
 * NULL it receives (=) d(mean loss)/dlogits * grad_scale, 0 in masked rows;
 * dlogits may alias logits.  Returns the mean loss; stats may be NULL.
 * Rows are processed in parallel (OpenMP), sums are combined in row order. */
double slm_kd_forward_backward(float *dlogits, float *losses, const float *logits,
                               const int32_t *targets, const uint8_t *mask,
                               const slm_kd_teacher *teacher, const slm_kd_params *p,
                               int64_t N, int64_t V, float grad_scale, slm_kd_stats *stats);

/* Naive double-precision oracle of the same formula (loss only, one row). */
double slm_kd_row_loss_ref(const double *logits, int32_t target, const int32_t *ids,
                           const float *logprobs, const uint16_t *counts, int64_t K,
                           int64_t sample_n, const slm_kd_params *p, int64_t V, double *kd,
                           double *ce);

#endif
