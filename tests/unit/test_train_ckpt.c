/* tests/unit/test_train_ckpt.c — HDF5 checkpoints: exact round trip, keep-K,
 * truncated/corrupt newest skipped with a warning, shape mismatch and
 * failed compatibility check refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/ckpt.h"

typedef struct {
    float a[6], ga[6], b[3], gb[3];
    slm_param P[2];
    slm_param_list L;
    slm_adamw opt;
} fixture;

static void fx_init(fixture *x, float base) {
    memset(x, 0, sizeof *x);
    for (int i = 0; i < 6; i++) x->a[i] = base + 0.1f * (float)i;
    for (int i = 0; i < 3; i++) x->b[i] = base - (float)i / 3.0f;
    x->P[0] = (slm_param){.name = "blk.0.attn_q.weight", .data = x->a, .grad = x->ga, .n = 6,
                          .n_dims = 2, .ne = {3, 2}, .decay = true};
    x->P[1] = (slm_param){.name = "blk.0.attn_norm.weight", .data = x->b, .grad = x->gb, .n = 3,
                          .n_dims = 1, .ne = {3, 1}};
    x->L = (slm_param_list){x->P, 2};
    slm_adamw_params ap = slm_adamw_default_params();
    assert_int_equal(slm_adamw_init(&x->opt, &x->L, &ap), SLM_OK);
    for (int i = 0; i < 6; i++) x->opt.m[0][i] = base * (float)i, x->opt.v[0][i] = 1e-7f * (float)i;
    x->opt.t = 17;
}

static void make_dir(char *dir, size_t cap) {
    snprintf(dir, cap, "/tmp/slm_ckpt_test_%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    assert_int_equal(system(cmd), 0);
}

static slm_ckpt_state state_at(int64_t step) {
    slm_ckpt_state s = {.step = step, .tokens_seen = step * 100, .epoch = 1, .cursor = step % 7,
                        .mode = "full", .fingerprint = "abc", .config = "[train]\nsteps = 9\n",
                        .elapsed = 1.5 * (double)step};
    slm_rng_seed(&s.rng, (uint64_t)step);
    return s;
}

static void test_roundtrip_exact(void **state) {
    (void)state;
    char dir[128];
    make_dir(dir, sizeof dir);
    fixture w, r;
    fx_init(&w, 1.2345678f);
    slm_ckpt_state s = state_at(5);
    assert_int_equal(slm_ckpt_save(dir, 3, &s, &w.L, &w.opt), SLM_OK);
    fx_init(&r, -9.0f);
    r.opt.t = 0;
    slm_ckpt_state rs;
    bool found;
    assert_int_equal(slm_ckpt_load_latest(dir, &r.L, &r.opt, NULL, NULL, &rs, &found), SLM_OK);
    assert_true(found);
    assert_int_equal(rs.step, 5);
    assert_int_equal(rs.tokens_seen, 500);
    assert_int_equal(rs.cursor, 5);
    assert_true(rs.elapsed == 7.5);
    assert_string_equal(rs.mode, "full");
    assert_string_equal(rs.fingerprint, "abc");
    assert_string_equal(rs.config, s.config);
    assert_memory_equal(rs.rng.s, s.rng.s, sizeof s.rng.s);
    assert_memory_equal(r.a, w.a, sizeof w.a);
    assert_memory_equal(r.b, w.b, sizeof w.b);
    assert_memory_equal(r.opt.m[0], w.opt.m[0], 6 * sizeof(float));
    assert_memory_equal(r.opt.v[0], w.opt.v[0], 6 * sizeof(float));
    assert_int_equal(r.opt.t, 17);
    /* single-tensor read for export */
    float *t = NULL;
    int64_t ne[2];
    int nd;
    char *p5 = slm_ckpt_path(dir, 5);
    assert_int_equal(slm_ckpt_read_param(p5, "blk.0.attn_q.weight", &t, ne, &nd), SLM_OK);
    assert_int_equal(nd, 2);
    assert_int_equal(ne[0], 3);
    assert_int_equal(ne[1], 2);
    assert_memory_equal(t, w.a, sizeof w.a);
    free(t);
    char **names;
    int64_t nn;
    assert_int_equal(slm_ckpt_list_params(p5, &names, &nn), SLM_OK);
    assert_int_equal(nn, 2);
    assert_string_equal(names[0], "blk.0.attn_q.weight"); /* creation order */
    slm_ckpt_names_free(names, nn);
    free(p5);
    slm_ckpt_state_free(&rs);
    slm_adamw_free(&w.opt);
    slm_adamw_free(&r.opt);
}

static void test_keep_and_skip_truncated(void **state) {
    (void)state;
    char dir[128];
    make_dir(dir, sizeof dir);
    fixture w;
    for (int64_t step = 1; step <= 4; step++) {
        fx_init(&w, (float)step);
        slm_ckpt_state s = state_at(step);
        assert_int_equal(slm_ckpt_save(dir, 2, &s, &w.L, &w.opt), SLM_OK);
        slm_adamw_free(&w.opt);
    }
    int64_t *steps, n;
    assert_int_equal(slm_ckpt_list(dir, &steps, &n), SLM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(steps[0], 4);
    assert_int_equal(steps[1], 3);
    free(steps);
    /* truncate the newest to half its size */
    char *p4 = slm_ckpt_path(dir, 4);
    struct stat sb;
    assert_int_equal(stat(p4, &sb), 0);
    assert_int_equal(truncate(p4, sb.st_size / 2), 0);
    fixture r;
    fx_init(&r, 0.0f);
    slm_ckpt_state rs;
    bool found;
    /* capture stderr to check the warning */
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 2);
    slm_status st = slm_ckpt_load_latest(dir, &r.L, &r.opt, NULL, NULL, &rs, &found);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char log[4096];
    rewind(tmp);
    size_t k = fread(log, 1, sizeof log - 1, tmp);
    log[k] = 0;
    fclose(tmp);
    fputs(log, stderr);
    assert_int_equal(st, SLM_OK);
    assert_true(found);
    assert_int_equal(rs.step, 3);
    assert_true(r.a[0] == 3.0f);
    assert_non_null(strstr(log, "warning: skipping checkpoint"));
    assert_non_null(strstr(log, "ckpt-4.h5"));
    slm_ckpt_state_free(&rs);
    /* garble the data of the remaining one: both unreadable -> FORMAT */
    char *p3 = slm_ckpt_path(dir, 3);
    FILE *f = fopen(p3, "r+b");
    assert_non_null(f);
    assert_int_equal(stat(p3, &sb), 0);
    fseek(f, 0, SEEK_SET);
    for (long i = 0; i < 64; i++) fputc(0x5a, f); /* superblock */
    fclose(f);
    assert_int_equal(slm_ckpt_load_latest(dir, &r.L, &r.opt, NULL, NULL, &rs, &found), SLM_ERR_FORMAT);
    assert_false(found);
    free(p3);
    free(p4);
    slm_adamw_free(&r.opt);
}

static slm_status refuse(void *ctx, const slm_ckpt_state *s, const char *path) {
    (void)s;
    (void)path;
    (*(int *)ctx)++;
    return SLM_ERR_USAGE;
}

static void test_refusals(void **state) {
    (void)state;
    char dir[128];
    make_dir(dir, sizeof dir);
    fixture w;
    fx_init(&w, 1.0f);
    slm_ckpt_state s = state_at(2);
    assert_int_equal(slm_ckpt_save(dir, 2, &s, &w.L, &w.opt), SLM_OK);
    slm_ckpt_state rs;
    bool found;
    int calls = 0;
    assert_int_equal(slm_ckpt_load_latest(dir, &w.L, &w.opt, refuse, &calls, &rs, &found),
                     SLM_ERR_USAGE);
    assert_int_equal(calls, 1);
    /* a model whose tensor has another shape (e.g. other LoRA rank) is refused */
    w.P[0].ne[0] = 2;
    w.P[0].ne[1] = 3;
    assert_int_equal(slm_ckpt_load_latest(dir, &w.L, &w.opt, NULL, NULL, &rs, &found), SLM_ERR_USAGE);
    /* a different tensor count too */
    w.L.n = 1;
    assert_int_equal(slm_ckpt_load_latest(dir, &w.L, NULL, NULL, NULL, &rs, &found), SLM_ERR_USAGE);
    w.L.n = 2;
    /* stale temporaries of a killed writer are removed, checkpoints kept */
    char stale[512];
    snprintf(stale, sizeof stale, "%s/ckpt-9.h5.tmp.12345", dir);
    FILE *f = fopen(stale, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(slm_ckpt_remove_stale_tmp(dir), 1);
    assert_int_equal(access(stale, F_OK), -1);
    char *p2 = slm_ckpt_path(dir, 2);
    assert_int_equal(access(p2, F_OK), 0);
    free(p2);
    /* empty directory: nothing found, OK */
    make_dir(dir, sizeof dir);
    assert_int_equal(slm_ckpt_load_latest(dir, &w.L, &w.opt, NULL, NULL, &rs, &found), SLM_OK);
    assert_false(found);
    slm_adamw_free(&w.opt);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_sha256_file(void **state) {
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/slm_sha_%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    fputs("abc", f);
    fclose(f);
    char hex[65];
    assert_int_equal(slm_file_sha256(path, hex), SLM_OK);
    /* FIPS 180-4 example */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_exact),
        cmocka_unit_test(test_keep_and_skip_truncated),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_sha256_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
