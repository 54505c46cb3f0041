/* quantize/quants_impl.h — helpers shared by the quantizer sources (not a
 * public interface). */
#ifndef SLM_QUANTIZE_QUANTS_IMPL_H
#define SLM_QUANTIZE_QUANTS_IMPL_H

#include <string.h>

#include "quantize/quants.h"

#define SLM_QMIN(a, b) ((a) < (b) ? (a) : (b))
#define SLM_QMAX(a, b) ((a) > (b) ? (a) : (b))
/* Below this a group is treated as all zero (ggml's GROUP_MAX_EPS). */
#define SLM_GROUP_MAX_EPS 1e-15f

/* Round to nearest, ties to even, for |f| <= 4194303 (ggml's nearest_int:
 * the magic-number trick, so results agree with ggml exactly). */
static inline int slm_nearest_int(float f) {
    float v = f + 12582912.f;
    int i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

void slm_q3_K_unpack_scales(const uint8_t packed[12], int8_t scales[16]);
void slm_k4_get_scale_min(int j, const uint8_t *q, uint8_t *d, uint8_t *m);
/* 32 5-bit values -> low nibbles qs[16] + high bits qh[4] (Q5_0/Q5_1 order). */
void slm_pack_q5(const uint8_t L[32], uint8_t qs[16], uint8_t qh[4]);

/* Vectorised, bit-identical versions of ggml's searches (quants_fast.c). */
/* make_qx_quants (rmse_type 1) on 8 consecutive groups of n (x, L, qw: 8*n;
 * scales: 8), bit-identical to 8 calls. */
void slm_make_qx_quants1_x8(int n, int nmax, const float *x, int8_t *L, float *scales,
                            const float *qw);
/* make_qkx2_quants on 8 consecutive groups of n (x, weights, L: 8*n;
 * scales, the_mins: 8), bit-identical to 8 calls. */
void slm_make_qkx2_quants_x8(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                             float *scales, float *the_mins, float rmin, float rdelta, int nstep,
                             bool use_mad);


/* ---- K blocks in the common form value = (d*sc)*L - (dmin*m)
 * (quant_refine.c; used by the refinement and by gptq.c) ---- */
/* Geometry of a K type. */
typedef struct {
    int nsub, sublen;
    int lmin, lmax;   /* level range */
    int scmin, scmax; /* sub-block scale range */
    int mmax;         /* sub-block min range 0..mmax (has_min) */
    bool has_min;
    int sub_iters, super_iters, radius;
} slm_kdesc;

/* A K block unpacked to integers and the half-precision super-scales. */
typedef struct {
    slm_half d_h, dmin_h;
    float d, dmin;
    int sc[16], m[16];
    int L[SLM_QK_K];
} slm_kunp;

/* Geometry of a K type (Q2_K..Q6_K), NULL for other types. */
const slm_kdesc *slm_kdesc_of(slm_type t);
/* Block bytes <-> integers; L in [lmin, lmax] of the type. */
void slm_kblock_unpack(slm_type t, const void *blk, slm_kunp *u);
void slm_kblock_pack(slm_type t, const slm_kunp *u, void *blk);


/* K-quant packers: integer levels -> block bytes (layouts of quants.h). */
void slm_pack_k4_scales(const uint8_t ls[8], const uint8_t lm[8], uint8_t scales[12]);
void slm_pack_q3_K_scales(const uint8_t ls[16] /* 0..63 */, uint8_t scales[12]);
void slm_pack_q2_K_qs(const uint8_t L[256], uint8_t qs[64]);
void slm_pack_q3_K_qs(uint8_t L[256] /* 0..7, modified */, uint8_t hmask[32], uint8_t qs[64]);
void slm_pack_q4_K_qs(const uint8_t L[256], uint8_t qs[128]);
void slm_pack_q5_K_qs(const uint8_t L[256], uint8_t qh[32], uint8_t qs[128]);
void slm_pack_q6_K_qs(const uint8_t L[256] /* 0..63 */, uint8_t ql[128], uint8_t qh[64]);

#endif
