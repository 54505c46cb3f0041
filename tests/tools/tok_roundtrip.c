/* tests/tools/tok_roundtrip.c — test helper around slm's tokenizer.
 *   tok_roundtrip VOCAB.gguf FILE
 *       encodes FILE (no BOS), decodes the ids, writes the decoded text to
 *       stdout; exit 1 if it differs from the input
 *   tok_roundtrip VOCAB.gguf FILE --cases
 *       FILE holds texts separated by "\n__case__\n": prints the ids of
 *       each (no BOS, special tokens not parsed), one line per text */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/gguf.h"
#include "data/tokenizer.h"

int main(int argc, char **argv) {
    if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "--cases"))) {
        fprintf(stderr, "usage: tok_roundtrip VOCAB.gguf FILE [--cases]\n");
        return 2;
    }
    slm_gguf *g;
    slm_tokenizer *t;
    char *text, *dec;
    size_t len, n, dl;
    int32_t *ids;
    if (slm_gguf_open(argv[1], &g) || slm_tokenizer_from_gguf(g, &t) || slm_read_file(argv[2], &text, &len))
        return 2;
    if (argc == 4) {
        const char *sep = "\n__case__\n";
        for (char *p = text, *end = text + len; p <= end;) {
            char *q = strstr(p, sep);
            size_t l = q ? (size_t)(q - p) : (size_t)(end - p);
            if (slm_tokenizer_encode(t, p, l, false, false, &ids, &n)) return 1;
            for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
            printf("\n");
            free(ids);
            if (!q) break;
            p = q + strlen(sep);
        }
        free(text);
        slm_tokenizer_free(t);
        slm_gguf_close(g);
        return 0;
    }
    if (slm_tokenizer_encode(t, text, len, false, false, &ids, &n) ||
        slm_tokenizer_decode(t, ids, n, false, &dec, &dl))
        return 1;
    fwrite(dec, 1, dl, stdout);
    int same = dl == len && !memcmp(dec, text, len);
    if (!same) fprintf(stderr, "tok_roundtrip: decode(encode(%s)) differs from the text\n", argv[2]);
    free(dec);
    free(ids);
    free(text);
    slm_tokenizer_free(t);
    slm_gguf_close(g);
    return same ? 0 : 1;
}
