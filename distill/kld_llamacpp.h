/* distill/kld_llamacpp.h — reads the full-vocabulary log-prob file that
 * llama.cpp writes with `llama-perplexity --kl-divergence-base FILE -f text`
 * and converts it to an slm logit dump (top-k per position), so that a
 * teacher only llama.cpp can run still feeds `slm distill`.
 *
 * Layout (little-endian, from llama.cpp tools/perplexity/perplexity.cpp):
 *   char[8]  "_logits_"
 *   int32    n_ctx
 *   int32    n_vocab
 *   int32    n_chunk
 *   int32    tokens[n_chunk * n_ctx]     the text's tokens, chunk c = [c*n_ctx, (c+1)*n_ctx)
 *   then for each chunk, for each position t = first .. n_ctx-2 (first = n_ctx/2),
 *   one row of nv = 2*((n_vocab+1)/2) + 4 uint16:
 *     float32 scale, float32 min_log_prob (the first 4 uint16), then n_vocab
 *     uint16 q[j] (padded to even): log p(j) = scale * q[j] + min_log_prob,
 *     where min_log_prob is the row's log-prob floor (max logit - 16 at most
 *     below the top) and q = 0 means "at or below the floor".
 *   The row at position t is the distribution of token t+1 given tokens 0..t.
 *   llama.cpp replaces a chunk's first token by BOS while evaluating when the
 *   model adds BOS; the file keeps the original token (see bos_id below).
 *
 * Conversion: one dump sequence per chunk (T = n_ctx), /targets = next token,
 * /loss_mask = 1 exactly at the positions that have a row; the other
 * positions carry placeholder entries (ids 0..K-1, log-prob -log V) that the
 * mask excludes.
 */
#ifndef SLM_DISTILL_KLD_LLAMACPP_H
#define SLM_DISTILL_KLD_LLAMACPP_H

#include "core/base.h"
#include "distill/dump.h"

typedef struct {
    int32_t n_ctx, n_vocab, n_chunk;
    int64_t first;         /* first position with a row: n_ctx / 2 */
    int64_t rows_per_chunk;/* n_ctx - 1 - first */
    int64_t row_u16;       /* nv */
} slm_kld_header;

/* Validates the header and the file size against it. */
slm_status slm_kld_read_header(const char *path, slm_kld_header *h);

/* Writes out_path as a top-k dump.  info supplies k, f16, compression,
 * teacher name/fingerprint and tokenizer fingerprint; vocab_size and seq_len
 * are taken from the file (info->vocab_size, if > 0, must match).  bos_id >= 0
 * replaces each chunk's first token by BOS, as llama.cpp evaluated it. */
slm_status slm_kld_convert(const char *kld_path, const char *out_path, const slm_dump_info *info,
                           int32_t bos_id);

/* Top-k of one compressed row: ids sorted by descending log-prob (ties by
 * ascending id) and their log-probs. */
void slm_kld_row_topk(const uint16_t *row, int64_t n_vocab, int64_t k, int32_t *ids, float *lp);

#endif
