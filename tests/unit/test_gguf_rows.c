/* tests/unit/test_gguf_rows.c — the GGUF writer's row-chunked streaming
 * (slm_gguf_add_tensor_rows) and its background write thread:
 *   - a tensor larger than SLM_GGUF_CHUNK_BYTES is produced in whole-row
 *     chunks, in order, each call's rows consecutive, and the file read back
 *     holds every row at the right place, next to borrowed and fill_fn
 *     tensors (so the writes of the three kinds stay in order);
 *   - a producer failing in the middle, or NaN in a chunk, fail the write:
 *     the status is returned, the previous file is intact, no temporary. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/gguf.h"

enum { COLS = 262144, ROWS = 20, MAX_CALLS = 64 }; /* F16 rows of 512 KiB: 8 rows per 4 MiB chunk */

typedef struct {
    int64_t row0[MAX_CALLS], n[MAX_CALLS];
    int calls;
    int fail_at_call; /* -1: never */
    int64_t nan_row;  /* -1: none */
} rows_ctx;

static uint16_t pattern(int64_t r, int64_t j) { return slm_f32_to_f16((float)((r * 7 + j) % 1024)); }

static slm_status fill_f16_rows(void *vctx, void *dst, int64_t row0, int64_t n) {
    rows_ctx *c = vctx;
    if (c->calls == c->fail_at_call) return SLM_ERR_RUNTIME;
    if (c->calls < MAX_CALLS) {
        c->row0[c->calls] = row0;
        c->n[c->calls] = n;
    }
    c->calls++;
    uint16_t *h = dst;
    for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < COLS; j++)
            h[r * COLS + j] = (row0 + r == c->nan_row && j == 5) ? 0x7e00 : pattern(row0 + r, j);
    return SLM_OK;
}

static slm_status fill_small(void *ctx, void *dst, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)(i * 3 + 1);
    return SLM_OK;
}

static char dir[64];

static const char *path_in(const char *name) {
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static slm_status write_file(const char *path, rows_ctx *c, const float *small) {
    slm_gguf_writer *w = slm_gguf_writer_new();
    assert_non_null(w);
    const int64_t ne_small[2] = {8, 2}, ne_big[2] = {COLS, ROWS}, ne_q[2] = {64, 3}, ne_one[2] = {COLS, 1};
    assert_int_equal(slm_gguf_set_str(w, "general.architecture", "llama"), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "a", SLM_TYPE_F32, 2, ne_small, small), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor_rows(w, "big", SLM_TYPE_F16, 2, ne_big, fill_f16_rows, c), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor_fn(w, "q", SLM_TYPE_Q8_0, 2, ne_q, fill_small, NULL), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor(w, "b", SLM_TYPE_F32, 2, ne_small, small), SLM_OK);
    assert_int_equal(slm_gguf_add_tensor_rows(w, "one", SLM_TYPE_F16, 2, ne_one, fill_f16_rows, c), SLM_OK);
    slm_status st = slm_gguf_writer_write(w, path);
    if (st == SLM_OK) assert_true(slm_gguf_writer_commit_seconds(w) >= 0.0);
    slm_gguf_writer_free(w);
    return st;
}

static int count_tmps(void) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

static void test_rows_chunked(void **state) {
    (void)state;
    float small[16];
    for (int i = 0; i < 16; i++) small[i] = 0.5f * i - 3;
    rows_ctx c = {.fail_at_call = -1, .nan_row = -1};
    assert_int_equal(write_file(path_in("m.gguf"), &c, small), SLM_OK);
    /* big: 20 rows of 512 KiB in chunks of 8 rows; then "one": 1 row */
    const int64_t per = (int64_t)(SLM_GGUF_CHUNK_BYTES / (COLS * 2));
    assert_int_equal(per, 8);
    assert_int_equal(c.calls, 4);
    const int64_t want_row0[4] = {0, 8, 16, 0}, want_n[4] = {8, 8, 4, 1};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c.row0[i], want_row0[i]);
        assert_int_equal(c.n[i], want_n[i]);
    }
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(path_in("m.gguf"), &g), SLM_OK);
    assert_int_equal(slm_gguf_n_tensors(g), 5);
    const slm_gguf_tensor *a = slm_gguf_find_tensor(g, "a"), *b = slm_gguf_find_tensor(g, "b");
    const slm_gguf_tensor *big = slm_gguf_find_tensor(g, "big"), *q = slm_gguf_find_tensor(g, "q");
    const slm_gguf_tensor *one = slm_gguf_find_tensor(g, "one");
    assert_true(a && b && big && q && one);
    assert_memory_equal(a->data, small, sizeof small);
    assert_memory_equal(b->data, small, sizeof small);
    const uint16_t *h = big->data;
    int64_t bad = 0;
    for (int64_t r = 0; r < ROWS; r++)
        for (int64_t j = 0; j < COLS; j++) bad += h[r * COLS + j] != pattern(r, j);
    assert_int_equal(bad, 0);
    h = one->data;
    for (int64_t j = 0; j < COLS; j++) bad += h[j] != pattern(0, j);
    assert_int_equal(bad, 0);
    const uint8_t *qb = q->data;
    for (size_t i = 0; i < q->n_bytes; i++) assert_int_equal(qb[i], (uint8_t)(i * 3 + 1));
    slm_gguf_close(g);
    assert_int_equal(count_tmps(), 0);
}

static void expect_failure(rows_ctx c, slm_status want) {
    float small[16] = {0};
    FILE *f = fopen(path_in("m.gguf"), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    const long before = ftell(f);
    fclose(f);
    assert_int_equal(write_file(path_in("m.gguf"), &c, small), want);
    f = fopen(path_in("m.gguf"), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    assert_int_equal(ftell(f), before); /* the previous file is intact */
    fclose(f);
    assert_int_equal(count_tmps(), 0);
}

static void test_rows_failures(void **state) {
    (void)state;
    expect_failure((rows_ctx){.fail_at_call = 1, .nan_row = -1}, SLM_ERR_RUNTIME); /* second chunk */
    expect_failure((rows_ctx){.fail_at_call = -1, .nan_row = 17}, SLM_ERR_RUNTIME); /* NaN in chunk 3 */
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/slm_gguf_rows.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    unlink(path_in("m.gguf"));
    return rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_chunked),
        cmocka_unit_test(test_rows_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
