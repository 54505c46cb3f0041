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
/* Candidate vectors evaluated side by side per pass: make_qkx2_quants
 * restarts after each winner (about 5 passes of 8 lanes per Q4_K group for
 * its 21 candidates), so one vector per pass measured fastest (1: 0.036 s,
 * 2: 0.045 s, 3: 0.054 s per 1.5M floats of Q4_K); make_qx_quants never
 * restarts, so its 18 candidates go in one pass of 3 vectors. */
#define QKX2_NV 1
#define QX_NV 3

static inline v8f v8f_set1(float f) { return (v8f){f, f, f, f, f, f, f, f}; }
static inline v8i v8i_set1(int32_t i) { return (v8i){i, i, i, i, i, i, i, i}; }

static inline v8f v8f_select(v8i mask, v8f a, v8f b) { /* mask ? a : b */
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
static inline v8f v8_round_clamp(v8f f, float lo, float hi) {
    const v8f vlo = v8f_set1(lo), vhi = v8f_set1(hi), magic = v8f_set1(12582912.f);
    f = v8f_select(f < vlo, vlo, f);
    f = v8f_select(f > vhi, vhi, f);
    return (f + magic) - magic;
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
     * new min: after a win the pass restarts at the next candidate.  A pass
     * evaluates QKX2_NV vectors of candidates side by side. */
    v8f lf[SLM_FAST_MAX_GROUP][QKX2_NV];
    const v8f sw = v8f_set1(sum_w), sx = v8f_set1(sum_x);
    const v8f lane = {0, 1, 2, 3, 4, 5, 6, 7};
    int is0 = 0;
    while (is0 <= nstep) {
        v8f isc[QKX2_NV], sl[QKX2_NV], sl2[QKX2_NV], sxl[QKX2_NV];
        for (int v = 0; v < QKX2_NV; v++) {
            const v8f isf = lane + v8f_set1((float)(is0 + V8_LANES * v)); /* exact small integers */
            isc[v] = (v8f_set1(rmin) + v8f_set1(rdelta) * isf + v8f_set1((float)nmax)) / v8f_set1(max - min);
            sl[v] = sl2[v] = sxl[v] = v8f_set1(0);
        }
        for (int i = 0; i < n; i++) {
            const v8f xm = v8f_set1(x[i] - min), w = v8f_set1(weights[i]), xi = v8f_set1(x[i]);
            for (int v = 0; v < QKX2_NV; v++) {
                const v8f l = v8_round_clamp(isc[v] * xm, 0.0f, (float)nmax);
                const v8f wl = w * l;
                lf[i][v] = l;
                sl[v] += wl;
                sl2[v] += wl * l;
                sxl[v] += wl * xi;
            }
        }
        v8f D[QKX2_NV], ts[QKX2_NV], tm[QKX2_NV], err[QKX2_NV];
        for (int v = 0; v < QKX2_NV; v++) {
            D[v] = sw * sl2[v] - sl[v] * sl[v];
            ts[v] = (sw * sxl[v] - sx * sl[v]) / D[v];
            tm[v] = (sl2[v] * sx - sl[v] * sxl[v]) / D[v];
            const v8i pos = tm[v] > v8f_set1(0);
            ts[v] = v8f_select(pos, sxl[v] / sl2[v], ts[v]);
            tm[v] = v8f_select(pos, v8f_set1(0), tm[v]);
            err[v] = v8f_set1(0);
        }
        for (int i = 0; i < n; i++) {
            const v8f w = v8f_set1(weights[i]), xi = v8f_set1(x[i]);
            for (int v = 0; v < QKX2_NV; v++) {
                v8f diff = ts[v] * lf[i][v] + tm[v] - xi;
                diff = use_mad ? v8f_abs(diff) : diff * diff;
                err[v] += w * diff;
            }
        }
        int next = is0 + QKX2_NV * V8_LANES;
        for (int c = 0; c < QKX2_NV * V8_LANES && is0 + c <= nstep; c++) {
            const int v = c / V8_LANES, k = c % V8_LANES;
            if (D[v][k] > 0 && err[v][k] < best_error) {
                for (int i = 0; i < n; i++) L[i] = (uint8_t)lf[i][v][k];
                best_error = err[v][k];
                scale = ts[v][k];
                min = tm[v][k];
                next = is0 + c + 1;
                break;
            }
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
    float cand[QX_NV * V8_LANES]; /* the candidate's is, lane by lane (6 lanes unused) */
    for (int k = 0; k < QX_NV * V8_LANES; k++) cand[k] = (float)(k < 9 ? k - 9 : k < QX_NCAND ? k - 8 : 9);
    int best_k = -1;
    v8f isc[QX_NV], slx[QX_NV], sl2[QX_NV];
    for (int v = 0; v < QX_NV; v++) {
        v8f isf;
        memcpy(&isf, cand + V8_LANES * v, sizeof isf);
        isc[v] = -(v8f_set1((float)nmax) + v8f_set1(0.1f) * isf) / v8f_set1(max);
        slx[v] = sl2[v] = v8f_set1(0);
    }
    for (int i = 0; i < n; i++) {
        const v8f wi = v8f_set1(w[i]), xi = v8f_set1(x[i]);
        for (int v = 0; v < QX_NV; v++) {
            const v8f l = v8_round_clamp(isc[v] * xi, (float)-nmax, (float)(nmax - 1));
            slx[v] += wi * xi * l;
            sl2[v] += wi * l * l;
        }
    }
    for (int c = 0; c < QX_NCAND; c++) {
        const int v = c / V8_LANES, k = c % V8_LANES;
        if (sl2[v][k] > 0 && slx[v][k] * slx[v][k] > best * sl2[v][k]) {
            scale = slx[v][k] / sl2[v][k];
            best = scale * slx[v][k];
            best_k = c;
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
