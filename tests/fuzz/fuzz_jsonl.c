/* tests/fuzz/fuzz_jsonl.c — libFuzzer harness for the input readers
 * (data/readers.c, data/jsonl.c: plain, gzip, text, JSONL records of every
 * shape: text, prompt/completion, messages) and the chat renderer
 * (data/chat.c) under every template.  The input (after one control byte)
 * is a file's content, read through slm_reader_open/next like `slm data
 * prepare` does; each record is rendered with a byte-level fake encoder.
 * Control byte: bits 0-1 format (auto/text/jsonl/chat), bits 2-4 template,
 * bit 5 renamed fields.  Checked: every record has a kind, messages are
 * NUL-terminated, rendered tokens are inside the vocabulary, the mask is 0/1. */
#include "core/base.h"
#include "data/chat.h"
#include "data/readers.h"
#include "tests/fuzz/fuzz_util.h"

/* byte-level encoder: id = byte + 16; ids 0-15 are the special pieces */
static const char *specials[] = {"<s>", "</s>", "<|im_start|>", "<|im_end|>",
                                 "<|begin_of_text|>", "<|start_header_id|>",
                                 "<|end_header_id|>", "<|eot_id|>", "<|endoftext|>",
                                 "[INST]", "[/INST]", "<|user|>", "<|assistant|>",
                                 "<|system|>", "<<SYS>>", "<</SYS>>"};
enum { N_SPECIAL = 16, N_VOCAB = 256 + N_SPECIAL };

static slm_status enc(const void *ctx, const char *text, size_t len, int32_t **ids, size_t *n) {
    (void)ctx;
    *ids = malloc(len ? len * sizeof **ids : 1);
    if (!*ids) return SLM_ERR_IO;
    for (size_t i = 0; i < len; i++) (*ids)[i] = (uint8_t)text[i] + N_SPECIAL;
    *n = len;
    return SLM_OK;
}

static int32_t find(const void *ctx, const char *piece) {
    (void)ctx;
    for (int i = 0; i < N_SPECIAL; i++)
        if (strcmp(piece, specials[i]) == 0) return i;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    fuzz_quiet();
    uint8_t ctl = data[0];
    static const char *ext[] = {".jsonl", ".txt", ".jsonl", ".jsonl"};
    static const slm_format fmts[] = {SLM_FORMAT_AUTO, SLM_FORMAT_TEXT, SLM_FORMAT_JSONL,
                                      SLM_FORMAT_CHAT};
    char path[512];
    fuzz_scratch_path(path, sizeof path, "jsonl", ext[ctl & 3]);
    fuzz_write_file(path, data + 1, size - 1);

    slm_reader_opts o = slm_reader_default_opts();
    o.format = fmts[ctl & 3];
    if (ctl & 32) {
        o.text_field = "t", o.prompt_field = "q", o.completion_field = "a";
        o.messages_field = "m", o.role_field = "r", o.content_field = "c";
    }
    slm_encoder e = {.encode = enc, .find = find, .bos = 0, .eos = 1, .add_bos = true,
                     .n_vocab = N_VOCAB};
    slm_template_kind tk = (slm_template_kind)(((ctl >> 2) & 7) % SLM_TEMPLATE_COUNT);
    slm_chat_template ct;
    bool have_ct = slm_chat_template_init(&ct, tk, &e) == SLM_OK;

    slm_reader *r = NULL;
    if (slm_reader_open(path, &o, &r) == SLM_OK) {
        slm_record rec = {0};
        slm_token_buf tb = {0};
        for (int guard = 0; guard < 100000; guard++) {
            slm_status st = slm_reader_next(r, &rec);
            if (st != SLM_OK || rec.eof) break;
            if (rec.error[0]) continue; /* a bad record, reported and skipped */
            CHECK(rec.kind >= 0 && rec.kind < SLM_REC_COUNT);
            CHECK(rec.n_msgs >= 1);
            for (int64_t m = 0; m < rec.n_msgs; m++) {
                CHECK(rec.msgs[m].role >= 0 && rec.msgs[m].role < SLM_ROLE_COUNT);
                CHECK(strlen(rec.msgs[m].text) <= rec.msgs[m].len);
                CHECK(rec.msgs[m].text[rec.msgs[m].len] == '\0');
            }
            char err[256] = "";
            if (slm_render_record(have_ct ? &ct : NULL, &e, &rec, &tb, err) == SLM_OK)
                for (int64_t i = 0; i < tb.n; i++) {
                    CHECK(tb.tokens[i] >= 0 && tb.tokens[i] < N_VOCAB);
                    CHECK(tb.mask[i] <= 1);
                }
        }
        slm_token_buf_free(&tb);
        slm_record_free(&rec);
        slm_reader_close(r);
    }
    unlink(path);
    return 0;
}
