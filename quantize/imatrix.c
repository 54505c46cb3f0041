/* quantize/imatrix.c — llama.cpp GGUF imatrix reader/writer (see imatrix.h). */
#include "quantize/imatrix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"

typedef struct {
    char *name;
    int64_t n;
    float *v;
} entry;

struct slm_imatrix {
    entry *e;
    int64_t n;
};

void slm_imatrix_free(slm_imatrix *m) {
    if (!m) return;
    for (int64_t i = 0; i < m->n; i++) {
        free(m->e[i].name);
        free(m->e[i].v);
    }
    free(m->e);
    free(m);
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

slm_status slm_imatrix_load(const char *path, slm_imatrix **out) {
    *out = NULL;
    slm_gguf *g = NULL;
    slm_status st = slm_gguf_open(path, &g);
    if (st != SLM_OK) return st;
    slm_imatrix *m = calloc(1, sizeof *m);
    int64_t nt = slm_gguf_n_tensors(g);
    if (!m || !(m->e = calloc((size_t)(nt > 0 ? nt : 1), sizeof(entry)))) {
        slm_gguf_close(g);
        slm_imatrix_free(m);
        return SLM_ERR_NOMEM;
    }
    for (int64_t i = 0; i < nt && st == SLM_OK; i++) {
        const slm_gguf_tensor *s = slm_gguf_tensor_at(g, i);
        if (!ends_with(s->name, ".in_sum2")) continue;
        size_t base = strlen(s->name) - strlen(".in_sum2");
        char cname[256];
        snprintf(cname, sizeof cname, "%.*s.counts", (int)base, s->name);
        const slm_gguf_tensor *c = slm_gguf_find_tensor(g, cname);
        if (!c || s->type != SLM_TYPE_F32 || c->type != SLM_TYPE_F32 ||
            c->n_elements != s->ne[1] || s->n_dims > 2) {
            slm_log_error("%s: imatrix entry '%s' needs an F32 [n, n_mat] tensor and an F32 [1, n_mat] "
                          "'%s' (llama.cpp imatrix GGUF format)", path, s->name, cname);
            st = SLM_ERR_FORMAT;
            break;
        }
        entry *e = &m->e[m->n];
        e->name = malloc(base + 1);
        e->n = s->ne[0];
        e->v = malloc(sizeof(float) * (size_t)s->n_elements);
        if (!e->name || !e->v) {
            st = SLM_ERR_NOMEM;
            free(e->name), free(e->v);
            break;
        }
        memcpy(e->name, s->name, base);
        e->name[base] = 0;
        m->n++;
        const float *sum = s->data, *cnt = c->data;
        /* one value per column: experts (n_mat > 1) are not used by llama models */
        for (int64_t j = 0; j < s->n_elements; j++) {
            float k = cnt[j / s->ne[0]];
            float v = k > 0 ? sum[j] / k : 1.0f;
            if (!isfinite(v) || v < 0 || k < 0) {
                slm_log_error("%s: imatrix entry '%s' has a non-finite or negative value at %lld",
                              path, e->name, (long long)j);
                st = SLM_ERR_FORMAT;
                break;
            }
            e->v[j] = v;
        }
    }
    if (st == SLM_OK && m->n == 0) {
        slm_log_error("%s: no '<weight>.in_sum2' tensors: not an imatrix GGUF", path);
        st = SLM_ERR_FORMAT;
    }
    slm_gguf_close(g);
    if (st != SLM_OK) {
        slm_imatrix_free(m);
        return st;
    }
    *out = m;
    return SLM_OK;
}

const float *slm_imatrix_find(const slm_imatrix *m, const char *name, int64_t *n) {
    for (int64_t i = 0; m && i < m->n; i++)
        if (!strcmp(m->e[i].name, name)) {
            if (n) *n = m->e[i].n;
            return m->e[i].v;
        }
    return NULL;
}

int64_t slm_imatrix_n_entries(const slm_imatrix *m) { return m ? m->n : 0; }
const char *slm_imatrix_entry_name(const slm_imatrix *m, int64_t i) { return m->e[i].name; }

slm_status slm_imatrix_put_entry(slm_gguf_writer *w, const char *name, const char *suffix, const double *v,
                                 int64_t ne0, int64_t ne1, double count, float *bufs[2]) {
    float *s = malloc(sizeof(float) * (size_t)(ne0 * ne1)), *c = malloc(sizeof(float));
    bufs[0] = s;
    bufs[1] = c;
    if (!s || !c) return SLM_ERR_NOMEM;
    for (int64_t j = 0; j < ne0 * ne1; j++) s[j] = (float)v[j];
    c[0] = (float)count;
    char tn[300];
    int64_t ne_s[2] = {ne0, ne1}, ne_c[2] = {1, 1};
    snprintf(tn, sizeof tn, "%s%s", name, suffix);
    slm_status st = slm_gguf_add_tensor(w, tn, SLM_TYPE_F32, 2, ne_s, s);
    snprintf(tn, sizeof tn, "%s.counts", name);
    if (st == SLM_OK) st = slm_gguf_add_tensor(w, tn, SLM_TYPE_F32, 2, ne_c, c);
    return st;
}

slm_status slm_imatrix_save(const char *path, const slm_imatrix_acc *acc, int64_t n_acc,
                            const char *dataset, uint32_t chunk_count, uint32_t chunk_size) {
    slm_gguf_writer *w = slm_gguf_writer_new();
    if (!w) return SLM_ERR_NOMEM;
    float **bufs = calloc((size_t)(2 * n_acc + 1), sizeof(float *));
    slm_status st = bufs ? SLM_OK : SLM_ERR_NOMEM;
    const char *ds[1] = {dataset ? dataset : ""};
    if (st == SLM_OK) st = slm_gguf_set_str(w, "general.type", "imatrix");
    if (st == SLM_OK) st = slm_gguf_set_arr_str(w, "imatrix.datasets", ds, 1);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "imatrix.chunk_count", chunk_count);
    if (st == SLM_OK) st = slm_gguf_set_u32(w, "imatrix.chunk_size", chunk_size);
    for (int64_t i = 0; i < n_acc && st == SLM_OK; i++)
        st = slm_imatrix_put_entry(w, acc[i].name, ".in_sum2", acc[i].sum2, acc[i].n, 1, acc[i].count,
                                   bufs + 2 * i);
    if (st == SLM_OK) st = slm_gguf_writer_write(w, path);
    slm_gguf_writer_free(w);
    if (bufs)
        for (int64_t i = 0; i < 2 * n_acc; i++) free(bufs[i]);
    free(bufs);
    return st;
}
