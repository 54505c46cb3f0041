/* tests/unit/test_tok_load.c — tokenizer metadata validation on small
 * hand-made GGUF vocabularies: a well-formed one loads and encodes as the
 * merges dictate; malformed ones (duplicate tokens, short arrays, wrong
 * types, unknown model or pre-tokenizer, missing merges, add_bos without a
 * BOS) are refused with SLM_ERR_FORMAT instead of crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gguf.h"
#include "data/tokenizer.h"

static char g_path[256];

typedef struct {
    const char *model, *pre;
    const char *const *tokens;
    size_t n_tokens;
    const int32_t *types;
    size_t n_types;
    const char *const *merges;
    size_t n_merges;
    bool add_bos, set_add_bos;
    bool scores_as_str;
} vocab_spec;

static const char *const k_tokens[] = {"a", "b", "ab", "<|x|>", "\xc4\xa0", "\xc4\xa0" "ab"};
static const int32_t k_types[] = {1, 1, 1, 3, 1, 1};
static const char *const k_merges[] = {"a b", "\xc4\xa0 ab"};

static vocab_spec good(void) {
    vocab_spec v = {"gpt2", "gpt-2", k_tokens, 6, k_types, 6, k_merges, 2, false, false, false};
    return v;
}

static slm_status load(const vocab_spec *v, slm_tokenizer **t) {
    slm_gguf_writer *w = slm_gguf_writer_new();
    assert_non_null(w);
    assert_int_equal(slm_gguf_set_str(w, "general.architecture", "llama"), SLM_OK);
    if (v->model) assert_int_equal(slm_gguf_set_str(w, "tokenizer.ggml.model", v->model), SLM_OK);
    if (v->pre) assert_int_equal(slm_gguf_set_str(w, "tokenizer.ggml.pre", v->pre), SLM_OK);
    if (v->tokens) assert_int_equal(slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", v->tokens, v->n_tokens), SLM_OK);
    if (v->types)
        assert_int_equal(slm_gguf_set_arr(w, "tokenizer.ggml.token_type", SLM_GGUF_INT32, v->types, v->n_types), SLM_OK);
    if (v->merges) assert_int_equal(slm_gguf_set_arr_str(w, "tokenizer.ggml.merges", v->merges, v->n_merges), SLM_OK);
    if (v->set_add_bos) assert_int_equal(slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", v->add_bos), SLM_OK);
    if (v->scores_as_str) assert_int_equal(slm_gguf_set_arr_str(w, "tokenizer.ggml.scores", v->tokens, v->n_tokens), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(w, g_path), SLM_OK);
    slm_gguf_writer_free(w);
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(g_path, &g), SLM_OK);
    slm_status st = slm_tokenizer_from_gguf(g, t);
    slm_gguf_close(g); /* the tokenizer keeps its own copies */
    return st;
}

static void test_good_vocab(void **state) {
    (void)state;
    vocab_spec v = good();
    slm_tokenizer *t;
    assert_int_equal(load(&v, &t), SLM_OK);
    int32_t *ids;
    size_t n;
    /* "ab ab": words "ab", " ab"; merges a+b then Ġ+ab */
    assert_int_equal(slm_tokenizer_encode(t, "ab ab", 5, false, false, &ids, &n), SLM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 5);
    free(ids);
    /* control token: text without parse_special (bytes that are not tokens are dropped as in llama.cpp) */
    assert_int_equal(slm_tokenizer_encode(t, "<|x|>", 5, false, true, &ids, &n), SLM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 3);
    free(ids);
    assert_true(slm_tokenizer_is_control(t, 3));
    assert_string_equal(slm_tokenizer_token_text(t, 5), "\xc4\xa0" "ab");
    size_t pl;
    const char *p = slm_tokenizer_piece(t, 5, false, &pl);
    assert_int_equal(pl, 3);
    assert_memory_equal(p, " ab", 3);
    p = slm_tokenizer_piece(t, 3, false, &pl);
    assert_int_equal(pl, 0);
    p = slm_tokenizer_piece(t, 3, true, &pl);
    assert_int_equal(pl, 5);
    char fp1[65], fp2[65];
    slm_tokenizer_fingerprint(t, fp1);
    slm_tokenizer_free(t);
    /* fingerprint: same vocab same print, other merges other print */
    assert_int_equal(load(&v, &t), SLM_OK);
    slm_tokenizer_fingerprint(t, fp2);
    assert_string_equal(fp1, fp2);
    slm_tokenizer_free(t);
    v.n_merges = 1;
    assert_int_equal(load(&v, &t), SLM_OK);
    slm_tokenizer_fingerprint(t, fp2);
    assert_string_not_equal(fp1, fp2);
    slm_tokenizer_free(t);
}

static void test_bad_vocabs(void **state) {
    (void)state;
    slm_tokenizer *t = NULL;
    vocab_spec v;
    const char *const dup[] = {"a", "b", "a"};
    v = good(), v.tokens = dup, v.n_tokens = 3, v.n_types = 3;
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    v = good(), v.n_types = 4; /* token_type shorter than tokens */
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    v = good(), v.model = "bert";
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    v = good(), v.model = NULL;
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    v = good(), v.pre = "no-such-pre";
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    v = good(), v.merges = NULL;
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    v = good(), v.tokens = NULL;
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    v = good(), v.scores_as_str = true; /* scores of the wrong type */
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    v = good(), v.set_add_bos = true, v.add_bos = true; /* default BOS id 11 is outside 6 tokens */
    assert_int_equal(load(&v, &t), SLM_ERR_FORMAT);
    assert_null(t);
}

int main(void) {
    snprintf(g_path, sizeof g_path, "/tmp/slm_test_tok_load_%d.gguf", (int)getpid());
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_good_vocab), cmocka_unit_test(test_bad_vocabs)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(g_path);
    return rc;
}
