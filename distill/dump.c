/* distill/dump.c — writer and validating reader of the HDF5 logit dump
 * (layout in dump.h and docs/distillation.md). */
#include "distill/dump.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/h5err.h"
#include "distill/h5util.h"

enum { DS_TOKENS, DS_TARGETS, DS_MASK, DS_IDS, DS_LOGPROBS, DS_COUNTS, DS_COUNT };
static const char *const ds_names[DS_COUNT] = {"tokens",   "targets",       "loss_mask",
                                               "topk_ids", "topk_logprobs", "sample_counts"};

slm_dump_info slm_dump_default_info(void) {
    slm_dump_info i;
    memset(&i, 0, sizeof i);
    i.mode = SLM_DUMP_TOPK;
    i.deflate = 4;
    i.shuffle = true;
    i.f16 = true;
    snprintf(i.teacher, sizeof i.teacher, "unknown");
    return i;
}

const char *slm_dump_mode_name(slm_dump_mode m) {
    return m == SLM_DUMP_SAMPLE ? "sample" : m == SLM_DUMP_TOPK ? "topk" : "?";
}

static bool has_ds(slm_dump_mode m, int i) { return i != DS_COUNTS || m == SLM_DUMP_SAMPLE; }

/* The narrowest stored type of the id datasets: uint16 holds every id of a
 * vocabulary of <= 65536 tokens (sample mode keeps int32 for its -1 slots;
 * /targets keeps int32 for its -1). */
static bool narrow_tokens(const slm_dump_info *in) { return !in->ids32 && in->vocab_size <= 65536; }
static bool narrow_ids(const slm_dump_info *in) {
    return narrow_tokens(in) && in->mode == SLM_DUMP_TOPK;
}
static int64_t written_version(const slm_dump_info *in) {
    return narrow_tokens(in) ? SLM_DUMP_FORMAT_VERSION : 1;
}

/* ---------------------------------------------------------------- writer */

struct slm_dump_writer {
    char *path, *partial;
    int lock_fd; /* "<path>.lock": one writer per output (slm_lock_path) */
    slm_dump_info info;
    hid_t file, ds[DS_COUNT], f16;
    int64_t done;
    uint16_t *half; /* conversion buffer (rows of T*K) */
    int64_t half_cap;
};

static char *partial_name(const char *path) {
    size_t n = strlen(path) + 16;
    char *p = slm_alloc(n);
    if (p) snprintf(p, n, "%s.partial", path);
    return p;
}

static slm_status write_attrs(hid_t f, const slm_dump_info *in) {
    slm_status st = slm_h5_set_str(f, "format", SLM_DUMP_FORMAT);
    if (!st) st = slm_h5_set_i64(f, "format_version", written_version(in));
    if (!st) st = slm_h5_set_i64(f, "vocab_size", in->vocab_size);
    if (!st) st = slm_h5_set_i64(f, "k", in->k);
    if (!st) st = slm_h5_set_i64(f, "seq_len", in->seq_len);
    if (!st) st = slm_h5_set_i64(f, "sample_n", in->sample_n);
    if (!st) st = slm_h5_set_str(f, "mode", slm_dump_mode_name(in->mode));
    if (!st) st = slm_h5_set_str(f, "tokenizer_fingerprint", in->tokenizer_fp);
    if (!st) st = slm_h5_set_str(f, "teacher", in->teacher);
    if (!st) st = slm_h5_set_str(f, "teacher_fingerprint", in->teacher_fp);
    if (!st) st = slm_h5_set_i64(f, "done", 0);
    return st;
}

/* Reads the attributes shared by reader and resuming writer into *in. */
static slm_status read_attrs(hid_t f, const char *path, slm_dump_info *in, int64_t *done) {
    char buf[256];
    int64_t ver = 0;
    slm_status st = slm_h5_get_str(f, path, "format", buf, sizeof buf);
    if (st) return st;
    if (strcmp(buf, SLM_DUMP_FORMAT) != 0) {
        slm_log_error("%s: attribute format is '%s', expected '%s' (not a logit dump)", path,
                      buf, SLM_DUMP_FORMAT);
        return SLM_ERR_FORMAT;
    }
    if ((st = slm_h5_get_i64(f, path, "format_version", &ver))) return st;
    if (ver < SLM_DUMP_FORMAT_VERSION_MIN || ver > SLM_DUMP_FORMAT_VERSION) {
        slm_log_error("%s: format_version %lld, this slm reads versions %d to %d", path,
                      (long long)ver, SLM_DUMP_FORMAT_VERSION_MIN, SLM_DUMP_FORMAT_VERSION);
        return SLM_ERR_FORMAT;
    }
    in->version = ver;
    if ((st = slm_h5_get_i64(f, path, "vocab_size", &in->vocab_size)) ||
        (st = slm_h5_get_i64(f, path, "k", &in->k)) ||
        (st = slm_h5_get_i64(f, path, "seq_len", &in->seq_len)) ||
        (st = slm_h5_get_str(f, path, "mode", buf, sizeof buf)))
        return st;
    if (!strcmp(buf, "topk")) in->mode = SLM_DUMP_TOPK;
    else if (!strcmp(buf, "sample")) in->mode = SLM_DUMP_SAMPLE;
    else {
        slm_log_error("%s: attribute mode is '%s', expected 'topk' or 'sample'", path, buf);
        return SLM_ERR_FORMAT;
    }
    in->sample_n = 0;
    if (slm_h5_has_attr(f, "sample_n") && (st = slm_h5_get_i64(f, path, "sample_n", &in->sample_n)))
        return st;
    if ((st = slm_h5_get_str(f, path, "tokenizer_fingerprint", in->tokenizer_fp,
                             sizeof in->tokenizer_fp)))
        return st;
    snprintf(in->teacher, sizeof in->teacher, "unknown");
    in->teacher_fp[0] = 0;
    if (slm_h5_has_attr(f, "teacher") &&
        (st = slm_h5_get_str(f, path, "teacher", in->teacher, sizeof in->teacher)))
        return st;
    if (slm_h5_has_attr(f, "teacher_fingerprint") &&
        (st = slm_h5_get_str(f, path, "teacher_fingerprint", in->teacher_fp,
                             sizeof in->teacher_fp)))
        return st;
    if (in->vocab_size < 1 || in->vocab_size > (1 << 30)) {
        slm_log_error("%s: vocab_size %lld out of range [1, 2^30]", path, (long long)in->vocab_size);
        return SLM_ERR_FORMAT;
    }
    if (in->k < 1 || in->k > in->vocab_size) {
        slm_log_error("%s: k = %lld must be in [1, vocab_size = %lld]", path, (long long)in->k,
                      (long long)in->vocab_size);
        return SLM_ERR_FORMAT;
    }
    if (in->seq_len < 1 || in->seq_len > (1 << 24)) {
        slm_log_error("%s: seq_len %lld out of range", path, (long long)in->seq_len);
        return SLM_ERR_FORMAT;
    }
    if (in->mode == SLM_DUMP_SAMPLE && (in->sample_n < 1 || in->sample_n > 65535)) {
        slm_log_error("%s: sample mode needs sample_n in [1, 65535], found %lld", path,
                      (long long)in->sample_n);
        return SLM_ERR_FORMAT;
    }
    *done = -1;
    if (slm_h5_has_attr(f, "done") && (st = slm_h5_get_i64(f, path, "done", done))) return st;
    return SLM_OK;
}

static void writer_free(slm_dump_writer *w) {
    if (!w) return;
    for (int i = 0; i < DS_COUNT; i++)
        if (w->ds[i] > 0) H5Dclose(w->ds[i]);
    if (w->f16 > 0) H5Tclose(w->f16);
    if (w->file > 0) {
        H5Fflush(w->file, H5F_SCOPE_GLOBAL);
        H5Fclose(w->file);
    }
    if (w->lock_fd >= 0 && w->path) slm_unlock_path(w->path, w->lock_fd);
    free(w->path);
    free(w->partial);
    free(w->half);
    free(w);
}

static slm_status check_info(const slm_dump_info *in) {
    if (in->vocab_size < 1 || in->k < 1 || in->k > in->vocab_size || in->seq_len < 1 ||
        (in->mode == SLM_DUMP_SAMPLE && (in->sample_n < 1 || in->sample_n > 65535)) ||
        in->deflate < 0 || in->deflate > 9) {
        slm_log_error("dump writer: bad parameters (V=%lld, k=%lld, T=%lld, sample_n=%lld, "
                      "deflate=%d): need 1 <= k <= V, T >= 1, 1 <= sample_n <= 65535, deflate 0..9",
                      (long long)in->vocab_size, (long long)in->k, (long long)in->seq_len,
                      (long long)in->sample_n, in->deflate);
        return SLM_ERR_USAGE;
    }
    return SLM_OK;
}

static slm_status open_partial(slm_dump_writer *w) {
    slm_dump_info got;
    memset(&got, 0, sizeof got);
    int64_t done = 0;
    slm_status st = read_attrs(w->file, w->partial, &got, &done);
    if (st) return st;
    const slm_dump_info *in = &w->info;
    const char *diff = got.vocab_size != in->vocab_size ? "vocab_size"
                       : got.k != in->k                 ? "k"
                       : got.seq_len != in->seq_len     ? "seq_len"
                       : got.mode != in->mode           ? "mode"
                       : got.sample_n != in->sample_n   ? "sample_n"
                       : strcmp(got.tokenizer_fp, in->tokenizer_fp) ? "tokenizer_fingerprint"
                       : strcmp(got.teacher_fp, in->teacher_fp)     ? "teacher_fingerprint"
                                                                    : NULL;
    if (diff) {
        slm_log_error("%s: cannot resume, attribute '%s' differs from this run; delete the "
                      "partial file to start over",
                      w->partial, diff);
        return SLM_ERR_USAGE;
    }
    for (int i = 0; i < DS_COUNT; i++) {
        if (!has_ds(in->mode, i)) continue;
        w->ds[i] = H5Dopen2(w->file, ds_names[i], H5P_DEFAULT);
        if (w->ds[i] < 0) {
            slm_log_error("%s: dataset '/%s' missing, cannot resume", w->partial, ds_names[i]);
            return SLM_ERR_FORMAT;
        }
        if (i == DS_LOGPROBS) {
            hid_t t = H5Dget_type(w->ds[i]);
            bool half = H5Tget_size(t) == 2;
            H5Tclose(t);
            if (half != in->f16) {
                slm_log_error("%s: cannot resume, log-probs stored as %s, this run asks %s",
                              w->partial, half ? "f16" : "f32", in->f16 ? "f16" : "f32");
                return SLM_ERR_USAGE;
            }
        }
    }
    w->done = done < 0 ? 0 : done;
    return SLM_OK;
}

static slm_status create_new(slm_dump_writer *w) {
    const slm_dump_info *in = &w->info;
    hid_t fapl = (hid_t)slm_h5_write_fapl();
    w->file = H5Fcreate(w->partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (w->file < 0) {
        char why[192];
        slm_log_error("cannot create '%s': %s", w->partial, slm_h5_reason(why, sizeof why));
        return SLM_ERR_IO;
    }
    slm_status st = write_attrs(w->file, in);
    if (st) return st;
    int64_t seq[1] = {in->seq_len}, ent[2] = {in->seq_len, in->k};
    hid_t types[DS_COUNT] = {narrow_tokens(in) ? H5T_STD_U16LE : H5T_STD_I32LE,
                             H5T_STD_I32LE,
                             H5T_STD_U8LE,
                             narrow_ids(in) ? H5T_STD_U16LE : H5T_STD_I32LE,
                             in->f16 ? w->f16 : H5T_IEEE_F32LE,
                             H5T_STD_U16LE};
    for (int i = 0; i < DS_COUNT; i++) {
        if (!has_ds(in->mode, i)) continue;
        bool entries = i >= DS_IDS;
        w->ds[i] = slm_h5_create_rows(w->file, ds_names[i], types[i], entries ? 3 : 2,
                                      entries ? ent : seq, in->chunk_seqs, in->deflate,
                                      in->shuffle);
        if (w->ds[i] < 0) return SLM_ERR_IO;
    }
    w->done = 0;
    return H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0 ? SLM_ERR_IO : SLM_OK;
}

slm_status slm_dump_writer_open(const char *path, const slm_dump_info *info, bool resume,
                                slm_dump_writer **out) {
    *out = NULL;
    slm_status st = check_info(info);
    if (st) return st;
    slm_h5_quiet();
    slm_dump_writer *w = slm_calloc(1, sizeof *w);
    if (!w) return SLM_ERR_NOMEM;
    w->info = *info;
    w->lock_fd = -1;
    w->path = slm_strdup(path);
    w->partial = partial_name(path);
    w->f16 = slm_h5_f16_type();
    if (!w->path || !w->partial || w->f16 < 0) {
        writer_free(w);
        return SLM_ERR_NOMEM;
    }
    /* Two writers of one dump would truncate, resume or remove each other's
     * OUT.partial (found by tests/e2e/test_harden_outputs.sh: the second
     * run's failed create unlinked the first's partial); the second is
     * refused instead (exit 3). */
    if ((st = slm_lock_path(path, "slm dump-logits", &w->lock_fd)) != SLM_OK) {
        writer_free(w);
        return st;
    }
    if (resume && access(w->partial, F_OK) == 0) {
        hid_t fapl = (hid_t)slm_h5_write_fapl();
        w->file = H5Fopen(w->partial, H5F_ACC_RDWR, fapl);
        H5Pclose(fapl);
        if (w->file < 0) {
            slm_log_error("%s: exists but HDF5 cannot open it (interrupted mid-write?); delete "
                          "it to start the dump over",
                          w->partial);
            st = SLM_ERR_FORMAT;
        } else {
            st = open_partial(w);
            if (!st) slm_log_info("%s: resuming after %lld sequences", w->partial, (long long)w->done);
        }
    } else {
        st = create_new(w);
        if (st) { /* a partial without its header cannot be resumed: remove it */
            if (w->file >= 0) {
                char why[192];
                slm_log_error("%s: cannot write the new dump's header: %s", w->partial,
                              slm_h5_reason(why, sizeof why));
            }
            char *partial = slm_strdup(w->partial), *out_path = slm_strdup(w->path);
            int lock_fd = w->lock_fd; /* kept until the partial is gone */
            w->lock_fd = -1;
            writer_free(w); /* closes the file */
            if (partial) unlink(partial);
            if (out_path) slm_unlock_path(out_path, lock_fd);
            free(partial);
            free(out_path);
            return st;
        }
    }
    if (st) {
        writer_free(w);
        return st;
    }
    *out = w;
    return SLM_OK;
}

int64_t slm_dump_writer_done(const slm_dump_writer *w) { return w->done; }

slm_status slm_dump_writer_append(slm_dump_writer *w, const slm_dump_batch *b) {
    const slm_dump_info *in = &w->info;
    int64_t n = b->n, TK = in->seq_len * in->k;
    SLM_ASSERT(n >= 0 && b->tokens && b->targets && b->mask && b->ids && b->logprobs);
    SLM_ASSERT(in->mode != SLM_DUMP_SAMPLE || b->counts);
    if (n == 0) return SLM_OK;
    const void *lp = b->logprobs;
    hid_t lp_type = H5T_NATIVE_FLOAT;
    if (in->f16) {
        if (w->half_cap < n * TK) {
            free(w->half);
            w->half = slm_alloc((size_t)(n * TK) * sizeof(uint16_t));
            if (!w->half) return SLM_ERR_NOMEM;
            w->half_cap = n * TK;
        }
        /* log-probs below -65504 (probability ~0) would round to -inf in f16,
         * which the reader rightly refuses: clamp (found by fuzz_kld) */
        for (int64_t i = 0; i < n * TK; i++)
            w->half[i] = slm_f32_to_f16(b->logprobs[i] < -65504.f ? -65504.f : b->logprobs[i]);
        lp = w->half;
        lp_type = w->f16;
    }
    const void *bufs[DS_COUNT] = {b->tokens, b->targets, b->mask, b->ids, lp, b->counts};
    hid_t mtypes[DS_COUNT] = {H5T_NATIVE_INT32, H5T_NATIVE_INT32, H5T_NATIVE_UINT8,
                              H5T_NATIVE_INT32, lp_type,          H5T_NATIVE_UINT16};
    for (int i = 0; i < DS_COUNT; i++) {
        if (!has_ds(in->mode, i)) continue;
        if (slm_h5_write_rows(w->ds[i], mtypes[i], w->done, n, bufs[i]) != SLM_OK) {
            char why[192];
            slm_log_error("%s: cannot write /%s rows %lld..%lld: %s", w->partial, ds_names[i],
                          (long long)w->done, (long long)(w->done + n),
                          slm_h5_reason(why, sizeof why));
            return SLM_ERR_IO;
        }
    }
    /* data first, then the counter: a crash between the two only loses this chunk */
    if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0 ||
        slm_h5_set_i64(w->file, "done", w->done + n) != SLM_OK ||
        H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0) {
        char why[192];
        slm_log_error("%s: cannot flush: %s", w->partial, slm_h5_reason(why, sizeof why));
        return SLM_ERR_IO;
    }
    w->done += n;
    return SLM_OK;
}

slm_status slm_dump_writer_finish(slm_dump_writer *w) {
    /* rows past done (from an earlier interrupted run) are cut off */
    slm_status st = SLM_OK;
    for (int i = 0; i < DS_COUNT && !st; i++) {
        if (!has_ds(w->info.mode, i)) continue;
        int64_t d[3];
        slm_h5_shape(w->ds[i], d);
        hsize_t nd[3] = {(hsize_t)w->done, (hsize_t)d[1], (hsize_t)d[2]};
        if (d[0] != w->done && H5Dset_extent(w->ds[i], nd) < 0) st = SLM_ERR_IO;
    }
    char *partial = slm_strdup(w->partial), *path = slm_strdup(w->path);
    for (int i = 0; i < DS_COUNT; i++)
        if (w->ds[i] > 0) {
            if (H5Dclose(w->ds[i]) < 0) st = SLM_ERR_IO; /* cached chunks written here */
            w->ds[i] = 0;
        }
    if (w->file > 0 && H5Fclose(w->file) < 0) st = SLM_ERR_IO;
    w->file = 0;
    if (st == SLM_ERR_IO) {
        char why[192];
        slm_log_error("%s: cannot finish the dump: %s", w->partial, slm_h5_reason(why, sizeof why));
    }
    int lock_fd = w->lock_fd; /* held until the rename is done */
    w->lock_fd = -1;
    writer_free(w);
    if (!partial || !path) st = SLM_ERR_NOMEM;
    if (!st) st = slm_commit_tmp(partial, path);
    if (path) slm_unlock_path(path, lock_fd);
    free(partial);
    free(path);
    return st;
}

void slm_dump_writer_close(slm_dump_writer *w) { writer_free(w); }

/* ---------------------------------------------------------------- reader */

struct slm_dump {
    char *path;
    slm_dump_info info;
    hid_t file, ds[DS_COUNT];
    int64_t n; /* sequences readable */
    int lp_size; /* bytes per stored log-prob */
};

void slm_dump_close(slm_dump *d) {
    if (!d) return;
    for (int i = 0; i < DS_COUNT; i++)
        if (d->ds[i] > 0) H5Dclose(d->ds[i]);
    if (d->file > 0) H5Fclose(d->file);
    free(d->path);
    free(d);
}

slm_status slm_dump_open(const char *path, slm_dump **out) {
    *out = NULL;
    slm_h5_quiet();
    slm_dump *d = slm_calloc(1, sizeof *d);
    if (!d) return SLM_ERR_NOMEM;
    d->path = slm_strdup(path);
    if (!d->path) {
        slm_dump_close(d);
        return SLM_ERR_NOMEM;
    }
    if (access(path, R_OK) != 0) {
        slm_log_error("%s: cannot read the file", path);
        slm_dump_close(d);
        return SLM_ERR_IO;
    }
    d->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (d->file < 0) {
        slm_status rst = slm_h5_read_status(path);
        if (rst == SLM_ERR_FORMAT) slm_log_error("%s: not an HDF5 file (or damaged)", path);
        slm_dump_close(d);
        return rst;
    }
    int64_t done = -1;
    slm_status st = read_attrs(d->file, path, &d->info, &done);
    const slm_dump_info *in = &d->info;
    int64_t rows = -1;
    for (int i = 0; i < DS_COUNT && !st; i++) {
        bool required = i != DS_TARGETS && i != DS_MASK && has_ds(in->mode, i);
        if (H5Lexists(d->file, ds_names[i], H5P_DEFAULT) <= 0) {
            if (slm_h5_errno()) { /* a failed read(2), not a missing dataset */
                st = slm_h5_read_status(path);
                break;
            }
            if (required) {
                slm_log_error("%s: dataset '/%s' is missing", path, ds_names[i]);
                st = SLM_ERR_FORMAT;
            }
            continue;
        }
        if (!has_ds(in->mode, i)) continue;
        d->ds[i] = H5Dopen2(d->file, ds_names[i], H5P_DEFAULT);
        int64_t dims[3];
        int rank = d->ds[i] < 0 ? -1 : slm_h5_shape(d->ds[i], dims);
        int want_rank = i >= DS_IDS ? 3 : 2;
        hid_t t = d->ds[i] < 0 ? -1 : H5Dget_type(d->ds[i]);
        H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
        size_t tsize = t < 0 ? 0 : H5Tget_size(t);
        if (t >= 0) H5Tclose(t);
        bool type_ok = i == DS_LOGPROBS ? cls == H5T_FLOAT : cls == H5T_INTEGER;
        if (i == DS_LOGPROBS) d->lp_size = (int)tsize;
        if (i == DS_IDS) d->info.id_bytes = (int)tsize;
        if ((rank != want_rank || !type_ok) && slm_h5_errno()) {
            st = slm_h5_read_status(path);
            break;
        }
        if (rank != want_rank || dims[1] != in->seq_len || (want_rank == 3 && dims[2] != in->k) ||
            !type_ok) {
            slm_log_error("%s: dataset '/%s' has rank %d shape [%lld, %lld, %lld] (%s), expected "
                          "[seqs, %lld%s] of %s",
                          path, ds_names[i], rank, (long long)dims[0], (long long)dims[1],
                          (long long)(rank == 3 ? dims[2] : 0), type_ok ? "type ok" : "wrong type",
                          (long long)in->seq_len, want_rank == 3 ? ", k" : "",
                          i == DS_LOGPROBS ? "floats" : "integers");
            st = SLM_ERR_FORMAT;
            break;
        }
        if (rows < 0) rows = dims[0];
        if (dims[0] < rows) rows = dims[0];
    }
    if (!st) {
        d->n = done < 0 ? rows : done;
        if (d->n > rows || d->n < 0) {
            slm_log_error("%s: attribute done = %lld but the datasets hold %lld sequences", path,
                          (long long)done, (long long)rows);
            st = SLM_ERR_FORMAT;
        }
    }
    if (st == SLM_ERR_FORMAT) st = slm_h5_read_status(path); /* a failed read(2) underneath */
    if (st) {
        slm_dump_close(d);
        return st;
    }
    d->info.f16 = d->lp_size == 2;
    *out = d;
    return SLM_OK;
}

const slm_dump_info *slm_dump_get_info(const slm_dump *d) { return &d->info; }
const char *slm_dump_path(const slm_dump *d) { return d->path; }
int64_t slm_dump_n_seqs(const slm_dump *d) { return d->n; }

slm_status slm_dump_check_vocab(const slm_dump *d, int64_t n_vocab, const char *fp) {
    if (d->info.vocab_size != n_vocab) {
        slm_log_error("%s: dump made for a vocabulary of %lld tokens, the model has %lld; "
                      "teacher and student must share the vocabulary",
                      d->path, (long long)d->info.vocab_size, (long long)n_vocab);
        return SLM_ERR_FORMAT;
    }
    if (fp && fp[0] && strcmp(fp, d->info.tokenizer_fp) != 0) {
        slm_log_error("%s: tokenizer fingerprint %.16s... differs from the model's %.16s...; "
                      "the dump was made with another vocabulary",
                      d->path, d->info.tokenizer_fp, fp);
        return SLM_ERR_FORMAT;
    }
    return SLM_OK;
}

slm_status slm_dump_batch_alloc(const slm_dump_info *in, int64_t n, slm_dump_batch *b) {
    memset(b, 0, sizeof *b);
    size_t nt = (size_t)(n * in->seq_len), ne = nt * (size_t)in->k;
    b->n = n;
    b->tokens = slm_alloc(nt * sizeof(int32_t));
    b->targets = slm_alloc(nt * sizeof(int32_t));
    b->mask = slm_alloc(nt);
    b->ids = slm_alloc(ne * sizeof(int32_t));
    b->logprobs = slm_alloc(ne * sizeof(float));
    if (in->mode == SLM_DUMP_SAMPLE) b->counts = slm_alloc(ne * sizeof(uint16_t));
    if (!b->tokens || !b->targets || !b->mask || !b->ids || !b->logprobs ||
        (in->mode == SLM_DUMP_SAMPLE && !b->counts)) {
        slm_dump_batch_free(b);
        return SLM_ERR_NOMEM;
    }
    return SLM_OK;
}

void slm_dump_batch_free(slm_dump_batch *b) {
    free(b->tokens);
    free(b->targets);
    free(b->mask);
    free(b->ids);
    free(b->logprobs);
    free(b->counts);
    memset(b, 0, sizeof *b);
}

/* Content checks of one position; s is the absolute sequence index. */
/* seen (V) is all zero on entry and on return. */
static slm_status check_position(const slm_dump *d, int64_t s, int64_t t, const int32_t *ids,
                                 const float *lp, const uint16_t *cnt, uint8_t *seen) {
    slm_status st = SLM_OK;
    int64_t j = 0;
    const slm_dump_info *in = &d->info;
    double mass = 0;
    int64_t draws = 0;
    for (; j < in->k; j++) {
        bool unused = cnt && cnt[j] == 0;
        if (unused) {
            if (ids[j] != -1) {
                slm_log_error("%s: /topk_ids[%lld][%lld][%lld] = %d in an unused sample slot "
                              "(count 0), expected -1", d->path, (long long)s, (long long)t,
                              (long long)j, ids[j]);
                return SLM_ERR_FORMAT;
            }
            continue;
        }
        if (ids[j] < 0 || ids[j] >= in->vocab_size) {
            slm_log_error("%s: /topk_ids[%lld][%lld][%lld] = %d is out of range [0, %lld)",
                          d->path, (long long)s, (long long)t, (long long)j, ids[j],
                          (long long)in->vocab_size);
            st = SLM_ERR_FORMAT;
            break;
        }
        if (!isfinite(lp[j]) || lp[j] > SLM_DUMP_LOGPROB_TOL) {
            slm_log_error("%s: /topk_logprobs[%lld][%lld][%lld] = %g is not a finite log-prob "
                          "<= 0", d->path, (long long)s, (long long)t, (long long)j, lp[j]);
            st = SLM_ERR_FORMAT;
            break;
        }
        if (seen[ids[j]]) {
            slm_log_error("%s: /topk_ids[%lld][%lld] repeats id %d (entry %lld)", d->path,
                          (long long)s, (long long)t, ids[j], (long long)j);
            st = SLM_ERR_FORMAT;
            break;
        }
        seen[ids[j]] = 1;
        mass += exp((double)lp[j]);
        if (cnt) draws += cnt[j];
    }
    for (int64_t i = 0; i < j; i++) /* clear what was marked (ids[0..j) are in range) */
        if (!(cnt && cnt[i] == 0)) seen[ids[i]] = 0;
    if (st) return st;
    if (mass > 1.0 + SLM_DUMP_MASS_TOL) {
        slm_log_error("%s: /topk_logprobs[%lld][%lld] sum of probabilities is %.4f > 1: not a "
                      "log-softmax over the vocabulary", d->path, (long long)s, (long long)t, mass);
        return SLM_ERR_FORMAT;
    }
    if (cnt && draws != in->sample_n) {
        slm_log_error("%s: /sample_counts[%lld][%lld] sums to %lld, expected sample_n = %lld",
                      d->path, (long long)s, (long long)t, (long long)draws,
                      (long long)in->sample_n);
        return SLM_ERR_FORMAT;
    }
    return SLM_OK;
}

/* Reads tokens, targets (or derives them) and mask of [s0, s0 + b->n) and checks their range. */
static slm_status read_tokens(const slm_dump *d, int64_t s0, slm_dump_batch *b) {
    slm_h5_quiet();
    const slm_dump_info *in = &d->info;
    int64_t n = b->n, T = in->seq_len;
    if (s0 < 0 || n < 0 || s0 + n > d->n) {
        slm_log_error("%s: sequences [%lld, %lld) requested, the dump holds %lld", d->path,
                      (long long)s0, (long long)(s0 + n), (long long)d->n);
        return SLM_ERR_USAGE;
    }
    bool bad = slm_h5_read_rows(d->ds[DS_TOKENS], H5T_NATIVE_INT32, s0, n, b->tokens) != SLM_OK;
    if (!bad && d->ds[DS_TARGETS] > 0)
        bad = slm_h5_read_rows(d->ds[DS_TARGETS], H5T_NATIVE_INT32, s0, n, b->targets) != SLM_OK;
    else if (!bad)
        for (int64_t r = 0; r < n; r++)
            for (int64_t t = 0; t < T; t++)
                b->targets[r * T + t] = t + 1 < T ? b->tokens[r * T + t + 1] : -1;
    if (!bad && d->ds[DS_MASK] > 0)
        bad = slm_h5_read_rows(d->ds[DS_MASK], H5T_NATIVE_UINT8, s0, n, b->mask) != SLM_OK;
    else if (!bad)
        memset(b->mask, 1, (size_t)(n * T));
    if (bad && slm_h5_read_status(d->path) == SLM_ERR_IO) return SLM_ERR_IO;
    if (bad) {
        slm_log_error("%s: cannot read sequences [%lld, %lld) (damaged file?)", d->path,
                      (long long)s0, (long long)(s0 + n));
        return SLM_ERR_FORMAT;
    }
    for (int64_t i = 0; i < n * T; i++) {
        int64_t r = i / T, t = i % T;
        if (b->tokens[i] < 0 || b->tokens[i] >= in->vocab_size) {
            slm_log_error("%s: /tokens[%lld][%lld] = %d is out of range [0, %lld)", d->path,
                          (long long)(s0 + r), (long long)t, b->tokens[i], (long long)in->vocab_size);
            return SLM_ERR_FORMAT;
        }
        if (b->targets[i] < -1 || b->targets[i] >= in->vocab_size) {
            slm_log_error("%s: /targets[%lld][%lld] = %d is out of range [-1, %lld)", d->path,
                          (long long)(s0 + r), (long long)t, b->targets[i], (long long)in->vocab_size);
            return SLM_ERR_FORMAT;
        }
    }
    return SLM_OK;
}

slm_status slm_dump_read_tokens(const slm_dump *d, int64_t s0, slm_dump_batch *b) {
    return read_tokens(d, s0, b);
}

slm_status slm_dump_read(const slm_dump *d, int64_t s0, slm_dump_batch *b) {
    slm_h5_quiet();
    const slm_dump_info *in = &d->info;
    int64_t n = b->n, T = in->seq_len, K = in->k;
    slm_status st = read_tokens(d, s0, b);
    if (st) return st;
    bool bad = slm_h5_read_rows(d->ds[DS_IDS], H5T_NATIVE_INT32, s0, n, b->ids) != SLM_OK;
    if (!bad && in->mode == SLM_DUMP_SAMPLE)
        bad = slm_h5_read_rows(d->ds[DS_COUNTS], H5T_NATIVE_UINT16, s0, n, b->counts) != SLM_OK;
    if (!bad && d->lp_size == 2) {
        /* float16 bits are converted here, exactly (HDF5's soft conversion is slow) */
        hid_t h = slm_h5_f16_type();
        uint16_t *half = (uint16_t *)b->logprobs; /* converted back to front in place */
        bad = slm_h5_read_rows(d->ds[DS_LOGPROBS], h, s0, n, half) != SLM_OK;
        H5Tclose(h);
        for (int64_t i = n * T * K - 1; i >= 0 && !bad; i--) b->logprobs[i] = slm_f16_to_f32(half[i]);
    } else if (!bad) {
        bad = slm_h5_read_rows(d->ds[DS_LOGPROBS], H5T_NATIVE_FLOAT, s0, n, b->logprobs) != SLM_OK;
    }
    if (bad && slm_h5_read_status(d->path) == SLM_ERR_IO) return SLM_ERR_IO;
    if (bad) {
        slm_log_error("%s: cannot read the entries of sequences [%lld, %lld) (damaged file?)",
                      d->path, (long long)s0, (long long)(s0 + n));
        return SLM_ERR_FORMAT;
    }
    uint8_t *seen = slm_calloc((size_t)in->vocab_size, 1);
    if (!seen) return SLM_ERR_NOMEM;
    for (int64_t i = 0; i < n * T && !st; i++)
        st = check_position(d, s0 + i / T, i % T, b->ids + i * K, b->logprobs + i * K,
                            b->counts ? b->counts + i * K : NULL, seen);
    free(seen);
    return st;
}

slm_status slm_dump_check_tokens(const slm_dump *d, int64_t s, const int32_t *tokens,
                                 const char *dataset_name) {
    int64_t T = d->info.seq_len;
    int32_t *got = slm_alloc((size_t)T * sizeof(int32_t));
    if (!got) return SLM_ERR_NOMEM;
    slm_status st = SLM_OK;
    if (s < 0 || s >= d->n) {
        slm_log_error("%s: sequence %lld requested, the dump holds %lld (made for another "
                      "dataset?)", d->path, (long long)s, (long long)d->n);
        st = SLM_ERR_FORMAT;
    } else if (slm_h5_read_rows(d->ds[DS_TOKENS], H5T_NATIVE_INT32, s, 1, got)) {
        st = SLM_ERR_FORMAT;
    } else {
        for (int64_t t = 0; t < T; t++)
            if (got[t] != tokens[t]) {
                slm_log_error("%s: /tokens[%lld][%lld] = %d but %s has token %d there: the dump "
                              "was made from other data", d->path, (long long)s, (long long)t,
                              got[t], dataset_name, tokens[t]);
                st = SLM_ERR_FORMAT;
                break;
            }
    }
    free(got);
    return st;
}

slm_status slm_dump_validate_all(const slm_dump *d, double *mean_tail, double *bytes_per_pos) {
    const slm_dump_info *in = &d->info;
    int64_t chunk = 16;
    slm_dump_batch b;
    slm_status st = slm_dump_batch_alloc(in, chunk, &b);
    if (st) return st;
    double tail = 0;
    int64_t npos = 0;
    for (int64_t s = 0; s < d->n && !st; s += chunk) {
        b.n = s + chunk <= d->n ? chunk : d->n - s;
        st = slm_dump_read(d, s, &b);
        for (int64_t i = 0; !st && i < b.n * in->seq_len; i++, npos++) {
            double m = 0;
            for (int64_t j = 0; j < in->k; j++)
                if (b.ids[i * in->k + j] >= 0) m += exp((double)b.logprobs[i * in->k + j]);
            tail += m < 1 ? 1 - m : 0;
        }
    }
    slm_dump_batch_free(&b);
    if (mean_tail) *mean_tail = npos ? tail / (double)npos : 0;
    if (bytes_per_pos) {
        hsize_t bytes = 0;
        for (int i = 0; i < DS_COUNT; i++)
            if (d->ds[i] > 0) bytes += H5Dget_storage_size(d->ds[i]);
        *bytes_per_pos = npos ? (double)bytes / (double)npos : 0;
    }
    return st;
}
