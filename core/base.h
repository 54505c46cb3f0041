/* core/base.h — the bottom row: status codes, assertions, logging, checked
 * allocation, explicit-state RNG, timers and half-precision conversions.
 * Everything else in slm includes this; it includes nothing of slm's. */
#ifndef SLM_CORE_BASE_H
#define SLM_CORE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status of any operation driven by files, configs or argv (STYLE rule 10).
 * slm_status_exit_code() maps it to the CLI exit codes of DESIGN.md. */
typedef enum {
    SLM_OK = 0,
    SLM_ERR_IO,          /* open/read/write/fsync/rename failed: exit 1 */
    SLM_ERR_NOMEM,       /* allocation failed: exit 1 */
    SLM_ERR_RUNTIME,     /* anything else that went wrong at run time: exit 1 */
    SLM_ERR_FORMAT,      /* bad input file content: exit 2 */
    SLM_ERR_USAGE,       /* bad option, config key or value: exit 2 */
    SLM_ERR_LOCKED,      /* lock held by another job: exit 3 */
    SLM_ERR_INTERRUPTED, /* stopped by SIGINT/SIGTERM after saving state: exit 0 */
    SLM_STATUS_COUNT
} slm_status;

const char *slm_status_str(slm_status s);
int slm_status_exit_code(slm_status s);

/* Always-on invariant check for API misuse and internal bugs (never for input). */
#define SLM_ASSERT(cond)                                                        \
    do {                                                                        \
        if (!(cond)) slm_assert_fail(__FILE__, __LINE__, #cond);                \
    } while (0)
_Noreturn void slm_assert_fail(const char *file, int line, const char *expr);

/* Logging to stderr.  Level: 0 errors only, 1 warnings, 2 info (default), 3 debug. */
extern int slm_log_level;
void slm_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void slm_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void slm_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void slm_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Checked allocation: returns NULL after logging what could not be had.
 * slm_alloc_aligned memory is 64-byte aligned and zeroed; free with slm_free. */
void *slm_alloc(size_t n);
void *slm_calloc(size_t count, size_t size);
void *slm_alloc_aligned(size_t n);
void slm_free(void *p);
/* Overflow-checked count*size; false on overflow. */
bool slm_mul_size(size_t a, size_t b, size_t *out);
char *slm_strdup(const char *s);

/* xoshiro256** with explicit state (never rand()).  Serialisable as 4 u64. */
typedef struct {
    uint64_t s[4];
} slm_rng;
void slm_rng_seed(slm_rng *r, uint64_t seed);
uint64_t slm_rng_u64(slm_rng *r);
float slm_rng_uniform(slm_rng *r);          /* [0, 1) */
float slm_rng_normal(slm_rng *r);           /* N(0, 1), Box-Muller */
uint64_t slm_rng_below(slm_rng *r, uint64_t n); /* uniform in [0, n), n > 0 */

double slm_time_sec(void); /* monotonic seconds */

/* IEEE half and bfloat16, round-to-nearest-even as ggml does. */
float slm_f16_to_f32(uint16_t h);
uint16_t slm_f32_to_f16(float f);
float slm_bf16_to_f32(uint16_t h);
uint16_t slm_f32_to_bf16(float f);

#endif
