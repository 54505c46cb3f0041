/* tests/tools/mkvocab.c — writes a tiny character-level SentencePiece-style
 * vocabulary GGUF (tokenizer.ggml.model = "llama") for fast training tests:
 *   0 <unk>, 1 <s>, 2 </s>, 3..258 byte tokens <0x00>..<0xFF>,
 *   then "▁" (the SentencePiece space) and the printable ASCII characters.
 * ASCII text tokenizes to one token per character (newlines and other
 * control bytes through byte fallback).
 *
 *   mkvocab OUT.gguf */
#include <stdio.h>
#include <string.h>

#include "core/gguf.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mkvocab OUT.gguf\n");
        return 2;
    }
    static char store[400][16];
    const char *tokens[400];
    float scores[400];
    int32_t types[400];
    int n = 0;
    const char *special[3] = {"<unk>", "<s>", "</s>"};
    for (int i = 0; i < 3; i++) {
        snprintf(store[n], sizeof store[n], "%s", special[i]);
        types[n] = i == 0 ? 2 : 3; /* UNKNOWN, CONTROL */
        scores[n++] = 0.0f;
    }
    for (int b = 0; b < 256; b++) {
        snprintf(store[n], sizeof store[n], "<0x%02X>", b);
        types[n] = 6; /* BYTE */
        scores[n++] = 0.0f;
    }
    snprintf(store[n], sizeof store[n], "\xe2\x96\x81");
    types[n] = 1;
    scores[n++] = -1.0f;
    for (int c = 0x21; c < 0x7f; c++) {
        snprintf(store[n], sizeof store[n], "%c", c);
        types[n] = 1; /* NORMAL */
        scores[n] = -2.0f - (float)n * 1e-3f;
        n++;
    }
    for (int i = 0; i < n; i++) tokens[i] = store[i];
    slm_gguf_writer *w = slm_gguf_writer_new();
    slm_status st = w ? SLM_OK : SLM_ERR_NOMEM;
    if (st == SLM_OK) st = slm_gguf_set_str(w, "general.architecture", "llama");
    if (st == SLM_OK) st = slm_gguf_set_str(w, "general.name", "slm test char vocab");
    if (st == SLM_OK) st = slm_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    if (st == SLM_OK) st = slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", tokens, (uint64_t)n);
    if (st == SLM_OK) st = slm_gguf_set_arr(w, "tokenizer.ggml.scores", SLM_GGUF_FLOAT32, scores, (uint64_t)n);
    if (st == SLM_OK) st = slm_gguf_set_arr(w, "tokenizer.ggml.token_type", SLM_GGUF_INT32, types, (uint64_t)n);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    if (st == SLM_OK) st = slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", true);
    if (st == SLM_OK) st = slm_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", false);
    /* no leading "▁": a prompt tokenizes like the same text inside the corpus */
    if (st == SLM_OK) st = slm_gguf_set_bool(w, "tokenizer.ggml.add_space_prefix", false);
    if (st == SLM_OK) st = slm_gguf_writer_write(w, argv[1]);
    slm_gguf_writer_free(w);
    return st == SLM_OK ? 0 : 1;
}
