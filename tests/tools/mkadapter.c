/* tests/tools/mkadapter.c — writes a random LoRA adapter GGUF in llama.cpp's
 * format for a given model (general.type = adapter, adapter.type = lora,
 * adapter.lora.alpha; "<weight>.lora_a" ne = [in, r], "<weight>.lora_b"
 * ne = [r, out], F32), with B non-zero so that the adapter changes logits.
 *
 *   mkadapter --model M.gguf --out A.gguf [--rank 4] [--alpha 8] [--seed 1]
 *             [--targets q,k,v,o,gate,up,down]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"
#include "model/llama.h"

static const char *const short_names[7] = {"q", "k", "v", "o", "gate", "up", "down"};

int main(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *targets = "q,k,v,o,gate,up,down";
    int64_t r = 4;
    float alpha = 8.0f;
    uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
        else if (!strcmp(argv[i], "--rank")) r = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--alpha")) alpha = strtof(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--targets")) targets = argv[i + 1];
        else return fprintf(stderr, "mkadapter: unknown option %s\n", argv[i]), 2;
    }
    if (!model || !out || r <= 0) {
        fprintf(stderr, "usage: mkadapter --model M.gguf --out A.gguf [--rank 4] [--alpha 8] [--seed 1] [--targets q,k,...]\n");
        return 2;
    }
    slm_gguf *g;
    slm_llama_weights w;
    slm_status st = slm_llama_load(model, &g, &w);
    if (st != SLM_OK) return slm_status_exit_code(st);
    slm_gguf_writer *gw = slm_gguf_writer_new();
    slm_gguf_set_str(gw, "general.architecture", "llama");
    slm_gguf_set_str(gw, "general.type", "adapter");
    slm_gguf_set_str(gw, "adapter.type", "lora");
    slm_gguf_set_f32(gw, "adapter.lora.alpha", alpha);
    slm_rng rng;
    slm_rng_seed(&rng, seed);
    const int64_t nt = slm_llama_n_tensors(&w);
    float **bufs = calloc((size_t)nt * 2, sizeof(float *));
    char names[2][160];
    for (int64_t i = 0; i < nt && st == SLM_OK; i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(&w, i, &t);
        if (t.layer < 0 || t.n_dims != 2) continue;
        const char *sn = short_names[t.kind - SLM_W_ATTN_Q - (t.kind > SLM_W_FFN_NORM ? 1 : 0)];
        char pat[16];
        snprintf(pat, sizeof pat, ",%s,", sn);
        char list[256];
        snprintf(list, sizeof list, ",%s,", targets);
        if (!strstr(list, pat)) continue;
        const int64_t in = t.ne[0], o = t.ne[1];
        float *a = malloc((size_t)(r * in) * 4), *b = malloc((size_t)(o * r) * 4);
        bufs[2 * i] = a, bufs[2 * i + 1] = b;
        for (int64_t j = 0; j < r * in; j++) a[j] = slm_rng_normal(&rng) / sqrtf((float)in);
        for (int64_t j = 0; j < o * r; j++) b[j] = 0.5f * slm_rng_normal(&rng) / sqrtf((float)r);
        const int64_t nea[2] = {in, r}, neb[2] = {r, o};
        snprintf(names[0], sizeof names[0], "%s.lora_a", t.name);
        snprintf(names[1], sizeof names[1], "%s.lora_b", t.name);
        st = slm_gguf_add_tensor(gw, names[0], SLM_TYPE_F32, 2, nea, a);
        if (st == SLM_OK) st = slm_gguf_add_tensor(gw, names[1], SLM_TYPE_F32, 2, neb, b);
    }
    if (st == SLM_OK) st = slm_gguf_writer_write(gw, out);
    for (int64_t i = 0; i < 2 * nt; i++) free(bufs[i]);
    free(bufs);
    slm_gguf_writer_free(gw);
    slm_llama_weights_free(&w);
    slm_gguf_close(g);
    return slm_status_exit_code(st);
}
