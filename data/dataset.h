/* data/dataset.h — tokenized datasets in HDF5 (the output of `slm data
 * prepare`, the input of `slm train`, `slm eval`, `slm dump-logits`).
 *
 * File layout (HDF5, every dataset chunked + deflate, readable by h5py):
 *   /                       attributes:
 *       format          str   "slm.dataset"
 *       format_version  int64 1
 *       tokenizer_fingerprint str  slm_tokenizer_fingerprint() (64 hex chars)
 *       vocab_size      int64
 *       eos_id          int64 (-1 if the vocabulary has none)
 *       bos_id          int64 (-1 if none)
 *       created         str   ISO-8601 UTC time of the last write
 *       creator         str   "slm <version>"
 *       template        str   chat template used ("" if none)
 *   /train, /val            groups, each with
 *       tokens          int32 [n]          all documents concatenated
 *       loss_mask       uint8 [n]          1 = the model is trained to predict
 *                                          this token (0/1 only)
 *       doc_offsets     int64 [docs + 1]   document d is tokens[off[d], off[d+1]);
 *                                          off[0] = 0, off[docs] = n, non-decreasing
 *   /sources                group: the input files, one row each
 *       path            str   [s]  (variable-length UTF-8)
 *       size            int64 [s]  bytes
 *       sha256          str   [s]  64 hex chars of the file's bytes
 *       docs            int64 [s]  documents kept from this file
 *
 * Every document ends with EOS (loss_mask 1 on it) when the vocabulary has one.
 *
 * Reading (one split at a time; the split's doc_offsets are kept in memory):
 *   slm_dataset *ds;
 *   st = slm_dataset_open("data.h5", "train", &ds);           // SLM_ERR_FORMAT on a bad file
 *   st = slm_dataset_check_tokenizer(ds, tok);                // refuses another vocabulary
 *   int64_t n = slm_dataset_n_tokens(ds);
 *   st = slm_dataset_read(ds, start, count, tokens, mask);   // mask may be NULL
 *   slm_dataset_close(ds);
 *
 * Writing (everything goes to a temporary file, renamed over path on commit):
 *   slm_dataset_header h = slm_dataset_default_header();
 *   snprintf(h.fingerprint, ...); h.vocab_size = ...; h.eos_id = ...;
 *   slm_dataset_writer *w;
 *   st = slm_dataset_writer_open("data.h5", &h, &w);
 *   st = slm_dataset_writer_add_doc(w, SLM_SPLIT_TRAIN, tokens, mask, n);  // repeat
 *   st = slm_dataset_writer_add_source(w, &src);                            // repeat
 *   st = st == SLM_OK ? slm_dataset_writer_commit(w) : (slm_dataset_writer_abort(w), st);
 */
#ifndef SLM_DATA_DATASET_H
#define SLM_DATA_DATASET_H

#include "core/base.h"
#include "data/tokenizer.h"

#define SLM_DATASET_FORMAT "slm.dataset"
#define SLM_DATASET_FORMAT_VERSION 1

typedef enum { SLM_SPLIT_TRAIN = 0, SLM_SPLIT_VAL = 1, SLM_SPLIT_COUNT } slm_split;
/* "train" / "val" */
const char *slm_split_name(slm_split s);

/* Root attributes. */
typedef struct {
    char fingerprint[65]; /* tokenizer fingerprint, hex */
    int64_t vocab_size;
    int64_t eos_id;       /* -1 if none */
    int64_t bos_id;       /* -1 if none */
    int64_t format_version;
    char created[32];     /* filled by the writer */
    char template_name[32];
} slm_dataset_header;

slm_dataset_header slm_dataset_default_header(void);

/* One input file of the dataset. */
typedef struct {
    char *path;    /* owned by whoever allocated it */
    int64_t size;  /* bytes */
    char sha256[65];
    int64_t docs;  /* documents kept */
} slm_dataset_source;

/* ---- reading ---- */
typedef struct slm_dataset slm_dataset; /* one split of one file, opaque */

/* Opens split "train" or "val" of path.  Checks the format attribute, the
 * version, the dataset types and shapes and that doc_offsets are monotone and
 * end at n; returns SLM_ERR_FORMAT (logged with path and object) otherwise,
 * SLM_ERR_IO if the file cannot be opened. */
slm_status slm_dataset_open(const char *path, const char *split, slm_dataset **out);
void slm_dataset_close(slm_dataset *ds); /* accepts NULL */

const slm_dataset_header *slm_dataset_header_of(const slm_dataset *ds);
const char *slm_dataset_fingerprint(const slm_dataset *ds);
int64_t slm_dataset_vocab_size(const slm_dataset *ds);
int64_t slm_dataset_n_tokens(const slm_dataset *ds);
int64_t slm_dataset_n_docs(const slm_dataset *ds);
/* (n_docs + 1), owned by ds. */
const int64_t *slm_dataset_doc_offsets(const slm_dataset *ds);

/* Reads tokens[start, start+count) and, when mask != NULL, the loss mask of
 * the same range.  tokens: (count) int32, mask: (count) uint8.  Out-of-range
 * requests are SLM_ERR_USAGE.  Token ids are validated against vocab_size
 * (SLM_ERR_FORMAT naming the offset if one is outside [0, vocab_size)). */
slm_status slm_dataset_read(slm_dataset *ds, int64_t start, int64_t count, int32_t *tokens,
                            uint8_t *mask);
/* Whole split in memory: *tokens (n) and *mask (n), allocated, caller frees. */
slm_status slm_dataset_read_all(slm_dataset *ds, int32_t **tokens, uint8_t **mask,
                                int64_t *n);

/* SLM_OK if the dataset was made with a tokenizer of this fingerprint, else
 * SLM_ERR_FORMAT after logging both fingerprints, the file and the fix
 * ("re-run slm data prepare with --vocab <the model>"); exit 2 at the CLI.
 * what names the other side in the message (e.g. the model path). */
slm_status slm_dataset_check_fingerprint(const slm_dataset *ds, const char *fingerprint,
                                         const char *what);
slm_status slm_dataset_check_tokenizer(const slm_dataset *ds, const slm_tokenizer *t);

/* Source list of a dataset file (independent of split).  *src (n) allocated,
 * free with slm_dataset_sources_free. */
slm_status slm_dataset_read_sources(const char *path, slm_dataset_source **src, int64_t *n);
void slm_dataset_sources_free(slm_dataset_source *src, int64_t n);

/* ---- writing ---- */
typedef struct slm_dataset_writer slm_dataset_writer;

/* Creates "<path>.tmp.<pid>"; nothing appears at path until commit.
 * hdr->created is filled in by the writer. */
slm_status slm_dataset_writer_open(const char *path, const slm_dataset_header *hdr,
                                   slm_dataset_writer **out);
/* Appends one document to a split: tokens (n), mask (n) (mask NULL = all 1). */
slm_status slm_dataset_writer_add_doc(slm_dataset_writer *w, slm_split split,
                                      const int32_t *tokens, const uint8_t *mask, int64_t n);
/* src is copied. */
slm_status slm_dataset_writer_add_source(slm_dataset_writer *w, const slm_dataset_source *src);
/* Writes offsets and sources, closes, fsyncs and renames; frees w. */
slm_status slm_dataset_writer_commit(slm_dataset_writer *w);
/* Closes and unlinks the temporary; frees w; accepts NULL. */
void slm_dataset_writer_abort(slm_dataset_writer *w);

#endif
