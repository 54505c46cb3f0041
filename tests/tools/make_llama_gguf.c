/* tests/tools/make_llama_gguf.c — a random Llama GGUF that llama.cpp loads,
 * for quantization tests and benchmarks:
 *   make_llama_gguf OUT.gguf DIM FF LAYERS HEADS KV_HEADS VOCAB TIED SEED [F32|F16]
 * Weights: normal with std 1/sqrt(fan_in), every 17th input column scaled
 * by 4 (outlier channels, as trained models have); norms 1 + 0.1 N(0,1);
 * token_embd N(0,1).  TIED=1 omits output.weight.  The vocabulary is a
 * synthetic SentencePiece one: <unk> <s> </s>, the 256 byte tokens, single
 * characters and filler pieces "▁wN" up to VOCAB.  Tensors are generated
 * in the writer's fill callback, one at a time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"

typedef struct {
    uint64_t seed;
    int kind; /* 0 matrix, 1 norm, 2 embedding */
    int64_t ne0, ne1;
    slm_type type;
} gen;

static slm_status fill(void *vctx, void *dst, size_t n_bytes) {
    gen *g = vctx;
    slm_rng r;
    slm_rng_seed(&r, g->seed);
    const float std = g->kind == 0 ? 1.0f / sqrtf((float)g->ne0) : 1.0f;
    for (int64_t i = 0; i < g->ne1; i++)
        for (int64_t j = 0; j < g->ne0; j++) {
            float v;
            if (g->kind == 1) v = 1.0f + 0.1f * slm_rng_normal(&r);
            else v = std * slm_rng_normal(&r) * (g->kind == 0 && j % 17 == 3 ? 4.0f : 1.0f);
            int64_t k = i * g->ne0 + j;
            if (g->type == SLM_TYPE_F16) ((uint16_t *)dst)[k] = slm_f32_to_f16(v);
            else ((float *)dst)[k] = v;
        }
    (void)n_bytes;
    return SLM_OK;
}

int main(int argc, char **argv) {
    if (argc < 10) {
        fprintf(stderr, "usage: make_llama_gguf OUT DIM FF LAYERS HEADS KV_HEADS VOCAB TIED SEED [F32|F16]\n");
        return 2;
    }
    const int64_t C = atoll(argv[2]), F = atoll(argv[3]), L = atoll(argv[4]), NH = atoll(argv[5]),
                  NKV = atoll(argv[6]), V = atoll(argv[7]);
    const int tied = atoi(argv[8]);
    const uint64_t seed = strtoull(argv[9], NULL, 10);
    const slm_type wt = argc > 10 && !strcmp(argv[10], "F16") ? SLM_TYPE_F16 : SLM_TYPE_F32;
    if (C <= 0 || F <= 0 || L <= 0 || NH <= 0 || NKV <= 0 || NH % NKV || C % NH || V < 300) {
        fprintf(stderr, "make_llama_gguf: bad dimensions\n");
        return 2;
    }
    const int64_t hs = C / NH;
    slm_gguf_writer *w = slm_gguf_writer_new();
    slm_gguf_set_str(w, "general.architecture", "llama");
    slm_gguf_set_str(w, "general.name", "slm-test-random");
    slm_gguf_set_u32(w, "general.file_type", wt == SLM_TYPE_F16 ? 1 : 0);
    slm_gguf_set_u32(w, "llama.context_length", 256);
    slm_gguf_set_u32(w, "llama.embedding_length", (uint32_t)C);
    slm_gguf_set_u32(w, "llama.block_count", (uint32_t)L);
    slm_gguf_set_u32(w, "llama.feed_forward_length", (uint32_t)F);
    slm_gguf_set_u32(w, "llama.attention.head_count", (uint32_t)NH);
    slm_gguf_set_u32(w, "llama.attention.head_count_kv", (uint32_t)NKV);
    slm_gguf_set_u32(w, "llama.rope.dimension_count", (uint32_t)hs);
    slm_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    slm_gguf_set_f32(w, "llama.rope.freq_base", 10000.0f);
    slm_gguf_set_u32(w, "llama.vocab_size", (uint32_t)V);
    /* synthetic SentencePiece vocabulary */
    char **tok = calloc((size_t)V, sizeof(char *));
    float *score = calloc((size_t)V, sizeof(float));
    int32_t *ttype = calloc((size_t)V, sizeof(int32_t));
    const char *fixed[3] = {"<unk>", "<s>", "</s>"};
    int64_t k = 0;
    for (; k < 3; k++) {
        tok[k] = strdup(fixed[k]);
        ttype[k] = k == 0 ? 2 : 3;
    }
    for (int b = 0; b < 256; b++, k++) {
        char buf[16];
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        tok[k] = strdup(buf);
        ttype[k] = 6;
    }
    for (int c = 33; c < 127 && k < V; c++, k++) {
        char buf[8] = {(char)c, 0};
        tok[k] = strdup(buf);
        ttype[k] = 1;
        score[k] = -(float)k;
    }
    for (int c = 97; c < 123 && k < V; c++, k++) {
        char buf[8];
        snprintf(buf, sizeof buf, "\xe2\x96\x81%c", c);
        tok[k] = strdup(buf);
        ttype[k] = 1;
        score[k] = -(float)k;
    }
    for (int64_t n = 0; k < V; n++, k++) {
        char buf[32];
        snprintf(buf, sizeof buf, "\xe2\x96\x81w%lld", (long long)n);
        tok[k] = strdup(buf);
        ttype[k] = 1;
        score[k] = -(float)k;
    }
    slm_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, (uint64_t)V);
    slm_gguf_set_arr(w, "tokenizer.ggml.scores", SLM_GGUF_FLOAT32, score, (uint64_t)V);
    slm_gguf_set_arr(w, "tokenizer.ggml.token_type", SLM_GGUF_INT32, ttype, (uint64_t)V);
    slm_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    slm_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    slm_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", true);

    const int64_t n_t = 3 + 9 * L;
    gen *gs = calloc((size_t)n_t, sizeof(gen));
    int64_t gi = 0;
    slm_status st = SLM_OK;
#define ADD(NAME, KIND, NE0, NE1)                                                                \
    do {                                                                                         \
        gs[gi] = (gen){seed * 1000003u + (uint64_t)gi, KIND, NE0, NE1,                          \
                       (KIND) == 1 ? SLM_TYPE_F32 : wt};                                        \
        int64_t ne[2] = {NE0, NE1};                                                              \
        if (st == SLM_OK)                                                                        \
            st = slm_gguf_add_tensor_fn(w, NAME, gs[gi].type, (KIND) == 1 ? 1 : 2, ne, fill,     \
                                        &gs[gi]);                                                \
        gi++;                                                                                    \
    } while (0)
    ADD("token_embd.weight", 2, C, V);
    for (int64_t l = 0; l < L; l++) {
        char nm[64];
#define BLK(S, KIND, A, B) do { snprintf(nm, sizeof nm, "blk.%lld." S ".weight", (long long)l); ADD(nm, KIND, A, B); } while (0)
        BLK("attn_norm", 1, C, 1);
        BLK("attn_q", 0, C, C);
        BLK("attn_k", 0, C, NKV * hs);
        BLK("attn_v", 0, C, NKV * hs);
        BLK("attn_output", 0, C, C);
        BLK("ffn_norm", 1, C, 1);
        BLK("ffn_gate", 0, C, F);
        BLK("ffn_up", 0, C, F);
        BLK("ffn_down", 0, F, C);
    }
    ADD("output_norm.weight", 1, C, 1);
    if (!tied) ADD("output.weight", 0, C, V);
    if (st == SLM_OK) st = slm_gguf_writer_write(w, argv[1]);
    slm_gguf_writer_free(w);
    for (int64_t i = 0; i < V; i++) free(tok[i]);
    free(tok), free(score), free(ttype), free(gs);
    return st == SLM_OK ? 0 : 1;
}
