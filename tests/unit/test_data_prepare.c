/* tests/unit/test_data_prepare.c — the prepare pipeline with a fake byte
 * encoder (byte b -> id 100 + b, EOS 2): documents, dedup, split, bad-record
 * reporting (file:line), reject file, incremental runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "data/prepare.h"

#define VAL_FRACTION_TOL 0.15 /* 3+ sigma for 200 documents at p = 0.5 */

static char dir[64];
static const char *FP = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/slm_test_prep_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

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
    (void)piece;
    return -1;
}
static const slm_encoder ENC = {NULL, fake_encode, fake_find, 1, 2, false, 356, false, NULL, NULL};

static void put(const char *name, const char *data) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(data, f);
    fclose(f);
}

static char *path_of(const char *name) {
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* Runs prepare with stderr captured into *log (caller frees). */
static slm_status run_prepare(slm_prepare_params *p, slm_prepare_stats *stats, char **log) {
    char lp[256];
    snprintf(lp, sizeof lp, "%s/stderr.log", dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(lp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    slm_status st = slm_data_prepare(p, &ENC, FP, stats);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t n;
    assert_int_equal(slm_read_file(lp, log, &n), SLM_OK);
    fputs(*log, stderr);
    return st;
}

static void read_split(const char *path, const char *split, int32_t **t, uint8_t **m,
                       int64_t *n, int64_t *docs) {
    slm_dataset *ds;
    assert_int_equal(slm_dataset_open(path, split, &ds), SLM_OK);
    assert_int_equal(slm_dataset_read_all(ds, t, m, n), SLM_OK);
    *docs = slm_dataset_n_docs(ds);
    slm_dataset_close(ds);
}

static void test_prepare_incremental(void **state) {
    (void)state;
    put("corpus_a.txt", "hello");
    put("corpus_b.jsonl", "{\"text\": \"xy\"}\n{\"prompt\": \"p\", \"completion\": \"c\"}\n"
                          "{\"text\": \"hello\"}\n{\"text\": \"\"}\n");
    slm_prepare_params p = slm_prepare_default_params();
    const char *in[] = {path_of("corpus_a.txt"), path_of("corpus_b.jsonl")};
    p.inputs = in;
    p.n_inputs = 2;
    p.out = path_of("ds.h5");
    p.val_fraction = 0;
    slm_prepare_stats s;
    char *log;
    assert_int_equal(run_prepare(&p, &s, &log), SLM_OK);
    free(log);
    assert_int_equal(s.records, 5);
    assert_int_equal(s.duplicates, 1); /* "hello" twice */
    assert_int_equal(s.empty, 1);
    assert_int_equal(s.docs_total[SLM_SPLIT_TRAIN], 3);
    int32_t *t;
    uint8_t *m;
    int64_t n, docs;
    read_split(p.out, "train", &t, &m, &n, &docs);
    /* hello+EOS, xy+EOS, p c EOS: written out from the rules, not from the code */
    int32_t want_t[] = {100 + 'h', 100 + 'e', 100 + 'l', 100 + 'l', 100 + 'o', 2,
                        100 + 'x', 100 + 'y', 2, 100 + 'p', 100 + 'c', 2};
    uint8_t want_m[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1};
    assert_int_equal(n, 12);
    assert_int_equal(docs, 3);
    assert_memory_equal(t, want_t, sizeof want_t);
    assert_memory_equal(m, want_m, sizeof want_m);
    free(t);
    free(m);
    slm_dataset_source *src;
    int64_t ns;
    assert_int_equal(slm_dataset_read_sources(p.out, &src, &ns), SLM_OK);
    assert_int_equal(ns, 2);
    assert_int_equal(src[0].size, 5);
    /* sha256("hello") */
    assert_string_equal(src[0].sha256,
                        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_int_equal(src[0].docs, 1);
    assert_int_equal(src[1].docs, 2);
    slm_dataset_sources_free(src, ns);

    /* add a file: only it is read; old documents kept as they were */
    put("corpus_c.txt", "new!");
    const char *in2[] = {dir};
    p.inputs = in2;
    p.n_inputs = 1;
    assert_int_equal(run_prepare(&p, &s, &log), SLM_OK);
    free(log);
    assert_int_equal(s.files_total, 3);
    assert_int_equal(s.files_known, 2);
    assert_int_equal(s.files_new, 1);
    assert_int_equal(s.records, 1);
    assert_int_equal(s.docs_total[SLM_SPLIT_TRAIN], 4);
    read_split(p.out, "train", &t, &m, &n, &docs);
    assert_int_equal(docs, 4);
    assert_int_equal(n, 17);
    assert_memory_equal(t, want_t, sizeof want_t);
    assert_int_equal(t[12], 100 + 'n');
    assert_int_equal(t[16], 2);
    free(t);
    free(m);
    assert_int_equal(slm_dataset_read_sources(p.out, &src, &ns), SLM_OK);
    assert_int_equal(ns, 3);
    slm_dataset_sources_free(src, ns);
    /* nothing new: unchanged */
    assert_int_equal(run_prepare(&p, &s, &log), SLM_OK);
    free(log);
    assert_true(s.unchanged);
    assert_int_equal(s.files_known, 3);
    /* another vocabulary is refused */
    const char *fp2 = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    put("corpus_d.txt", "more");
    assert_int_equal(slm_data_prepare(&p, &ENC, fp2, &s), SLM_ERR_USAGE);
    unlink(path_of("corpus_d.txt"));
}

static void test_bad_records(void **state) {
    (void)state;
    put("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": 7}\n{\"messages\": [{\"role\": \"bot\", "
                     "\"content\": \"x\"}]}\n{\"text\": \"a very long record\"}\n");
    slm_prepare_params p = slm_prepare_default_params();
    const char *in[] = {path_of("bad.jsonl")};
    p.inputs = in;
    p.n_inputs = 1;
    p.out = path_of("bad.h5");
    p.max_tokens = 10;
    slm_prepare_stats s;
    char *log;
    assert_int_equal(run_prepare(&p, &s, &log), SLM_ERR_FORMAT);
    assert_non_null(strstr(log, "bad.jsonl:2: field 'text' is an integer"));
    free(log);
    assert_int_not_equal(access(p.out, F_OK), 0); /* nothing written */

    p.on_error = SLM_ON_ERROR_SKIP;
    assert_int_equal(run_prepare(&p, &s, &log), SLM_OK);
    assert_non_null(strstr(log, "bad.jsonl:2: skipped: field 'text' is an integer"));
    assert_non_null(strstr(log, "bad.jsonl:3: skipped: unknown role 'bot'"));
    assert_non_null(strstr(log, "bad.jsonl:4: skipped: record has 19 tokens, more than "
                                "--max-tokens 10"));
    free(log);
    assert_int_equal(s.bad, 3);
    assert_int_equal(s.docs_total[SLM_SPLIT_TRAIN] + s.docs_total[SLM_SPLIT_VAL], 1);
    char *rej;
    size_t n;
    char rp[256];
    snprintf(rp, sizeof rp, "%s.rejects", p.out);
    assert_int_equal(slm_read_file(rp, &rej, &n), SLM_OK);
    assert_string_equal(rej, "{\"text\": 7}\n{\"messages\": [{\"role\": \"bot\", \"content\": "
                             "\"x\"}]}\n{\"text\": \"a very long record\"}\n");
    free(rej);
}

static void test_split_seeded(void **state) {
    (void)state;
    static char buf[200 * 32];
    size_t k = 0;
    for (int i = 0; i < 200; i++) { /* via line[]: GCC's sanitizer builds misreport sprintf(buf + k) */
        char line[64];
        int w = snprintf(line, sizeof line, "{\"text\": \"doc %d\"}\n", i);
        memcpy(buf + k, line, (size_t)w + 1);
        k += (size_t)w;
    }
    put("many.jsonl", buf);
    slm_prepare_params p = slm_prepare_default_params();
    const char *in[] = {path_of("many.jsonl")};
    p.inputs = in;
    p.n_inputs = 1;
    p.val_fraction = 0.5;
    p.seed = 7;
    slm_prepare_stats s1, s2, s3;
    p.out = path_of("s1.h5");
    assert_int_equal(slm_data_prepare(&p, &ENC, FP, &s1), SLM_OK);
    p.out = path_of("s2.h5");
    assert_int_equal(slm_data_prepare(&p, &ENC, FP, &s2), SLM_OK);
    p.seed = 8;
    p.out = path_of("s3.h5");
    assert_int_equal(slm_data_prepare(&p, &ENC, FP, &s3), SLM_OK);
    int64_t v1 = s1.docs_total[SLM_SPLIT_VAL];
    assert_int_equal(v1 + s1.docs_total[SLM_SPLIT_TRAIN], 200);
    assert_true(v1 / 200.0 > 0.5 - VAL_FRACTION_TOL && v1 / 200.0 < 0.5 + VAL_FRACTION_TOL);
    /* same seed: identical val split, token for token */
    int32_t *t1, *t2, *t3;
    uint8_t *m1, *m2, *m3;
    int64_t n1, n2, n3, d1, d2, d3;
    read_split(path_of("s1.h5"), "val", &t1, &m1, &n1, &d1);
    read_split(path_of("s2.h5"), "val", &t2, &m2, &n2, &d2);
    read_split(path_of("s3.h5"), "val", &t3, &m3, &n3, &d3);
    assert_int_equal(n1, n2);
    assert_memory_equal(t1, t2, sizeof(int32_t) * (size_t)n1);
    /* another seed: another split */
    assert_true(n1 != n3 || memcmp(t1, t3, sizeof(int32_t) * (size_t)n1) != 0);
    free(t1), free(t2), free(t3), free(m1), free(m2), free(m3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_incremental),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_split_seeded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
