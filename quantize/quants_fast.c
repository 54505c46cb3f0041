/* quantize/quants_fast.c — vectorised versions of ggml's hot quantization
 * loops that stay bit-identical to the scalar reference (quants.c,
 * quants_k.c).
 *
 * The rule that keeps them identical: every lane performs exactly the
 * floating-point operations, in the order, of one scalar evaluation.  The
 * scalar searches (make_qkx2_quants, make_qx_quants) try ~20 candidate
 * scales one after the other, each with a sequential sum over the group;
 * those sums cannot be reordered, but the candidates are independent, so
 * here lane k of an 8-wide vector evaluates candidate k (its sums still run
 * over i = 0..n-1 in order), and the running-best selection is then replayed
 * over the lanes in candidate order.  The build has no FMA contraction
 * (-std=c11 implies -ffp-contract=off, also for vector operations), so a
 * lane's a*b+c rounds twice like the scalar code.
 *
 * Vectors are GCC/Clang vector extensions (vector_size 32): AVX/AVX2 when
 * the target has it (-march=native), pairs of SSE2 operations otherwise, so
 * there is no runtime dispatch and no intrinsics to port.  Tested against
 * the _ref functions in tests/unit/test_quant_fast.c. */
#include <math.h>
#include <string.h>

#include "quantize/quants.h"
#include "quantize/quants_impl.h"

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#define V8_LANES 8
#define SLM_FAST_MAX_GROUP 32 /* group length the searches support */

static inline v8f v8f_set1(float f) { return (v8f){f, f, f, f, f, f, f, f}; }
static inline v8i v8i_set1(int32_t i) { return (v8i){i, i, i, i, i, i, i, i}; }

/* slm_nearest_int per lane (the same magic-number trick). */
static inline v8i v8_nearest(v8f f) {
    v8f v = f + v8f_set1(12582912.f);
    v8i i;
    memcpy(&i, &v, sizeof i);
    return (i & v8i_set1(0x007fffff)) - v8i_set1(0x00400000);
}

static inline v8i v8i_clamp(v8i l, int32_t lo, int32_t hi) {
    const v8i vlo = v8i_set1(lo), vhi = v8i_set1(hi);
    v8i m = l < vlo;
    l = (l & ~m) | (vlo & m);
    m = l > vhi;
    return (l & ~m) | (vhi & m);
}

static inline v8f v8f_select(v8i mask, v8f a, v8f b) { /* mask ? a : b */
    v8i ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    v8i r = (ia & mask) | (ib & ~mask);
    v8f f;
    memcpy(&f, &r, sizeof f);
    return f;
}

static inline v8f v8f_abs(v8f a) {
    v8i i;
    memcpy(&i, &a, sizeof i);
    i &= v8i_set1(0x7fffffff);
    memcpy(&a, &i, sizeof a);
    return a;
}

/* ---- Q8_0 ---- */

/* roundf (half away from zero) for |v| < 2^23, exactly: v - trunc(v) is
 * exact there, and the truncation is an int conversion. */
static inline v8i v8_roundf(v8f v) {
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

/* ---- asymmetric search (ggml make_qkx2_quants) ---- */

float slm_make_qkx2_quants_fast(int n, int nmax, const float *x, const float *weights,
                                uint8_t *L, float *the_min, float rmin, float rdelta, int nstep,
                                bool use_mad) {
    SLM_ASSERT(n >= 1 && n <= SLM_FAST_MAX_GROUP);
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = slm_nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)SLM_QMAX(0, SLM_QMIN(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    /* A winning candidate replaces min, and ggml's later candidates use the
     * new min: after a win the vector pass restarts at the next candidate. */
    v8f lf[SLM_FAST_MAX_GROUP];
    const v8f sw = v8f_set1(sum_w), sx = v8f_set1(sum_x);
    int is0 = 0;
    while (is0 <= nstep) {
        const v8f isf = {is0, is0 + 1, is0 + 2, is0 + 3, is0 + 4, is0 + 5, is0 + 6, is0 + 7};
        const v8f isc = (v8f_set1(rmin) + v8f_set1(rdelta) * isf + v8f_set1((float)nmax)) /
                        v8f_set1(max - min);
        v8f sl = v8f_set1(0), sl2 = v8f_set1(0), sxl = v8f_set1(0);
        for (int i = 0; i < n; i++) {
            lf[i] = __builtin_convertvector(v8i_clamp(v8_nearest(isc * v8f_set1(x[i] - min)), 0, nmax), v8f);
            const v8f wl = v8f_set1(weights[i]) * lf[i];
            sl += wl;
            sl2 += wl * lf[i];
            sxl += wl * v8f_set1(x[i]);
        }
        const v8f D = sw * sl2 - sl * sl;
        v8f ts = (sw * sxl - sx * sl) / D;
        v8f tm = (sl2 * sx - sl * sxl) / D;
        const v8i pos = tm > v8f_set1(0);
        ts = v8f_select(pos, sxl / sl2, ts);
        tm = v8f_select(pos, v8f_set1(0), tm);
        v8f err = v8f_set1(0);
        for (int i = 0; i < n; i++) {
            v8f diff = ts * lf[i] + tm - v8f_set1(x[i]);
            diff = use_mad ? v8f_abs(diff) : diff * diff;
            err += v8f_set1(weights[i]) * diff;
        }
        int next = is0 + V8_LANES;
        for (int k = 0; k < V8_LANES && is0 + k <= nstep; k++)
            if (D[k] > 0 && err[k] < best_error) {
                for (int i = 0; i < n; i++) L[i] = (uint8_t)lf[i][k];
                best_error = err[k];
                scale = ts[k];
                min = tm[k];
                next = is0 + k + 1;
                break;
            }
        is0 = next;
    }
    *the_min = -min;
    return scale;
}

/* ---- symmetric search with rmse_type 1 (ggml make_qx_quants) ---- */

#define QX_NCAND 18 /* is = -9..9 without 0 */

float slm_make_qx_quants1_fast(int n, int nmax, const float *x, int8_t *L, const float *qw) {
    SLM_ASSERT(n >= 1 && n <= SLM_FAST_MAX_GROUP);
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < SLM_GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    float w[SLM_FAST_MAX_GROUP];
    for (int i = 0; i < n; i++) {
        int l = slm_nearest_int(iscale * x[i]);
        l = SLM_QMAX(-nmax, SLM_QMIN(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        w[i] = qw ? qw[i] : x[i] * x[i];
        sumlx += w[i] * x[i] * l;
        suml2 += w[i] * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    float cand[24]; /* the candidate's is, lane by lane (3 vectors, 6 lanes unused) */
    for (int k = 0; k < 24; k++) cand[k] = (float)(k < 9 ? k - 9 : k < QX_NCAND ? k - 8 : 9);
    int best_k = -1;
    for (int k0 = 0; k0 < QX_NCAND; k0 += V8_LANES) {
        v8f isf;
        memcpy(&isf, cand + k0, sizeof isf);
        const v8f isc = -(v8f_set1((float)nmax) + v8f_set1(0.1f) * isf) / v8f_set1(max);
        v8f slx = v8f_set1(0), sl2 = v8f_set1(0);
        for (int i = 0; i < n; i++) {
            const v8f l = __builtin_convertvector(v8i_clamp(v8_nearest(isc * v8f_set1(x[i])), -nmax, nmax - 1), v8f);
            slx += v8f_set1(w[i]) * v8f_set1(x[i]) * l;
            sl2 += v8f_set1(w[i]) * l * l;
        }
        for (int k = 0; k < V8_LANES && k0 + k < QX_NCAND; k++)
            if (sl2[k] > 0 && slx[k] * slx[k] > best * sl2[k]) {
                scale = slx[k] / sl2[k];
                best = scale * slx[k];
                best_k = k0 + k;
            }
    }
    if (best_k >= 0) {
        iscale = -(nmax + 0.1f * cand[best_k]) / max;
        for (int i = 0; i < n; i++) {
            int l = slm_nearest_int(iscale * x[i]);
            L[i] = (int8_t)(nmax + SLM_QMAX(-nmax, SLM_QMIN(nmax - 1, l)));
        }
    }
    return scale;
}
