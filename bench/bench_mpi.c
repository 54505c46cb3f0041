/* bench/bench_mpi.c — gradient all-reduce cost of data-parallel training
 * (issue 9 benchmark; bench/run_mpi.sh runs it, docs/mpi.md explains it).
 *
 *   mpirun -np 2 build-mpi/bench/bench_mpi MODE [REPS]     MODE = lora | full
 *
 * The ~110M shape of bench_train (dim 768, 12 layers, 12 heads, ffn 2048,
 * vocab 32000, tied head); LoRA r = 16 on all 7 projections.  Every rank
 * builds the training graph, times one forward + backward of a B=1, T=256
 * micro-batch (after a warm-up step), then REPS all-reduces of its real
 * gradient list through slm_dist_allreduce_grads (the trainer's code path:
 * buckets, alltoall + rank-order sum + allgather).  Rank 0 prints the
 * gradient bytes, the bytes each rank sends, the all-reduce time, the
 * measured bus bandwidth 2(N-1)/N * bytes / time, and a projection for 8
 * and 64 ranks on 10 Gb/s links:
 *   t_comm(N) = 2(N-1)/N * bytes / BW + 2(N-1) * buckets * alpha
 *   BW = 1.25 GB/s (10 Gb/s link), alpha = 25 us per message; and again with
 *   BW = the bus bandwidth measured here (shared memory between 2 ranks on
 *   this busy 2-core machine: a lower bound, not a network figure)
 *   efficiency = t_compute / (t_compute + t_comm)   (no overlap: see docs/mpi.md)
 * where t_compute is the measured forward + backward time per 256 tokens
 * times the tokens each rank processes per optimizer step (256, 1024, 4096).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "model/llama_train.h"
#include "train/dist.h"

#define LINK_BYTES_PER_S 1.25e9 /* 10 Gb/s */
#define ALPHA_S 25e-6           /* per message latency assumed for 10 GbE TCP */

static double project(double bytes, double buckets, double bw, int N) {
    return 2.0 * (N - 1) / N * bytes / bw + 2.0 * (N - 1) * buckets * ALPHA_S;
}

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "lora") && strcmp(argv[1], "full"))) {
        fprintf(stderr, "usage: mpirun -np N bench_mpi lora|full [reps]\n");
        return 2;
    }
    if (slm_dist_init() != SLM_OK) return 1;
    const int rank = slm_dist_rank(), N = slm_dist_size();
    if (N < 2) {
        fprintf(stderr, "bench_mpi: needs an MPI build (make MPI=1) run with mpirun -np 2 or more\n");
        slm_dist_finalize();
        return 77;
    }
    const bool lora = !strcmp(argv[1], "lora");
    const int reps = argc > 2 ? atoi(argv[2]) : (lora ? 20 : 3);
    slm_llama_hparams hp = {.n_vocab = 32000, .n_embd = 768, .n_layer = 12, .n_head = 12,
                            .n_head_kv = 12, .n_ff = 2048, .n_ctx = 256, .rms_eps = 1e-5f,
                            .rope_base = 10000.0f, .tied_output = true};
    hp.head_dim = hp.n_embd / hp.n_head;
    const int64_t B = 1, T = 256, V = hp.n_vocab;
    slm_llama_weights w;
    if (slm_llama_weights_alloc(&hp, &w) != SLM_OK) return 1;
    slm_rng r;
    slm_rng_seed(&r, 1);
    for (int64_t i = 0; i < slm_llama_n_tensors(&w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(&w, i, &t);
        for (int64_t j = 0; j < t.ne[0] * t.ne[1]; j++)
            t.data[j] = t.n_dims == 1 ? 1.0f : 0.02f * slm_rng_normal(&r);
    }
    slm_llama_train_params p = slm_llama_train_default_params();
    p.B = B, p.T = T, p.lora = lora, p.lora_rank = 16, p.lora_alpha = 32.0f;
    p.lora_targets = SLM_LORA_ALL;
    slm_llama_train *tr;
    if (slm_llama_train_init(&w, &p, &r, &tr) != SLM_OK) return 1;
    const slm_param_list *pl = slm_llama_train_param_list(tr);
    int64_t n_train = 0;
    for (int64_t i = 0; i < pl->n; i++) n_train += pl->v[i].n;
    int32_t *tok = slm_alloc((size_t)(B * T) * sizeof(int32_t)), *tgt = slm_alloc((size_t)(B * T) * 4);
    slm_rng_seed(&r, 100 + (uint64_t)rank);
    for (int64_t i = 0; i < B * T; i++) {
        tok[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
        tgt[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
    }
    double t_fwd = 0, t_bwd = 0;
    for (int s = 0; s < 2; s++) { /* warm-up, then one timed step */
        slm_dist_barrier();
        double t0 = slm_time_sec();
        slm_llama_train_zero_grad(tr);
        float *lg = slm_llama_train_forward(tr, tok, NULL);
        slm_cross_entropy_forward_backward(lg, NULL, lg, tgt, NULL, B * T, V, 1.0f);
        double t1 = slm_time_sec();
        slm_llama_train_backward(tr, lg);
        double t2 = slm_time_sec();
        t_fwd = t1 - t0, t_bwd = t2 - t1;
    }
    double tc[2] = {t_fwd + t_bwd, t_bwd}; /* mean over ranks */
    slm_dist_sum_f64(tc, 2);
    tc[0] /= N, tc[1] /= N;
    slm_dist_stats st = {0};
    slm_dist_allreduce_grads(pl, &st); /* warm-up: buffers, connections */
    memset(&st, 0, sizeof st);
    for (int k = 0; k < reps; k++) {
        slm_dist_barrier();
        slm_dist_allreduce_grads(pl, &st);
    }
    double ar[2] = {st.seconds / reps, st.comm_seconds / reps};
    slm_dist_sum_f64(ar, 2);
    ar[0] /= N, ar[1] /= N;
    if (rank == 0) {
        const double bytes = (double)n_train * 4, sent = (double)st.bytes / reps;
        const double nb = (double)st.buckets / reps;
        const double busbw = 2.0 * (N - 1) / N * bytes / ar[0];
        printf("mpi %-4s ranks=%d threads/rank=%d  gradients %.2fM floats = %.2f MB in %.0f "
               "buckets of <= %.1f MB\n",
               argv[1], N, omp_get_max_threads(), (double)n_train / 1e6, bytes / 1e6, nb,
               (double)slm_dist_bucket_floats() * 4 / 1048576.0);
        printf("    per step: all-reduce %.2f ms (%.2f ms in MPI calls, rest pack/sum/unpack), "
               "%.2f MB sent per rank; bus bandwidth %.2f GB/s (2(N-1)/N*bytes/time, %d reps)\n",
               1e3 * ar[0], 1e3 * ar[1], sent / 1e6, busbw / 1e9, reps);
        printf("    compute per 256-token micro-batch: forward+loss %.3f s, backward %.3f s "
               "(mean over ranks, one timed step)\n", tc[0] - tc[1], tc[1]);
        printf("    hidden behind backward: 0%% (the all-reduce starts after the last "
               "backward; see docs/mpi.md); exposed at N=%d, 256 tokens/rank: %.1f%% of the step\n",
               N, 100.0 * ar[0] / (tc[0] + ar[0]));
        const int Ns[2] = {8, 64};
        for (int a = 0; a < 4; a++) {
            const double bw = a < 2 ? LINK_BYTES_PER_S : busbw;
            if (a % 2 == 0)
                printf("    projection, ring all-reduce, BW %.2f GB/s (%s), alpha %.0f us, %.0f "
                       "buckets:\n", bw / 1e9, a < 2 ? "10 Gb/s link" : "measured here",
                       ALPHA_S * 1e6, nb);
            const double tcomm = project(bytes, nb, bw, Ns[a % 2]);
            printf("      N=%-3d t_comm %.3f s; efficiency", Ns[a % 2], tcomm);
            for (int tk = 256; tk <= 4096; tk *= 4) {
                const double tcomp = tc[0] * (double)tk / 256.0;
                printf("  %d tok/rank/step: %.1f%% (comm %.1f%% of step)", tk,
                       100.0 * tcomp / (tcomp + tcomm), 100.0 * tcomm / (tcomp + tcomm));
            }
            printf("\n");
        }
    }
    free(tok);
    free(tgt);
    slm_llama_train_free(tr);
    slm_llama_weights_free(&w);
    slm_dist_finalize();
    return 0;
}
