/* tests/tools/mkmodel.c — writes a small random-weight Llama GGUF for tests
 * and benchmarks, with the tokenizer (a real vocabulary) copied from a vocab
 * GGUF, through slm_llama_save_gguf (the same writer the trainer exports
 * with).
 *
 *   mkmodel --vocab ggml-vocab-llama-spm.gguf --out m.gguf [--type f32|f16|bf16]
 *           [--dim 64] [--layers 2] [--heads 4] [--kv-heads 2] [--ff 160]
 *           [--ctx 256] [--tied] [--seed 1] [--rope-base 10000] [--eps 1e-5]
 *
 * Weights: matrices N(0, 1/in), token_embd N(0, 1), norms 1 + N(0, 0.1^2),
 * so that activations stay O(1) and logits are spread well apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "core/gguf.h"
#include "model/llama.h"

static int usage(void) {
    fprintf(stderr, "usage: mkmodel --vocab VOCAB.gguf --out OUT.gguf [--type f32|f16|bf16] "
                    "[--dim N] [--layers N] [--heads N] [--kv-heads N] [--ff N] [--ctx N] "
                    "[--tied] [--seed N] [--rope-base X] [--eps X]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *vocab = NULL, *out = NULL, *type = "f32";
    slm_llama_hparams hp = {.n_embd = 64, .n_layer = 2, .n_head = 4, .n_head_kv = 2,
                            .n_ff = 160, .n_ctx = 256, .rms_eps = 1e-5f, .rope_base = 10000.0f};
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--tied")) { hp.tied_output = true; continue; }
        if (!v) return usage();
        i++;
        if (!strcmp(a, "--vocab")) vocab = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--type")) type = v;
        else if (!strcmp(a, "--dim")) hp.n_embd = atoll(v);
        else if (!strcmp(a, "--layers")) hp.n_layer = atoll(v);
        else if (!strcmp(a, "--heads")) hp.n_head = atoll(v);
        else if (!strcmp(a, "--kv-heads")) hp.n_head_kv = atoll(v);
        else if (!strcmp(a, "--ff")) hp.n_ff = atoll(v);
        else if (!strcmp(a, "--ctx")) hp.n_ctx = atoll(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--rope-base")) hp.rope_base = strtof(v, NULL);
        else if (!strcmp(a, "--eps")) hp.rms_eps = strtof(v, NULL);
        else return usage();
    }
    slm_type t;
    if (!vocab || !out || !slm_type_from_name(type, &t)) {
        char up[8] = {0};
        for (int i = 0; type[i] && i < 7; i++) up[i] = (char)(type[i] >= 'a' ? type[i] - 32 : type[i]);
        if (!vocab || !out || !slm_type_from_name(up, &t)) return usage();
    }
    if (hp.n_head <= 0 || hp.n_head_kv <= 0 || hp.n_embd % hp.n_head || hp.n_head % hp.n_head_kv)
        return usage();
    hp.head_dim = hp.n_embd / hp.n_head;
    slm_gguf *g;
    slm_status st = slm_gguf_open(vocab, &g);
    if (st != SLM_OK) return slm_status_exit_code(st);
    int64_t ki = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    if (ki < 0) {
        fprintf(stderr, "mkmodel: %s has no tokenizer.ggml.tokens\n", vocab);
        return 2;
    }
    hp.n_vocab = (int64_t)slm_gguf_arr_n(g, ki);
    slm_llama_weights w;
    if ((st = slm_llama_weights_alloc(&hp, &w)) != SLM_OK) return slm_status_exit_code(st);
    slm_rng r;
    slm_rng_seed(&r, seed);
    for (int64_t i = 0; i < slm_llama_n_tensors(&w); i++) {
        slm_llama_tensor_ref tr;
        slm_llama_tensor(&w, i, &tr);
        const int64_t n = tr.ne[0] * tr.ne[1];
        const float sd = tr.n_dims == 1 ? 0.1f : tr.kind == SLM_W_TOKEN_EMBD ? 1.0f
                                                                           : 1.0f / sqrtf((float)tr.ne[0]);
        for (int64_t j = 0; j < n; j++)
            tr.data[j] = (tr.n_dims == 1 ? 1.0f : 0.0f) + sd * slm_rng_normal(&r);
    }
    st = slm_llama_save_gguf(&w, g, t, out);
    slm_llama_weights_free(&w);
    slm_gguf_close(g);
    return slm_status_exit_code(st);
}
