/* train/loss_ce.c — the default training loss: masked cross-entropy over the
 * vocabulary through the fused kernel of core/ops.h.  Kept apart from
 * trainer.c so that the loop links without the kernels (toy-model tests). */
#include "core/ops.h"
#include "train/trainer.h"

double slm_loss_cross_entropy(void *ctx, float *dlogits, const float *logits,
                              const slm_batch *b, int64_t V, float grad_scale,
                              int64_t *n_counted) {
    (void)ctx;
    const int64_t N = b->B * b->T;
    int64_t n = 0;
    for (int64_t i = 0; i < N; i++) n += b->mask[i] != 0;
    *n_counted = n;
    return slm_cross_entropy_forward_backward(dlogits, NULL, logits, b->targets, b->mask, N, V,
                                              grad_scale);
}
