/* tests/unit/test_quant_ggml.c — slm's block formats against llama.cpp's own
 * ggml (libggml-base.so from node-llama-cpp, through dlopen):
 *   - dequantization bit-identical to ggml_get_type_traits(t)->to_float for
 *     every type, on blocks with random payload bytes;
 *   - the reference quantizers bit-identical to ggml_quantize_chunk without
 *     an importance matrix, and the _imat ones with one, on random, heavy-
 *     tailed, outlier-column and degenerate (zero / constant) rows.
 * Skips (77) when SLM_GGML_DIR does not hold libggml-base.so. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "quantize/quants.h"
#include "tests/unit/ggml_dl.h"

static ggml_ref G;

static const slm_type ALL_TYPES[] = {SLM_TYPE_F16, SLM_TYPE_BF16, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1,
                                     SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0, SLM_TYPE_Q2_K,
                                     SLM_TYPE_Q3_K, SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K,
                                     SLM_TYPE_Q8_K};
static const slm_type Q_TYPES[] = {SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1,
                                   SLM_TYPE_Q8_0, SLM_TYPE_Q2_K, SLM_TYPE_Q3_K, SLM_TYPE_Q4_K,
                                   SLM_TYPE_Q5_K, SLM_TYPE_Q6_K};
#define N_ALL ((int)(sizeof ALL_TYPES / sizeof ALL_TYPES[0]))
#define N_Q ((int)(sizeof Q_TYPES / sizeof Q_TYPES[0]))

enum { ROWS = 12, COLS = 512 };

/* Row kinds: 0 normal, 1 heavy-tailed (normal / sqrt(uniform)), 2 normal
 * with a few outlier columns (as real attention/FFN weights have),
 * 3 all zero, 4 constant, 5 tiny values (half-precision subnormal scales). */
static void fill_rows(float *x, int rows, int cols, uint64_t seed) {
    slm_rng r;
    slm_rng_seed(&r, seed);
    for (int i = 0; i < rows; i++) {
        float *row = x + (int64_t)i * cols;
        int kind = i % 6;
        for (int j = 0; j < cols; j++) {
            float v = slm_rng_normal(&r) * 0.02f;
            if (kind == 1) v = v / sqrtf(slm_rng_uniform(&r) + 1e-4f);
            if (kind == 2 && j % 97 == 5) v *= 25.0f;
            if (kind == 3) v = 0.0f;
            if (kind == 4) v = 0.125f;
            if (kind == 5) v *= 1e-6f;
            row[j] = v;
        }
    }
}

/* Random payload with finite half scales at the positions each type keeps them. */
static void random_blocks(slm_type t, uint8_t *buf, int64_t nblocks, slm_rng *r) {
    size_t bb = slm_quant_block_bytes(t);
    for (size_t i = 0; i < nblocks * bb; i++) buf[i] = (uint8_t)slm_rng_u64(r);
    for (int64_t b = 0; b < nblocks; b++) {
        uint8_t *blk = buf + b * bb;
        uint16_t h1 = slm_f32_to_f16(slm_rng_normal(r) * 0.01f);
        uint16_t h2 = slm_f32_to_f16(slm_rng_normal(r) * 0.01f);
        float f = slm_rng_normal(r) * 0.01f;
        switch (t) {
        case SLM_TYPE_F16: memcpy(blk, &h1, 2); break;
        case SLM_TYPE_BF16: { uint16_t v = slm_f32_to_bf16(slm_rng_normal(r)); memcpy(blk, &v, 2); break; }
        case SLM_TYPE_Q4_0: case SLM_TYPE_Q5_0: case SLM_TYPE_Q8_0: memcpy(blk, &h1, 2); break;
        case SLM_TYPE_Q4_1: case SLM_TYPE_Q5_1: case SLM_TYPE_Q4_K: case SLM_TYPE_Q5_K:
            memcpy(blk, &h1, 2); memcpy(blk + 2, &h2, 2); break;
        case SLM_TYPE_Q2_K: memcpy(blk + offsetof(slm_block_q2_K, d), &h1, 2);
            memcpy(blk + offsetof(slm_block_q2_K, dmin), &h2, 2); break;
        case SLM_TYPE_Q3_K: memcpy(blk + offsetof(slm_block_q3_K, d), &h1, 2); break;
        case SLM_TYPE_Q6_K: memcpy(blk + offsetof(slm_block_q6_K, d), &h1, 2); break;
        case SLM_TYPE_Q8_K: memcpy(blk, &f, 4); break;
        default: fail();
        }
    }
}

static void test_dequant_bit_identical(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 7);
    const int64_t n = 4 * SLM_QK_K;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    uint8_t *buf = malloc(slm_quant_row_bytes(SLM_TYPE_F32, n));
    for (int k = 0; k < N_ALL; k++) {
        slm_type t = ALL_TYPES[k];
        const struct ggml_type_traits_v *tr = G.get_type_traits(t);
        /* Q8_K has no to_float in the traits: its exported dequantize_row_q8_K instead. */
        ggml_to_float_fn to_float = tr->to_float;
        if (!to_float && t == SLM_TYPE_Q8_K) *(void **)&to_float = dlsym(G.lib, "dequantize_row_q8_K");
        assert_non_null(to_float);
        assert_int_equal(tr->blck_size, slm_quant_block_size(t));
        assert_int_equal(tr->type_size, slm_quant_block_bytes(t));
        for (int rep = 0; rep < 20; rep++) {
            random_blocks(t, buf, n / slm_quant_block_size(t), &r);
            slm_dequantize_row(t, buf, a, n);
            to_float(buf, b, n);
            if (memcmp(a, b, n * sizeof(float)) != 0) {
                for (int64_t i = 0; i < n; i++)
                    if (memcmp(&a[i], &b[i], 4)) {
                        print_error("%s: element %lld slm %.9g ggml %.9g\n", tr->type_name,
                                    (long long)i, a[i], b[i]);
                        break;
                    }
                fail();
            }
        }
    }
    free(a);
    free(b);
    free(buf);
}

/* slm's ggml-equivalent quantizer for one row. */
static void slm_quant_row(slm_type t, const float *x, void *y, int64_t n, const float *qw) {
    switch (t) {
    case SLM_TYPE_Q4_0: qw ? slm_quantize_row_q4_0_imat(x, y, n, qw) : slm_quantize_row_q4_0_ref(x, y, n); break;
    case SLM_TYPE_Q4_1: qw ? slm_quantize_row_q4_1_imat(x, y, n, qw) : slm_quantize_row_q4_1_ref(x, y, n); break;
    case SLM_TYPE_Q5_0: qw ? slm_quantize_row_q5_0_imat(x, y, n, qw) : slm_quantize_row_q5_0_ref(x, y, n); break;
    case SLM_TYPE_Q5_1: qw ? slm_quantize_row_q5_1_imat(x, y, n, qw) : slm_quantize_row_q5_1_ref(x, y, n); break;
    case SLM_TYPE_Q8_0: slm_quantize_row_q8_0_ref(x, y, n); break;
    case SLM_TYPE_Q2_K: qw ? slm_quantize_row_q2_K_imat(x, y, n, qw) : slm_quantize_row_q2_K_ref(x, y, n); break;
    case SLM_TYPE_Q3_K: qw ? slm_quantize_row_q3_K_imat(x, y, n, qw) : slm_quantize_row_q3_K_ref(x, y, n); break;
    case SLM_TYPE_Q4_K: qw ? slm_quantize_row_q4_K_imat(x, y, n, qw) : slm_quantize_row_q4_K_ref(x, y, n); break;
    case SLM_TYPE_Q5_K: qw ? slm_quantize_row_q5_K_imat(x, y, n, qw) : slm_quantize_row_q5_K_ref(x, y, n); break;
    case SLM_TYPE_Q6_K: qw ? slm_quantize_row_q6_K_imat(x, y, n, qw) : slm_quantize_row_q6_K_ref(x, y, n); break;
    default: fail();
    }
}

static void check_quant_identical(bool with_imatrix) {
    float *x = malloc((size_t)ROWS * COLS * sizeof(float));
    float imat[COLS];
    slm_rng r;
    slm_rng_seed(&r, 11);
    for (int j = 0; j < COLS; j++) imat[j] = 0.01f + slm_rng_uniform(&r) * (j % 50 == 3 ? 40.f : 1.f);
    for (int seed = 1; seed <= 3; seed++) {
        fill_rows(x, ROWS, COLS, (uint64_t)seed);
        for (int k = 0; k < N_Q; k++) {
            slm_type t = Q_TYPES[k];
            size_t rb = slm_quant_row_bytes(t, COLS);
            uint8_t *a = calloc(ROWS, rb), *b = calloc(ROWS, rb);
            for (int i = 0; i < ROWS; i++)
                slm_quant_row(t, x + (int64_t)i * COLS, a + i * rb, COLS, with_imatrix ? imat : NULL);
            size_t got = G.quantize_chunk(t, x, b, 0, ROWS, COLS, with_imatrix ? imat : NULL);
            assert_int_equal(got, ROWS * rb);
            for (int i = 0; i < ROWS; i++)
                if (memcmp(a + i * rb, b + i * rb, rb)) {
                    print_error("%s (imatrix %d): row %d (kind %d, seed %d) differs from ggml\n",
                                G.get_type_traits(t)->type_name, with_imatrix, i, i % 6, seed);
                    fail();
                }
            free(a);
            free(b);
        }
    }
    free(x);
}

static void test_quant_ref_bit_identical(void **state) {
    (void)state;
    check_quant_identical(false);
}

static void test_quant_imatrix_bit_identical(void **state) {
    (void)state;
    check_quant_identical(true);
}

int main(void) {
    if (!ggml_ref_open(&G)) return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dequant_bit_identical),
        cmocka_unit_test(test_quant_ref_bit_identical),
        cmocka_unit_test(test_quant_imatrix_bit_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
