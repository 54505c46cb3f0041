/* quantize/imatrix.h — importance matrices in llama.cpp's GGUF imatrix format.
 *
 * File (written by llama-imatrix and by `slm imatrix`):
 *   general.type = "imatrix"; imatrix.datasets (string array),
 *   imatrix.chunk_count (u32), imatrix.chunk_size (u32);
 *   per weight W: tensors "W.in_sum2" F32 [ne0, n_mat] (sum over tokens of
 *   the squared input activation of each column) and "W.counts" F32 [1, n_mat]
 *   (tokens summed).  The importance of column j is in_sum2[j] / counts
 *   (1 where counts is 0), as llama-quantize computes it.
 */
#ifndef SLM_QUANTIZE_IMATRIX_H
#define SLM_QUANTIZE_IMATRIX_H

#include "core/base.h"
#include "core/gguf.h"

typedef struct slm_imatrix slm_imatrix; /* opaque */

/* Reads and validates (pairs complete, F32, finite, counts >= 0). */
slm_status slm_imatrix_load(const char *path, slm_imatrix **out);
void slm_imatrix_free(slm_imatrix *m);
/* Importance (n values) for weight name, or NULL if absent. */
const float *slm_imatrix_find(const slm_imatrix *m, const char *name, int64_t *n);
int64_t slm_imatrix_n_entries(const slm_imatrix *m);
const char *slm_imatrix_entry_name(const slm_imatrix *m, int64_t i);

/* Writer side: accumulates sums for `slm imatrix`. */
typedef struct {
    const char *name;  /* weight name, e.g. "blk.0.attn_q.weight" */
    int64_t n;         /* columns */
    double *sum2;      /* (n) sum of squared activations */
    double count;      /* tokens */
    double *cov;       /* (n x n) sum of x x^T, or NULL (only for --hessian) */
} slm_imatrix_acc;

/* Adds "name<suffix>" F32 [ne0, ne1] (v converted) and "name.counts" F32
 * [1, 1] to w; bufs[0..1] receive the float copies, which the caller frees
 * after slm_gguf_writer_write (also on failure). */
slm_status slm_imatrix_put_entry(slm_gguf_writer *w, const char *name, const char *suffix, const double *v,
                                 int64_t ne0, int64_t ne1, double count, float *bufs[2]);

slm_status slm_imatrix_save(const char *path, const slm_imatrix_acc *acc, int64_t n_acc,
                            const char *dataset, uint32_t chunk_count, uint32_t chunk_size);

#endif
