/* cli/info_h5.c — `slm info FILE.h5`: datasets (format "slm.dataset") in
 * detail — documents, tokens, masked fraction per split, sources — and any
 * other HDF5 file generically: root attributes, then every group/dataset with
 * type, shape and attributes (checkpoints, logit dumps, ...). */
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/info.h"
#include "cli/opts.h"
#include "core/h5err.h"
#include "data/dataset.h"
#include "distill/dump.h"

#define READ_CHUNK ((int64_t)1 << 20)

/* String value of a scalar string attribute (fixed or variable length). */
static bool attr_str(hid_t a, char *buf, size_t cap) {
    hid_t t = H5Aget_type(a);
    bool ok = false;
    buf[0] = 0;
    if (H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(buf, cap, "%s", s);
                H5free_memory(s);
                ok = true;
            }
            H5Tclose(mt);
        } else {
            size_t sz = H5Tget_size(t);
            char *s = calloc(1, sz + 1);
            if (s && H5Aread(a, t, s) >= 0) {
                snprintf(buf, cap, "%s", s);
                ok = true;
            }
            free(s);
        }
    }
    H5Tclose(t);
    return ok;
}

static void print_attr_value(hid_t a) {
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5T_class_t c = H5Tget_class(t);
    char sbuf[512];
    if (c == H5T_STRING && n == 1) {
        if (attr_str(a, sbuf, sizeof sbuf)) printf("\"%s\"", sbuf);
    } else if ((c == H5T_INTEGER || c == H5T_FLOAT) && n >= 1 && n <= 16) {
        double v[16];
        if (H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0) {
            if (n > 1) printf("[");
            for (hssize_t i = 0; i < n; i++) printf("%s%.10g", i ? ", " : "", v[i]);
            if (n > 1) printf("]");
        }
    } else {
        printf("(%s, %lld values)", c == H5T_STRING ? "strings" : "data", (long long)n);
    }
    H5Sclose(sp);
    H5Tclose(t);
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *indent) {
    (void)info;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return 0;
    printf("%s@%s = ", (const char *)indent, name);
    print_attr_value(a);
    printf("\n");
    H5Aclose(a);
    return 0;
}

static const char *type_name(hid_t t) {
    static char buf[32];
    H5T_class_t c = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    if (c == H5T_INTEGER)
        snprintf(buf, sizeof buf, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", sz * 8);
    else if (c == H5T_FLOAT) snprintf(buf, sizeof buf, "float%zu", sz * 8);
    else if (c == H5T_STRING) snprintf(buf, sizeof buf, "string");
    else snprintf(buf, sizeof buf, "class%d", (int)c);
    return buf;
}

static herr_t visit_cb(hid_t root, const char *name, const H5O_info_t *info, void *op) {
    (void)op;
    if (!strcmp(name, ".")) return 0;
    if (info->type == H5O_TYPE_GROUP) {
        printf("  /%s/\n", name);
    } else if (info->type == H5O_TYPE_DATASET) {
        hid_t d = H5Dopen2(root, name, H5P_DEFAULT);
        if (d < 0) return 0;
        hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
        hsize_t dims[8];
        int nd = H5Sget_simple_extent_ndims(sp);
        if (nd > 8) nd = 8;
        H5Sget_simple_extent_dims(sp, dims, NULL);
        printf("  /%-40s %-8s [", name, type_name(t));
        for (int i = 0; i < nd; i++) printf("%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
        printf("]  %.1f KiB stored\n", (double)H5Dget_storage_size(d) / 1024.0);
        H5Sclose(sp);
        H5Tclose(t);
        H5Dclose(d);
    } else {
        return 0;
    }
    hid_t o = H5Oopen(root, name, H5P_DEFAULT);
    if (o >= 0) {
        hsize_t idx = 0;
        H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, "      ");
        H5Oclose(o);
    }
    return 0;
}

static int info_generic(const char *path, hid_t f) {
    printf("%s: HDF5\n", path);
    hsize_t idx = 0;
    H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, "  ");
    H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_cb, NULL);
    return 0;
}

static int info_dataset(const char *path, bool all_sources) {
    int64_t docs_all = 0, tokens_all = 0, masked_all = 0;
    slm_dataset_header hdr;
    int32_t *t = malloc(sizeof(int32_t) * READ_CHUNK);
    uint8_t *m = malloc(READ_CHUNK);
    if (!t || !m) {
        free(t), free(m);
        return 1;
    }
    for (int sp = 0; sp < SLM_SPLIT_COUNT; sp++) {
        slm_dataset *ds;
        slm_status st = slm_dataset_open(path, slm_split_name((slm_split)sp), &ds);
        if (st != SLM_OK) {
            free(t), free(m);
            return slm_status_exit_code(st);
        }
        hdr = *slm_dataset_header_of(ds);
        if (sp == 0) {
            printf("%s: slm dataset (format %s, version %" PRId64 ")\n", path,
                   SLM_DATASET_FORMAT, hdr.format_version);
            printf("  tokenizer fingerprint %s\n", hdr.fingerprint);
            printf("  vocab size %" PRId64 ", eos %" PRId64 ", bos %" PRId64 ", template %s\n",
                   hdr.vocab_size, hdr.eos_id, hdr.bos_id,
                   hdr.template_name[0] ? hdr.template_name : "none");
            printf("  created %s\n", hdr.created[0] ? hdr.created : "?");
        }
        int64_t n = slm_dataset_n_tokens(ds), masked = 0;
        for (int64_t a = 0; a < n && st == SLM_OK; a += READ_CHUNK) {
            int64_t k = n - a < READ_CHUNK ? n - a : READ_CHUNK;
            st = slm_dataset_read(ds, a, k, t, m);
            for (int64_t i = 0; i < k && st == SLM_OK; i++) masked += m[i];
        }
        int64_t docs = slm_dataset_n_docs(ds);
        slm_dataset_close(ds);
        if (st != SLM_OK) {
            free(t), free(m);
            return slm_status_exit_code(st);
        }
        printf("  %-5s %10" PRId64 " documents %12" PRId64 " tokens   masked (learned) %6.2f%%"
               "   mean %.1f tokens/doc\n",
               slm_split_name((slm_split)sp), docs, n, n ? 100.0 * (double)masked / (double)n : 0.0,
               docs ? (double)n / (double)docs : 0.0);
        docs_all += docs, tokens_all += n, masked_all += masked;
    }
    free(t), free(m);
    printf("  total %10" PRId64 " documents %12" PRId64 " tokens   masked (learned) %6.2f%%\n",
           docs_all, tokens_all, tokens_all ? 100.0 * (double)masked_all / (double)tokens_all : 0.0);
    slm_dataset_source *src;
    int64_t ns;
    slm_status st = slm_dataset_read_sources(path, &src, &ns);
    if (st != SLM_OK) return slm_status_exit_code(st);
    int64_t bytes = 0;
    for (int64_t i = 0; i < ns; i++) bytes += src[i].size;
    printf("  sources: %" PRId64 " files, %.2f MB\n", ns, (double)bytes / 1e6);
    int64_t show = all_sources || ns <= 20 ? ns : 20;
    for (int64_t i = 0; i < show; i++)
        printf("    %.16s  %12" PRId64 " B  %8" PRId64 " docs  %s\n", src[i].sha256, src[i].size,
               src[i].docs, src[i].path);
    if (show < ns) printf("    ... %" PRId64 " more (--all-sources)\n", ns - show);
    slm_dataset_sources_free(src, ns);
    return 0;
}

int slm_cmd_info_h5(const char *path, int argc, char **argv) {
    bool all_sources = false;
    slm_opt opts[] = {
        {"all-sources", 0, SLM_OPT_FLAG, &all_sources, NULL, NULL, "list every source file"},
        {0},
    };
    char *posv[8];
    slm_positional pos = {0, posv, 8};
    int rc = slm_opts_parse("info", "slm info FILE.h5 [--all-sources]",
                            "Describe an HDF5 file written by slm.", opts, argc, argv, &pos);
    if (rc >= 0) return rc;
    slm_h5_quiet();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        if (slm_h5_read_status(path) == SLM_ERR_IO) return 1; /* EIO: logged with the errno */
        fprintf(stderr, "slm info: %s: HDF5 cannot open the file (truncated or damaged?)\n", path);
        return 2;
    }
    char fmt[64] = "";
    if (H5Aexists(f, "format") > 0) {
        hid_t a = H5Aopen(f, "format", H5P_DEFAULT);
        if (a >= 0) attr_str(a, fmt, sizeof fmt), H5Aclose(a);
    }
    if (!strcmp(fmt, SLM_DATASET_FORMAT)) {
        H5Fclose(f);
        return info_dataset(path, all_sources);
    }
    if (!strcmp(fmt, SLM_DUMP_FORMAT)) { /* logit dumps: described and validated by distill/ */
        H5Fclose(f);
        return slm_status_exit_code(slm_dump_describe(path, stdout));
    }
    int r = info_generic(path, f);
    H5Fclose(f);
    return r;
}
