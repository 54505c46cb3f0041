/* core/base.c — status strings, logging, allocation, RNG, timers, halves. */
#include "core/base.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int slm_log_level = 2;

const char *slm_status_str(slm_status s) {
    static const char *names[SLM_STATUS_COUNT] = {
        "ok", "I/O error", "out of memory", "runtime error",
        "bad input", "bad usage", "locked", "interrupted",
    };
    return (unsigned)s < SLM_STATUS_COUNT ? names[s] : "unknown status";
}

int slm_status_exit_code(slm_status s) {
    switch (s) {
    case SLM_OK: case SLM_ERR_INTERRUPTED: return 0;
    case SLM_ERR_FORMAT: case SLM_ERR_USAGE: return 2;
    case SLM_ERR_LOCKED: return 3;
    default: return 1;
    }
}

void slm_assert_fail(const char *file, int line, const char *expr) {
    fprintf(stderr, "slm: %s:%d: assertion failed: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}

static void vlog(int level, const char *tag, const char *fmt, va_list ap) {
    if (level > slm_log_level) return;
    fputs(tag, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

#define SLM_DEFINE_LOG(fn, level, tag)                                          \
    void fn(const char *fmt, ...) {                                             \
        va_list ap;                                                             \
        va_start(ap, fmt);                                                      \
        vlog(level, tag, fmt, ap);                                              \
        va_end(ap);                                                             \
    }
SLM_DEFINE_LOG(slm_log_error, 0, "error: ")
SLM_DEFINE_LOG(slm_log_warn, 1, "warning: ")
SLM_DEFINE_LOG(slm_log_info, 2, "")
SLM_DEFINE_LOG(slm_log_debug, 3, "debug: ")

void *slm_alloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) slm_log_error("out of memory allocating %zu bytes", n);
    return p;
}

void *slm_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) slm_log_error("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *slm_alloc_aligned(size_t n) {
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n) return NULL;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) {
        slm_log_error("out of memory allocating %zu bytes", n);
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

void slm_free(void *p) { free(p); }

bool slm_mul_size(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

char *slm_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = slm_alloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* splitmix64 expands a seed into xoshiro state (Vigna's recommendation). */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void slm_rng_seed(slm_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t slm_rng_u64(slm_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float slm_rng_uniform(slm_rng *r) {
    return (float)(slm_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

float slm_rng_normal(slm_rng *r) {
    double u1 = ((double)(slm_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(slm_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

uint64_t slm_rng_below(slm_rng *r, uint64_t n) {
    SLM_ASSERT(n > 0);
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = slm_rng_u64(r); while (x >= limit);
    return x % n;
}

double slm_time_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* Half <-> float after Maratea's FP16 library, the algorithm ggml uses when
 * the CPU has no F16C: exact for every half, round-to-nearest-even back. */
float slm_f16_to_f32(uint16_t h) {
    const uint32_t w = (uint32_t)h << 16;
    const uint32_t sign = w & 0x80000000u;
    const uint32_t two_w = w + w;
    const uint32_t exp_offset = 0xE0u << 23;
    const float exp_scale = 0x1.0p-112f;
    const float normalized = bits_f32((two_w >> 4) + exp_offset) * exp_scale;
    const uint32_t magic_mask = 126u << 23;
    const float magic_bias = 0.5f;
    const float denormalized = bits_f32((two_w >> 17) | magic_mask) - magic_bias;
    const uint32_t denorm_cutoff = 1u << 27;
    const uint32_t result = sign | (two_w < denorm_cutoff ? f32_bits(denormalized)
                                                           : f32_bits(normalized));
    return bits_f32(result);
}

uint16_t slm_f32_to_f16(float f) {
    const float scale_to_inf = 0x1.0p+112f;
    const float scale_to_zero = 0x1.0p-110f;
    float base = (fabsf(f) * scale_to_inf) * scale_to_zero;
    const uint32_t w = f32_bits(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = bits_f32((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = f32_bits(base);
    const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    const uint32_t mantissa_bits = bits & 0x00000FFFu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

float slm_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

/* As ggml_compute_fp32_to_bf16: NaN is quietened, otherwise round to nearest even. */
uint16_t slm_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}
