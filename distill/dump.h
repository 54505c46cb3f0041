/* distill/dump.h — the teacher logit dump (HDF5): what a teacher predicted at
 * every position of a set of token sequences, kept sparse (top-k or sampled
 * ids), so that a student can be distilled without running the teacher again.
 *
 * File layout (HDF5, every dataset chunked one sequence per chunk, deflate,
 * optionally with the shuffle filter; full description in docs/distillation.md):
 *
 *   /tokens         int32 or uint16 [S, T]  model input (the teacher saw tokens[s][0..t])
 *   /targets        int32   [S, T]     next token (CE label) at each position; -1 = none
 *   /loss_mask      uint8   [S, T]     1 where the loss applies
 *   /topk_ids       int32 or uint16 [S, T, K]  token ids, in [0, V) (sample mode: int32,
 *                                      -1 in unused slots); uint16 when V <= 65536
 *   /topk_logprobs  float32 or float16 [S, T, K]
 *                                      teacher log-softmax over the FULL vocabulary at
 *                                      temperature 1, so the tail mass is 1 - sum(exp)
 *   /sample_counts  uint16  [S, T, K]  sample mode only: how often each id was drawn
 *                                      (sum over K = sample_n; 0 in unused slots)
 *
 *   root attributes: format = "slm.logit_dump", format_version (int64, 2; 1 =
 *   the same with every id dataset int32),
 *   vocab_size, k, seq_len, sample_n (int64), mode = "topk" | "sample",
 *   tokenizer_fingerprint, teacher, teacher_fingerprint (strings),
 *   done (int64: sequences completely written; rows past it are ignored).
 *
 * /targets and /loss_mask are optional for readers: when absent, targets are
 * tokens shifted by one (last position -1) and the mask is all ones.
 *
 * Writer usage (resumable):
 *   slm_dump_writer *w;
 *   st = slm_dump_writer_open("out.h5", &info, true, &w);   // writes out.h5.partial
 *   for (s = slm_dump_writer_done(w); s < S; s += n)
 *       st = slm_dump_writer_append(w, n, tokens, targets, mask, ids, logprobs, counts);
 *   st = slm_dump_writer_finish(w);      // renames out.h5.partial -> out.h5, frees w
 * An interrupted dump leaves out.h5.partial with attribute done = rows written
 * and flushed; opening it again with resume = true continues from there.
 *
 * Reader usage:
 *   slm_dump *d;
 *   st = slm_dump_open("dump.h5", &d);                 // attributes and shapes checked
 *   st = slm_dump_check_vocab(d, V, tokenizer_fp);     // vocabulary must match
 *   st = slm_dump_read(d, s0, n, &batch);              // contents checked
 *   slm_dump_close(d);
 */
#ifndef SLM_DISTILL_DUMP_H
#define SLM_DISTILL_DUMP_H

#include <stdio.h>

#include "core/base.h"

#define SLM_DUMP_FORMAT "slm.logit_dump"
/* Version 2 (this writer): /tokens and /topk_ids (top-k mode) stored as uint16
 * when vocab_size <= 65536, int32 otherwise.  Version 1: every id dataset
 * int32.  Readers accept both (and any integer type that holds the values). */
#define SLM_DUMP_FORMAT_VERSION 2
#define SLM_DUMP_FORMAT_VERSION_MIN 1
/* A stored log-prob may exceed 0 by rounding (float16 keeps ~3 digits). */
#define SLM_DUMP_LOGPROB_TOL 1e-2
/* Sum of exp(top-k log-probs) may exceed 1 by this much before it is an error. */
#define SLM_DUMP_MASS_TOL 2e-2

typedef enum {
    SLM_DUMP_TOPK = 0,  /* the K most probable ids, sorted by descending log-prob */
    SLM_DUMP_SAMPLE,    /* sample_n draws from the teacher, distinct ids with counts */
    SLM_DUMP_MODE_COUNT
} slm_dump_mode;

typedef struct {
    slm_dump_mode mode;
    int64_t vocab_size;  /* V */
    int64_t k;           /* K: entries per position (sample mode: max distinct ids) */
    int64_t seq_len;     /* T */
    int64_t sample_n;    /* draws per position (sample mode), 0 in top-k mode */
    bool f16;            /* /topk_logprobs stored as float16 */
    int deflate;         /* writer: zlib level 0..9 (0 = none) */
    bool shuffle;        /* writer: HDF5 shuffle filter before deflate */
    bool ids32;          /* writer: int32 ids and tokens even when uint16 holds them
                          * (writes the version 1 layout, for older readers) */
    int64_t chunk_seqs;  /* writer: sequences per HDF5 chunk (< 1: 1) */
    int64_t version;     /* reader: the file's format_version */
    int id_bytes;        /* reader: bytes of one stored /topk_ids element (2 or 4) */
    char tokenizer_fp[65];
    char teacher[256];
    char teacher_fp[65];
} slm_dump_info;

/* One batch of n sequences read from or written to a dump; arrays borrowed. */
typedef struct {
    int64_t n;            /* sequences */
    int32_t *tokens;      /* (n, T) */
    int32_t *targets;     /* (n, T) */
    uint8_t *mask;        /* (n, T) */
    int32_t *ids;         /* (n, T, K) */
    float *logprobs;      /* (n, T, K) */
    uint16_t *counts;     /* (n, T, K), sample mode only (else NULL) */
} slm_dump_batch;

slm_dump_info slm_dump_default_info(void);
const char *slm_dump_mode_name(slm_dump_mode m);

/* ---- writer ---- */
typedef struct slm_dump_writer slm_dump_writer;

/* Opens "<path>.partial".  With resume and an existing partial whose
 * attributes equal info's, continues after its done rows; otherwise starts a
 * new file (an incompatible partial is an SLM_ERR_USAGE error naming the
 * differing attribute, so work is never discarded silently). */
slm_status slm_dump_writer_open(const char *path, const slm_dump_info *info, bool resume,
                                slm_dump_writer **out);
int64_t slm_dump_writer_done(const slm_dump_writer *w);
/* Appends b->n sequences, flushes the file, then sets done += n. */
slm_status slm_dump_writer_append(slm_dump_writer *w, const slm_dump_batch *b);
/* Marks the file complete, closes it and renames it to path.  Frees w. */
slm_status slm_dump_writer_finish(slm_dump_writer *w);
/* Flushes and closes without renaming (the partial file stays resumable). */
void slm_dump_writer_close(slm_dump_writer *w);

/* ---- reader ---- */
typedef struct slm_dump slm_dump;

/* Checks format, version, attributes and dataset shapes (SLM_ERR_FORMAT,
 * naming the file and the attribute or dataset). */
slm_status slm_dump_open(const char *path, slm_dump **out);
void slm_dump_close(slm_dump *d); /* accepts NULL */
const slm_dump_info *slm_dump_get_info(const slm_dump *d);
const char *slm_dump_path(const slm_dump *d);
int64_t slm_dump_n_seqs(const slm_dump *d); /* done */
/* SLM_ERR_FORMAT if the dump was made for another vocabulary (size or
 * tokenizer fingerprint; fp may be NULL or "" to check the size only). */
slm_status slm_dump_check_vocab(const slm_dump *d, int64_t n_vocab, const char *tokenizer_fp);
/* Reads sequences [s0, s0 + b->n) into b's arrays (allocated by the caller,
 * counts only in sample mode; log-probs converted to float) and validates
 * them: ids in range, finite log-probs <= 0, mass <= 1, counts summing to
 * sample_n, tokens in range.  Errors name the file, dataset and index. */
slm_status slm_dump_read(const slm_dump *d, int64_t s0, slm_dump_batch *b);
/* Only /tokens, /targets and /loss_mask of [s0, s0 + b->n) (range-checked). */
slm_status slm_dump_read_tokens(const slm_dump *d, int64_t s0, slm_dump_batch *b);
/* SLM_ERR_FORMAT unless the dump's tokens of sequence s equal tokens (T). */
slm_status slm_dump_check_tokens(const slm_dump *d, int64_t s, const int32_t *tokens,
                                 const char *dataset_name);
/* Reads and validates every sequence; fills the mean tail mass (top-k mode)
 * and the stored bytes per position if the pointers are non-NULL. */
slm_status slm_dump_validate_all(const slm_dump *d, double *mean_tail, double *bytes_per_pos);
/* Allocates arrays of b for n sequences of d (free with slm_dump_batch_free). */
slm_status slm_dump_batch_alloc(const slm_dump_info *info, int64_t n, slm_dump_batch *b);
void slm_dump_batch_free(slm_dump_batch *b);
/* Prints attributes and statistics of a dump after validating all of it
 * (distill/dump_info.c; `slm info`). */
slm_status slm_dump_describe(const char *path, FILE *out);

#endif
