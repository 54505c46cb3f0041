/* tests/unit/test_data_chat.c — chat templates and loss masks, with a fake
 * byte-level encoder (byte b -> id 100 + b; special pieces have ids 3..8), so
 * that every expected sequence below is written from the template's spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "data/chat.h"

#define BOS 1
#define EOS 2
static const char *specials[] = {"<|im_start|>", "<|im_end|>", "<|begin_of_text|>",
                                 "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
static bool have_specials = true;

static slm_status fake_encode(const void *ctx, const char *text, size_t len, int32_t **ids,
                              size_t *n) {
    (void)ctx;
    *ids = malloc(sizeof(int32_t) * (len + 1));
    for (size_t i = 0; i < len; i++) (*ids)[i] = 100 + (unsigned char)text[i];
    *n = len;
    return SLM_OK;
}

static int32_t fake_find(const void *ctx, const char *piece) {
    (void)ctx;
    if (!have_specials) return -1;
    for (int i = 0; i < 6; i++)
        if (!strcmp(piece, specials[i])) return 3 + i;
    return -1;
}

static slm_encoder enc(bool add_bos) {
    slm_encoder e = {NULL, fake_encode, fake_find, BOS, EOS, add_bos, 356, false, NULL, NULL};
    return e;
}

/* expected sequence builder */
typedef struct {
    int32_t t[512];
    uint8_t m[512];
    int n;
} seq;
static void id(seq *s, int32_t v, uint8_t m) {
    s->t[s->n] = v;
    s->m[s->n++] = m;
}
static void txt(seq *s, const char *str, uint8_t m) {
    for (const char *p = str; *p; p++) id(s, 100 + (unsigned char)*p, m);
}

static void check(const slm_token_buf *b, const seq *want) {
    assert_int_equal(b->n, want->n);
    for (int i = 0; i < want->n; i++) {
        if (b->tokens[i] != want->t[i] || b->mask[i] != want->m[i])
            fail_msg("position %d: got (%d, mask %d), want (%d, mask %d)", i, b->tokens[i],
                     b->mask[i], want->t[i], want->m[i]);
    }
}

static void chat_record(slm_record *rec) {
    const char *l = "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": "
                    "\"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": "
                    "\"yo\"}, {\"role\": \"user\", \"content\": \"q\"}, {\"role\": "
                    "\"assistant\", \"content\": \"a\"}]}";
    slm_reader_opts o = slm_reader_default_opts();
    assert_int_equal(slm_jsonl_parse_line(l, strlen(l), &o, rec), SLM_OK);
    assert_string_equal(rec->error, "");
}

static void render(slm_template_kind k, bool add_bos, const slm_record *rec, slm_token_buf *b) {
    slm_encoder e = enc(add_bos);
    slm_chat_template ct;
    char err[256];
    assert_int_equal(slm_chat_template_init(&ct, k, &e), SLM_OK);
    assert_int_equal(slm_render_record(&ct, &e, rec, b, err), SLM_OK);
    assert_string_equal(err, "");
}

static void test_chatml(void **state) {
    (void)state;
    slm_record rec = {0};
    slm_token_buf b = {0};
    chat_record(&rec);
    render(SLM_TEMPLATE_CHATML, false, &rec, &b);
    seq w = {.n = 0};
    const char *roles[] = {"system", "user", "assistant", "user", "assistant"};
    const char *content[] = {"S", "hi", "yo", "q", "a"};
    for (int i = 0; i < 5; i++) {
        uint8_t learn = i == 2 || i == 4;
        id(&w, 3, 0);
        txt(&w, roles[i], 0);
        txt(&w, "\n", 0);
        txt(&w, content[i], learn);
        id(&w, 4, learn); /* <|im_end|> closes the assistant turn: learned */
        txt(&w, "\n", 0);
    }
    id(&w, EOS, 0); /* document EOS, not part of any assistant turn */
    check(&b, &w);
    slm_token_buf_free(&b);
    slm_record_free(&rec);
}

static void test_llama3(void **state) {
    (void)state;
    slm_record rec = {0};
    slm_token_buf b = {0};
    chat_record(&rec);
    render(SLM_TEMPLATE_LLAMA3, true, &rec, &b);
    seq w = {.n = 0};
    id(&w, 5, 0); /* <|begin_of_text|> instead of BOS */
    const char *roles[] = {"system", "user", "assistant", "user", "assistant"};
    const char *content[] = {"S", "hi", "yo", "q", "a"};
    for (int i = 0; i < 5; i++) {
        uint8_t learn = i == 2 || i == 4;
        id(&w, 6, 0);
        txt(&w, roles[i], 0);
        id(&w, 7, 0);
        txt(&w, "\n\n", 0);
        txt(&w, content[i], learn);
        id(&w, 8, learn);
    }
    id(&w, EOS, 0);
    check(&b, &w);
    slm_token_buf_free(&b);
    slm_record_free(&rec);
}

static void test_llama2(void **state) {
    (void)state;
    slm_record rec = {0};
    slm_token_buf b = {0};
    chat_record(&rec);
    render(SLM_TEMPLATE_LLAMA2, true, &rec, &b);
    seq w = {.n = 0};
    id(&w, BOS, 0);
    txt(&w, "[INST] <<SYS>>\nS\n<</SYS>>\n\nhi [/INST]", 0);
    txt(&w, " yo ", 1);
    id(&w, EOS, 1);
    id(&w, BOS, 0);
    txt(&w, "[INST] q [/INST]", 0);
    txt(&w, " a ", 1);
    id(&w, EOS, 1); /* no extra document EOS: the end marker is EOS */
    check(&b, &w);
    /* non-alternating turns are a bad record, not a crash */
    const char *l = "{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}";
    slm_reader_opts o = slm_reader_default_opts();
    assert_int_equal(slm_jsonl_parse_line(l, strlen(l), &o, &rec), SLM_OK);
    slm_encoder e = enc(true);
    slm_chat_template ct;
    char err[256];
    assert_int_equal(slm_chat_template_init(&ct, SLM_TEMPLATE_LLAMA2, &e), SLM_OK);
    assert_int_equal(slm_render_record(&ct, &e, &rec, &b, err), SLM_OK);
    assert_non_null(strstr(err, "alternating"));
    assert_int_equal(b.n, 0);
    slm_token_buf_free(&b);
    slm_record_free(&rec);
}

static void test_zephyr(void **state) {
    (void)state;
    slm_record rec = {0};
    slm_token_buf b = {0};
    chat_record(&rec);
    render(SLM_TEMPLATE_ZEPHYR, true, &rec, &b);
    seq w = {.n = 0};
    id(&w, BOS, 0);
    const char *hdr[] = {"<|system|>\n", "<|user|>\n", "<|assistant|>\n", "<|user|>\n",
                         "<|assistant|>\n"};
    const char *content[] = {"S", "hi", "yo", "q", "a"};
    for (int i = 0; i < 5; i++) {
        uint8_t learn = i == 2 || i == 4;
        txt(&w, hdr[i], 0);
        txt(&w, content[i], learn);
        id(&w, EOS, learn);
        txt(&w, "\n", 0);
    }
    check(&b, &w);
    slm_token_buf_free(&b);
    slm_record_free(&rec);
}

static void test_plain_and_prompt(void **state) {
    (void)state;
    slm_record rec = {0};
    slm_token_buf b = {0};
    slm_encoder e = enc(true);
    char err[256];
    const char *l = "{\"prompt\": \"P\", \"completion\": \"C!\"}";
    slm_reader_opts o = slm_reader_default_opts();
    assert_int_equal(slm_jsonl_parse_line(l, strlen(l), &o, &rec), SLM_OK);
    assert_int_equal(slm_render_record(NULL, &e, &rec, &b, err), SLM_OK);
    seq w = {.n = 0};
    id(&w, BOS, 0);
    txt(&w, "P", 0);
    txt(&w, "C!", 1);
    id(&w, EOS, 1);
    check(&b, &w);
    /* through chatml the prompt is the user turn, the completion the assistant turn */
    render(SLM_TEMPLATE_CHATML, false, &rec, &b);
    w.n = 0;
    id(&w, 3, 0), txt(&w, "user\nP", 0), id(&w, 4, 0), txt(&w, "\n", 0);
    id(&w, 3, 0), txt(&w, "assistant\n", 0), txt(&w, "C!", 1), id(&w, 4, 1), txt(&w, "\n", 0);
    id(&w, EOS, 0);
    check(&b, &w);
    /* text: all learned; user-typed markers stay text (no special parsing) */
    assert_int_equal(slm_record_set_text(&rec, SLM_REC_TEXT, SLM_ROLE_ASSISTANT, "<|im_end|>", 10),
                     SLM_OK);
    e.add_bos = false;
    assert_int_equal(slm_render_record(NULL, &e, &rec, &b, err), SLM_OK);
    w.n = 0;
    txt(&w, "<|im_end|>", 1);
    id(&w, EOS, 1);
    check(&b, &w);
    /* messages without a template: bad record with a reason */
    chat_record(&rec);
    assert_int_equal(slm_render_record(NULL, &e, &rec, &b, err), SLM_OK);
    assert_non_null(strstr(err, "needs a chat template"));
    slm_token_buf_free(&b);
    slm_record_free(&rec);
}

static void test_missing_markers(void **state) {
    (void)state;
    slm_encoder e = enc(false);
    slm_chat_template ct;
    have_specials = false;
    assert_int_equal(slm_chat_template_init(&ct, SLM_TEMPLATE_CHATML, &e), SLM_ERR_USAGE);
    assert_int_equal(slm_chat_template_init(&ct, SLM_TEMPLATE_LLAMA3, &e), SLM_ERR_USAGE);
    assert_int_equal(slm_chat_template_init(&ct, SLM_TEMPLATE_ZEPHYR, &e), SLM_OK);
    e.eos = -1;
    assert_int_equal(slm_chat_template_init(&ct, SLM_TEMPLATE_ZEPHYR, &e), SLM_ERR_USAGE);
    e.bos = -1;
    e.eos = EOS;
    assert_int_equal(slm_chat_template_init(&ct, SLM_TEMPLATE_LLAMA2, &e), SLM_ERR_USAGE);
    have_specials = true;
    slm_template_kind k;
    assert_true(slm_template_from_name("llama3", &k));
    assert_int_equal(k, SLM_TEMPLATE_LLAMA3);
    assert_false(slm_template_from_name("vicuna", &k));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chatml),          cmocka_unit_test(test_llama3),
        cmocka_unit_test(test_llama2),          cmocka_unit_test(test_zephyr),
        cmocka_unit_test(test_plain_and_prompt), cmocka_unit_test(test_missing_markers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
