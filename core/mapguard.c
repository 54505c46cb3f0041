/* core/mapguard.c — SIGBUS on a mapped input -> one error line, exit 1 (see
 * mapguard.h).  The tables are fixed arrays of strdup'ed strings so that the
 * handler only reads memory (write/unlink/_exit are async-signal-safe). */
#include "core/mapguard.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"

#define MAX_MAPS 64
#define MAX_TMPS 64

typedef struct {
    const char *addr;
    size_t len;
    char *path;
} guarded_map;

static guarded_map maps[MAX_MAPS];
static char *tmps[MAX_TMPS];

void slm_mapguard_add(const void *addr, size_t len, const char *path) {
    for (int i = 0; i < MAX_MAPS; i++)
        if (!maps[i].addr) {
            char *p = slm_strdup(path);
            if (!p) return;
            maps[i].path = p;
            maps[i].len = len;
            __atomic_store_n(&maps[i].addr, (const char *)addr, __ATOMIC_RELEASE);
            return;
        }
}

void slm_mapguard_remove(const void *addr) {
    for (int i = 0; i < MAX_MAPS; i++)
        if (maps[i].addr == addr) {
            __atomic_store_n(&maps[i].addr, NULL, __ATOMIC_RELEASE);
            free(maps[i].path);
            maps[i].path = NULL;
            return;
        }
}

void slm_mapguard_add_tmp(const char *tmp) {
    for (int i = 0; i < MAX_TMPS; i++)
        if (!tmps[i]) {
            char *p = slm_strdup(tmp);
            __atomic_store_n(&tmps[i], p, __ATOMIC_RELEASE);
            return;
        }
}

void slm_mapguard_remove_tmp(const char *tmp) {
    for (int i = 0; i < MAX_TMPS; i++)
        if (tmps[i] && !strcmp(tmps[i], tmp)) {
            char *p = tmps[i];
            __atomic_store_n(&tmps[i], NULL, __ATOMIC_RELEASE);
            free(p);
            return;
        }
}

static void put(const char *s) {
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

static void put_u64(uint64_t v) {
    char b[24];
    int n = 0;
    do b[sizeof b - 1 - n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 20);
    ssize_t r = write(2, b + sizeof b - n, (size_t)n);
    (void)r;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    const char *a = si->si_addr;
    /* si_addr is meaningful only for a fault raised by the kernel (si_code > 0), not kill/raise */
    for (int i = 0; si->si_code > 0 && i < MAX_MAPS; i++) {
        const char *m = __atomic_load_n(&maps[i].addr, __ATOMIC_ACQUIRE);
        if (!m || a < m || a >= m + maps[i].len) continue;
        put("error: ");
        put(maps[i].path);
        put(": read failed at byte ");
        put_u64((uint64_t)(a - m));
        put(" of the memory-mapped file (SIGBUS: the file was truncated while in use, or the "
            "disk returned an I/O error)\n");
        for (int t = 0; t < MAX_TMPS; t++) {
            const char *p = __atomic_load_n(&tmps[t], __ATOMIC_ACQUIRE);
            if (p && unlink(p) == 0) {
                put("removed unfinished output '");
                put(p);
                put("'\n");
            }
        }
        _exit(1);
    }
    /* not ours: the default action (core dump) */
    signal(sig, SIG_DFL);
    raise(sig);
}

void slm_mapguard_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}
