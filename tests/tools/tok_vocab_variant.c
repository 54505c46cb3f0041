/* tests/tools/tok_vocab_variant.c — copies a vocabulary GGUF with some
 * string / bool keys replaced, to test pre-tokenizers and flags on a real
 * vocabulary (e.g. the gpt-2 vocab with tokenizer.ggml.pre = qwen2).
 *   tok_vocab_variant IN.gguf OUT.gguf key=value ...   ("true"/"false" make bools) */
#include <stdio.h>
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
    for (int i = 3; i < argc && st == SLM_OK; i++) {
        char key[256];
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
