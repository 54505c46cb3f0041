/* tests/unit/test_quant_refine.c — slm's refined quantizers against ggml's:
 *   - K types without imatrix: squared error <= ggml_quantize_chunk's, per
 *     tensor (set of rows) and per row, on normal, heavy-tailed, outlier and
 *     degenerate rows;
 *   - with an importance matrix (K types and Q4_0/Q4_1/Q5_0/Q5_1): the
 *     imatrix-weighted error <= ggml's with the same imatrix;
 *   - round-trip relative RMSE per type under a named bound;
 *   - the OpenMP row driver with refine off equals the _ref quantizers.
 * The ggml comparisons skip (77) without libggml-base.so. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "quantize/quant_refine.h"
#include "tests/unit/ggml_dl.h"

static ggml_ref G;
static bool have_ggml;

enum { ROWS = 24, COLS = 1024 };

/* Relative RMSE bounds (rmse / rms of the data) on normal rows, about 10%
 * above what slm reaches (refined), so a regression of the search fails. */
#define RMSE_Q8_0 0.006
#define RMSE_Q6_K 0.020
#define RMSE_Q5_0 0.047
#define RMSE_Q5_1 0.042
#define RMSE_Q5_K 0.038
#define RMSE_Q4_0 0.094
#define RMSE_Q4_1 0.086
#define RMSE_Q4_K 0.076
#define RMSE_Q3_K 0.160
#define RMSE_Q2_K 0.290
#define RMSE_F16 0.0003
#define RMSE_BF16 0.002

static const struct {
    slm_type t;
    double bound;
} TYPES[] = {{SLM_TYPE_Q8_0, RMSE_Q8_0}, {SLM_TYPE_Q6_K, RMSE_Q6_K}, {SLM_TYPE_Q5_0, RMSE_Q5_0},
             {SLM_TYPE_Q5_1, RMSE_Q5_1}, {SLM_TYPE_Q5_K, RMSE_Q5_K}, {SLM_TYPE_Q4_0, RMSE_Q4_0},
             {SLM_TYPE_Q4_1, RMSE_Q4_1}, {SLM_TYPE_Q4_K, RMSE_Q4_K}, {SLM_TYPE_Q3_K, RMSE_Q3_K},
             {SLM_TYPE_Q2_K, RMSE_Q2_K}, {SLM_TYPE_F16, RMSE_F16},   {SLM_TYPE_BF16, RMSE_BF16}};
#define N_TYPES ((int)(sizeof TYPES / sizeof TYPES[0]))

static void fill_rows(float *x, int rows, int cols, int kind_fixed, uint64_t seed) {
    slm_rng r;
    slm_rng_seed(&r, seed);
    for (int i = 0; i < rows; i++) {
        int kind = kind_fixed >= 0 ? kind_fixed : i % 5;
        for (int j = 0; j < cols; j++) {
            float v = slm_rng_normal(&r);
            if (kind == 1) v = v / sqrtf(slm_rng_uniform(&r) + 1e-4f);
            if (kind == 2 && j % 97 == 5) v *= 25.0f;
            if (kind == 3) v = (j % 3 == 0) ? 0.0f : v * 0.001f;
            if (kind == 4) v = 0.05f * v + 0.3f; /* shifted: large mean */
            x[(int64_t)i * cols + j] = v * 0.02f;
        }
    }
}

static double sqerr_rows(slm_type t, const float *x, const uint8_t *q, int rows, int cols,
                         const float *w) {
    size_t rb = slm_quant_row_bytes(t, cols);
    double e = 0;
    for (int i = 0; i < rows; i++) e += slm_quant_row_sqerr(t, x + (int64_t)i * cols, q + i * rb, cols, w);
    return e;
}

static void compare_with_ggml(slm_type t, const float *imat) {
    float *x = malloc((size_t)ROWS * COLS * sizeof(float));
    size_t rb = slm_quant_row_bytes(t, COLS);
    uint8_t *a = malloc(ROWS * rb), *b = malloc(ROWS * rb);
    slm_quant_opts o = slm_quant_default_opts();
    o.imatrix = imat;
    for (int kind = 0; kind < 5; kind++) {
        fill_rows(x, ROWS, COLS, kind, 100 + (uint64_t)kind);
        slm_quantize_rows(t, x, a, ROWS, COLS, &o);
        G.quantize_chunk(t, x, b, 0, ROWS, COLS, imat);
        double ea = sqerr_rows(t, x, a, ROWS, COLS, imat), eb = sqerr_rows(t, x, b, ROWS, COLS, imat);
        print_message("  %-5s imatrix=%d rows kind %d: slm/ggml error %.4f\n",
                      G.get_type_traits(t)->type_name, imat != NULL, kind, eb > 0 ? ea / eb : 1.0);
        assert_true(ea <= eb);
        for (int i = 0; i < ROWS; i++) {
            double ra = slm_quant_row_sqerr(t, x + (int64_t)i * COLS, a + i * rb, COLS, imat);
            double rb_ = slm_quant_row_sqerr(t, x + (int64_t)i * COLS, b + i * rb, COLS, imat);
            assert_true(ra <= rb_);
        }
    }
    free(x);
    free(a);
    free(b);
}

static void test_k_types_error_le_ggml(void **state) {
    (void)state;
    if (!have_ggml) skip();
    const slm_type k[] = {SLM_TYPE_Q2_K, SLM_TYPE_Q3_K, SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K};
    for (int i = 0; i < 5; i++) compare_with_ggml(k[i], NULL);
}

static void test_imatrix_error_le_ggml(void **state) {
    (void)state;
    if (!have_ggml) skip();
    float imat[COLS];
    slm_rng r;
    slm_rng_seed(&r, 5);
    for (int j = 0; j < COLS; j++) {
        float g = slm_rng_normal(&r);
        imat[j] = g * g * (j % 61 == 7 ? 50.f : 1.f) + 1e-3f;
    }
    const slm_type k[] = {SLM_TYPE_Q2_K, SLM_TYPE_Q3_K, SLM_TYPE_Q4_K, SLM_TYPE_Q5_K,
                          SLM_TYPE_Q6_K, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1};
    for (int i = 0; i < 9; i++) compare_with_ggml(k[i], imat);
}

static void test_roundtrip_rmse(void **state) {
    (void)state;
    float *x = malloc((size_t)ROWS * COLS * sizeof(float)), *y = malloc(COLS * sizeof(float));
    fill_rows(x, ROWS, COLS, 0, 9);
    double ss = 0;
    for (int64_t i = 0; i < (int64_t)ROWS * COLS; i++) ss += (double)x[i] * x[i];
    for (int k = 0; k < N_TYPES; k++) {
        slm_type t = TYPES[k].t;
        size_t rb = slm_quant_row_bytes(t, COLS);
        uint8_t *q = malloc(ROWS * rb);
        slm_quantize_rows(t, x, q, ROWS, COLS, NULL);
        double e = 0;
        for (int i = 0; i < ROWS; i++) {
            slm_dequantize_row(t, q + i * rb, y, COLS);
            for (int j = 0; j < COLS; j++) {
                double d = (double)y[j] - x[(int64_t)i * COLS + j];
                e += d * d;
            }
        }
        double rel = sqrt(e / ss);
        print_message("  %-5s relative rmse %.5f (bound %.4f)\n", slm_quant_type_name(t), rel, TYPES[k].bound);
        assert_true(rel <= TYPES[k].bound);
        free(q);
    }
    free(x);
    free(y);
}

static void test_driver_equals_ref(void **state) {
    (void)state;
    float *x = malloc((size_t)ROWS * COLS * sizeof(float));
    fill_rows(x, ROWS, COLS, -1, 3);
    slm_quant_opts o = {NULL, false};
    for (int k = 0; k < N_TYPES; k++) {
        slm_type t = TYPES[k].t;
        if (t == SLM_TYPE_F16 || t == SLM_TYPE_BF16) continue;
        size_t rb = slm_quant_row_bytes(t, COLS);
        uint8_t *a = malloc(ROWS * rb), *b = malloc(ROWS * rb);
        slm_quantize_rows(t, x, a, ROWS, COLS, &o);
        for (int i = 0; i < ROWS; i++) {
            const float *xr = x + (int64_t)i * COLS;
            void *yr = b + i * rb;
            switch (t) {
            case SLM_TYPE_Q4_0: slm_quantize_row_q4_0_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q4_1: slm_quantize_row_q4_1_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q5_0: slm_quantize_row_q5_0_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q5_1: slm_quantize_row_q5_1_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q8_0: slm_quantize_row_q8_0_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q2_K: slm_quantize_row_q2_K_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q3_K: slm_quantize_row_q3_K_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q4_K: slm_quantize_row_q4_K_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q5_K: slm_quantize_row_q5_K_ref(xr, yr, COLS); break;
            case SLM_TYPE_Q6_K: slm_quantize_row_q6_K_ref(xr, yr, COLS); break;
            default: fail();
            }
        }
        assert_memory_equal(a, b, ROWS * rb);
        free(a);
        free(b);
    }
    free(x);
}

int main(void) {
    have_ggml = ggml_ref_open(&G);
    if (!have_ggml) {
        const struct CMUnitTest local[] = {
            cmocka_unit_test(test_roundtrip_rmse),
            cmocka_unit_test(test_driver_equals_ref),
        };
        int rc = cmocka_run_group_tests(local, NULL, NULL);
        fprintf(stderr, "skip: comparisons with ggml skipped (no libggml-base.so)\n");
        return rc ? rc : 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_rmse),
        cmocka_unit_test(test_driver_equals_ref),
        cmocka_unit_test(test_k_types_error_le_ggml),
        cmocka_unit_test(test_imatrix_error_le_ggml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
