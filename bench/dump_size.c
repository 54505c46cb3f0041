/* bench/dump_size.c — storage cost of logit dumps: reads one top-k dump
 * (k = K0, float32) and rewrites its first S sequences with slm's own writer
 * for every k <= K0 asked, in float16 and float32, with deflate + shuffle,
 * deflate only, and no compression; prints file bytes per token and the
 * bytes of the entries alone (/topk_ids + /topk_logprobs) per token.
 *
 * A fourth variant stores each position's entries in ascending id order
 * (deflate + shuffle): same information, the ids' high bytes compress better.
 *
 *   dump_size IN.h5 OUT_DIR k1,k2,...    */
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
    if (argc != 4) {
        fprintf(stderr, "usage: dump_size IN.h5 OUT_DIR k1,k2,...\n");
        return 2;
    }
    slm_dump *d;
    if (slm_dump_open(argv[1], &d)) return 1;
    const slm_dump_info *in = slm_dump_get_info(d);
    const int64_t S = slm_dump_n_seqs(d), T = in->seq_len, K0 = in->k;
    slm_dump_batch all;
    if (slm_dump_batch_alloc(in, S, &all) || slm_dump_read(d, 0, &all)) return 1;
    printf("%-5s %-4s %-16s %14s %16s\n", "k", "type", "filters", "file B/token", "entries B/token");
    char *ks = strdup(argv[3]);
    for (char *tok = strtok(ks, ","); tok; tok = strtok(NULL, ",")) {
        int64_t k = atoll(tok);
        if (k < 1 || k > K0) continue;
        slm_dump_batch b = all;
        b.ids = malloc((size_t)(S * T * k) * sizeof(int32_t));
        b.logprobs = malloc((size_t)(S * T * k) * sizeof(float));
        for (int f16 = 1; f16 >= 0; f16--)
            for (int filt = 0; filt < 4; filt++) {
                for (int64_t i = 0; i < S * T; i++) /* the first k of a sorted top-K0 are the top-k */
                    for (int64_t j = 0; j < k; j++) {
                        b.ids[i * k + j] = all.ids[i * K0 + j];
                        b.logprobs[i * k + j] = all.logprobs[i * K0 + j];
                    }
                if (filt == 3) /* ascending ids within each position */
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
                o.deflate = filt == 2 ? 0 : 4;
                o.shuffle = filt == 0 || filt == 3;
                char path[4096];
                snprintf(path, sizeof path, "%s/k%lld_%s_%d.h5", argv[2], (long long)k,
                         f16 ? "f16" : "f32", filt);
                slm_dump_writer *w;
                if (slm_dump_writer_open(path, &o, false, &w) || slm_dump_writer_append(w, &b) ||
                    slm_dump_writer_finish(w))
                    return 1;
                printf("%-5lld %-4s %-16s %14.1f %16.1f\n", (long long)k, f16 ? "f16" : "f32",
                       filt == 0 ? "deflate4+shuffle" : filt == 1 ? "deflate4" : filt == 2 ? "none" : "id-sorted+d4+sh",
                       (double)file_size(path) / (double)(S * T),
                       (double)entry_bytes(path) / (double)(S * T));
                remove(path);
            }
        free(b.ids);
        free(b.logprobs);
    }
    free(ks);
    slm_dump_batch_free(&all);
    slm_dump_close(d);
    return 0;
}
