/* distill/h5util.h — small HDF5 helpers used by the logit dump: root
 * attributes (strings as h5py writes them, int64), float16 as a file type,
 * extendible chunked datasets and hyperslab I/O of leading-dimension rows.
 * Private to distill/ (the data stage keeps its own). */
#ifndef SLM_DISTILL_H5UTIL_H
#define SLM_DISTILL_H5UTIL_H

#include <hdf5.h>

#include "core/base.h"
#include "core/h5err.h" /* slm_h5_quiet: HDF5's printing silenced, failures recorded */
/* IEEE half as an HDF5 type (caller H5Tclose's it). */
hid_t slm_h5_f16_type(void);

/* Variable-length UTF-8 string attribute on obj (replaced if present). */
slm_status slm_h5_set_str(hid_t obj, const char *name, const char *value);
slm_status slm_h5_set_i64(hid_t obj, const char *name, int64_t value);
/* Reads a string attribute (fixed or variable length) into buf (cap bytes).
 * Returns SLM_ERR_FORMAT naming file and attribute when absent or not a string. */
slm_status slm_h5_get_str(hid_t obj, const char *file, const char *name, char *buf,
                          size_t cap);
/* Reads an integer attribute (any integer type). */
slm_status slm_h5_get_i64(hid_t obj, const char *file, const char *name, int64_t *out);
bool slm_h5_has_attr(hid_t obj, const char *name);

/* Creates dataset name of type ftype with dims (0, d1[, d2]) extendible along
 * dim 0, chunk_rows rows per chunk (< 1: one), deflate level and shuffle as asked. */
hid_t slm_h5_create_rows(hid_t file, const char *name, hid_t ftype, int rank,
                         const int64_t *inner, int64_t chunk_rows, int deflate, bool shuffle);
/* Writes n rows (row = product of inner dims) at row r0, extending to r0 + n. */
slm_status slm_h5_write_rows(hid_t ds, hid_t mtype, int64_t r0, int64_t n, const void *buf);
/* Reads n rows at r0 with memory type mtype. */
slm_status slm_h5_read_rows(hid_t ds, hid_t mtype, int64_t r0, int64_t n, void *buf);
/* Shape of a dataset: rank into *rank, dims into dims[0..2]; -1 on error. */
int slm_h5_shape(hid_t ds, int64_t dims[3]);

#endif
