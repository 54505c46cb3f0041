/* tests/fault/shim.c — LD_PRELOAD fault injector for slm's output paths.
 * Fails one libc call of a kind after letting a number of them through:
 *   SLM_FAULT_OP     writes: fwrite | write | pwrite | fsync | rename
 *                    reads:  read | pread | fread | fgets | mmap
 *   SLM_FAULT_AFTER  calls of that kind that succeed first (default 0)
 *   SLM_FAULT_AFTER_BYTES  reads only, instead of AFTER: bytes that calls of
 *                    that kind transfer first; the read crossing this byte
 *                    stops at it (a short read) and the next call fails
 *   SLM_FAULT_ERRNO  EIO (default) | ENOSPC | EDQUOT | EXDEV | ENOMEM
 *   SLM_FAULT_SHORT  1: fwrite/write/pwrite write half of the bytes and
 *                    return the short count (errno set) instead of failing;
 *                    read/pread return half of the bytes asked for (a legal
 *                    short read: callers must loop); fread returns half of
 *                    the items with the stream's error flag set (a read
 *                    error after some data); mmap maps only the first half
 *                    of the file (pages past it raise SIGBUS when touched,
 *                    as a file truncated while mapped or an unreadable page
 *                    does); without SHORT, mmap fails with the errno
 *   SLM_FAULT_PATH   only calls on files whose path contains this string
 *                    count and fail (fd resolved through /proc/self/fd;
 *                    rename: either name); unset = every file
 *   SLM_FAULT_VERBOSE set: say on stderr when a fault fires
 *   SLM_FAULT_STICKY 1: every matching call after AFTER fails (a disk that
 *                    stays full), not only the first
 * Only the first matching call after AFTER fails unless STICKY; later calls
 * succeed, as a transient fault would.  Built by tests/e2e/test_gguf_faults.sh with
 * gcc -shared -fPIC (also by test_harden_reads/outputs/faults); stdio's internal
 * read/write calls are not interposed, fread/fgets/fwrite are. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long seen;
static long long bytes_seen;
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

/* n: bytes the call would transfer (for SLM_FAULT_AFTER_BYTES).  Returns 0:
 * no fault; 1: fail; k > 1: a read may transfer k - 1 bytes (up to the byte
 * limit) and the next call fails. */
static int should_fail_n(const char *op, size_t n) {
    const char *want = getenv("SLM_FAULT_OP");
    const char *sticky = getenv("SLM_FAULT_STICKY");
    if (sticky && *sticky == '1' && fired && want && strcmp(want, op) == 0) return 1;
    if (fired || !want || strcmp(want, op) != 0) return 0;
    const char *after_bytes = getenv("SLM_FAULT_AFTER_BYTES");
    seen++;
    if (after_bytes && *after_bytes) {
        long long limit = atoll(after_bytes);
        if (bytes_seen + (long long)n <= limit) {
            bytes_seen += (long long)n;
            return 0;
        }
        if (bytes_seen < limit) { /* this call transfers up to the limit, the next one fails */
            long long k = limit - bytes_seen;
            bytes_seen = limit;
            return (int)(k < 0x7fffffff ? k : 0x7fffffff) + 1;
        }
    } else {
        const char *after = getenv("SLM_FAULT_AFTER");
        if (seen <= (after ? atol(after) : 0)) return 0;
    }
    fired = 1;
    if (getenv("SLM_FAULT_VERBOSE"))
        fprintf(stderr, "shim: failing %s call %ld (after %lld bytes)\n", op, seen, bytes_seen);
    return 1;
}

static int should_fail(const char *op) { return should_fail_n(op, 0) != 0; }

static int fault_errno(void) {
    const char *e = getenv("SLM_FAULT_ERRNO");
    if (!e || !strcmp(e, "EIO")) return EIO;
    if (!strcmp(e, "ENOSPC")) return ENOSPC;
    if (!strcmp(e, "EDQUOT")) return EDQUOT;
    if (!strcmp(e, "EXDEV")) return EXDEV;
    if (!strcmp(e, "ENOMEM")) return ENOMEM;
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

/* ---- reads */

ssize_t read(int fd, void *p, size_t n) {
    REAL(read);
    int k;
    if (fd > 2 && n && fd_matches(fd) && (k = should_fail_n("read", n))) {
        if (k > 1) return real_read(fd, p, (size_t)(k - 1));
        int e = fault_errno();
        if (short_mode()) return real_read(fd, p, n > 1 ? n / 2 : 1); /* n = 1: whole */
        errno = e;
        return -1;
    }
    return real_read(fd, p, n);
}

ssize_t pread(int fd, void *p, size_t n, off_t off) {
    REAL(pread);
    int k;
    if (n && fd_matches(fd) && (k = should_fail_n("pread", n))) {
        if (k > 1) return real_pread(fd, p, (size_t)(k - 1), off);
        int e = fault_errno();
        if (short_mode()) return real_pread(fd, p, n > 1 ? n / 2 : 1, off); /* n = 1: whole */
        errno = e;
        return -1;
    }
    return real_pread(fd, p, n, off);
}

size_t fread(void *p, size_t size, size_t n, FILE *f) {
    REAL(fread);
    int k;
    if (n && size && fd_matches(fileno(f)) && (k = should_fail_n("fread", size * n))) {
        if (k > 1 && (size_t)(k - 1) >= size) return real_fread(p, size, (size_t)(k - 1) / size, f);
        int e = fault_errno();
        size_t done = short_mode() ? real_fread(p, size, n / 2, f) : 0;
        f->_flags |= _IO_ERR_SEEN; /* ferror(f) from now on, as after a failed read(2) */
        errno = e;
        return done;
    }
    return real_fread(p, size, n, f);
}

char *fgets(char *s, int n, FILE *f) {
    REAL(fgets);
    if (n > 1 && fd_matches(fileno(f)) && should_fail_n("fgets", (size_t)n) == 1) {
        f->_flags |= _IO_ERR_SEEN;
        errno = fault_errno();
        return NULL;
    }
    return real_fgets(s, n, f);
}

/* SHORT: the first half of the file (whole pages) is mapped from a copy in a
 * memfd sized to that half; touching a page past it raises SIGBUS. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    REAL(mmap);
    if (fd < 0 || !fd_matches(fd) || should_fail_n("mmap", len) != 1) return real_mmap(addr, len, prot, flags, fd, off);
    if (!short_mode()) {
        errno = fault_errno();
        return MAP_FAILED;
    }
    long page = sysconf(_SC_PAGESIZE);
    size_t keep = len / 2 / (size_t)page * (size_t)page;
    int m = memfd_create("slm-fault-shim", 0);
    if (m < 0 || ftruncate(m, (off_t)keep) != 0) return MAP_FAILED;
    char buf[65536];
    for (size_t done = 0; done < keep;) {
        size_t want = keep - done < sizeof buf ? keep - done : sizeof buf;
        ssize_t got = pread(fd, buf, want, off + (off_t)done);
        if (got <= 0 || pwrite(m, buf, (size_t)got, (off_t)done) != got) break;
        done += (size_t)got;
    }
    void *r = real_mmap(addr, len, prot, flags, m, 0);
    close(m);
    return r;
}
