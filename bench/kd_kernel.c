/* bench/kd_kernel.c — cost of the fused KD loss against the fused
 * cross-entropy it replaces, on the same logits (N = 1024 positions,
 * V = 32000): min over REPS interleaved runs of each kernel (forward +
 * backward into dlogits), so that machine load affects both alike.
 *
 *   kd_kernel [REPS]   */
#include <stdio.h>
#include <stdlib.h>

#include "core/ops.h"
#include "distill/kd_loss.h"
#include "distill/teacher.h"

enum { N = 1024, V = 32000 };

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    float *z = malloc((size_t)N * V * sizeof *z), *dl = malloc((size_t)N * V * sizeof *dl);
    int32_t *tg = malloc(N * sizeof *tg);
    const int64_t ks[] = {8, 32, 128};
    int32_t *ids = malloc((size_t)N * 128 * sizeof *ids);
    float *lp = malloc((size_t)N * 128 * sizeof *lp);
    slm_rng r;
    slm_rng_seed(&r, 1);
    for (int64_t i = 0; i < (int64_t)N * V; i++) z[i] = 2.0f * slm_rng_normal(&r);
    for (int i = 0; i < N; i++) tg[i] = (int32_t)slm_rng_below(&r, V);
    printf("%-28s %10s %10s\n", "kernel (N=1024, V=32000)", "ms", "vs CE");
    double ce_best = 1e30;
    for (int k = 0; k < 3; k++) {
        int64_t K = ks[k];
        for (int i = 0; i < N; i++) slm_topk_logprobs(z + (int64_t)i * V, V, K, ids + i * K, lp + i * K);
        slm_kd_teacher t = {ids, lp, NULL, K, 0};
        slm_kd_params p = {0.5f, 1.0f, SLM_KD_FORWARD, false};
        slm_kd_params p2 = {0.5f, 2.0f, SLM_KD_FORWARD, false};
        double best = 1e30, best2 = 1e30;
        for (int it = 0; it < reps; it++) {
            double t0 = slm_time_sec();
            slm_cross_entropy_forward_backward(dl, NULL, z, tg, NULL, N, V, 1.0f);
            double t1 = slm_time_sec();
            slm_kd_forward_backward(dl, NULL, z, tg, NULL, &t, &p, N, V, 1.0f, NULL);
            double t2 = slm_time_sec();
            slm_kd_forward_backward(dl, NULL, z, tg, NULL, &t, &p2, N, V, 1.0f, NULL);
            double t3 = slm_time_sec();
            ce_best = t1 - t0 < ce_best ? t1 - t0 : ce_best;
            best = t2 - t1 < best ? t2 - t1 : best;
            best2 = t3 - t2 < best2 ? t3 - t2 : best2;
        }
        if (k == 0) printf("%-28s %10.2f %10s\n", "cross-entropy", ce_best * 1e3, "1.00x");
        char name[64];
        snprintf(name, sizeof name, "KD+CE k=%lld T=1", (long long)K);
        printf("%-28s %10.2f %9.2fx\n", name, best * 1e3, best / ce_best);
        snprintf(name, sizeof name, "KD+CE k=%lld T=2", (long long)K);
        printf("%-28s %10.2f %9.2fx\n", name, best2 * 1e3, best2 / ce_best);
    }
    free(z), free(dl), free(tg), free(ids), free(lp);
    return 0;
}
