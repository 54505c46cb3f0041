/* distill/kld_llamacpp.c — llama.cpp `--kl-divergence-base` file -> top-k
 * logit dump (layout in kld_llamacpp.h). */
#include "distill/kld_llamacpp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KLD_MAGIC "_logits_"
#define KLD_HEADER_BYTES 20 /* magic + 3 x int32 */

static uint32_t rd_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

slm_status slm_kld_read_header(const char *path, slm_kld_header *h) {
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "rb");
    if (!f) {
        slm_log_error("%s: cannot open: %s", path, strerror(errno));
        return SLM_ERR_IO;
    }
    unsigned char b[KLD_HEADER_BYTES];
    struct stat sb;
    size_t got = fread(b, 1, sizeof b, f);
    int read_errno = ferror(f) ? errno : 0;
    int fs = fstat(fileno(f), &sb);
    fclose(f);
    if (read_errno) {
        slm_log_error("%s: read failed: %s", path, strerror(read_errno));
        return SLM_ERR_IO;
    }
    if (got != sizeof b || memcmp(b, KLD_MAGIC, 8) != 0) {
        slm_log_error("%s: not a llama.cpp KL-divergence base file (expected magic '%s' from "
                      "llama-perplexity --kl-divergence-base)", path, KLD_MAGIC);
        return SLM_ERR_FORMAT;
    }
    h->n_ctx = (int32_t)rd_u32(b + 8);
    h->n_vocab = (int32_t)rd_u32(b + 12);
    h->n_chunk = (int32_t)rd_u32(b + 16);
    if (h->n_ctx < 4 || h->n_vocab < 1 || h->n_chunk < 1 || h->n_vocab > (1 << 28)) {
        slm_log_error("%s: header n_ctx = %d, n_vocab = %d, n_chunk = %d out of range", path,
                      h->n_ctx, h->n_vocab, h->n_chunk);
        return SLM_ERR_FORMAT;
    }
    h->first = h->n_ctx / 2;
    h->rows_per_chunk = h->n_ctx - 1 - h->first;
    h->row_u16 = 2 * (((int64_t)h->n_vocab + 1) / 2) + 4;
    /* per chunk < 2^34 + 2^31 * 2^29 * 2 fits in 64 bits; n_chunk times it may not
     * (found by fuzz_kld: signed overflow), so n_chunk is checked against the
     * file size by division first */
    int64_t per_chunk = (int64_t)h->n_ctx * 4 + h->rows_per_chunk * h->row_u16 * 2;
    int64_t body = fs == 0 ? (int64_t)sb.st_size - KLD_HEADER_BYTES : -1;
    int64_t want = body >= 0 && h->n_chunk <= body / per_chunk
                       ? KLD_HEADER_BYTES + (int64_t)h->n_chunk * per_chunk
                       : -1;
    if (fs != 0 || want < 0 || (int64_t)sb.st_size != want) {
        slm_log_error("%s: file has %lld bytes, the header (n_ctx %d, n_vocab %d, n_chunk %d) "
                      "implies %lld (truncated or not this format)", path,
                      (long long)(fs ? -1 : sb.st_size), h->n_ctx, h->n_vocab, h->n_chunk,
                      (long long)want);
        return SLM_ERR_FORMAT;
    }
    return SLM_OK;
}

/* order: larger q first, then smaller id */
static _Thread_local const uint16_t *g_q; /* qsort has no context argument */
static int cmp_desc(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (g_q[x] != g_q[y]) return g_q[x] > g_q[y] ? -1 : 1;
    return x < y ? -1 : 1;
}

void slm_kld_row_topk(const uint16_t *row, int64_t n_vocab, int64_t k, int32_t *ids, float *lp) {
    float scale, minlp;
    memcpy(&scale, row, 4);
    memcpy(&minlp, row + 2, 4);
    const uint16_t *q = row + 4;
    /* threshold by a histogram of the 16-bit codes: O(V + 65536) per row */
    static _Thread_local int64_t hist[65536];
    memset(hist, 0, sizeof hist);
    for (int64_t j = 0; j < n_vocab; j++) hist[q[j]]++;
    int64_t above = 0;
    int thr = 65535;
    for (; thr > 0; thr--) {
        if (above + hist[thr] >= k) break;
        above += hist[thr];
    }
    int64_t n = 0, need_eq = k - above;
    for (int64_t j = 0; j < n_vocab && n < k; j++) {
        if (q[j] > thr) ids[n++] = (int32_t)j;
        else if (q[j] == thr && need_eq > 0) ids[n++] = (int32_t)j, need_eq--;
    }
    g_q = q;
    qsort(ids, (size_t)k, sizeof *ids, cmp_desc);
    for (int64_t i = 0; i < k; i++) lp[i] = scale * (float)q[ids[i]] + minlp;
}

slm_status slm_kld_convert(const char *kld_path, const char *out_path, const slm_dump_info *info,
                           int32_t bos_id) {
    slm_kld_header h;
    slm_status st = slm_kld_read_header(kld_path, &h);
    if (st) return st;
    slm_dump_info in = *info;
    if (in.vocab_size > 0 && in.vocab_size != h.n_vocab) {
        slm_log_error("%s: n_vocab %d differs from the vocabulary given (%lld)", kld_path,
                      h.n_vocab, (long long)in.vocab_size);
        return SLM_ERR_FORMAT;
    }
    in.vocab_size = h.n_vocab;
    in.seq_len = h.n_ctx;
    in.mode = SLM_DUMP_TOPK;
    in.sample_n = 0;
    if (in.k < 1 || in.k > in.vocab_size) {
        slm_log_error("%s: k = %lld must be in [1, n_vocab = %d]", kld_path, (long long)in.k,
                      h.n_vocab);
        return SLM_ERR_USAGE;
    }
    if (bos_id >= h.n_vocab) {
        slm_log_error("bos id %d out of range for n_vocab %d", bos_id, h.n_vocab);
        return SLM_ERR_USAGE;
    }
    const int64_t T = h.n_ctx, K = in.k;
    FILE *f = fopen(kld_path, "rb");
    if (!f) {
        slm_log_error("%s: cannot open: %s", kld_path, strerror(errno));
        return SLM_ERR_IO;
    }
    slm_dump_writer *w = NULL;
    slm_dump_batch b;
    memset(&b, 0, sizeof b);
    uint16_t *rows = slm_alloc((size_t)(h.rows_per_chunk * h.row_u16) * sizeof(uint16_t));
    int32_t *all_tokens = slm_alloc((size_t)((int64_t)h.n_chunk * T) * sizeof(int32_t));
    st = rows && all_tokens ? slm_dump_batch_alloc(&in, 1, &b) : SLM_ERR_NOMEM;
    if (!st && (fseek(f, KLD_HEADER_BYTES, SEEK_SET) != 0 ||
                fread(all_tokens, 4, (size_t)((int64_t)h.n_chunk * T), f) != (size_t)(h.n_chunk * T))) {
        slm_log_error("%s: read failed: %s", kld_path, ferror(f) ? strerror(errno) : "file shorter than its header says");
        st = ferror(f) ? SLM_ERR_IO : SLM_ERR_FORMAT;
    }
    for (int64_t i = 0; !st && i < (int64_t)h.n_chunk * T; i++)
        if (all_tokens[i] < 0 || all_tokens[i] >= h.n_vocab) {
            slm_log_error("%s: token %lld = %d out of range [0, %d)", kld_path, (long long)i,
                          all_tokens[i], h.n_vocab);
            st = SLM_ERR_FORMAT;
        }
    if (!st) st = slm_dump_writer_open(out_path, &in, false, &w);
    const float placeholder = -logf((float)h.n_vocab);
    for (int64_t c = 0; !st && c < h.n_chunk; c++) {
        if (fread(rows, 2, (size_t)(h.rows_per_chunk * h.row_u16), f) !=
            (size_t)(h.rows_per_chunk * h.row_u16)) {
            if (ferror(f)) {
                slm_log_error("%s: read failed in chunk %lld: %s", kld_path, (long long)c, strerror(errno));
                st = SLM_ERR_IO;
            } else {
                slm_log_error("%s: short read in chunk %lld", kld_path, (long long)c);
                st = SLM_ERR_FORMAT;
            }
            break;
        }
        for (int64_t t = 0; t < T; t++) {
            b.tokens[t] = all_tokens[c * T + t];
            b.targets[t] = t + 1 < T ? all_tokens[c * T + t + 1] : -1;
            int64_t r = t - h.first;
            bool has = r >= 0 && r < h.rows_per_chunk;
            b.mask[t] = has;
            if (has) {
                const uint16_t *row = rows + r * h.row_u16;
                float scale, minlp;
                memcpy(&scale, row, 4);
                memcpy(&minlp, row + 2, 4);
                if (!isfinite(scale) || !isfinite(minlp) || scale < 0 || minlp > 0) {
                    slm_log_error("%s: chunk %lld position %lld: scale %g / min log-prob %g "
                                  "invalid", kld_path, (long long)c, (long long)t, scale, minlp);
                    st = SLM_ERR_FORMAT;
                    break;
                }
                slm_kld_row_topk(row, h.n_vocab, K, b.ids + t * K, b.logprobs + t * K);
                /* scale * q + min must stay a log-probability (found by fuzz_kld:
                 * such a row used to convert into a dump the reader refuses) */
                const float *lp = b.logprobs + t * K;
                double mass = 0;
                for (int64_t j = 0; j < K; j++) mass += exp((double)lp[j]);
                if (!(mass <= 1.0 + SLM_DUMP_MASS_TOL)) {
                    slm_log_error("%s: chunk %lld position %lld: the top-%lld probabilities sum "
                                  "to %.4f > 1 (scale %g, min log-prob %g): not a log-softmax "
                                  "row", kld_path, (long long)c, (long long)t, (long long)K, mass,
                                  scale, minlp);
                    st = SLM_ERR_FORMAT;
                }
                for (int64_t j = 0; j < K && !st; j++)
                    if (!isfinite(lp[j]) || lp[j] > SLM_DUMP_LOGPROB_TOL) {
                        slm_log_error("%s: chunk %lld position %lld: decoded log-prob %g of "
                                      "token %d is not <= 0 (scale %g, min log-prob %g): not "
                                      "a llama.cpp KL-divergence base file?",
                                      kld_path, (long long)c, (long long)t, lp[j],
                                      b.ids[t * K + j], scale, minlp);
                        st = SLM_ERR_FORMAT;
                    }
                if (st) break;
            } else {
                for (int64_t j = 0; j < K; j++) {
                    b.ids[t * K + j] = (int32_t)j;
                    b.logprobs[t * K + j] = placeholder;
                }
            }
        }
        if (bos_id >= 0) b.tokens[0] = bos_id;
        if (!st) st = slm_dump_writer_append(w, &b);
    }
    fclose(f);
    free(rows);
    free(all_tokens);
    slm_dump_batch_free(&b);
    if (w) {
        if (st) {
            slm_dump_writer_close(w); /* a failed conversion leaves nothing behind */
            char part[4096];
            snprintf(part, sizeof part, "%s.partial", out_path);
            unlink(part);
        } else {
            st = slm_dump_writer_finish(w);
        }
    }
    return st;
}
