/* distill/h5util.c — HDF5 helpers for the logit dump (see h5util.h). */
#include "distill/h5util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h5err.h"


hid_t slm_h5_f16_type(void) {
    /* the same construction h5py uses for numpy.float16 */
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
        H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

bool slm_h5_has_attr(hid_t obj, const char *name) { return H5Aexists(obj, name) > 0; }

static slm_status write_attr(hid_t obj, const char *name, hid_t type, const void *v) {
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) return SLM_ERR_IO;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp < 0 ? -1 : H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    slm_status st = (a >= 0 && H5Awrite(a, type, v) >= 0) ? SLM_OK : SLM_ERR_IO;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (st != SLM_OK) slm_log_error("HDF5: cannot write attribute '%s'", name);
    return st;
}

slm_status slm_h5_set_str(hid_t obj, const char *name, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    slm_status st = write_attr(obj, name, t, &value);
    H5Tclose(t);
    return st;
}

slm_status slm_h5_set_i64(hid_t obj, const char *name, int64_t value) {
    /* in place when it exists (the resumable `done` counter is rewritten often) */
    if (H5Aexists(obj, name) > 0) {
        hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
        slm_status st = (a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &value) >= 0) ? SLM_OK
                                                                                : SLM_ERR_IO;
        if (a >= 0) H5Aclose(a);
        if (st == SLM_OK) return st;
    }
    return write_attr(obj, name, H5T_STD_I64LE, &value);
}

slm_status slm_h5_get_str(hid_t obj, const char *file, const char *name, char *buf,
                          size_t cap) {
    if (H5Aexists(obj, name) <= 0) {
        if (slm_h5_errno()) return slm_h5_read_status(file); /* EIO, not a missing attribute */
        slm_log_error("%s: attribute '%s' is missing", file, name);
        return SLM_ERR_FORMAT;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    slm_status st = SLM_ERR_FORMAT;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        hid_t mt = H5Tcopy(ft);
        if (H5Tis_variable_str(ft) > 0) {
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(buf, cap, "%s", s);
                H5free_memory(s);
                st = SLM_OK;
            }
        } else {
            size_t n = H5Tget_size(ft);
            char *s = slm_calloc(n + 1, 1);
            if (s && H5Aread(a, mt, s) >= 0) {
                s[n] = 0;
                snprintf(buf, cap, "%s", s);
                st = SLM_OK;
            }
            free(s);
        }
        H5Tclose(mt);
    }
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    if (st != SLM_OK && slm_h5_errno()) return slm_h5_read_status(file);
    if (st != SLM_OK) slm_log_error("%s: attribute '%s' is not a readable string", file, name);
    return st;
}

slm_status slm_h5_get_i64(hid_t obj, const char *file, const char *name, int64_t *out) {
    if (H5Aexists(obj, name) <= 0) {
        if (slm_h5_errno()) return slm_h5_read_status(file); /* EIO, not a missing attribute */
        slm_log_error("%s: attribute '%s' is missing", file, name);
        return SLM_ERR_FORMAT;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
    slm_status st = SLM_ERR_FORMAT;
    if (ft >= 0 && H5Tget_class(ft) == H5T_INTEGER && sp >= 0 &&
        H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_INT64, out) >= 0)
        st = SLM_OK;
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    if (st != SLM_OK && slm_h5_errno()) return slm_h5_read_status(file);
    if (st != SLM_OK)
        slm_log_error("%s: attribute '%s' is not a scalar integer", file, name);
    return st;
}

hid_t slm_h5_create_rows(hid_t file, const char *name, hid_t ftype, int rank,
                         const int64_t *inner, int64_t chunk_rows, int deflate, bool shuffle) {
    hsize_t dims[3] = {0, 1, 1}, maxd[3] = {H5S_UNLIMITED, 1, 1}, chunk[3] = {1, 1, 1};
    chunk[0] = chunk_rows > 1 ? (hsize_t)chunk_rows : 1;
    for (int i = 1; i < rank; i++) dims[i] = maxd[i] = chunk[i] = (hsize_t)inner[i - 1];
    hid_t sp = H5Screate_simple(rank, dims, maxd);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    if (sp >= 0 && pl >= 0 && H5Pset_chunk(pl, rank, chunk) >= 0 &&
        (!shuffle || H5Pset_shuffle(pl) >= 0) && (deflate <= 0 || H5Pset_deflate(pl, (unsigned)deflate) >= 0))
        ds = H5Dcreate2(file, name, ftype, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    if (pl >= 0) H5Pclose(pl);
    if (sp >= 0) H5Sclose(sp);
    if (ds < 0) slm_log_error("HDF5: cannot create dataset '%s'", name);
    return ds;
}

int slm_h5_shape(hid_t ds, int64_t dims[3]) {
    hid_t sp = H5Dget_space(ds);
    if (sp < 0) return -1;
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t d[8] = {0};
    if (rank < 1 || rank > 3 || H5Sget_simple_extent_dims(sp, d, NULL) < 0) rank = -1;
    for (int i = 0; i < 3; i++) dims[i] = rank > i ? (int64_t)d[i] : 1;
    H5Sclose(sp);
    return rank;
}

static slm_status rows_io(hid_t ds, hid_t mtype, int64_t r0, int64_t n, void *buf,
                          bool write) {
    int64_t d[3];
    int rank = slm_h5_shape(ds, d);
    if (rank < 0) return SLM_ERR_IO;
    if (write && r0 + n > d[0]) {
        hsize_t nd[3] = {(hsize_t)(r0 + n), (hsize_t)d[1], (hsize_t)d[2]};
        if (H5Dset_extent(ds, nd) < 0) return SLM_ERR_IO;
    }
    hid_t fs = H5Dget_space(ds);
    hsize_t start[3] = {(hsize_t)r0, 0, 0}, count[3] = {(hsize_t)n, (hsize_t)d[1], (hsize_t)d[2]};
    hid_t ms = H5Screate_simple(rank, count, NULL);
    herr_t e = -1;
    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0)
        e = write ? H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf)
                  : H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return e < 0 ? SLM_ERR_IO : SLM_OK;
}

slm_status slm_h5_write_rows(hid_t ds, hid_t mtype, int64_t r0, int64_t n, const void *buf) {
    return rows_io(ds, mtype, r0, n, (void *)buf, true);
}

slm_status slm_h5_read_rows(hid_t ds, hid_t mtype, int64_t r0, int64_t n, void *buf) {
    return rows_io(ds, mtype, r0, n, buf, false);
}
