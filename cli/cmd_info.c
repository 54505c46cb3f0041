/* cli/cmd_info.c — `slm info FILE [--json]`: describe a GGUF file
 * (architecture, hyper-parameters, vocabulary, every metadata key, every
 * tensor with type, shape and size, totals).  HDF5 files (signature
 * \x89HDF\r\n\x1a\n) go to slm_cmd_info_h5 (cli/info.h).  A corrupt file is
 * reported by the reader (file, field, found, expected) and exits 2. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/info.h"
#include "cli/opts.h"
#include "core/gguf.h"

__attribute__((weak)) int slm_cmd_info_h5(const char *path, int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "slm info: %s is an HDF5 file, but HDF5 support for 'slm info' is not built "
                    "into this slm\n", path);
    return 1;
}

static const char hdf5_sig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

static bool is_hdf5(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char head[8];
    bool yes = fread(head, 1, 8, f) == 8 && !memcmp(head, hdf5_sig, 8);
    fclose(f);
    return yes;
}

static void human_bytes(double b, char *buf, size_t cap) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.2f %s" : "%.0f %s", b, units[u]);
}

static void shape_str(const slm_gguf_tensor *t, char *buf, size_t cap) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "[");
    for (int d = 0; d < t->n_dims && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* Token text of id (for bos/eos), quoted; "" if out of range. */
static void token_text(const slm_gguf *g, uint32_t id, char *buf, size_t cap) {
    buf[0] = 0;
    int64_t k = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    if (k < 0 || slm_gguf_kv_type(g, k) != SLM_GGUF_ARRAY || slm_gguf_arr_type(g, k) != SLM_GGUF_STRING ||
        id >= slm_gguf_arr_n(g, k))
        return;
    uint64_t len;
    const char *s = slm_gguf_arr_str(g, k, id, &len);
    size_t n = (size_t)snprintf(buf, cap, " '");
    for (uint64_t i = 0; i < len && i < 40 && n + 8 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        n += (size_t)(ch < 0x20 || ch == 0x7f ? snprintf(buf + n, cap - n, "\\x%02x", ch)
                                                : snprintf(buf + n, cap - n, "%c", ch));
    }
    snprintf(buf + n, cap - n, "'");
}

static uint64_t arr_len(const slm_gguf *g, const char *key) {
    int64_t k = slm_gguf_find_key(g, key);
    return k >= 0 && slm_gguf_kv_type(g, k) == SLM_GGUF_ARRAY ? slm_gguf_arr_n(g, k) : 0;
}

static void totals(const slm_gguf *g, int64_t *params, uint64_t *bytes) {
    *params = 0;
    *bytes = 0;
    for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        *params += t->n_elements;
        *bytes += t->n_bytes;
    }
}

static void print_text(const slm_gguf *g) {
    char buf[1024], hb[32];
    const char *s;
    uint64_t len;
    human_bytes((double)slm_gguf_file_size(g), hb, sizeof hb);
    printf("file:          %s\n", slm_gguf_path(g));
    printf("format:        GGUF v%" PRIu32 ", %zu bytes (%s), alignment %zu, data at offset %zu\n",
           slm_gguf_version(g), slm_gguf_file_size(g), hb, slm_gguf_alignment(g), slm_gguf_data_offset(g));
    const char *arch = NULL;
    uint64_t arch_len = 0;
    if (slm_gguf_get_str(g, "general.architecture", false, &arch, &arch_len) == SLM_OK && arch)
        printf("architecture:  %.*s\n", (int)arch_len, arch);
    else
        printf("architecture:  (none: general.architecture absent)\n");
    s = NULL;
    if (slm_gguf_get_str(g, "general.name", false, &s, &len) == SLM_OK && s)
        printf("name:          %.*s\n", (int)len, s);

    if (arch) {
        printf("\nhyper-parameters (%.*s.*):\n", (int)arch_len, arch);
        int shown = 0;
        for (int64_t i = 0; i < slm_gguf_n_kv(g); i++) {
            const char *k = slm_gguf_key(g, i);
            if (strncmp(k, arch, arch_len) || k[arch_len] != '.') continue;
            slm_gguf_kv_to_string(g, i, buf, sizeof buf);
            printf("  %-40s %s\n", k + arch_len + 1, buf);
            shown++;
        }
        if (!shown) printf("  (none)\n");
    }

    s = NULL;
    if (slm_gguf_get_str(g, "tokenizer.ggml.model", false, &s, &len) == SLM_OK && s) {
        printf("\nvocabulary:\n");
        printf("  model          %.*s", (int)len, s);
        const char *pre = NULL;
        uint64_t pl;
        if (slm_gguf_get_str(g, "tokenizer.ggml.pre", false, &pre, &pl) == SLM_OK && pre)
            printf(" (pre-tokenizer %.*s)", (int)pl, pre);
        printf("\n  tokens         %" PRIu64 "\n", arr_len(g, "tokenizer.ggml.tokens"));
        if (slm_gguf_find_key(g, "tokenizer.ggml.merges") >= 0)
            printf("  merges         %" PRIu64 "\n", arr_len(g, "tokenizer.ggml.merges"));
        static const char *ids[] = {"bos", "eos", "unknown", "padding", "eot"};
        for (int j = 0; j < 5; j++) {
            char key[64];
            uint32_t id;
            snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", ids[j]);
            if (slm_gguf_find_key(g, key) < 0 || slm_gguf_get_u32(g, key, true, &id) != SLM_OK) continue;
            token_text(g, id, buf, sizeof buf);
            printf("  %-14s %" PRIu32 "%s\n", ids[j], id, buf);
        }
        bool b;
        if (slm_gguf_find_key(g, "tokenizer.ggml.add_bos_token") >= 0 &&
            slm_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", true, &b) == SLM_OK)
            printf("  add_bos        %s\n", b ? "true" : "false");
    }

    printf("\nmetadata (%" PRId64 " keys):\n", slm_gguf_n_kv(g));
    for (int64_t i = 0; i < slm_gguf_n_kv(g); i++) {
        slm_gguf_kv_to_string(g, i, buf, sizeof buf);
        slm_gguf_type t = slm_gguf_kv_type(g, i);
        printf("  %-44s %-8s %s\n", slm_gguf_key(g, i), t == SLM_GGUF_ARRAY ? "ARRAY" : slm_gguf_type_name(t), buf);
    }

    int64_t n = slm_gguf_n_tensors(g), params;
    uint64_t bytes;
    totals(g, &params, &bytes);
    printf("\ntensors (%" PRId64 "):\n", n);
    if (n) printf("  %-40s %-6s %-24s %12s\n", "name", "type", "shape", "bytes");
    for (int64_t i = 0; i < n; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        shape_str(t, buf, sizeof buf);
        printf("  %-40s %-6s %-24s %12zu\n", t->name, slm_type_name(t->type), buf, t->n_bytes);
    }
    /* bytes by type */
    printf("\ntotal:         %" PRId64 " tensors, %" PRId64 " parameters (%.2fM), ", n, params, (double)params / 1e6);
    human_bytes((double)bytes, hb, sizeof hb);
    printf("%" PRIu64 " bytes of tensor data (%s)\n", bytes, hb);
    for (int ty = 0; ty < SLM_TYPE_COUNT; ty++) {
        int64_t cnt = 0, el = 0;
        uint64_t by = 0;
        for (int64_t i = 0; i < n; i++) {
            const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
            if ((int)t->type != ty) continue;
            cnt++;
            el += t->n_elements;
            by += t->n_bytes;
        }
        if (cnt)
            printf("  %-6s %5" PRId64 " tensors %14" PRId64 " params %14" PRIu64 " bytes  %.3f bits/weight\n",
                   slm_type_name((slm_type)ty), cnt, el, by, el ? 8.0 * (double)by / (double)el : 0.0);
    }
}

/* JSON value of key i: scalars as JSON scalars, arrays as {type, n, head}. */
static json_t *kv_json(const slm_gguf *g, int64_t i) {
    slm_gguf_type t = slm_gguf_kv_type(g, i);
    char buf[1024];
    const char *key = slm_gguf_key(g, i);
    if (t == SLM_GGUF_STRING) {
        const char *s;
        uint64_t len;
        slm_gguf_get_str(g, key, true, &s, &len);
        json_t *j = json_stringn(s, (size_t)len);
        if (j) return j;
        slm_gguf_kv_to_string(g, i, buf, sizeof buf); /* not UTF-8: escaped text */
        return json_string(buf);
    }
    if (t == SLM_GGUF_ARRAY) {
        slm_gguf_kv_to_string(g, i, buf, sizeof buf);
        json_t *j = json_pack("{s:s, s:I}", "type", slm_gguf_type_name(slm_gguf_arr_type(g, i)), "n",
                              (json_int_t)slm_gguf_arr_n(g, i));
        json_t *summary = json_string(buf);
        if (j && summary) json_object_set_new(j, "summary", summary);
        else json_decref(summary);
        return j;
    }
    if (t == SLM_GGUF_BOOL) {
        bool b = false;
        slm_gguf_get_bool(g, key, true, &b);
        return json_boolean(b);
    }
    slm_gguf_kv_to_string(g, i, buf, sizeof buf);
    if (t == SLM_GGUF_FLOAT32 || t == SLM_GGUF_FLOAT64) return json_real(strtod(buf, NULL));
    if (t == SLM_GGUF_UINT64) {
        unsigned long long u = strtoull(buf, NULL, 10);
        if (u > (unsigned long long)INT64_MAX) return json_real((double)u);
        return json_integer((json_int_t)u);
    }
    return json_integer((json_int_t)strtoll(buf, NULL, 10));
}

static int print_json(const slm_gguf *g) {
    json_t *root = json_object(), *meta = json_object(), *tensors = json_array();
    int rc = 1;
    if (!root || !meta || !tensors) goto out;
    const char *arch = NULL;
    uint64_t al = 0;
    slm_gguf_get_str(g, "general.architecture", false, &arch, &al);
    int64_t params;
    uint64_t bytes;
    totals(g, &params, &bytes);
    json_object_set_new(root, "file", json_string(slm_gguf_path(g)));
    json_object_set_new(root, "format", json_string("gguf"));
    json_object_set_new(root, "version", json_integer(slm_gguf_version(g)));
    json_object_set_new(root, "file_size", json_integer((json_int_t)slm_gguf_file_size(g)));
    json_object_set_new(root, "alignment", json_integer((json_int_t)slm_gguf_alignment(g)));
    json_object_set_new(root, "data_offset", json_integer((json_int_t)slm_gguf_data_offset(g)));
    json_object_set_new(root, "architecture", arch ? json_stringn(arch, (size_t)al) : json_null());
    json_object_set_new(root, "n_tensors", json_integer(slm_gguf_n_tensors(g)));
    json_object_set_new(root, "n_params", json_integer(params));
    json_object_set_new(root, "tensor_bytes", json_integer((json_int_t)bytes));
    for (int64_t i = 0; i < slm_gguf_n_kv(g); i++) {
        json_t *v = kv_json(g, i);
        json_object_set_new(meta, slm_gguf_key(g, i), v ? v : json_null());
    }
    for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        json_t *shape = json_array();
        for (int d = 0; d < t->n_dims; d++) json_array_append_new(shape, json_integer(t->ne[d]));
        json_array_append_new(tensors, json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}", "name", t->name, "type",
                                                 slm_type_name(t->type), "shape", shape, "n_elements",
                                                 (json_int_t)t->n_elements, "bytes", (json_int_t)t->n_bytes,
                                                 "offset", (json_int_t)t->offset));
    }
    json_object_set_new(root, "metadata", meta);
    json_object_set_new(root, "tensors", tensors);
    meta = tensors = NULL;
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (text) {
        puts(text);
        free(text);
        rc = 0;
    }
out:
    json_decref(meta);
    json_decref(tensors);
    json_decref(root);
    return rc;
}

int slm_cmd_info(int argc, char **argv) {
    /* HDF5 files are described by the HDF5 side, with its own options. */
    bool help = false;
    for (int i = 0; i < argc; i++) help |= !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help");
    for (int i = 0; i < argc && !help; i++)
        if (argv[i][0] != '-' && is_hdf5(argv[i])) return slm_cmd_info_h5(argv[i], argc, argv);

    bool json = false;
    char *pv[1];
    slm_positional pos = {0, pv, 1};
    slm_opt opts[] = {
        {"json", 0, SLM_OPT_FLAG, &json, NULL, NULL, "print one JSON object instead of text"},
        {0},
    };
    int rc = slm_opts_parse("info", "slm info FILE [--json]",
                            "Describe a GGUF file (architecture, hyper-parameters, vocabulary, metadata,\n"
                            "tensors, sizes) or an HDF5 file written by slm (dataset, dump, checkpoint).",
                            opts, argc, argv, &pos);
    if (rc >= 0) return rc;
    if (pos.n != 1) {
        fprintf(stderr, "slm info: expected one FILE (see 'slm info --help')\n");
        return 2;
    }
    slm_gguf *g;
    slm_status st = slm_gguf_open(pos.v[0], &g);
    if (st != SLM_OK) {
        if (st == SLM_ERR_FORMAT)
            fprintf(stderr, "slm info: '%s' is not a valid GGUF v3 file (see the error above)\n", pos.v[0]);
        return slm_status_exit_code(st);
    }
    rc = 0;
    if (json) rc = print_json(g);
    else print_text(g);
    slm_gguf_close(g);
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
