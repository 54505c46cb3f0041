/* cli/cmd_tokenize.c — `slm tokenize --model M.gguf [--text FILE] [--bos|--no-bos]
 * [--special]`: prints the token ids of a text (stdin by default) on one
 * line, separated by spaces (the ids llama.cpp's llama-tokenize --ids
 * prints).  BOS follows the vocabulary's tokenizer.ggml.add_bos_token unless
 * --bos / --no-bos say otherwise; --special lets special-token text such as
 * "<s>" or "<|im_start|>" become those tokens (llama.cpp's parse_special). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/fileio.h"
#include "core/gguf.h"
#include "data/tokenizer.h"

static slm_status read_stdin(char **data, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) return SLM_ERR_NOMEM;
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            char *p = realloc(buf, 2 * cap + 1);
            if (!p) {
                free(buf);
                return SLM_ERR_NOMEM;
            }
            buf = p;
            cap *= 2;
        }
    }
    if (ferror(stdin)) {
        free(buf);
        slm_log_error("slm tokenize: reading standard input failed");
        return SLM_ERR_IO;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return SLM_OK;
}

int slm_cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text_path = NULL;
    bool bos = false, no_bos = false, special = false;
    int64_t threads = 0;
    slm_opt opts[] = {
        {"model", 'm', SLM_OPT_STR, &model, NULL, "FILE", "GGUF file with a tokenizer (model or vocab-only; required)"},
        {"text", 't', SLM_OPT_STR, &text_path, NULL, "FILE", "text to tokenize (default: standard input)"},
        {"bos", 0, SLM_OPT_FLAG, &bos, NULL, NULL, "prepend BOS even if the vocabulary does not ask for it"},
        {"no-bos", 0, SLM_OPT_FLAG, &no_bos, NULL, NULL, "do not prepend BOS"},
        {"special", 0, SLM_OPT_FLAG, &special, NULL, NULL, "parse special-token text (e.g. <s>) into special tokens"},
        {"threads", 0, SLM_OPT_INT, &threads, "0", "N", "encoding threads (0: OpenMP default)"},
        {0},
    };
    int rc = slm_opts_parse("tokenize", "slm tokenize --model M.gguf [--text FILE] [--bos|--no-bos] [--special]",
                            "Print the token ids of a text, space-separated on one line.", opts, argc, argv, NULL);
    if (rc >= 0) return rc;
    if (!model) {
        fprintf(stderr, "slm tokenize: --model is required (a GGUF file with tokenizer.ggml.* keys)\n");
        return 2;
    }
    if (bos && no_bos) {
        fprintf(stderr, "slm tokenize: --bos and --no-bos contradict each other; give at most one\n");
        return 2;
    }
    slm_gguf *g = NULL;
    slm_tokenizer *t = NULL;
    char *text = NULL;
    size_t len = 0;
    int32_t *ids = NULL;
    size_t n = 0;
    slm_status st = slm_gguf_open(model, &g);
    if (st == SLM_OK) st = slm_tokenizer_from_gguf(g, &t);
    if (st == SLM_OK) st = text_path ? slm_read_file(text_path, &text, &len) : read_stdin(&text, &len);
    if (st == SLM_OK) {
        bool add_bos = bos ? true : no_bos ? false : slm_tokenizer_add_bos(t);
        st = slm_tokenizer_encode_mt(t, text, len, add_bos, special, (int)threads, &ids, &n);
    }
    if (st == SLM_OK && !no_bos && !bos && slm_tokenizer_add_eos(t) && slm_tokenizer_eos(t) >= 0) {
        int32_t *p = realloc(ids, (n + 1) * sizeof *ids); /* llama.cpp's add_special also appends EOS */
        if (!p) st = SLM_ERR_NOMEM;
        else (ids = p)[n++] = slm_tokenizer_eos(t);
    }
    if (st == SLM_OK) {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
        if (fflush(stdout) != 0) {
            slm_log_error("slm tokenize: writing standard output failed");
            st = SLM_ERR_IO;
        }
    }
    free(ids);
    free(text);
    slm_tokenizer_free(t);
    slm_gguf_close(g);
    return slm_status_exit_code(st);
}
