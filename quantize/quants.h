/* quantize/quants.h — ggml block formats: layouts, dequantization and the
 * reference quantizers (STYLE row 2).
 *
 * Every block struct is bit-compatible with ggml's ggml-common.h (checked by
 * static_assert on the size; field order as in ggml).  Halves are IEEE
 * binary16 stored as uint16_t.  Block geometry (elements, bytes):
 *
 *   Q4_0 32/18  { d; qs[16] }               x = (q - 8) * d, q 4 bits; qs[j] low nibble = x[j], high = x[j+16]
 *   Q4_1 32/20  { d; m; qs[16] }            x = q * d + m
 *   Q5_0 32/22  { d; qh[4]; qs[16] }        x = (q - 16) * d, q = nibble | bit j of qh << 4
 *   Q5_1 32/24  { d; m; qh[4]; qs[16] }     x = q * d + m
 *   Q8_0 32/34  { d; qs[32] int8 }          x = q * d
 *   Q2_K 256/84  { scales[16]; qs[64]; d; dmin }       16 sub-blocks of 16, 4-bit scale|min<<4
 *   Q3_K 256/110 { hmask[32]; qs[64]; scales[12]; d }  16 sub-blocks of 16, 6-bit signed scales
 *   Q4_K 256/144 { d; dmin; scales[12]; qs[128] }      8 sub-blocks of 32, 6-bit scale and min
 *   Q5_K 256/176 { d; dmin; scales[12]; qh[32]; qs[128] }
 *   Q6_K 256/210 { ql[128]; qh[64]; scales[16] int8; d }
 *   Q8_K 256/292 { float d; qs[256] int8; bsums[16] int16 } (dot-product helper type)
 *
 * The _ref quantizers reproduce ggml's quantize_row_*_ref (no importance
 * matrix) bit for bit; quantize/quant_refine.h adds the importance-weighted
 * and least-squares refined versions.  Dequantization equals ggml's
 * to_float bit for bit (tests/unit/test_quant_ggml.c).
 */
#ifndef SLM_QUANTIZE_QUANTS_H
#define SLM_QUANTIZE_QUANTS_H

#include <assert.h>

#include "core/base.h"
#include "core/gguf.h"

#define SLM_QK4_0 32
#define SLM_QK4_1 32
#define SLM_QK5_0 32
#define SLM_QK5_1 32
#define SLM_QK8_0 32
#define SLM_QK_K 256
#define SLM_K_SCALE_SIZE 12

typedef uint16_t slm_half;

typedef struct { slm_half d; uint8_t qs[SLM_QK4_0 / 2]; } slm_block_q4_0;
typedef struct { slm_half d; slm_half m; uint8_t qs[SLM_QK4_1 / 2]; } slm_block_q4_1;
typedef struct { slm_half d; uint8_t qh[4]; uint8_t qs[SLM_QK5_0 / 2]; } slm_block_q5_0;
typedef struct { slm_half d; slm_half m; uint8_t qh[4]; uint8_t qs[SLM_QK5_1 / 2]; } slm_block_q5_1;
typedef struct { slm_half d; int8_t qs[SLM_QK8_0]; } slm_block_q8_0;
typedef struct {
    uint8_t scales[SLM_QK_K / 16]; /* low nibble scale, high nibble min */
    uint8_t qs[SLM_QK_K / 4];
    slm_half d;
    slm_half dmin;
} slm_block_q2_K;
typedef struct {
    uint8_t hmask[SLM_QK_K / 8];
    uint8_t qs[SLM_QK_K / 4];
    uint8_t scales[12];
    slm_half d;
} slm_block_q3_K;
typedef struct {
    slm_half d;
    slm_half dmin;
    uint8_t scales[SLM_K_SCALE_SIZE];
    uint8_t qs[SLM_QK_K / 2];
} slm_block_q4_K;
typedef struct {
    slm_half d;
    slm_half dmin;
    uint8_t scales[SLM_K_SCALE_SIZE];
    uint8_t qh[SLM_QK_K / 8];
    uint8_t qs[SLM_QK_K / 2];
} slm_block_q5_K;
typedef struct {
    uint8_t ql[SLM_QK_K / 2];
    uint8_t qh[SLM_QK_K / 4];
    int8_t scales[SLM_QK_K / 16];
    slm_half d;
} slm_block_q6_K;
typedef struct {
    float d;
    int8_t qs[SLM_QK_K];
    int16_t bsums[SLM_QK_K / 16];
} slm_block_q8_K;

static_assert(sizeof(slm_block_q4_0) == 18, "q4_0 block");
static_assert(sizeof(slm_block_q4_1) == 20, "q4_1 block");
static_assert(sizeof(slm_block_q5_0) == 22, "q5_0 block");
static_assert(sizeof(slm_block_q5_1) == 24, "q5_1 block");
static_assert(sizeof(slm_block_q8_0) == 34, "q8_0 block");
static_assert(sizeof(slm_block_q2_K) == 84, "q2_K block");
static_assert(sizeof(slm_block_q3_K) == 110, "q3_K block");
static_assert(sizeof(slm_block_q4_K) == 144, "q4_K block");
static_assert(sizeof(slm_block_q5_K) == 176, "q5_K block");
static_assert(sizeof(slm_block_q6_K) == 210, "q6_K block");
static_assert(sizeof(slm_block_q8_K) == 292, "q8_K block");

/* Geometry of the types this module handles (F32, F16, BF16 and the block
 * types above); 0 for others.  Independent of core/gguf so that the
 * quantizers stand alone. */
int64_t slm_quant_block_size(slm_type t);
size_t slm_quant_block_bytes(slm_type t);
/* Bytes of a row of n elements, 0 if n is not a multiple of the block size. */
size_t slm_quant_row_bytes(slm_type t, int64_t n);
/* "Q4_K", "F16", ... as ggml/gguf-py spell them; NULL if not handled here. */
const char *slm_quant_type_name(slm_type t);
/* True if slm_dequantize_row handles t. */
bool slm_quant_can_dequantize(slm_type t);
/* True if slm_quantize_* can produce t (Q8_K excluded). */
bool slm_quant_can_quantize(slm_type t);

/* dst[0..n) = value of the n elements at src.  n must be a multiple of the
 * block size and t dequantizable (SLM_ASSERT). */
void slm_dequantize_row(slm_type t, const void *src, float *dst, int64_t n);

/* Reference quantizers: bit-identical to ggml's quantize_row_*_ref.
 * x (n), y (n / block size blocks), n a multiple of the block size. */
void slm_quantize_row_q4_0_ref(const float *x, slm_block_q4_0 *y, int64_t n);
void slm_quantize_row_q4_1_ref(const float *x, slm_block_q4_1 *y, int64_t n);
void slm_quantize_row_q5_0_ref(const float *x, slm_block_q5_0 *y, int64_t n);
void slm_quantize_row_q5_1_ref(const float *x, slm_block_q5_1 *y, int64_t n);
void slm_quantize_row_q8_0_ref(const float *x, slm_block_q8_0 *y, int64_t n);
void slm_quantize_row_q2_K_ref(const float *x, slm_block_q2_K *y, int64_t n);
void slm_quantize_row_q3_K_ref(const float *x, slm_block_q3_K *y, int64_t n);
void slm_quantize_row_q4_K_ref(const float *x, slm_block_q4_K *y, int64_t n);
void slm_quantize_row_q5_K_ref(const float *x, slm_block_q5_K *y, int64_t n);
void slm_quantize_row_q6_K_ref(const float *x, slm_block_q6_K *y, int64_t n);
void slm_quantize_row_q8_K_ref(const float *x, slm_block_q8_K *y, int64_t n);

/* Fast quantizers (quants_fast.c: vectorised): the same bytes as the _ref
 * functions above (tests/unit/test_quant_fast.c), several times faster. */
void slm_quantize_row_q8_0_fast(const float *x, slm_block_q8_0 *y, int64_t n);
void slm_quantize_row_q2_K_fast(const float *x, slm_block_q2_K *y, int64_t n);
void slm_quantize_row_q4_K_fast(const float *x, slm_block_q4_K *y, int64_t n);
void slm_quantize_row_q5_K_fast(const float *x, slm_block_q5_K *y, int64_t n);
void slm_quantize_row_q6_K_fast(const float *x, slm_block_q6_K *y, int64_t n);

/* ggml's importance-weighted quantizers (quantize_row_*_impl with a
 * non-NULL quant_weights): one row of n, qw (n) the importance of each column.
 * These reproduce ggml_quantize_chunk with an imatrix. */
void slm_quantize_row_q4_0_imat(const float *x, slm_block_q4_0 *y, int64_t n, const float *qw);
void slm_quantize_row_q4_1_imat(const float *x, slm_block_q4_1 *y, int64_t n, const float *qw);
void slm_quantize_row_q5_0_imat(const float *x, slm_block_q5_0 *y, int64_t n, const float *qw);
void slm_quantize_row_q5_1_imat(const float *x, slm_block_q5_1 *y, int64_t n, const float *qw);
void slm_quantize_row_q2_K_imat(const float *x, slm_block_q2_K *y, int64_t n, const float *qw);
void slm_quantize_row_q3_K_imat(const float *x, slm_block_q3_K *y, int64_t n, const float *qw);
void slm_quantize_row_q4_K_imat(const float *x, slm_block_q4_K *y, int64_t n, const float *qw);
void slm_quantize_row_q5_K_imat(const float *x, slm_block_q5_K *y, int64_t n, const float *qw);
void slm_quantize_row_q6_K_imat(const float *x, slm_block_q6_K *y, int64_t n, const float *qw);

#endif
