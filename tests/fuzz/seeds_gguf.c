/* tests/fuzz/seeds_gguf.c — writes the GGUF fuzzing seed corpus with slm's
 * own writer: small files covering every metadata type, arrays, several
 * tensor types and alignments.  usage: seeds_gguf DIR */
#include <stdio.h>
#include <string.h>

#include "core/gguf.h"

static int write_one(slm_gguf_writer *w, const char *dir, const char *name) {
    char p[1024];
    snprintf(p, sizeof p, "%s/seed-%s.gguf", dir, name);
    slm_status st = slm_gguf_writer_write(w, p);
    slm_gguf_writer_free(w);
    return st == SLM_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: seeds_gguf DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    int bad = 0;
    slm_gguf_writer *w = slm_gguf_writer_new();
    bad |= write_one(w, dir, "empty");

    w = slm_gguf_writer_new();
    slm_gguf_set_u8(w, "a.u8", 1);
    slm_gguf_set_i8(w, "a.i8", -1);
    slm_gguf_set_u16(w, "a.u16", 2);
    slm_gguf_set_i16(w, "a.i16", -2);
    slm_gguf_set_u32(w, "a.u32", 3);
    slm_gguf_set_i32(w, "a.i32", -3);
    slm_gguf_set_f32(w, "a.f32", 0.5f);
    slm_gguf_set_bool(w, "a.bool", true);
    slm_gguf_set_str(w, "a.str", "text");
    slm_gguf_set_u64(w, "a.u64", 4);
    slm_gguf_set_i64(w, "a.i64", -4);
    slm_gguf_set_f64(w, "a.f64", 0.25);
    bad |= write_one(w, dir, "scalars");

    w = slm_gguf_writer_new();
    const char *toks[6] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81" "a", "b", ""};
    float scores[6] = {0, 0, 0, -1, -2, -3};
    int32_t types[6] = {2, 3, 3, 1, 1, 1};
    uint8_t u8s[3] = {1, 2, 3};
    double f64s[2] = {1, 2};
    slm_gguf_set_str(w, "general.architecture", "llama");
    slm_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, 6);
    slm_gguf_set_arr(w, "tokenizer.ggml.scores", SLM_GGUF_FLOAT32, scores, 6);
    slm_gguf_set_arr(w, "tokenizer.ggml.token_type", SLM_GGUF_INT32, types, 6);
    slm_gguf_set_arr(w, "a.u8s", SLM_GGUF_UINT8, u8s, 3);
    slm_gguf_set_arr(w, "a.f64s", SLM_GGUF_FLOAT64, f64s, 2);
    slm_gguf_set_arr(w, "a.none", SLM_GGUF_INT16, u8s, 0);
    slm_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    bad |= write_one(w, dir, "vocab");

    static float f32[64];
    static uint16_t f16[64];
    static uint8_t q[256];
    for (int i = 0; i < 64; i++) {
        f32[i] = (float)i / 8;
        f16[i] = slm_f32_to_f16((float)i / 4);
    }
    for (int i = 0; i < 256; i++) q[i] = (uint8_t)(i * 3);
    for (int a = 0; a < 3; a++) {
        static const uint32_t aligns[3] = {32, 8, 64};
        w = slm_gguf_writer_new();
        slm_gguf_set_str(w, "general.architecture", "llama");
        slm_gguf_set_u32(w, "llama.block_count", 1);
        if (aligns[a] != 32) slm_gguf_set_u32(w, "general.alignment", aligns[a]);
        int64_t ne2[2] = {8, 2}, ne1[1] = {32}, ne3[3] = {2, 2, 2}, ne4[4] = {1, 1, 1, 4};
        slm_gguf_add_tensor(w, "token_embd.weight", SLM_TYPE_F32, 2, ne2, f32);
        slm_gguf_add_tensor(w, "blk.0.attn_q.weight", SLM_TYPE_F16, 3, ne3, f16);
        slm_gguf_add_tensor(w, "blk.0.attn_k.weight", SLM_TYPE_Q8_0, 1, ne1, q);
        slm_gguf_add_tensor(w, "blk.0.attn_v.weight", SLM_TYPE_Q4_0, 1, ne1, q);
        slm_gguf_add_tensor(w, "blk.0.ffn_up.weight", SLM_TYPE_BF16, 4, ne4, f16);
        char name[32];
        snprintf(name, sizeof name, "tensors-align%u", aligns[a]);
        bad |= write_one(w, dir, name);
    }
    w = slm_gguf_writer_new();
    int64_t nek[1] = {256};
    slm_gguf_add_tensor(w, "q4k", SLM_TYPE_Q4_K, 1, nek, q);
    slm_gguf_add_tensor(w, "q6k", SLM_TYPE_Q6_K, 1, nek, q);
    bad |= write_one(w, dir, "kquants");
    if (bad) fprintf(stderr, "seeds_gguf: some seeds could not be written\n");
    return bad;
}
