/* tests/unit/test_llama_train.c — the trainable Llama graph (model/llama_train.c).
 *
 * - the training forward gives the same logits as the inference forward
 *   (model/infer.c, written independently) to LOGIT_TOL max-abs;
 * - whole-model gradients (full and LoRA, tied and untied head, GQA, odd T)
 *   against central finite differences of the cross-entropy loss computed by
 *   the training forward itself, in float: FD_EPS = 1e-2 on weights of
 *   magnitude ~0.3 makes the FD error ~1e-3 relative, hence FD_REL_TOL over a
 *   sample of FD_PER_TENSOR elements per tensor (norm ||g - g_fd||_2 / ||g_fd||_2);
 *   the tight check (1e-4) is the PyTorch reference, tests/e2e/test_autograd_torch.sh;
 * - LoRA with B = 0 leaves the logits equal to the base model's;
 * - a second step allocates nothing and repeats the first bit for bit;
 * - merging LoRA into the weights reproduces the adapted logits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ops.h"
#include "model/adapter.h"
#include "model/infer.h"
#include "model/llama_train.h"
#include "model/lora.h"

#define LOGIT_TOL 1e-4
#define FD_EPS 1e-2f
#define FD_REL_TOL 2e-2
#define FD_PER_TENSOR 6
#define MERGE_TOL 1e-4

static void make_model(slm_llama_weights *w, bool tied, uint64_t seed) {
    slm_llama_hparams hp = {.n_vocab = 37, .n_embd = 16, .n_layer = 2, .n_head = 4,
                            .n_head_kv = 2, .head_dim = 4, .n_ff = 24, .n_ctx = 64,
                            .rms_eps = 1e-5f, .rope_base = 10000.0f, .tied_output = tied};
    assert_int_equal(slm_llama_weights_alloc(&hp, w), SLM_OK);
    slm_rng r;
    slm_rng_seed(&r, seed);
    for (int64_t i = 0; i < slm_llama_n_tensors(w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(w, i, &t);
        const int64_t n = t.ne[0] * t.ne[1];
        for (int64_t j = 0; j < n; j++)
            t.data[j] = t.n_dims == 1 ? 0.8f + 0.4f * slm_rng_uniform(&r)
                                      : 0.6f * (slm_rng_uniform(&r) - 0.5f);
    }
}

static void make_batch(int32_t *tok, int32_t *tgt, int64_t N, int64_t V, uint64_t seed) {
    slm_rng r;
    slm_rng_seed(&r, seed);
    for (int64_t i = 0; i < N; i++) {
        tok[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
        tgt[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
    }
}

static double loss_only(slm_llama_train *tr, const int32_t *tok, const int32_t *tgt,
                        int64_t N, int64_t V) {
    float *lg = slm_llama_train_forward(tr, tok, NULL);
    return slm_cross_entropy_forward_backward(NULL, NULL, lg, tgt, NULL, N, V, 1.0f);
}

static double step(slm_llama_train *tr, const int32_t *tok, const int32_t *tgt, int64_t N,
                   int64_t V) {
    slm_llama_train_zero_grad(tr);
    float *lg = slm_llama_train_forward(tr, tok, NULL);
    double loss = slm_cross_entropy_forward_backward(lg, NULL, lg, tgt, NULL, N, V, 1.0f);
    slm_llama_train_backward(tr, lg);
    return loss;
}

static void test_forward_matches_inference(void **state) {
    (void)state;
    for (int tied = 0; tied < 2; tied++) {
        slm_llama_weights w;
        make_model(&w, tied, 10 + (uint64_t)tied);
        const int64_t B = 2, T = 7, V = w.hp.n_vocab, N = B * T;
        int32_t tok[14], tgt[14];
        make_batch(tok, tgt, N, V, 3);
        slm_llama_train_params p = slm_llama_train_default_params();
        p.B = B, p.T = T;
        slm_rng rng;
        slm_rng_seed(&rng, 1);
        slm_llama_train *tr;
        assert_int_equal(slm_llama_train_init(&w, &p, &rng, &tr), SLM_OK);
        const float *a = slm_llama_train_forward(tr, tok, NULL);
        slm_llama_infer_params ip = slm_llama_infer_default_params();
        ip.B = B, ip.T_max = T, ip.all_logits = true;
        slm_llama_infer *inf;
        assert_int_equal(slm_llama_infer_init(&w, &ip, &inf), SLM_OK);
        const float *b = slm_llama_infer_forward(inf, tok, T, SLM_LOGITS_ALL);
        double md = 0;
        for (int64_t i = 0; i < N * V; i++) md = fmax(md, fabs((double)a[i] - b[i]));
        printf("  tied=%d train vs infer logits max-abs %.2e\n", tied, md);
        assert_true(md <= LOGIT_TOL);
        slm_llama_infer_free(inf);
        slm_llama_train_free(tr);
        slm_llama_weights_free(&w);
    }
}

static void fd_check(slm_llama_train *tr, const int32_t *tok, const int32_t *tgt, int64_t N,
                     int64_t V) {
    step(tr, tok, tgt, N, V);
    const slm_param_list *pl = slm_llama_train_param_list(tr);
    slm_rng r;
    slm_rng_seed(&r, 77);
    double worst = 0;
    for (int64_t t = 0; t < pl->n; t++) {
        const slm_param *p = &pl->v[t];
        double num2 = 0, den2 = 0;
        for (int s = 0; s < FD_PER_TENSOR; s++) {
            int64_t i = (int64_t)slm_rng_below(&r, (uint64_t)p->n);
            float x0 = p->data[i];
            p->data[i] = x0 + FD_EPS;
            double lp = loss_only(tr, tok, tgt, N, V);
            p->data[i] = x0 - FD_EPS;
            double lm = loss_only(tr, tok, tgt, N, V);
            p->data[i] = x0;
            double fd = (lp - lm) / (2.0 * FD_EPS), g = p->grad[i];
            num2 += (g - fd) * (g - fd);
            den2 += fd * fd;
        }
        double rel = sqrt(num2) / (sqrt(den2) + 1e-12);
        if (rel > FD_REL_TOL) printf("  %-32s rel %.2e (|g_fd| %.2e)\n", p->name, rel, sqrt(den2));
        /* a tensor with near-zero gradient on the sample is judged absolutely */
        assert_true(rel <= FD_REL_TOL || sqrt(num2) < 1e-4);
        if (sqrt(den2) > 1e-3) worst = fmax(worst, rel);
    }
    printf("  %lld tensors, worst rel L2 err vs FD %.2e\n", (long long)pl->n, worst);
}

static void test_full_grad_fd(void **state) {
    (void)state;
    for (int tied = 0; tied < 2; tied++) {
        slm_llama_weights w;
        make_model(&w, tied, 20 + (uint64_t)tied);
        const int64_t B = 2, T = 5, V = w.hp.n_vocab, N = B * T;
        int32_t tok[10], tgt[10];
        make_batch(tok, tgt, N, V, 4);
        slm_llama_train_params p = slm_llama_train_default_params();
        p.B = B, p.T = T;
        slm_rng rng;
        slm_rng_seed(&rng, 1);
        slm_llama_train *tr;
        assert_int_equal(slm_llama_train_init(&w, &p, &rng, &tr), SLM_OK);
        const slm_param_list *pl = slm_llama_train_param_list(tr);
        assert_int_equal(pl->n, 1 + 9 * 2 + 1 + (tied ? 0 : 1));
        assert_false(pl->v[0].decay);                    /* token_embd */
        assert_false(pl->v[1].decay);                    /* blk.0.attn_norm */
        assert_true(pl->v[2].decay);                     /* blk.0.attn_q */
        fd_check(tr, tok, tgt, N, V);
        slm_llama_train_free(tr);
        slm_llama_weights_free(&w);
    }
}

static void test_lora(void **state) {
    (void)state;
    slm_llama_weights w;
    make_model(&w, false, 30);
    const int64_t B = 1, T = 9, V = w.hp.n_vocab, N = B * T;
    int32_t tok[9], tgt[9];
    make_batch(tok, tgt, N, V, 5);
    slm_llama_train_params p = slm_llama_train_default_params();
    p.B = B, p.T = T, p.lora = true, p.lora_rank = 3, p.lora_alpha = 5.0f;
    p.lora_targets = SLM_LORA_ALL;
    slm_rng rng;
    slm_rng_seed(&rng, 2);
    slm_llama_train *base, *tr;
    slm_llama_train_params pf = p;
    pf.lora = false;
    assert_int_equal(slm_llama_train_init(&w, &pf, &rng, &base), SLM_OK);
    assert_int_equal(slm_llama_train_init(&w, &p, &rng, &tr), SLM_OK);
    const slm_param_list *pl = slm_llama_train_param_list(tr);
    assert_int_equal(pl->n, 2 * 7 * 2);
    assert_string_equal(pl->v[0].name, "blk.0.attn_q.weight.lora_a");
    assert_int_equal(pl->v[0].ne[0], 16);
    assert_int_equal(pl->v[0].ne[1], 3);
    /* B = 0: the adapted model is the base model */
    float *lb = slm_llama_train_forward(base, tok, NULL);
    float *la = slm_llama_train_forward(tr, tok, NULL);
    assert_memory_equal(la, lb, (size_t)(N * V) * sizeof(float));
    /* non-zero B, then gradients of A and B against FD */
    slm_rng r;
    slm_rng_seed(&r, 9);
    for (int64_t t = 1; t < pl->n; t += 2)
        for (int64_t j = 0; j < pl->v[t].n; j++) pl->v[t].data[j] = 0.3f * (slm_rng_uniform(&r) - 0.5f);
    fd_check(tr, tok, tgt, N, V);
    /* merged weights give the adapted logits */
    float *lad = slm_alloc((size_t)(N * V) * sizeof(float));
    memcpy(lad, slm_llama_train_forward(tr, tok, NULL), (size_t)(N * V) * sizeof(float));
    slm_llama_weights w2; /* the base, for model/adapter.c below */
    assert_int_equal(slm_llama_weights_alloc(&w.hp, &w2), SLM_OK);
    memcpy(w2.mem, w.mem, w.n_floats * sizeof(float));
    assert_int_equal(slm_lora_merge(&w, pl, slm_lora_scale(5.0f, 3, false)), SLM_OK);
    float *lm = slm_llama_train_forward(base, tok, NULL);
    double md = 0;
    for (int64_t i = 0; i < N * V; i++) md = fmax(md, fabs((double)lad[i] - lm[i]));
    printf("  merged vs adapter logits max-abs %.2e\n", md);
    assert_true(md <= MERGE_TOL);
    /* adapter GGUF: written, read back by the GGUF reader */
    char path[] = "/tmp/slm_test_adapterXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    slm_gguf_writer *gw;
    assert_int_equal(slm_lora_adapter_writer(pl, slm_lora_adapter_alpha(5.0f, 3, false), &gw), SLM_OK);
    assert_int_equal(slm_gguf_writer_write(gw, path), SLM_OK);
    slm_gguf_writer_free(gw);
    slm_gguf *g;
    assert_int_equal(slm_gguf_open(path, &g), SLM_OK);
    const char *sv;
    uint64_t sl;
    assert_int_equal(slm_gguf_get_str(g, "general.type", true, &sv, &sl), SLM_OK);
    assert_true(sl == 7 && memcmp(sv, "adapter", 7) == 0);
    assert_int_equal(slm_gguf_get_str(g, "adapter.type", true, &sv, &sl), SLM_OK);
    assert_true(sl == 4 && memcmp(sv, "lora", 4) == 0);
    float alpha;
    assert_int_equal(slm_gguf_get_f32(g, "adapter.lora.alpha", true, &alpha), SLM_OK);
    assert_true(alpha == 5.0f);
    assert_int_equal(slm_gguf_n_tensors(g), pl->n);
    const slm_gguf_tensor *tb = slm_gguf_find_tensor(g, "blk.1.ffn_down.weight.lora_b");
    assert_non_null(tb);
    assert_int_equal(tb->ne[0], 3);  /* r */
    assert_int_equal(tb->ne[1], 16); /* out = C */
    const slm_param *pb = NULL;
    for (int64_t t = 0; t < pl->n; t++)
        if (strcmp(pl->v[t].name, "blk.1.ffn_down.weight.lora_b") == 0) pb = &pl->v[t];
    assert_non_null(pb);
    assert_memory_equal(tb->data, pb->data, (size_t)pb->n * sizeof(float));
    slm_gguf_close(g);
    /* the inference side (model/adapter.c, llama.cpp's scale alpha / r) reads
     * it back to the same merged weights */
    assert_int_equal(slm_adapter_merge_file(path, 1.0f, &w2), SLM_OK);
    double mw = 0;
    for (size_t i = 0; i < w.n_floats; i++) mw = fmax(mw, fabs((double)w.mem[i] - w2.mem[i]));
    printf("  adapter GGUF merged by model/adapter.c vs slm_lora_merge: max-abs %.2e\n", mw);
    assert_true(mw <= MERGE_TOL);
    slm_llama_weights_free(&w2);
    unlink(path);
    slm_free(lad);
    slm_llama_train_free(tr);
    slm_llama_train_free(base);
    slm_llama_weights_free(&w);
}

static void test_repeatable_and_no_growth(void **state) {
    (void)state;
    slm_llama_weights w;
    make_model(&w, false, 40);
    const int64_t B = 3, T = 67, V = w.hp.n_vocab, N = B * T;
    int32_t *tok = slm_alloc((size_t)N * 4), *tgt = slm_alloc((size_t)N * 4);
    make_batch(tok, tgt, N, V, 6);
    slm_llama_train_params p = slm_llama_train_default_params();
    p.B = B, p.T = T, p.lora = true, p.lora_rank = 2, p.lora_dropout = 0.25f;
    slm_rng rng;
    slm_rng_seed(&rng, 3);
    slm_llama_train *tr;
    assert_int_equal(slm_llama_train_init(&w, &p, &rng, &tr), SLM_OK);
    const slm_param_list *pl = slm_llama_train_param_list(tr);
    for (int64_t t = 1; t < pl->n; t += 2)
        for (int64_t j = 0; j < pl->v[t].n; j++) pl->v[t].data[j] = 0.01f * (float)(j % 7);
    size_t bytes[3];
    float *g1 = slm_alloc(sizeof(float) * (size_t)pl->v[0].n);
    for (int s = 0; s < 3; s++) {
        slm_rng dr;
        slm_rng_seed(&dr, 99); /* same dropout masks every step */
        slm_llama_train_zero_grad(tr);
        float *lg = slm_llama_train_forward(tr, tok, &dr);
        slm_cross_entropy_forward_backward(lg, NULL, lg, tgt, NULL, N, V, 1.0f);
        slm_llama_train_backward(tr, lg);
        bytes[s] = slm_llama_train_arena_bytes(tr);
        if (s == 0) memcpy(g1, pl->v[0].grad, sizeof(float) * (size_t)pl->v[0].n);
        else assert_memory_equal(g1, pl->v[0].grad, sizeof(float) * (size_t)pl->v[0].n);
    }
    assert_true(bytes[1] == bytes[2]);
    slm_free(g1);
    slm_free(tok);
    slm_free(tgt);
    slm_llama_train_free(tr);
    slm_llama_weights_free(&w);
}

static void test_parse_targets(void **state) {
    (void)state;
    uint32_t t;
    assert_int_equal(slm_lora_parse_targets("q, v,down", &t), SLM_OK);
    assert_int_equal(t, SLM_LORA_Q | SLM_LORA_V | SLM_LORA_DOWN);
    assert_int_equal(slm_lora_parse_targets("all", &t), SLM_OK);
    assert_int_equal(t, SLM_LORA_ALL);
    assert_int_equal(slm_lora_parse_targets("q,x", &t), SLM_ERR_USAGE);
    assert_int_equal(slm_lora_parse_targets("", &t), SLM_ERR_USAGE);
    assert_true(fabsf(slm_lora_scale(16, 16, false) - 1.0f) < 1e-7f);
    assert_true(fabsf(slm_lora_scale(16, 16, true) - 4.0f) < 1e-6f);
    assert_true(fabsf(slm_lora_adapter_alpha(16, 16, true) - 64.0f) < 1e-4f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_inference),
        cmocka_unit_test(test_full_grad_fd),
        cmocka_unit_test(test_lora),
        cmocka_unit_test(test_repeatable_and_no_growth),
        cmocka_unit_test(test_parse_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
