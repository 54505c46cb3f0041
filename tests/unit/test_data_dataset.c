/* tests/unit/test_data_dataset.c — HDF5 dataset write/read round trip,
 * validation of damaged files, atomic output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/slm_test_ds_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd);
}

static slm_dataset_header header(void) {
    slm_dataset_header h = slm_dataset_default_header();
    memset(h.fingerprint, 'a', 64);
    h.fingerprint[64] = 0;
    h.vocab_size = 1000;
    h.eos_id = 2;
    return h;
}

static void test_roundtrip(void **state) {
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/rt.h5", tmpdir);
    slm_dataset_header h = header();
    slm_dataset_writer *w;
    assert_int_equal(slm_dataset_writer_open(path, &h, &w), SLM_OK);
    /* 3 train docs (one big enough to cross the 1M-token write buffer), 1 val doc */
    int64_t big = (1 << 20) + 777;
    int32_t *tok = malloc(sizeof(int32_t) * (size_t)big);
    uint8_t *m = malloc((size_t)big);
    for (int64_t i = 0; i < big; i++) {
        tok[i] = (int32_t)((i * 7919) % 1000);
        m[i] = (uint8_t)(i % 3 == 0);
    }
    int32_t d1[3] = {5, 6, 2};
    uint8_t m1[3] = {0, 1, 1};
    assert_int_equal(slm_dataset_writer_add_doc(w, SLM_SPLIT_TRAIN, d1, m1, 3), SLM_OK);
    assert_int_equal(slm_dataset_writer_add_doc(w, SLM_SPLIT_TRAIN, tok, m, big), SLM_OK);
    assert_int_equal(slm_dataset_writer_add_doc(w, SLM_SPLIT_TRAIN, d1, NULL, 3), SLM_OK);
    int32_t d2[2] = {999, 2};
    assert_int_equal(slm_dataset_writer_add_doc(w, SLM_SPLIT_VAL, d2, NULL, 2), SLM_OK);
    slm_dataset_source src = {.path = "corpus/a.txt", .size = 123, .docs = 4};
    memset(src.sha256, 'f', 64);
    src.sha256[64] = 0;
    assert_int_equal(slm_dataset_writer_add_source(w, &src), SLM_OK);
    /* nothing at the final path before commit */
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(slm_dataset_writer_commit(w), SLM_OK);
    assert_int_equal(access(path, F_OK), 0);

    slm_dataset *ds;
    assert_int_equal(slm_dataset_open(path, "train", &ds), SLM_OK);
    assert_int_equal(slm_dataset_n_docs(ds), 3);
    assert_int_equal(slm_dataset_n_tokens(ds), big + 6);
    const int64_t *off = slm_dataset_doc_offsets(ds);
    assert_int_equal(off[0], 0);
    assert_int_equal(off[1], 3);
    assert_int_equal(off[2], 3 + big);
    assert_int_equal(off[3], 6 + big);
    assert_int_equal(slm_dataset_header_of(ds)->eos_id, 2);
    assert_int_equal(slm_dataset_vocab_size(ds), 1000);
    int32_t *all;
    uint8_t *am;
    int64_t n;
    assert_int_equal(slm_dataset_read_all(ds, &all, &am, &n), SLM_OK);
    assert_int_equal(n, big + 6);
    assert_memory_equal(all, d1, sizeof d1);
    assert_memory_equal(am, m1, sizeof m1);
    assert_memory_equal(all + 3, tok, sizeof(int32_t) * (size_t)big);
    assert_memory_equal(am + 3, m, (size_t)big);
    assert_int_equal(am[3 + big], 1);
    assert_int_equal(am[5 + big], 1);
    /* range read in the middle */
    int32_t r[4];
    uint8_t rm[4];
    assert_int_equal(slm_dataset_read(ds, 1000, 4, r, rm), SLM_OK);
    assert_memory_equal(r, tok + 997, sizeof r);
    assert_memory_equal(rm, m + 997, sizeof rm);
    assert_int_equal(slm_dataset_read(ds, n - 2, 4, r, NULL), SLM_ERR_USAGE);
    /* fingerprint check */
    char other[65];
    memset(other, 'b', 64);
    other[64] = 0;
    assert_int_equal(slm_dataset_check_fingerprint(ds, h.fingerprint, "x"), SLM_OK);
    assert_int_equal(slm_dataset_check_fingerprint(ds, other, "model.gguf"), SLM_ERR_FORMAT);
    free(all);
    free(am);
    slm_dataset_close(ds);

    assert_int_equal(slm_dataset_open(path, "val", &ds), SLM_OK);
    assert_int_equal(slm_dataset_n_docs(ds), 1);
    assert_int_equal(slm_dataset_read(ds, 0, 2, r, rm), SLM_OK);
    assert_int_equal(r[0], 999);
    slm_dataset_close(ds);
    assert_int_equal(slm_dataset_open(path, "test", &ds), SLM_ERR_USAGE);

    slm_dataset_source *s;
    int64_t ns;
    assert_int_equal(slm_dataset_read_sources(path, &s, &ns), SLM_OK);
    assert_int_equal(ns, 1);
    assert_string_equal(s[0].path, "corpus/a.txt");
    assert_int_equal(s[0].size, 123);
    assert_int_equal(s[0].docs, 4);
    assert_string_equal(s[0].sha256, src.sha256);
    slm_dataset_sources_free(s, ns);
    free(tok);
    free(m);
}

static void test_bad_files(void **state) {
    (void)state;
    char path[128];
    slm_dataset *ds = NULL;
    snprintf(path, sizeof path, "%s/missing.h5", tmpdir);
    assert_int_equal(slm_dataset_open(path, "train", &ds), SLM_ERR_IO);
    /* not HDF5 */
    snprintf(path, sizeof path, "%s/text.h5", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("hello, not hdf5\n", f);
    fclose(f);
    assert_int_equal(slm_dataset_open(path, "train", &ds), SLM_ERR_FORMAT);
    assert_null(ds);
    /* truncated real dataset */
    char good[128];
    snprintf(good, sizeof good, "%s/good.h5", tmpdir);
    slm_dataset_header h = header();
    slm_dataset_writer *w;
    assert_int_equal(slm_dataset_writer_open(good, &h, &w), SLM_OK);
    int32_t t[64];
    for (int i = 0; i < 64; i++) t[i] = i;
    assert_int_equal(slm_dataset_writer_add_doc(w, SLM_SPLIT_TRAIN, t, NULL, 64), SLM_OK);
    assert_int_equal(slm_dataset_writer_commit(w), SLM_OK);
    char *data;
    size_t len;
    FILE *g = fopen(good, "rb");
    fseek(g, 0, SEEK_END);
    len = (size_t)ftell(g);
    fseek(g, 0, SEEK_SET);
    data = malloc(len);
    assert_int_equal(fread(data, 1, len, g), len);
    fclose(g);
    snprintf(path, sizeof path, "%s/trunc.h5", tmpdir);
    f = fopen(path, "wb");
    fwrite(data, 1, len / 2, f);
    fclose(f);
    slm_status st = slm_dataset_open(path, "train", &ds);
    assert_true(st == SLM_ERR_FORMAT || st == SLM_ERR_IO);
    assert_null(ds);
    free(data);
    /* aborted writer leaves nothing behind */
    snprintf(path, sizeof path, "%s/aborted.h5", tmpdir);
    assert_int_equal(slm_dataset_writer_open(path, &h, &w), SLM_OK);
    assert_int_equal(slm_dataset_writer_add_doc(w, SLM_SPLIT_TRAIN, t, NULL, 64), SLM_OK);
    slm_dataset_writer_abort(w);
    assert_int_not_equal(access(path, F_OK), 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", tmpdir);
    FILE *p = popen(cmd, "r");
    int n_tmp = -1;
    assert_int_equal(fscanf(p, "%d", &n_tmp), 1);
    pclose(p);
    assert_int_equal(n_tmp, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
