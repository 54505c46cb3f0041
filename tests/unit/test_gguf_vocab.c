/* tests/unit/test_gguf_vocab.c — core/gguf on the real vocabulary GGUFs that
 * llama.cpp's converter wrote ($SLM_SHARED/vocab/ggml-vocab-*.gguf): every
 * file opens, the well-known facts of the llama SentencePiece and GPT-2
 * vocabularies read back, and copying all keys into a new file with slm's
 * writer reproduces every value.  Exits 77 (skip) when SLM_SHARED is unset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gguf.h"

static char vocab_dir[1024];

static void token_is(const slm_gguf *g, uint64_t id, const char *want) {
    int64_t k = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    assert_true(k >= 0);
    uint64_t len;
    const char *s = slm_gguf_arr_str(g, k, id, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(s, want, len);
}

static slm_gguf *open_vocab(const char *name) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", vocab_dir, name);
    if (access(p, R_OK) != 0) return NULL;
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(p, &g), SLM_OK);
    return g;
}

/* LLaMA SentencePiece: 32000 pieces, <unk> <s> </s> then 256 byte pieces. */
static void test_llama_spm(void **state) {
    (void)state;
    slm_gguf *g = open_vocab("ggml-vocab-llama-spm.gguf");
    if (!g) skip();
    const char *s;
    uint64_t len;
    uint32_t id;
    assert_int_equal(slm_gguf_get_str(g, "tokenizer.ggml.model", true, &s, &len), SLM_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(s, "llama", 5);
    int64_t k = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    assert_int_equal(slm_gguf_arr_type(g, k), SLM_GGUF_STRING);
    assert_int_equal(slm_gguf_arr_n(g, k), 32000);
    token_is(g, 0, "<unk>");
    token_is(g, 1, "<s>");
    token_is(g, 2, "</s>");
    token_is(g, 3, "<0x00>");
    token_is(g, 258, "<0xFF>");
    k = slm_gguf_find_key(g, "tokenizer.ggml.scores");
    assert_int_equal(slm_gguf_arr_type(g, k), SLM_GGUF_FLOAT32);
    assert_int_equal(slm_gguf_arr_n(g, k), 32000);
    k = slm_gguf_find_key(g, "tokenizer.ggml.token_type");
    assert_int_equal(slm_gguf_arr_type(g, k), SLM_GGUF_INT32);
    const int32_t *tt = slm_gguf_arr_data(g, k);
    assert_int_equal(tt[0], 2); /* UNKNOWN */
    assert_int_equal(tt[1], 3); /* CONTROL */
    assert_int_equal(tt[3], 6); /* BYTE */
    assert_int_equal(slm_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", true, &id), SLM_OK);
    assert_int_equal(id, 1);
    assert_int_equal(slm_gguf_get_u32(g, "tokenizer.ggml.eos_token_id", true, &id), SLM_OK);
    assert_int_equal(id, 2);
    assert_int_equal(slm_gguf_n_tensors(g), 0);
    slm_gguf_close(g);
}

/* GPT-2: 50257 tokens, 50000 merges, <|endoftext|> = 50256 is bos and eos. */
static void test_gpt2(void **state) {
    (void)state;
    slm_gguf *g = open_vocab("ggml-vocab-gpt-2.gguf");
    if (!g) skip();
    uint32_t id;
    int64_t k = slm_gguf_find_key(g, "tokenizer.ggml.tokens");
    assert_int_equal(slm_gguf_arr_n(g, k), 50257);
    token_is(g, 0, "!");
    token_is(g, 50256, "<|endoftext|>");
    k = slm_gguf_find_key(g, "tokenizer.ggml.merges");
    assert_int_equal(slm_gguf_arr_type(g, k), SLM_GGUF_STRING);
    assert_int_equal(slm_gguf_arr_n(g, k), 50000);
    uint64_t len;
    const char *m = slm_gguf_arr_str(g, k, 0, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(m, "\xc4\xa0 t", 4); /* "Ġ t": the first GPT-2 merge */
    assert_int_equal(slm_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", true, &id), SLM_OK);
    assert_int_equal(id, 50256);
    assert_int_equal(slm_gguf_get_u32(g, "tokenizer.ggml.eos_token_id", true, &id), SLM_OK);
    assert_int_equal(id, 50256);
    slm_gguf_close(g);
}

/* Every vocab file: copy all keys with slm's writer; the copy reads back with
 * identical keys, types and value text, and file-order is kept. */
static void test_copy_every_vocab(void **state) {
    (void)state;
    char pat[1200], out[64];
    snprintf(pat, sizeof pat, "%s/*.gguf", vocab_dir);
    snprintf(out, sizeof out, "/tmp/slm_gguf_vocab_%ld.gguf", (long)getpid());
    glob_t gl;
    assert_int_equal(glob(pat, 0, NULL, &gl), 0);
    assert_true(gl.gl_pathc >= 1);
    char *a = malloc(4096), *b = malloc(4096);
    for (size_t f = 0; f < gl.gl_pathc; f++) {
        slm_gguf *g, *h;
        assert_int_equal(slm_gguf_open(gl.gl_pathv[f], &g), SLM_OK);
        slm_gguf_writer *w = slm_gguf_writer_new();
        assert_int_equal(slm_gguf_copy_all_kv(w, g, NULL), SLM_OK);
        assert_int_equal(slm_gguf_writer_write(w, out), SLM_OK);
        slm_gguf_writer_free(w);
        assert_int_equal(slm_gguf_open(out, &h), SLM_OK);
        assert_int_equal(slm_gguf_n_kv(h), slm_gguf_n_kv(g));
        for (int64_t i = 0; i < slm_gguf_n_kv(g); i++) {
            assert_string_equal(slm_gguf_key(h, i), slm_gguf_key(g, i));
            assert_int_equal(slm_gguf_kv_type(h, i), slm_gguf_kv_type(g, i));
            slm_gguf_kv_to_string(g, i, a, 4096);
            slm_gguf_kv_to_string(h, i, b, 4096);
            assert_string_equal(a, b);
            if (slm_gguf_kv_type(g, i) == SLM_GGUF_ARRAY && slm_gguf_arr_type(g, i) == SLM_GGUF_STRING) {
                assert_int_equal(slm_gguf_arr_n(h, i), slm_gguf_arr_n(g, i));
                for (uint64_t j = 0; j < slm_gguf_arr_n(g, i); j++) {
                    uint64_t la, lb;
                    const char *sa = slm_gguf_arr_str(g, i, j, &la), *sb = slm_gguf_arr_str(h, i, j, &lb);
                    assert_int_equal(la, lb);
                    assert_memory_equal(sa, sb, la);
                }
            }
        }
        slm_gguf_close(h);
        slm_gguf_close(g);
    }
    free(a);
    free(b);
    globfree(&gl);
    unlink(out);
}

int main(void) {
    const char *shared = getenv("SLM_SHARED");
    if (!shared || !*shared) {
        printf("skip: SLM_SHARED is not set; the real vocabulary GGUFs are not available\n");
        return 77;
    }
    snprintf(vocab_dir, sizeof vocab_dir, "%s/vocab", shared);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama_spm),
        cmocka_unit_test(test_gpt2),
        cmocka_unit_test(test_copy_every_vocab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
