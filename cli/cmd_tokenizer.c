/* cli/cmd_tokenizer.c — `slm tokenizer train --input FILES/DIRS --vocab-size N
 * --out vocab.gguf [--special "<|im_start|>,..."] [--min-frequency N]`:
 * trains a byte-level BPE vocabulary (data/bpe_train.h) on text files
 * (directories are walked recursively in sorted order; one document per
 * file; *.gz files are decompressed) and writes a vocab-only GGUF. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/fileio.h"
#include "data/bpe_train.h"

typedef struct {
    char **v;
    size_t n, cap;
} pathlist;

static int push_path(pathlist *l, const char *p) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = slm_strdup(p))) return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Appends the regular files under path (itself if a file), sorted per directory. */
static slm_status collect(const char *path, pathlist *out) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        slm_log_error("slm tokenizer train: input '%s' does not exist or cannot be read", path);
        return SLM_ERR_USAGE;
    }
    if (!S_ISDIR(sb.st_mode)) return push_path(out, path) ? SLM_ERR_NOMEM : SLM_OK;
    DIR *d = opendir(path);
    if (!d) {
        slm_log_error("slm tokenizer train: cannot open directory '%s'", path);
        return SLM_ERR_IO;
    }
    pathlist names = {0};
    struct dirent *e;
    slm_status st = SLM_OK;
    while ((e = readdir(d)) && st == SLM_OK) {
        if (e->d_name[0] == '.') continue; /* ., .., hidden files */
        char *full = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (!full) st = SLM_ERR_NOMEM;
        else {
            sprintf(full, "%s/%s", path, e->d_name);
            if (push_path(&names, full)) st = SLM_ERR_NOMEM;
            free(full);
        }
    }
    closedir(d);
    if (names.n) qsort(names.v, names.n, sizeof *names.v, cmp_str);
    for (size_t i = 0; i < names.n && st == SLM_OK; i++) st = collect(names.v[i], out);
    for (size_t i = 0; i < names.n; i++) free(names.v[i]);
    free(names.v);
    return st;
}

static slm_status read_any(const char *path, char **data, size_t *len) {
    size_t pl = strlen(path);
    if (pl < 3 || strcmp(path + pl - 3, ".gz") != 0) return slm_read_file(path, data, len);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        slm_log_error("slm tokenizer train: cannot open '%s'", path);
        return SLM_ERR_IO;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    slm_status st = buf ? SLM_OK : SLM_ERR_NOMEM;
    while (st == SLM_OK) {
        if (n == cap) {
            char *p = realloc(buf, 2 * cap + 1);
            if (!p) {
                st = SLM_ERR_NOMEM;
                break;
            }
            buf = p;
            cap *= 2;
        }
        int got = gzread(f, buf + n, (unsigned)(cap - n > (1u << 30) ? 1u << 30 : cap - n));
        if (got < 0) {
            int err;
            const char *msg = gzerror(f, &err);
            if (err == Z_ERRNO) { /* read(2) failed: an I/O error, not bad data */
                slm_log_error("slm tokenizer train: cannot read '%s': %s", path, strerror(errno));
                st = SLM_ERR_IO;
            } else {
                slm_log_error("slm tokenizer train: '%s': corrupt gzip data (%s)", path, msg);
                st = SLM_ERR_FORMAT;
            }
        }
        if (got <= 0) break;
        n += (size_t)got;
    }
    gzclose(f);
    if (st) {
        free(buf);
        return st;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return SLM_OK;
}

/* Splits "a,b,c" into owned strings (empty items dropped). */
static slm_status split_list(const char *s, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    char **v = calloc(cap, sizeof *v);
    if (!v) return SLM_ERR_NOMEM;
    const char *p = s;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l) {
            v[*n] = malloc(l + 1);
            if (!v[*n]) return SLM_ERR_NOMEM;
            memcpy(v[*n], p, l);
            v[*n][l] = 0;
            (*n)++;
        }
        p += l + (c ? 1 : 0);
    }
    *out = v;
    return SLM_OK;
}

static int cmd_train(int argc, char **argv) {
    slm_strlist inputs = {0};
    const char *out = NULL, *special = NULL, *name = "slm-bpe";
    int64_t vocab = 4096, min_freq = 2;
    bool quiet = false;
    char *posv[256];
    slm_positional pos = {0, posv, 256};
    slm_opt opts[] = {
        {"input", 'i', SLM_OPT_LIST, &inputs, NULL, "PATH", "text file or directory (repeatable; also positional)"},
        {"vocab-size", 'n', SLM_OPT_INT, &vocab, "4096", "N", "vocabulary size incl. 256 bytes and special tokens"},
        {"out", 'o', SLM_OPT_STR, &out, NULL, "FILE", "output vocab-only GGUF (required)"},
        {"special", 0, SLM_OPT_STR, &special, NULL, "LIST",
         "comma-separated special tokens after <pad>,<s>,</s> (default: ChatML, Llama-3 and Zephyr markers)"},
        {"min-frequency", 0, SLM_OPT_INT, &min_freq, "2", "N", "never merge a pair seen fewer than N times"},
        {"name", 0, SLM_OPT_STR, &name, "slm-bpe", "NAME", "general.name of the vocabulary"},
        {"quiet", 'q', SLM_OPT_FLAG, &quiet, NULL, NULL, "no summary on stderr"},
        {0},
    };
    int rc = slm_opts_parse("tokenizer train",
                            "slm tokenizer train --input FILES/DIRS --vocab-size N --out vocab.gguf [--special LIST]",
                            "Train a byte-level BPE vocabulary (GPT-2 pre-tokenizer) and save it as a\n"
                            "vocab-only GGUF that slm and llama.cpp load.",
                            opts, argc, argv, &pos);
    if (rc >= 0) {
        slm_strlist_free(&inputs);
        return rc;
    }
    pathlist files = {0};
    char **specials = NULL;
    size_t n_specials = 0;
    slm_bpe_trainer *tr = NULL;
    slm_status st = SLM_OK;
    if (!out) {
        fprintf(stderr, "slm tokenizer train: --out FILE is required\n");
        st = SLM_ERR_USAGE;
    } else if (inputs.n == 0 && pos.n == 0) {
        fprintf(stderr, "slm tokenizer train: give at least one --input file or directory\n");
        st = SLM_ERR_USAGE;
    }
    for (int i = 0; i < inputs.n && st == SLM_OK; i++) st = collect(inputs.v[i], &files);
    for (int i = 0; i < pos.n && st == SLM_OK; i++) st = collect(pos.v[i], &files);
    if (st == SLM_OK && files.n == 0) {
        fprintf(stderr, "slm tokenizer train: the inputs contain no files\n");
        st = SLM_ERR_USAGE;
    }
    slm_bpe_train_params p = slm_bpe_train_default_params();
    if (st == SLM_OK && special) {
        st = split_list(special, &specials, &n_specials);
        p.extra_special = (const char *const *)specials;
        p.n_extra_special = n_specials;
    }
    p.vocab_size = vocab;
    p.min_frequency = min_freq;
    p.name = name;
    double t0 = slm_time_sec();
    if (st == SLM_OK) st = slm_bpe_trainer_new(&p, &tr);
    for (size_t i = 0; i < files.n && st == SLM_OK; i++) {
        char *data;
        size_t len;
        if ((st = read_any(files.v[i], &data, &len))) break;
        st = slm_bpe_trainer_add_text(tr, data, len);
        free(data);
    }
    double t1 = slm_time_sec();
    if (st == SLM_OK) st = slm_bpe_trainer_train(tr);
    double t2 = slm_time_sec();
    if (st == SLM_OK) st = slm_bpe_trainer_write_gguf(tr, out);
    if (st == SLM_OK && !quiet) {
        slm_bpe_train_stats s;
        slm_bpe_trainer_stats(tr, &s);
        fprintf(stderr,
                "slm tokenizer train: %lld files, %.2f MB, %lld words (%lld distinct); %lld merges, "
                "%lld tokens -> %s (count %.2fs, merges %.2fs)\n",
                (long long)s.documents, s.bytes / 1e6, (long long)s.words, (long long)s.unique_words,
                (long long)s.merges, (long long)s.vocab_size, out, t1 - t0, t2 - t1);
    }
    slm_bpe_trainer_free(tr);
    for (size_t i = 0; i < n_specials; i++) free(specials[i]);
    free(specials);
    for (size_t i = 0; i < files.n; i++) free(files.v[i]);
    free(files.v);
    slm_strlist_free(&inputs);
    return slm_status_exit_code(st);
}

int slm_cmd_tokenizer(int argc, char **argv) {
    if (argc >= 1 && !strcmp(argv[0], "train")) return cmd_train(argc - 1, argv + 1);
    bool help = argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"));
    fprintf(help ? stdout : stderr, "usage: slm tokenizer train --input FILES/DIRS --vocab-size N --out vocab.gguf "
                                    "[--special LIST]\n       (slm tokenizer train --help for all options)\n");
    if (!help && argc >= 1) fprintf(stderr, "slm tokenizer: unknown subcommand '%s'\n", argv[0]);
    return help ? 0 : 2;
}
