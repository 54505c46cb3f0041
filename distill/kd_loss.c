/* distill/kd_loss.c — fused KD + CE forward/backward (formulas in kd_loss.h)
 * and its naive double-precision oracle. */
#include "distill/kd_loss.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

slm_kd_params slm_kd_default_params(void) {
    slm_kd_params p = {0.5f, 1.0f, SLM_KD_FORWARD, false};
    return p;
}

slm_status slm_kd_check_params(const slm_kd_params *p, bool sample_mode) {
    if (!(p->alpha >= 0.0f && p->alpha <= 1.0f)) {
        slm_log_error("kd: alpha = %g must be in [0, 1]", p->alpha);
        return SLM_ERR_USAGE;
    }
    if (!(p->temperature > 0.0f) || !isfinite(p->temperature)) {
        slm_log_error("kd: temperature = %g must be > 0", p->temperature);
        return SLM_ERR_USAGE;
    }
    if (p->direction < 0 || p->direction >= SLM_KD_DIR_COUNT) {
        slm_log_error("kd: unknown direction %d", (int)p->direction);
        return SLM_ERR_USAGE;
    }
    if (sample_mode && (p->temperature != 1.0f || p->direction != SLM_KD_FORWARD || p->renormalize)) {
        slm_log_error("kd: a sampled dump (mode = sample) supports only forward KL at temperature "
                      "1 without renormalisation (the sampled estimator is unbiased only there); "
                      "found T = %g, %s%s",
                      p->temperature, p->direction == SLM_KD_REVERSE ? "reverse" : "forward",
                      p->renormalize ? ", renormalize" : "");
        return SLM_ERR_USAGE;
    }
    return SLM_OK;
}

/* Teacher bucket log-probs at temperature T: logp[0..K) for the entries and
 * logp[K] for the tail (or -INFINITY when there is no tail bucket).  Entries
 * unused in sample mode get -INFINITY.  Returns true if there is a tail. */
static bool teacher_buckets(double *logp, const int32_t *ids, const float *lp,
                            const uint16_t *cnt, int64_t K, int64_t sample_n,
                            const slm_kd_params *p, int64_t V) {
    if (cnt) { /* sample mode: empirical frequencies c_i / N */
        for (int64_t i = 0; i < K; i++)
            logp[i] = cnt[i] ? log((double)cnt[i] / (double)sample_n) : -INFINITY;
        logp[K] = -INFINITY;
        return false;
    }
    double invT = 1.0 / p->temperature, mass = 0, mx = -INFINITY;
    for (int64_t i = 0; i < K; i++) {
        (void)ids;
        mass += exp((double)lp[i]);
        logp[i] = (double)lp[i] * invT;
        if (logp[i] > mx) mx = logp[i];
    }
    bool tail = !p->renormalize && K < V;
    logp[K] = -INFINITY;
    if (tail) {
        double P = 1.0 - mass;
        if (P < SLM_KD_TAIL_FLOOR) P = SLM_KD_TAIL_FLOOR;
        double lvk = log((double)(V - K));
        logp[K] = lvk + (log(P) - lvk) * invT;
        if (logp[K] > mx) mx = logp[K];
    }
    double s = 0;
    for (int64_t i = 0; i <= K; i++) s += exp(logp[i] - mx);
    double lse = mx + log(s);
    for (int64_t i = 0; i <= K; i++) logp[i] -= lse;
    return tail;
}

/* One row.  scratch: slot (V) int32 filled with -1 on entry and exit;
 * bk (4 * (K + 1)) doubles.  Returns the row loss, fills *kd and *ce.
 * Two passes over the vocabulary: sums (S1 = sum exp(z - m), ST = sum
 * exp((z - m)/T), Stail over non-entries), then the gradient, whose per-id
 * term is a per-bucket constant for the K entries and s_j * tail_coef for
 * the rest, so the second pass costs one or two expf per id like CE's. */
static double kd_row(float *drow, const float *z, int32_t target, const int32_t *ids,
                     const float *lp, const uint16_t *cnt, int64_t K, int64_t sample_n,
                     const slm_kd_params *p, int64_t V, double coef, int32_t *slot, double *bk,
                     double *kd_out, double *ce_out) {
    double *logp = bk, *logs = bk + (K + 1), *sb = bk + 2 * (K + 1), *gb = bk + 3 * (K + 1);
    const double T = p->temperature, invT = 1.0 / T;
    const float invTf = (float)invT;
    const bool sample = cnt != NULL, t1 = T == 1.0;
    bool tail = teacher_buckets(logp, ids, lp, cnt, K, sample_n, p, V);
    for (int64_t i = 0; i < K; i++)
        if (ids[i] >= 0) slot[ids[i]] = (int32_t)i;

    float m = -INFINITY;
    for (int64_t j = 0; j < V; j++) m = z[j] > m ? z[j] : m;
    double S1 = 0, ST = 0, Stail = 0;
    for (int64_t j = 0; j < V; j++) {
        float d = z[j] - m;
        float e1 = expf(d), eT = t1 ? e1 : expf(d * invTf);
        S1 += e1;
        ST += eT;
        if (slot[j] < 0) Stail += eT;
    }
    double lS1 = log(S1), lST = log(ST);
    /* bucket log-probs of the student (renormalised: over the entries only) */
    double lnorm = lST;
    if (p->renormalize) {
        double mk = -INFINITY, sum = 0;
        for (int64_t i = 0; i < K; i++) mk = fmax(mk, ((double)z[ids[i]] - m) * invT);
        for (int64_t i = 0; i < K; i++) sum += exp(((double)z[ids[i]] - m) * invT - mk);
        lnorm = mk + log(sum);
    }
    for (int64_t i = 0; i < K; i++) {
        logs[i] = ids[i] >= 0 ? ((double)z[ids[i]] - m) * invT - lnorm : -INFINITY;
        sb[i] = exp(logs[i]);
    }
    logs[K] = tail && Stail > 0 ? log(Stail) - lST : -INFINITY;
    sb[K] = tail ? Stail / ST : 0;

    /* divergence over the buckets (0 log 0 = 0) and the per-bucket gradients
     * gb[i] (entries) and tail_coef (times s_j for every other id) */
    double D = 0, gbar = 0, tail_coef = 0;
    if (p->direction == SLM_KD_FORWARD) {
        for (int64_t i = 0; i < K; i++) {
            double pi = sample ? (cnt[i] ? (double)cnt[i] / (double)sample_n : 0) : exp(logp[i]);
            if (sample) {
                if (cnt[i]) D += pi * ((double)lp[i] - logs[i]);
            } else if (logp[i] > -INFINITY) {
                D += pi * (logp[i] - logs[i]);
            }
            gb[i] = sb[i] - pi; /* (1/T) s_j (1 - p_b / s_b) for a one-id bucket */
        }
        if (tail && logp[K] > -INFINITY) D += exp(logp[K]) * (logp[K] - logs[K]);
        /* s_j (1 - p_tail / s_tail); renormalised: 0; no tail bucket: ids never
         * drawn (sample mode) have target 0, so s_j */
        tail_coef = p->renormalize ? 0 : tail ? (sb[K] > 0 ? 1.0 - exp(logp[K]) / sb[K] : 0) : 1;
    } else {
        for (int64_t i = 0; i <= K; i++) {
            if ((i == K && !tail) || sb[i] == 0) continue;
            double g = logs[i] - logp[i];
            D += sb[i] * g;
            gbar += sb[i] * g;
        }
        for (int64_t i = 0; i < K; i++) gb[i] = sb[i] > 0 ? sb[i] * (logs[i] - logp[i] - gbar) : 0;
        tail_coef = tail && Stail > 0 ? logs[K] - logp[K] - gbar : 0;
    }
    double ce = target >= 0 ? (double)m + lS1 - (double)z[target] : 0;
    *kd_out = D;
    *ce_out = ce;
    double loss = p->alpha * T * T * D + (1.0 - p->alpha) * ce;

    if (drow) {
        const float ckd = (float)(coef * p->alpha * T * T * invT);
        const float cce = target >= 0 ? (float)(coef * (1.0 - p->alpha)) : 0; /* no label, no CE */
        const float lS1f = (float)lS1, lSTf = (float)lST, tcf = (float)tail_coef;
        const bool need_s = !t1 && tcf != 0;
        for (int64_t j = 0; j < V; j++) {
            float d = z[j] - m;
            float q = expf(d - lS1f);                              /* softmax(z)_j */
            float sj = t1 ? q : need_s ? expf(d * invTf - lSTf) : 0; /* softmax(z/T)_j */
            int32_t b = slot[j];
            float gkd = b >= 0 ? (float)gb[b] : sj * tcf;
            drow[j] = ckd * gkd + cce * (q - (j == target ? 1.0f : 0.0f));
        }
    }
    for (int64_t i = 0; i < K; i++)
        if (ids[i] >= 0) slot[ids[i]] = -1;
    return loss;
}

double slm_kd_forward_backward(float *dlogits, float *losses, const float *logits,
                               const int32_t *targets, const uint8_t *mask,
                               const slm_kd_teacher *teacher, const slm_kd_params *p,
                               int64_t N, int64_t V, float grad_scale, slm_kd_stats *stats) {
    SLM_ASSERT(N >= 0 && V > 0 && teacher && teacher->K >= 1 && teacher->K <= V);
    const int64_t K = teacher->K;
    int64_t n_rows = 0, n_ce = 0;
    for (int64_t n = 0; n < N; n++)
        if (!mask || mask[n]) {
            n_rows++;
            if (targets[n] >= 0) n_ce++;
        }
    const double coef = n_rows ? (double)grad_scale / (double)n_rows : 0;
    int nth = omp_get_max_threads();
    double *row = slm_calloc((size_t)N * 3 + 1, sizeof(double)); /* loss, kd, ce per row */
    int32_t *slots = slm_alloc((size_t)nth * (size_t)V * sizeof(int32_t));
    double *bks = slm_alloc((size_t)nth * (size_t)(4 * (K + 1)) * sizeof(double));
    SLM_ASSERT(row && slots && bks); /* small scratch; out of memory here is fatal */
    memset(slots, 0xff, (size_t)nth * (size_t)V * sizeof(int32_t)); /* all -1 */
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t n = 0; n < N; n++) {
        int tid = omp_get_thread_num();
        float *drow = dlogits ? dlogits + n * V : NULL;
        if (mask && !mask[n]) {
            if (drow) memset(drow, 0, (size_t)V * sizeof(float));
            continue;
        }
        row[3 * n] = kd_row(drow, logits + n * V, targets[n], teacher->ids + n * K,
                            teacher->logprobs + n * K, teacher->counts ? teacher->counts + n * K : NULL,
                            K, teacher->sample_n, p, V, coef, slots + (size_t)tid * V,
                            bks + (size_t)tid * 4 * (K + 1), &row[3 * n + 1], &row[3 * n + 2]);
    }
    double sl = 0, sk = 0, sc = 0; /* fixed row order: repeatable for any thread count */
    for (int64_t n = 0; n < N; n++) {
        if (losses) losses[n] = (float)row[3 * n];
        sl += row[3 * n];
        sk += row[3 * n + 1];
        sc += row[3 * n + 2];
    }
    free(row);
    free(slots);
    free(bks);
    double mean = n_rows ? sl / (double)n_rows : 0;
    if (stats) {
        stats->loss = mean;
        stats->kd = n_rows ? sk / (double)n_rows : 0;
        stats->ce = n_ce ? sc / (double)n_ce : 0;
        stats->n_rows = n_rows;
    }
    return mean;
}

/* ---- oracle: every quantity from its definition, in double, no fusion ---- */

double slm_kd_row_loss_ref(const double *z, int32_t target, const int32_t *ids,
                           const float *lp, const uint16_t *cnt, int64_t K, int64_t sample_n,
                           const slm_kd_params *p, int64_t V, double *kd, double *ce) {
    const double T = p->temperature;
    double m = -INFINITY;
    for (int64_t j = 0; j < V; j++) m = fmax(m, z[j]);
    double S1 = 0, ST = 0;
    for (int64_t j = 0; j < V; j++) {
        S1 += exp(z[j] - m);
        ST += exp((z[j] - m) / T);
    }
    /* student bucket probabilities by explicit membership tests */
    double D = 0;
    if (cnt) {
        for (int64_t i = 0; i < K; i++)
            if (cnt[i]) {
                double s = exp((z[ids[i]] - m) / T) / ST;
                D += (double)cnt[i] / (double)sample_n * ((double)lp[i] - log(s));
            }
    } else {
        double *pt = slm_alloc((size_t)(K + 1) * sizeof(double));
        double *st = slm_alloc((size_t)(K + 1) * sizeof(double));
        SLM_ASSERT(pt && st);
        double mass = 0, wsum = 0, ssum = 0;
        for (int64_t i = 0; i < K; i++) {
            mass += exp((double)lp[i]);
            pt[i] = exp((double)lp[i] / T);
            st[i] = exp((z[ids[i]] - m) / T) / ST;
            wsum += pt[i];
            ssum += st[i];
        }
        bool tail = !p->renormalize && K < V;
        pt[K] = st[K] = 0;
        if (tail) {
            double P = fmax(1.0 - mass, SLM_KD_TAIL_FLOOR);
            pt[K] = (double)(V - K) * pow(P / (double)(V - K), 1.0 / T);
            wsum += pt[K];
            for (int64_t j = 0; j < V; j++) {
                bool in = false;
                for (int64_t i = 0; i < K; i++) in = in || ids[i] == j;
                if (!in) st[K] += exp((z[j] - m) / T) / ST;
            }
        }
        for (int64_t i = 0; i <= K; i++) {
            pt[i] /= wsum;
            if (p->renormalize) st[i] /= ssum;
        }
        for (int64_t i = 0; i <= K; i++) {
            if (i == K && !tail) break;
            if (p->direction == SLM_KD_FORWARD) {
                if (pt[i] > 0) D += pt[i] * log(pt[i] / st[i]);
            } else {
                if (st[i] > 0) D += st[i] * log(st[i] / pt[i]);
            }
        }
        free(pt);
        free(st);
    }
    double c = target >= 0 ? m + log(S1) - z[target] : 0;
    *kd = D;
    *ce = c;
    return p->alpha * T * T * D + (1.0 - p->alpha) * c;
}
