/* tests/unit/test_tok_vocab.c — every case of llama.cpp's tokenizer tests in
 * $SLM_SHARED/vocab (ggml-vocab-*.gguf with .inp texts separated by
 * "\n__ggml_vocab_test__\n" and .out lines of expected ids; no BOS, special
 * tokens not parsed) must match exactly, for every vocabulary found; decode
 * must give the text back; the session, one-shot and multi-threaded encoders
 * must agree.  Skips (exit 77) only when SLM_SHARED is unset/empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/gguf.h"
#include "data/tokenizer.h"

static const char *g_vocab_dir;
static const char *const k_sep = "\n__ggml_vocab_test__\n";

typedef struct {
    char *inp, *outp;
    char *texts[256];
    size_t lens[256];
    char *expect[256];
    int n;
} cases;

/* .inp: each text is followed by the separator; .out: one line per text. */
static void load_cases(const char *gguf, cases *c) {
    char path[8192];
    size_t len;
    memset(c, 0, sizeof *c);
    snprintf(path, sizeof path, "%s.inp", gguf);
    assert_int_equal(slm_read_file(path, &c->inp, &len), SLM_OK);
    char *p = c->inp, *end = c->inp + len;
    while (p < end) {
        char *s = strstr(p, k_sep);
        assert_non_null(s); /* the file ends with a separator */
        assert_true(c->n < 256);
        c->texts[c->n] = p;
        c->lens[c->n] = (size_t)(s - p);
        c->n++;
        p = s + strlen(k_sep);
    }
    snprintf(path, sizeof path, "%s.out", gguf);
    assert_int_equal(slm_read_file(path, &c->outp, &len), SLM_OK);
    int k = 0;
    for (char *line = c->outp; line < c->outp + len; k++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = 0;
        assert_true(k < c->n);
        c->expect[k] = line;
        line = nl + 1;
    }
    assert_int_equal(k, c->n);
}

static int check_vocab(const char *gguf) {
    slm_gguf *g;
    slm_tokenizer *t;
    cases c;
    assert_int_equal(slm_gguf_open(gguf, &g), SLM_OK);
    assert_int_equal(slm_tokenizer_from_gguf(g, &t), SLM_OK);
    load_cases(gguf, &c);
    slm_tok_session *s = slm_tok_session_new(t);
    assert_non_null(s);
    int bad = 0;
    for (int i = 0; i < c.n; i++) {
        int32_t *ids, *ids2;
        size_t n, n2;
        assert_int_equal(slm_tokenizer_encode(t, c.texts[i], c.lens[i], false, false, &ids, &n), SLM_OK);
        char got[16384];
        size_t k = 0;
        got[0] = 0;
        for (size_t j = 0; j < n && k + 16 < sizeof got; j++) k += (size_t)snprintf(got + k, sizeof got - k, " %d", ids[j]);
        if (strcmp(got, c.expect[i]) != 0) {
            bad++;
            fprintf(stderr, "MISMATCH %s case %d '%.*s'\n  want:%s\n  got: %s\n", gguf, i, (int)c.lens[i],
                    c.texts[i], c.expect[i], got);
        }
        /* the session encoder and the threaded one agree with the one-shot */
        assert_int_equal(slm_tok_session_encode(s, c.texts[i], c.lens[i], false, false, &ids2, &n2), SLM_OK);
        assert_int_equal(n2, n);
        assert_memory_equal(ids2, ids, n * sizeof *ids);
        free(ids2);
        assert_int_equal(slm_tokenizer_encode_mt(t, c.texts[i], c.lens[i], false, false, 2, &ids2, &n2), SLM_OK);
        assert_int_equal(n2, n);
        assert_memory_equal(ids2, ids, n * sizeof *ids);
        free(ids2);
        /* decode gives the text back */
        char *txt;
        size_t tl;
        assert_int_equal(slm_tokenizer_decode(t, ids, n, false, &txt, &tl), SLM_OK);
        if (tl != c.lens[i] || memcmp(txt, c.texts[i], tl) != 0) {
            bad++;
            fprintf(stderr, "DECODE %s case %d: '%.*s' -> '%s'\n", gguf, i, (int)c.lens[i], c.texts[i], txt);
        }
        free(txt);
        free(ids);
    }
    fprintf(stderr, "%s: %d cases, %d failures\n", gguf, c.n, bad);
    slm_tok_session_free(s);
    free(c.inp);
    free(c.outp);
    slm_tokenizer_free(t);
    slm_gguf_close(g);
    return bad;
}

static void test_all_vocab_cases(void **state) {
    (void)state;
    DIR *d = opendir(g_vocab_dir);
    assert_non_null(d);
    struct dirent *e;
    int n_vocab = 0, bad = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".gguf") != 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", g_vocab_dir, e->d_name);
        bad += check_vocab(path);
        n_vocab++;
    }
    closedir(d);
    assert_true(n_vocab >= 2); /* llama-spm and gpt-2 at least */
    assert_int_equal(bad, 0);
}

/* Long texts are cut into chunks by slm_tokenizer_encode_mt: the result must
 * not change.  The multilingual test text repeated to ~320 KB (blank lines,
 * CRLF, tabs, CJK runs at chunk borders). */
static void test_mt_long_text(void **state) {
    (void)state;
    char *one, *big;
    size_t len;
    assert_int_equal(slm_read_file("tests/data/tok_multilingual.txt", &one, &len), SLM_OK);
    const int reps = 15;
    big = malloc(len * reps);
    assert_non_null(big);
    for (int r = 0; r < reps; r++) memcpy(big + r * len, one, len);
    const char *names[] = {"ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf"};
    for (int v = 0; v < 2; v++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", g_vocab_dir, names[v]);
        slm_gguf *g;
        slm_tokenizer *t;
        assert_int_equal(slm_gguf_open(path, &g), SLM_OK);
        assert_int_equal(slm_tokenizer_from_gguf(g, &t), SLM_OK);
        int32_t *a, *b;
        size_t na, nb;
        assert_int_equal(slm_tokenizer_encode(t, big, len * reps, true, false, &a, &na), SLM_OK);
        for (int th = 1; th <= 3; th++) {
            assert_int_equal(slm_tokenizer_encode_mt(t, big, len * reps, true, false, th, &b, &nb), SLM_OK);
            assert_int_equal(nb, na);
            assert_memory_equal(a, b, na * sizeof *a);
            free(b);
        }
        char *dec;
        size_t dl;
        assert_int_equal(slm_tokenizer_decode(t, a, na, false, &dec, &dl), SLM_OK);
        assert_int_equal(dl, len * reps);
        assert_memory_equal(dec, big, dl);
        free(dec);
        free(a);
        slm_tokenizer_free(t);
        slm_gguf_close(g);
    }
    free(big);
    free(one);
}

int main(void) {
    const char *shared = getenv("SLM_SHARED");
    if (!shared || !*shared) {
        printf("skip: SLM_SHARED is not set, no reference vocabularies\n");
        return 77;
    }
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s/vocab", shared);
    g_vocab_dir = dir;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_all_vocab_cases), cmocka_unit_test(test_mt_long_text)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
