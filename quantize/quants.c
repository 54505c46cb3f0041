/* quantize/quants.c — block geometry, dequantization of every supported
 * type, and the reference quantizers of the 32-element formats (Q4_0, Q4_1,
 * Q5_0, Q5_1, Q8_0).  The arithmetic follows ggml's ggml-quants.c
 * expression by expression so that results are bit-identical (the build
 * uses -std=c11, hence no floating-point contraction). */
#include "quantize/quants.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "quantize/quants_impl.h"

/* Bit-identity with ggml needs every a*b+c rounded twice: GCC does not
 * contract under -std=c11, Clang does unless told (with FMA targets). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

int64_t slm_quant_block_size(slm_type t) {
    switch (t) {
    case SLM_TYPE_F32: case SLM_TYPE_F16: case SLM_TYPE_BF16: return 1;
    case SLM_TYPE_Q4_0: case SLM_TYPE_Q4_1: case SLM_TYPE_Q5_0: case SLM_TYPE_Q5_1:
    case SLM_TYPE_Q8_0: return 32;
    case SLM_TYPE_Q2_K: case SLM_TYPE_Q3_K: case SLM_TYPE_Q4_K: case SLM_TYPE_Q5_K:
    case SLM_TYPE_Q6_K: case SLM_TYPE_Q8_K: return SLM_QK_K;
    default: return 0;
    }
}

size_t slm_quant_block_bytes(slm_type t) {
    switch (t) {
    case SLM_TYPE_F32: return 4;
    case SLM_TYPE_F16: case SLM_TYPE_BF16: return 2;
    case SLM_TYPE_Q4_0: return sizeof(slm_block_q4_0);
    case SLM_TYPE_Q4_1: return sizeof(slm_block_q4_1);
    case SLM_TYPE_Q5_0: return sizeof(slm_block_q5_0);
    case SLM_TYPE_Q5_1: return sizeof(slm_block_q5_1);
    case SLM_TYPE_Q8_0: return sizeof(slm_block_q8_0);
    case SLM_TYPE_Q2_K: return sizeof(slm_block_q2_K);
    case SLM_TYPE_Q3_K: return sizeof(slm_block_q3_K);
    case SLM_TYPE_Q4_K: return sizeof(slm_block_q4_K);
    case SLM_TYPE_Q5_K: return sizeof(slm_block_q5_K);
    case SLM_TYPE_Q6_K: return sizeof(slm_block_q6_K);
    case SLM_TYPE_Q8_K: return sizeof(slm_block_q8_K);
    default: return 0;
    }
}

size_t slm_quant_row_bytes(slm_type t, int64_t n) {
    int64_t bs = slm_quant_block_size(t);
    if (bs <= 0 || n < 0 || n % bs != 0) return 0;
    return (size_t)(n / bs) * slm_quant_block_bytes(t);
}

const char *slm_quant_type_name(slm_type t) {
    switch (t) {
    case SLM_TYPE_F32: return "F32";
    case SLM_TYPE_F16: return "F16";
    case SLM_TYPE_BF16: return "BF16";
    case SLM_TYPE_Q4_0: return "Q4_0";
    case SLM_TYPE_Q4_1: return "Q4_1";
    case SLM_TYPE_Q5_0: return "Q5_0";
    case SLM_TYPE_Q5_1: return "Q5_1";
    case SLM_TYPE_Q8_0: return "Q8_0";
    case SLM_TYPE_Q2_K: return "Q2_K";
    case SLM_TYPE_Q3_K: return "Q3_K";
    case SLM_TYPE_Q4_K: return "Q4_K";
    case SLM_TYPE_Q5_K: return "Q5_K";
    case SLM_TYPE_Q6_K: return "Q6_K";
    case SLM_TYPE_Q8_K: return "Q8_K";
    default: return NULL;
    }
}

bool slm_quant_can_dequantize(slm_type t) { return slm_quant_block_size(t) > 0; }

bool slm_quant_can_quantize(slm_type t) {
    return slm_quant_block_size(t) > 0 && t != SLM_TYPE_Q8_K;
}

/* ---- dequantization ---- */

static void dequant_q4_0(const slm_block_q4_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = slm_f16_to_f32(x[i].d);
        for (int j = 0; j < 16; j++) {
            const int x0 = (x[i].qs[j] & 0x0F) - 8;
            const int x1 = (x[i].qs[j] >> 4) - 8;
            y[i * 32 + j] = x0 * d;
            y[i * 32 + j + 16] = x1 * d;
        }
    }
}

static void dequant_q4_1(const slm_block_q4_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = slm_f16_to_f32(x[i].d);
        const float m = slm_f16_to_f32(x[i].m);
        for (int j = 0; j < 16; j++) {
            const int x0 = x[i].qs[j] & 0x0F;
            const int x1 = x[i].qs[j] >> 4;
            y[i * 32 + j] = x0 * d + m;
            y[i * 32 + j + 16] = x1 * d + m;
        }
    }
}

static void dequant_q5_0(const slm_block_q5_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = slm_f16_to_f32(x[i].d);
        uint32_t qh;
        memcpy(&qh, x[i].qh, sizeof qh);
        for (int j = 0; j < 16; j++) {
            const uint8_t h0 = ((qh >> j) << 4) & 0x10;
            const uint8_t h1 = (qh >> (j + 12)) & 0x10;
            const int32_t x0 = ((x[i].qs[j] & 0x0F) | h0) - 16;
            const int32_t x1 = ((x[i].qs[j] >> 4) | h1) - 16;
            y[i * 32 + j] = x0 * d;
            y[i * 32 + j + 16] = x1 * d;
        }
    }
}

static void dequant_q5_1(const slm_block_q5_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = slm_f16_to_f32(x[i].d);
        const float m = slm_f16_to_f32(x[i].m);
        uint32_t qh;
        memcpy(&qh, x[i].qh, sizeof qh);
        for (int j = 0; j < 16; j++) {
            const uint8_t h0 = ((qh >> j) << 4) & 0x10;
            const uint8_t h1 = (qh >> (j + 12)) & 0x10;
            const int x0 = (x[i].qs[j] & 0x0F) | h0;
            const int x1 = (x[i].qs[j] >> 4) | h1;
            y[i * 32 + j] = x0 * d + m;
            y[i * 32 + j + 16] = x1 * d + m;
        }
    }
}

static void dequant_q8_0(const slm_block_q8_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = slm_f16_to_f32(x[i].d);
        for (int j = 0; j < 32; j++) y[i * 32 + j] = x[i].qs[j] * d;
    }
}

static void dequant_q2_K(const slm_block_q2_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = slm_f16_to_f32(x[i].d);
        const float min = slm_f16_to_f32(x[i].dmin);
        const uint8_t *q = x[i].qs;
        int is = 0;
        for (int n = 0; n < SLM_QK_K; n += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const uint8_t sc = x[i].scales[is++];
                    const float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++)
                        *y++ = dl * ((int8_t)((q[l + 16 * half] >> shift) & 3)) - ml;
                }
            }
            q += 32;
        }
    }
}

void slm_q3_K_unpack_scales(const uint8_t packed[12], int8_t scales[16]) {
    for (int j = 0; j < 16; j++) {
        int sc = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
        sc |= ((packed[8 + j % 4] >> (2 * (j / 4))) & 3) << 4;
        scales[j] = (int8_t)(sc - 32);
    }
}

static void dequant_q3_K(const slm_block_q3_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d_all = slm_f16_to_f32(x[i].d);
        const uint8_t *q = x[i].qs, *hm = x[i].hmask;
        int8_t scales[16];
        slm_q3_K_unpack_scales(x[i].scales, scales);
        uint8_t m = 1;
        int is = 0;
        for (int n = 0; n < SLM_QK_K; n += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const float dl = d_all * scales[is++];
                    for (int l = 0; l < 16; l++) {
                        const int o = l + 16 * half;
                        *y++ = dl * ((int8_t)((q[o] >> shift) & 3) - ((hm[o] & m) ? 0 : 4));
                    }
                }
                m <<= 1;
            }
            q += 32;
        }
    }
}

void slm_k4_get_scale_min(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static void dequant_q4_K(const slm_block_q4_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = x[i].qs;
        const float d = slm_f16_to_f32(x[i].d), min = slm_f16_to_f32(x[i].dmin);
        uint8_t sc, m;
        for (int is = 0; is < 8; is += 2) {
            slm_k4_get_scale_min(is, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            slm_k4_get_scale_min(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
            q += 32;
        }
    }
}

static void dequant_q5_K(const slm_block_q5_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        const float d = slm_f16_to_f32(x[i].d), min = slm_f16_to_f32(x[i].dmin);
        uint8_t sc, m, u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2) {
            slm_k4_get_scale_min(is, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            slm_k4_get_scale_min(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            ql += 32;
            u1 <<= 2;
            u2 <<= 2;
        }
    }
}

static void dequant_q6_K(const slm_block_q6_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = slm_f16_to_f32(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int n = 0; n < SLM_QK_K; n += 128) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int8_t q1 = (int8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int8_t q3 = (int8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

static void dequant_q8_K(const slm_block_q8_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++)
        for (int j = 0; j < SLM_QK_K; j++) *y++ = x[i].d * x[i].qs[j];
}

void slm_dequantize_row(slm_type t, const void *src, float *dst, int64_t n) {
    const int64_t bs = slm_quant_block_size(t);
    SLM_ASSERT(bs > 0 && n >= 0 && n % bs == 0);
    const int64_t nb = n / bs;
    switch (t) {
    case SLM_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case SLM_TYPE_F16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = slm_f16_to_f32(h[i]);
        break;
    }
    case SLM_TYPE_BF16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = slm_bf16_to_f32(h[i]);
        break;
    }
    case SLM_TYPE_Q4_0: dequant_q4_0(src, dst, nb); break;
    case SLM_TYPE_Q4_1: dequant_q4_1(src, dst, nb); break;
    case SLM_TYPE_Q5_0: dequant_q5_0(src, dst, nb); break;
    case SLM_TYPE_Q5_1: dequant_q5_1(src, dst, nb); break;
    case SLM_TYPE_Q8_0: dequant_q8_0(src, dst, nb); break;
    case SLM_TYPE_Q2_K: dequant_q2_K(src, dst, nb); break;
    case SLM_TYPE_Q3_K: dequant_q3_K(src, dst, nb); break;
    case SLM_TYPE_Q4_K: dequant_q4_K(src, dst, nb); break;
    case SLM_TYPE_Q5_K: dequant_q5_K(src, dst, nb); break;
    case SLM_TYPE_Q6_K: dequant_q6_K(src, dst, nb); break;
    case SLM_TYPE_Q8_K: dequant_q8_K(src, dst, nb); break;
    default: SLM_ASSERT(!"unsupported type");
    }
}

/* ---- reference quantizers of the 32-element formats (ggml quantize_row_*_ref) ---- */

void slm_quantize_row_q4_0_ref(const float *x, slm_block_q4_0 *y, int64_t n) {
    SLM_ASSERT(n % 32 == 0);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f, max = 0.0f; /* signed value of largest magnitude */
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = slm_f32_to_f16(d);
        for (int j = 0; j < 16; j++) {
            const float x0 = x[j] * id, x1 = x[j + 16] * id;
            const uint8_t q0 = SLM_QMIN(15, (int8_t)(x0 + 8.5f));
            const uint8_t q1 = SLM_QMIN(15, (int8_t)(x1 + 8.5f));
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void slm_quantize_row_q4_1_ref(const float *x, slm_block_q4_1 *y, int64_t n) {
    SLM_ASSERT(n % 32 == 0);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < 32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = slm_f32_to_f16(d);
        y[i].m = slm_f32_to_f16(min);
        for (int j = 0; j < 16; j++) {
            const float x0 = (x[j] - min) * id, x1 = (x[j + 16] - min) * id;
            const uint8_t q0 = SLM_QMIN(15, (int8_t)(x0 + 0.5f));
            const uint8_t q1 = SLM_QMIN(15, (int8_t)(x1 + 0.5f));
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void slm_pack_q5(const uint8_t L[32], uint8_t qs[16], uint8_t qh_out[4]) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        const uint8_t q0 = L[j], q1 = L[j + 16];
        qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
        qh |= ((q0 & 0x10u) >> 4) << j;
        qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    memcpy(qh_out, &qh, sizeof qh);
}

void slm_quantize_row_q5_0_ref(const float *x, slm_block_q5_0 *y, int64_t n) {
    SLM_ASSERT(n % 32 == 0);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = slm_f32_to_f16(d);
        uint8_t L[32];
        for (int j = 0; j < 32; j++) L[j] = SLM_QMIN(31, (int8_t)(x[j] * id + 16.5f));
        slm_pack_q5(L, y[i].qs, y[i].qh);
    }
}

void slm_quantize_row_q5_1_ref(const float *x, slm_block_q5_1 *y, int64_t n) {
    SLM_ASSERT(n % 32 == 0);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < 32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = slm_f32_to_f16(d);
        y[i].m = slm_f32_to_f16(min);
        uint8_t L[32];
        for (int j = 0; j < 32; j++) L[j] = (uint8_t)((x[j] - min) * id + 0.5f);
        slm_pack_q5(L, y[i].qs, y[i].qh);
    }
}

void slm_quantize_row_q8_0_ref(const float *x, slm_block_q8_0 *y, int64_t n) {
    SLM_ASSERT(n % 32 == 0);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = SLM_QMAX(amax, fabsf(x[j]));
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = slm_f32_to_f16(d);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

void slm_quantize_row_q8_K_ref(const float *x, slm_block_q8_K *y, int64_t n) {
    SLM_ASSERT(n % SLM_QK_K == 0);
    for (int64_t i = 0; i < n / SLM_QK_K; i++, x += SLM_QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < SLM_QK_K; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < SLM_QK_K; j++) {
            int v = slm_nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)SLM_QMIN(127, v);
        }
        for (int j = 0; j < SLM_QK_K / 16; j++) {
            int sum = 0;
            for (int ii = 0; ii < 16; ii++) sum += y[i].qs[j * 16 + ii];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}
