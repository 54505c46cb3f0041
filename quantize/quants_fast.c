/* quantize/quants_fast.c — vectorised versions of ggml's hot quantization
 * loops that stay bit-identical to the scalar reference (quants.c,
 * quants_k.c).
 *
 * The rule that keeps them identical: every lane performs exactly the
 * floating-point operations, in the order, of one scalar evaluation; no sum
 * is reordered.  The lanes are groups: lane g runs the search of group
 * (sub-block) g of ggml's make_qkx2_quants (Q2_K, Q4_K, Q5_K) or
 * make_qx_quants (Q6_K); the ~20 candidate scales stay a sequential loop,
 * each lane keeping its own running best (and, for make_qkx2_quants, its own
 * min: a winner replaces the min that later candidates use) under a mask.
 * (A first version put candidates in the lanes; make_qkx2_quants's winners
 * then forced restarts, about 5 passes of 8 lanes for 21 candidates, and it
 * was 2-3x slower than this.)
 * The build has no FMA contraction (-std=c11 implies -ffp-contract=off, also
 * for vector operations), so a lane's a*b+c rounds twice like the scalar
 * code.
 *
 * Vectors are GCC/Clang vector extensions (vector_size 32): AVX/AVX2 when
 * the target has it (-march=native), pairs of SSE2 operations otherwise, so
 * there is no runtime dispatch and no intrinsics to port.  Tested against
 * the _ref functions in tests/unit/test_quant_fast.c. */
#include <math.h>
#include <string.h>

#include "quantize/quants.h"
#include "quantize/quants_impl.h"

/* Bit-identity with ggml needs every a*b+c rounded twice: GCC does not
 * contract under -std=c11, Clang does unless told (with FMA targets). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Built without AVX (ARCH= empty), GCC and Clang warn that passing 32-byte
 * vectors by value has another ABI there; the helpers below are always
 * inlined, so no such call exists. */
#pragma GCC diagnostic ignored "-Wpsabi"
#define VINLINE static inline __attribute__((always_inline))

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#define V8_LANES 8
#define SLM_FAST_MAX_GROUP 32 /* group length the searches support */

VINLINE v8f v8f_set1(float f) { return (v8f){f, f, f, f, f, f, f, f}; }
VINLINE v8i v8i_set1(int32_t i) { return (v8i){i, i, i, i, i, i, i, i}; }

VINLINE v8f v8f_select(v8i mask, v8f a, v8f b) { /* mask ? a : b */
    v8i ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    v8i r = (ia & mask) | (ib & ~mask);
    v8f f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* SLM_QMAX(lo, SLM_QMIN(hi, slm_nearest_int(f))) as a float, for integer lo, hi
 * with |lo|, |hi| < 2^22.  Clamping f first gives the same integer (rounding
 * is monotonic and lo, hi are integers), and for |f| <= 2^22, (f + 1.5*2^23) -
 * 1.5*2^23 is exactly nearest_int(f): the addition rounds to an integer, ties
 * to even, as slm_nearest_int's magic number does. */
VINLINE v8f v8_round_clamp(v8f f, float lo, float hi) {
    const v8f vlo = v8f_set1(lo), vhi = v8f_set1(hi), magic = v8f_set1(12582912.f);
    f = v8f_select(f < vlo, vlo, f);
    f = v8f_select(f > vhi, vhi, f);
    return (f + magic) - magic;
}

VINLINE v8f v8f_abs(v8f a) {
    v8i i;
    memcpy(&i, &a, sizeof i);
    i &= v8i_set1(0x7fffffff);
    memcpy(&a, &i, sizeof a);
    return a;
}

/* ---- Q8_0 ---- */

/* roundf (half away from zero) for |v| < 2^23, exactly: v - trunc(v) is
 * exact there, and the truncation is an int conversion. */
VINLINE v8i v8_roundf(v8f v) {
    const v8f a = v8f_abs(v);
    const v8i t = __builtin_convertvector(a, v8i);
    const v8f frac = a - __builtin_convertvector(t, v8f);
    const v8i r = t - (frac >= v8f_set1(0.5f)); /* mask is -1 where true */
    const v8i neg = v < v8f_set1(0.0f);
    return (r & ~neg) | (-r & neg);
}

void slm_quantize_row_q8_0_fast(const float *x, slm_block_q8_0 *y, int64_t n) {
    SLM_ASSERT(n % 32 == 0);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        v8f xv[4];
        memcpy(xv, x, sizeof xv);
        /* max is exact, so the lane order of the reduction does not matter */
        v8f m = v8f_abs(xv[0]);
        for (int k = 1; k < 4; k++) {
            v8f a = v8f_abs(xv[k]);
            m = v8f_select(a > m, a, m);
        }
        float amax = 0.0f;
        for (int k = 0; k < V8_LANES; k++) amax = SLM_QMAX(amax, m[k]);
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = slm_f32_to_f16(d);
        for (int k = 0; k < 4; k++) {
            const v8i q = v8_roundf(xv[k] * v8f_set1(id));
            for (int j = 0; j < V8_LANES; j++) y[i].qs[8 * k + j] = (int8_t)q[j];
        }
    }
}

/* ---- make_qkx2_quants on 8 groups at once (lane g = group g) ----
 *
 * The candidate loop stays sequential, as in ggml; each lane keeps its own
 * running best, min and winning candidate, updated under a mask, so a lane
 * does exactly what one scalar call does on its group.  Unlike the
 * candidate-lane search above no lane is wasted on restarts. */
void slm_make_qkx2_quants_x8(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                             float *scales, float *the_mins, float rmin, float rdelta, int nstep,
                             bool use_mad) {
    SLM_ASSERT(n >= 1 && n <= SLM_FAST_MAX_GROUP);
    v8f xt[SLM_FAST_MAX_GROUP], wt[SLM_FAST_MAX_GROUP], lv[SLM_FAST_MAX_GROUP];
    for (int i = 0; i < n; i++)
        for (int g = 0; g < V8_LANES; g++) {
            xt[i][g] = x[g * n + i];
            wt[i][g] = weights[g * n + i];
        }
    v8f min = xt[0], max = xt[0], sum_w = wt[0], sum_x = wt[0] * xt[0];
    for (int i = 1; i < n; i++) {
        min = v8f_select(xt[i] < min, xt[i], min);
        max = v8f_select(xt[i] > max, xt[i], max);
        sum_w += wt[i];
        sum_x += wt[i] * xt[i];
    }
    min = v8f_select(min > v8f_set1(0), v8f_set1(0), min);
    const v8i dead = max == min; /* scalar: all levels 0, scale 0 */
    const v8f fnmax = v8f_set1((float)nmax);
    const v8f iscale0 = fnmax / (max - min);
    v8f scale = v8f_set1(1) / iscale0, best_error = v8f_set1(0);
    for (int i = 0; i < n; i++) {
        const v8f l = v8_round_clamp(iscale0 * (xt[i] - min), 0.0f, (float)nmax);
        v8f diff = scale * l + min - xt[i];
        diff = use_mad ? v8f_abs(diff) : diff * diff;
        best_error += wt[i] * diff;
    }
    /* the levels are recomputed at the end from the winner's iscale and the
     * min in force when it won (the same expression, so the same values) */
    v8f best_isc = iscale0, best_min = min;
    for (int is = 0; is <= nstep && nstep >= 1; is++) {
        const v8f isc = (v8f_set1(rmin) + v8f_set1(rdelta) * v8f_set1((float)is) + fnmax) / (max - min);
        v8f sl = v8f_set1(0), sl2 = v8f_set1(0), sxl = v8f_set1(0);
        for (int i = 0; i < n; i++) {
            const v8f l = v8_round_clamp(isc * (xt[i] - min), 0.0f, (float)nmax);
            const v8f wl = wt[i] * l;
            lv[i] = l;
            sl += wl;
            sl2 += wl * l;
            sxl += wl * xt[i];
        }
        const v8f D = sum_w * sl2 - sl * sl;
        v8f ts = (sum_w * sxl - sum_x * sl) / D;
        v8f tm = (sl2 * sum_x - sl * sxl) / D;
        const v8i pos = tm > v8f_set1(0);
        ts = v8f_select(pos, sxl / sl2, ts);
        tm = v8f_select(pos, v8f_set1(0), tm);
        v8f err = v8f_set1(0);
        for (int i = 0; i < n; i++) {
            v8f diff = ts * lv[i] + tm - xt[i];
            diff = use_mad ? v8f_abs(diff) : diff * diff;
            err += wt[i] * diff;
        }
        const v8i win = (D > v8f_set1(0)) & (err < best_error) & ~dead;
        best_error = v8f_select(win, err, best_error);
        scale = v8f_select(win, ts, scale);
        best_isc = v8f_select(win, isc, best_isc);
        best_min = v8f_select(win, min, best_min);
        min = v8f_select(win, tm, min);
    }
    for (int i = 0; i < n; i++) {
        const v8f l = v8_round_clamp(best_isc * (xt[i] - best_min), 0.0f, (float)nmax);
        for (int g = 0; g < V8_LANES; g++) L[g * n + i] = dead[g] ? 0 : (uint8_t)l[g];
    }
    for (int g = 0; g < V8_LANES; g++) {
        scales[g] = dead[g] ? 0.0f : scale[g];
        the_mins[g] = -min[g];
    }
}

/* ---- make_qx_quants (rmse_type 1) on 8 groups at once (lane g = group g) ----
 * The first pass and the 18 candidates run in lockstep over the lanes, each
 * lane keeping its own running best under a mask. */
void slm_make_qx_quants1_x8(int n, int nmax, const float *x, int8_t *L, float *scales,
                            const float *qw) {
    SLM_ASSERT(n >= 1 && n <= SLM_FAST_MAX_GROUP);
    v8f xt[SLM_FAST_MAX_GROUP], wt[SLM_FAST_MAX_GROUP];
    for (int i = 0; i < n; i++)
        for (int g = 0; g < V8_LANES; g++) {
            const float xi = x[g * n + i];
            xt[i][g] = xi;
            wt[i][g] = qw ? qw[g * n + i] : xi * xi;
        }
    v8f max = v8f_set1(0), amax = v8f_set1(0);
    for (int i = 0; i < n; i++) {
        const v8f ax = v8f_abs(xt[i]);
        const v8i m = ax > amax;
        amax = v8f_select(m, ax, amax);
        max = v8f_select(m, xt[i], max);
    }
    const v8i dead = amax < v8f_set1(SLM_GROUP_MAX_EPS);
    const float lo = (float)-nmax, hi = (float)(nmax - 1);
    const v8f iscale = v8f_set1((float)-nmax) / max;
    v8f sumlx = v8f_set1(0), suml2 = v8f_set1(0);
    for (int i = 0; i < n; i++) {
        const v8f l = v8_round_clamp(iscale * xt[i], lo, hi);
        sumlx += wt[i] * xt[i] * l;
        suml2 += wt[i] * l * l;
    }
    v8f scale = v8f_select(suml2 != v8f_set1(0), sumlx / suml2, v8f_set1(0));
    v8f best = scale * sumlx, best_isc = iscale;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        const v8f isc = -(v8f_set1((float)nmax) + v8f_set1(0.1f) * v8f_set1((float)is)) / max;
        v8f slx = v8f_set1(0), sl2 = v8f_set1(0);
        for (int i = 0; i < n; i++) {
            const v8f l = v8_round_clamp(isc * xt[i], lo, hi);
            slx += wt[i] * xt[i] * l;
            sl2 += wt[i] * l * l;
        }
        const v8i win = (sl2 > v8f_set1(0)) & (slx * slx > best * sl2);
        const v8f ns = slx / sl2;
        scale = v8f_select(win, ns, scale);
        best = v8f_select(win, ns * slx, best);
        best_isc = v8f_select(win, isc, best_isc);
    }
    for (int i = 0; i < n; i++) {
        const v8f l = v8_round_clamp(best_isc * xt[i], lo, hi);
        for (int g = 0; g < V8_LANES; g++) L[g * n + i] = dead[g] ? 0 : (int8_t)(nmax + (int)l[g]);
    }
    for (int g = 0; g < V8_LANES; g++) scales[g] = dead[g] ? 0.0f : scale[g];
}
