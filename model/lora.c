/* model/lora.c — LoRA adapter state, merge and adapter export; see lora.h. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/lora.h"
#include "model/llama_train.h"

static const char *const target_names[SLM_LORA_N_TARGETS] = {"q",    "k",  "v",   "o",
                                                             "gate", "up", "down"};
static const char *const target_stems[SLM_LORA_N_TARGETS] = {
    "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

const char *slm_lora_target_name(int i) {
    SLM_ASSERT(i >= 0 && i < SLM_LORA_N_TARGETS);
    return target_names[i];
}

const char *slm_lora_target_stem(int i) {
    SLM_ASSERT(i >= 0 && i < SLM_LORA_N_TARGETS);
    return target_stems[i];
}

void slm_lora_target_dims(const slm_llama_hparams *hp, int i, int64_t *in, int64_t *out) {
    const int64_t C = hp->n_embd, Q = hp->n_head * hp->head_dim,
                  KV = hp->n_head_kv * hp->head_dim, F = hp->n_ff;
    const int64_t ins[SLM_LORA_N_TARGETS] = {C, C, C, Q, C, C, F};
    const int64_t outs[SLM_LORA_N_TARGETS] = {Q, KV, KV, C, F, F, C};
    SLM_ASSERT(i >= 0 && i < SLM_LORA_N_TARGETS);
    *in = ins[i];
    *out = outs[i];
}

float *slm_lora_base_weight(const slm_llama_weights *w, int64_t l, int i) {
    const slm_llama_layer *L = &w->layers[l];
    float *ptrs[SLM_LORA_N_TARGETS] = {L->wq, L->wk, L->wv, L->wo, L->w_gate, L->w_up, L->w_down};
    SLM_ASSERT(i >= 0 && i < SLM_LORA_N_TARGETS);
    return ptrs[i];
}

float slm_lora_scale(float alpha, int64_t rank, bool rslora) {
    SLM_ASSERT(rank > 0);
    return rslora ? alpha / sqrtf((float)rank) : alpha / (float)rank;
}

float slm_lora_adapter_alpha(float alpha, int64_t rank, bool rslora) {
    return rslora ? alpha * sqrtf((float)rank) : alpha;
}

slm_status slm_lora_parse_targets(const char *s, uint32_t *out) {
    uint32_t bits = 0;
    const char *p = s;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t')) p++, n--;
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        bool found = false;
        if (n == 3 && strncmp(p, "all", 3) == 0) bits |= SLM_LORA_ALL, found = true;
        for (int i = 0; i < SLM_LORA_N_TARGETS && !found; i++)
            if (strlen(target_names[i]) == n && strncmp(p, target_names[i], n) == 0)
                bits |= 1u << i, found = true;
        if (!found) {
            slm_log_error("lora targets: unknown target '%.*s' in '%s' (expected a comma "
                          "list of q,k,v,o,gate,up,down or 'all')", (int)n, p, s);
            return SLM_ERR_USAGE;
        }
        p = e ? e + 1 : NULL;
    }
    if (bits == 0) {
        slm_log_error("lora targets: '%s' names no target (expected e.g. 'q,v' or 'all')", s);
        return SLM_ERR_USAGE;
    }
    *out = bits;
    return SLM_OK;
}

slm_status slm_lora_init(slm_lora *lo, const slm_llama_hparams *hp, int64_t rank,
                         uint32_t targets, float scale, slm_rng *rng) {
    memset(lo, 0, sizeof *lo);
    SLM_ASSERT(rank > 0 && rng);
    lo->n_layer = hp->n_layer, lo->rank = rank, lo->targets = targets, lo->scale = scale;
    const int64_t np = hp->n_layer * SLM_LORA_N_TARGETS;
    lo->pairs = slm_calloc((size_t)np, sizeof(slm_lora_pair));
    if (!lo->pairs) return SLM_ERR_NOMEM;
    int64_t total = 0; /* each tensor padded to 16 floats (64 bytes) */
    for (int64_t l = 0; l < hp->n_layer; l++)
        for (int i = 0; i < SLM_LORA_N_TARGETS; i++) {
            if (!(targets & (1u << i))) continue;
            int64_t in, out;
            slm_lora_target_dims(hp, i, &in, &out);
            total += (rank * in + 15) / 16 * 16 + (out * rank + 15) / 16 * 16;
        }
    lo->n_floats = total;
    lo->mem = slm_alloc_aligned((size_t)(total ? total : 1) * sizeof(float));
    lo->gmem = slm_alloc_aligned((size_t)(total ? total : 1) * sizeof(float));
    if (!lo->mem || !lo->gmem) {
        slm_lora_free(lo);
        return SLM_ERR_NOMEM;
    }
    float *p = lo->mem, *g = lo->gmem;
    for (int64_t l = 0; l < hp->n_layer; l++)
        for (int i = 0; i < SLM_LORA_N_TARGETS; i++) {
            if (!(targets & (1u << i))) continue;
            slm_lora_pair *pr = &lo->pairs[l * SLM_LORA_N_TARGETS + i];
            slm_lora_target_dims(hp, i, &pr->in, &pr->out);
            const int64_t na = (rank * pr->in + 15) / 16 * 16, nb = (pr->out * rank + 15) / 16 * 16;
            pr->a = p, pr->ga = g, p += na, g += na;
            pr->b = p, pr->gb = g, p += nb, g += nb;
            const float bound = 1.0f / sqrtf((float)pr->in);
            for (int64_t j = 0; j < rank * pr->in; j++)
                pr->a[j] = (2.0f * slm_rng_uniform(rng) - 1.0f) * bound;
            /* B stays zero (slm_alloc_aligned zeroes) */
        }
    return SLM_OK;
}

void slm_lora_free(slm_lora *lo) {
    if (!lo) return;
    slm_free(lo->pairs);
    slm_free(lo->mem);
    slm_free(lo->gmem);
    memset(lo, 0, sizeof *lo);
}

void slm_lora_fill_params(const slm_lora *lo, slm_param *v, int64_t *n) {
    for (int64_t l = 0; l < lo->n_layer; l++)
        for (int i = 0; i < SLM_LORA_N_TARGETS; i++) {
            const slm_lora_pair *pr = &lo->pairs[l * SLM_LORA_N_TARGETS + i];
            if (!pr->a) continue;
            slm_param *pa = &v[(*n)++], *pb = &v[(*n)++];
            memset(pa, 0, sizeof *pa);
            memset(pb, 0, sizeof *pb);
            snprintf(pa->name, sizeof pa->name, "blk.%lld.%s.weight.lora_a", (long long)l,
                     target_stems[i]);
            snprintf(pb->name, sizeof pb->name, "blk.%lld.%s.weight.lora_b", (long long)l,
                     target_stems[i]);
            pa->data = pr->a, pa->grad = pr->ga, pa->n = lo->rank * pr->in, pa->n_dims = 2;
            pa->ne[0] = pr->in, pa->ne[1] = lo->rank, pa->decay = true;
            pb->data = pr->b, pb->grad = pr->gb, pb->n = pr->out * lo->rank, pb->n_dims = 2;
            pb->ne[0] = lo->rank, pb->ne[1] = pr->out, pb->decay = true;
        }
}

/* "blk.<l>.<stem>.weight.lora_a" -> l, target index, 'a'/'b'; false otherwise */
static bool parse_lora_name(const char *name, int64_t *l, int *ti, char *ab) {
    long long ll;
    char stem[48];
    int used = 0;
    if (sscanf(name, "blk.%lld.%47[a-z_].weight.lora_%n", &ll, stem, &used) != 2 || used == 0)
        return false;
    const char *suf = name + used;
    if (!((suf[0] == 'a' || suf[0] == 'b') && suf[1] == 0)) return false;
    for (int i = 0; i < SLM_LORA_N_TARGETS; i++)
        if (strcmp(stem, target_stems[i]) == 0) {
            *l = ll, *ti = i, *ab = suf[0];
            return true;
        }
    return false;
}

slm_status slm_lora_merge(slm_llama_weights *w, const slm_param_list *lora, float scale) {
    const slm_llama_hparams *hp = &w->hp;
    for (int64_t j = 0; j < lora->n; j++) {
        const slm_param *pa = &lora->v[j];
        int64_t l;
        int ti;
        char ab;
        if (!parse_lora_name(pa->name, &l, &ti, &ab) || ab != 'a') continue;
        if (l < 0 || l >= hp->n_layer) {
            slm_log_error("lora merge: tensor '%s' names layer %lld, the model has %lld",
                          pa->name, (long long)l, (long long)hp->n_layer);
            return SLM_ERR_FORMAT;
        }
        char bname[96];
        snprintf(bname, sizeof bname, "%.*sb", (int)strlen(pa->name) - 1, pa->name);
        const slm_param *pb = NULL;
        for (int64_t k = 0; k < lora->n && !pb; k++)
            if (strcmp(lora->v[k].name, bname) == 0) pb = &lora->v[k];
        int64_t in, out;
        slm_lora_target_dims(hp, ti, &in, &out);
        if (!pb) {
            slm_log_error("lora merge: '%s' has no partner '%s'", pa->name, bname);
            return SLM_ERR_FORMAT;
        }
        const int64_t r = pa->ne[1];
        if (pa->ne[0] != in || pb->ne[0] != r || pb->ne[1] != out || r <= 0) {
            slm_log_error("lora merge: '%s' ne [%lld, %lld] / '%s' ne [%lld, %lld] do not fit "
                          "a base of ne [%lld, %lld]", pa->name, (long long)pa->ne[0],
                          (long long)pa->ne[1], pb->name, (long long)pb->ne[0],
                          (long long)pb->ne[1], (long long)in, (long long)out);
            return SLM_ERR_FORMAT;
        }
        /* W (out, in) += scale * B (out, r) @ A (r, in) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)out, (int)in, (int)r, scale,
                    pb->data, (int)r, pa->data, (int)in, 1.0f, slm_lora_base_weight(w, l, ti),
                    (int)in);
    }
    return SLM_OK;
}

slm_status slm_lora_adapter_writer(const slm_param_list *lora, float adapter_alpha,
                                   slm_gguf_writer **out) {
    *out = NULL;
    slm_gguf_writer *gw = slm_gguf_writer_new();
    if (!gw) return SLM_ERR_NOMEM;
    slm_status st = slm_gguf_set_str(gw, "general.architecture", "llama");
    if (st == SLM_OK) st = slm_gguf_set_str(gw, "general.type", "adapter");
    if (st == SLM_OK) st = slm_gguf_set_str(gw, "adapter.type", "lora");
    if (st == SLM_OK) st = slm_gguf_set_f32(gw, "adapter.lora.alpha", adapter_alpha);
    for (int64_t j = 0; j < lora->n && st == SLM_OK; j++) {
        const slm_param *p = &lora->v[j];
        int64_t l;
        int ti;
        char ab;
        if (!parse_lora_name(p->name, &l, &ti, &ab)) continue;
        st = slm_gguf_add_tensor(gw, p->name, SLM_TYPE_F32, 2, p->ne, p->data);
    }
    if (st != SLM_OK) {
        slm_gguf_writer_free(gw);
        return st;
    }
    *out = gw;
    return SLM_OK;
}
