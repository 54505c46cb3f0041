/* tests/unit/test_data_readers.c — JSONL parsing (escapes, surrogate pairs,
 * invalid UTF-8, bad records), UTF-8 sanitising, gzip and text files, line
 * numbers, directory expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/readers.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/slm_test_rd_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void parse(const char *line, slm_record *rec) {
    slm_reader_opts o = slm_reader_default_opts();
    assert_int_equal(slm_jsonl_parse_line(line, strlen(line), &o, rec), SLM_OK);
}

static void test_jsonl_escapes(void **state) {
    (void)state;
    slm_record rec = {0};
    parse("{\"text\": \"a\\nb\\t\\\"c\\\\ \\u00e9\\/\"}", &rec);
    assert_string_equal(rec.error, "");
    assert_int_equal(rec.kind, SLM_REC_TEXT);
    assert_int_equal(rec.n_msgs, 1);
    assert_string_equal(rec.msgs[0].text, "a\nb\t\"c\\ \xc3\xa9/");
    /* surrogate pair U+1F600 -> F0 9F 98 80, and a raw (unescaped) UTF-8 char */
    parse("{\"text\": \"x\\ud83d\\ude00y \xe2\x82\xac\"}", &rec);
    assert_string_equal(rec.error, "");
    assert_string_equal(rec.msgs[0].text, "x\xf0\x9f\x98\x80y \xe2\x82\xac");
    assert_int_equal(rec.msgs[0].len, 10);
    slm_record_free(&rec);
}

static void test_jsonl_bad_text(void **state) {
    (void)state;
    slm_record rec = {0};
    /* lone high surrogate, lone low surrogate, NUL, invalid UTF-8 byte: all refused */
    const char *bad[] = {"{\"text\": \"a\\ud83d b\"}", "{\"text\": \"\\ude00\"}",
                         "{\"text\": \"a\\u0000b\"}", "{\"text\": \"a\xff b\"}",
                         "{\"text\": \"\xc0\xaf\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        parse(bad[i], &rec);
        assert_true(strlen(rec.error) > 0);
        assert_int_equal(rec.n_msgs, 0);
        assert_non_null(strstr(rec.error, "malformed JSON"));
    }
    slm_record_free(&rec);
}

static void test_jsonl_records(void **state) {
    (void)state;
    slm_record rec = {0};
    parse("{\"prompt\": \"Q?\", \"completion\": \"A.\"}", &rec);
    assert_int_equal(rec.kind, SLM_REC_PROMPT);
    assert_int_equal(rec.n_msgs, 2);
    assert_int_equal(rec.msgs[0].role, SLM_ROLE_USER);
    assert_string_equal(rec.msgs[1].text, "A.");
    assert_int_equal(rec.msgs[1].role, SLM_ROLE_ASSISTANT);
    parse("{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", "
          "\"content\": \"U\"}, {\"role\": \"assistant\", \"content\": \"A\"}]}", &rec);
    assert_string_equal(rec.error, "");
    assert_int_equal(rec.kind, SLM_REC_CHAT);
    assert_int_equal(rec.n_msgs, 3);
    assert_int_equal(rec.msgs[2].role, SLM_ROLE_ASSISTANT);
    assert_string_equal(rec.msgs[1].text, "U");

    struct {
        const char *line, *reason;
    } cases[] = {
        {"{\"text\": \"unterminated", "malformed JSON"},
        {"[1, 2]", "expected a JSON object, found an array"},
        {"{\"body\": \"x\"}", "missing field: expected 'text'"},
        {"{\"text\": 5}", "field 'text' is an integer, expected a string"},
        {"{\"prompt\": \"p\"}", "missing field 'completion'"},
        {"{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}", "unknown role 'robot' in message 1"},
        {"{\"messages\": [{\"role\": \"user\"}]}", "missing field 'content' in message 1"},
        {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}", "no assistant message"},
        {"{\"messages\": {}}", "expected an array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        parse(cases[i].line, &rec);
        if (!strstr(rec.error, cases[i].reason))
            fail_msg("line %s: error '%s' lacks '%s'", cases[i].line, rec.error, cases[i].reason);
    }
    /* configurable field names */
    slm_reader_opts o = slm_reader_default_opts();
    o.messages_field = "conversation";
    o.role_field = "from";
    o.content_field = "value";
    const char *l = "{\"conversation\": [{\"from\": \"user\", \"value\": \"hi\"}, {\"from\": "
                    "\"assistant\", \"value\": \"yo\"}]}";
    assert_int_equal(slm_jsonl_parse_line(l, strlen(l), &o, &rec), SLM_OK);
    assert_string_equal(rec.error, "");
    assert_string_equal(rec.msgs[1].text, "yo");
    o = slm_reader_default_opts();
    o.text_field = "body";
    l = "{\"body\": \"b\"}";
    assert_int_equal(slm_jsonl_parse_line(l, strlen(l), &o, &rec), SLM_OK);
    assert_string_equal(rec.msgs[0].text, "b");
    slm_record_free(&rec);
}

static void test_utf8_sanitize(void **state) {
    (void)state;
    struct {
        const char *in, *out;
        int64_t n_bad, first;
    } cases[] = {
        {"plain \xc3\xa9 \xf0\x9f\x98\x80", "plain \xc3\xa9 \xf0\x9f\x98\x80", 0, -1},
        {"a\xff" "b", "a\xef\xbf\xbd" "b", 1, 1},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", 2, 0},             /* overlong '/' */
        {"x\xed\xa0\x80", "x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 3, 1}, /* UTF-16 surrogate */
        {"ok\xe2\x82", "ok\xef\xbf\xbd\xef\xbf\xbd", 2, 2},          /* truncated at end */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 4, 0}, /* > U+10FFFF */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out;
        size_t n;
        int64_t bad, first;
        assert_int_equal(slm_utf8_sanitize(cases[i].in, strlen(cases[i].in), &out, &n, &bad, &first),
                         SLM_OK);
        assert_string_equal(out, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
        assert_int_equal(bad, cases[i].n_bad);
        assert_int_equal(first, cases[i].first);
        free(out);
    }
}

static void write_gz(const char *path, const char *data) {
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, data, (unsigned)strlen(data)), (int)strlen(data));
    assert_int_equal(gzclose(g), Z_OK);
}

static void write_file(const char *path, const char *data) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(data, 1, strlen(data), f);
    fclose(f);
}

static void test_gz_jsonl_lines(void **state) {
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/a.jsonl.gz", dir);
    /* line 1 ok (with BOM and CRLF), 2 blank, 3 bad, 4 ok */
    write_gz(p, "\xef\xbb\xbf{\"text\": \"one\"}\r\n\n{\"text\": 1}\n{\"text\": \"four\"}");
    slm_reader_opts o = slm_reader_default_opts();
    slm_reader *r;
    assert_int_equal(slm_reader_open(p, &o, &r), SLM_OK);
    slm_record rec = {0};
    assert_int_equal(slm_reader_next(r, &rec), SLM_OK);
    assert_false(rec.eof);
    assert_string_equal(rec.error, "");
    assert_string_equal(rec.msgs[0].text, "one");
    assert_int_equal(rec.line, 1);
    assert_int_equal(slm_reader_next(r, &rec), SLM_OK);
    assert_int_equal(rec.line, 3);
    assert_non_null(strstr(rec.error, "field 'text' is an integer"));
    assert_string_equal(rec.file, p);
    assert_string_equal(rec.raw, "{\"text\": 1}");
    assert_int_equal(slm_reader_next(r, &rec), SLM_OK);
    assert_int_equal(rec.line, 4);
    assert_string_equal(rec.msgs[0].text, "four");
    assert_int_equal(slm_reader_next(r, &rec), SLM_OK);
    assert_true(rec.eof);
    slm_reader_close(r);

    /* gzipped text file with invalid UTF-8: one document, replaced */
    snprintf(p, sizeof p, "%s/b.md.gz", dir);
    write_gz(p, "# Title\n\nbad \xff byte\n");
    assert_int_equal(slm_reader_open(p, &o, &r), SLM_OK);
    assert_int_equal(slm_reader_next(r, &rec), SLM_OK);
    assert_int_equal(rec.kind, SLM_REC_TEXT);
    assert_string_equal(rec.msgs[0].text, "# Title\n\nbad \xef\xbf\xbd byte\n");
    assert_int_equal(rec.n_replaced, 1);
    assert_int_equal(rec.line, 0);
    assert_int_equal(slm_reader_next(r, &rec), SLM_OK);
    assert_true(rec.eof);
    slm_reader_close(r);

    /* a corrupt gzip stream is an error, not a silent short read */
    snprintf(p, sizeof p, "%s/c.txt.gz", dir);
    write_gz(p, "some text that is long enough to compress into a real deflate stream ...");
    FILE *f = fopen(p, "r+b");
    fseek(f, 12, SEEK_SET);
    fputc(0xff, f), fputc(0x00, f), fputc(0x13, f);
    fclose(f);
    assert_int_equal(slm_reader_open(p, &o, &r), SLM_OK);
    slm_status st = slm_reader_next(r, &rec);
    assert_true(st == SLM_ERR_FORMAT || st == SLM_ERR_IO);
    slm_reader_close(r);
    slm_record_free(&rec);
    snprintf(p, sizeof p, "%s/missing.txt", dir);
    assert_int_equal(slm_reader_open(p, &o, &r), SLM_ERR_IO);
}

static void test_expand_dirs(void **state) {
    (void)state;
    char p[160];
    snprintf(p, sizeof p, "%s/tree", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/tree/sub", dir);
    mkdir(p, 0755);
    const char *files[] = {"tree/b.txt", "tree/a.md", "tree/sub/c.jsonl.gz", "tree/.hidden.txt",
                           "tree/image.png", "tree/Z.TXT"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        write_file(p, "x");
    }
    snprintf(p, sizeof p, "%s/tree", dir);
    const char *in[] = {p};
    char **out;
    int64_t n;
    assert_int_equal(slm_inputs_expand(in, 1, &out, &n), SLM_OK);
    assert_int_equal(n, 4);
    const char *want[] = {"/tree/Z.TXT", "/tree/a.md", "/tree/b.txt", "/tree/sub/c.jsonl.gz"};
    for (int i = 0; i < 4; i++) {
        assert_non_null(strstr(out[i], want[i]));
        free(out[i]);
    }
    free(out);
    snprintf(p, sizeof p, "%s/nope", dir);
    assert_int_equal(slm_inputs_expand(in, 1, &out, &n), SLM_ERR_USAGE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_escapes),  cmocka_unit_test(test_jsonl_bad_text),
        cmocka_unit_test(test_jsonl_records),  cmocka_unit_test(test_utf8_sanitize),
        cmocka_unit_test(test_gz_jsonl_lines), cmocka_unit_test(test_expand_dirs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
