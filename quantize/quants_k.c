/* quantize/quants_k.c — the K-quant reference quantizers (Q2_K..Q6_K) and
 * ggml's importance-weighted variants of every type, reproducing ggml's
 * ggml-quants.c (make_qx_quants, make_q3_quants, make_qkx2/3_quants,
 * make_qp_quants and the quantize_row_*_ref / _impl drivers) operation for
 * operation, so that slm's output equals ggml_quantize_chunk's.  The better
 * (refined) quantizers of quant_refine.c start from these results. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "quantize/quants.h"
#include "quantize/quants_impl.h"

/* Bit-identity with ggml needs every a*b+c rounded twice: GCC does not
 * contract under -std=c11, Clang does unless told (with FMA targets). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Symmetric levels in [-nmax, nmax-1] for one group; returns the scale.
 * rmse_type 0: plain max scaling; 1: weights qw (or x^2 if qw NULL) and a
 * search over 18 scales around nmax/max.  L receives level + nmax. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type,
                            const float *qw) {
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
    if (rmse_type == 0) {
        for (int i = 0; i < n; i++) {
            int l = slm_nearest_int(iscale * x[i]);
            L[i] = (int8_t)(nmax + SLM_QMAX(-nmax, SLM_QMIN(nmax - 1, l)));
        }
        return 1 / iscale;
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = slm_nearest_int(iscale * x[i]);
        l = SLM_QMAX(-nmax, SLM_QMIN(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        float w = qw ? qw[i] : x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = slm_nearest_int(iscale * x[i]);
            l = SLM_QMAX(-nmax, SLM_QMIN(nmax - 1, l));
            float w = qw ? qw[i] : x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) {
                int l = slm_nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + SLM_QMAX(-nmax, SLM_QMIN(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Q3_K's symmetric search with coordinate-descent on single levels (weights x^2). */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L) {
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
    for (int i = 0; i < n; i++) {
        int l = slm_nearest_int(iscale * x[i]);
        l = SLM_QMAX(-nmax, SLM_QMIN(nmax - 1, l));
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                int new_l = slm_nearest_int(x[i] * sl2 / slx);
                new_l = SLM_QMAX(-nmax, SLM_QMIN(nmax - 1, new_l));
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Asymmetric levels 0..nmax with a min <= 0 (ggml make_qkx2_quants). */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights,
                              uint8_t *L, float *the_min, uint8_t *Laux, float rmin,
                              float rdelta, int nstep, bool use_mad) {
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
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = slm_nearest_int(iscale * (x[i] - min));
            l = SLM_QMAX(0, SLM_QMIN(nmax, l));
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* As make_qkx2_quants with the guard of ggml's make_qkx3_quants (weights given). */
static float make_qkx3_quants(int n, int nmax, const float *x, const float *weights,
                              uint8_t *L, float *the_min, uint8_t *Laux, float rmin,
                              float rdelta, int nstep) {
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
    if (max <= min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_mad = 0;
    for (int i = 0; i < n; i++) {
        int l = slm_nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)SLM_QMAX(0, SLM_QMIN(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = diff * diff;
        best_mad += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            const float v = iscale * (x[i] - min);
            const int l = v > 0 ? slm_nearest_int(SLM_QMIN(v, (float)nmax)) : 0;
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float mad = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = diff * diff;
                mad += weights[i] * diff;
            }
            if (mad < best_mad) {
                memcpy(L, Laux, (size_t)n);
                best_mad = mad;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* Non-negative levels 0..nmax for the sub-block scales (ggml make_qp_quants). */
static float make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw) {
    float max = 0;
    for (int i = 0; i < n; i++) max = SLM_QMAX(max, x[i]);
    if (max < SLM_GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = nmax / max;
    for (int i = 0; i < n; i++) L[i] = (uint8_t)slm_nearest_int(iscale * x[i]);
    float scale = 1 / iscale;
    float best_mse = 0;
    for (int i = 0; i < n; i++) {
        float diff = x[i] - scale * L[i];
        best_mse += qw[i] * diff * diff;
    }
    for (int is = -4; is <= 4; is++) {
        if (is == 0) continue;
        float iscale_is = (0.1f * is + nmax) / max;
        float scale_is = 1 / iscale_is;
        float mse = 0;
        for (int i = 0; i < n; i++) {
            int l = slm_nearest_int(iscale_is * x[i]);
            l = SLM_QMIN(nmax, l);
            float diff = x[i] - scale_is * l;
            mse += qw[i] * diff * diff;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = slm_nearest_int(iscale * x[i]);
        l = SLM_QMIN(nmax, l);
        L[i] = (uint8_t)l;
        float w = qw[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            float w = qw[i];
            float slx = sumlx - w * x[i] * L[i];
            float sl2 = suml2 - w * L[i] * L[i];
            if (slx > 0 && sl2 > 0) {
                int new_l = slm_nearest_int(x[i] * sl2 / slx);
                new_l = SLM_QMIN(nmax, new_l);
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (uint8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* ---- packers ---- */

void slm_pack_k4_scales(const uint8_t ls[8], const uint8_t lm[8], uint8_t scales[12]) {
    memset(scales, 0, 12);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            scales[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            scales[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

void slm_pack_q3_K_scales(const uint8_t ls[16], uint8_t scales[12]) {
    memset(scales, 0, 12);
    for (int j = 0; j < 16; j++) {
        int l = ls[j];
        if (j < 8) scales[j] = (uint8_t)(l & 0xF);
        else scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
        l >>= 4;
        scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
    }
}

void slm_pack_q2_K_qs(const uint8_t L[256], uint8_t qs[64]) {
    for (int j = 0; j < SLM_QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

void slm_pack_q3_K_qs(uint8_t L[256], uint8_t hmask[32], uint8_t qs[64]) {
    memset(hmask, 0, SLM_QK_K / 8);
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < SLM_QK_K; j++) {
        if (L[j] > 3) {
            hmask[m] |= hm;
            L[j] -= 4;
        }
        if (++m == SLM_QK_K / 8) {
            m = 0;
            hm <<= 1;
        }
    }
    slm_pack_q2_K_qs(L, qs);
}

void slm_pack_q4_K_qs(const uint8_t L[256], uint8_t qs[128]) {
    for (int j = 0; j < SLM_QK_K; j += 64, qs += 32)
        for (int l = 0; l < 32; l++) qs[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
}

void slm_pack_q5_K_qs(const uint8_t L[256], uint8_t qh[32], uint8_t ql[128]) {
    memset(qh, 0, SLM_QK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < SLM_QK_K; n += 64) {
        for (int j = 0; j < 32; j++) {
            int l1 = L[n + j], l2 = L[n + j + 32];
            if (l1 > 15) {
                l1 -= 16;
                qh[j] |= m1;
            }
            if (l2 > 15) {
                l2 -= 16;
                qh[j] |= m2;
            }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
        m1 <<= 2;
        m2 <<= 2;
        ql += 32;
    }
}

void slm_pack_q6_K_qs(const uint8_t L[256], uint8_t ql[128], uint8_t qh[64]) {
    for (int j = 0; j < SLM_QK_K; j += 128) {
        for (int l = 0; l < 32; l++) {
            const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
            const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                              ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
}

/* Final level choice given the stored (rounded) scales: x = d*L - dm. */
static void requant_asym(const float *x, int n, float d, float dm, int nmax, uint8_t *L) {
    if (!d) return;
    for (int ii = 0; ii < n; ii++) {
        int l = slm_nearest_int((x[ii] + dm) / d);
        L[ii] = (uint8_t)SLM_QMAX(0, SLM_QMIN(nmax, l));
    }
}

/* ---- Q2_K ---- */

/* fast: the vectorised search of quants_fast.c (same bits) instead of the scalar one */
static void q2_K_rows(const float *x, slm_block_q2_K *y, int64_t n, bool fast) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    uint8_t L[SLM_QK_K], Laux[16];
    float weights[SLM_QK_K], mins[16], scales[16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        float max_scale = 0, max_min = 0;
        for (int l = 0; l < SLM_QK_K; l++) weights[l] = fabsf(x[l]);
        if (fast) /* 8 groups of 16 side by side, twice; same bits */
            for (int h = 0; h < 2; h++)
                slm_make_qkx2_quants_x8(16, 3, x + 128 * h, weights + 128 * h, L + 128 * h, scales + 8 * h,
                                        mins + 8 * h, -0.5f, 0.1f, 15, true);
        else
            for (int j = 0; j < 16; j++)
                scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights + 16 * j, L + 16 * j, &mins[j], Laux,
                                             -0.5f, 0.1f, 15, true);
        for (int j = 0; j < 16; j++) {
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            float iscale = q4scale / max_scale;
            for (int j = 0; j < 16; j++) y[i].scales[j] = (uint8_t)slm_nearest_int(iscale * scales[j]);
            y[i].d = slm_f32_to_f16(max_scale / q4scale);
        } else {
            for (int j = 0; j < 16; j++) y[i].scales[j] = 0;
            y[i].d = slm_f32_to_f16(0.f);
        }
        if (max_min > 0) {
            float iscale = q4scale / max_min;
            for (int j = 0; j < 16; j++) {
                int l = slm_nearest_int(iscale * mins[j]);
                y[i].scales[j] |= (uint8_t)(l << 4);
            }
            y[i].dmin = slm_f32_to_f16(max_min / q4scale);
        } else {
            y[i].dmin = slm_f32_to_f16(0.f);
        }
        for (int j = 0; j < 16; j++) {
            const float d = slm_f16_to_f32(y[i].d) * (y[i].scales[j] & 0xF);
            const float dm = slm_f16_to_f32(y[i].dmin) * (y[i].scales[j] >> 4);
            requant_asym(x + 16 * j, 16, d, dm, 3, L + 16 * j);
        }
        slm_pack_q2_K_qs(L, y[i].qs);
    }
}

void slm_quantize_row_q2_K_ref(const float *x, slm_block_q2_K *y, int64_t n) { q2_K_rows(x, y, n, false); }
void slm_quantize_row_q2_K_fast(const float *x, slm_block_q2_K *y, int64_t n) { q2_K_rows(x, y, n, true); }

void slm_quantize_row_q2_K_imat(const float *x, slm_block_q2_K *y, int64_t n, const float *qw) {
    SLM_ASSERT(n % SLM_QK_K == 0 && qw);
    uint8_t L[SLM_QK_K], Laux[16], Ls[16], Lm[16];
    float mins[16], scales[16], sw[16], weight[16];
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        memset(sw, 0, sizeof sw);
        float sumx2 = 0;
        for (int j = 0; j < SLM_QK_K; j++) sumx2 += x[j] * x[j];
        float sigma2 = sumx2 / SLM_QK_K;
        for (int j = 0; j < 16; j++) {
            const float *w = qw + SLM_QK_K * i + 16 * j;
            for (int l = 0; l < 16; l++) weight[l] = w[l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
            for (int l = 0; l < 16; l++) sw[j] += weight[l];
            scales[j] = make_qkx3_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux,
                                         -0.9f, 0.05f, 36);
        }
        float dm = make_qp_quants(16, 15, scales, Ls, sw);
        float mm = make_qp_quants(16, 15, mins, Lm, sw);
        y[i].d = slm_f32_to_f16(dm);
        y[i].dmin = slm_f32_to_f16(mm);
        dm = slm_f16_to_f32(y[i].d);
        mm = slm_f16_to_f32(y[i].dmin);
        for (int j = 0; j < 16; j++) y[i].scales[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
        for (int j = 0; j < 16; j++) {
            const float d = dm * (y[i].scales[j] & 0xF);
            const float m = mm * (y[i].scales[j] >> 4);
            requant_asym(x + 16 * j, 16, d, m, 3, L + 16 * j);
        }
        slm_pack_q2_K_qs(L, y[i].qs);
    }
}

/* ---- Q3_K ---- */

static void q3_K_finish(const float *x, slm_block_q3_K *y, int8_t *L8) {
    uint8_t L[SLM_QK_K];
    int8_t sc[16];
    slm_q3_K_unpack_scales(y->scales, sc);
    for (int j = 0; j < SLM_QK_K; j++) L[j] = (uint8_t)L8[j];
    for (int j = 0; j < 16; j++) {
        float d = slm_f16_to_f32(y->d) * sc[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ii++) {
            int l = slm_nearest_int(x[16 * j + ii] / d);
            l = SLM_QMAX(-4, SLM_QMIN(3, l));
            L[16 * j + ii] = (uint8_t)(l + 4);
        }
    }
    slm_pack_q3_K_qs(L, y->hmask, y->qs);
}

void slm_quantize_row_q3_K_ref(const float *x, slm_block_q3_K *y, int64_t n) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    int8_t L[SLM_QK_K];
    float scales[16];
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
            float scale = fabsf(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        memset(y[i].scales, 0, 12);
        if (max_scale) {
            float iscale = -32.f / max_scale;
            uint8_t ls[16];
            for (int j = 0; j < 16; j++) {
                int8_t l = (int8_t)slm_nearest_int(iscale * scales[j]);
                ls[j] = (uint8_t)(SLM_QMAX(-32, SLM_QMIN(31, l)) + 32);
            }
            slm_pack_q3_K_scales(ls, y[i].scales);
            y[i].d = slm_f32_to_f16(1 / iscale);
        } else {
            y[i].d = slm_f32_to_f16(0.f);
        }
        q3_K_finish(x, &y[i], L);
    }
}

void slm_quantize_row_q3_K_imat(const float *x, slm_block_q3_K *y, int64_t n, const float *qw) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    int8_t L[SLM_QK_K], Ls[16];
    float scales[16], weight[16], sw[16];
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        float sumx2 = 0;
        for (int j = 0; j < SLM_QK_K; j++) sumx2 += x[j] * x[j];
        float sigma2 = 2 * sumx2 / SLM_QK_K;
        for (int j = 0; j < 16; j++) {
            if (qw) {
                const float *w = qw + SLM_QK_K * i + 16 * j;
                for (int l = 0; l < 16; l++) weight[l] = w[l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
            } else {
                for (int l = 0; l < 16; l++) weight[l] = x[16 * j + l] * x[16 * j + l];
            }
            float sumw = 0;
            for (int l = 0; l < 16; l++) sumw += weight[l];
            sw[j] = sumw;
            scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
        }
        float d_block = make_qx_quants(16, 32, scales, Ls, 1, sw);
        uint8_t ls[16];
        for (int j = 0; j < 16; j++) ls[j] = (uint8_t)Ls[j];
        slm_pack_q3_K_scales(ls, y[i].scales);
        y[i].d = slm_f32_to_f16(d_block);
        q3_K_finish(x, &y[i], L);
    }
}

/* ---- Q4_K / Q5_K (same scale layout; nmax 15 or 31) ---- */

static void k45_ref_block(const float *x, int nmax, float rmin, int nstep, bool fast, uint8_t L[256],
                          slm_half *d_out, slm_half *dmin_out, uint8_t sc_out[12]) {
    uint8_t Laux[32], ls[8], lm[8];
    float weights[256], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[32 * j + l] = av_x + fabsf(x[32 * j + l]);
    }
    if (fast) /* the 8 sub-blocks side by side, same bits */
        slm_make_qkx2_quants_x8(32, nmax, x, weights, L, scales, mins, rmin, 0.1f, nstep, false);
    else
        for (int j = 0; j < 8; j++)
            scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights + 32 * j, L + 32 * j, &mins[j], Laux,
                                         rmin, 0.1f, nstep, false);
    for (int j = 0; j < 8; j++) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; j++) {
        uint8_t a = (uint8_t)slm_nearest_int(inv_scale * scales[j]);
        uint8_t b = (uint8_t)slm_nearest_int(inv_min * mins[j]);
        ls[j] = SLM_QMIN(63, a);
        lm[j] = SLM_QMIN(63, b);
    }
    slm_pack_k4_scales(ls, lm, sc_out);
    *d_out = slm_f32_to_f16(max_scale / 63.f);
    *dmin_out = slm_f32_to_f16(max_min / 63.f);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        slm_k4_get_scale_min(j, sc_out, &sc, &m);
        const float d = slm_f16_to_f32(*d_out) * sc;
        const float dm = slm_f16_to_f32(*dmin_out) * m;
        requant_asym(x + 32 * j, 32, d, dm, nmax, L + 32 * j);
    }
}

static void k45_imat_block(const float *x, const float *qw, int nmax, uint8_t L[256],
                           slm_half *d_out, slm_half *dmin_out, uint8_t sc_out[12]) {
    uint8_t Laux[32], Ls[8], Lm[8];
    float weights[32], sw[8], mins[8], scales[8];
    float sum_x2 = 0;
    for (int l = 0; l < SLM_QK_K; l++) sum_x2 += x[l] * x[l];
    float sigma2 = 2 * sum_x2 / SLM_QK_K;
    float av_x = sqrtf(sigma2);
    for (int j = 0; j < 8; j++) {
        if (qw) {
            for (int l = 0; l < 32; l++)
                weights[l] = qw[32 * j + l] * sqrtf(sigma2 + x[32 * j + l] * x[32 * j + l]);
        } else {
            for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
        }
        float sumw = 0;
        for (int l = 0; l < 32; l++) sumw += weights[l];
        sw[j] = sumw;
        scales[j] = make_qkx3_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                     -0.9f, 0.05f, 36);
    }
    float d_block = make_qp_quants(8, 63, scales, Ls, sw);
    float m_block = make_qp_quants(8, 63, mins, Lm, sw);
    for (int j = 0; j < 8; j++) {
        Ls[j] = SLM_QMIN(63, Ls[j]);
        Lm[j] = SLM_QMIN(63, Lm[j]);
    }
    slm_pack_k4_scales(Ls, Lm, sc_out);
    *d_out = slm_f32_to_f16(d_block);
    *dmin_out = slm_f32_to_f16(m_block);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        slm_k4_get_scale_min(j, sc_out, &sc, &m);
        const float d = slm_f16_to_f32(*d_out) * sc;
        const float dm = slm_f16_to_f32(*dmin_out) * m;
        requant_asym(x + 32 * j, 32, d, dm, nmax, L + 32 * j);
    }
}

static void q4_K_rows(const float *x, slm_block_q4_K *y, int64_t n, bool fast) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    uint8_t L[SLM_QK_K];
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        k45_ref_block(x, 15, -1.f, 20, fast, L, &y[i].d, &y[i].dmin, y[i].scales);
        slm_pack_q4_K_qs(L, y[i].qs);
    }
}

void slm_quantize_row_q4_K_ref(const float *x, slm_block_q4_K *y, int64_t n) { q4_K_rows(x, y, n, false); }
void slm_quantize_row_q4_K_fast(const float *x, slm_block_q4_K *y, int64_t n) { q4_K_rows(x, y, n, true); }

void slm_quantize_row_q4_K_imat(const float *x, slm_block_q4_K *y, int64_t n, const float *qw) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    uint8_t L[SLM_QK_K];
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        k45_imat_block(x, qw ? qw + SLM_QK_K * i : NULL, 15, L, &y[i].d, &y[i].dmin, y[i].scales);
        slm_pack_q4_K_qs(L, y[i].qs);
    }
}

static void q5_K_rows(const float *x, slm_block_q5_K *y, int64_t n, bool fast) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    uint8_t L[SLM_QK_K];
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        k45_ref_block(x, 31, -0.5f, 15, fast, L, &y[i].d, &y[i].dmin, y[i].scales);
        slm_pack_q5_K_qs(L, y[i].qh, y[i].qs);
    }
}

void slm_quantize_row_q5_K_ref(const float *x, slm_block_q5_K *y, int64_t n) { q5_K_rows(x, y, n, false); }
void slm_quantize_row_q5_K_fast(const float *x, slm_block_q5_K *y, int64_t n) { q5_K_rows(x, y, n, true); }

void slm_quantize_row_q5_K_imat(const float *x, slm_block_q5_K *y, int64_t n, const float *qw) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    uint8_t L[SLM_QK_K];
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        k45_imat_block(x, qw ? qw + SLM_QK_K * i : NULL, 31, L, &y[i].d, &y[i].dmin, y[i].scales);
        slm_pack_q5_K_qs(L, y[i].qh, y[i].qs);
    }
}

/* ---- Q6_K ---- */

static void q6_K_block(const float *x, const float *qw, bool fast, slm_block_q6_K *y) {
    int8_t L8[SLM_QK_K];
    uint8_t L[SLM_QK_K];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    if (fast) /* 8 groups side by side, twice; same bits */
        for (int h = 0; h < 2; h++)
            slm_make_qx_quants1_x8(16, 32, x + 128 * h, L8 + 128 * h, scales + 8 * h, qw ? qw + 128 * h : NULL);
    else
        for (int ib = 0; ib < 16; ib++)
            scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L8 + 16 * ib, 1, qw ? qw + 16 * ib : NULL);
    for (int ib = 0; ib < 16; ib++) {
        const float scale = scales[ib];
        if (fabsf(scale) > max_abs_scale) {
            max_abs_scale = fabsf(scale);
            max_scale = scale;
        }
    }
    if (max_abs_scale < SLM_GROUP_MAX_EPS) {
        memset(y, 0, sizeof *y);
        y->d = slm_f32_to_f16(0.f);
        return;
    }
    float iscale = -128.f / max_scale;
    y->d = slm_f32_to_f16(1 / iscale);
    for (int ib = 0; ib < 16; ib++) y->scales[ib] = (int8_t)SLM_QMIN(127, slm_nearest_int(iscale * scales[ib]));
    for (int j = 0; j < SLM_QK_K; j++) L[j] = (uint8_t)L8[j];
    for (int j = 0; j < 16; j++) {
        float d = slm_f16_to_f32(y->d) * y->scales[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ii++) {
            int l = slm_nearest_int(x[16 * j + ii] / d);
            l = SLM_QMAX(-32, SLM_QMIN(31, l));
            L[16 * j + ii] = (uint8_t)(l + 32);
        }
    }
    slm_pack_q6_K_qs(L, y->ql, y->qh);
}

void slm_quantize_row_q6_K_ref(const float *x, slm_block_q6_K *y, int64_t n) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    for (int64_t i = 0; i < n / SLM_QK_K; i++) q6_K_block(x + SLM_QK_K * i, NULL, false, &y[i]);
}

void slm_quantize_row_q6_K_fast(const float *x, slm_block_q6_K *y, int64_t n) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    for (int64_t i = 0; i < n / SLM_QK_K; i++) q6_K_block(x + SLM_QK_K * i, NULL, true, &y[i]);
}

void slm_quantize_row_q6_K_imat(const float *x, slm_block_q6_K *y, int64_t n, const float *qw) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    for (int64_t i = 0; i < n / SLM_QK_K; i++)
        q6_K_block(x + SLM_QK_K * i, qw ? qw + SLM_QK_K * i : NULL, false, &y[i]);
}

/* ---- importance-weighted 32-element formats (ggml quantize_row_q*_impl) ---- */

static float row_sigma2(const float *x, int64_t n) {
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; j++) sum_x2 += x[j] * x[j];
    return sum_x2 / n;
}

void slm_quantize_row_q4_0_imat(const float *x, slm_block_q4_0 *y, int64_t n, const float *qw) {
    if (!qw) {
        slm_quantize_row_q4_0_ref(x, y, n);
        return;
    }
    float weight[32], sigma2 = row_sigma2(x, n);
    int8_t L[32];
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const float *xb = x + 32 * ib, *w = qw + 32 * ib;
        for (int j = 0; j < 32; j++) weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float d = make_qx_quants(32, 8, xb, L, 1, weight);
        y[ib].d = slm_f32_to_f16(d);
        for (int j = 0; j < 16; j++) y[ib].qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

void slm_quantize_row_q5_0_imat(const float *x, slm_block_q5_0 *y, int64_t n, const float *qw) {
    if (!qw) {
        slm_quantize_row_q5_0_ref(x, y, n);
        return;
    }
    float weight[32], sigma2 = row_sigma2(x, n);
    int8_t L[32];
    uint8_t U[32];
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const float *xb = x + 32 * ib, *w = qw + 32 * ib;
        for (int j = 0; j < 32; j++) weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float d = make_qx_quants(32, 16, xb, L, 1, weight);
        y[ib].d = slm_f32_to_f16(d);
        for (int j = 0; j < 32; j++) U[j] = (uint8_t)L[j];
        slm_pack_q5(U, y[ib].qs, y[ib].qh);
    }
}

void slm_quantize_row_q4_1_imat(const float *x, slm_block_q4_1 *y, int64_t n, const float *qw) {
    if (!qw) {
        slm_quantize_row_q4_1_ref(x, y, n);
        return;
    }
    float weight[32], sigma2 = row_sigma2(x, n);
    uint8_t L[32], Laux[32];
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const float *xb = x + 32 * ib, *w = qw + 32 * ib;
        for (int j = 0; j < 32; j++) weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        float d = make_qkx3_quants(32, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36);
        y[ib].d = slm_f32_to_f16(d);
        y[ib].m = slm_f32_to_f16(-min);
        for (int j = 0; j < 16; j++) y[ib].qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

void slm_quantize_row_q5_1_imat(const float *x, slm_block_q5_1 *y, int64_t n, const float *qw) {
    if (!qw) {
        slm_quantize_row_q5_1_ref(x, y, n);
        return;
    }
    float weight[32], sigma2 = row_sigma2(x, n);
    uint8_t L[32], Laux[32];
    for (int64_t ib = 0; ib < n / 32; ib++) {
        const float *xb = x + 32 * ib, *w = qw + 32 * ib;
        for (int j = 0; j < 32; j++) weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        float d = make_qkx3_quants(32, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36);
        y[ib].d = slm_f32_to_f16(d);
        y[ib].m = slm_f32_to_f16(-min);
        slm_pack_q5(L, y[ib].qs, y[ib].qh);
    }
}
