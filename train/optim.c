/* train/optim.c — AdamW, schedules and clipping (see optim.h). */
#include "train/optim.h"

#include <math.h>
#include <string.h>

#define SLM_NORM_CHUNK 4096

slm_adamw_params slm_adamw_default_params(void) {
    slm_adamw_params p = {.beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f,
                          .decay_all = false};
    return p;
}

slm_status slm_adamw_init(slm_adamw *opt, const slm_param_list *params,
                          const slm_adamw_params *p) {
    memset(opt, 0, sizeof *opt);
    opt->p = *p;
    int64_t total = 0;
    for (int64_t i = 0; i < params->n; i++) total += params->v[i].n;
    size_t bytes;
    if (!slm_mul_size((size_t)total * 2, sizeof(float), &bytes)) return SLM_ERR_NOMEM;
    opt->m = slm_calloc((size_t)(params->n ? params->n : 1), sizeof *opt->m);
    opt->v = slm_calloc((size_t)(params->n ? params->n : 1), sizeof *opt->v);
    opt->mem = slm_alloc_aligned(bytes);
    if (!opt->m || !opt->v || !opt->mem) {
        slm_adamw_free(opt);
        return SLM_ERR_NOMEM;
    }
    opt->n_tensors = params->n;
    opt->n_floats = total;
    int64_t off = 0;
    for (int64_t i = 0; i < params->n; i++) {
        opt->m[i] = opt->mem + off;
        opt->v[i] = opt->mem + total + off;
        off += params->v[i].n;
    }
    return SLM_OK;
}

void slm_adamw_free(slm_adamw *opt) {
    slm_free(opt->m);
    slm_free(opt->v);
    slm_free(opt->mem);
    memset(opt, 0, sizeof *opt);
}

void slm_adamw_step(slm_adamw *opt, const slm_param_list *params, float lr) {
    SLM_ASSERT(params->n == opt->n_tensors);
    opt->t++;
    const float b1 = opt->p.beta1, b2 = opt->p.beta2, eps = opt->p.eps;
    /* bias corrections in double, then rounded once (PyTorch computes them in
     * Python floats, i.e. double, for its foreach/for-loop paths) */
    const double bc1 = 1.0 - pow((double)b1, (double)opt->t);
    const double bc2 = 1.0 - pow((double)b2, (double)opt->t);
    const float step_size = (float)((double)lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    for (int64_t i = 0; i < params->n; i++) {
        const slm_param *P = &params->v[i];
        float *w = P->data, *m = opt->m[i], *v = opt->v[i];
        const float *g = P->grad;
        const bool decay = opt->p.weight_decay != 0.0f && (P->decay || opt->p.decay_all);
        const float keep = 1.0f - lr * opt->p.weight_decay;
        const int64_t n = P->n;
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < n; j++) {
            float wj = w[j];
            if (decay) wj *= keep;
            const float gj = g[j];
            const float mj = b1 * m[j] + (1.0f - b1) * gj;
            const float vj = b2 * v[j] + (1.0f - b2) * gj * gj;
            m[j] = mj;
            v[j] = vj;
            const float denom = sqrtf(vj) / bc2_sqrt + eps;
            w[j] = wj - step_size * (mj / denom);
        }
    }
}

const char *slm_sched_name(slm_sched_kind k) {
    static const char *names[SLM_SCHED_COUNT] = {"constant", "linear", "cosine"};
    return (unsigned)k < SLM_SCHED_COUNT ? names[k] : "?";
}

float slm_lr_at(const slm_sched *s, int64_t step) {
    if (step < s->warmup) return (float)((double)s->lr * (double)(step + 1) / (double)s->warmup);
    if (s->kind == SLM_SCHED_CONSTANT) return s->lr;
    int64_t span = s->total - 1 - s->warmup;
    double p = span > 0 ? (double)(step - s->warmup) / (double)span : 1.0;
    if (p < 0) p = 0;
    if (p > 1) p = 1;
    double lr = s->lr, lo = s->min_lr;
    if (s->kind == SLM_SCHED_LINEAR) return (float)(lo + (lr - lo) * (1.0 - p));
    return (float)(lo + (lr - lo) * 0.5 * (1.0 + cos(M_PI * p)));
}

/* Sum of squares of x (n) as fixed 4096-element chunks whose double partials
 * are added in chunk order (groups of 64 chunks at a time, no allocation):
 * the result does not depend on the thread count. */
static double sumsq_fixed(const float *x, int64_t n) {
    enum { GROUP = 64 };
    const int64_t n_chunks = (n + SLM_NORM_CHUNK - 1) / SLM_NORM_CHUNK;
    double s = 0;
    for (int64_t c0 = 0; c0 < n_chunks; c0 += GROUP) {
        const int64_t nc = n_chunks - c0 < GROUP ? n_chunks - c0 : GROUP;
        double part[GROUP];
#pragma omp parallel for schedule(static) if (nc > 1)
        for (int64_t c = 0; c < nc; c++) {
            const int64_t a = (c0 + c) * SLM_NORM_CHUNK;
            const int64_t b = a + SLM_NORM_CHUNK < n ? a + SLM_NORM_CHUNK : n;
            double t = 0;
            for (int64_t j = a; j < b; j++) t += (double)x[j] * x[j];
            part[c] = t;
        }
        for (int64_t c = 0; c < nc; c++) s += part[c];
    }
    return s;
}

double slm_grad_global_norm(const slm_param_list *params) {
    double s = 0;
    for (int64_t i = 0; i < params->n; i++) s += sumsq_fixed(params->v[i].grad, params->v[i].n);
    return sqrt(s);
}

double slm_grad_clip(const slm_param_list *params, float max_norm) {
    double norm = slm_grad_global_norm(params);
    if (max_norm > 0 && norm > max_norm) {
        const float scale = (float)((double)max_norm / (norm + 1e-6));
        for (int64_t i = 0; i < params->n; i++) {
            float *g = params->v[i].grad;
            const int64_t n = params->v[i].n;
#pragma omp parallel for schedule(static)
            for (int64_t j = 0; j < n; j++) g[j] *= scale;
        }
    }
    return norm;
}
