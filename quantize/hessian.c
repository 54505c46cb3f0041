/* quantize/hessian.c — input second-moment files (see hessian.h). */
#include "quantize/hessian.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"

struct slm_hessian {
    slm_gguf *g;
};

void slm_hessian_free(slm_hessian *h) {
    if (!h) return;
    slm_gguf_close(h->g);
    free(h);
}

static const slm_gguf_tensor *counts_of(const slm_gguf *g, const slm_gguf_tensor *s, size_t base) {
    char name[300];
    snprintf(name, sizeof name, "%.*s.counts", (int)base, s->name);
    return slm_gguf_find_tensor(g, name);
}

static slm_status check_entry(const char *path, const slm_gguf *g, const slm_gguf_tensor *s) {
    const size_t base = strlen(s->name) - strlen(".in_cov");
    const slm_gguf_tensor *c = counts_of(g, s, base);
    if (s->type != SLM_TYPE_F32 || s->n_dims != 2 || s->ne[0] != s->ne[1] || !c ||
        c->type != SLM_TYPE_F32 || c->n_elements != 1 || !(((const float *)c->data)[0] > 0)) {
        slm_log_error("%s: '%s' needs an F32 [n, n] tensor and a positive F32 [1, 1] '%.*s.counts' "
                      "(write the file with 'slm imatrix --hessian')", path, s->name, (int)base, s->name);
        return SLM_ERR_FORMAT;
    }
    const float *v = s->data;
    for (int64_t i = 0; i < s->n_elements; i++)
        if (!isfinite(v[i])) {
            slm_log_error("%s: '%s' holds a non-finite value at %lld", path, s->name, (long long)i);
            return SLM_ERR_FORMAT;
        }
    return SLM_OK;
}

slm_status slm_hessian_load(const char *path, slm_hessian **out) {
    *out = NULL;
    slm_hessian *h = calloc(1, sizeof *h);
    if (!h) return SLM_ERR_NOMEM;
    slm_status st = slm_gguf_open(path, &h->g);
    const char *type = NULL;
    uint64_t tl = 0;
    if (st == SLM_OK && (slm_gguf_get_str(h->g, "general.type", false, &type, &tl) != SLM_OK || !type ||
                         tl != 11 || memcmp(type, "slm.hessian", 11))) {
        slm_log_error("%s: general.type is not 'slm.hessian': not a file of 'slm imatrix --hessian'", path);
        st = SLM_ERR_FORMAT;
    }
    int64_t found = 0;
    for (int64_t i = 0; st == SLM_OK && i < slm_gguf_n_tensors(h->g); i++) {
        const slm_gguf_tensor *s = slm_gguf_tensor_at(h->g, i);
        size_t l = strlen(s->name);
        if (l > 7 && !strcmp(s->name + l - 7, ".in_cov")) {
            st = check_entry(path, h->g, s);
            found++;
        }
    }
    if (st == SLM_OK && !found) {
        slm_log_error("%s: no '<weight>.in_cov' tensors", path);
        st = SLM_ERR_FORMAT;
    }
    if (st != SLM_OK) {
        slm_hessian_free(h);
        return st;
    }
    *out = h;
    return SLM_OK;
}

static const slm_gguf_tensor *find_exact(const slm_hessian *h, const char *weight, const char *from,
                                         const char *to) {
    char name[300];
    const char *p = from ? strstr(weight, from) : NULL;
    if (from && !p) return NULL;
    if (p)
        snprintf(name, sizeof name, "%.*s%s%s.in_cov", (int)(p - weight), weight, to, p + strlen(from));
    else
        snprintf(name, sizeof name, "%s.in_cov", weight);
    return slm_gguf_find_tensor(h->g, name);
}

const float *slm_hessian_find(const slm_hessian *h, const char *weight, int64_t *n) {
    static const char *alias[][2] = {{".attn_k.", ".attn_q."}, {".attn_v.", ".attn_q."}, {".ffn_up.", ".ffn_gate."}};
    const slm_gguf_tensor *s = h ? find_exact(h, weight, NULL, NULL) : NULL;
    for (size_t i = 0; h && !s && i < sizeof alias / sizeof alias[0]; i++)
        s = find_exact(h, weight, alias[i][0], alias[i][1]);
    if (!s) return NULL;
    *n = s->ne[0];
    return s->data;
}

slm_status slm_hessian_save(const char *path, const slm_imatrix_acc *acc, int64_t n_acc) {
    slm_gguf_writer *w = slm_gguf_writer_new();
    float **bufs = calloc((size_t)(2 * n_acc + 1), sizeof(float *));
    slm_status st = (w && bufs) ? SLM_OK : SLM_ERR_NOMEM;
    if (st == SLM_OK) st = slm_gguf_set_str(w, "general.type", "slm.hessian");
    for (int64_t i = 0; st == SLM_OK && i < n_acc; i++) {
        if (!acc[i].cov) continue;
        st = slm_imatrix_put_entry(w, acc[i].name, ".in_cov", acc[i].cov, acc[i].n, acc[i].n, acc[i].count,
                                   bufs + 2 * i);
    }
    if (st == SLM_OK) st = slm_gguf_writer_write(w, path);
    slm_gguf_writer_free(w);
    if (bufs)
        for (int64_t i = 0; i < 2 * n_acc; i++) free(bufs[i]);
    free(bufs);
    return st;
}
