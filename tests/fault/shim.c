/* tests/fault/shim.c — LD_PRELOAD fault injector for slm's output paths.
 * Fails one libc call of a kind after letting a number of them through:
 *   SLM_FAULT_OP     fwrite | write | pwrite | fsync | rename
 *   SLM_FAULT_AFTER  calls of that kind that succeed first (default 0)
 *   SLM_FAULT_ERRNO  EIO (default) | ENOSPC | EDQUOT | EXDEV
 *   SLM_FAULT_SHORT  1: fwrite/write/pwrite write half of the bytes and
 *                    return the short count (errno set) instead of failing
 *   SLM_FAULT_PATH   only calls on files whose path contains this string
 *                    count and fail (fd resolved through /proc/self/fd;
 *                    rename: either name); unset = every file
 *   SLM_FAULT_VERBOSE set: say on stderr when a fault fires
 *   SLM_FAULT_STICKY 1: every matching call after AFTER fails (a disk that
 *                    stays full), not only the first
 * Only the first matching call after AFTER fails unless STICKY; later calls
 * succeed, as a transient fault would.  Built by tests/e2e/test_gguf_faults.sh with
 * gcc -shared -fPIC; stdio's internal writes are not interposed, fwrite is. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long seen;
static int fired;

static int path_matches(const char *path) {
    const char *want = getenv("SLM_FAULT_PATH");
    return !want || !*want || (path && strstr(path, want));
}

static int fd_matches(int fd) {
    const char *want = getenv("SLM_FAULT_PATH");
    if (!want || !*want) return 1;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return 0;
    target[n] = '\0';
    return path_matches(target);
}

static int should_fail(const char *op) {
    const char *want = getenv("SLM_FAULT_OP");
    const char *sticky = getenv("SLM_FAULT_STICKY");
    if (sticky && *sticky == '1' && fired && want && strcmp(want, op) == 0) return 1;
    if (fired || !want || strcmp(want, op) != 0) return 0;
    const char *after = getenv("SLM_FAULT_AFTER");
    if (seen++ < (after ? atol(after) : 0)) return 0;
    fired = 1;
    if (getenv("SLM_FAULT_VERBOSE")) fprintf(stderr, "shim: failing %s call %ld\n", op, seen);
    return 1;
}

static int fault_errno(void) {
    const char *e = getenv("SLM_FAULT_ERRNO");
    if (!e || !strcmp(e, "EIO")) return EIO;
    if (!strcmp(e, "ENOSPC")) return ENOSPC;
    if (!strcmp(e, "EDQUOT")) return EDQUOT;
    if (!strcmp(e, "EXDEV")) return EXDEV;
    return EIO;
}

static int short_mode(void) {
    const char *s = getenv("SLM_FAULT_SHORT");
    return s && *s == '1';
}

#define REAL(name)                                                                                 \
    static __typeof__(name) *real_##name;                                                          \
    if (!real_##name) *(void **)&real_##name = dlsym(RTLD_NEXT, #name)

size_t fwrite(const void *p, size_t size, size_t n, FILE *f) {
    REAL(fwrite);
    if (n && size && fd_matches(fileno(f)) && should_fail("fwrite")) {
        int e = fault_errno();
        size_t done = short_mode() ? real_fwrite(p, size, n / 2, f) : 0;
        errno = e;
        return done;
    }
    return real_fwrite(p, size, n, f);
}

ssize_t write(int fd, const void *p, size_t n) {
    REAL(write);
    if (fd > 2 && n && fd_matches(fd) && should_fail("write")) {
        int e = fault_errno();
        if (short_mode() && n > 1) return real_write(fd, p, n / 2);
        errno = e;
        return -1;
    }
    return real_write(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off) {
    REAL(pwrite);
    if (n && fd_matches(fd) && should_fail("pwrite")) {
        int e = fault_errno();
        if (short_mode() && n > 1) return real_pwrite(fd, p, n / 2, off);
        errno = e;
        return -1;
    }
    return real_pwrite(fd, p, n, off);
}

int fsync(int fd) {
    REAL(fsync);
    if (fd_matches(fd) && should_fail("fsync")) {
        errno = fault_errno();
        return -1;
    }
    return real_fsync(fd);
}

int rename(const char *a, const char *b) {
    REAL(rename);
    if ((path_matches(a) || path_matches(b)) && should_fail("rename")) {
        errno = fault_errno();
        return -1;
    }
    return real_rename(a, b);
}
