/* model/adapter.c — merging a llama.cpp LoRA adapter GGUF into f32 weights
 * (see model/adapter.h).  The product B A goes to one sgemm per tensor. */
#include "model/adapter.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const slm_gguf_tensor *a, *b;
    float *w; /* (out, in) */
    int64_t in, out, r;
} lora_pair;

static slm_status check_str(const slm_gguf *g, const char *key, const char *want) {
    const char *v;
    uint64_t n;
    slm_status st = slm_gguf_get_str(g, key, true, &v, &n);
    if (st != SLM_OK) return st;
    if (n != strlen(want) || memcmp(v, want, n) != 0) {
        slm_log_error("%s: %s is '%.*s', expected '%s' (is this a llama.cpp LoRA adapter "
                      "for a Llama model?)", slm_gguf_path(g), key, (int)(n > 64 ? 64 : n), v, want);
        return SLM_ERR_FORMAT;
    }
    return SLM_OK;
}

slm_status slm_adapter_merge(const slm_gguf *g, float user_scale, slm_llama_weights *w) {
    const char *path = slm_gguf_path(g);
    slm_status st;
    if ((st = check_str(g, "general.type", "adapter")) != SLM_OK ||
        (st = check_str(g, "adapter.type", "lora")) != SLM_OK ||
        (st = check_str(g, "general.architecture", "llama")) != SLM_OK)
        return st;
    float alpha = 0.0f;
    if ((st = slm_gguf_get_f32(g, "adapter.lora.alpha", false, &alpha)) != SLM_OK) return st;
    const int64_t nt = slm_gguf_n_tensors(g), nw = slm_llama_n_tensors(w);
    lora_pair *pairs = slm_calloc((size_t)(nt > 0 ? nt : 1), sizeof *pairs);
    if (!pairs) return SLM_ERR_NOMEM;
    int64_t np = 0;
    st = SLM_OK;
    /* pass 1: pair up and validate everything */
    for (int64_t i = 0; i < nt && st == SLM_OK; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        size_t len = strlen(t->name);
        bool is_a = len > 7 && !strcmp(t->name + len - 7, ".lora_a");
        bool is_b = len > 7 && !strcmp(t->name + len - 7, ".lora_b");
        if (!is_a && !is_b) {
            slm_log_error("%s: tensor '%s' is neither <name>.lora_a nor <name>.lora_b", path, t->name);
            st = SLM_ERR_FORMAT;
            break;
        }
        if (is_b) continue; /* found from its lora_a */
        char base[128], bname[136];
        snprintf(base, sizeof base, "%.*s", (int)(len - 7), t->name);
        snprintf(bname, sizeof bname, "%s.lora_b", base);
        const slm_gguf_tensor *b = slm_gguf_find_tensor(g, bname);
        slm_llama_tensor_ref ref = {0};
        bool found = false;
        for (int64_t j = 0; j < nw && !found; j++) {
            slm_llama_tensor(w, j, &ref);
            found = !strcmp(ref.name, base);
        }
        if (!b || !found || ref.n_dims != 2) {
            slm_log_error("%s: '%s': %s", path, t->name,
                          !b ? "its .lora_b tensor is missing"
                             : "no 2-D weight of the model has that base name");
            st = SLM_ERR_FORMAT;
            break;
        }
        if (w->hp.tied_output && (ref.kind == SLM_W_OUTPUT || ref.kind == SLM_W_TOKEN_EMBD)) {
            slm_log_error("%s: '%s' adapts %s, which the model ties to the other embedding; "
                          "slm merges adapters and cannot adapt one without the other", path,
                          t->name, base);
            st = SLM_ERR_FORMAT;
            break;
        }
        const int64_t r = t->ne[1];
        if (t->n_dims != 2 || b->n_dims != 2 || t->ne[0] != ref.ne[0] || b->ne[1] != ref.ne[1] ||
            b->ne[0] != r || r <= 0) {
            slm_log_error("%s: '%s' ne = [%lld, %lld] and '%s' ne = [%lld, %lld] do not fit "
                          "weight '%s' ne = [%lld, %lld]; expected [in, r] and [r, out]",
                          path, t->name, (long long)t->ne[0], (long long)t->ne[1], bname,
                          (long long)b->ne[0], (long long)b->ne[1], base,
                          (long long)ref.ne[0], (long long)ref.ne[1]);
            st = SLM_ERR_FORMAT;
            break;
        }
        pairs[np++] = (lora_pair){t, b, ref.data, ref.ne[0], ref.ne[1], r};
    }
    /* every lora_b has its lora_a */
    for (int64_t i = 0; i < nt && st == SLM_OK; i++) {
        const slm_gguf_tensor *t = slm_gguf_tensor_at(g, i);
        size_t len = strlen(t->name);
        if (len > 7 && !strcmp(t->name + len - 7, ".lora_b")) {
            char aname[136];
            snprintf(aname, sizeof aname, "%.*s.lora_a", (int)(len - 7), t->name);
            if (!slm_gguf_find_tensor(g, aname)) {
                slm_log_error("%s: '%s' has no matching '%s'", path, t->name, aname);
                st = SLM_ERR_FORMAT;
            }
        }
    }
    /* pass 2: W += scale * B A */
    for (int64_t i = 0; i < np && st == SLM_OK; i++) {
        lora_pair *p = &pairs[i];
        float *A = slm_alloc((size_t)(p->r * p->in) * sizeof(float));
        float *B = slm_alloc((size_t)(p->out * p->r) * sizeof(float));
        if (!A || !B) st = SLM_ERR_NOMEM;
        if (st == SLM_OK) st = slm_llama_dequantize(path, p->a, A);
        if (st == SLM_OK) st = slm_llama_dequantize(path, p->b, B);
        if (st == SLM_OK) {
            const float scale = alpha != 0.0f ? user_scale * alpha / (float)p->r : user_scale;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->out, (int)p->in,
                        (int)p->r, scale, B, (int)p->r, A, (int)p->in, 1.0f, p->w, (int)p->in);
        }
        slm_free(A);
        slm_free(B);
    }
    if (st == SLM_OK) slm_log_info("%s: merged %lld LoRA tensors (alpha %g)", path, (long long)np, (double)alpha);
    slm_free(pairs);
    return st;
}

slm_status slm_adapter_merge_file(const char *path, float user_scale, slm_llama_weights *w) {
    slm_gguf *g;
    slm_status st = slm_gguf_open(path, &g);
    if (st != SLM_OK) return st;
    st = slm_adapter_merge(g, user_scale, w);
    slm_gguf_close(g);
    return st;
}
