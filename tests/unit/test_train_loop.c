/* tests/unit/test_train_loop.c — the trainer loop on a toy bigram model
 * (logits = W[token], W (NV, NV)) with a test-local cross-entropy loss
 * callback: the loss decreases, runs are bit-identical for a seed, a run
 * stopped by the stop flag (SIGTERM path) or "killed" after a checkpoint and
 * resumed ends with weights bit-identical to an uninterrupted run, metrics
 * lines are written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "train/trainer.h"

#define NV 16 /* vocabulary */
#define SEQ 8 /* tokens per sequence */
#define NTOK 2000

/* ---- toy model ---- */
typedef struct {
    float w[NV * NV], g[NV * NV];   /* (NV, NV) */
    float logits[64 * SEQ * NV];   /* (B, SEQ, NV) */
    const int32_t *tokens;
    int64_t B;
    slm_param P;
    slm_param_list L;
    int64_t forwards;           /* training forwards seen */
    int64_t stop_at_forward;    /* raise *stop at this forward (0 = never) */
    volatile sig_atomic_t *stop;
} toy;

static const slm_param_list *toy_params(void *c) { return &((toy *)c)->L; }
static void toy_zero(void *c) { memset(((toy *)c)->g, 0, sizeof ((toy *)c)->g); }
static float *toy_forward(void *c, const int32_t *tokens, slm_rng *rng) {
    toy *m = c;
    m->tokens = tokens;
    if (rng && ++m->forwards == m->stop_at_forward && m->stop) *m->stop = 1;
    for (int64_t n = 0; n < m->B * SEQ; n++) memcpy(m->logits + n * NV, m->w + tokens[n] * NV, sizeof(float) * NV);
    /* training noise from the rng (like dropout): resume must restore its state */
    if (rng)
        for (int64_t i = 0; i < m->B * SEQ * NV; i++) m->logits[i] += 0.01f * (slm_rng_uniform(rng) - 0.5f);
    return m->logits;
}
static void toy_backward(void *c, const float *dl) {
    toy *m = c;
    for (int64_t n = 0; n < m->B * SEQ; n++)
        for (int v = 0; v < NV; v++) m->g[m->tokens[n] * NV + v] += dl[n * NV + v];
}
static void toy_init(toy *m, int64_t B) {
    memset(m, 0, sizeof *m);
    slm_rng r;
    slm_rng_seed(&r, 99);
    for (int i = 0; i < NV * NV; i++) m->w[i] = 0.1f * slm_rng_normal(&r);
    m->B = B;
    m->P = (slm_param){.name = "w", .data = m->w, .grad = m->g, .n = NV * NV, .n_dims = 2,
                       .ne = {NV, NV}, .decay = true};
    m->L = (slm_param_list){&m->P, 1};
}
static slm_train_model toy_model(toy *m) {
    return (slm_train_model){.ctx = m, .n_vocab = NV, .params = toy_params, .zero_grad = toy_zero,
                             .forward = toy_forward, .backward = toy_backward};
}

/* ---- data: a noisy cyclic sequence, next = (cur * 5 + 3) % NV mostly ---- */
static int32_t corpus[NTOK];
static void make_corpus(void) {
    slm_rng r;
    slm_rng_seed(&r, 5);
    corpus[0] = 1;
    for (int i = 1; i < NTOK; i++)
        corpus[i] = slm_rng_uniform(&r) < 0.9f ? (corpus[i - 1] * 5 + 3) % NV
                                               : (int32_t)slm_rng_below(&r, NV);
}
static slm_status get_seq(void *ctx, bool val, int64_t seq, int32_t *tok, int32_t *tgt, uint8_t *mask) {
    (void)ctx;
    int64_t base = val ? 1600 : 0;
    int64_t o = base + seq * SEQ;
    for (int t = 0; t < SEQ; t++) {
        tok[t] = corpus[o + t];
        tgt[t] = corpus[o + t + 1];
        mask[t] = t > 0; /* first position masked: the mask must be honoured */
    }
    return SLM_OK;
}
static slm_train_data toy_data(void) {
    return (slm_train_data){.n_train = 1600 / SEQ - 1, .n_val = 300 / SEQ, .get = get_seq};
}

/* test-local loss: masked mean cross-entropy (double), gradient softmax - onehot */
static double ce_loss(void *ctx, float *dl, const float *logits, const slm_batch *b, int64_t nv,
                      float scale, int64_t *n_counted) {
    (*(int *)ctx)++;
    int64_t N = b->B * b->T, n = 0;
    for (int64_t i = 0; i < N; i++) n += b->mask[i] != 0;
    double sum = 0;
    for (int64_t i = 0; i < N; i++) {
        const float *x = logits + i * nv;
        double mx = -INFINITY, z = 0;
        for (int64_t v = 0; v < nv; v++) mx = x[v] > mx ? x[v] : mx;
        for (int64_t v = 0; v < nv; v++) z += exp(x[v] - mx);
        double lse = mx + log(z);
        if (b->mask[i]) sum += lse - x[b->targets[i]];
        if (dl) {
            for (int64_t v = 0; v < nv; v++) {
                double p = exp(x[v] - lse);
                dl[i * nv + v] = b->mask[i] ? (float)((p - (v == b->targets[i])) / (double)n * scale) : 0.0f;
            }
        }
    }
    *n_counted = n;
    return sum / (double)n;
}

static slm_trainer_params params_for(const char *dir, int64_t steps) {
    slm_trainer_params p = slm_trainer_default_params();
    p.steps = steps;
    p.B = 4;
    p.T = SEQ;
    p.accum = 2;
    p.sched = (slm_sched){.kind = SLM_SCHED_COSINE, .lr = 0.05f, .min_lr = 0.005f, .warmup = 3, .total = steps};
    p.adamw.weight_decay = 0.01f;
    p.grad_clip = 1.0f;
    p.seed = 42;
    p.eval_every = 10;
    p.eval_batches = 2;
    p.ckpt_every = 7;
    p.keep = 2;
    p.dir = dir;
    p.mode = "toy";
    p.config_text = "[toy]\n";
    return p;
}

static char dir_a[128], dir_b[128];
static void fresh_dir(char *d, size_t cap, const char *tag) {
    snprintf(d, cap, "/tmp/slm_loop_%s_%d", tag, (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", d, d);
    assert_int_equal(system(cmd), 0);
}

static void test_loss_decreases_and_deterministic(void **state) {
    (void)state;
    make_corpus();
    int calls = 0;
    toy m1, m2;
    toy_init(&m1, 4);
    toy_init(&m2, 4);
    slm_train_model a = toy_model(&m1), b = toy_model(&m2);
    slm_train_data d = toy_data();
    slm_trainer_params p = params_for(NULL, 60);
    slm_trainer_result r1, r2;
    /* initial validation loss, through the same callback */
    assert_int_equal(slm_trainer_run(&p, &a, &d, ce_loss, &calls, &r1), SLM_OK);
    assert_int_equal(slm_trainer_run(&p, &b, &d, ce_loss, &calls, &r2), SLM_OK);
    assert_true(calls > 0);
    assert_int_equal(r1.step, 60);
    assert_memory_equal(m1.w, m2.w, sizeof m1.w); /* bit-identical */
    assert_true(r1.loss == r2.loss);
    /* 90% of transitions are deterministic: the entropy floor is about
     * 0.1*log(V)+H(0.9) ~ 0.6 nats; log(16) = 2.77 at the start */
    assert_true(isfinite(r1.val_loss));
    fprintf(stderr, "toy val loss after 60 steps: %.4f (log V = %.4f)\n", r1.val_loss, log(NV));
    assert_true(r1.val_loss < 1.2);
    assert_true(r1.val_loss < log(NV) - 1.0);
}

static void test_resume_bit_identical(void **state) {
    (void)state;
    make_corpus();
    int calls = 0;
    const int64_t steps = 30;
    /* uninterrupted reference */
    fresh_dir(dir_a, sizeof dir_a, "a");
    toy ref;
    toy_init(&ref, 4);
    slm_train_model rm = toy_model(&ref);
    slm_train_data d = toy_data();
    slm_trainer_params p = params_for(dir_a, steps);
    slm_trainer_result r;
    assert_int_equal(slm_trainer_run(&p, &rm, &d, ce_loss, &calls, &r), SLM_OK);

    /* stopped by the flag during step 12 (forward 23 of 2 per step) */
    fresh_dir(dir_b, sizeof dir_b, "b");
    volatile sig_atomic_t stop = 0;
    toy m;
    toy_init(&m, 4);
    m.stop = &stop;
    m.stop_at_forward = 23;
    slm_train_model mm = toy_model(&m);
    p = params_for(dir_b, steps);
    p.stop = &stop;
    assert_int_equal(slm_trainer_run(&p, &mm, &d, ce_loss, &calls, &r), SLM_ERR_INTERRUPTED);
    assert_int_equal(r.step, 12);
    int64_t *st = NULL, n = 0;
    assert_int_equal(slm_ckpt_list(dir_b, &st, &n), SLM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(st[0], 12); /* stop checkpoint */
    assert_int_equal(st[1], 7);
    free(st);

    /* resume in a fresh model (different init: everything must come from the checkpoint) */
    stop = 0;
    toy m2;
    toy_init(&m2, 4);
    for (int i = 0; i < NV * NV; i++) m2.w[i] = 7.0f;
    slm_train_model mm2 = toy_model(&m2);
    assert_int_equal(slm_trainer_run(&p, &mm2, &d, ce_loss, &calls, &r), SLM_OK);
    assert_int_equal(r.start_step, 12);
    assert_int_equal(r.step, steps);
    assert_memory_equal(m2.w, ref.w, sizeof ref.w);

    /* "SIGKILL" after step 16: delete the checkpoints after 14 and resume */
    fresh_dir(dir_b, sizeof dir_b, "b");
    toy m3;
    toy_init(&m3, 4);
    slm_train_model mm3 = toy_model(&m3);
    p = params_for(dir_b, 16);
    p.sched.total = steps; /* same schedule as the full run */
    assert_int_equal(slm_trainer_run(&p, &mm3, &d, ce_loss, &calls, &r), SLM_OK);
    char *c16 = slm_ckpt_path(dir_b, 16);
    assert_int_equal(unlink(c16), 0); /* only ckpt-14 remains */
    free(c16);
    toy m4;
    toy_init(&m4, 4);
    slm_train_model mm4 = toy_model(&m4);
    p = params_for(dir_b, steps);
    assert_int_equal(slm_trainer_run(&p, &mm4, &d, ce_loss, &calls, &r), SLM_OK);
    assert_int_equal(r.start_step, 14);
    assert_memory_equal(m4.w, ref.w, sizeof ref.w);

    /* metrics.jsonl: one line per step 1..30, steps in order, no duplicates */
    char path[256], *txt = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir_b);
    assert_int_equal(slm_read_file(path, &txt, &len), SLM_OK);
    int64_t expect = 1;
    double last_elapsed = -1;
    for (char *l = txt; *l; expect++) {
        const char *e = strstr(l, "\"elapsed\":");
        assert_non_null(e);
        double el = strtod(e + 10, NULL);
        assert_true(el >= last_elapsed); /* carried over the resumes */
        last_elapsed = el;
        long long s = -1;
        assert_int_equal(sscanf(l, "{\"step\":%lld,", &s), 1);
        assert_int_equal(s, expect);
        assert_non_null(strstr(l, "\"grad_norm\":"));
        char *nl = strchr(l, '\n');
        assert_non_null(nl);
        l = nl + 1;
    }
    assert_int_equal(expect - 1, steps);
    free(txt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_decreases_and_deterministic),
        cmocka_unit_test(test_resume_bit_identical),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir_a, dir_b);
    if (dir_a[0] && system(cmd) != 0) rc = 1;
    return rc;
}
