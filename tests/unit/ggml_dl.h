/* tests/unit/ggml_dl.h — llama.cpp's libggml-base.so through dlopen, as the
 * reference for the quantization tests.  Header-only (static functions),
 * included by the test files that need it.
 *
 * struct ggml_type_traits as declared in ggml.h of the ggml bundled with
 * node-llama-cpp 3.22.1 (llama.cpp release v0.5.0 era); its field order is
 * verified at load time by probing Q4_0 (name "q4_0", 32 elements, 18 bytes)
 * and Q6_K (name "q6_K", 256, 210). */
#ifndef SLM_TESTS_GGML_DL_H
#define SLM_TESTS_GGML_DL_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*ggml_to_float_fn)(const void *x, float *y, int64_t k);
typedef void (*ggml_from_float_fn)(const float *x, void *y, int64_t k);

struct ggml_type_traits_v {
    const char *type_name;
    int64_t blck_size;
    int64_t blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    ggml_to_float_fn to_float;
    ggml_from_float_fn from_float_ref;
};

typedef struct {
    void *lib;
    const struct ggml_type_traits_v *(*get_type_traits)(int type);
    size_t (*quantize_chunk)(int type, const float *src, void *dst, int64_t start,
                             int64_t nrows, int64_t n_per_row, const float *imatrix);
    void (*quantize_init)(int type);
} ggml_ref;

/* Returns false (with a message on stderr saying why) when the library is
 * absent or does not look like the expected version: the caller skips. */
static bool ggml_ref_open(ggml_ref *g) {
    memset(g, 0, sizeof *g);
    const char *dir = getenv("SLM_GGML_DIR");
    if (!dir || !*dir) {
        fprintf(stderr, "skip: SLM_GGML_DIR is not set (source scripts/env.sh)\n");
        return false;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/libggml-base.so", dir);
    g->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g->lib) {
        fprintf(stderr, "skip: cannot dlopen %s: %s\n", path, dlerror());
        return false;
    }
    *(void **)&g->get_type_traits = dlsym(g->lib, "ggml_get_type_traits");
    *(void **)&g->quantize_chunk = dlsym(g->lib, "ggml_quantize_chunk");
    *(void **)&g->quantize_init = dlsym(g->lib, "ggml_quantize_init");
    if (!g->get_type_traits || !g->quantize_chunk || !g->quantize_init) {
        fprintf(stderr, "skip: %s lacks ggml_get_type_traits/ggml_quantize_chunk\n", path);
        return false;
    }
    const struct ggml_type_traits_v *a = g->get_type_traits(2), *b = g->get_type_traits(14);
    if (!a || !b || !a->type_name || strcmp(a->type_name, "q4_0") || a->blck_size != 32 ||
        a->type_size != 18 || !a->to_float || strcmp(b->type_name, "q6_K") || b->blck_size != 256 ||
        b->type_size != 210) {
        fprintf(stderr, "FAIL: struct ggml_type_traits of %s does not have the expected layout\n", path);
        exit(1);
    }
    return true;
}

#endif
