/* core/ops_math.h — internal helpers shared by core/ops.c and
 * core/ops_backward.c (not a public interface). */
#ifndef SLM_CORE_OPS_MATH_H
#define SLM_CORE_OPS_MATH_H

#include <string.h>

#include "core/base.h"

/* Exponential for the softmax-like kernels, vectorisable (no libm call, no
 * branches): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, and Cephes'
 * expf polynomial (Moshier, cephes/single/expf.c), relative error < 2e-7 on
 * [-87, 88]; inputs below -87.3 give ~1e-38 instead of 0, which is harmless
 * in a sum that contains exp(0) = 1. */
static inline float slm_exp_fast(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    const float t = x * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: round */
    const float n = t - 12582912.0f;
    int32_t ti;
    memcpy(&ti, &t, sizeof ti);
    const int32_t ni = ti - 0x4B400000;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = (ni + 127) << 23;
    float sc;
    memcpy(&sc, &bits, sizeof sc);
    return p * sc;
}

/* RoPE angles for positions 0..max_pos (at least): row p (hs floats) holds
 * cos(theta_i) for i < hs/2, then sin(theta_i), theta_i = p * base^(-2i/hs)
 * formed in double and rounded once.  The table is cached between calls
 * (rebuilt when hs or base change, or max_pos outgrows it, doubling), so it
 * costs nothing after the first step.  Serial code only (not thread-safe). */
const float *slm_rope_cache(int32_t max_pos, int64_t hs, float base);

#endif
