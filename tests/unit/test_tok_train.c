/* tests/unit/test_tok_train.c — BPE training on hand-checkable corpora:
 * merge order by count with the (left id, right id) tie rule, min_frequency,
 * special token layout, determinism, and that the written GGUF tokenizes
 * the training words into single tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/gguf.h"
#include "data/bpe_train.h"
#include "data/tokenizer.h"

static char g_path[256];

static void train(const char *text, int64_t vocab, int64_t min_freq, const char *path) {
    slm_bpe_train_params p = slm_bpe_train_default_params();
    p.vocab_size = vocab;
    p.min_frequency = min_freq;
    p.n_extra_special = 2; /* <|im_start|>, <|im_end|> */
    slm_bpe_trainer *tr;
    assert_int_equal(slm_bpe_trainer_new(&p, &tr), SLM_OK);
    assert_int_equal(slm_bpe_trainer_add_text(tr, text, strlen(text)), SLM_OK);
    assert_int_equal(slm_bpe_trainer_train(tr), SLM_OK);
    assert_int_equal(slm_bpe_trainer_write_gguf(tr, path), SLM_OK);
    slm_bpe_trainer_free(tr);
}

static void expect_merges(const char *path, const char *const *want, size_t n) {
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(path, &g), SLM_OK);
    int64_t k = slm_gguf_find_key(g, "tokenizer.ggml.merges");
    assert_true(k >= 0);
    assert_int_equal(slm_gguf_arr_n(g, k), n);
    for (size_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = slm_gguf_arr_str(g, k, i, &len);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(s, want[i], len);
    }
    slm_gguf_close(g);
}

/* "ab ab ab cd": GPT-2 words "ab", " ab" x2, " cd".  Pair counts: (a,b) 3,
 * (' ',a) 2, (' ',c) 1, (c,d) 1.  Merges: a+b (3), then ' '+ab (2); with
 * min_frequency 1 also the tie (' ',c) vs (c,d) at 1, broken by the
 * smaller left id (' ' = 32 < 'c' = 99), then Ġc+d. */
static void test_merge_order(void **state) {
    (void)state;
    train("ab ab ab cd", 1000, 2, g_path);
    const char *two[] = {"a b", "\xc4\xa0 ab"};
    expect_merges(g_path, two, 2);
    train("ab ab ab cd", 1000, 1, g_path);
    const char *four[] = {"a b", "\xc4\xa0 ab", "\xc4\xa0 c", "\xc4\xa0" "c d"};
    expect_merges(g_path, four, 4);
    /* vocab limit: 5 specials + 256 bytes + 1 merge */
    train("ab ab ab cd", 5 + 256 + 1, 1, g_path);
    expect_merges(g_path, four, 1);
}

static void test_vocab_layout_and_encode(void **state) {
    (void)state;
    const char *text = "the cat sat on the mat. the cat sat. the mat sat on the cat!";
    train(text, 300, 2, g_path);
    slm_gguf *g;
    slm_tokenizer *t;
    assert_int_equal(slm_gguf_open(g_path, &g), SLM_OK);
    assert_int_equal(slm_tokenizer_from_gguf(g, &t), SLM_OK);
    assert_int_equal(slm_tokenizer_find(t, "<pad>"), 0);
    assert_int_equal(slm_tokenizer_bos(t), 1);
    assert_int_equal(slm_tokenizer_eos(t), 2);
    assert_int_equal(slm_tokenizer_pad(t), 0);
    assert_int_equal(slm_tokenizer_find(t, "<|im_start|>"), 3);
    assert_true(slm_tokenizer_is_control(t, 4));
    assert_false(slm_tokenizer_add_bos(t));
    /* frequent words became single tokens */
    int32_t *ids;
    size_t n;
    assert_int_equal(slm_tokenizer_encode(t, " cat", 4, false, false, &ids, &n), SLM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], slm_tokenizer_find(t, "\xc4\xa0" "cat"));
    free(ids);
    /* special tokens parse only when asked */
    assert_int_equal(slm_tokenizer_encode(t, "<|im_end|>", 10, false, true, &ids, &n), SLM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 4);
    free(ids);
    assert_int_equal(slm_tokenizer_encode(t, "<|im_end|>", 10, false, false, &ids, &n), SLM_OK);
    assert_true(n > 1);
    char *dec;
    size_t dl;
    assert_int_equal(slm_tokenizer_decode(t, ids, n, false, &dec, &dl), SLM_OK);
    assert_string_equal(dec, "<|im_end|>");
    free(dec);
    free(ids);
    slm_tokenizer_free(t);
    slm_gguf_close(g);
}

static void test_deterministic(void **state) {
    (void)state;
    char other[300];
    snprintf(other, sizeof other, "%s.2", g_path);
    const char *text = "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. 12345 67890 "
                       "the quick brown fox; the lazy dog; the end. 東京 東京 東京";
    train(text, 400, 1, g_path);
    train(text, 400, 1, other);
    char *a, *b;
    size_t la, lb;
    assert_int_equal(slm_read_file(g_path, &a, &la), SLM_OK);
    assert_int_equal(slm_read_file(other, &b, &lb), SLM_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    unlink(other);
}

static void test_bad_params(void **state) {
    (void)state;
    slm_bpe_train_params p = slm_bpe_train_default_params();
    slm_bpe_trainer *tr;
    p.vocab_size = 100; /* < 256 + specials */
    assert_int_equal(slm_bpe_trainer_new(&p, &tr), SLM_ERR_USAGE);
    p.vocab_size = 1000;
    p.min_frequency = 0;
    assert_int_equal(slm_bpe_trainer_new(&p, &tr), SLM_ERR_USAGE);
}

int main(void) {
    snprintf(g_path, sizeof g_path, "/tmp/slm_test_tok_train_%d.gguf", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_order), cmocka_unit_test(test_vocab_layout_and_encode),
        cmocka_unit_test(test_deterministic), cmocka_unit_test(test_bad_params),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(g_path);
    return rc;
}
