/* data/prepare.h — the `slm data prepare` pipeline as a library call:
 * inputs -> records -> tokens + loss mask -> dedup -> train/val split ->
 * HDF5 dataset (data/dataset.h), incrementally when the output exists.
 *
 * Choices (docs/data.md):
 *  - Dedup key: SHA-256 of a document's rendered tokens and mask (first 128
 *    bits); for one tokenizer, equal documents have equal keys.
 *  - Split: a document goes to val iff splitmix64(key ^ seed) / 2^64 <
 *    val_fraction: seeded, per document, independent of input order, so an
 *    incremental run never moves an old document between splits.
 *  - Incremental: a file whose SHA-256 is already in /sources is not read
 *    again; the old documents are copied, the new ones appended, and the
 *    whole file rewritten to a temporary and renamed.
 *  - Tokenization runs in parallel over batches of records (OpenMP,
 *    n_threads); output order is the input order. */
#ifndef SLM_DATA_PREPARE_H
#define SLM_DATA_PREPARE_H

#include "data/chat.h"
#include "data/dataset.h"
#include "data/readers.h"

typedef enum { SLM_ON_ERROR_FAIL = 0, SLM_ON_ERROR_SKIP, SLM_ON_ERROR_COUNT } slm_on_error;

typedef struct {
    const char *const *inputs; /* (n_inputs) files or directories */
    int n_inputs;
    const char *out;           /* dataset path */
    slm_reader_opts reader;
    slm_template_kind template_kind; /* NONE: messages records are bad records */
    double val_fraction;       /* [0, 1) */
    uint64_t seed;
    slm_on_error on_error;
    int64_t max_tokens;        /* per record; 0 = no limit */
    const char *reject_path;   /* NULL: "<out>.rejects" */
    int n_threads;             /* 0: OpenMP default */
} slm_prepare_params;

slm_prepare_params slm_prepare_default_params(void);

typedef struct {
    int64_t files_total, files_new, files_known;
    int64_t bytes_new;         /* input bytes read (as stored, compressed or not) */
    int64_t records, bad, empty, duplicates;
    int64_t docs_new[SLM_SPLIT_COUNT], tokens_new[SLM_SPLIT_COUNT];
    int64_t docs_total[SLM_SPLIT_COUNT], tokens_total[SLM_SPLIT_COUNT];
    int64_t masked_total;      /* tokens with loss_mask 1, all splits */
    bool unchanged;            /* nothing new: output not rewritten */
    double seconds;
} slm_prepare_stats;

/* Runs the pipeline.  e encodes; fingerprint, vocab size, BOS/EOS are
 * recorded in the dataset.  Bad records: with FAIL the first one is logged
 * (file:line: reason) and SLM_ERR_FORMAT returned with nothing written; with
 * SKIP each is logged, counted and its raw line written to the reject file.
 * An existing out made with another tokenizer fingerprint or template is
 * refused (SLM_ERR_USAGE). */
slm_status slm_data_prepare(const slm_prepare_params *p, const slm_encoder *e,
                            const char *fingerprint, slm_prepare_stats *stats);

#endif
