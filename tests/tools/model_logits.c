/* tests/tools/model_logits.c — slm's side of the llama.cpp agreement tests:
 * loads a GGUF with slm_llama_load and, for a list of token ids,
 *   --logits OUT.f32   writes the logits at every position, (T, V) float32
 *                      (one block forward, no cache)
 *   --gen N            greedy-decodes N tokens after the ids with the KV
 *                      cache (prompt in one call, then one token per call),
 *                      stopping at EOS; prints {"ids": [...]}
 *   --gen-ids "1 2"    prompt of --gen instead of --ids
 *   --lora A.gguf      merges a llama.cpp LoRA adapter first (scale 1)
 *
 *   model_logits --model M.gguf --ids "1 2 3" [--logits F] [--gen N] [--lora A]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"
#include "model/adapter.h"
#include "model/infer.h"
#include "model/llama.h"
#include "model/sample.h"

static int64_t parse_ids(const char *s, int32_t *ids) {
    int64_t n = 0;
    for (char *p = (char *)s, *e; n < 4096; p = e) {
        long v = strtol(p, &e, 10);
        if (e == p) break;
        ids[n++] = (int32_t)v;
    }
    return n;
}

int main(int argc, char **argv) {
    const char *model = NULL, *ids_s = "", *gids_s = NULL, *out = NULL, *lora = NULL;
    long gen = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--ids")) ids_s = argv[i + 1];
        else if (!strcmp(argv[i], "--logits")) out = argv[i + 1];
        else if (!strcmp(argv[i], "--gen")) gen = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--lora")) lora = argv[i + 1];
        else if (!strcmp(argv[i], "--gen-ids")) gids_s = argv[i + 1];
        else {
            fprintf(stderr, "model_logits: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!model) {
        fprintf(stderr, "usage: model_logits --model M.gguf --ids \"1 2 3\" [--logits F] [--gen N] [--lora A]\n");
        return 2;
    }
    static int32_t ids[4096], gids[4096];
    const int64_t T = parse_ids(ids_s, ids), TG = gids_s ? parse_ids(gids_s, gids) : T;
    if (!gids_s) memcpy(gids, ids, sizeof ids);
    if (T == 0 || TG == 0) {
        fprintf(stderr, "model_logits: --ids is empty\n");
        return 2;
    }
    slm_gguf *g;
    slm_llama_weights w;
    slm_status st = slm_llama_load(model, &g, &w);
    if (st != SLM_OK) return slm_status_exit_code(st);
    if (lora && (st = slm_adapter_merge_file(lora, 1.0f, &w)) != SLM_OK) return slm_status_exit_code(st);
    const int64_t V = w.hp.n_vocab;
    int32_t eos = 2;
    uint32_t e32;
    if (slm_gguf_get_u32(g, "tokenizer.ggml.eos_token_id", false, &e32) == SLM_OK) eos = (int32_t)e32;
    if (out) {
        slm_llama_infer_params p = {.B = 1, .T_max = T, .n_kv = 0, .all_logits = true};
        slm_llama_infer *s;
        if ((st = slm_llama_infer_init(&w, &p, &s)) != SLM_OK) return slm_status_exit_code(st);
        const float *lg = slm_llama_infer_forward(s, ids, T, SLM_LOGITS_ALL);
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(lg, sizeof(float), (size_t)(T * V), f) != (size_t)(T * V) || fclose(f)) {
            fprintf(stderr, "model_logits: cannot write %s\n", out);
            return 1;
        }
        slm_llama_infer_free(s);
    }
    if (gen > 0) {
        slm_llama_infer_params p = {.B = 1, .T_max = TG, .n_kv = TG + gen, .all_logits = false};
        slm_llama_infer *s;
        if ((st = slm_llama_infer_init(&w, &p, &s)) != SLM_OK) return slm_status_exit_code(st);
        const float *lg = slm_llama_infer_forward(s, gids, TG, SLM_LOGITS_LAST);
        printf("{\"ids\":[");
        for (long i = 0; i < gen; i++) {
            int32_t t = slm_argmax(lg, V);
            if (t == eos) break;
            printf("%s%d", i ? "," : "", t);
            if (i + 1 < gen) lg = slm_llama_infer_forward(s, &t, 1, SLM_LOGITS_LAST);
        }
        printf("]}\n");
        slm_llama_infer_free(s);
    }
    slm_llama_weights_free(&w);
    slm_gguf_close(g);
    return 0;
}
