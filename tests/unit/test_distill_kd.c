/* tests/unit/test_distill_kd.c — fused KD loss: value against the double
 * oracle, gradient against central finite differences of the oracle, K = V
 * against full-vocabulary KD written out independently, masking, aliasing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "distill/kd_loss.h"

#define LOSS_TOL 2e-5     /* fast float kernel vs double oracle, relative */
#define FD_EPS 1e-4       /* central-difference step on a logit */
#define FD_TOL 2e-4       /* |analytic - numeric| / (|numeric| + 1e-3), max over entries */

enum { N = 5, V = 13 };

typedef struct {
    float logits[N * V];
    double teacher_logits[N * V];
    int32_t targets[N];
    uint8_t mask[N];
    int32_t ids[N * V];
    float lp[N * V];
    uint16_t counts[N * V];
} fixture;

/* teacher log-softmax, top-K sorted descending (or sampled with counts) */
static void make_fixture(fixture *f, int64_t K, bool sample, int64_t sample_n, uint64_t seed) {
    slm_rng r;
    slm_rng_seed(&r, seed);
    memset(f, 0, sizeof *f);
    for (int i = 0; i < N * V; i++) {
        f->logits[i] = 2.0f * slm_rng_normal(&r);
        f->teacher_logits[i] = 2.0 * slm_rng_normal(&r);
    }
    for (int n = 0; n < N; n++) {
        f->targets[n] = (int32_t)slm_rng_below(&r, V);
        f->mask[n] = 1;
        double *t = f->teacher_logits + n * V, m = -INFINITY, s = 0, lsm[V];
        for (int j = 0; j < V; j++) m = fmax(m, t[j]);
        for (int j = 0; j < V; j++) s += exp(t[j] - m);
        for (int j = 0; j < V; j++) lsm[j] = t[j] - m - log(s);
        if (!sample) {
            bool used[V] = {0};
            for (int64_t i = 0; i < K; i++) {
                int best = -1;
                for (int j = 0; j < V; j++)
                    if (!used[j] && (best < 0 || lsm[j] > lsm[best])) best = j;
                used[best] = true;
                f->ids[n * K + i] = best;
                f->lp[n * K + i] = (float)lsm[best];
            }
        } else {
            /* sample_n draws by inverse CDF; distinct ids with counts, rest -1 */
            int cnt[V] = {0};
            for (int64_t d = 0; d < sample_n; d++) {
                double u = slm_rng_uniform(&r), c = 0;
                int j = 0;
                for (; j < V - 1; j++) {
                    c += exp(lsm[j]);
                    if (u < c) break;
                }
                cnt[j]++;
            }
            int64_t i = 0;
            for (int j = 0; j < V; j++)
                if (cnt[j]) {
                    f->ids[n * K + i] = j;
                    f->lp[n * K + i] = (float)lsm[j];
                    f->counts[n * K + i] = (uint16_t)cnt[j];
                    i++;
                }
            for (; i < K; i++) f->ids[n * K + i] = -1;
        }
    }
    f->targets[1] = -1; /* a row without CE label */
    f->mask[3] = 0;     /* a masked row */
}

static double ref_mean(const fixture *f, const double *z, const slm_kd_teacher *t,
                       const slm_kd_params *p) {
    double s = 0;
    int rows = 0;
    for (int n = 0; n < N; n++) {
        if (!f->mask[n]) continue;
        double kd, ce;
        s += slm_kd_row_loss_ref(z + n * V, f->targets[n], t->ids + n * t->K, t->logprobs + n * t->K,
                                 t->counts ? t->counts + n * t->K : NULL, t->K, t->sample_n, p, V,
                                 &kd, &ce);
        rows++;
    }
    return s / rows;
}

static void check_case(int64_t K, bool sample, slm_kd_params p, uint64_t seed) {
    fixture f;
    int64_t sample_n = 24;
    make_fixture(&f, K, sample, sample_n, seed);
    slm_kd_teacher t = {f.ids, f.lp, sample ? f.counts : NULL, K, sample ? sample_n : 0};
    float dl[N * V];
    const float gscale = 0.5f;
    double loss = slm_kd_forward_backward(dl, NULL, f.logits, f.targets, f.mask, &t, &p, N, V,
                                          gscale, NULL);
    double z[N * V];
    for (int i = 0; i < N * V; i++) z[i] = f.logits[i];
    double ref = ref_mean(&f, z, &t, &p);
    assert_true(isfinite(loss));
    if (fabs(loss - ref) > LOSS_TOL * (fabs(ref) + 1e-3)) {
        print_error("K=%lld loss %.9g ref %.9g\n", (long long)K, loss, ref);
        fail();
    }
    double worst = 0;
    for (int i = 0; i < N * V; i++) {
        double save = z[i];
        z[i] = save + FD_EPS;
        double lp = ref_mean(&f, z, &t, &p);
        z[i] = save - FD_EPS;
        double lm = ref_mean(&f, z, &t, &p);
        z[i] = save;
        double num = gscale * (lp - lm) / (2 * FD_EPS);
        double err = fabs(dl[i] - num) / (fabs(num) + 1e-3);
        if (err > worst) worst = err;
        if (getenv("KD_DEBUG") && err > FD_TOL) print_error("i=%d an=%g num=%g\n", i, dl[i], num);
        if (i / V == 3) assert_true(dl[i] == 0.0f); /* masked row */
    }
    if (worst > FD_TOL) {
        print_error("K=%lld T=%g dir=%d renorm=%d sample=%d: FD rel err %.3g\n", (long long)K,
                    p.temperature, p.direction, p.renormalize, sample, worst);
        fail();
    }
    /* aliasing dlogits == logits gives the same gradient */
    float alias[N * V];
    memcpy(alias, f.logits, sizeof alias);
    double loss2 = slm_kd_forward_backward(alias, NULL, alias, f.targets, f.mask, &t, &p, N, V,
                                           gscale, NULL);
    assert_true(loss2 == loss);
    assert_memory_equal(alias, dl, sizeof dl);
}

static void test_kd_forward_tail(void **state) {
    (void)state;
    slm_kd_params p = {0.7f, 1.0f, SLM_KD_FORWARD, false};
    int64_t ks[] = {1, 4, V};
    float ts[] = {1.0f, 2.5f, 0.6f};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            p.temperature = ts[b];
            check_case(ks[a], false, p, 11 + a * 3 + b);
        }
}

static void test_kd_reverse_tail(void **state) {
    (void)state;
    slm_kd_params p = {0.6f, 2.0f, SLM_KD_REVERSE, false};
    int64_t ks[] = {1, 5, V};
    for (int a = 0; a < 3; a++) check_case(ks[a], false, p, 101 + a);
    p.temperature = 1.0f;
    for (int a = 0; a < 3; a++) check_case(ks[a], false, p, 201 + a);
}

static void test_kd_renormalized(void **state) {
    (void)state;
    slm_kd_params p = {1.0f, 1.5f, SLM_KD_FORWARD, true};
    check_case(2, false, p, 301);
    check_case(6, false, p, 302);
    p.direction = SLM_KD_REVERSE;
    check_case(3, false, p, 303);
    p.alpha = 0.0f; /* pure CE: KD terms must vanish from the gradient */
    check_case(3, false, p, 304);
}

static void test_kd_sampled(void **state) {
    (void)state;
    slm_kd_params p = {0.8f, 1.0f, SLM_KD_FORWARD, false};
    check_case(8, true, p, 401);
    check_case(V, true, p, 402);
    assert_int_equal(slm_kd_check_params(&p, true), SLM_OK);
    p.temperature = 2.0f;
    assert_int_equal(slm_kd_check_params(&p, true), SLM_ERR_USAGE);
    p.temperature = 1.0f;
    p.direction = SLM_KD_REVERSE;
    assert_int_equal(slm_kd_check_params(&p, true), SLM_ERR_USAGE);
    p.direction = SLM_KD_FORWARD;
    p.alpha = 1.5f;
    assert_int_equal(slm_kd_check_params(&p, false), SLM_ERR_USAGE);
}

/* K = V with the tail bucket is exactly full-vocabulary KD: written out here
 * from the definition with the teacher's raw logits (not the stored log-probs). */
static void test_kd_full_vocab_equivalence(void **state) {
    (void)state;
    fixture f;
    make_fixture(&f, V, false, 0, 77);
    float ts[] = {1.0f, 3.0f};
    for (int d = 0; d < 2; d++)
        for (int b = 0; b < 2; b++) {
            slm_kd_params p = {1.0f, ts[b], d ? SLM_KD_REVERSE : SLM_KD_FORWARD, false};
            slm_kd_teacher t = {f.ids, f.lp, NULL, V, 0};
            double sum = 0;
            int rows = 0;
            for (int n = 0; n < N; n++) {
                if (!f.mask[n]) continue;
                double zt[V], zs[V], mt = -INFINITY, ms = -INFINITY, st = 0, ss = 0;
                for (int j = 0; j < V; j++) {
                    /* teacher temperature applied to its float-stored log-probs, as the dump holds */
                    zt[j] = f.teacher_logits[n * V + j] / p.temperature;
                    zs[j] = f.logits[n * V + j] / p.temperature;
                    mt = fmax(mt, zt[j]);
                    ms = fmax(ms, zs[j]);
                }
                for (int j = 0; j < V; j++) st += exp(zt[j] - mt), ss += exp(zs[j] - ms);
                double kl = 0;
                for (int j = 0; j < V; j++) {
                    double lpt = zt[j] - mt - log(st), lps = zs[j] - ms - log(ss);
                    kl += d ? exp(lps) * (lps - lpt) : exp(lpt) * (lpt - lps);
                }
                sum += p.temperature * p.temperature * kl;
                rows++;
            }
            double z[N * V];
            for (int i = 0; i < N * V; i++) z[i] = f.logits[i];
            double ref = ref_mean(&f, z, &t, &p);
            /* the dump stores log-probs as float: allow float rounding of lp only */
            if (fabs(ref - sum / rows) > 1e-6 * (1 + fabs(ref))) {
                print_error("K=V: bucketed %.12g vs full KD %.12g\n", ref, sum / rows);
                fail();
            }
            slm_kd_stats stats;
            slm_kd_forward_backward(NULL, NULL, f.logits, f.targets, f.mask, &t, &p, N, V, 1.0f,
                                    &stats);
            assert_true(fabs(stats.loss - sum / rows) < 1e-5 * (1 + fabs(ref)));
            assert_true(stats.n_rows == N - 1);
        }
}

/* The tail bucket matters: with K < V, forward KL differs from renormalised
 * top-k unless the tail is empty; both are >= 0 and 0 when student = teacher. */
static void test_kd_zero_at_teacher(void **state) {
    (void)state;
    fixture f;
    int64_t K = 4;
    make_fixture(&f, K, false, 0, 91);
    for (int i = 0; i < N * V; i++) f.logits[i] = (float)f.teacher_logits[i];
    slm_kd_teacher t = {f.ids, f.lp, NULL, K, 0};
    for (int d = 0; d < 2; d++) {
        slm_kd_params p = {1.0f, 1.0f, d ? SLM_KD_REVERSE : SLM_KD_FORWARD, false};
        slm_kd_stats st;
        float dl[N * V];
        slm_kd_forward_backward(dl, NULL, f.logits, f.targets, f.mask, &t, &p, N, V, 1.0f, &st);
        assert_true(fabs(st.kd) < 1e-6);
        for (int i = 0; i < N * V; i++) assert_true(fabs(dl[i]) < 1e-6);
    }
    /* a different student gives a strictly positive divergence */
    for (int i = 0; i < N * V; i++) f.logits[i] += (float)(i % 3);
    slm_kd_params p = slm_kd_default_params();
    p.alpha = 1.0f;
    slm_kd_stats st;
    slm_kd_forward_backward(NULL, NULL, f.logits, f.targets, f.mask, &t, &p, N, V, 1.0f, &st);
    assert_true(st.kd > 1e-3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kd_forward_tail),
        cmocka_unit_test(test_kd_reverse_tail),
        cmocka_unit_test(test_kd_renormalized),
        cmocka_unit_test(test_kd_sampled),
        cmocka_unit_test(test_kd_full_vocab_equivalence),
        cmocka_unit_test(test_kd_zero_at_teacher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
