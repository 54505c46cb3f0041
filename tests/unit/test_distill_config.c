/* tests/unit/test_distill_config.c — `slm distill` configuration: the
 * [distill] section is parsed beside the train sections (line numbers kept
 * in messages), --set reaches both, validation refuses impossible student
 * setups, and the resolved text parses back to the same values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "distill/distill_config.h"

static const char *ini =
    "[model]\n"
    "mode = full\n"
    "base = teacher.gguf\n"
    "[distill]\n"
    "dump = d.h5   # the dump\n"
    "alpha = 0.25\n"
    "temperature = 2\n"
    "reverse = true\n"
    "keep_every = 3\n"
    "[data]\n"
    "train = data.h5\n"
    "seq_len = 64\n";

static void test_parse_and_roundtrip(void **state) {
    (void)state;
    slm_distill_config c;
    slm_distill_config_defaults(&c);
    assert_int_equal(slm_distill_config_load_string(&c, ini, "job.ini"), SLM_OK);
    assert_string_equal(c.dump, "d.h5");
    assert_true(c.alpha == 0.25 && c.temperature == 2.0 && c.reverse && c.keep_every == 3);
    assert_false(c.renormalize);
    assert_int_equal(c.train.seq_len, 64); /* the section after [distill] still reaches train */
    assert_string_equal(c.train.base, "teacher.gguf");
    assert_int_equal(slm_distill_config_set(&c, "distill.renormalize=yes", "--set"), SLM_OK);
    assert_int_equal(slm_distill_config_set(&c, "optim.lr=0.01", "--set"), SLM_OK);
    assert_true(c.renormalize && c.train.lr == 0.01);
    assert_int_equal(slm_distill_config_validate(&c), SLM_OK);
    char *text = slm_distill_config_to_ini(&c);
    assert_non_null(text);
    slm_distill_config d;
    slm_distill_config_defaults(&d);
    assert_int_equal(slm_distill_config_load_string(&d, text, "resolved"), SLM_OK);
    char *text2 = slm_distill_config_to_ini(&d);
    assert_string_equal(text, text2);
    free(text);
    free(text2);
    slm_distill_config_free(&c);
    slm_distill_config_free(&d);
}

static void test_refusals(void **state) {
    (void)state;
    slm_distill_config c;
    slm_distill_config_defaults(&c);
    assert_int_equal(slm_distill_config_load_string(&c, "[distill]\nalpha = 1.5\n", "a.ini"), SLM_ERR_USAGE);
    assert_int_equal(slm_distill_config_load_string(&c, "[distill]\nbogus = 1\n", "a.ini"), SLM_ERR_USAGE);
    assert_int_equal(slm_distill_config_load_string(&c, "[distill]\nreverse = maybe\n", "a.ini"), SLM_ERR_USAGE);
    assert_int_equal(slm_distill_config_load_string(&c, "[distill]\ntemperature = 0\n", "a.ini"), SLM_ERR_USAGE);
    assert_int_equal(slm_distill_config_load_string(&c, "[distill]\nno equals sign\n", "a.ini"), SLM_ERR_USAGE);
    /* a bad train key after [distill] is still reported by the train parser */
    assert_int_equal(slm_distill_config_load_string(&c, "[distill]\ndump = x\n[data]\nnope = 1\n", "a.ini"), SLM_ERR_USAGE);
    slm_distill_config_free(&c);

    slm_distill_config_defaults(&c);
    assert_int_equal(slm_distill_config_load_string(&c,
        "[model]\nmode = pretrain\nvocab = v.gguf\n[data]\ntrain = d.h5\n[distill]\ndump = x.h5\nkeep_every = 2\n",
        "b.ini"), SLM_OK);
    assert_int_equal(slm_distill_config_validate(&c), SLM_ERR_USAGE); /* keep_every needs a base */
    assert_int_equal(slm_distill_config_set(&c, "distill.keep_every=1", "--set"), SLM_OK);
    assert_int_equal(slm_distill_config_validate(&c), SLM_OK);
    assert_int_equal(slm_distill_config_set(&c, "distill.dump=", "--set"), SLM_OK);
    assert_int_equal(slm_distill_config_validate(&c), SLM_ERR_USAGE); /* dump required */
    slm_distill_config_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_roundtrip),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
