/* train/ckpt.c — HDF5 checkpoints (layout in ckpt.h). */
#include "train/ckpt.h"

#include "core/h5err.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/sha256.h"

#define CHUNK_ELEMS 65536 /* ~256 KB chunks */

#ifndef SLM_VERSION
#define SLM_VERSION "unknown"
#endif

void slm_ckpt_state_free(slm_ckpt_state *s) {
    free(s->config);
    s->config = NULL;
}

/* ---- small HDF5 helpers: each returns <0 on failure ---- */

static int attr_i64(hid_t loc, const char *name, int64_t v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 ? -1 : (int)H5Awrite(a, H5T_NATIVE_INT64, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static int attr_f64(hid_t loc, const char *name, double v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 ? -1 : (int)H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static int attr_str(hid_t loc, const char *name, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 ? -1 : (int)H5Awrite(a, t, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

static int read_attr_i64(hid_t loc, const char *name, int64_t *v) {
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    int rc = (int)H5Aread(a, H5T_NATIVE_INT64, v);
    H5Aclose(a);
    return rc;
}

/* Reads a string attribute (variable or fixed length) into a new buffer. */
static char *read_attr_str(hid_t loc, const char *name) {
    if (H5Aexists(loc, name) <= 0) return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t ft = H5Aget_type(a);
    char *out = NULL;
    if (H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t t = H5Tcopy(H5T_C_S1);
            H5Tset_size(t, H5T_VARIABLE);
            H5Tset_cset(t, H5Tget_cset(ft));
            char *p = NULL;
            if (H5Aread(a, t, &p) >= 0 && p) {
                out = slm_strdup(p);
                H5free_memory(p);
            }
            H5Tclose(t);
        } else {
            size_t n = H5Tget_size(ft);
            out = slm_calloc(n + 1, 1);
            if (out && H5Aread(a, ft, out) < 0) {
                free(out);
                out = NULL;
            }
        }
    }
    H5Tclose(ft);
    H5Aclose(a);
    return out;
}

static int write_f32(hid_t grp, const char *name, const float *data, int n_dims,
                     const int64_t ne[2]) {
    hsize_t dims[2], chunk[2];
    int rank = n_dims == 2 ? 2 : 1;
    if (rank == 2) {
        dims[0] = (hsize_t)ne[1];
        dims[1] = (hsize_t)ne[0];
        chunk[1] = dims[1];
        hsize_t rows = CHUNK_ELEMS / (dims[1] ? dims[1] : 1);
        chunk[0] = rows < 1 ? 1 : rows > dims[0] ? dims[0] : rows;
        if (chunk[1] > CHUNK_ELEMS * 4) chunk[1] = CHUNK_ELEMS; /* very wide rows */
    } else {
        dims[0] = (hsize_t)(ne[0] * (n_dims == 2 ? ne[1] : 1));
        chunk[0] = dims[0] < CHUNK_ELEMS ? dims[0] : CHUNK_ELEMS;
    }
    if (chunk[0] == 0) chunk[0] = 1;
    if (rank == 2 && chunk[1] == 0) chunk[1] = 1;
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, rank, chunk);
    H5Pset_fletcher32(pl);
    H5Pset_shuffle(pl);
    H5Pset_deflate(pl, 1);
    hid_t d = H5Dcreate2(grp, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    int rc = d < 0 ? -1 : (int)H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (d >= 0 && H5Dclose(d) < 0) rc = -1;
    H5Pclose(pl);
    H5Sclose(sp);
    return rc;
}

/* Opens grp/name, checks its shape against (n_dims, ne) and reads it. */
static slm_status read_f32(hid_t grp, const char *path, const char *gname, const char *name,
                           float *out, int n_dims, const int64_t ne[2]) {
    if (H5Lexists(grp, name, H5P_DEFAULT) <= 0) {
        slm_log_error("%s: tensor '%s' missing from /%s", path, name, gname);
        return SLM_ERR_FORMAT;
    }
    hid_t d = H5Dopen2(grp, name, H5P_DEFAULT);
    if (d < 0) goto bad;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank >= 1 && rank <= 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    int want_rank = n_dims == 2 ? 2 : 1;
    bool ok = rank == want_rank &&
              (rank == 2 ? dims[0] == (hsize_t)ne[1] && dims[1] == (hsize_t)ne[0]
                         : dims[0] == (hsize_t)ne[0]);
    if (!ok) {
        slm_log_error("%s: tensor /%s/%s has shape [%llu%s%llu] but the model needs [%lld%s%lld]",
                      path, gname, name, (unsigned long long)dims[0], rank == 2 ? ", " : "",
                      (unsigned long long)(rank == 2 ? dims[1] : 0),
                      (long long)(want_rank == 2 ? ne[1] : ne[0]), want_rank == 2 ? ", " : "",
                      (long long)(want_rank == 2 ? ne[0] : 0));
        H5Dclose(d);
        return SLM_ERR_USAGE; /* a shape mismatch is an incompatible config, not corruption */
    }
    herr_t rc = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(d);
    if (rc >= 0) return SLM_OK;
bad:
    if (slm_h5_read_status(path) == SLM_ERR_IO) return SLM_ERR_IO;
    slm_log_error("%s: cannot read tensor /%s/%s (truncated or corrupt file)", path, gname, name);
    return SLM_ERR_FORMAT;
}

slm_status slm_ckpt_write(const char *path, const slm_ckpt_state *s,
                          const slm_param_list *params, const slm_adamw *opt) {
    slm_h5_quiet();
    char *tmp = slm_tmp_path_for(path);
    if (!tmp) return SLM_ERR_NOMEM;
    char why[192];
    hid_t fapl = (hid_t)slm_h5_write_fapl();
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        slm_log_error("cannot create checkpoint '%s': %s", tmp, slm_h5_reason(why, sizeof why));
        unlink(tmp); /* H5Fcreate may have created it before failing to write */
        free(tmp);
        return SLM_ERR_IO;
    }
    int bad = 0;
    bad |= attr_str(f, "format", SLM_CKPT_FORMAT) < 0;
    bad |= attr_i64(f, "format_version", SLM_CKPT_VERSION) < 0;
    bad |= attr_i64(f, "step", s->step) < 0;
    bad |= attr_i64(f, "tokens_seen", s->tokens_seen) < 0;
    bad |= attr_i64(f, "adam_t", opt ? opt->t : 0) < 0;
    bad |= attr_i64(f, "epoch", s->epoch) < 0;
    bad |= attr_i64(f, "cursor", s->cursor) < 0;
    bad |= attr_f64(f, "elapsed", s->elapsed) < 0;
    bad |= attr_i64(f, "n_tensors", params->n) < 0;
    bad |= attr_str(f, "mode", s->mode) < 0;
    bad |= attr_str(f, "base_fingerprint", s->fingerprint) < 0;
    bad |= attr_str(f, "config", s->config ? s->config : "") < 0;
    bad |= attr_str(f, "slm_version", SLM_VERSION) < 0;
    {
        hsize_t four = 4;
        hid_t sp = H5Screate_simple(1, &four, NULL);
        hid_t d = H5Dcreate2(f, "rng", H5T_STD_U64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        bad |= d < 0 || H5Dwrite(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->rng.s) < 0;
        if (d >= 0) H5Dclose(d);
        H5Sclose(sp);
    }
    const char *groups[3] = {"params", "adam_m", "adam_v"};
    for (int gi = 0; gi < (opt ? 3 : 1) && !bad; gi++) {
        hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
        H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
        hid_t g = H5Gcreate2(f, groups[gi], H5P_DEFAULT, gcpl, H5P_DEFAULT);
        H5Pclose(gcpl);
        if (g < 0) {
            bad = 1;
            break;
        }
        for (int64_t i = 0; i < params->n && !bad; i++) {
            const slm_param *P = &params->v[i];
            const float *src = gi == 0 ? P->data : gi == 1 ? opt->m[i] : opt->v[i];
            bad |= write_f32(g, P->name, src, P->n_dims, P->ne) < 0;
        }
        H5Gclose(g);
    }
    if (H5Fclose(f) < 0) bad = 1;
    if (bad) {
        slm_log_error("cannot write checkpoint '%s': %s", tmp, slm_h5_reason(why, sizeof why));
        unlink(tmp);
        free(tmp);
        return SLM_ERR_IO;
    }
    slm_status st = slm_commit_tmp(tmp, path);
    free(tmp);
    return st;
}

/* Status of the last failed open_checked (SLM_ERR_IO: a read(2) failed). */
static _Thread_local slm_status open_status;

static hid_t open_checked(const char *path) {
    slm_h5_quiet();
    open_status = SLM_ERR_FORMAT;
    if (H5Fis_hdf5(path) <= 0) {
        if ((open_status = slm_h5_read_status(path)) == SLM_ERR_FORMAT)
            slm_log_error("%s: not a readable HDF5 file (truncated or corrupt?)", path);
        return -1;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        if ((open_status = slm_h5_read_status(path)) == SLM_ERR_FORMAT)
            slm_log_error("%s: cannot open as HDF5 (truncated or corrupt?)", path);
        return -1;
    }
    char *fmt = read_attr_str(f, "format");
    int64_t ver = 0;
    bool ok = fmt && !strcmp(fmt, SLM_CKPT_FORMAT);
    if (!ok)
        slm_log_error("%s: attribute format is '%s', not '%s'", path, fmt ? fmt : "(missing)",
                      SLM_CKPT_FORMAT);
    else if (read_attr_i64(f, "format_version", &ver) < 0 || ver != SLM_CKPT_VERSION) {
        slm_log_error("%s: format_version %lld, this slm reads %d", path, (long long)ver,
                      SLM_CKPT_VERSION);
        ok = false;
    }
    free(fmt);
    if (!ok) {
        H5Fclose(f);
        return -1;
    }
    return f;
}

slm_status slm_ckpt_read_state(const char *path, slm_ckpt_state *s) {
    memset(s, 0, sizeof *s);
    hid_t f = open_checked(path);
    if (f < 0) return open_status;
    slm_status st = SLM_OK;
    char *mode = NULL, *fp = NULL;
    if (read_attr_i64(f, "step", &s->step) < 0 ||
        read_attr_i64(f, "tokens_seen", &s->tokens_seen) < 0 ||
        read_attr_i64(f, "epoch", &s->epoch) < 0 || read_attr_i64(f, "cursor", &s->cursor) < 0 ||
        !(mode = read_attr_str(f, "mode")) || !(fp = read_attr_str(f, "base_fingerprint")) ||
        !(s->config = read_attr_str(f, "config"))) {
        if ((st = slm_h5_read_status(path)) == SLM_ERR_FORMAT)
            slm_log_error("%s: missing or unreadable checkpoint attributes", path);
    } else {
        snprintf(s->mode, sizeof s->mode, "%s", mode);
        if (H5Aexists(f, "elapsed") > 0) {
            hid_t a = H5Aopen(f, "elapsed", H5P_DEFAULT);
            if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &s->elapsed) < 0) s->elapsed = 0;
            if (a >= 0) H5Aclose(a);
        }
        snprintf(s->fingerprint, sizeof s->fingerprint, "%s", fp);
        hid_t d = H5Dopen2(f, "rng", H5P_DEFAULT);
        /* exactly 4 values: a longer /rng used to be read over the rest of *s
         * (found by fuzz_h5: a 16-element /rng overwrote s->config) */
        hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
        hssize_t npts = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        if (sp >= 0) H5Sclose(sp);
        if (d < 0 || npts != 4 ||
            H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->rng.s) < 0) {
            if ((st = slm_h5_read_status(path)) == SLM_ERR_FORMAT)
                slm_log_error("%s: cannot read /rng (4 uint64 expected)", path);
        }
        if (d >= 0) H5Dclose(d);
    }
    free(mode);
    free(fp);
    H5Fclose(f);
    if (st != SLM_OK) slm_ckpt_state_free(s);
    return st;
}

slm_status slm_ckpt_read_tensors(const char *path, const slm_param_list *params,
                                 slm_adamw *opt) {
    hid_t f = open_checked(path);
    if (f < 0) return open_status;
    slm_status st = SLM_OK;
    int64_t n_tensors = -1, adam_t = 0;
    read_attr_i64(f, "n_tensors", &n_tensors);
    if (n_tensors != params->n) {
        slm_log_error("%s: holds %lld trainable tensors but the model has %lld "
                      "(different mode, LoRA targets or layer count?)",
                      path, (long long)n_tensors, (long long)params->n);
        H5Fclose(f);
        return SLM_ERR_USAGE;
    }
    const char *groups[3] = {"params", "adam_m", "adam_v"};
    for (int gi = 0; gi < (opt ? 3 : 1) && st == SLM_OK; gi++) {
        hid_t g = H5Gopen2(f, groups[gi], H5P_DEFAULT);
        if (g < 0) {
            slm_log_error("%s: group /%s missing", path, groups[gi]);
            st = SLM_ERR_FORMAT;
            break;
        }
        for (int64_t i = 0; i < params->n && st == SLM_OK; i++) {
            const slm_param *P = &params->v[i];
            float *dst = gi == 0 ? P->data : gi == 1 ? opt->m[i] : opt->v[i];
            st = read_f32(g, path, groups[gi], P->name, dst, P->n_dims, P->ne);
        }
        H5Gclose(g);
    }
    if (st == SLM_OK && opt) {
        if (read_attr_i64(f, "adam_t", &adam_t) < 0 || adam_t < 0) {
            slm_log_error("%s: bad adam_t", path);
            st = SLM_ERR_FORMAT;
        }
        opt->t = adam_t;
    }
    H5Fclose(f);
    return st;
}

slm_status slm_ckpt_read_param(const char *path, const char *name, float **data,
                               int64_t ne[2], int *n_dims) {
    *data = NULL;
    hid_t f = open_checked(path);
    if (f < 0) return open_status;
    slm_status st = SLM_ERR_FORMAT;
    hid_t g = H5Gopen2(f, "params", H5P_DEFAULT);
    hid_t d = g >= 0 && H5Lexists(g, name, H5P_DEFAULT) > 0 ? H5Dopen2(g, name, H5P_DEFAULT) : -1;
    if (d >= 0) {
        hid_t sp = H5Dget_space(d);
        hsize_t dims[2] = {1, 1};
        int rank = H5Sget_simple_extent_ndims(sp);
        if (rank == 1 || rank == 2) {
            H5Sget_simple_extent_dims(sp, dims, NULL);
            *n_dims = rank;
            ne[0] = (int64_t)(rank == 2 ? dims[1] : dims[0]);
            ne[1] = rank == 2 ? (int64_t)dims[0] : 1;
            size_t bytes;
            if (slm_mul_size((size_t)ne[0] * (size_t)ne[1], sizeof(float), &bytes) &&
                (*data = slm_alloc(bytes)) &&
                H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) >= 0)
                st = SLM_OK;
        }
        H5Sclose(sp);
        H5Dclose(d);
    }
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    if (st != SLM_OK && slm_h5_read_status(path) == SLM_ERR_IO) {
        st = SLM_ERR_IO;
        free(*data);
        *data = NULL;
    } else if (st != SLM_OK) {
        slm_log_error("%s: cannot read tensor /params/%s", path, name);
        free(*data);
        *data = NULL;
    }
    return st;
}

typedef struct {
    char **names;
    int64_t n, cap;
    bool oom;
} name_acc;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    (void)g;
    (void)info;
    name_acc *a = op;
    if (a->n == a->cap) {
        int64_t cap = a->cap ? 2 * a->cap : 64;
        char **nv = realloc(a->names, (size_t)cap * sizeof *nv);
        if (!nv) {
            a->oom = true;
            return -1;
        }
        a->names = nv;
        a->cap = cap;
    }
    if (!(a->names[a->n] = slm_strdup(name))) {
        a->oom = true;
        return -1;
    }
    a->n++;
    return 0;
}

slm_status slm_ckpt_list_params(const char *path, char ***names, int64_t *n) {
    *names = NULL;
    *n = 0;
    hid_t f = open_checked(path);
    if (f < 0) return open_status;
    name_acc a = {0};
    hid_t g = H5Gopen2(f, "params", H5P_DEFAULT);
    herr_t rc = g < 0 ? -1 : H5Literate(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, collect_name, &a);
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    if (rc < 0) {
        slm_ckpt_names_free(a.names, a.n);
        if (a.oom) return SLM_ERR_NOMEM;
        slm_log_error("%s: cannot list /params", path);
        return SLM_ERR_FORMAT;
    }
    *names = a.names;
    *n = a.n;
    return SLM_OK;
}

void slm_ckpt_names_free(char **names, int64_t n) {
    for (int64_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

char *slm_ckpt_path(const char *dir, int64_t step) {
    size_t n = strlen(dir) + 48;
    char *p = slm_alloc(n);
    /* dir && : GCC's sanitizer builds otherwise warn that dir may be NULL */
    if (p && dir) snprintf(p, n, "%s/ckpt-%lld.h5", dir, (long long)step);
    return p;
}

static int cmp_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

slm_status slm_ckpt_list(const char *dir, int64_t **steps, int64_t *n) {
    *steps = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return SLM_OK;
        slm_log_error("cannot list '%s': %s", dir, strerror(errno));
        return SLM_ERR_IO;
    }
    int64_t cap = 0;
    struct dirent *e;
    slm_status st = SLM_OK;
    while ((e = readdir(d))) {
        long long step;
        int used = 0;
        if (sscanf(e->d_name, "ckpt-%lld.h5%n", &step, &used) != 1 || e->d_name[used] ||
            step < 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *nv = realloc(*steps, (size_t)cap * sizeof *nv);
            if (!nv) {
                st = SLM_ERR_NOMEM;
                break;
            }
            *steps = nv;
        }
        (*steps)[(*n)++] = step;
    }
    closedir(d);
    if (st == SLM_OK && *n) qsort(*steps, (size_t)*n, sizeof **steps, cmp_desc);
    return st;
}

int64_t slm_ckpt_remove_stale_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long long step, pid;
        int used = 0;
        if (sscanf(e->d_name, "ckpt-%lld.h5.tmp.%lld%n", &step, &pid, &used) != 2 || e->d_name[used])
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) n++;
    }
    closedir(d);
    return n;
}

slm_status slm_ckpt_save(const char *dir, int64_t keep, const slm_ckpt_state *s,
                         const slm_param_list *params, const slm_adamw *opt) {
    char *path = slm_ckpt_path(dir, s->step);
    if (!path) return SLM_ERR_NOMEM;
    slm_status st = slm_ckpt_write(path, s, params, opt);
    free(path);
    if (st != SLM_OK) return st;
    int64_t *steps = NULL, n = 0;
    st = slm_ckpt_list(dir, &steps, &n);
    for (int64_t i = keep; st == SLM_OK && i < n; i++) {
        char *old = slm_ckpt_path(dir, steps[i]);
        if (old && unlink(old) != 0)
            slm_log_warn("cannot delete old checkpoint '%s': %s", old, strerror(errno));
        free(old);
    }
    free(steps);
    return st;
}

slm_status slm_ckpt_load_latest(const char *dir, const slm_param_list *params, slm_adamw *opt,
                                slm_ckpt_check_fn check, void *ctx, slm_ckpt_state *s,
                                bool *found) {
    *found = false;
    memset(s, 0, sizeof *s);
    int64_t *steps = NULL, n = 0;
    slm_status st = slm_ckpt_list(dir, &steps, &n);
    if (st != SLM_OK || n == 0) {
        free(steps);
        return st;
    }
    st = SLM_ERR_FORMAT;
    for (int64_t i = 0; i < n; i++) {
        char *path = slm_ckpt_path(dir, steps[i]);
        if (!path) {
            st = SLM_ERR_NOMEM;
            break;
        }
        slm_status r = slm_ckpt_read_state(path, s);
        if (r == SLM_OK && check) {
            r = check(ctx, s, path);
            if (r != SLM_OK) {
                slm_ckpt_state_free(s);
                free(path);
                st = r;
                break;
            }
        }
        if (r == SLM_OK) r = slm_ckpt_read_tensors(path, params, opt);
        if (r == SLM_OK) {
            *found = true;
            st = SLM_OK;
            free(path);
            break;
        }
        slm_ckpt_state_free(s);
        if (r == SLM_ERR_USAGE || r == SLM_ERR_IO) { /* shapes do not match, or the disk failed
                                                        * (not the file): refused, not skipped */
            free(path);
            st = r;
            break;
        }
        slm_log_warn("skipping checkpoint '%s': it does not read back completely%s", path,
                     i + 1 < n ? "; trying the previous one" : "");
        free(path);
    }
    if (st == SLM_ERR_FORMAT)
        slm_log_error("%s: holds checkpoints but none is readable; move them away to start over",
                      dir);
    free(steps);
    return st;
}

slm_status slm_file_sha256(const char *path, char out[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        slm_log_error("cannot open '%s': %s", path, strerror(errno));
        return SLM_ERR_IO;
    }
    enum { BUF = 1 << 20 };
    unsigned char *buf = slm_alloc(BUF);
    if (!buf) {
        fclose(f);
        return SLM_ERR_NOMEM;
    }
    slm_sha256 h;
    slm_sha256_init(&h);
    size_t k;
    while ((k = fread(buf, 1, BUF, f)) > 0) slm_sha256_update(&h, buf, k);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    free(buf);
    if (err) {
        slm_log_error("cannot read '%s': %s", path, strerror(err));
        return SLM_ERR_IO;
    }
    uint8_t d[32];
    slm_sha256_final(&h, d);
    slm_sha256_hex(d, out);
    return SLM_OK;
}
