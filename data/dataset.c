/* data/dataset.c — HDF5 token datasets: layout in data/dataset.h. */
#include "data/dataset.h"

#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/h5err.h"

#define CHUNK_ELEMS ((hsize_t)65536) /* tokens per chunk (256 KiB of int32) */
#define BUF_ELEMS ((int64_t)1 << 20)  /* tokens buffered before an HDF5 append */
#define DEFLATE_LEVEL 4

const char *slm_split_name(slm_split s) {
    SLM_ASSERT(s >= 0 && s < SLM_SPLIT_COUNT);
    return s == SLM_SPLIT_TRAIN ? "train" : "val";
}

slm_dataset_header slm_dataset_default_header(void) {
    slm_dataset_header h;
    memset(&h, 0, sizeof h);
    h.eos_id = -1;
    h.bos_id = -1;
    h.format_version = SLM_DATASET_FORMAT_VERSION;
    return h;
}

static void quiet_hdf5(void) { slm_h5_quiet(); }

/* ---- attributes ---- */

static slm_status attr_write_str(hid_t obj, const char *name, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a = -1;
    slm_status st = SLM_ERR_IO;
    if (t < 0 || s < 0) goto done;
    if (H5Tset_size(t, strlen(v) > 0 ? strlen(v) : 1) < 0) goto done;
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    H5Tset_cset(t, H5T_CSET_UTF8);
    a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, v) < 0) goto done;
    st = SLM_OK;
done:
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (st != SLM_OK) slm_log_error("dataset: cannot write attribute '%s'", name);
    return st;
}

static slm_status attr_write_i64(hid_t obj, const char *name, int64_t v) {
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = s >= 0 ? H5Acreate2(obj, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    slm_status st = (a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0) ? SLM_OK : SLM_ERR_IO;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    if (st != SLM_OK) slm_log_error("dataset: cannot write attribute '%s'", name);
    return st;
}

/* Reads a string attribute (fixed or variable length) into buf; false if
 * absent or not a string. */
static bool attr_read_str(hid_t obj, const char *name, char *buf, size_t cap) {
    if (H5Aexists(obj, name) <= 0) return false;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return false;
    hid_t ft = H5Aget_type(a);
    bool ok = false;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(ft));
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(buf, cap, "%s", s);
                ok = true;
                H5free_memory(s);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(ft);
            char *tmp = calloc(1, n + 1);
            hid_t mt = H5Tcopy(ft);
            if (tmp && H5Aread(a, mt, tmp) >= 0) {
                snprintf(buf, cap, "%s", tmp);
                ok = true;
            }
            H5Tclose(mt);
            free(tmp);
        }
    }
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    return ok;
}

static bool attr_read_i64(hid_t obj, const char *name, int64_t *v) {
    if (H5Aexists(obj, name) <= 0) return false;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return false;
    hid_t ft = H5Aget_type(a);
    bool ok = ft >= 0 && H5Tget_class(ft) == H5T_INTEGER &&
              H5Aread(a, H5T_NATIVE_INT64, v) >= 0;
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    return ok;
}

/* ---- reading ---- */

struct slm_dataset {
    char *path;
    hid_t file, tokens, mask;
    slm_dataset_header hdr;
    int64_t n_tokens, n_docs;
    int64_t *offsets; /* (n_docs + 1) */
};

/* 1-D dataset of an integer class; returns its length or -1. */
static int64_t dset_len_1d(hid_t d, size_t elem_size) {
    hid_t sp = H5Dget_space(d), t = H5Dget_type(d);
    int64_t n = -1;
    if (sp >= 0 && t >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
        H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == elem_size) {
        hsize_t dim;
        H5Sget_simple_extent_dims(sp, &dim, NULL);
        n = (int64_t)dim;
    }
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return n;
}

static slm_status read_header(hid_t f, const char *path, slm_dataset_header *h) {
    char fmt[64];
    *h = slm_dataset_default_header();
    if (!attr_read_str(f, "format", fmt, sizeof fmt)) {
        if (slm_h5_errno()) return slm_h5_read_status(path); /* EIO, not content */
        slm_log_error("%s: no 'format' attribute: not an slm dataset (make one with "
                      "'slm data prepare')", path);
        return SLM_ERR_FORMAT;
    }
    if (strcmp(fmt, SLM_DATASET_FORMAT)) {
        if (slm_h5_errno()) return slm_h5_read_status(path); /* EIO, not content */
        slm_log_error("%s: format is '%s', expected '%s'", path, fmt, SLM_DATASET_FORMAT);
        return SLM_ERR_FORMAT;
    }
    if (!attr_read_i64(f, "format_version", &h->format_version) || h->format_version < 1 ||
        h->format_version > SLM_DATASET_FORMAT_VERSION) {
        if (slm_h5_errno()) return slm_h5_read_status(path); /* EIO, not content */
        slm_log_error("%s: format_version %" PRId64 " not supported (this slm reads 1..%d)", path,
                      h->format_version, SLM_DATASET_FORMAT_VERSION);
        return SLM_ERR_FORMAT;
    }
    if (!attr_read_str(f, "tokenizer_fingerprint", h->fingerprint, sizeof h->fingerprint) ||
        strlen(h->fingerprint) != 64) {
        if (slm_h5_errno()) return slm_h5_read_status(path); /* EIO, not content */
        slm_log_error("%s: missing or malformed 'tokenizer_fingerprint' attribute (expected 64 "
                      "hex chars)", path);
        return SLM_ERR_FORMAT;
    }
    if (!attr_read_i64(f, "vocab_size", &h->vocab_size) || h->vocab_size <= 0) {
        if (slm_h5_errno()) return slm_h5_read_status(path); /* EIO, not content */
        slm_log_error("%s: missing or non-positive 'vocab_size' attribute", path);
        return SLM_ERR_FORMAT;
    }
    attr_read_i64(f, "eos_id", &h->eos_id);
    attr_read_i64(f, "bos_id", &h->bos_id);
    attr_read_str(f, "created", h->created, sizeof h->created);
    attr_read_str(f, "template", h->template_name, sizeof h->template_name);
    return SLM_OK;
}

slm_status slm_dataset_open(const char *path, const char *split, slm_dataset **out) {
    *out = NULL;
    if (strcmp(split, "train") && strcmp(split, "val")) {
        slm_log_error("slm_dataset_open: split '%s' is not 'train' or 'val'", split);
        return SLM_ERR_USAGE;
    }
    quiet_hdf5();
    if (access(path, R_OK) != 0) {
        slm_log_error("%s: cannot open dataset (no such file or not readable)", path);
        return SLM_ERR_IO;
    }
    if (H5Fis_hdf5(path) <= 0) {
        slm_status rst = slm_h5_read_status(path);
        if (rst == SLM_ERR_FORMAT)
            slm_log_error("%s: not an HDF5 file (make datasets with 'slm data prepare')", path);
        return rst;
    }
    slm_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return SLM_ERR_NOMEM;
    ds->file = ds->tokens = ds->mask = -1;
    ds->path = slm_strdup(path);
    slm_status st = SLM_ERR_FORMAT;
    hid_t g = -1, off = -1;
    ds->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (ds->file < 0) {
        if ((st = slm_h5_read_status(path)) == SLM_ERR_FORMAT)
            slm_log_error("%s: HDF5 cannot open the file", path);
        goto fail;
    }
    if ((st = read_header(ds->file, path, &ds->hdr)) != SLM_OK) goto fail;
    st = SLM_ERR_FORMAT;
    if (H5Lexists(ds->file, split, H5P_DEFAULT) <= 0 ||
        (g = H5Gopen2(ds->file, split, H5P_DEFAULT)) < 0) {
        if (slm_h5_errno()) goto fail; /* a failed read(2): reported at fail */
        slm_log_error("%s: no group '/%s'", path, split);
        goto fail;
    }
    const char *names[3] = {"tokens", "loss_mask", "doc_offsets"};
    for (int i = 0; i < 3; i++)
        if (H5Lexists(g, names[i], H5P_DEFAULT) <= 0) {
            if (slm_h5_errno()) goto fail; /* a failed read(2): reported at fail */
            slm_log_error("%s: missing dataset '/%s/%s'", path, split, names[i]);
            goto fail;
        }
    ds->tokens = H5Dopen2(g, "tokens", H5P_DEFAULT);
    ds->mask = H5Dopen2(g, "loss_mask", H5P_DEFAULT);
    off = H5Dopen2(g, "doc_offsets", H5P_DEFAULT);
    int64_t nt = ds->tokens >= 0 ? dset_len_1d(ds->tokens, 4) : -1;
    int64_t nm = ds->mask >= 0 ? dset_len_1d(ds->mask, 1) : -1;
    int64_t no = off >= 0 ? dset_len_1d(off, 8) : -1;
    if (nt < 0 || nm != nt || no < 1) {
        if (slm_h5_errno()) goto fail; /* a failed read(2): reported at fail */
        slm_log_error("%s: /%s datasets have wrong types or shapes (expected tokens int32 [n], "
                      "loss_mask uint8 [n], doc_offsets int64 [docs+1]; found n=%" PRId64
                      ", mask n=%" PRId64 ", offsets %" PRId64 ")",
                      path, split, nt, nm, no);
        goto fail;
    }
    ds->n_tokens = nt;
    ds->n_docs = no - 1;
    ds->offsets = malloc(sizeof(int64_t) * (size_t)no);
    if (!ds->offsets) {
        st = SLM_ERR_NOMEM;
        goto fail;
    }
    if (H5Dread(off, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->offsets) < 0) {
        if (slm_h5_errno()) goto fail; /* a failed read(2): reported at fail */
        slm_log_error("%s: cannot read /%s/doc_offsets", path, split);
        goto fail;
    }
    if (ds->offsets[0] != 0 || ds->offsets[no - 1] != nt) {
        slm_log_error("%s: /%s/doc_offsets must start at 0 and end at %" PRId64
                      " (found %" PRId64 " .. %" PRId64 ")",
                      path, split, nt, ds->offsets[0], ds->offsets[no - 1]);
        goto fail;
    }
    for (int64_t d = 0; d < ds->n_docs; d++)
        if (ds->offsets[d + 1] < ds->offsets[d]) {
            slm_log_error("%s: /%s/doc_offsets decreases at document %" PRId64, path, split, d);
            goto fail;
        }
    H5Dclose(off);
    H5Gclose(g);
    *out = ds;
    return SLM_OK;
fail:
    /* a content complaint caused by a failed read(2) is an I/O error */
    if (st == SLM_ERR_FORMAT) st = slm_h5_read_status(path);
    if (off >= 0) H5Dclose(off);
    if (g >= 0) H5Gclose(g);
    slm_dataset_close(ds);
    return st;
}

void slm_dataset_close(slm_dataset *ds) {
    if (!ds) return;
    if (ds->tokens >= 0) H5Dclose(ds->tokens);
    if (ds->mask >= 0) H5Dclose(ds->mask);
    if (ds->file >= 0) H5Fclose(ds->file);
    free(ds->offsets);
    free(ds->path);
    free(ds);
}

const slm_dataset_header *slm_dataset_header_of(const slm_dataset *ds) { return &ds->hdr; }
const char *slm_dataset_fingerprint(const slm_dataset *ds) { return ds->hdr.fingerprint; }
int64_t slm_dataset_vocab_size(const slm_dataset *ds) { return ds->hdr.vocab_size; }
int64_t slm_dataset_n_tokens(const slm_dataset *ds) { return ds->n_tokens; }
int64_t slm_dataset_n_docs(const slm_dataset *ds) { return ds->n_docs; }
const int64_t *slm_dataset_doc_offsets(const slm_dataset *ds) { return ds->offsets; }

static slm_status read_range(hid_t d, hid_t memtype, int64_t start, int64_t count, void *dst) {
    hid_t fs = H5Dget_space(d);
    hsize_t st0 = (hsize_t)start, cnt = (hsize_t)count;
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &st0, NULL, &cnt, NULL);
    if (e >= 0) e = H5Dread(d, memtype, ms, fs, H5P_DEFAULT, dst);
    H5Sclose(ms);
    H5Sclose(fs);
    return e >= 0 ? SLM_OK : SLM_ERR_FORMAT;
}

slm_status slm_dataset_read(slm_dataset *ds, int64_t start, int64_t count, int32_t *tokens,
                            uint8_t *mask) {
    if (start < 0 || count < 0 || start > ds->n_tokens || count > ds->n_tokens - start) {
        slm_log_error("%s: read of tokens [%" PRId64 ", %" PRId64 ") outside [0, %" PRId64 ")",
                      ds->path, start, start + count, ds->n_tokens);
        return SLM_ERR_USAGE;
    }
    if (count == 0) return SLM_OK;
    quiet_hdf5();
    if (read_range(ds->tokens, H5T_NATIVE_INT32, start, count, tokens) != SLM_OK ||
        (mask && read_range(ds->mask, H5T_NATIVE_UINT8, start, count, mask) != SLM_OK)) {
        if (slm_h5_read_status(ds->path) == SLM_ERR_IO) return SLM_ERR_IO;
        slm_log_error("%s: HDF5 read of tokens [%" PRId64 ", +%" PRId64 ") failed (file damaged?)",
                      ds->path, start, count);
        return SLM_ERR_FORMAT;
    }
    for (int64_t i = 0; i < count; i++)
        if (tokens[i] < 0 || tokens[i] >= ds->hdr.vocab_size) {
            slm_log_error("%s: token %" PRId32 " at offset %" PRId64 " outside [0, %" PRId64 ")",
                          ds->path, tokens[i], start + i, ds->hdr.vocab_size);
            return SLM_ERR_FORMAT;
        }
    if (mask)
        for (int64_t i = 0; i < count; i++)
            if (mask[i] > 1) {
                slm_log_error("%s: loss_mask %u at offset %" PRId64 " is not 0 or 1", ds->path,
                              mask[i], start + i);
                return SLM_ERR_FORMAT;
            }
    return SLM_OK;
}

slm_status slm_dataset_read_all(slm_dataset *ds, int32_t **tokens, uint8_t **mask, int64_t *n) {
    *tokens = NULL;
    if (mask) *mask = NULL;
    *n = ds->n_tokens;
    size_t cnt = (size_t)(ds->n_tokens > 0 ? ds->n_tokens : 1);
    int32_t *t = malloc(cnt * sizeof *t);
    uint8_t *m = mask ? malloc(cnt) : NULL;
    if (!t || (mask && !m)) {
        free(t);
        free(m);
        slm_log_error("%s: out of memory for %" PRId64 " tokens", ds->path, ds->n_tokens);
        return SLM_ERR_NOMEM;
    }
    slm_status st = slm_dataset_read(ds, 0, ds->n_tokens, t, m);
    if (st != SLM_OK) {
        free(t);
        free(m);
        return st;
    }
    *tokens = t;
    if (mask) *mask = m;
    return SLM_OK;
}

slm_status slm_dataset_check_fingerprint(const slm_dataset *ds, const char *fingerprint,
                                         const char *what) {
    if (!strcmp(ds->hdr.fingerprint, fingerprint)) return SLM_OK;
    slm_log_error("%s: dataset was tokenized with a different vocabulary than %s\n"
                  "  dataset tokenizer fingerprint: %s\n"
                  "  %s fingerprint: %s\n"
                  "  fix: re-run 'slm data prepare --vocab <the model's GGUF>' for this model",
                  ds->path, what ? what : "the model", ds->hdr.fingerprint,
                  what ? what : "model", fingerprint);
    return SLM_ERR_FORMAT;
}

/* ---- sources ---- */

void slm_dataset_sources_free(slm_dataset_source *src, int64_t n) {
    if (!src) return;
    for (int64_t i = 0; i < n; i++) free(src[i].path);
    free(src);
}

static slm_status read_str_column(hid_t g, const char *name, int64_t n, char **out) {
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return SLM_ERR_FORMAT;
    hid_t ft = H5Dget_type(d);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    bool is_vstr = H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0;
    H5Tclose(ft);
    hid_t sp = H5Dget_space(d);
    hsize_t dim = 0;
    bool ok = is_vstr && H5Sget_simple_extent_ndims(sp) == 1;
    if (ok) H5Sget_simple_extent_dims(sp, &dim, NULL);
    ok = ok && (int64_t)dim == n && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (!ok) memset(out, 0, sizeof(char *) * (size_t)n);
    H5Sclose(sp);
    H5Tclose(mt);
    H5Dclose(d);
    return ok ? SLM_OK : SLM_ERR_FORMAT;
}

slm_status slm_dataset_read_sources(const char *path, slm_dataset_source **src, int64_t *n) {
    *src = NULL;
    *n = 0;
    quiet_hdf5();
    if (H5Fis_hdf5(path) <= 0) {
        slm_status rst = slm_h5_read_status(path);
        if (rst == SLM_ERR_FORMAT) slm_log_error("%s: not an HDF5 file", path);
        return rst;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        if (slm_h5_read_status(path) == SLM_ERR_FORMAT) slm_log_error("%s: HDF5 cannot open the file", path);
        return SLM_ERR_IO;
    }
    slm_status st = SLM_OK;
    hid_t g = -1, d = -1;
    char **paths = NULL, **shas = NULL;
    int64_t *sizes = NULL, *docs = NULL;
    int64_t n_strs = 0; /* entries of paths/shas that may hold HDF5 strings */
    if (H5Lexists(f, "sources", H5P_DEFAULT) <= 0) goto done; /* no sources: empty list */
    st = SLM_ERR_FORMAT;
    g = H5Gopen2(f, "sources", H5P_DEFAULT);
    if (g < 0 || H5Lexists(g, "size", H5P_DEFAULT) <= 0) goto bad;
    d = H5Dopen2(g, "size", H5P_DEFAULT);
    int64_t cnt = dset_len_1d(d, 8);
    if (cnt < 0) goto bad;
    size_t c = (size_t)(cnt > 0 ? cnt : 1);
    paths = calloc(c, sizeof *paths);
    shas = calloc(c, sizeof *shas);
    sizes = calloc(c, sizeof *sizes);
    docs = calloc(c, sizeof *docs);
    if (!paths || !shas || !sizes || !docs) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    n_strs = cnt;
    if (cnt > 0 && H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, sizes) < 0) goto bad;
    H5Dclose(d);
    d = -1;
    if (H5Lexists(g, "docs", H5P_DEFAULT) > 0) {
        d = H5Dopen2(g, "docs", H5P_DEFAULT);
        if (dset_len_1d(d, 8) != cnt ||
            (cnt > 0 && H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, docs) < 0))
            goto bad;
    }
    if (cnt > 0 && (read_str_column(g, "path", cnt, paths) != SLM_OK ||
                    read_str_column(g, "sha256", cnt, shas) != SLM_OK))
        goto bad;
    slm_dataset_source *s = calloc(c, sizeof *s);
    if (!s) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    for (int64_t i = 0; i < cnt; i++) {
        s[i].path = slm_strdup(paths[i] ? paths[i] : "");
        s[i].size = sizes[i];
        s[i].docs = docs[i];
        snprintf(s[i].sha256, sizeof s[i].sha256, "%s", shas[i] ? shas[i] : "");
    }
    *src = s;
    *n = cnt;
    st = SLM_OK;
    goto done;
bad:
    slm_log_error("%s: /sources is malformed (expected path, size, sha256[, docs] of equal "
                  "length)", path);
done:
    /* also when /sources/path read but sha256 did not (found by fuzz_h5: a leak) */
    for (int64_t i = 0; paths && shas && i < n_strs; i++) {
        if (paths[i]) H5free_memory(paths[i]);
        if (shas[i]) H5free_memory(shas[i]);
    }
    free(paths);
    free(shas);
    free(sizes);
    free(docs);
    if (d >= 0) H5Dclose(d);
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    return st;
}

/* ---- writing ---- */

typedef struct {
    hid_t tokens, mask;   /* extendible datasets */
    int64_t n_written;    /* elements flushed to HDF5 */
    int32_t *buf_tok;     /* (BUF_ELEMS) */
    uint8_t *buf_mask;    /* (BUF_ELEMS) */
    int64_t n_buf;
    int64_t *offsets;     /* (n_docs + 1) */
    int64_t n_docs, cap_docs;
} split_writer;

struct slm_dataset_writer {
    char *path, *tmp;
    hid_t file;
    slm_dataset_header hdr;
    split_writer sp[SLM_SPLIT_COUNT];
    slm_dataset_source *src;
    int64_t n_src, cap_src;
};

static hid_t create_extendible(hid_t g, const char *name, hid_t type) {
    hsize_t dim = 0, maxdim = H5S_UNLIMITED, chunk = CHUNK_ELEMS;
    hid_t sp = H5Screate_simple(1, &dim, &maxdim);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 1, &chunk);
    H5Pset_deflate(pl, DEFLATE_LEVEL);
    hid_t d = H5Dcreate2(g, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Pclose(pl);
    H5Sclose(sp);
    return d;
}

/* Writes a fixed 1-D array (chunked + deflate when non-empty). */
static slm_status write_array(hid_t g, const char *name, hid_t ftype, hid_t mtype, int64_t n,
                              const void *data) {
    hsize_t dim = (hsize_t)n, chunk = (hsize_t)(n < (int64_t)CHUNK_ELEMS ? n : (int64_t)CHUNK_ELEMS);
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    if (n > 0) {
        H5Pset_chunk(pl, 1, &chunk);
        H5Pset_deflate(pl, DEFLATE_LEVEL);
    }
    hid_t d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    herr_t e = d < 0 ? -1 : (n > 0 ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
    /* the chunk is written at close: a failure there is a lost write */
    if (d >= 0 && H5Dclose(d) < 0) e = -1;
    H5Pclose(pl);
    H5Sclose(sp);
    return e >= 0 ? SLM_OK : SLM_ERR_IO;
}

static slm_status flush_split(slm_dataset_writer *w, split_writer *s) {
    if (s->n_buf == 0) return SLM_OK;
    hsize_t start = (hsize_t)s->n_written, cnt = (hsize_t)s->n_buf, newdim = start + cnt;
    hid_t ds[2] = {s->tokens, s->mask};
    hid_t mt[2] = {H5T_NATIVE_INT32, H5T_NATIVE_UINT8};
    const void *bufs[2] = {s->buf_tok, s->buf_mask};
    for (int i = 0; i < 2; i++) {
        if (H5Dset_extent(ds[i], &newdim) < 0) goto fail;
        hid_t fs = H5Dget_space(ds[i]);
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
        if (e >= 0) e = H5Dwrite(ds[i], mt[i], ms, fs, H5P_DEFAULT, bufs[i]);
        H5Sclose(ms);
        H5Sclose(fs);
        if (e < 0) goto fail;
    }
    s->n_written += s->n_buf;
    s->n_buf = 0;
    return SLM_OK;
fail:;
    char why[192];
    slm_log_error("%s: HDF5 write failed: %s", w->tmp, slm_h5_reason(why, sizeof why));
    return SLM_ERR_IO;
}

slm_status slm_dataset_writer_open(const char *path, const slm_dataset_header *hdr,
                                   slm_dataset_writer **out) {
    *out = NULL;
    quiet_hdf5();
    SLM_ASSERT(strlen(hdr->fingerprint) == 64 && hdr->vocab_size > 0);
    slm_dataset_writer *w = calloc(1, sizeof *w);
    if (!w) return SLM_ERR_NOMEM;
    w->file = -1;
    for (int i = 0; i < SLM_SPLIT_COUNT; i++) w->sp[i].tokens = w->sp[i].mask = -1;
    w->hdr = *hdr;
    w->hdr.format_version = SLM_DATASET_FORMAT_VERSION;
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(w->hdr.created, sizeof w->hdr.created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    w->path = slm_strdup(path);
    w->tmp = slm_tmp_path_for(path);
    if (!w->path || !w->tmp) {
        slm_dataset_writer_abort(w);
        return SLM_ERR_NOMEM;
    }
    hid_t fapl = (hid_t)slm_h5_write_fapl();
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (w->file < 0) {
        char why[192];
        slm_log_error("%s: cannot create: %s", w->tmp, slm_h5_reason(why, sizeof why));
        slm_dataset_writer_abort(w);
        return SLM_ERR_IO;
    }
    for (int i = 0; i < SLM_SPLIT_COUNT; i++) {
        split_writer *s = &w->sp[i];
        hid_t g = H5Gcreate2(w->file, slm_split_name((slm_split)i), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
        s->tokens = g >= 0 ? create_extendible(g, "tokens", H5T_STD_I32LE) : -1;
        s->mask = g >= 0 ? create_extendible(g, "loss_mask", H5T_STD_U8LE) : -1;
        if (g >= 0) H5Gclose(g);
        s->buf_tok = malloc(sizeof(int32_t) * BUF_ELEMS);
        s->buf_mask = malloc(BUF_ELEMS);
        s->cap_docs = 1024;
        s->offsets = malloc(sizeof(int64_t) * (size_t)s->cap_docs);
        if (s->tokens < 0 || s->mask < 0 || !s->buf_tok || !s->buf_mask || !s->offsets) {
            slm_log_error("%s: cannot create split '%s'", w->tmp, slm_split_name((slm_split)i));
            slm_dataset_writer_abort(w);
            return SLM_ERR_IO;
        }
        s->offsets[0] = 0;
    }
    *out = w;
    return SLM_OK;
}

slm_status slm_dataset_writer_add_doc(slm_dataset_writer *w, slm_split split,
                                      const int32_t *tokens, const uint8_t *mask, int64_t n) {
    SLM_ASSERT(split >= 0 && split < SLM_SPLIT_COUNT && n >= 0);
    split_writer *s = &w->sp[split];
    for (int64_t i = 0; i < n; i++)
        SLM_ASSERT(tokens[i] >= 0 && tokens[i] < w->hdr.vocab_size);
    if (s->n_docs + 2 > s->cap_docs) {
        int64_t nc = s->cap_docs * 2;
        int64_t *no = realloc(s->offsets, sizeof(int64_t) * (size_t)nc);
        if (!no) return SLM_ERR_NOMEM;
        s->offsets = no;
        s->cap_docs = nc;
    }
    for (int64_t i = 0; i < n;) {
        int64_t k = n - i < BUF_ELEMS - s->n_buf ? n - i : BUF_ELEMS - s->n_buf;
        memcpy(s->buf_tok + s->n_buf, tokens + i, sizeof(int32_t) * (size_t)k);
        if (mask) memcpy(s->buf_mask + s->n_buf, mask + i, (size_t)k);
        else memset(s->buf_mask + s->n_buf, 1, (size_t)k);
        s->n_buf += k;
        i += k;
        if (s->n_buf == BUF_ELEMS) {
            slm_status st = flush_split(w, s);
            if (st != SLM_OK) return st;
        }
    }
    s->offsets[s->n_docs + 1] = s->offsets[s->n_docs] + n;
    s->n_docs++;
    return SLM_OK;
}

slm_status slm_dataset_writer_add_source(slm_dataset_writer *w, const slm_dataset_source *src) {
    if (w->n_src == w->cap_src) {
        int64_t nc = w->cap_src ? w->cap_src * 2 : 16;
        slm_dataset_source *ns = realloc(w->src, sizeof *ns * (size_t)nc);
        if (!ns) return SLM_ERR_NOMEM;
        w->src = ns;
        w->cap_src = nc;
    }
    slm_dataset_source *d = &w->src[w->n_src];
    *d = *src;
    d->path = slm_strdup(src->path);
    if (!d->path) return SLM_ERR_NOMEM;
    w->n_src++;
    return SLM_OK;
}

static slm_status write_sources(slm_dataset_writer *w) {
    hid_t g = H5Gcreate2(w->file, "sources", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return SLM_ERR_IO;
    int64_t n = w->n_src;
    size_t c = (size_t)(n > 0 ? n : 1);
    const char **paths = calloc(c, sizeof *paths), **shas = calloc(c, sizeof *shas);
    int64_t *sizes = calloc(c, sizeof *sizes), *docs = calloc(c, sizeof *docs);
    slm_status st = SLM_ERR_NOMEM;
    if (!paths || !shas || !sizes || !docs) goto done;
    for (int64_t i = 0; i < n; i++) {
        paths[i] = w->src[i].path;
        shas[i] = w->src[i].sha256;
        sizes[i] = w->src[i].size;
        docs[i] = w->src[i].docs;
    }
    hid_t st_t = H5Tcopy(H5T_C_S1);
    H5Tset_size(st_t, H5T_VARIABLE);
    H5Tset_cset(st_t, H5T_CSET_UTF8);
    hsize_t dim = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    st = SLM_OK;
    const char *names[2] = {"path", "sha256"};
    const char **cols[2] = {paths, shas};
    for (int i = 0; i < 2 && st == SLM_OK; i++) {
        hid_t d = H5Dcreate2(g, names[i], st_t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (d < 0 || (n > 0 && H5Dwrite(d, st_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, cols[i]) < 0))
            st = SLM_ERR_IO;
        if (d >= 0 && H5Dclose(d) < 0) st = SLM_ERR_IO;
    }
    H5Sclose(sp);
    H5Tclose(st_t);
    if (st == SLM_OK) st = write_array(g, "size", H5T_STD_I64LE, H5T_NATIVE_INT64, n, sizes);
    if (st == SLM_OK) st = write_array(g, "docs", H5T_STD_I64LE, H5T_NATIVE_INT64, n, docs);
done:
    free(paths);
    free(shas);
    free(sizes);
    free(docs);
    H5Gclose(g);
    return st;
}

slm_status slm_dataset_writer_commit(slm_dataset_writer *w) {
    slm_status st = SLM_OK;
    for (int i = 0; i < SLM_SPLIT_COUNT && st == SLM_OK; i++) {
        split_writer *s = &w->sp[i];
        st = flush_split(w, s);
        if (st != SLM_OK) break;
        hid_t g = H5Gopen2(w->file, slm_split_name((slm_split)i), H5P_DEFAULT);
        st = write_array(g, "doc_offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, s->n_docs + 1,
                         s->offsets);
        H5Gclose(g);
    }
    const slm_dataset_header *h = &w->hdr;
    char creator[64];
    snprintf(creator, sizeof creator, "slm %s", SLM_VERSION);
    if (st == SLM_OK) st = attr_write_str(w->file, "format", SLM_DATASET_FORMAT);
    if (st == SLM_OK) st = attr_write_i64(w->file, "format_version", SLM_DATASET_FORMAT_VERSION);
    if (st == SLM_OK) st = attr_write_str(w->file, "tokenizer_fingerprint", h->fingerprint);
    if (st == SLM_OK) st = attr_write_i64(w->file, "vocab_size", h->vocab_size);
    if (st == SLM_OK) st = attr_write_i64(w->file, "eos_id", h->eos_id);
    if (st == SLM_OK) st = attr_write_i64(w->file, "bos_id", h->bos_id);
    if (st == SLM_OK) st = attr_write_str(w->file, "created", h->created);
    if (st == SLM_OK) st = attr_write_str(w->file, "creator", creator);
    if (st == SLM_OK) st = attr_write_str(w->file, "template", h->template_name);
    if (st == SLM_OK) st = write_sources(w);
    /* H5Dclose writes the chunks still cached: its failure is a lost write
     * (found by tests/e2e/test_harden_faults.sh: one EIO there used to give
     * exit 0 and a dataset with wrong offsets or masks) */
    for (int i = 0; i < SLM_SPLIT_COUNT; i++) {
        if (w->sp[i].tokens >= 0 && H5Dclose(w->sp[i].tokens) < 0 && st == SLM_OK) st = SLM_ERR_IO;
        if (w->sp[i].mask >= 0 && H5Dclose(w->sp[i].mask) < 0 && st == SLM_OK) st = SLM_ERR_IO;
        w->sp[i].tokens = w->sp[i].mask = -1;
    }
    if (H5Fclose(w->file) < 0 && st == SLM_OK) st = SLM_ERR_IO;
    w->file = -1;
    if (st != SLM_OK) {
        char why[192];
        slm_log_error("%s: writing the dataset failed (%s); %s left unchanged", w->tmp,
                      slm_h5_reason(why, sizeof why), w->path);
        slm_dataset_writer_abort(w);
        return st;
    }
    st = slm_commit_tmp(w->tmp, w->path);
    free(w->tmp);
    w->tmp = NULL; /* committed or unlinked by slm_commit_tmp */
    slm_dataset_writer_abort(w);
    return st;
}

void slm_dataset_writer_abort(slm_dataset_writer *w) {
    if (!w) return;
    for (int i = 0; i < SLM_SPLIT_COUNT; i++) {
        if (w->sp[i].tokens >= 0) H5Dclose(w->sp[i].tokens);
        if (w->sp[i].mask >= 0) H5Dclose(w->sp[i].mask);
        free(w->sp[i].buf_tok);
        free(w->sp[i].buf_mask);
        free(w->sp[i].offsets);
    }
    if (w->file >= 0) H5Fclose(w->file);
    if (w->tmp) unlink(w->tmp);
    for (int64_t i = 0; i < w->n_src; i++) free(w->src[i].path);
    free(w->src);
    free(w->tmp);
    free(w->path);
    free(w);
}
