/* tests/tools/gguf_types.c — `gguf_types FILE [--hash]`: one line per
 * tensor, "name TYPE" (with --hash also an FNV-1a 64 hash of its data),
 * sorted by name (for comparing files tensor by tensor), then
 * "general.file_type N". */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    const bool hash = argc == 3 && !strcmp(argv[2], "--hash");
    if (argc != 2 && !hash) {
        fprintf(stderr, "usage: gguf_types FILE [--hash]\n");
        return 2;
    }
    slm_gguf *g;
    if (slm_gguf_open(argv[1], &g) != SLM_OK) return 2;
    int64_t n = slm_gguf_n_tensors(g);
    char **lines = calloc((size_t)n + 1, sizeof(char *));
    for (int64_t i = 0; i < n; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        const char *tn = slm_type_name(t->type);
        uint64_t h = 1469598103934665603ull;
        for (size_t b = 0; hash && b < t->n_bytes; b++) h = (h ^ ((const uint8_t *)t->data)[b]) * 1099511628211ull;
        size_t len = strlen(t->name) + 64;
        lines[i] = malloc(len);
        if (hash) snprintf(lines[i], len, "%s %s %016llx", t->name, tn ? tn : "?", (unsigned long long)h);
        else snprintf(lines[i], len, "%s %s", t->name, tn ? tn : "?");
    }
    qsort(lines, (size_t)n, sizeof *lines, cmp);
    for (int64_t i = 0; i < n; i++) {
        printf("%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    uint32_t ft = 0;
    slm_gguf_get_u32(g, "general.file_type", false, &ft);
    printf("general.file_type %u\n", ft);
    slm_gguf_close(g);
    return 0;
}
