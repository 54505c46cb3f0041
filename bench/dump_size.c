/* bench/dump_size.c — storage cost of logit dumps: reads one top-k dump
 * (k = K0, float32) and rewrites its first S sequences with slm's own writer
 * for every k <= K0 asked, in float16 and float32, with several storage
 * choices; prints file bytes per token and the bytes of the entries alone
 * (/topk_ids + /topk_logprobs) per token.  Variants:
 *   v2 d4+shuf      the default: format version 2 (uint16 ids when V <= 65536),
 *                   one sequence per chunk, shuffle + deflate 4
 *   v1 d4+shuf      the same with int32 ids and tokens (format version 1)
 *   v2 d9+shuf      deflate level 9
 *   v2 d4+shuf c16  16 sequences per chunk
 *   v2 d1+shuf      deflate level 1
 *   v2 d4           no shuffle
 *   v2 none         no compression
 *   v2 id-sorted    entries of each position in ascending id order (same
 *                   information; not a valid top-k dump, size only)
 *
 *   dump_size IN.h5 OUT_DIR k1,k2,... [keep]
 * With "keep", the default variant of each k and type stays in OUT_DIR as
 * k<k>_<f16|f32>.h5 (a complete dump, e.g. for distilling from it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "distill/dump.h"

typedef struct {
    int32_t id;
    float lp;
} entry;

static int by_id(const void *a, const void *b) {
    return ((const entry *)a)->id - ((const entry *)b)->id;
}

static long long file_size(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static long long entry_bytes(const char *p) {
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    long long n = 0;
    const char *names[2] = {"topk_ids", "topk_logprobs"};
    for (int i = 0; i < 2; i++) {
        hid_t d = H5Dopen2(f, names[i], H5P_DEFAULT);
        n += (long long)H5Dget_storage_size(d);
        H5Dclose(d);
    }
    H5Fclose(f);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: dump_size IN.h5 OUT_DIR k1,k2,... [keep]\n");
        return 2;
    }
    slm_dump *d;
    if (slm_dump_open(argv[1], &d)) return 1;
    const slm_dump_info *in = slm_dump_get_info(d);
    const int64_t S = slm_dump_n_seqs(d), T = in->seq_len, K0 = in->k;
    slm_dump_batch all;
    if (slm_dump_batch_alloc(in, S, &all) || slm_dump_read(d, 0, &all)) return 1;
    printf("%-5s %-4s %-16s %14s %16s\n", "k", "type", "storage", "file B/token", "entries B/token");
    const bool keep = argc > 4 && !strcmp(argv[4], "keep");
    enum { N_VAR = 8 };
    static const struct {
        const char *name;
        bool ids32, shuffle, id_sorted;
        int deflate;
        int64_t chunk;
    } var[N_VAR] = {
        {"v2 d4+shuf", false, true, false, 4, 1},     {"v1 d4+shuf", true, true, false, 4, 1},
        {"v2 d9+shuf", false, true, false, 9, 1},     {"v2 d4+shuf c16", false, true, false, 4, 16},
        {"v2 d1+shuf", false, true, false, 1, 1},     {"v2 d4", false, false, false, 4, 1},
        {"v2 none", false, false, false, 0, 1},       {"v2 id-sorted", false, true, true, 4, 1},
    };
    char *ks = strdup(argv[3]);
    for (char *tok = strtok(ks, ","); tok; tok = strtok(NULL, ",")) {
        int64_t k = atoll(tok);
        if (k < 1 || k > K0) continue;
        slm_dump_batch b = all;
        b.ids = malloc((size_t)(S * T * k) * sizeof(int32_t));
        b.logprobs = malloc((size_t)(S * T * k) * sizeof(float));
        for (int f16 = 1; f16 >= 0; f16--)
            for (int v = 0; v < N_VAR; v++) {
                for (int64_t i = 0; i < S * T; i++) /* the first k of a sorted top-K0 are the top-k */
                    for (int64_t j = 0; j < k; j++) {
                        b.ids[i * k + j] = all.ids[i * K0 + j];
                        b.logprobs[i * k + j] = all.logprobs[i * K0 + j];
                    }
                if (var[v].id_sorted) /* ascending ids within each position */
                    for (int64_t i = 0; i < S * T; i++) {
                        entry e[1024];
                        int64_t kk = k < 1024 ? k : 1024;
                        for (int64_t j = 0; j < kk; j++) e[j] = (entry){b.ids[i * k + j], b.logprobs[i * k + j]};
                        qsort(e, (size_t)kk, sizeof *e, by_id);
                        for (int64_t j = 0; j < kk; j++) b.ids[i * k + j] = e[j].id, b.logprobs[i * k + j] = e[j].lp;
                    }
                slm_dump_info o = *in;
                o.k = k;
                o.f16 = f16;
                o.deflate = var[v].deflate;
                o.shuffle = var[v].shuffle;
                o.ids32 = var[v].ids32;
                o.chunk_seqs = var[v].chunk;
                char path[4096];
                snprintf(path, sizeof path, "%s/k%lld_%s%s.h5", argv[2], (long long)k,
                         f16 ? "f16" : "f32", v == 0 ? "" : "_variant");
                slm_dump_writer *w;
                if (slm_dump_writer_open(path, &o, false, &w) || slm_dump_writer_append(w, &b) ||
                    slm_dump_writer_finish(w))
                    return 1;
                printf("%-5lld %-4s %-16s %14.1f %16.1f\n", (long long)k, f16 ? "f16" : "f32",
                       var[v].name, (double)file_size(path) / (double)(S * T),
                       (double)entry_bytes(path) / (double)(S * T));
                fflush(stdout);
                if (!(keep && v == 0)) remove(path);
            }
        free(b.ids);
        free(b.logprobs);
    }
    free(ks);
    slm_dump_batch_free(&all);
    slm_dump_close(d);
    return 0;
}
