/* quantize/mix.c — llama.cpp's per-tensor quantization type rules (see mix.h). */
#include "quantize/mix.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "quantize/quants.h"

static const struct {
    const char *name;
    slm_ftype ftype;
    slm_type base;
} FTYPES[] = {
    {"F16", SLM_FTYPE_F16, SLM_TYPE_F16},         {"BF16", SLM_FTYPE_BF16, SLM_TYPE_BF16},
    {"Q8_0", SLM_FTYPE_Q8_0, SLM_TYPE_Q8_0},      {"Q4_0", SLM_FTYPE_Q4_0, SLM_TYPE_Q4_0},
    {"Q4_1", SLM_FTYPE_Q4_1, SLM_TYPE_Q4_1},      {"Q5_0", SLM_FTYPE_Q5_0, SLM_TYPE_Q5_0},
    {"Q5_1", SLM_FTYPE_Q5_1, SLM_TYPE_Q5_1},      {"Q2_K", SLM_FTYPE_Q2_K, SLM_TYPE_Q2_K},
    {"Q3_K_S", SLM_FTYPE_Q3_K_S, SLM_TYPE_Q3_K},  {"Q3_K_M", SLM_FTYPE_Q3_K_M, SLM_TYPE_Q3_K},
    {"Q3_K_L", SLM_FTYPE_Q3_K_L, SLM_TYPE_Q3_K},  {"Q4_K_S", SLM_FTYPE_Q4_K_S, SLM_TYPE_Q4_K},
    {"Q4_K_M", SLM_FTYPE_Q4_K_M, SLM_TYPE_Q4_K},  {"Q5_K_S", SLM_FTYPE_Q5_K_S, SLM_TYPE_Q5_K},
    {"Q5_K_M", SLM_FTYPE_Q5_K_M, SLM_TYPE_Q5_K},  {"Q6_K", SLM_FTYPE_Q6_K, SLM_TYPE_Q6_K},
};
#define N_FTYPES ((int)(sizeof FTYPES / sizeof FTYPES[0]))

bool slm_ftype_from_name(const char *name, slm_ftype *out) {
    for (int i = 0; i < N_FTYPES; i++)
        if (!strcasecmp(name, FTYPES[i].name)) {
            *out = FTYPES[i].ftype;
            return true;
        }
    return false;
}

const char *slm_ftype_name(slm_ftype f) {
    for (int i = 0; i < N_FTYPES; i++)
        if (FTYPES[i].ftype == f) return FTYPES[i].name;
    return f == SLM_FTYPE_ALL_F32 ? "F32" : NULL;
}

slm_type slm_ftype_base_type(slm_ftype f) {
    for (int i = 0; i < N_FTYPES; i++)
        if (FTYPES[i].ftype == f) return FTYPES[i].base;
    return SLM_TYPE_F32;
}

const char *slm_ftype_list(void) {
    return "Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K F16 BF16";
}

typedef enum {
    CAT_TOKEN_EMBD,
    CAT_ATTN_Q,
    CAT_ATTN_K,
    CAT_ATTN_V, /* attn_v, attn_qkv, attn_kv_b: llama.cpp treats them alike */
    CAT_ATTN_OUTPUT,
    CAT_FFN_UP,
    CAT_FFN_GATE,
    CAT_FFN_DOWN,
    CAT_OUTPUT,
    CAT_OTHER
} category;

static category category_of(const char *n) {
    if (!strcmp(n, "output.weight")) return CAT_OUTPUT;
    if (!strcmp(n, "token_embd.weight")) return CAT_TOKEN_EMBD;
    if (strstr(n, "attn_qkv.weight")) return CAT_ATTN_V;
    if (strstr(n, "attn_kv_b.weight")) return CAT_ATTN_V;
    if (strstr(n, "attn_v.weight")) return CAT_ATTN_V;
    if (strstr(n, "attn_k.weight")) return CAT_ATTN_K;
    if (strstr(n, "attn_q.weight")) return CAT_ATTN_Q;
    if (strstr(n, "attn_output.weight")) return CAT_ATTN_OUTPUT;
    if (strstr(n, "ffn_up")) return CAT_FFN_UP;
    if (strstr(n, "ffn_gate")) return CAT_FFN_GATE;
    if (strstr(n, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

static bool is_quantized(slm_type t) {
    return t != SLM_TYPE_F32 && t != SLM_TYPE_F16 && t != SLM_TYPE_BF16;
}

static bool allows_quantization(const slm_mix_tensor *t) {
    if (t->n_dims < 2) return false;
    size_t n = strlen(t->name);
    if (n < 6 || strcmp(t->name + n - 6, "weight") != 0) return false;
    if (strstr(t->name, "_norm.weight")) return false;
    if (strstr(t->name, "ffn_gate_inp.weight")) return false;
    return true;
}

static bool use_more_bits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

typedef struct {
    int n_attn_v, i_attn_v, n_ffn_down, i_ffn_down;
    bool tied;
    int64_t n_gqa;
} mix_state;

/* llama_tensor_get_type_impl for the K and 32-element mixes of dense models. */
static slm_type mix_rule(mix_state *s, const slm_mix_params *p, const slm_mix_tensor *t,
                         category cat, slm_type nt) {
    const slm_ftype f = p->ftype;
    if (cat == CAT_OUTPUT || (s->tied && cat == CAT_TOKEN_EMBD)) {
        if (t->ne[0] % slm_quant_block_size(nt) != 0) return SLM_TYPE_Q8_0;
        return nt != SLM_TYPE_Q8_0 ? SLM_TYPE_Q6_K : nt;
    }
    if (cat == CAT_TOKEN_EMBD) return nt;
    if (cat == CAT_ATTN_V) {
        if (f == SLM_FTYPE_Q2_K) nt = s->n_gqa >= 4 ? SLM_TYPE_Q4_K : SLM_TYPE_Q3_K;
        else if (f == SLM_FTYPE_Q3_K_M) nt = s->i_attn_v < 2 ? SLM_TYPE_Q5_K : SLM_TYPE_Q4_K;
        else if (f == SLM_FTYPE_Q3_K_L) nt = SLM_TYPE_Q5_K;
        else if ((f == SLM_FTYPE_Q4_K_M || f == SLM_FTYPE_Q5_K_M) && use_more_bits(s->i_attn_v, s->n_attn_v))
            nt = SLM_TYPE_Q6_K;
        else if (f == SLM_FTYPE_Q4_K_S && s->i_attn_v < 4) nt = SLM_TYPE_Q5_K;
        s->i_attn_v++;
        return nt;
    }
    if (cat == CAT_FFN_DOWN) {
        int i = s->i_ffn_down, n = s->n_ffn_down;
        if (f == SLM_FTYPE_Q2_K) nt = SLM_TYPE_Q3_K;
        else if (f == SLM_FTYPE_Q3_K_M) nt = i < n / 16 ? SLM_TYPE_Q5_K : SLM_TYPE_Q4_K;
        else if (f == SLM_FTYPE_Q3_K_L) nt = SLM_TYPE_Q5_K;
        else if (f == SLM_FTYPE_Q4_K_M) {
            if (use_more_bits(i, n)) nt = SLM_TYPE_Q6_K;
        } else if (f == SLM_FTYPE_Q5_K_M && use_more_bits(i, n)) nt = SLM_TYPE_Q6_K;
        else if (f == SLM_FTYPE_Q4_K_S && i < n / 8) nt = SLM_TYPE_Q5_K;
        else if ((f == SLM_FTYPE_Q4_0 || f == SLM_FTYPE_Q5_0) && p->has_imatrix && i < n / 8)
            nt = f == SLM_FTYPE_Q4_0 ? SLM_TYPE_Q4_1 : SLM_TYPE_Q5_1;
        s->i_ffn_down++;
        return nt;
    }
    if (cat == CAT_ATTN_OUTPUT) {
        if (f == SLM_FTYPE_Q2_K) nt = SLM_TYPE_Q3_K;
        else if (f == SLM_FTYPE_Q3_K_M) nt = SLM_TYPE_Q4_K;
        else if (f == SLM_FTYPE_Q3_K_L) nt = SLM_TYPE_Q5_K;
        return nt;
    }
    return nt;
}

static slm_type fallback(const slm_mix_tensor *t, slm_type want, int *n_fallback) {
    const int64_t bs = slm_quant_block_size(want);
    if (bs > 0 && t->ne[0] % bs == 0) return want;
    slm_type r;
    switch (want) {
    case SLM_TYPE_Q2_K: case SLM_TYPE_Q3_K: r = SLM_TYPE_Q4_0; break;
    case SLM_TYPE_Q4_K: r = SLM_TYPE_Q5_0; break;
    case SLM_TYPE_Q5_K: r = SLM_TYPE_Q5_1; break;
    case SLM_TYPE_Q6_K: r = SLM_TYPE_Q8_0; break;
    default: r = SLM_TYPE_F16; break;
    }
    if (t->ne[0] % slm_quant_block_size(r) != 0) r = SLM_TYPE_F16;
    slm_log_warn("quantize: tensor '%s' has %lld columns, not a multiple of %lld (required by %s): "
                 "falling back to %s", t->name, (long long)t->ne[0], (long long)bs,
                 slm_quant_type_name(want), slm_quant_type_name(r));
    if (n_fallback) (*n_fallback)++;
    return r;
}

static int layer_of(const char *name) {
    int l = -1;
    if (sscanf(name, "blk.%d.", &l) != 1) l = -1;
    return l;
}

static const slm_mix_tensor *SORT_T;
static int cmp_order(const void *a, const void *b) {
    const slm_mix_tensor *x = &SORT_T[*(const int64_t *)a], *y = &SORT_T[*(const int64_t *)b];
    int lx = layer_of(x->name), ly = layer_of(y->name);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x->name, y->name);
}

static slm_status compile_all(const char *const *pats, int n, regex_t *re, const char *what) {
    for (int i = 0; i < n; i++) {
        int rc = regcomp(&re[i], pats[i], REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char msg[256];
            regerror(rc, &re[i], msg, sizeof msg);
            slm_log_error("quantize: bad %s pattern '%s': %s", what, pats[i], msg);
            for (int j = 0; j < i; j++) regfree(&re[j]);
            return SLM_ERR_USAGE;
        }
    }
    return SLM_OK;
}

slm_status slm_mix_choose(const slm_mix_params *p, const slm_mix_tensor *t, int64_t n,
                          slm_type *out, int *n_fallback) {
    const slm_type base = slm_ftype_base_type(p->ftype);
    mix_state s = {0, 0, (int)p->n_layer, 0, true, p->n_head_kv > 0 ? p->n_head / p->n_head_kv : 1};
    for (int64_t i = 0; i < n; i++) {
        category c = category_of(t[i].name);
        if (c == CAT_ATTN_V) s.n_attn_v++;
        if (c == CAT_OUTPUT) s.tied = false;
    }
    regex_t *ov = calloc((size_t)p->n_overrides + 1, sizeof(regex_t));
    regex_t *kp = calloc((size_t)p->n_keep + 1, sizeof(regex_t));
    int64_t *order = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    if (!ov || !kp || !order) {
        free(ov), free(kp), free(order);
        return SLM_ERR_NOMEM;
    }
    const char **opats = calloc((size_t)p->n_overrides + 1, sizeof(char *));
    for (int i = 0; i < p->n_overrides; i++) opats[i] = p->overrides[i].pattern;
    slm_status st = compile_all(opats, p->n_overrides, ov, "--type-override");
    free(opats);
    if (st == SLM_OK) {
        st = compile_all(p->keep, p->n_keep, kp, "--keep");
        if (st != SLM_OK)
            for (int i = 0; i < p->n_overrides; i++) regfree(&ov[i]);
    }
    if (st != SLM_OK) {
        free(ov), free(kp), free(order);
        return st;
    }
    for (int64_t i = 0; i < n; i++) order[i] = i;
    SORT_T = t;
    qsort(order, (size_t)n, sizeof *order, cmp_order);
    for (int64_t k = 0; k < n; k++) {
        const slm_mix_tensor *ti = &t[order[k]];
        slm_type nt = ti->type;
        if (allows_quantization(ti)) {
            nt = base;
            if (is_quantized(base)) {
                bool manual = false;
                for (int j = 0; j < p->n_overrides && !manual; j++)
                    if (regexec(&ov[j], ti->name, 0, NULL, 0) == 0) {
                        nt = p->overrides[j].type;
                        manual = true;
                    }
                if (!manual) nt = mix_rule(&s, p, ti, category_of(ti->name), nt);
                nt = fallback(ti, nt, n_fallback);
            }
        }
        for (int j = 0; j < p->n_keep; j++)
            if (regexec(&kp[j], ti->name, 0, NULL, 0) == 0) nt = ti->type;
        out[order[k]] = nt;
    }
    for (int i = 0; i < p->n_overrides; i++) regfree(&ov[i]);
    for (int i = 0; i < p->n_keep; i++) regfree(&kp[i]);
    free(ov), free(kp), free(order);
    return SLM_OK;
}
