/* bench/bench_train.c — training throughput of slm (issue 4 benchmark).
 *
 *   bench_train SHAPE MODE [STEPS]     SHAPE = 15m | 110m, MODE = full | lora
 *
 * One training step = forward + fused cross-entropy + backward + AdamW
 * (train/optim) over a (B, T) batch of random tokens, seq T = 256, random
 * weights of the llama2.c "stories" shapes (tied head):
 *   15m:  dim 288, 6 layers, 6 heads, ffn 768, vocab 32000, batch 8
 *   110m: dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000, batch 4
 * LoRA: r = 16, alpha = 32, all 7 projections.  One warm-up step, then STEPS
 * timed steps (default 3); reports tokens/s, the time split, FLOPs per token
 *   full: 6 N + 6 L C T        LoRA: 4 N + 6 N_lora + 6 L C T
 * (N = every matrix weight including the output head, N_lora = adapter
 * weights, 6 L C T = causal attention forward+backward: QK^T and PV are
 * 2 C T/2 each per token per layer forward, twice that backward), the model
 * FLOPs utilisation against the 2-thread sgemm peak measured in this process
 * (best of 3 square 2048 products), peak RSS (getrusage) and the memory the
 * design accounts for (weights + grads + AdamW m, v + activation arena +
 * logits + gradient scratch).
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/ops.h"
#include "model/llama_train.h"
#include "train/optim.h"

static double sgemm_peak_gflops(void) {
    const int n = 2048;
    float *a = slm_alloc_aligned((size_t)n * n * sizeof(float));
    float *b = slm_alloc_aligned((size_t)n * n * sizeof(float));
    float *c = slm_alloc_aligned((size_t)n * n * sizeof(float));
    SLM_ASSERT(a && b && c);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = 1e-3f * (float)(i % 1000);
    double best = 0;
    for (int r = 0; r < 4; r++) {
        double t0 = slm_time_sec();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
        double dt = slm_time_sec() - t0;
        if (r > 0 && 2.0 * n * n * (double)n / dt / 1e9 > best) best = 2.0 * n * n * (double)n / dt / 1e9;
    }
    slm_free(a), slm_free(b), slm_free(c);
    return best;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_train 15m|110m full|lora [steps]\n");
        return 2;
    }
    const bool big = strcmp(argv[1], "110m") == 0, lora = strcmp(argv[2], "lora") == 0;
    const int steps = argc > 3 ? atoi(argv[3]) : 3;
    slm_llama_hparams hp = {.n_vocab = 32000, .n_embd = big ? 768 : 288,
                            .n_layer = big ? 12 : 6, .n_head = big ? 12 : 6,
                            .n_head_kv = big ? 12 : 6, .n_ff = big ? 2048 : 768, .n_ctx = 256,
                            .rms_eps = 1e-5f, .rope_base = 10000.0f, .tied_output = true};
    hp.head_dim = hp.n_embd / hp.n_head;
    const int64_t B = big ? 4 : 8, T = 256, N = B * T, V = hp.n_vocab, C = hp.n_embd;
    const double peak = sgemm_peak_gflops();

    slm_llama_weights w;
    if (slm_llama_weights_alloc(&hp, &w) != SLM_OK) return 1;
    slm_rng r;
    slm_rng_seed(&r, 1);
    int64_t n_matrix = 0; /* N: matrix weights incl. the (tied) output head */
    for (int64_t i = 0; i < slm_llama_n_tensors(&w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(&w, i, &t);
        const int64_t n = t.ne[0] * t.ne[1];
        for (int64_t j = 0; j < n; j++)
            t.data[j] = t.n_dims == 1 ? 1.0f : 0.02f * slm_rng_normal(&r);
        if (t.n_dims == 2) n_matrix += n;
    }
    slm_llama_train_params p = slm_llama_train_default_params();
    p.B = B, p.T = T, p.lora = lora, p.lora_rank = 16, p.lora_alpha = 32.0f;
    p.lora_targets = SLM_LORA_ALL;
    slm_llama_train *tr;
    if (slm_llama_train_init(&w, &p, &r, &tr) != SLM_OK) return 1;
    const slm_param_list *pl = slm_llama_train_param_list(tr);
    int64_t n_train = 0;
    for (int64_t i = 0; i < pl->n; i++) n_train += pl->v[i].n;
    slm_adamw_params ap = slm_adamw_default_params();
    ap.weight_decay = 0.1f;
    slm_adamw opt;
    if (slm_adamw_init(&opt, pl, &ap) != SLM_OK) return 1;
    int32_t *tok = slm_alloc((size_t)N * sizeof(int32_t)), *tgt = slm_alloc((size_t)N * 4);
    for (int64_t i = 0; i < N; i++) {
        tok[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
        tgt[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
    }

    const bool prof = getenv("SLM_PROFILE") != NULL;
    slm_llama_train_set_profile(tr, prof);
    double tf = 0, tc = 0, tb = 0, to = 0, loss = 0;
    for (int s = 0; s <= steps; s++) {
        double t0 = slm_time_sec();
        slm_llama_train_zero_grad(tr);
        float *lg = slm_llama_train_forward(tr, tok, NULL);
        double t1 = slm_time_sec();
        loss = slm_cross_entropy_forward_backward(lg, NULL, lg, tgt, NULL, N, V, 1.0f);
        double t2 = slm_time_sec();
        slm_llama_train_backward(tr, lg);
        double t3 = slm_time_sec();
        slm_adamw_step(&opt, pl, 1e-4f);
        double t4 = slm_time_sec();
        if (s == 0) continue; /* warm-up: first-touch of the arena */
        tf += t1 - t0, tc += t2 - t1, tb += t3 - t2, to += t4 - t3;
    }
    if (prof) slm_llama_train_print_profile(tr);
    const double dt = (tf + tc + tb + to) / steps, tps = (double)N / dt;
    const int64_t L = hp.n_layer;
    const double attn = 6.0 * (double)L * (double)C * (double)T;
    const double fpt = lora ? 4.0 * (double)n_matrix + 6.0 * (double)n_train + attn
                            : 6.0 * (double)n_matrix + attn;
    const double gflops = fpt * tps / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double mb = 1.0 / (1024.0 * 1024.0);
    const double weights_b = (double)w.n_floats * 4, grads_b = lora ? (double)n_train * 4 : weights_b;
    const double opt_b = 2.0 * (double)n_train * 4;
    const double arena_b = (double)slm_llama_train_arena_bytes(tr);
    const double logits_b = (double)N * (double)V * 4;
    const double Q = (double)hp.n_head * hp.head_dim, KV = (double)hp.n_head_kv * hp.head_dim;
    const double scratch_b = (double)N * (2 * C + 2 * Q + 2 * KV + 3 * hp.n_ff + (lora ? 16 : 0)) * 4;
    const double accounted = weights_b + grads_b + opt_b + arena_b + logits_b + scratch_b;
    printf("slm %-4s %-4s B=%lld T=%lld threads=%d  %8.1f tokens/s  step %.3f s (fwd %.3f, "
           "xent %.3f, bwd %.3f, adamw %.3f)  loss %.4f\n",
           argv[1], argv[2], (long long)B, (long long)T, omp_get_max_threads(), tps, dt,
           tf / steps, tc / steps, tb / steps, to / steps, loss);
    printf("    N = %.2fM matrix weights (head included), trainable %.2fM; FLOPs/token = %s "
           "= %.1f MFLOP; %.1f GFLOP/s = %.0f%% of sgemm peak %.1f GFLOP/s (2048^3, same run)\n",
           (double)n_matrix / 1e6, (double)n_train / 1e6,
           lora ? "4N + 6N_lora + 6LCT" : "6N + 6LCT", fpt / 1e6, gflops, 100.0 * gflops / peak,
           peak);
    /* the logits buffer and the gradient scratch are activation memory sized
     * once for (B, T) like the arena, but separate allocations */
    printf("    peak RSS %.0f MB; accounted %.0f MB = weights %.0f + grads %.0f + adamw %.0f + "
           "activations %.0f (arena %.0f + logits/dlogits %.0f + grad scratch %.0f); "
           "RSS/accounted %.2f\n",
           (double)ru.ru_maxrss / 1024.0, accounted * mb, weights_b * mb, grads_b * mb,
           opt_b * mb, (arena_b + logits_b + scratch_b) * mb, arena_b * mb, logits_b * mb,
           scratch_b * mb, (double)ru.ru_maxrss * 1024.0 / accounted);
    slm_adamw_free(&opt);
    slm_llama_train_free(tr);
    slm_llama_weights_free(&w);
    slm_free(tok), slm_free(tgt);
    return 0;
}
