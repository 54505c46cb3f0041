/* tests/fuzz/fuzz_gguf.c — libFuzzer harness for the GGUF reader (header,
 * metadata, tensor infos, data bounds) and, for inputs that open, the writer:
 * every accessor is walked, every tensor byte read, and the file is rewritten
 * with slm's writer (keys copied, tensors borrowed) and must read back with
 * the same keys and tensors.  Built by tests/fuzz/run.sh (make fuzz) with
 * clang -fsanitize=fuzzer,address,undefined; replayed over
 * tests/fuzz/corpus/gguf/ by tests/fuzz/replay.c in make test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gguf.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_gguf: check failed: %s (line %d)\n", #c, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static volatile uint64_t sink;

static void walk(const slm_gguf *g) {
    char buf[512];
    uint64_t sum = 0;
    for (int64_t i = 0; i < slm_gguf_n_kv(g); i++) {
        const char *key = slm_gguf_key(g, i);
        CHECK(slm_gguf_find_key(g, key) == i);
        slm_gguf_kv_to_string(g, i, buf, sizeof buf);
        sum += strlen(buf);
        uint32_t u;
        int64_t v;
        float f;
        bool b;
        const char *s;
        uint64_t len;
        /* typed getters must refuse or succeed, never misbehave */
        (void)slm_gguf_get_u32(g, key, true, &u);
        (void)slm_gguf_get_i64(g, key, true, &v);
        (void)slm_gguf_get_f32(g, key, true, &f);
        (void)slm_gguf_get_bool(g, key, true, &b);
        if (slm_gguf_get_str(g, key, true, &s, &len) == SLM_OK)
            for (uint64_t c = 0; c < len; c++) sum += (uint8_t)s[c];
        if (slm_gguf_kv_type(g, i) != SLM_GGUF_ARRAY) continue;
        uint64_t n = slm_gguf_arr_n(g, i);
        if (slm_gguf_arr_type(g, i) == SLM_GGUF_STRING) {
            for (uint64_t j = 0; j < n; j++) {
                s = slm_gguf_arr_str(g, i, j, &len);
                for (uint64_t c = 0; c < len; c++) sum += (uint8_t)s[c];
            }
        } else {
            const uint8_t *d = slm_gguf_arr_data(g, i);
            size_t esz = slm_gguf_type_size(slm_gguf_arr_type(g, i));
            CHECK((uintptr_t)d % esz == 0);
            for (uint64_t c = 0; c < n * esz; c++) sum += d[c];
        }
    }
    for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        CHECK(slm_gguf_find_tensor(g, t->name) == t);
        CHECK(t->offset % slm_gguf_alignment(g) == 0);
        CHECK(slm_gguf_data_offset(g) + t->offset + t->n_bytes <= slm_gguf_file_size(g));
        CHECK(t->n_bytes == 0 || t->n_bytes == slm_type_row_bytes(t->type, t->ne[0]) * (size_t)(t->n_elements / t->ne[0]));
        for (size_t c = 0; c < t->n_bytes; c++) sum += ((const uint8_t *)t->data)[c];
        if (t->n_elements > 0 && t->n_elements <= (1 << 16)) {
            float *out = malloc((size_t)t->n_elements * sizeof *out);
            if (out) (void)slm_gguf_tensor_to_f32(g, t, out);
            free(out);
        }
    }
    sink = sum;
}

/* Rewrites g with slm's writer and reads it back. */
static void rewrite(const slm_gguf *g) {
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "%s/slm_fuzz_gguf_%ld.gguf",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
    slm_gguf_writer *w = slm_gguf_writer_new();
    CHECK(w);
    CHECK(slm_gguf_copy_all_kv(w, g, NULL) == SLM_OK);
    bool ok = true;
    for (int64_t i = 0; i < slm_gguf_n_tensors(g) && ok; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        /* the writer refuses 0-d tensors (ggml writes n_dims >= 1) */
        ok = slm_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data) == SLM_OK;
    }
    slm_status st = ok ? slm_gguf_writer_write(w, path) : SLM_ERR_USAGE;
    slm_gguf_writer_free(w);
    /* a refusal must be an explicit one: NaN/Inf data, 0-d tensors, bad alignment key */
    if (st != SLM_OK) {
        CHECK(st == SLM_ERR_RUNTIME || st == SLM_ERR_USAGE);
        return;
    }
    slm_gguf *h;
    CHECK(slm_gguf_open(path, &h) == SLM_OK);
    CHECK(slm_gguf_n_kv(h) == slm_gguf_n_kv(g));
    CHECK(slm_gguf_n_tensors(h) == slm_gguf_n_tensors(g));
    for (int64_t i = 0; i < slm_gguf_n_kv(g); i++) {
        CHECK(!strcmp(slm_gguf_key(h, i), slm_gguf_key(g, i)));
        CHECK(slm_gguf_kv_type(h, i) == slm_gguf_kv_type(g, i));
    }
    for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const slm_gguf_tensor *a = slm_gguf_tensor_at(g, i), *b = slm_gguf_tensor_at(h, i);
        CHECK(!strcmp(a->name, b->name) && a->type == b->type && a->n_bytes == b->n_bytes);
        CHECK(memcmp(a->ne, b->ne, sizeof a->ne) == 0);
        CHECK(a->n_bytes == 0 || memcmp(a->data, b->data, a->n_bytes) == 0);
    }
    slm_gguf_close(h);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    slm_log_level = -1; /* errors are expected; keep the fuzzer's output readable */
    slm_gguf *g = NULL;
    slm_status st = slm_gguf_open_memory(data, size, "fuzz.gguf", &g);
    if (st != SLM_OK) {
        CHECK(g == NULL && (st == SLM_ERR_FORMAT || st == SLM_ERR_NOMEM));
        return 0;
    }
    walk(g);
    if (size <= (1 << 20)) rewrite(g);
    slm_gguf_close(g);
    return 0;
}
