/* tests/unit/test_base_fileio.c — output locks (slm_lock_path) and the
 * SIGBUS guard for memory-mapped inputs (core/mapguard.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/mapguard.h"

static char dir[] = "/tmp/slm_test_fileio.XXXXXX";

static int setup(void **state) {
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_lock_path(void **state) {
    (void)state;
    char out[512], lock[600];
    snprintf(out, sizeof out, "%s/dump.h5", dir);
    snprintf(lock, sizeof lock, "%s.lock", out);
    int a = -1, b = -1;
    assert_int_equal(slm_lock_path(out, "test", &a), SLM_OK);
    assert_int_equal(access(lock, F_OK), 0);
    /* flock locks belong to the open file: a second open in this process conflicts */
    assert_int_equal(slm_lock_path(out, "test", &b), SLM_ERR_LOCKED);
    slm_unlock_path(out, a);
    assert_int_not_equal(access(lock, F_OK), 0); /* removed */
    assert_int_equal(slm_lock_path(out, "test", &b), SLM_OK);
    slm_unlock_path(out, b);
}

static void test_read_file_missing(void **state) {
    (void)state;
    char p[512], *data = NULL;
    size_t n = 0;
    snprintf(p, sizeof p, "%s/none.txt", dir);
    assert_int_equal(slm_read_file(p, &data, &n), SLM_ERR_USAGE);
    assert_null(data);
}

/* A child maps a two-page file, registers it, the file loses its second
 * page, the child touches it: the guard must report, remove the registered
 * temporary and exit 1 (not die of SIGBUS). */
static void test_mapguard_sigbus(void **state) {
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    char in[512], tmp[512], log[512];
    snprintf(in, sizeof in, "%s/model.gguf", dir);
    snprintf(tmp, sizeof tmp, "%s/out.gguf.tmp.1", dir);
    snprintf(log, sizeof log, "%s/child.err", dir);
    FILE *f = fopen(in, "wb");
    assert_non_null(f);
    for (long i = 0; i < 2 * page; i++) fputc('x', f);
    fclose(f);
    f = fopen(tmp, "wb");
    assert_non_null(f);
    fclose(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int e = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (e < 0 || dup2(e, 2) < 0) _exit(90);
        slm_mapguard_install();
        int fd = open(in, O_RDONLY);
        const volatile char *m = mmap(NULL, (size_t)(2 * page), PROT_READ, MAP_PRIVATE, fd, 0);
        if (fd < 0 || m == MAP_FAILED) _exit(91);
        slm_mapguard_add((const void *)m, (size_t)(2 * page), in);
        slm_mapguard_add_tmp(tmp);
        if (truncate(in, page) != 0) _exit(92);
        volatile char c = m[page + 5]; /* SIGBUS */
        (void)c;
        _exit(93);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_int_not_equal(access(tmp, F_OK), 0); /* the registered temporary is gone */
    char *msg = NULL;
    size_t n = 0;
    assert_int_equal(slm_read_file(log, &msg, &n), SLM_OK);
    char want[600];
    snprintf(want, sizeof want, "%s: read failed at byte %ld of the memory-mapped file", in, page + 5);
    if (!strstr(msg, want)) fail_msg("child said '%s', expected '%s'", msg, want);
    free(msg);
}

/* A SIGBUS outside every registered mapping keeps its default action. */
static void test_mapguard_foreign_sigbus(void **state) {
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        slm_mapguard_install();
        raise(SIGBUS);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGBUS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_path),
        cmocka_unit_test(test_read_file_missing),
        cmocka_unit_test(test_mapguard_sigbus),
        cmocka_unit_test(test_mapguard_foreign_sigbus),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
