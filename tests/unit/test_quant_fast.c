/* tests/unit/test_quant_fast.c — the vectorised quantizers (quants_fast.c)
 * produce the same bytes as the scalar _ref quantizers (which
 * test_quant_ggml.c checks against ggml), on rows built to reach every branch
 * of the searches: normal, heavy-tailed, outliers, sparse/tiny, shifted
 * (large mean: the min of the asymmetric search is replaced by a winner),
 * constant, all-zero, exact rounding ties (Q8_0's roundf half-away-from-zero)
 * and mixed magnitudes.  When libggml-base.so is available the fast output
 * is also compared with ggml_quantize_chunk directly. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "quantize/quants.h"
#include "tests/unit/ggml_dl.h"

enum { ROWS = 64, COLS = 1024, KINDS = 9 };

typedef void (*row_fn)(const float *x, void *y, int64_t n);

static const struct {
    slm_type t;
    row_fn ref, fast;
} FNS[] = {
    {SLM_TYPE_Q8_0, (row_fn)slm_quantize_row_q8_0_ref, (row_fn)slm_quantize_row_q8_0_fast},
    {SLM_TYPE_Q2_K, (row_fn)slm_quantize_row_q2_K_ref, (row_fn)slm_quantize_row_q2_K_fast},
    {SLM_TYPE_Q4_K, (row_fn)slm_quantize_row_q4_K_ref, (row_fn)slm_quantize_row_q4_K_fast},
    {SLM_TYPE_Q5_K, (row_fn)slm_quantize_row_q5_K_ref, (row_fn)slm_quantize_row_q5_K_fast},
    {SLM_TYPE_Q6_K, (row_fn)slm_quantize_row_q6_K_ref, (row_fn)slm_quantize_row_q6_K_fast},
};
#define N_FNS ((int)(sizeof FNS / sizeof FNS[0]))

static void fill_kind(float *x, int kind, slm_rng *r) {
    for (int j = 0; j < COLS; j++) {
        float v = slm_rng_normal(r);
        switch (kind) {
        case 0: break;                                               /* normal */
        case 1: v = v / sqrtf(slm_rng_uniform(r) + 1e-4f); break;    /* heavy-tailed */
        case 2: if (j % 97 == 5) v *= 25.0f; break;                  /* outliers */
        case 3: v = (j % 3 == 0) ? 0.0f : v * 0.001f; break;         /* sparse, tiny */
        case 4: v = 0.05f * v + 0.3f; break;                         /* shifted */
        case 5: v = (j / 32) % 2 ? 0.7f : -0.25f; break;             /* constant groups */
        case 6: v = 0.0f; break;                                     /* all zero */
        /* ties: k + 0.5 times 1/127 of a block max of 127 -> x*id lands on .5 */
        case 7: v = (j % 32 == 0) ? 127.0f : (float)((int)slm_rng_below(r, 254) - 127) + 0.5f; break;
        case 8: v = v * powf(10.0f, (float)((int)slm_rng_below(r, 9) - 4)); break; /* magnitudes */
        }
        x[j] = kind == 7 ? v : v * 0.02f;
    }
}

static void test_fast_equals_ref(void **state) {
    (void)state;
    float *x = malloc(sizeof(float) * (size_t)ROWS * COLS);
    assert_non_null(x);
    slm_rng r;
    slm_rng_seed(&r, 1234);
    for (int i = 0; i < ROWS; i++) fill_kind(x + (size_t)i * COLS, i % KINDS, &r);
    for (int f = 0; f < N_FNS; f++) {
        const size_t rb = slm_quant_row_bytes(FNS[f].t, COLS);
        uint8_t *a = malloc(rb), *b = malloc(rb);
        assert_true(a && b);
        int n_diff = 0;
        for (int i = 0; i < ROWS; i++) {
            memset(a, 0xAA, rb);
            memset(b, 0x55, rb);
            FNS[f].ref(x + (size_t)i * COLS, a, COLS);
            FNS[f].fast(x + (size_t)i * COLS, b, COLS);
            if (memcmp(a, b, rb) != 0) {
                if (n_diff++ == 0)
                    fprintf(stderr, "%s: row %d (kind %d): fast != ref\n", slm_quant_type_name(FNS[f].t), i,
                            i % KINDS);
            }
        }
        fprintf(stderr, "%s: %d rows x %d, fast == ref on %d rows\n", slm_quant_type_name(FNS[f].t), ROWS,
                COLS, ROWS - n_diff);
        assert_int_equal(n_diff, 0);
        free(a);
        free(b);
    }
    free(x);
}

static void test_fast_equals_ggml(void **state) {
    (void)state;
    ggml_ref G;
    if (!ggml_ref_open(&G)) {
        fprintf(stderr, "skip: fast vs ggml (the fast == ref test above still ran)\n");
        return;
    }
    float *x = malloc(sizeof(float) * (size_t)ROWS * COLS);
    assert_non_null(x);
    slm_rng r;
    slm_rng_seed(&r, 99);
    for (int i = 0; i < ROWS; i++) fill_kind(x + (size_t)i * COLS, (i + 3) % KINDS, &r);
    for (int f = 0; f < N_FNS; f++) {
        const size_t rb = slm_quant_row_bytes(FNS[f].t, COLS);
        uint8_t *a = malloc(rb * ROWS), *b = malloc(rb * ROWS);
        assert_true(a && b);
        G.quantize_init(FNS[f].t);
        assert_int_equal(G.quantize_chunk(FNS[f].t, x, a, 0, ROWS, COLS, NULL), rb * ROWS);
        for (int i = 0; i < ROWS; i++) FNS[f].fast(x + (size_t)i * COLS, b + i * rb, COLS);
        assert_memory_equal(a, b, rb * ROWS);
        fprintf(stderr, "%s: fast == ggml_quantize_chunk on %d rows\n", slm_quant_type_name(FNS[f].t), ROWS);
        free(a);
        free(b);
    }
    free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_equals_ref),
        cmocka_unit_test(test_fast_equals_ggml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
