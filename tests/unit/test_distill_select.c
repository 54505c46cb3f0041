/* tests/unit/test_distill_select.c — teacher-side selection kernels: top-k of
 * a log-softmax against a brute-force sort (with ties), and the sampler's
 * empirical frequencies against the softmax probabilities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "distill/teacher.h"

#define LP_TOL 1e-5      /* float log-softmax vs double */
#define FREQ_SIGMAS 5.0  /* sampled count within 5 binomial sigmas of N p */

enum { V = 300 };

static void test_topk_matches_sort(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 3);
    float z[V];
    for (int rep = 0; rep < 20; rep++) {
        for (int j = 0; j < V; j++) z[j] = 3.0f * slm_rng_normal(&r);
        if (rep % 2) for (int j = 0; j < V; j += 7) z[j] = 2.0f; /* ties: lower id first */
        double m = -INFINITY, s = 0;
        for (int j = 0; j < V; j++) m = fmax(m, z[j]);
        for (int j = 0; j < V; j++) s += exp(z[j] - m);
        int64_t ks[] = {1, 5, 64, V};
        for (int a = 0; a < 4; a++) {
            int64_t K = ks[a];
            int32_t ids[V];
            float lp[V];
            slm_topk_logprobs(z, V, K, ids, lp);
            bool used[V] = {0};
            for (int64_t i = 0; i < K; i++) {
                int best = -1;
                for (int j = 0; j < V; j++)
                    if (!used[j] && (best < 0 || z[j] > z[best])) best = j;
                used[best] = true;
                assert_int_equal(ids[i], best);
                assert_true(fabs(lp[i] - (z[best] - m - log(s))) < LP_TOL);
            }
        }
    }
}

static void test_sample_frequencies(void **state) {
    (void)state;
    slm_rng r;
    slm_rng_seed(&r, 4);
    float z[V];
    for (int j = 0; j < V; j++) z[j] = 2.0f * slm_rng_normal(&r);
    double m = -INFINITY, s = 0, p[V];
    for (int j = 0; j < V; j++) m = fmax(m, z[j]);
    for (int j = 0; j < V; j++) s += exp(z[j] - m);
    for (int j = 0; j < V; j++) p[j] = exp(z[j] - m) / s;
    const int64_t N = 20000;
    int32_t *ids = malloc(N * sizeof *ids);
    float *lp = malloc(N * sizeof *lp);
    uint16_t *cnt = malloc(N * sizeof *cnt);
    slm_sample_logprobs(z, V, N, N, &r, ids, lp, cnt);
    int64_t total = 0, seen[V] = {0};
    for (int64_t i = 0; i < N && ids[i] >= 0; i++) {
        assert_true(i == 0 || ids[i] > ids[i - 1]); /* ascending, distinct */
        assert_true(fabs(lp[i] - log(p[ids[i]])) < LP_TOL);
        seen[ids[i]] = cnt[i];
        total += cnt[i];
    }
    assert_int_equal(total, N);
    for (int j = 0; j < V; j++) {
        double mu = N * p[j], sd = sqrt(N * p[j] * (1 - p[j])) + 1;
        if (fabs(seen[j] - mu) > FREQ_SIGMAS * sd) {
            print_error("id %d: %lld draws, expected %.1f +- %.1f\n", j, (long long)seen[j], mu, sd);
            fail();
        }
    }
    free(ids);
    free(lp);
    free(cnt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topk_matches_sort),
        cmocka_unit_test(test_sample_frequencies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
