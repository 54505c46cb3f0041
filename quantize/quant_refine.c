/* quantize/quant_refine.c — least-squares refinement of ggml's blocks and the
 * row driver (see quant_refine.h for the method). */
#include "quantize/quant_refine.h"

#include <math.h>
#include <string.h>

#include "quantize/quants_impl.h"

/* Search budget per K type (slm_kdesc below): rounds of the sub-block and
 * super-block least-squares steps and the integer scale / min candidates
 * tried on either side of the rounded least-squares value.  Q6_K gets the
 * small budget: its 8-bit sub-block scales and 6-bit levels leave little to
 * gain (error ratio 0.97-1.0 either way) while its 16 sub-blocks of 64
 * levels made the large budget cost 3x ggml's search. */
#define REFINE_BIG 4, 3, 2
#define REFINE_SMALL 1, 1, 1

static const slm_kdesc KD_Q2 = {16, 16, 0, 3, 0, 15, 15, true, REFINE_BIG};
static const slm_kdesc KD_Q3 = {16, 16, -4, 3, -32, 31, 0, false, REFINE_BIG};
static const slm_kdesc KD_Q4 = {8, 32, 0, 15, 0, 63, 63, true, REFINE_BIG};
static const slm_kdesc KD_Q5 = {8, 32, 0, 31, 0, 63, 63, true, REFINE_BIG};
static const slm_kdesc KD_Q6 = {16, 16, -32, 31, -128, 127, 0, false, REFINE_SMALL};

static void set_d(slm_kunp *u, slm_half dh, slm_half mh) {
    u->d_h = dh;
    u->dmin_h = mh;
    u->d = slm_f16_to_f32(dh);
    u->dmin = slm_f16_to_f32(mh);
}

/* ---- unpack / pack of the five K types ---- */

static void unpack_2bit(const uint8_t *qs, int *L) {
    for (int n = 0; n < SLM_QK_K; n += 128)
        for (int k = 0; k < 4; k++)
            for (int l = 0; l < 32; l++) L[n + 32 * k + l] = (qs[n / 4 + l] >> (2 * k)) & 3;
}

void slm_kblock_unpack(slm_type t, const void *blk, slm_kunp *u) {
    memset(u, 0, sizeof *u);
    switch (t) {
    case SLM_TYPE_Q2_K: {
        const slm_block_q2_K *b = blk;
        set_d(u, b->d, b->dmin);
        for (int j = 0; j < 16; j++) {
            u->sc[j] = b->scales[j] & 0xF;
            u->m[j] = b->scales[j] >> 4;
        }
        unpack_2bit(b->qs, u->L);
        break;
    }
    case SLM_TYPE_Q3_K: {
        const slm_block_q3_K *b = blk;
        set_d(u, b->d, 0);
        int8_t sc[16];
        slm_q3_K_unpack_scales(b->scales, sc);
        for (int j = 0; j < 16; j++) u->sc[j] = sc[j];
        unpack_2bit(b->qs, u->L);
        for (int e = 0; e < SLM_QK_K; e++)
            u->L[e] += (((b->hmask[e % 32] >> (e / 32)) & 1) ? 0 : -4);
        break;
    }
    case SLM_TYPE_Q4_K:
    case SLM_TYPE_Q5_K: {
        const slm_block_q4_K *b4 = blk;
        const slm_block_q5_K *b5 = blk;
        const uint8_t *scales = t == SLM_TYPE_Q4_K ? b4->scales : b5->scales;
        const uint8_t *qs = t == SLM_TYPE_Q4_K ? b4->qs : b5->qs;
        set_d(u, b4->d, b4->dmin); /* same offsets in both */
        for (int j = 0; j < 8; j++) {
            uint8_t s, m;
            slm_k4_get_scale_min(j, scales, &s, &m);
            u->sc[j] = s;
            u->m[j] = m;
        }
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                u->L[64 * c + l] = qs[32 * c + l] & 0xF;
                u->L[64 * c + 32 + l] = qs[32 * c + l] >> 4;
                if (t == SLM_TYPE_Q5_K) {
                    if (b5->qh[l] & (1 << (2 * c))) u->L[64 * c + l] += 16;
                    if (b5->qh[l] & (2 << (2 * c))) u->L[64 * c + 32 + l] += 16;
                }
            }
        break;
    }
    case SLM_TYPE_Q6_K: {
        const slm_block_q6_K *b = blk;
        set_d(u, b->d, 0);
        for (int j = 0; j < 16; j++) u->sc[j] = b->scales[j];
        for (int n = 0; n < 2; n++) {
            const uint8_t *ql = b->ql + 64 * n, *qh = b->qh + 32 * n;
            for (int l = 0; l < 32; l++) {
                int *L = u->L + 128 * n;
                L[l] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                L[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                L[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                L[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            }
        }
        break;
    }
    default: SLM_ASSERT(!"not a K type");
    }
}

void slm_kblock_pack(slm_type t, const slm_kunp *u, void *blk) {
    uint8_t L[SLM_QK_K], ls[16], lm[16];
    switch (t) {
    case SLM_TYPE_Q2_K: {
        slm_block_q2_K *b = blk;
        for (int j = 0; j < 16; j++) b->scales[j] = (uint8_t)(u->sc[j] | (u->m[j] << 4));
        for (int e = 0; e < SLM_QK_K; e++) L[e] = (uint8_t)u->L[e];
        slm_pack_q2_K_qs(L, b->qs);
        b->d = u->d_h;
        b->dmin = u->dmin_h;
        break;
    }
    case SLM_TYPE_Q3_K: {
        slm_block_q3_K *b = blk;
        for (int j = 0; j < 16; j++) ls[j] = (uint8_t)(u->sc[j] + 32);
        slm_pack_q3_K_scales(ls, b->scales);
        for (int e = 0; e < SLM_QK_K; e++) L[e] = (uint8_t)(u->L[e] + 4);
        slm_pack_q3_K_qs(L, b->hmask, b->qs);
        b->d = u->d_h;
        break;
    }
    case SLM_TYPE_Q4_K:
    case SLM_TYPE_Q5_K: {
        for (int j = 0; j < 8; j++) {
            ls[j] = (uint8_t)u->sc[j];
            lm[j] = (uint8_t)u->m[j];
        }
        for (int e = 0; e < SLM_QK_K; e++) L[e] = (uint8_t)u->L[e];
        if (t == SLM_TYPE_Q4_K) {
            slm_block_q4_K b; /* packed locally: gcc misjudges b->qs's size through void * */
            slm_pack_k4_scales(ls, lm, b.scales);
            slm_pack_q4_K_qs(L, b.qs);
            b.d = u->d_h;
            b.dmin = u->dmin_h;
            memcpy(blk, &b, sizeof b);
        } else {
            slm_block_q5_K *b = blk;
            slm_pack_k4_scales(ls, lm, b->scales);
            slm_pack_q5_K_qs(L, b->qh, b->qs);
            b->d = u->d_h;
            b->dmin = u->dmin_h;
        }
        break;
    }
    case SLM_TYPE_Q6_K: {
        slm_block_q6_K *b = blk;
        for (int j = 0; j < 16; j++) b->scales[j] = (int8_t)u->sc[j];
        for (int e = 0; e < SLM_QK_K; e++) L[e] = (uint8_t)(u->L[e] + 32);
        slm_pack_q6_K_qs(L, b->ql, b->qh);
        b->d = u->d_h;
        break;
    }
    default: SLM_ASSERT(!"not a K type");
    }
}

/* ---- error evaluation with the dequantizer's float expression ---- */

static inline double wsq(const float *w, int i, float diff) {
    return (w ? (double)w[i] : 1.0) * (double)diff * (double)diff;
}

/* Best level for each element of a sub-block given dd = d*sc, dm = dmin*m;
 * returns the sub-block's error.  Branch-free so that the compiler
 * vectorises it (this is most of the refinement's time); the levels are
 * the same as those of nearest rounding followed by a neighbour check. */
static double best_levels(const slm_kdesc *k, const float *x, const float *w, float dd, float dm,
                          int *L) {
    /* the reciprocal may round one level off; the neighbour check fixes that */
    const float inv = dd != 0.0f ? 1.0f / dd : 0.0f;
    const float lo = (float)k->lmin, hi = (float)k->lmax;
    const int n = k->sublen;
    float e[32];
    for (int i = 0; i < n; i++) {
        float q = (x[i] + dm) * inv;
        q = q > hi ? hi : (q < lo ? lo : q);
        const float l0 = (q + 12582912.f) - 12582912.f; /* = slm_nearest_int(q), |q| < 2^22 */
        const float d0 = dd * l0 - dm - x[i];
        /* the neighbour toward x */
        float l1 = (d0 < 0) == (dd > 0) ? l0 + 1.0f : l0 - 1.0f;
        l1 = (l1 < lo || l1 > hi) ? l0 : l1;
        const float d1 = dd * l1 - dm - x[i];
        const bool take = fabsf(d1) < fabsf(d0);
        L[i] = (int)(take ? l1 : l0);
        e[i] = take ? d1 : d0;
    }
    double err = 0;
    for (int i = 0; i < n; i++) err += (w ? (double)w[i] : 1.0) * (double)e[i] * (double)e[i];
    return err;
}

static double sub_err(const slm_kdesc *k, const float *x, const float *w, float dd, float dm,
                      const int *L) {
    double err = 0;
    for (int i = 0; i < k->sublen; i++) err += wsq(w, i, dd * L[i] - dm - x[i]);
    return err;
}

/* Re-choose sc[j], m[j] and the levels of every sub-block for the current
 * d, dmin.  Never increases the error; returns the block's error. */
static double subblock_step(const slm_kdesc *k, const float *x, const float *w, slm_kunp *u) {
    double total = 0;
    int Lc[32];
    for (int j = 0; j < k->nsub; j++) {
        const int o = j * k->sublen;
        const float *xj = x + o, *wj = w ? w + o : NULL;
        int *Lj = u->L + o;
        double best = sub_err(k, xj, wj, u->d * u->sc[j], u->dmin * u->m[j], Lj);
        for (int iter = 0; iter < k->sub_iters; iter++) {
            /* least squares x ~ s*L - mn for the current levels */
            double sw = 0, sl = 0, sll = 0, sx = 0, slx = 0;
            for (int i = 0; i < k->sublen; i++) {
                double wi = wj ? wj[i] : 1.0, l = Lj[i];
                sw += wi;
                sl += wi * l;
                sll += wi * l * l;
                sx += wi * xj[i];
                slx += wi * l * xj[i];
            }
            double s, mn = 0;
            if (k->has_min) {
                double D = sw * sll - sl * sl;
                if (D <= 0) break;
                s = (sw * slx - sx * sl) / D;
                mn = -(sll * sx - sl * slx) / D; /* x = s*L - mn */
            } else {
                if (sll <= 0) break;
                s = slx / sll;
            }
            int sc0 = u->d != 0.0f ? (int)lrint(s / u->d) : u->sc[j];
            int m0 = (k->has_min && u->dmin != 0.0f) ? (int)lrint(mn / u->dmin) : u->m[j];
            bool improved = false;
            /* scale candidates around the rounded least-squares scale (with the
             * rounded min), then min candidates around the rounded min (with
             * the best scale); from the centre outward, each direction stopped
             * at its first candidate that does not lower the error */
            for (int pass = 0; pass < (k->has_min ? 2 : 1); pass++) {
                for (int dir = (pass == 0 ? 0 : 1); dir <= 2; dir++) {
                    for (int r = (dir == 0 ? 0 : 1); r <= (dir == 0 ? 0 : k->radius); r++) {
                        const int dd = dir == 2 ? -r : r;
                        int sc = pass == 0 ? sc0 + dd : u->sc[j];
                        int m = pass == 0 ? m0 : m0 + dd;
                        if (sc < k->scmin || sc > k->scmax) break;
                        if (!k->has_min) m = 0;
                        else if (m < 0 || m > k->mmax) break;
                        double e = best_levels(k, xj, wj, u->d * sc, u->dmin * m, Lc);
                        if (e < best) {
                            best = e;
                            u->sc[j] = sc;
                            u->m[j] = m;
                            memcpy(Lj, Lc, sizeof(int) * (size_t)k->sublen);
                            improved = true;
                        } else {
                            break;
                        }
                    }
                }
            }
            /* levels alone for the kept scales (later iterations' levels are
             * already the best for their scales) */
            if (iter == 0) {
                double e = best_levels(k, xj, wj, u->d * u->sc[j], u->dmin * u->m[j], Lc);
                if (e < best) {
                    best = e;
                    memcpy(Lj, Lc, sizeof(int) * (size_t)k->sublen);
                    improved = true;
                }
            }
            if (!improved) break;
        }
        total += best;
    }
    return total;
}

static double block_err(const slm_kdesc *k, const float *x, const float *w, const slm_kunp *u) {
    double e = 0;
    for (int j = 0; j < k->nsub; j++) {
        const int o = j * k->sublen;
        e += sub_err(k, x + o, w ? w + o : NULL, u->d * u->sc[j], u->dmin * u->m[j], u->L + o);
    }
    return e;
}

static void refine_k_block(const slm_kdesc *k, const float *x, const float *w, slm_kunp *u) {
    double err = subblock_step(k, x, w, u);
    for (int it = 0; it < k->super_iters; it++) {
        /* least squares for (D, M) with x ~ D*(sc*L) - M*m */
        double aa = 0, ab = 0, bb = 0, ax = 0, bx = 0;
        for (int j = 0; j < k->nsub; j++)
            for (int i = 0; i < k->sublen; i++) {
                int e = j * k->sublen + i;
                double wi = w ? w[e] : 1.0, a = (double)u->sc[j] * u->L[e], b = u->m[j];
                aa += wi * a * a;
                ab += wi * a * b;
                bb += wi * b * b;
                ax += wi * a * x[e];
                bx += wi * b * x[e];
            }
        double D, M = 0;
        if (k->has_min && bb > 0) {
            double det = aa * bb - ab * ab;
            if (det <= 0) break;
            D = (ax * bb - ab * bx) / det;
            M = (ab * ax - aa * bx) / det;
        } else {
            if (aa <= 0) break;
            D = ax / aa;
        }
        if (!isfinite(D) || !isfinite(M) || fabs(D) > 65000.0 || fabs(M) > 65000.0) break;
        slm_kunp v = *u;
        set_d(&v, slm_f32_to_f16((float)D), k->has_min ? slm_f32_to_f16((float)M) : 0);
        if (v.d_h == u->d_h && v.dmin_h == u->dmin_h) break;
        double e2 = subblock_step(k, x, w, &v);
        if (e2 < err) {
            *u = v;
            err = e2;
        } else {
            break;
        }
    }
    (void)block_err;
}

const slm_kdesc *slm_kdesc_of(slm_type t) {
    switch (t) {
    case SLM_TYPE_Q2_K: return &KD_Q2;
    case SLM_TYPE_Q3_K: return &KD_Q3;
    case SLM_TYPE_Q4_K: return &KD_Q4;
    case SLM_TYPE_Q5_K: return &KD_Q5;
    case SLM_TYPE_Q6_K: return &KD_Q6;
    default: return NULL;
    }
}

/* ---- 32-element types with an importance matrix ---- */

/* Refines Q4_0/Q4_1/Q5_0/Q5_1 block b in place: least-squares d (and m)
 * for the current levels, rounded to halves, levels re-rounded; kept only
 * if the weighted error decreases. */
static void refine_legacy_block(slm_type t, const float *x, const float *w, void *b) {
    const size_t bb = slm_quant_block_bytes(t);
    const bool has_min = t == SLM_TYPE_Q4_1 || t == SLM_TYPE_Q5_1;
    const int nlev = (t == SLM_TYPE_Q4_0 || t == SLM_TYPE_Q4_1) ? 16 : 32;
    const int off = has_min ? 0 : nlev / 2; /* stored level = signed level + off */
    float y[32];
    slm_dequantize_row(t, b, y, 32);
    double best = 0;
    for (int i = 0; i < 32; i++) best += wsq(w, i, y[i] - x[i]);
    uint8_t cand[24];
    memcpy(cand, b, bb);
    for (int it = 0; it < 3; it++) {
        /* current levels */
        int L[32];
        float d = slm_f16_to_f32(*(slm_half *)cand);
        float m = has_min ? slm_f16_to_f32(((slm_half *)cand)[1]) : 0.0f;
        for (int i = 0; i < 32; i++) L[i] = d != 0.0f ? slm_nearest_int((y[i] - m) / d) : 0;
        double sw = 0, sl = 0, sll = 0, sx = 0, slx = 0;
        for (int i = 0; i < 32; i++) {
            double wi = w[i];
            sw += wi;
            sl += wi * L[i];
            sll += wi * L[i] * L[i];
            sx += wi * x[i];
            slx += wi * L[i] * x[i];
        }
        double nd, nm = 0;
        if (has_min) {
            double D = sw * sll - sl * sl;
            if (D <= 0) break;
            nd = (sw * slx - sx * sl) / D;
            nm = (sll * sx - sl * slx) / D;
        } else {
            if (sll <= 0) break;
            nd = slx / sll;
        }
        if (!isfinite(nd) || !isfinite(nm) || fabs(nd) > 65000 || fabs(nm) > 65000) break;
        slm_half dh = slm_f32_to_f16((float)nd), mh = slm_f32_to_f16((float)nm);
        d = slm_f16_to_f32(dh);
        m = slm_f16_to_f32(mh);
        uint8_t U[32];
        for (int i = 0; i < 32; i++) {
            int l = d != 0.0f ? slm_nearest_int(SLM_QMAX(-1000.f, SLM_QMIN(1000.f, (x[i] - m) / d))) : 0;
            l = SLM_QMAX(-off, SLM_QMIN(nlev - 1 - off, l));
            U[i] = (uint8_t)(l + off);
        }
        uint8_t nb[24];
        memcpy(nb, &dh, 2);
        if (has_min) memcpy(nb + 2, &mh, 2);
        if (nlev == 16) {
            uint8_t *qs = nb + (has_min ? 4 : 2);
            for (int j = 0; j < 16; j++) qs[j] = (uint8_t)(U[j] | (U[j + 16] << 4));
        } else {
            uint8_t *qh = nb + (has_min ? 4 : 2);
            slm_pack_q5(U, qh + 4, qh);
        }
        float y2[32];
        slm_dequantize_row(t, nb, y2, 32);
        double e = 0;
        for (int i = 0; i < 32; i++) e += wsq(w, i, y2[i] - x[i]);
        if (e < best) {
            best = e;
            memcpy(cand, nb, bb);
            memcpy(y, y2, sizeof y);
        } else {
            break;
        }
    }
    memcpy(b, cand, bb);
}

/* ---- driver ---- */

slm_quant_opts slm_quant_default_opts(void) {
    slm_quant_opts o = {NULL, true};
    return o;
}

static void ggml_row(slm_type t, const float *x, void *y, int64_t n, const float *qw) {
    switch (t) {
    case SLM_TYPE_Q4_0: slm_quantize_row_q4_0_imat(x, y, n, qw); break;
    case SLM_TYPE_Q4_1: slm_quantize_row_q4_1_imat(x, y, n, qw); break;
    case SLM_TYPE_Q5_0: slm_quantize_row_q5_0_imat(x, y, n, qw); break;
    case SLM_TYPE_Q5_1: slm_quantize_row_q5_1_imat(x, y, n, qw); break;
    case SLM_TYPE_Q8_0: slm_quantize_row_q8_0_fast(x, y, n); break;
    case SLM_TYPE_Q2_K: qw ? slm_quantize_row_q2_K_imat(x, y, n, qw) : slm_quantize_row_q2_K_fast(x, y, n); break;
    case SLM_TYPE_Q3_K: qw ? slm_quantize_row_q3_K_imat(x, y, n, qw) : slm_quantize_row_q3_K_ref(x, y, n); break;
    case SLM_TYPE_Q4_K: qw ? slm_quantize_row_q4_K_imat(x, y, n, qw) : slm_quantize_row_q4_K_fast(x, y, n); break;
    case SLM_TYPE_Q5_K: qw ? slm_quantize_row_q5_K_imat(x, y, n, qw) : slm_quantize_row_q5_K_fast(x, y, n); break;
    case SLM_TYPE_Q6_K: qw ? slm_quantize_row_q6_K_imat(x, y, n, qw) : slm_quantize_row_q6_K_fast(x, y, n); break;
    default: SLM_ASSERT(!"not a quantizable block type");
    }
}

void slm_quantize_row(slm_type t, const float *x, void *y, int64_t n, const slm_quant_opts *o) {
    const float *qw = o ? o->imatrix : NULL;
    const bool refine = o ? o->refine : true;
    switch (t) {
    case SLM_TYPE_F32: memcpy(y, x, (size_t)n * sizeof(float)); return;
    case SLM_TYPE_F16: {
        uint16_t *h = y;
        for (int64_t i = 0; i < n; i++) h[i] = slm_f32_to_f16(x[i]);
        return;
    }
    case SLM_TYPE_BF16: {
        uint16_t *h = y;
        for (int64_t i = 0; i < n; i++) h[i] = slm_f32_to_bf16(x[i]);
        return;
    }
    default: break;
    }
    ggml_row(t, x, y, n, qw);
    if (!refine) return;
    /* Q6_K without an imatrix: the refinement lowers the error by only 0-3%
     * at 3-4x the cost of ggml's search, so it is skipped (only refine where
     * it pays); with an imatrix it gains 5-12% and is kept. */
    const slm_kdesc *k = (t == SLM_TYPE_Q6_K && !qw) ? NULL : slm_kdesc_of(t);
    const size_t bb = slm_quant_block_bytes(t);
    if (k) {
        for (int64_t b = 0; b < n / SLM_QK_K; b++) {
            const float *xb = x + b * SLM_QK_K, *wb = qw ? qw + b * SLM_QK_K : NULL;
            uint8_t *yb = (uint8_t *)y + b * bb;
            slm_kunp u;
            slm_kblock_unpack(t, yb, &u);
            refine_k_block(k, xb, wb, &u);
            uint8_t nb[sizeof(slm_block_q8_K)];
            slm_kblock_pack(t, &u, nb);
            /* keep the refined block only if its true error is lower */
            if (slm_quant_row_sqerr(t, xb, nb, SLM_QK_K, wb) < slm_quant_row_sqerr(t, xb, yb, SLM_QK_K, wb))
                memcpy(yb, nb, bb);
        }
    } else if (qw && t != SLM_TYPE_Q8_0 && t != SLM_TYPE_Q6_K) {
        for (int64_t b = 0; b < n / 32; b++)
            refine_legacy_block(t, x + b * 32, qw + b * 32, (uint8_t *)y + b * bb);
    }
}

size_t slm_quantize_rows(slm_type t, const float *src, void *dst, int64_t nrows,
                         int64_t n_per_row, const slm_quant_opts *o) {
    const size_t rb = slm_quant_row_bytes(t, n_per_row);
    SLM_ASSERT(rb > 0 && slm_quant_can_quantize(t));
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t r = 0; r < nrows; r++)
        slm_quantize_row(t, src + r * n_per_row, (uint8_t *)dst + (size_t)r * rb, n_per_row, o);
    return rb * (size_t)nrows;
}

double slm_quant_row_sqerr(slm_type t, const float *x, const void *y, int64_t n, const float *w) {
    float buf[SLM_QK_K];
    const int64_t bs = slm_quant_block_size(t);
    const int64_t chunk = bs > 1 ? bs : SLM_QK_K;
    const size_t cb = slm_quant_row_bytes(t, chunk);
    double e = 0;
    for (int64_t o = 0; o < n; o += chunk) {
        int64_t c = n - o < chunk ? n - o : chunk;
        slm_dequantize_row(t, (const uint8_t *)y + (size_t)(o / chunk) * cb, buf, c);
        for (int64_t i = 0; i < c; i++) e += wsq(w ? w + o : NULL, (int)i, buf[i] - x[o + i]);
    }
    return e;
}
