/* tests/unit/test_llama_grad_ready.c — the gradient-ready hook of the
 * training graph (model/llama_train.h, used by the overlapped MPI
 * all-reduce, docs/mpi.md), for full training (tied and untied head) and
 * LoRA:
 * - the stages fire once each, in order 0, 1, ..., n-1, during backward;
 * - when stage s fires, the gradient of every parameter of stage s equals
 *   (bit for bit) its value after the whole backward: it is final;
 * - gradients of later stages are still untouched (zero) at that moment,
 *   except the tied embedding, which the head writes first (it belongs to
 *   the last stage for that reason);
 * - stage numbers: layer l is stage 1 + (L-1-l), output_norm 0, token_embd L+1;
 * - with and without the hook the gradients are bit-identical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "model/llama_train.h"

#define N_LAYER 3
#define MAX_EVENTS 64

typedef struct {
    slm_llama_train *tr;
    const slm_param_list *pl;
    float **snap;     /* [param] copy of the grad when its stage fired */
    int64_t events[MAX_EVENTS];
    int64_t n_events;
    int64_t early_writes; /* later-stage grads found non-zero at a stage event */
} hook_state;

static bool all_zero(const float *g, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (g[i] != 0.0f) return false;
    return true;
}

static void on_ready(void *ctx, int64_t stage) {
    hook_state *h = ctx;
    assert_true(h->n_events < MAX_EVENTS);
    h->events[h->n_events++] = stage;
    for (int64_t i = 0; i < h->pl->n; i++) {
        const slm_param *p = &h->pl->v[i];
        int64_t s = slm_llama_train_param_stage(h->tr, i);
        if (s == stage) memcpy(h->snap[i], p->grad, (size_t)p->n * sizeof(float));
        if (s > stage && strncmp(p->name, "token_embd", 10) != 0 && !all_zero(p->grad, p->n))
            h->early_writes++;
    }
}

static void make_model(slm_llama_weights *w, bool tied) {
    slm_llama_hparams hp = {.n_vocab = 29, .n_embd = 16, .n_layer = N_LAYER, .n_head = 4,
                            .n_head_kv = 2, .head_dim = 4, .n_ff = 24, .n_ctx = 32,
                            .rms_eps = 1e-5f, .rope_base = 10000.0f, .tied_output = tied};
    assert_int_equal(slm_llama_weights_alloc(&hp, w), SLM_OK);
    slm_rng r;
    slm_rng_seed(&r, 5);
    for (int64_t i = 0; i < slm_llama_n_tensors(w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(w, i, &t);
        for (int64_t j = 0; j < t.ne[0] * t.ne[1]; j++)
            t.data[j] = t.n_dims == 1 ? 0.8f + 0.4f * slm_rng_uniform(&r)
                                      : 0.6f * (slm_rng_uniform(&r) - 0.5f);
    }
}

/* zero grads, forward, CE loss, backward on a fixed batch */
static void run_step(slm_llama_train *tr, int64_t B, int64_t T, int64_t V) {
    int32_t tok[64], tgt[64];
    slm_rng r;
    slm_rng_seed(&r, 11);
    for (int64_t i = 0; i < B * T; i++) {
        tok[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
        tgt[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
    }
    slm_llama_train_zero_grad(tr);
    slm_rng drop;
    slm_rng_seed(&drop, 3);
    float *lg = slm_llama_train_forward(tr, tok, &drop);
    slm_cross_entropy_forward_backward(lg, NULL, lg, tgt, NULL, B * T, V, 1.0f);
    slm_llama_train_backward(tr, lg);
}

static void check_mode(bool lora, bool tied) {
    slm_llama_weights w;
    make_model(&w, tied);
    slm_llama_train_params p = slm_llama_train_default_params();
    p.B = 2, p.T = 5, p.lora = lora, p.lora_rank = 3, p.lora_dropout = lora ? 0.1f : 0.0f;
    slm_rng r;
    slm_rng_seed(&r, 9);
    slm_llama_train *tr;
    assert_int_equal(slm_llama_train_init(&w, &p, &r, &tr), SLM_OK);
    const slm_param_list *pl = slm_llama_train_param_list(tr);
    const int64_t L = N_LAYER, n_stages = slm_llama_train_n_stages(tr), V = w.hp.n_vocab;
    assert_int_equal(n_stages, L + 2);

    /* stage numbers from the names */
    for (int64_t i = 0; i < pl->n; i++) {
        int64_t s = slm_llama_train_param_stage(tr, i), l = -1;
        if (sscanf(pl->v[i].name, "blk.%ld.", &l) == 1) assert_int_equal(s, 1 + (L - 1 - l));
        else if (!strcmp(pl->v[i].name, "token_embd.weight")) assert_int_equal(s, L + 1);
        else assert_int_equal(s, 0);
    }

    /* reference: no hook */
    run_step(tr, p.B, p.T, V);
    float **ref = calloc((size_t)pl->n, sizeof *ref);
    hook_state h = {.tr = tr, .pl = pl, .snap = calloc((size_t)pl->n, sizeof(float *))};
    for (int64_t i = 0; i < pl->n; i++) {
        ref[i] = malloc((size_t)pl->v[i].n * sizeof(float));
        h.snap[i] = malloc((size_t)pl->v[i].n * sizeof(float));
        memcpy(ref[i], pl->v[i].grad, (size_t)pl->v[i].n * sizeof(float));
        for (int64_t j = 0; j < pl->v[i].n; j++) h.snap[i][j] = -12345.0f; /* "never copied" */
    }

    slm_llama_train_set_grad_ready(tr, on_ready, &h);
    run_step(tr, p.B, p.T, V);
    assert_int_equal(h.n_events, n_stages);
    for (int64_t k = 0; k < n_stages; k++) assert_int_equal(h.events[k], k);
    assert_int_equal(h.early_writes, 0);
    int64_t nonzero = 0;
    for (int64_t i = 0; i < pl->n; i++) {
        const size_t bytes = (size_t)pl->v[i].n * sizeof(float);
        /* final when its stage fired, and the hook changed nothing */
        if (memcmp(h.snap[i], pl->v[i].grad, bytes) != 0)
            fail_msg("%s: gradient changed after its stage fired", pl->v[i].name);
        if (memcmp(ref[i], pl->v[i].grad, bytes) != 0)
            fail_msg("%s: gradient differs with the hook set", pl->v[i].name);
        nonzero += !all_zero(pl->v[i].grad, pl->v[i].n);
    }
    /* LoRA B starts at zero, so dA = 0; every other tensor has a gradient */
    assert_true(nonzero >= (lora ? pl->n / 2 : pl->n));

    /* unset: no more events */
    slm_llama_train_set_grad_ready(tr, NULL, NULL);
    h.n_events = 0;
    run_step(tr, p.B, p.T, V);
    assert_int_equal(h.n_events, 0);

    for (int64_t i = 0; i < pl->n; i++) free(ref[i]), free(h.snap[i]);
    free(ref);
    free(h.snap);
    slm_llama_train_free(tr);
    slm_llama_weights_free(&w);
}

static void test_full_untied(void **state) {
    (void)state;
    check_mode(false, false);
}
static void test_full_tied(void **state) {
    (void)state;
    check_mode(false, true);
}
static void test_lora(void **state) {
    (void)state;
    check_mode(true, true);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_untied),
        cmocka_unit_test(test_full_tied),
        cmocka_unit_test(test_lora),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
