/* tests/unit/test_train_config.c — INI config: defaults, precedence, errors
 * naming file/line/key, resolved-config round trip, compat check, and that
 * docs/config.md is the text generated from the key table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "train/config.h"

static char *write_tmp(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/slm_cfg_test_%d.ini", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Captures stderr while fn runs into buf. */
static slm_status load_capture(slm_train_config *c, const char *path, char *buf, size_t cap) {
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 2);
    slm_status st = slm_train_config_load_file(c, path);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
    return st;
}

static void test_defaults_and_precedence(void **state) {
    (void)state;
    slm_train_config c;
    slm_train_config_defaults(&c);
    assert_int_equal(c.mode, SLM_MODE_LORA);
    assert_int_equal(c.lora_rank, 8);
    assert_true(c.lr == 1e-3);
    char *p = write_tmp("# comment\n[optim]\nlr = 5e-4\nschedule = linear\n[lora]\nrank = 4\n"
                        "[model]\nmode = full\nbase = b.gguf\n[data]\ntrain = t.txt\n");
    assert_int_equal(slm_train_config_load_file(&c, p), SLM_OK);
    assert_true(c.lr == 5e-4);
    assert_int_equal(c.schedule, 1);
    assert_int_equal(c.lora_rank, 4);
    assert_int_equal(c.mode, SLM_MODE_FULL);
    assert_int_equal(slm_train_config_set(&c, "optim.lr=2e-4", "--set"), SLM_OK);
    assert_true(c.lr == 2e-4);
    assert_int_equal(slm_train_config_set(&c, "train.steps=7", "--set"), SLM_OK);
    assert_int_equal(c.steps, 7);
    assert_int_equal(slm_train_config_validate(&c), SLM_OK);
    unlink(p);
    slm_train_config_free(&c);
}

static void test_errors_name_line_and_key(void **state) {
    (void)state;
    slm_train_config c;
    char err[1024];
    slm_train_config_defaults(&c);
    char *p = write_tmp("[optim]\nlr = 1e-3\n\nlearning_rate = 3\n");
    assert_int_equal(load_capture(&c, p, err, sizeof err), SLM_ERR_USAGE);
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, ":4:"));
    assert_non_null(strstr(err, "learning_rate"));
    p = write_tmp("[train]\nsteps = many\n");
    assert_int_equal(load_capture(&c, p, err, sizeof err), SLM_ERR_USAGE);
    assert_non_null(strstr(err, ":2:"));
    assert_non_null(strstr(err, "train.steps"));
    p = write_tmp("[optim]\nschedule = step\n");
    assert_int_equal(load_capture(&c, p, err, sizeof err), SLM_ERR_USAGE);
    assert_non_null(strstr(err, "constant|linear|cosine"));
    p = write_tmp("[lora]\nrank = 0\n");
    assert_int_equal(load_capture(&c, p, err, sizeof err), SLM_ERR_USAGE);
    assert_non_null(strstr(err, "lora.rank"));
    p = write_tmp("[bogus]\nx = 1\n");
    assert_int_equal(load_capture(&c, p, err, sizeof err), SLM_ERR_USAGE);
    assert_non_null(strstr(err, "unknown section [bogus]"));
    p = write_tmp("[optim\nlr = 1\n");
    assert_int_equal(load_capture(&c, p, err, sizeof err), SLM_ERR_USAGE);
    assert_non_null(strstr(err, ":1:"));
    unlink(p);
    assert_int_equal(slm_train_config_set(&c, "optim.nope=1", "--set"), SLM_ERR_USAGE);
    assert_int_equal(slm_train_config_set(&c, "optimlr=1", "--set"), SLM_ERR_USAGE);
    assert_int_equal(slm_train_config_set(&c, "optim.lr=nan", "--set"), SLM_ERR_USAGE);
    assert_int_equal(slm_train_config_set(&c, "model.tied=maybe", "--set"), SLM_ERR_USAGE);
    assert_int_equal(slm_train_config_load_file(&c, "/nonexistent/x.ini"), SLM_ERR_IO);
    slm_train_config_free(&c);
}

static void test_validate(void **state) {
    (void)state;
    slm_train_config c;
    slm_train_config_defaults(&c);
    slm_train_config_set(&c, "data.train=t.txt", "t");
    assert_int_equal(slm_train_config_validate(&c), SLM_ERR_USAGE); /* lora without base */
    slm_train_config_set(&c, "model.mode=pretrain", "t");
    slm_train_config_set(&c, "model.vocab=v.gguf", "t");
    assert_int_equal(slm_train_config_validate(&c), SLM_OK);
    slm_train_config_set(&c, "model.heads=3", "t"); /* 128 % 3 */
    assert_int_equal(slm_train_config_validate(&c), SLM_ERR_USAGE);
    slm_train_config_set(&c, "model.heads=4", "t");
    slm_train_config_set(&c, "model.kv_heads=3", "t");
    assert_int_equal(slm_train_config_validate(&c), SLM_ERR_USAGE);
    slm_train_config_set(&c, "model.kv_heads=2", "t");
    slm_train_config_set(&c, "optim.min_lr=1", "t");
    assert_int_equal(slm_train_config_validate(&c), SLM_ERR_USAGE);
    slm_train_config_free(&c);
}

static void test_roundtrip_and_compat(void **state) {
    (void)state;
    slm_train_config a, b;
    slm_train_config_defaults(&a);
    slm_train_config_set(&a, "model.base=/x/y z.gguf", "t");
    slm_train_config_set(&a, "optim.lr=0.000123", "t");
    slm_train_config_set(&a, "lora.targets=all", "t");
    char *text = slm_train_config_to_ini(&a);
    assert_non_null(text);
    assert_non_null(strstr(text, "[optim]\n"));
    slm_train_config_defaults(&b);
    assert_int_equal(slm_train_config_load_string(&b, text, "resolved"), SLM_OK);
    char *text2 = slm_train_config_to_ini(&b);
    assert_string_equal(text, text2);
    assert_true(b.lr == 0.000123);
    assert_string_equal(b.base, "/x/y z.gguf");
    assert_int_equal(slm_train_config_check_compat(&a, &b), SLM_OK);
    slm_train_config_set(&b, "optim.lr=1", "t"); /* not a compat key */
    assert_int_equal(slm_train_config_check_compat(&a, &b), SLM_OK);
    slm_train_config_set(&b, "lora.rank=4", "t");
    assert_int_equal(slm_train_config_check_compat(&a, &b), SLM_ERR_USAGE);
    free(text);
    free(text2);
    slm_train_config_free(&a);
    slm_train_config_free(&b);
}

/* docs/config.md must be exactly what the table generates (run from the repo root). */
static void test_doc_up_to_date(void **state) {
    (void)state;
    char *doc = NULL, *gen = NULL;
    size_t n = 0, gn = 0;
    if (slm_read_file("docs/config.md", &doc, &n) != SLM_OK) {
        fail_msg("docs/config.md missing: run ./slm train --config-doc > docs/config.md");
    }
    FILE *f = open_memstream(&gen, &gn);
    slm_train_config_write_doc(f);
    fclose(f);
    if (strcmp(doc, gen)) fail_msg("docs/config.md is stale: regenerate with ./slm train --config-doc > docs/config.md");
    free(doc);
    free(gen);
}

/* Lines and values longer than the INI reader takes are refused; a long
 * value that fits loads and its resolved config loads back the same. */
static void test_long_lines(void **state) {
    (void)state;
    char path[256], text[512];
    for (int len = 150; len <= 200; len += 50) {
        memset(path, 'p', (size_t)len);
        path[0] = '/';
        path[len] = 0;
        snprintf(text, sizeof text, "[model]\nmode = pretrain\nvocab=%s\n", path);
        slm_train_config c;
        slm_train_config_defaults(&c);
        slm_status st = slm_train_config_load_string(&c, text, "long.ini");
        if (len == 200) {
            assert_int_equal(st, SLM_ERR_USAGE);
        } else {
            assert_int_equal(st, SLM_OK);
            char *ini = slm_train_config_to_ini(&c);
            slm_train_config c2;
            slm_train_config_defaults(&c2);
            assert_int_equal(slm_train_config_load_string(&c2, ini, "resolved"), SLM_OK);
            assert_string_equal(c2.vocab, path);
            free(ini);
            slm_train_config_free(&c2);
        }
        slm_train_config_free(&c);
    }
    /* a value whose "key = value" line would not fit, though "key=value" does */
    memset(path, 'q', 191);
    path[191] = 0;
    snprintf(text, sizeof text, "[model]\nvocab=%s\n", path);
    slm_train_config c;
    slm_train_config_defaults(&c);
    assert_int_equal(slm_train_config_load_string(&c, text, "long.ini"), SLM_ERR_USAGE);
    slm_train_config_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_precedence),
        cmocka_unit_test(test_errors_name_line_and_key),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_roundtrip_and_compat),
        cmocka_unit_test(test_doc_up_to_date),
        cmocka_unit_test(test_long_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
