/* distill/teacher.c — `slm dump-logits`: teacher forward over dataset
 * windows, top-k / sampled selection per position, resumable dump writing. */
#include "distill/teacher.h"
#include "distill/dump_dist.h"
#include "train/dist.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"
#include "core/sha256.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "distill/dump.h"
#include "model/adapter.h"
#include "model/infer.h"
#include "model/llama.h"
#include "train/ckpt.h" /* slm_file_sha256 */

slm_dump_logits_params slm_dump_logits_default_params(void) {
    slm_dump_logits_params p;
    memset(&p, 0, sizeof p);
    p.lora_scale = 1.0f;
    p.split = "train";
    p.k = 32;
    p.batch = 4;
    p.f16 = true;
    p.deflate = 4;
    p.shuffle = true;
    p.chunk_seqs = 1;
    p.resume = true;
    p.seed = 1;
    return p;
}

/* (value, id) min-heap ordered so that the root is the entry to evict:
 * smaller value first, and among equal values the larger id. */
static bool worse(float va, int32_t ia, float vb, int32_t ib) {
    return va < vb || (va == vb && ia > ib);
}

static void sift_down(float *v, int32_t *id, int64_t n, int64_t i) {
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(v[l], id[l], v[m], id[m])) m = l;
        if (r < n && worse(v[r], id[r], v[m], id[m])) m = r;
        if (m == i) return;
        float tv = v[i];
        v[i] = v[m];
        v[m] = tv;
        int32_t ti = id[i];
        id[i] = id[m];
        id[m] = ti;
        i = m;
    }
}

double slm_topk_logprobs(const float *z, int64_t V, int64_t K, int32_t *ids, float *lp) {
    float m = -INFINITY;
    for (int64_t j = 0; j < V; j++) m = z[j] > m ? z[j] : m;
    double s = 0;
    for (int64_t j = 0; j < V; j++) s += exp((double)z[j] - m);
    double lse = (double)m + log(s);
    /* heap of the K best in lp/ids, then heap-sort into descending order */
    for (int64_t j = 0; j < K; j++) {
        lp[j] = z[j];
        ids[j] = (int32_t)j;
    }
    for (int64_t i = K / 2 - 1; i >= 0; i--) sift_down(lp, ids, K, i);
    for (int64_t j = K; j < V; j++) {
        if (worse(z[j], (int32_t)j, lp[0], ids[0])) continue;
        lp[0] = z[j];
        ids[0] = (int32_t)j;
        sift_down(lp, ids, K, 0);
    }
    for (int64_t n = K - 1; n > 0; n--) { /* root (worst) goes to the end */
        float tv = lp[0];
        lp[0] = lp[n];
        lp[n] = tv;
        int32_t ti = ids[0];
        ids[0] = ids[n];
        ids[n] = ti;
        sift_down(lp, ids, n, 0);
    }
    for (int64_t j = 0; j < K; j++) lp[j] = (float)((double)lp[j] - lse);
    return lse;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

void slm_sample_logprobs(const float *z, int64_t V, int64_t N, int64_t K, slm_rng *rng,
                         int32_t *ids, float *lp, uint16_t *counts) {
    float m = -INFINITY;
    for (int64_t j = 0; j < V; j++) m = z[j] > m ? z[j] : m;
    double s = 0;
    for (int64_t j = 0; j < V; j++) s += exp((double)z[j] - m);
    double lse = (double)m + log(s);
    SLM_ASSERT(N >= 1 && N <= 65535 && K >= 1);
    float *u = slm_alloc((size_t)N * sizeof(float));
    SLM_ASSERT(u); /* N floats; running out here is not recoverable mid-dump */
    for (int64_t i = 0; i < N; i++) u[i] = slm_rng_uniform(rng);
    qsort(u, (size_t)N, sizeof *u, cmp_float);
    for (int64_t i = 0; i < K; i++) ids[i] = -1, lp[i] = 0, counts[i] = 0;
    int64_t n_ids = 0, i = 0, last = -1;
    double cdf = 0;
    for (int64_t j = 0; j < V && i < N; j++) {
        double pj = exp((double)z[j] - lse);
        if (pj <= 0) continue;
        cdf += pj;
        last = j;
        int64_t c = 0;
        while (i < N && (double)u[i] < cdf) i++, c++;
        if (c) {
            SLM_ASSERT(n_ids < K); /* at most N distinct ids and K = N */
            ids[n_ids] = (int32_t)j;
            lp[n_ids] = (float)((double)z[j] - lse);
            counts[n_ids++] = (uint16_t)c;
        }
    }
    if (i < N) { /* rounding left cdf a hair below 1: the rest go to the last id */
        if (n_ids > 0 && ids[n_ids - 1] == last) {
            counts[n_ids - 1] = (uint16_t)(counts[n_ids - 1] + (N - i));
        } else {
            ids[n_ids] = (int32_t)last;
            lp[n_ids] = (float)((double)z[last] - lse);
            counts[n_ids++] = (uint16_t)(N - i);
        }
    }
    free(u);
}

/* Teacher fingerprint: SHA-256 of the GGUF, or of "<gguf sha>+<lora sha>". */
static slm_status teacher_fingerprint(const slm_dump_logits_params *p, char out[65]) {
    char a[65], b[65];
    slm_status st = slm_file_sha256(p->teacher, a);
    if (st || !p->lora) {
        memcpy(out, a, 65);
        return st;
    }
    if ((st = slm_file_sha256(p->lora, b))) return st;
    char both[160];
    snprintf(both, sizeof both, "%s+%s@%g", a, b, p->lora_scale);
    slm_sha256 s;
    uint8_t d[32];
    slm_sha256_init(&s);
    slm_sha256_update(&s, both, strlen(both));
    slm_sha256_final(&s, d);
    slm_sha256_hex(d, out);
    return SLM_OK;
}

slm_status slm_dump_logits_run(const slm_dump_logits_params *p, int64_t *tokens_done,
                               double *seconds) {
    slm_gguf *g = NULL;
    slm_tokenizer *tok = NULL;
    slm_dataset *ds = NULL;
    slm_llama_infer *inf = NULL;
    slm_dump_writer *w = NULL;
    slm_llama_weights wt;
    memset(&wt, 0, sizeof wt);
    slm_dump_batch b;
    memset(&b, 0, sizeof b);
    int32_t *win = NULL;
    uint8_t *wmask = NULL;
    double t0 = slm_time_sec();
    int64_t ntok = 0;
    if (p->k < 1 && p->sample_n < 1) {
        slm_log_error("dump-logits: --top-k must be >= 1");
        return SLM_ERR_USAGE;
    }
    slm_status st = slm_llama_load(p->teacher, &g, &wt);
    if (!st && p->lora) st = slm_adapter_merge_file(p->lora, p->lora_scale, &wt);
    if (!st) st = slm_tokenizer_from_gguf(g, &tok);
    if (!st) st = slm_dataset_open(p->data, p->split, &ds);
    if (!st) st = slm_dataset_check_tokenizer(ds, tok);
    const int64_t V = wt.hp.n_vocab;
    slm_dump_info in = slm_dump_default_info();
    if (!st) {
        in.vocab_size = V;
        in.mode = p->sample_n > 0 ? SLM_DUMP_SAMPLE : SLM_DUMP_TOPK;
        in.sample_n = p->sample_n > 0 ? p->sample_n : 0;
        in.k = p->sample_n > 0 ? p->sample_n : p->k;
        in.seq_len = p->seq_len > 0 ? p->seq_len : (wt.hp.n_ctx > 0 && wt.hp.n_ctx < 256 ? wt.hp.n_ctx : 256);
        in.f16 = p->f16;
        in.deflate = p->deflate;
        in.shuffle = p->shuffle;
        in.chunk_seqs = p->chunk_seqs;
        if (in.k > V) {
            slm_log_error("dump-logits: k = %lld exceeds the teacher's vocabulary (%lld)",
                          (long long)in.k, (long long)V);
            st = SLM_ERR_USAGE;
        } else if (in.sample_n > 65535) {
            slm_log_error("dump-logits: --sample %lld exceeds 65535", (long long)in.sample_n);
            st = SLM_ERR_USAGE;
        }
        if (wt.hp.n_ctx > 0 && in.seq_len > wt.hp.n_ctx)
            slm_log_warn("dump-logits: seq_len %lld exceeds the teacher's context %lld",
                         (long long)in.seq_len, (long long)wt.hp.n_ctx);
    }
    if (!st) {
        slm_tokenizer_fingerprint(tok, in.tokenizer_fp);
        const char *name = NULL;
        uint64_t nlen = 0;
        slm_gguf_get_str(g, "general.name", false, &name, &nlen);
        if (name) snprintf(in.teacher, sizeof in.teacher, "%.*s%s%s", (int)nlen, name,
                           p->lora ? " + lora " : "", p->lora ? p->lora : "");
        else snprintf(in.teacher, sizeof in.teacher, "%s%s%s", p->teacher, p->lora ? " + lora " : "",
                      p->lora ? p->lora : "");
        st = teacher_fingerprint(p, in.teacher_fp);
    }
    const int64_t T = in.seq_len, K = in.k;
    int64_t S = 0;
    if (!st) {
        int64_t n = slm_dataset_n_tokens(ds);
        S = n > T ? (n - 1) / T : 0;
        if (p->max_seqs > 0 && S > p->max_seqs) S = p->max_seqs;
        if (S == 0) {
            slm_log_error("dump-logits: %s split '%s' has %lld tokens, fewer than one window of "
                          "seq_len + 1 = %lld", p->data, p->split, (long long)n, (long long)(T + 1));
            st = SLM_ERR_USAGE;
        }
    }
    const int64_t B = p->batch > 0 ? p->batch : 1;
    /* MPI (docs/mpi.md): rank 0 alone writes; each step of the loop below
     * covers n_ranks * B sequences, rank r computing the r-th block of B */
    const int rank = slm_dist_rank(), n_ranks = slm_dist_size();
    if (!st && rank == 0) st = slm_dump_writer_open(p->out, &in, p->resume, &w);
    if (!st) {
        slm_llama_infer_params ip = slm_llama_infer_default_params();
        ip.B = B;
        ip.T_max = T;
        ip.n_kv = 0;
        ip.all_logits = true;
        st = slm_llama_infer_init(&wt, &ip, &inf);
    }
    if (!st) st = slm_dump_batch_alloc(&in, B, &b);
    if (!st) {
        win = slm_alloc((size_t)(B * T + 1) * sizeof(int32_t));
        wmask = slm_alloc((size_t)(T + 1));
        if (!win || !wmask) st = SLM_ERR_NOMEM;
    }
    int64_t s = w ? slm_dump_writer_done(w) : 0;
    if (!st && n_ranks > 1) { /* rank 0's resume point */
        double sd = (double)s;
        st = slm_dist_sum_f64(&sd, 1);
        s = (int64_t)sd;
    }
    if (!st && s > S) {
        slm_log_error("%s.partial holds %lld sequences but this run asks for %lld", p->out,
                      (long long)s, (long long)S);
        st = SLM_ERR_USAGE;
    }
    if (!st)
        slm_log_info("dump-logits: %s -> %s: %lld sequences x %lld tokens, %s k=%lld, %s%s",
                     p->teacher, p->out, (long long)S, (long long)T, slm_dump_mode_name(in.mode),
                     (long long)K, in.f16 ? "f16" : "f32", s ? " (resuming)" : "");
    double last_log = slm_time_sec();
    t0 = last_log; /* throughput counts the forward + selection + writing only */
    while (!st && s < S) {
        const int64_t s_all = s; /* first sequence of this round */
        s += (int64_t)rank * B;  /* this rank's block */
        int64_t n = S - s < B ? (S - s > 0 ? S - s : 0) : B;
        for (int64_t r = 0; r < n && !st; r++) {
            st = slm_dataset_read(ds, (s + r) * T, T + 1, win + r * T, wmask);
            if (st) break;
            memcpy(b.tokens + r * T, win + r * T, (size_t)T * sizeof(int32_t));
            memcpy(b.targets + r * T, win + r * T + 1, (size_t)T * sizeof(int32_t));
            memcpy(b.mask + r * T, wmask + 1, (size_t)T);
        }
        if (st) break;
        /* a partial last batch pads with copies of its first sequence */
        for (int64_t r = n; r < B; r++) memcpy(b.tokens + r * T, b.tokens, (size_t)T * sizeof(int32_t));
        const float *logits = n > 0 ? slm_llama_infer_forward(inf, b.tokens, T, SLM_LOGITS_ALL)
                                    : NULL; /* (B, T, V) */
#pragma omp parallel for schedule(dynamic, 8)
        for (int64_t i = 0; i < n * T; i++) {
            const float *z = logits + i * V;
            if (in.mode == SLM_DUMP_TOPK) {
                slm_topk_logprobs(z, V, K, b.ids + i * K, b.logprobs + i * K);
            } else {
                /* per-position stream: repeatable for any batch size, thread count or resume */
                slm_rng r;
                slm_rng_seed(&r, p->seed * 0x9E3779B97F4A7C15ull + (uint64_t)(s * T + i));
                slm_sample_logprobs(z, V, in.sample_n, K, &r, b.ids + i * K, b.logprobs + i * K,
                                    b.counts + i * K);
            }
        }
        st = slm_dump_gather_append(w, &b, n, T, K); /* rank 0 appends in rank order */
        n = S - s_all < n_ranks * B ? S - s_all : n_ranks * B;
        s = s_all + n;
        ntok += n * T;
        double now = slm_time_sec();
        if (now - last_log > 10 || s == S) {
            slm_log_info("dump-logits: %lld/%lld sequences, %.0f tokens/s", (long long)s,
                         (long long)S, (double)ntok / (now - t0));
            last_log = now;
        }
    }
    if (w) {
        if (!st) st = slm_dump_writer_finish(w);
        else slm_dump_writer_close(w); /* the partial stays for --resume */
    }
    if (tokens_done) *tokens_done = ntok;
    if (seconds) *seconds = slm_time_sec() - t0;
    free(win);
    free(wmask);
    slm_dump_batch_free(&b);
    slm_llama_infer_free(inf);
    slm_dataset_close(ds);
    slm_tokenizer_free(tok);
    slm_llama_weights_free(&wt);
    slm_gguf_close(g);
    return st;
}
