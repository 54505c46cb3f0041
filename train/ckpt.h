/* train/ckpt.h — training checkpoints in HDF5 (readable with h5py).
 *
 * Layout of ckpt-<step>.h5 (every dataset chunked, Fletcher-32 checksummed
 * and deflate-compressed):
 *   /                attributes: format = "slm.checkpoint" (string),
 *                    format_version = 1, step, tokens_seen, adam_t, epoch,
 *                    cursor (int64), elapsed (float64, seconds), mode, base_fingerprint, config,
 *                    slm_version (strings), n_tensors (int64)
 *   /rng             uint64 [4]       xoshiro256** state (dropout stream)
 *   /params/<name>   float32 [ne1, ne0] or [ne0]  trainable tensor by GGUF name
 *   /adam_m/<name>   float32, same shape: AdamW first moment
 *   /adam_v/<name>   float32, same shape: AdamW second moment
 * step = optimizer steps completed; epoch/cursor = position in the shuffled
 * order of training sequences; config = the resolved INI text of the run;
 * base_fingerprint = SHA-256 (hex) of the base GGUF file (pretrain: of the
 * vocabulary GGUF).
 *
 * Files are written to "<path>.tmp.<pid>", fsync'd and renamed; the run
 * directory keeps the newest `keep` checkpoints.  Loading takes the newest
 * checkpoint that reads back completely; a truncated or corrupt one is
 * skipped with a warning.
 */
#ifndef SLM_TRAIN_CKPT_H
#define SLM_TRAIN_CKPT_H

#include "core/params.h"
#include "train/optim.h"

#define SLM_CKPT_FORMAT "slm.checkpoint"
#define SLM_CKPT_VERSION 1

typedef struct {
    int64_t step;
    int64_t tokens_seen;
    int64_t epoch, cursor; /* data cursor */
    double elapsed;        /* training seconds before this checkpoint, over all resumes */
    slm_rng rng;
    char mode[16];
    char fingerprint[65];
    char *config; /* resolved INI text (owned; slm_ckpt_state_free) */
} slm_ckpt_state;

void slm_ckpt_state_free(slm_ckpt_state *s);

/* Writes one checkpoint file atomically.  opt may be NULL (no moments). */
slm_status slm_ckpt_write(const char *path, const slm_ckpt_state *s,
                          const slm_param_list *params, const slm_adamw *opt);
/* Reads the attributes and RNG of a checkpoint (no tensors). */
slm_status slm_ckpt_read_state(const char *path, slm_ckpt_state *s);
/* Reads every tensor of params (names and shapes must match exactly) and, if
 * opt != NULL, the AdamW moments and step count.  SLM_ERR_FORMAT on any
 * mismatch or unreadable data, naming the tensor. */
slm_status slm_ckpt_read_tensors(const char *path, const slm_param_list *params,
                                 slm_adamw *opt);
/* Reads one tensor by name from /params into a new buffer (for export):
 * *data (n floats, caller frees), ne[2] and n_dims. */
slm_status slm_ckpt_read_param(const char *path, const char *name, float **data,
                               int64_t ne[2], int *n_dims);
/* Names of every tensor under /params, in file order (caller frees with
 * slm_ckpt_names_free). */
slm_status slm_ckpt_list_params(const char *path, char ***names, int64_t *n);
void slm_ckpt_names_free(char **names, int64_t n);

/* "<dir>/ckpt-<step>.h5": writes it, then deletes all but the newest keep. */
slm_status slm_ckpt_save(const char *dir, int64_t keep, const slm_ckpt_state *s,
                         const slm_param_list *params, const slm_adamw *opt);
/* Steps of the checkpoints in dir, newest first (caller frees *steps). */
slm_status slm_ckpt_list(const char *dir, int64_t **steps, int64_t *n);
/* Deletes "ckpt-<step>.h5.tmp.<pid>" files left by a killed writer; call
 * only while holding the run directory's lock.  Returns how many. */
int64_t slm_ckpt_remove_stale_tmp(const char *dir);
/* Path of the checkpoint of step in dir (caller frees). */
char *slm_ckpt_path(const char *dir, int64_t step);

/* Loads the newest checkpoint of dir that reads back completely.  For each
 * candidate (newest first) the state is read and passed to check (may be
 * NULL); a check failure is returned at once (incompatible run: refused),
 * while an unreadable file is skipped with a warning naming it.  *found is
 * false (and SLM_OK returned) when dir holds no checkpoint; when it holds
 * some but none is readable, SLM_ERR_FORMAT. */
typedef slm_status (*slm_ckpt_check_fn)(void *ctx, const slm_ckpt_state *s, const char *path);
slm_status slm_ckpt_load_latest(const char *dir, const slm_param_list *params, slm_adamw *opt,
                                slm_ckpt_check_fn check, void *ctx, slm_ckpt_state *s,
                                bool *found);

/* SHA-256 (hex) of a whole file. */
slm_status slm_file_sha256(const char *path, char out[65]);

#endif
