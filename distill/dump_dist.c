/* distill/dump_dist.c — gather per-rank dump rows on rank 0 (see dump_dist.h). */
#include "distill/dump_dist.h"

#include <stdlib.h>
#include <string.h>

#include "train/dist.h"

/* the byte image of n rows: int64 n, tokens, targets, mask, ids, logprobs[, counts] */
static size_t row_bytes(int64_t T, int64_t K, bool counts) {
    return (size_t)T * (4 + 4 + 1) + (size_t)(T * K) * (4 + 4 + (counts ? 2 : 0));
}

#define COPY(dst, src, nbytes) (memcpy((dst), (src), (nbytes)), (nbytes))

static size_t pack(char *o, const slm_dump_batch *b, int64_t n, int64_t T, int64_t K) {
    const size_t nt = (size_t)(n * T), ne = nt * (size_t)K;
    size_t at = COPY(o, &n, sizeof n);
    at += COPY(o + at, b->tokens, nt * 4);
    at += COPY(o + at, b->targets, nt * 4);
    at += COPY(o + at, b->mask, nt);
    at += COPY(o + at, b->ids, ne * 4);
    at += COPY(o + at, b->logprobs, ne * 4);
    if (b->counts) at += COPY(o + at, b->counts, ne * 2);
    return at;
}

static size_t unpack(slm_dump_batch *b, const char *in, int64_t *n, int64_t T, int64_t K) {
    size_t at = COPY(n, in, sizeof *n);
    const size_t nt = (size_t)(*n * T), ne = nt * (size_t)K;
    at += COPY(b->tokens, in + at, nt * 4);
    at += COPY(b->targets, in + at, nt * 4);
    at += COPY(b->mask, in + at, nt);
    at += COPY(b->ids, in + at, ne * 4);
    at += COPY(b->logprobs, in + at, ne * 4);
    if (b->counts) at += COPY(b->counts, in + at, ne * 2);
    return at;
}

slm_status slm_dump_gather_append(slm_dump_writer *w, slm_dump_batch *b, int64_t n, int64_t T,
                                  int64_t K) {
    const int64_t keep = b->n;
    slm_status st = SLM_OK;
    if (slm_dist_size() == 1) {
        b->n = n;
        if (n > 0) st = slm_dump_writer_append(w, b);
        b->n = keep;
        return st;
    }
    char *mine = slm_alloc(sizeof(int64_t) + (size_t)n * row_bytes(T, K, b->counts != NULL));
    if (!mine) slm_dist_abort(1);
    const size_t len = pack(mine, b, n, T, K);
    void *all = NULL;
    int64_t all_n = 0;
    st = slm_dist_gather_bytes(mine, (int64_t)len, &all, &all_n);
    free(mine);
    if (st == SLM_OK && slm_dist_rank() == 0) {
        for (int64_t at = 0; st == SLM_OK && at < all_n;) {
            int64_t rows = 0;
            at += (int64_t)unpack(b, (const char *)all + at, &rows, T, K);
            b->n = rows;
            if (rows > 0) st = slm_dump_writer_append(w, b);
        }
    }
    b->n = keep;
    free(all);
    return st;
}
