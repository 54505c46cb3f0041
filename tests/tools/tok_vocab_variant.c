/* tests/tools/tok_vocab_variant.c — copies a vocabulary GGUF with some
 * string / bool keys replaced, to test pre-tokenizers and flags on a real
 * vocabulary (e.g. the gpt-2 vocab with tokenizer.ggml.pre = qwen2), or
 * the type of single tokens ("type:TEXT=N" sets tokenizer.ggml.token_type
 * of the token TEXT to N, e.g. 4 = user-defined).
 *   tok_vocab_variant IN.gguf OUT.gguf key=value ...   ("true"/"false" make bools) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tok_vocab_variant IN.gguf OUT.gguf key=value ...\n");
        return 2;
    }
    slm_gguf *g;
    if (slm_gguf_open(argv[1], &g) != SLM_OK) return 2;
    slm_gguf_writer *w = slm_gguf_writer_new();
    slm_status st = w ? slm_gguf_copy_all_kv(w, g, NULL) : SLM_ERR_NOMEM;
    int64_t tk = slm_gguf_find_key(g, "tokenizer.ggml.tokens"), yk = slm_gguf_find_key(g, "tokenizer.ggml.token_type");
    int32_t *types = NULL;
    uint64_t n = tk >= 0 ? slm_gguf_arr_n(g, tk) : 0;
    for (int i = 3; i < argc && st == SLM_OK; i++) {
        if (strncmp(argv[i], "type:", 5) != 0) continue;
        const char *eq = strrchr(argv[i], '=');
        if (!eq || yk < 0 || slm_gguf_arr_n(g, yk) != n) {
            fprintf(stderr, "tok_vocab_variant: cannot apply '%s'\n", argv[i]);
            st = SLM_ERR_USAGE;
            break;
        }
        if (!types) {
            types = malloc(n * sizeof *types);
            if (!types) return 1;
            memcpy(types, slm_gguf_arr_data(g, yk), n * sizeof *types);
        }
        size_t tl = (size_t)(eq - argv[i] - 5);
        uint64_t j = 0;
        for (; j < n; j++) {
            uint64_t l;
            const char *s = slm_gguf_arr_str(g, tk, j, &l);
            if (l == tl && !memcmp(s, argv[i] + 5, tl)) break;
        }
        if (j == n) {
            fprintf(stderr, "tok_vocab_variant: no token '%.*s'\n", (int)tl, argv[i] + 5);
            st = SLM_ERR_USAGE;
            break;
        }
        types[j] = atoi(eq + 1);
    }
    if (types && st == SLM_OK) st = slm_gguf_set_arr(w, "tokenizer.ggml.token_type", SLM_GGUF_INT32, types, n);
    free(types);
    for (int i = 3; i < argc && st == SLM_OK; i++) {
        char key[256];
        if (!strncmp(argv[i], "type:", 5)) continue;
        const char *eq = strchr(argv[i], '=');
        if (!eq || (size_t)(eq - argv[i]) >= sizeof key) {
            fprintf(stderr, "tok_vocab_variant: '%s' is not key=value\n", argv[i]);
            st = SLM_ERR_USAGE;
            break;
        }
        memcpy(key, argv[i], (size_t)(eq - argv[i]));
        key[eq - argv[i]] = 0;
        if (!strcmp(eq + 1, "true") || !strcmp(eq + 1, "false")) st = slm_gguf_set_bool(w, key, !strcmp(eq + 1, "true"));
        else st = slm_gguf_set_str(w, key, eq + 1);
    }
    for (int64_t i = 0; i < slm_gguf_n_tensors(g) && st == SLM_OK; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        st = slm_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
    }
    if (st == SLM_OK) st = slm_gguf_writer_write(w, argv[2]);
    slm_gguf_writer_free(w);
    slm_gguf_close(g);
    return slm_status_exit_code(st);
}
