/* tests/tools/mk_chat_vocab.c — IN.gguf OUT.gguf: copies a vocabulary and
 * appends the ChatML and Llama-3 chat markers as control tokens (type 3), so
 * that chat templates can be tested against llama.cpp on a real BPE vocab.
 * Merges and every other key are copied unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"

static const char *extra[] = {"<|im_start|>", "<|im_end|>", "<|begin_of_text|>",
                              "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
#define N_EXTRA (sizeof extra / sizeof *extra)

static bool skip(const char *key) {
    return !strcmp(key, "tokenizer.ggml.tokens") || !strcmp(key, "tokenizer.ggml.token_type") ||
           !strcmp(key, "tokenizer.ggml.scores");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: mk_chat_vocab IN.gguf OUT.gguf\n");
        return 2;
    }
    slm_gguf *g;
    if (slm_gguf_open(argv[1], &g) != SLM_OK) return 2;
    int64_t kt = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    int64_t ky = slm_gguf_find_key(g, "tokenizer.ggml.token_type");
    int64_t ks = slm_gguf_find_key(g, "tokenizer.ggml.scores");
    if (kt < 0) {
        fprintf(stderr, "%s: no tokenizer.ggml.tokens\n", argv[1]);
        return 2;
    }
    uint64_t n = slm_gguf_arr_n(g, kt), m = n + N_EXTRA;
    const char **toks = calloc(m, sizeof *toks);
    char **owned = calloc(n, sizeof *owned);
    int32_t *types = calloc(m, sizeof *types);
    float *scores = calloc(m, sizeof *scores);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = slm_gguf_arr_str(g, kt, i, &len);
        owned[i] = malloc(len + 1);
        memcpy(owned[i], s, len);
        owned[i][len] = 0;
        toks[i] = owned[i];
        types[i] = ky >= 0 ? ((const int32_t *)slm_gguf_arr_data(g, ky))[i] : 1;
        scores[i] = ks >= 0 ? ((const float *)slm_gguf_arr_data(g, ks))[i] : 0.0f;
    }
    for (uint64_t i = 0; i < N_EXTRA; i++) {
        toks[n + i] = extra[i];
        types[n + i] = 3;
    }
    slm_gguf_writer *w = slm_gguf_writer_new();
    slm_status st = slm_gguf_copy_all_kv(w, g, skip);
    if (st == SLM_OK) st = slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, m);
    if (st == SLM_OK) st = slm_gguf_set_arr(w, "tokenizer.ggml.token_type", SLM_GGUF_INT32, types, m);
    if (st == SLM_OK && ks >= 0) st = slm_gguf_set_arr(w, "tokenizer.ggml.scores", SLM_GGUF_FLOAT32, scores, m);
    if (st == SLM_OK) st = slm_gguf_writer_write(w, argv[2]);
    slm_gguf_writer_free(w);
    for (uint64_t i = 0; i < n; i++) free(owned[i]);
    free(owned), free(toks), free(types), free(scores);
    slm_gguf_close(g);
    return st == SLM_OK ? 0 : 1;
}
