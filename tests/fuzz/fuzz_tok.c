/* tests/fuzz/fuzz_tok.c — libFuzzer harness for the tokenizers: every
 * vocabulary in $SLM_SHARED/vocab (loaded once) encodes arbitrary bytes
 * (with and without BOS and special-token parsing, through the one-shot
 * encoder and a reused session, which must agree) and decodes arbitrary id
 * sequences (ids outside the vocabulary included: decode must refuse them,
 * not read out of bounds).  First input byte: bit 0-3 vocabulary, bit 4
 * decode instead of encode, bit 5 parse_special / render_special, bit 6
 * add_bos.  Without $SLM_SHARED the harness does nothing (says so once). */
#include <dirent.h>
#include <stdbool.h>

#include "core/base.h"
#include "core/gguf.h"
#include "data/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

enum { MAX_VOCABS = 8 };
static slm_tokenizer *toks[MAX_VOCABS];
static slm_tok_session *sess[MAX_VOCABS];
static int n_toks = -1;

static void load_vocabs(void) {
    n_toks = 0;
    fuzz_quiet();
    const char *shared = getenv("SLM_SHARED");
    char dir[2048];
    if (!shared || !*shared) {
        fprintf(stderr, "fuzz_tok: SLM_SHARED not set; no vocabularies, nothing fuzzed\n");
        return;
    }
    snprintf(dir, sizeof dir, "%s/vocab", shared);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz_tok: cannot open %s; nothing fuzzed\n", dir);
        return;
    }
    char *names[64];
    int nn = 0;
    for (struct dirent *e; (e = readdir(d)) && nn < 64;) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".gguf") == 0) names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    /* sorted: the vocabulary index in the first byte is stable across runs */
    for (int i = 0; i < nn; i++)
        for (int j = i + 1; j < nn; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (int i = 0; i < nn; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        slm_gguf *g = NULL;
        slm_tokenizer *t = NULL;
        if (n_toks < MAX_VOCABS && slm_gguf_open(p, &g) == SLM_OK &&
            slm_tokenizer_from_gguf(g, &t) == SLM_OK) {
            toks[n_toks] = t;
            sess[n_toks] = slm_tok_session_new(t);
            CHECK(sess[n_toks] != NULL);
            n_toks++;
        }
        slm_gguf_close(g); /* the tokenizer copies what it needs */
        free(names[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (n_toks < 0) load_vocabs();
    if (n_toks == 0 || size < 1) return 0;
    const slm_tokenizer *t = toks[(data[0] & 15) % n_toks];
    slm_tok_session *s = sess[(data[0] & 15) % n_toks];
    bool decode = data[0] & 16, special = data[0] & 32, bos = data[0] & 64;
    data++, size--;
    int32_t nv = slm_tokenizer_n_vocab(t);
    if (!decode) {
        int32_t *ids = NULL, *ids2 = NULL;
        size_t n = 0, n2 = 0;
        slm_status st = slm_tokenizer_encode(t, (const char *)data, size, bos, special, &ids, &n);
        slm_status st2 = slm_tok_session_encode(s, (const char *)data, size, bos, special, &ids2, &n2);
        CHECK(st == st2);
        if (st == SLM_OK) {
            CHECK(n == n2 && (n == 0 || memcmp(ids, ids2, n * sizeof *ids) == 0));
            for (size_t i = 0; i < n; i++) CHECK(ids[i] >= 0 && ids[i] < nv);
            /* and what encode produced decodes */
            char *buf = NULL;
            size_t len = 0;
            CHECK(slm_tokenizer_decode(t, ids, n, true, &buf, &len) == SLM_OK);
            CHECK(buf[len] == '\0');
            free(buf);
        }
        free(ids);
        free(ids2);
        return 0;
    }
    size_t n = size / 4;
    int32_t *ids = malloc(n ? n * sizeof *ids : 1);
    CHECK(ids != NULL);
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, data + 4 * i, 4);
        /* mostly in range (deep paths), the top bit keeps raw values (bounds checks) */
        ids[i] = (u & 0x80000000u) ? (int32_t)(u ^ 0x80000000u) - 0x40000000 : (int32_t)(u % (uint32_t)nv);
    }
    char *buf = NULL;
    size_t len = 0;
    slm_status st = slm_tokenizer_decode(t, ids, n, special, &buf, &len);
    if (st == SLM_OK) {
        CHECK(buf != NULL && buf[len] == '\0');
        for (size_t i = 0; i < n; i++) CHECK(ids[i] >= 0 && ids[i] < nv);
        free(buf);
    }
    for (size_t i = 0; i < n && i < 64; i++) {
        if (ids[i] < 0 || ids[i] >= nv) continue; /* piece() asserts its id: a caller's contract */
        size_t pl = 0;
        const char *p = slm_tokenizer_piece(t, ids[i], special, &pl);
        if (p)
            for (size_t c = 0; c < pl; c++) (void)*(volatile const char *)(p + c);
    }
    free(ids);
    return 0;
}
