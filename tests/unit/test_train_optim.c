/* tests/unit/test_train_optim.c — AdamW, schedules and clipping against
 * closed-form values (computed by hand / in Python from the formulas in
 * PyTorch's AdamW documentation, not from this code). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "train/optim.h"

#define ADAMW_TOL 1e-6  /* float32 arithmetic on O(1) values */
#define LR_TOL 1e-9

static void test_adamw_two_steps(void **state) {
    (void)state;
    float w[3] = {1.0f, -2.0f, 0.5f}, g[3];
    slm_param P = {.name = "w", .data = w, .grad = g, .n = 3, .n_dims = 1, .ne = {3, 1},
                   .decay = true};
    slm_param_list L = {&P, 1};
    slm_adamw_params ap = slm_adamw_default_params();
    ap.weight_decay = 0.01f;
    slm_adamw opt;
    assert_int_equal(slm_adamw_init(&opt, &L, &ap), SLM_OK);
    const float g1[3] = {1.0f, -0.5f, 0.0f}, g2[3] = {0.5f, 0.25f, 2.0f};
    memcpy(g, g1, sizeof g);
    slm_adamw_step(&opt, &L, 0.1f);
    /* step 1: m/(1-b1) = g, sqrt(v/(1-b2)) = |g|: w*(1-lr*wd) - lr*sign(g) */
    const double e1[3] = {0.899000001, -1.898, 0.4995};
    for (int j = 0; j < 3; j++) assert_true(fabs(w[j] - e1[j]) < ADAMW_TOL);
    memcpy(g, g2, sizeof g);
    slm_adamw_step(&opt, &L, 0.1f);
    const double e2[3] = {0.804883038, -1.8694683, 0.424586818};
    for (int j = 0; j < 3; j++) assert_true(fabs(w[j] - e2[j]) < ADAMW_TOL);
    assert_int_equal(opt.t, 2);
    slm_adamw_free(&opt);
}

static void test_adamw_no_decay_flag(void **state) {
    (void)state;
    float w[1] = {3.0f}, g[1] = {0.0f};
    slm_param P = {.name = "norm", .data = w, .grad = g, .n = 1, .n_dims = 1, .ne = {1, 1},
                   .decay = false};
    slm_param_list L = {&P, 1};
    slm_adamw_params ap = slm_adamw_default_params();
    ap.weight_decay = 0.5f;
    slm_adamw opt;
    assert_int_equal(slm_adamw_init(&opt, &L, &ap), SLM_OK);
    slm_adamw_step(&opt, &L, 0.1f); /* zero grad, no decay: unchanged */
    assert_true(w[0] == 3.0f);
    opt.p.decay_all = true;
    slm_adamw_step(&opt, &L, 0.1f); /* decay_all: w * (1 - 0.1*0.5) */
    assert_true(fabs(w[0] - 2.85) < ADAMW_TOL);
    slm_adamw_free(&opt);
}

static void test_schedules(void **state) {
    (void)state;
    slm_sched s = {.kind = SLM_SCHED_LINEAR, .lr = 1e-3f, .min_lr = 1e-4f, .warmup = 10,
                   .total = 110};
    /* warm-up: lr (s+1)/warmup */
    assert_true(fabs(slm_lr_at(&s, 0) - 1e-4) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 4) - 5e-4) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 9) - 1e-3) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 10) - 1e-3) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 60) - 0.0005454545454545455) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 109) - 1e-4) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 200) - 1e-4) < LR_TOL);
    s.kind = SLM_SCHED_COSINE;
    assert_true(fabs(slm_lr_at(&s, 10) - 1e-3) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 60) - 0.0005428603162743364) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 109) - 1e-4) < LR_TOL);
    s.kind = SLM_SCHED_CONSTANT;
    assert_true(fabs(slm_lr_at(&s, 2) - 3e-4) < LR_TOL);
    assert_true(fabs(slm_lr_at(&s, 100) - 1e-3) < LR_TOL);
    s.warmup = 0;
    assert_true(slm_lr_at(&s, 0) == 1e-3f);
}

static void test_clip(void **state) {
    (void)state;
    /* two tensors: (3, 4) and 10000 elements of 0.01 -> norm^2 = 25 + 1 = 26 */
    static float a[2], ga[2] = {3.0f, 4.0f}, b[10000], gb[10000];
    for (int j = 0; j < 10000; j++) gb[j] = 0.01f;
    slm_param P[2] = {{.name = "a", .data = a, .grad = ga, .n = 2},
                      {.name = "b", .data = b, .grad = gb, .n = 10000}};
    slm_param_list L = {P, 2};
    double n = slm_grad_global_norm(&L);
    assert_true(fabs(n - sqrt(26.0)) < 1e-6);
    double n0 = slm_grad_clip(&L, 100.0f); /* below: untouched */
    assert_true(n0 == n && ga[0] == 3.0f);
    slm_grad_clip(&L, 1.0f);
    assert_true(fabs(slm_grad_global_norm(&L) - 1.0) < 1e-5);
    assert_true(fabs(ga[1] / ga[0] - 4.0 / 3.0) < 1e-6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adamw_two_steps),
        cmocka_unit_test(test_adamw_no_decay_flag),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
