/* tests/unit/test_model_gguf.c — model/llama.c's GGUF side: save -> load
 * round trips (F32 exact, F16/BF16 equal to the rounded values, 1-D norms
 * kept F32, tied output not duplicated, hyper-parameters and copied
 * tokenizer keys), tensor iteration order, and files that must be refused
 * (wrong architecture, missing tensor, wrong shape, inconsistent heads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gguf.h"
#include "model/llama.h"

static char g_dir[] = "/tmp/slm_test_model_gguf_XXXXXX";

static void path_of(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", g_dir, name);
}

static void make_weights(slm_llama_weights *w, bool tied) {
    slm_llama_hparams hp = {.n_vocab = 50, .n_embd = 32, .n_layer = 2, .n_head = 4,
                            .n_head_kv = 2, .head_dim = 8, .n_ff = 48, .n_ctx = 128,
                            .rms_eps = 1e-6f, .rope_base = 500000.0f, .tied_output = tied};
    assert_int_equal(slm_llama_weights_alloc(&hp, w), SLM_OK);
    slm_rng r;
    slm_rng_seed(&r, 4);
    for (int64_t i = 0; i < slm_llama_n_tensors(w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(w, i, &t);
        for (int64_t j = 0; j < t.ne[0] * t.ne[1]; j++) t.data[j] = slm_rng_normal(&r);
    }
}

static void roundtrip(slm_type type, bool tied) {
    slm_llama_weights w, w2;
    make_weights(&w, tied);
    char path[256];
    path_of(path, sizeof path, "rt.gguf");
    /* a metadata source with a tokenizer key and a stale llama.* key */
    slm_gguf_writer *src = slm_gguf_writer_new();
    slm_gguf_set_str(src, "general.architecture", "llama");
    slm_gguf_set_str(src, "general.name", "tiny");
    slm_gguf_set_u32(src, "llama.block_count", 99);
    slm_gguf_set_str(src, "tokenizer.ggml.model", "llama");
    char spath[256];
    path_of(spath, sizeof spath, "src.gguf");
    assert_int_equal(slm_gguf_writer_write(src, spath), SLM_OK);
    slm_gguf_writer_free(src);
    slm_gguf *sg;
    assert_int_equal(slm_gguf_open(spath, &sg), SLM_OK);
    assert_int_equal(slm_llama_save_gguf(&w, sg, type, path), SLM_OK);
    slm_gguf_close(sg);

    slm_gguf *g;
    assert_int_equal(slm_llama_load(path, &g, &w2), SLM_OK);
    assert_int_equal(slm_gguf_n_tensors(g), slm_llama_n_tensors(&w));
    assert_int_equal(slm_gguf_n_tensors(g), 1 + 9 * 2 + 1 + (tied ? 0 : 1));
    const slm_llama_hparams *a = &w.hp, *b = &w2.hp;
    assert_int_equal(a->n_vocab, b->n_vocab);
    assert_int_equal(a->n_embd, b->n_embd);
    assert_int_equal(a->n_layer, b->n_layer); /* not the stale 99 of the source */
    assert_int_equal(a->n_head_kv, b->n_head_kv);
    assert_int_equal(a->n_ff, b->n_ff);
    assert_int_equal(a->n_ctx, b->n_ctx);
    assert_true(a->rms_eps == b->rms_eps && a->rope_base == b->rope_base);
    assert_int_equal(a->tied_output, b->tied_output);
    const char *s;
    uint64_t len;
    assert_int_equal(slm_gguf_get_str(g, "tokenizer.ggml.model", true, &s, &len), SLM_OK);
    assert_true(len == 5 && !memcmp(s, "llama", 5));
    uint32_t ft = 99;
    assert_int_equal(slm_gguf_get_u32(g, "general.file_type", true, &ft), SLM_OK);
    assert_int_equal(ft, type == SLM_TYPE_F32 ? 0 : type == SLM_TYPE_F16 ? 1 : 32);
    for (int64_t i = 0; i < slm_llama_n_tensors(&w); i++) {
        slm_llama_tensor_ref t1, t2;
        slm_llama_tensor(&w, i, &t1);
        slm_llama_tensor(&w2, i, &t2);
        assert_string_equal(t1.name, t2.name);
        const slm_gguf_tensor *gt = slm_gguf_find_tensor(g, t1.name);
        assert_non_null(gt);
        assert_int_equal(gt->type, t1.n_dims == 1 ? SLM_TYPE_F32 : type);
        for (int64_t j = 0; j < t1.ne[0] * t1.ne[1]; j++) {
            float want = t1.data[j];
            if (t1.n_dims == 2 && type == SLM_TYPE_F16) want = slm_f16_to_f32(slm_f32_to_f16(want));
            if (t1.n_dims == 2 && type == SLM_TYPE_BF16) want = slm_bf16_to_f32(slm_f32_to_bf16(want));
            if (t2.data[j] != want) fail_msg("%s[%lld]: %g != %g", t1.name, (long long)j, t2.data[j], want);
        }
    }
    slm_gguf_close(g);
    slm_llama_weights_free(&w);
    slm_llama_weights_free(&w2);
    unlink(path), unlink(spath);
}

static void test_roundtrip_f32(void **st) { (void)st; roundtrip(SLM_TYPE_F32, false); }
static void test_roundtrip_f32_tied(void **st) { (void)st; roundtrip(SLM_TYPE_F32, true); }
static void test_roundtrip_f16(void **st) { (void)st; roundtrip(SLM_TYPE_F16, false); }
static void test_roundtrip_bf16(void **st) { (void)st; roundtrip(SLM_TYPE_BF16, true); }

static void test_tensor_order(void **st) {
    (void)st;
    slm_llama_weights w;
    make_weights(&w, false);
    slm_llama_tensor_ref t;
    slm_llama_tensor(&w, 0, &t);
    assert_string_equal(t.name, "token_embd.weight");
    assert_true(t.ne[0] == 32 && t.ne[1] == 50);
    slm_llama_tensor(&w, 2, &t);
    assert_string_equal(t.name, "blk.0.attn_q.weight");
    slm_llama_tensor(&w, 3, &t);
    assert_string_equal(t.name, "blk.0.attn_k.weight");
    assert_true(t.ne[0] == 32 && t.ne[1] == 16 && t.data == w.layers[0].wk);
    slm_llama_tensor(&w, 9, &t);
    assert_string_equal(t.name, "blk.0.ffn_down.weight");
    assert_true(t.ne[0] == 48 && t.ne[1] == 32 && t.layer == 0);
    slm_llama_tensor(&w, 19, &t);
    assert_string_equal(t.name, "output_norm.weight");
    assert_int_equal(t.n_dims, 1);
    slm_llama_tensor(&w, 20, &t);
    assert_string_equal(t.name, "output.weight");
    slm_llama_weights_free(&w);
}

/* Writes the weights, then edits one thing through mutate before writing. */
typedef void (*mutate_fn)(slm_gguf_writer *gw, const slm_llama_weights *w);

static slm_status load_mutated(mutate_fn mutate, bool skip_q0) {
    slm_llama_weights w, w2;
    make_weights(&w, false);
    slm_gguf_writer *gw = slm_gguf_writer_new();
    slm_gguf_set_str(gw, "general.architecture", "llama");
    slm_gguf_set_u32(gw, "llama.embedding_length", 32);
    slm_gguf_set_u32(gw, "llama.block_count", 2);
    slm_gguf_set_u32(gw, "llama.feed_forward_length", 48);
    slm_gguf_set_u32(gw, "llama.attention.head_count", 4);
    slm_gguf_set_u32(gw, "llama.attention.head_count_kv", 2);
    for (int64_t i = 0; i < slm_llama_n_tensors(&w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(&w, i, &t);
        if (skip_q0 && !strcmp(t.name, "blk.0.attn_q.weight")) continue;
        slm_gguf_add_tensor(gw, t.name, SLM_TYPE_F32, t.n_dims, t.ne, t.data);
    }
    if (mutate) mutate(gw, &w);
    char path[256];
    path_of(path, sizeof path, "bad.gguf");
    assert_int_equal(slm_gguf_writer_write(gw, path), SLM_OK);
    slm_gguf_writer_free(gw);
    slm_gguf *g = NULL;
    slm_status st = slm_llama_load(path, &g, &w2);
    if (st == SLM_OK) slm_llama_weights_free(&w2), slm_gguf_close(g);
    else assert_null(g);
    slm_llama_weights_free(&w);
    unlink(path);
    return st;
}

static void m_arch(slm_gguf_writer *gw, const slm_llama_weights *w) {
    (void)w;
    slm_gguf_set_str(gw, "general.architecture", "gpt2");
}
static void m_heads(slm_gguf_writer *gw, const slm_llama_weights *w) {
    (void)w;
    slm_gguf_set_u32(gw, "llama.attention.head_count_kv", 3);
}
static void m_rope_dim(slm_gguf_writer *gw, const slm_llama_weights *w) {
    (void)w;
    slm_gguf_set_u32(gw, "llama.rope.dimension_count", 4);
}
static void m_missing_key(slm_gguf_writer *gw, const slm_llama_weights *w) {
    (void)w;
    slm_gguf_remove_key(gw, "llama.feed_forward_length");
}
static void m_wrong_shape(slm_gguf_writer *gw, const slm_llama_weights *w) {
    const int64_t ne[2] = {32, 31}; /* attn_q must be [32, 32] */
    slm_gguf_add_tensor(gw, "blk.0.attn_q.weight", SLM_TYPE_F32, 2, ne, w->layers[0].wq);
}

static void test_refused(void **st) {
    (void)st;
    assert_int_equal(load_mutated(NULL, false), SLM_OK); /* the control case loads */
    assert_int_equal(load_mutated(m_arch, false), SLM_ERR_FORMAT);
    assert_int_equal(load_mutated(m_heads, false), SLM_ERR_FORMAT);
    assert_int_equal(load_mutated(m_rope_dim, false), SLM_ERR_FORMAT);
    assert_int_equal(load_mutated(m_missing_key, false), SLM_ERR_FORMAT);
    assert_int_equal(load_mutated(NULL, true), SLM_ERR_FORMAT);        /* missing tensor */
    assert_int_equal(load_mutated(m_wrong_shape, true), SLM_ERR_FORMAT);
}

static int setup(void **st) {
    (void)st;
    return mkdtemp(g_dir) ? 0 : -1;
}
static int teardown(void **st) {
    (void)st;
    return rmdir(g_dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_f32), cmocka_unit_test(test_roundtrip_f32_tied),
        cmocka_unit_test(test_roundtrip_f16), cmocka_unit_test(test_roundtrip_bf16),
        cmocka_unit_test(test_tensor_order),  cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
