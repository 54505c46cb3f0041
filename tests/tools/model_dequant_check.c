/* tests/tools/model_dequant_check.c — every tensor of a GGUF (e.g. one that
 * llama.cpp's llama_model_quantize wrote) as slm's model loader reads it
 * (slm_llama_dequantize) against ggml's own to_float from llama.cpp's
 * libggml-base.so: bit-identical f32 or a failure naming the tensor.
 *   model_dequant_check M.gguf     exit 0 all equal, 1 mismatch, 77 no ggml */
#include <stdio.h>
#include <string.h>

#include "core/gguf.h"
#include "model/llama.h"
#include "tests/unit/ggml_dl.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: model_dequant_check M.gguf\n");
        return 2;
    }
    ggml_ref ref;
    if (!ggml_ref_open(&ref)) return 77;
    slm_gguf *g;
    if (slm_gguf_open(argv[1], &g) != SLM_OK) return 2;
    int bad = 0, n_quant = 0;
    for (int64_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        const struct ggml_type_traits_v *tr = ref.get_type_traits((int)t->type);
        float *a = slm_alloc((size_t)t->n_elements * sizeof(float));
        float *b = slm_alloc((size_t)t->n_elements * sizeof(float));
        if (!a || !b || slm_llama_dequantize(argv[1], t, a) != SLM_OK) return 1;
        if (t->type == SLM_TYPE_F32) {
            memcpy(b, t->data, (size_t)t->n_elements * sizeof(float));
        } else {
            if (!tr || !tr->to_float) {
                fprintf(stderr, "FAIL: ggml has no to_float for %s\n", t->name);
                return 1;
            }
            const int64_t row = t->ne[0], rows = t->n_elements / row;
            const size_t rb = slm_type_row_bytes(t->type, row);
            for (int64_t r = 0; r < rows; r++)
                tr->to_float((const char *)t->data + (size_t)r * rb, b + r * row, row);
            n_quant++;
        }
        if (memcmp(a, b, (size_t)t->n_elements * sizeof(float)) != 0) {
            fprintf(stderr, "FAIL: %s (%s): slm's f32 values differ from ggml's\n", t->name,
                    slm_type_name(t->type));
            bad++;
        }
        slm_free(a);
        slm_free(b);
    }
    printf("%lld tensors (%d non-F32) read identically to ggml's to_float%s\n",
           (long long)slm_gguf_n_tensors(g), n_quant, bad ? " -- EXCEPT the ones above" : "");
    slm_gguf_close(g);
    return bad ? 1 : 0;
}
