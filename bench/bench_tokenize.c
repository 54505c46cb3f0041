/* bench/bench_tokenize.c — tokenization throughput of slm on a corpus.
 *   bench_tokenize VOCAB.gguf CORPUS [REPS]
 * The corpus is cut into documents at blank lines ("\n\n", as
 * tests/e2e/tok_node.mjs bench does for llama.cpp); every document is
 * encoded without BOS, special tokens not parsed.  Prints one line per mode:
 *   mode threads MB/s tokens wall_seconds cpu_seconds
 * (cpu_seconds: CPU time of the process, all threads; the machine may be
 * shared, so MB per CPU-second is the load-independent figure)
 * "docs" modes give each OpenMP thread its own session and documents
 * (dynamic schedule); "text" encodes the whole corpus as one text with
 * slm_tokenizer_encode_mt (cut after newlines).  Token totals must agree
 * between modes (exit 1 otherwise). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fileio.h"
#include "core/gguf.h"
#include "data/tokenizer.h"

static double cpu_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *p;
    size_t len;
} doc;

static int64_t run_docs(const slm_tokenizer *t, const doc *d, size_t n, int threads) {
    int64_t total = 0;
    int err = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        slm_tok_session *s = slm_tok_session_new(t);
#pragma omp for schedule(dynamic, 16)
        for (size_t i = 0; i < n; i++) {
            int32_t *ids;
            size_t k;
            if (!s || slm_tok_session_encode(s, d[i].p, d[i].len, false, false, &ids, &k)) {
#pragma omp atomic write
                err = 1;
                continue;
            }
            total += (int64_t)k;
            free(ids);
        }
        slm_tok_session_free(s);
    }
    return err ? -1 : total;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tokenize VOCAB.gguf CORPUS [REPS]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 1;
    slm_gguf *g;
    slm_tokenizer *t;
    char *text;
    size_t len;
    if (slm_gguf_open(argv[1], &g) || slm_tokenizer_from_gguf(g, &t) || slm_read_file(argv[2], &text, &len))
        return 2;
    size_t n = 0, cap = 1024;
    doc *d = malloc(cap * sizeof *d);
    for (const char *p = text, *end = text + len; p < end;) {
        const char *q = strstr(p, "\n\n");
        size_t l = q ? (size_t)(q - p) : (size_t)(end - p);
        if (n == cap) d = realloc(d, (cap *= 2) * sizeof *d);
        d[n++] = (doc){p, l};
        p += l + (q ? 2 : 0);
    }
    size_t bytes = len; /* documents plus separators, as the node side counts */
    int max_t = omp_get_max_threads();
    int64_t ref = -1;
    int rc = 0;
    for (int threads = 1; threads <= max_t; threads++) {
        run_docs(t, d, n < 64 ? n : 64, threads); /* warm up (page faults, unicode table) */
        double t0 = slm_time_sec(), c0 = cpu_sec();
        int64_t tok = 0;
        for (int r = 0; r < reps; r++) tok = run_docs(t, d, n, threads);
        double dt = slm_time_sec() - t0, dc = cpu_sec() - c0;
        printf("docs %d %.2f %lld %.3f %.3f\n", threads, bytes * (double)reps / dt / 1e6, (long long)tok, dt, dc);
        if (ref < 0) ref = tok;
        if (tok != ref) rc = 1;
    }
    double t0 = slm_time_sec(), c0 = cpu_sec();
    size_t nt = 0;
    for (int r = 0; r < reps; r++) {
        int32_t *ids;
        if (slm_tokenizer_encode_mt(t, text, len, false, false, max_t, &ids, &nt)) return 1;
        free(ids);
    }
    double dt = slm_time_sec() - t0, dc = cpu_sec() - c0;
    printf("text %d %.2f %zu %.3f %.3f\n", max_t, len * (double)reps / dt / 1e6, nt, dt, dc);
    printf("documents %zu bytes %zu\n", n, bytes);
    free(d);
    free(text);
    slm_tokenizer_free(t);
    slm_gguf_close(g);
    return rc;
}
