/* tests/fuzz/fuzz_config.c — libFuzzer harness for the training job's INI
 * parser (train/config.c over inih): the input is a config file's text.
 * For any text that loads, validation runs, the resolved config is printed
 * and must load back (as the checkpoint does on resume) to the same
 * printed text; a line of the input is also applied as a --set override. */
#include "core/base.h"
#include "train/config.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_quiet();
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    slm_train_config c;
    slm_train_config_defaults(&c);
    if (slm_train_config_load_string(&c, text, "fuzz.ini") == SLM_OK) {
        (void)slm_train_config_validate(&c);
        char *ini = slm_train_config_to_ini(&c);
        CHECK(ini != NULL);
        slm_train_config c2;
        slm_train_config_defaults(&c2);
        CHECK(slm_train_config_load_string(&c2, ini, "resolved") == SLM_OK);
        char *ini2 = slm_train_config_to_ini(&c2);
        CHECK(ini2 != NULL);
        if (strcmp(ini, ini2) != 0) {
            fprintf(stderr, "--- first\n%s--- second\n%s", ini, ini2);
            CHECK(!"resolved config does not load back to itself");
        }
        free(ini);
        free(ini2);
        slm_train_config_free(&c2);
    }
    /* the first line as "--set section.key=value" */
    char *nl = strchr(text, '\n');
    if (nl) *nl = '\0';
    (void)slm_train_config_set(&c, text, "--set");
    slm_train_config_free(&c);
    free(text);
    return 0;
}
