/* tests/tools/ref_quantize.c — llama.cpp's own quantizer as a reference:
 *   ref_quantize IN.gguf OUT.gguf FTYPE_NUMBER [THREADS] [IMATRIX.gguf]
 * dlopens $SLM_GGML_DIR/libllama.so (or libllama.v*.so as node-llama-cpp
 * names it) and calls llama_model_quantize.  FTYPE_NUMBER is an enum
 * llama_ftype value (slm's SLM_FTYPE_*).  The optional imatrix (llama.cpp
 * GGUF imatrix format) is passed through params.imatrix.
 *
 * struct llama_model_quantize_params as declared in llama.h of the llama.cpp
 * release bundled with node-llama-cpp 3.22.1 (gitRelease.bundle, tag v0.5.0);
 * the layout is checked against llama_model_quantize_default_params() at run
 * time.  Exit 77 when the library is absent. */
#include <dlfcn.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "quantize/imatrix.h"

struct llama_model_imatrix_data_v {
    const char *name;
    const float *data;
    size_t size;
};

struct llama_model_quantize_params_v {
    int32_t nthread;
    int ftype;                /* enum llama_ftype */
    int output_tensor_type;   /* enum ggml_type */
    int token_embedding_type; /* enum ggml_type */
    bool allow_requantize;
    bool quantize_output_tensor;
    bool only_copy;
    bool pure;
    bool keep_split;
    bool dry_run;
    const struct llama_model_imatrix_data_v *imatrix;
    const void *kv_overrides;
    const void *tt_overrides;
    const int32_t *prune_layers;
    size_t max_buf_size;
};

#define GGML_TYPE_COUNT_V 43 /* this ggml's GGML_TYPE_COUNT */

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ref_quantize IN.gguf OUT.gguf FTYPE [THREADS] [IMATRIX.gguf]\n");
        return 2;
    }
    const char *dir = getenv("SLM_GGML_DIR");
    if (!dir || !*dir) {
        fprintf(stderr, "skip: SLM_GGML_DIR not set\n");
        return 77;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/libllama.so", dir);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        glob_t gl;
        snprintf(path, sizeof path, "%s/libllama.v*.so", dir);
        if (glob(path, 0, NULL, &gl) == 0 && gl.gl_pathc > 0) {
            snprintf(path, sizeof path, "%s", gl.gl_pathv[0]);
            lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        }
        globfree(&gl);
    }
    if (!lib) {
        fprintf(stderr, "skip: cannot dlopen libllama in %s: %s\n", dir, dlerror());
        return 77;
    }
    struct llama_model_quantize_params_v (*defaults)(void);
    uint32_t (*quantize)(const char *, const char *, const struct llama_model_quantize_params_v *);
    void (*backend_init)(void);
    *(void **)&defaults = dlsym(lib, "llama_model_quantize_default_params");
    *(void **)&quantize = dlsym(lib, "llama_model_quantize");
    *(void **)&backend_init = dlsym(lib, "llama_backend_init");
    if (!defaults || !quantize || !backend_init) {
        fprintf(stderr, "FAIL: %s lacks llama_model_quantize\n", path);
        return 1;
    }
    struct llama_model_quantize_params_v p = defaults();
    if (p.ftype != 7 || p.output_tensor_type != GGML_TYPE_COUNT_V ||
        p.token_embedding_type != GGML_TYPE_COUNT_V || p.allow_requantize || !p.quantize_output_tensor ||
        p.only_copy || p.pure || p.imatrix || p.max_buf_size != 8ull * 1024 * 1024 * 1024) {
        fprintf(stderr, "FAIL: llama_model_quantize_params of %s does not have the expected layout\n", path);
        return 1;
    }
    backend_init();
    p.ftype = atoi(argv[3]);
    p.nthread = argc > 4 ? atoi(argv[4]) : 2;
    slm_imatrix *im = NULL;
    struct llama_model_imatrix_data_v *imd = NULL;
    if (argc > 5) {
        if (slm_imatrix_load(argv[5], &im) != SLM_OK) return 2;
        int64_t n = slm_imatrix_n_entries(im);
        imd = calloc((size_t)n + 1, sizeof *imd);
        for (int64_t i = 0; i < n; i++) {
            int64_t m = 0;
            imd[i].name = slm_imatrix_entry_name(im, i);
            imd[i].data = slm_imatrix_find(im, imd[i].name, &m);
            imd[i].size = (size_t)m;
        }
        p.imatrix = imd;
    }
    double t0 = slm_time_sec();
    uint32_t rc = quantize(argv[1], argv[2], &p);
    fprintf(stderr, "ref_quantize: llama_model_quantize(ftype %d, %d threads) = %u in %.3f s\n", p.ftype,
            p.nthread, rc, slm_time_sec() - t0);
    printf("%.4f\n", slm_time_sec() - t0);
    free(imd);
    slm_imatrix_free(im);
    return rc == 0 ? 0 : 1;
}
