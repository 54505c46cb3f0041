/* bench/bench_mpi.c — gradient all-reduce cost of data-parallel training and
 * how much of it the backward pass hides (issue 9 benchmark; bench/run_mpi.sh
 * runs it, docs/mpi.md explains it).
 *
 *   mpirun -np 2 build-mpi/bench/bench_mpi MODE [REPS]     MODE = lora | full
 *
 * The ~110M shape of bench_train (dim 768, 12 layers, 12 heads, ffn 2048,
 * vocab 32000, tied head); LoRA r = 16 on all 7 projections.  Every rank
 * builds the training graph and, on a B=1, T=256 micro-batch, after a
 * warm-up step:
 *   1. a step with the all-reduce after backward (slm_dist_allreduce_grads,
 *      SLM_MPI_OVERLAP=0 in the trainer); a hook only records when each
 *      backward stage finishes (the compute profile for the projection);
 *   2. a step with the overlapped all-reduce (slm_dist_overlap_*, the
 *      trainer's default): exposed = time waited after backward, total = the
 *      communication thread's busy time, hidden = 1 - exposed / total;
 *   3. REPS all-reduces alone, for the bus bandwidth 2(N-1)/N * bytes / time.
 * Rank 0 prints these (means over ranks) and a projection for 8 and 64 ranks:
 *   t_b(N) = 2(N-1)/N * bytes_b / BW + 2(N-1) * alpha     (bucket b, ring volume)
 *   r_b    = when bucket b's stage finished in step 1's backward (measured)
 *   one link, buckets in order: end_b = max(r_b, end_{b-1}) + t_b
 *   exposed = max(0, end_last - t_backward)   (only the last micro-batch
 *             overlaps: earlier ones of the step just accumulate)
 *   efficiency = t_compute / (t_compute + exposed)
 * with BW = 1.25 GB/s (10 Gb/s link), alpha = 25 us per message, and
 * t_compute = (forward + backward per 256 tokens) x tokens per rank per step
 * / 256, at this machine's 1-thread speed and at 16x that speed (a node
 * computing faster hides less).
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
#define MAX_STAGES 64

typedef struct {
    double t0;                 /* backward start */
    double at[MAX_STAGES];     /* seconds after t0 when stage s finished */
    slm_dist_overlap *ov;      /* forward the event to it, or NULL */
} stage_clock;

static void on_stage(void *ctx, int64_t stage) {
    stage_clock *c = ctx;
    if (stage < MAX_STAGES) c->at[stage] = slm_time_sec() - c->t0;
    if (c->ov) slm_dist_overlap_ready(c->ov, stage);
}

/* exposed communication after a backward of t_bwd seconds whose stages end at
 * at[s] (scaled by 1/speed), for N ranks on bandwidth bw (model above) */
static double project_exposed(const slm_dist_overlap *ov, const double *at, double t_bwd,
                              double speed, double bw, int N) {
    double end = 0;
    for (int64_t b = 0; b < slm_dist_overlap_n_buckets(ov); b++) {
        int64_t n, s;
        slm_dist_overlap_bucket(ov, b, &n, &s);
        const double ready = at[s] / speed;
        const double t = 2.0 * (N - 1) / N * 4.0 * (double)n / bw + 2.0 * (N - 1) * ALPHA_S;
        end = (ready > end ? ready : end) + t;
    }
    const double e = end - t_bwd / speed;
    return e > 0 ? e : 0;
}

static double total_comm(const slm_dist_overlap *ov, double bw, int N) {
    double t = 0;
    for (int64_t b = 0; b < slm_dist_overlap_n_buckets(ov); b++) {
        int64_t n, s;
        slm_dist_overlap_bucket(ov, b, &n, &s);
        t += 2.0 * (N - 1) / N * 4.0 * (double)n / bw + 2.0 * (N - 1) * ALPHA_S;
    }
    return t;
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
    const int64_t n_stages = slm_llama_train_n_stages(tr);
    SLM_ASSERT(n_stages <= MAX_STAGES);
    int64_t *stage_of = slm_alloc((size_t)pl->n * sizeof *stage_of);
    int64_t n_train = 0;
    for (int64_t i = 0; i < pl->n; i++) {
        n_train += pl->v[i].n;
        stage_of[i] = slm_llama_train_param_stage(tr, i);
    }
    slm_dist_overlap *ov = NULL;
    if (slm_dist_overlap_init(pl, stage_of, n_stages, &ov) != SLM_OK || !ov) {
        fprintf(stderr, "bench_mpi: overlap unavailable (SLM_MPI_OVERLAP=0 or no thread support)\n");
        return 1;
    }
    int32_t *tok = slm_alloc((size_t)(B * T) * sizeof(int32_t)), *tgt = slm_alloc((size_t)(B * T) * 4);
    slm_rng_seed(&r, 100 + (uint64_t)rank);
    for (int64_t i = 0; i < B * T; i++) {
        tok[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
        tgt[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
    }
    /* step 0 warm-up, 1 all-reduce after backward, 2 overlapped */
    stage_clock clk = {0};
    double prof[MAX_STAGES] = {0};
    double t_fwd = 0, t_bwd = 0, t_after = 0, t_bwd_ov = 0;
    slm_dist_stats sa = {0}, so = {0};
    /* [step 1, 2][rank]: when backward ended and when the gradients were
     * reduced (CLOCK_MONOTONIC: comparable between ranks of one host) */
    double *ends = slm_calloc((size_t)(4 * N), sizeof(double));
    for (int s = 0; s < 3; s++) {
        slm_dist_barrier();
        double t0 = slm_time_sec();
        slm_llama_train_zero_grad(tr);
        float *lg = slm_llama_train_forward(tr, tok, NULL);
        slm_cross_entropy_forward_backward(lg, NULL, lg, tgt, NULL, B * T, V, 1.0f);
        double t1 = slm_time_sec();
        clk.ov = s == 2 ? ov : NULL;
        clk.t0 = t1;
        if (s == 2) slm_dist_overlap_begin(ov);
        slm_llama_train_set_grad_ready(tr, on_stage, &clk);
        slm_llama_train_backward(tr, lg);
        slm_llama_train_set_grad_ready(tr, NULL, NULL);
        double t2 = slm_time_sec();
        if (s == 2) {
            slm_dist_overlap_finish(ov, &so);
            t_bwd_ov = t2 - t1;
        } else {
            slm_dist_stats x = {0};
            slm_dist_allreduce_grads(pl, s == 1 ? &sa : &x);
            t_fwd = t1 - t0, t_bwd = t2 - t1, t_after = slm_time_sec() - t2;
        }
        if (s > 0) {
            ends[(s - 1) * 2 * N + rank] = t2;
            ends[(s - 1) * 2 * N + N + rank] = slm_time_sec();
        }
        if (s == 1) { /* step 1's stage profile, mean over ranks */
            memcpy(prof, clk.at, sizeof prof);
            slm_dist_sum_f64(prof, n_stages);
            for (int64_t k = 0; k < n_stages; k++) prof[k] /= N;
        }
    }
    slm_dist_sum_f64(ends, 4 * N);
    double skewfree[2]; /* reduced on the last rank - backward ended on the last rank */
    for (int k = 0; k < 2; k++) {
        double b = 0, e = 0;
        for (int q = 0; q < N; q++) {
            if (ends[k * 2 * N + q] > b) b = ends[k * 2 * N + q];
            if (ends[k * 2 * N + N + q] > e) e = ends[k * 2 * N + N + q];
        }
        skewfree[k] = e - b;
    }
    double m[7] = {t_fwd, t_bwd, t_after, t_bwd_ov, so.exposed_seconds, so.seconds,
                   so.comm_seconds};
    slm_dist_sum_f64(m, 7);
    for (int k = 0; k < 7; k++) m[k] /= N;
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
        const double tcomp = m[0] + m[1];
        printf("mpi %-4s ranks=%d threads/rank=%d  gradients %.2fM floats = %.2f MB; buckets "
               "of <= %.1f MB: %.0f after backward, %lld overlapped (cut at stage "
               "boundaries too)\n",
               argv[1], N, omp_get_max_threads(), (double)n_train / 1e6, bytes / 1e6,
               (double)slm_dist_bucket_floats() * 4 / 1048576.0, nb,
               (long long)slm_dist_overlap_n_buckets(ov));
        printf("    all-reduce alone: %.2f ms (%.2f ms in MPI calls, rest pack/sum/unpack), "
               "%.2f MB sent per rank; bus bandwidth %.2f GB/s (2(N-1)/N*bytes/time, %d reps)\n",
               1e3 * ar[0], 1e3 * ar[1], sent / 1e6, busbw / 1e9, reps);
        printf("    compute per 256-token micro-batch: forward+loss %.3f s, backward %.3f s "
               "(mean over ranks, one step)\n", m[0], m[1]);
        printf("    step 1, all-reduce after backward: waited %.3f s after own backward "
               "(mean over ranks, includes waiting for the slower rank); %.1f ms after the "
               "slowest rank's backward = t_exposed(after) (%.1f%% of the step)\n",
               m[2], 1e3 * skewfree[0], 100.0 * skewfree[0] / (tcomp + skewfree[0]));
        printf("    step 2, overlapped (comm thread, buckets in gradient-ready order): backward "
               "%.3f s; comm thread busy %.3f s (%.3f s in MPI); waited %.3f s after own "
               "backward (mean over ranks); %.1f ms after the slowest rank's backward = "
               "t_exposed(overlap) (%.1f%% of the step)\n",
               m[3], m[5], m[6], m[4], 1e3 * skewfree[1],
               100.0 * skewfree[1] / (m[0] + m[3] + skewfree[1]));
        printf("    hidden behind backward: %.0f%% (= 1 - t_exposed(overlap) / t_exposed(after)); "
               "%.0f%% by the comm thread's own count (1 - waited / busy)\n",
               skewfree[0] > 0 ? 100.0 * (1.0 - skewfree[1] / skewfree[0]) : 0.0,
               m[5] > m[4] ? 100.0 * (1.0 - m[4] / m[5]) : 0.0);
        printf("    backward stages (s after backward start, step 1): head %.3f, layer 11 "
               "%.3f, layer 0 %.3f, embedding %.3f\n",
               prof[0], prof[1], prof[n_stages - 2], prof[n_stages - 1]);
        const int Ns[2] = {8, 64};
        const double speeds[2] = {1.0, 16.0};
        for (int a = 0; a < 2; a++) {
            const double bw = a == 0 ? LINK_BYTES_PER_S : busbw;
            printf("    projection, BW %.2f GB/s (%s), alpha %.0f us, %lld buckets, "
                   "overlapped with the last micro-batch's backward:\n",
                   bw / 1e9, a == 0 ? "10 Gb/s link" : "measured here", ALPHA_S * 1e6,
                   (long long)slm_dist_overlap_n_buckets(ov));
            for (int ni = 0; ni < 2; ni++)
                for (int si = 0; si < 2; si++) {
                    const double sp = speeds[si];
                    const double tc = total_comm(ov, bw, Ns[ni]);
                    const double ex = project_exposed(ov, prof, m[1], sp, bw, Ns[ni]);
                    printf("      N=%-3d compute x%-3.0f t_comm %.3f s, exposed %.3f s (%.0f%% "
                           "hidden);", Ns[ni], sp, tc, ex,
                           tc > 0 ? 100.0 * (1.0 - ex / tc) : 100.0);
                    for (int tk = 256; tk <= 4096; tk *= 4) {
                        const double tstep = tcomp / sp * (double)tk / 256.0;
                        printf("  %d tok/rank/step: comm %.1f%% of step", tk,
                               100.0 * ex / (tstep + ex));
                    }
                    printf("\n");
                }
        }
    }
    slm_dist_overlap_free(ov);
    free(ends);
    free(stage_of);
    free(tok);
    free(tgt);
    slm_llama_train_free(tr);
    slm_llama_weights_free(&w);
    slm_dist_finalize();
    return 0;
}
