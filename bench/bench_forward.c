/* bench/bench_forward.c — forward throughput of slm's inference pass.
 *
 *   bench_forward MODEL.gguf [T=256] [REPS=5]
 *
 * Prints, as JSON lines (one per measurement):
 *   {"what":"sgemm_peak", ...}    cblas_sgemm 2048^3 best-of-3 GFLOP/s with
 *                                 the current thread count (OMP_NUM_THREADS)
 *   {"what":"sgemm_strategy", ...} the model's matmul shapes at N = T, run
 *                                 (a) by the OpenMP build of OpenBLAS with all
 *                                 threads, (b) as one single-threaded sgemm per
 *                                 OpenMP thread on a slice of the output
 *   {"what":"forward", "logits":"last"|"all", ...}  best of REPS forwards of
 *                                 one [1, T] block after a warm-up: tokens/s
 *                                 and achieved GFLOP/s (matmul + attention
 *                                 FLOPs counted, see flops()).
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/gguf.h"
#include "model/infer.h"
#include "model/llama.h"

/* FLOPs of one forward of T tokens: 2 per multiply-add of every matmul, plus
 * causal attention (q k^T and p v over T(T+1)/2 pairs per head).  With
 * last-position logits the last layer computes q/k/v for all T rows but
 * attention, Wo and the FFN for the last row only (as llama.cpp does), and
 * the output matmul for one row. */
static double flops(const slm_llama_hparams *hp, int64_t T, bool all) {
    const double C = (double)hp->n_embd, Q = (double)(hp->n_head * hp->head_dim),
                 KV = (double)(hp->n_head_kv * hp->head_dim), F = (double)hp->n_ff,
                 V = (double)hp->n_vocab, t = (double)T;
    const double qkv = 2 * C * (Q + 2 * KV), rest = 2 * (Q * C + 3 * C * F);
    const double layer = t * (qkv + rest) + 2.0 * 2.0 * Q * t * (t + 1) / 2;
    const double last = all ? layer : t * qkv + rest + 2.0 * 2.0 * Q * t;
    return (double)(hp->n_layer - 1) * layer + last + 2 * C * V * (all ? t : 1);
}

static double sgemm_peak(void) {
    const int n = 2048;
    float *a = slm_alloc_aligned((size_t)n * n * 4), *b = slm_alloc_aligned((size_t)n * n * 4),
          *c = slm_alloc_aligned((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t0 = slm_time_sec();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double dt = slm_time_sec() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    slm_free(a), slm_free(b), slm_free(c);
    return 2.0 * n * n * n / best / 1e9;
}

/* out (N, OC) = inp (N, IC) w^T: all threads inside one OpenBLAS call (a) or
 * one single-threaded call per OpenMP thread on a column slice (b). */
static double time_matmul(int mode, float *out, const float *inp, const float *w, int N, int IC,
                          int OC, int reps) {
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = slm_time_sec();
        if (mode == 0) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1, inp, IC, w, IC, 0, out, OC);
        } else {
#pragma omp parallel
            {
                int nt = omp_get_num_threads(), id = omp_get_thread_num();
                int lo = (int)((int64_t)OC * id / nt), hi = (int)((int64_t)OC * (id + 1) / nt);
                if (hi > lo) /* OpenBLAS runs single-threaded inside a parallel region */
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, hi - lo, IC, 1, inp, IC,
                                w + (size_t)lo * IC, IC, 0, out + lo, OC);
            }
        }
        double dt = slm_time_sec() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    return best;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_forward MODEL.gguf [T=256] [REPS=5]\n");
        return 2;
    }
    const int64_t T = argc > 2 ? atoll(argv[2]) : 256;
    const int reps = argc > 3 ? atoi(argv[3]) : 5;
    const int nthr = omp_get_max_threads();
    printf("{\"what\":\"sgemm_peak\",\"threads\":%d,\"gflops\":%.1f}\n", nthr, sgemm_peak());
    fflush(stdout);

    slm_llama_weights w;
    slm_status st = slm_llama_load(argv[1], NULL, &w);
    if (st != SLM_OK) return slm_status_exit_code(st);
    const slm_llama_hparams *hp = &w.hp;

    /* sgemm strategy on this model's shapes */
    {
        const int N = (int)T, C = (int)hp->n_embd, F = (int)hp->n_ff;
        const int shapes[3][2] = {{C, C}, {C, F}, {F, C}};
        double ta = 0, tb = 0, fl = 0;
        for (int s = 0; s < 3; s++) {
            int IC = shapes[s][0], OC = shapes[s][1];
            float *in = slm_alloc_aligned((size_t)N * IC * 4), *wt = slm_alloc_aligned((size_t)OC * IC * 4),
                  *o = slm_alloc_aligned((size_t)N * OC * 4);
            for (size_t i = 0; i < (size_t)N * IC; i++) in[i] = (float)(i % 13) * 0.01f;
            for (size_t i = 0; i < (size_t)OC * IC; i++) wt[i] = (float)(i % 11) * 0.01f;
            ta += time_matmul(0, o, in, wt, N, IC, OC, 3);
            tb += time_matmul(1, o, in, wt, N, IC, OC, 3);
            fl += 2.0 * N * IC * OC;
            slm_free(in), slm_free(wt), slm_free(o);
        }
        printf("{\"what\":\"sgemm_strategy\",\"shapes\":\"N=%d: %dx%d, %dx%d, %dx%d\","
               "\"openmp_openblas_gflops\":%.1f,\"one_blas_thread_per_omp_thread_gflops\":%.1f}\n",
               N, C, C, C, F, F, C, fl / ta / 1e9, fl / tb / 1e9);
        fflush(stdout);
    }

    int32_t *tok = slm_alloc((size_t)T * sizeof(int32_t));
    for (int64_t i = 0; i < T; i++) tok[i] = (int32_t)(3 + (i * 7919) % (hp->n_vocab - 3));
    slm_llama_infer_params p = {.B = 1, .T_max = T, .n_kv = 0, .all_logits = true};
    slm_llama_infer *s;
    if ((st = slm_llama_infer_init(&w, &p, &s)) != SLM_OK) return slm_status_exit_code(st);
    for (int mode = 0; mode < 2; mode++) {
        slm_logits_mode m = mode == 0 ? SLM_LOGITS_LAST : SLM_LOGITS_ALL;
        slm_llama_infer_forward(s, tok, T, m); /* warm-up */
        double best = 1e30, sum = 0;
        for (int r = 0; r < reps; r++) {
            double t0 = slm_time_sec();
            slm_llama_infer_forward(s, tok, T, m);
            double dt = slm_time_sec() - t0;
            sum += dt;
            if (dt < best) best = dt;
        }
        const double fl = flops(hp, T, mode == 1);
        printf("{\"what\":\"forward\",\"logits\":\"%s\",\"T\":%lld,\"threads\":%d,\"reps\":%d,"
               "\"best_s\":%.5f,\"mean_s\":%.5f,\"tokens_per_s\":%.1f,\"gflop\":%.3f,\"gflops\":%.1f}\n",
               mode == 0 ? "last" : "all", (long long)T, nthr, reps, best, sum / reps,
               (double)T / best, fl / 1e9, fl / best / 1e9);
        fflush(stdout);
    }
    slm_llama_infer_free(s);
    slm_free(tok);
    slm_llama_weights_free(&w);
    return 0;
}
