/* tests/fuzz/fuzz_util.h — helpers shared by the libFuzzer harnesses:
 * CHECK (abort on a violated property, so the fuzzer reports it) and a
 * per-process scratch file that readers taking a path are fed through
 * (/dev/shm when present: no disk I/O per execution). */
#ifndef SLM_FUZZ_UTIL_H
#define SLM_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* "<scratch dir>/slm-fuzz-<tag>-<pid><ext>" into out. */
static inline void fuzz_scratch_path(char *out, size_t cap, const char *tag, const char *ext) {
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(out, cap, "%s/slm-fuzz-%s-%d%s", dir, tag, (int)getpid(), ext);
}

/* Writes data to path; aborts if the scratch file cannot be written (not a finding
 * in the code under test, but the harness cannot go on). */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    CHECK(fclose(f) == 0);
}

/* Errors are expected: keep slm's log quiet unless SLM_FUZZ_VERBOSE is set
 * (to see why an input was refused while minimising a finding). */
static inline void fuzz_quiet(void) {
    extern int slm_log_level;
    if (!getenv("SLM_FUZZ_VERBOSE")) slm_log_level = -1;
}

#endif
