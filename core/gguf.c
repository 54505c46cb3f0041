/* core/gguf.c — ggml type table and the read-only accessors of an open GGUF
 * (parser in gguf_read.c, writer in gguf_write.c). */
#include "core/gguf.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf_internal.h"

/* Block geometry of ggml's types (ggml-common.h block_* structs):
 * elements per block, bytes per block. */
static const struct {
    const char *name;
    int64_t block;
    size_t bytes;
} type_table[SLM_TYPE_COUNT] = {
    [SLM_TYPE_F32] = {"F32", 1, 4},
    [SLM_TYPE_F16] = {"F16", 1, 2},
    [SLM_TYPE_Q4_0] = {"Q4_0", 32, 2 + 16},          /* d, qs[16] */
    [SLM_TYPE_Q4_1] = {"Q4_1", 32, 2 + 2 + 16},      /* d, m, qs[16] */
    [SLM_TYPE_Q5_0] = {"Q5_0", 32, 2 + 4 + 16},      /* d, qh[4], qs[16] */
    [SLM_TYPE_Q5_1] = {"Q5_1", 32, 2 + 2 + 4 + 16},  /* d, m, qh[4], qs[16] */
    [SLM_TYPE_Q8_0] = {"Q8_0", 32, 2 + 32},          /* d, qs[32] */
    [SLM_TYPE_Q8_1] = {"Q8_1", 32, 2 + 2 + 32},      /* d, s, qs[32] */
    [SLM_TYPE_Q2_K] = {"Q2_K", 256, 16 + 64 + 2 + 2}, /* scales, qs, d, dmin */
    [SLM_TYPE_Q3_K] = {"Q3_K", 256, 32 + 64 + 12 + 2}, /* hmask, qs, scales, d */
    [SLM_TYPE_Q4_K] = {"Q4_K", 256, 2 + 2 + 12 + 128}, /* d, dmin, scales, qs */
    [SLM_TYPE_Q5_K] = {"Q5_K", 256, 2 + 2 + 12 + 32 + 128}, /* d, dmin, scales, qh, qs */
    [SLM_TYPE_Q6_K] = {"Q6_K", 256, 128 + 64 + 16 + 2}, /* ql, qh, scales, d */
    [SLM_TYPE_Q8_K] = {"Q8_K", 256, 4 + 256 + 32},   /* float d, qs, bsums[16] */
    [SLM_TYPE_BF16] = {"BF16", 1, 2},
    /* Types slm reads and copies but does not compute with (no slm_type
     * names, so switches over slm_type stay exhaustive): geometry only. */
    [16] = {"IQ2_XXS", 256, 2 + 64},         /* d, qs[32] u16 */
    [17] = {"IQ2_XS", 256, 2 + 64 + 8},      /* d, qs[32] u16, scales[8] */
    [18] = {"IQ3_XXS", 256, 2 + 96},         /* d, qs[96] */
    [19] = {"IQ1_S", 256, 2 + 32 + 16},      /* d, qs[32], qh[8] u16 */
    [20] = {"IQ4_NL", 32, 2 + 16},           /* d, qs[16] */
    [21] = {"IQ3_S", 256, 2 + 64 + 8 + 32 + 4}, /* d, qs, qh, signs, scales */
    [22] = {"IQ2_S", 256, 2 + 64 + 8 + 8},   /* d, qs, qh, scales */
    [23] = {"IQ4_XS", 256, 2 + 2 + 4 + 128}, /* d, scales_h, scales_l, qs */
    [24] = {"I8", 1, 1},
    [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},
    [27] = {"I64", 1, 8},
    [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 32 + 16 + 8},      /* qs, qh, scales */
    [34] = {"TQ1_0", 256, 48 + 4 + 2},       /* qs, qh, d */
    [35] = {"TQ2_0", 256, 64 + 2},           /* qs, d */
    [39] = {"MXFP4", 32, 1 + 16},            /* e, qs */
};

int64_t slm_type_block_size(slm_type t) {
    return (unsigned)t < SLM_TYPE_COUNT ? type_table[t].block : 0;
}

size_t slm_type_block_bytes(slm_type t) {
    return (unsigned)t < SLM_TYPE_COUNT ? type_table[t].bytes : 0;
}

const char *slm_type_name(slm_type t) {
    return (unsigned)t < SLM_TYPE_COUNT ? type_table[t].name : NULL;
}

bool slm_type_from_name(const char *name, slm_type *out) {
    for (int t = 0; t < SLM_TYPE_COUNT; t++) {
        const char *n = type_table[t].name;
        if (!n) continue;
        bool eq = true;
        size_t i = 0;
        for (; n[i] && name[i]; i++)
            if ((name[i] | 0x20) != (n[i] | 0x20)) eq = false;
        if (eq && !n[i] && !name[i]) {
            *out = (slm_type)t;
            return true;
        }
    }
    return false;
}

size_t slm_type_row_bytes(slm_type t, int64_t n) {
    int64_t bs = slm_type_block_size(t);
    if (bs == 0 || n < 0 || n % bs != 0) return 0;
    size_t out;
    return slm_mul_size((size_t)(n / bs), slm_type_block_bytes(t), &out) ? out : 0;
}

slm_gguf_size_check slm_gguf_tensor_size(slm_type t, const int64_t ne[SLM_GGUF_MAX_DIMS],
                                         int64_t *n_elements, size_t *n_bytes) {
    *n_elements = 0;
    *n_bytes = 0;
    int64_t bs = slm_type_block_size(t);
    if (bs == 0) return SLM_GGUF_SIZE_BAD_TYPE;
    bool empty = false;
    for (int d = 0; d < SLM_GGUF_MAX_DIMS; d++) {
        if (ne[d] < 0) return SLM_GGUF_SIZE_NEGATIVE;
        empty |= ne[d] == 0;
    }
    if (ne[0] % bs != 0) return SLM_GGUF_SIZE_BLOCK;
    if (empty) return SLM_GGUF_SIZE_OK;
    int64_t n = 1;
    for (int d = 0; d < SLM_GGUF_MAX_DIMS; d++) {
        if (n > INT64_MAX / ne[d]) return SLM_GGUF_SIZE_OVERFLOW;
        n *= ne[d];
    }
    /* bytes = (ne[0] / block) * block_bytes * ne[1] * ne[2] * ne[3] */
    size_t bytes;
    if (!slm_mul_size((size_t)(ne[0] / bs), slm_type_block_bytes(t), &bytes)) return SLM_GGUF_SIZE_OVERFLOW;
    for (int d = 1; d < SLM_GGUF_MAX_DIMS; d++)
        if (!slm_mul_size(bytes, (size_t)ne[d], &bytes)) return SLM_GGUF_SIZE_OVERFLOW;
    *n_elements = n;
    *n_bytes = bytes;
    return SLM_GGUF_SIZE_OK;
}

/* ---- metadata value types ---- */

static const struct {
    const char *name;
    size_t size;
} value_types[SLM_GGUF_TYPE_COUNT] = {
    [SLM_GGUF_UINT8] = {"UINT8", 1},     [SLM_GGUF_INT8] = {"INT8", 1},
    [SLM_GGUF_UINT16] = {"UINT16", 2},   [SLM_GGUF_INT16] = {"INT16", 2},
    [SLM_GGUF_UINT32] = {"UINT32", 4},   [SLM_GGUF_INT32] = {"INT32", 4},
    [SLM_GGUF_FLOAT32] = {"FLOAT32", 4}, [SLM_GGUF_BOOL] = {"BOOL", 1},
    [SLM_GGUF_STRING] = {"STRING", 0},   [SLM_GGUF_ARRAY] = {"ARRAY", 0},
    [SLM_GGUF_UINT64] = {"UINT64", 8},   [SLM_GGUF_INT64] = {"INT64", 8},
    [SLM_GGUF_FLOAT64] = {"FLOAT64", 8},
};

size_t slm_gguf_type_size(slm_gguf_type t) {
    return (unsigned)t < SLM_GGUF_TYPE_COUNT ? value_types[t].size : 0;
}

const char *slm_gguf_type_name(slm_gguf_type t) {
    return (unsigned)t < SLM_GGUF_TYPE_COUNT ? value_types[t].name : "INVALID";
}

uint64_t slm_gguf_hash(const char *s, size_t n) { /* FNV-1a */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

/* ---- accessors ---- */

const char *slm_gguf_path(const slm_gguf *g) { return g->path; }
uint32_t slm_gguf_version(const slm_gguf *g) { return g->version; }
size_t slm_gguf_alignment(const slm_gguf *g) { return g->alignment; }
size_t slm_gguf_file_size(const slm_gguf *g) { return g->size; }
size_t slm_gguf_data_offset(const slm_gguf *g) { return g->data_start; }
int64_t slm_gguf_n_kv(const slm_gguf *g) { return g->n_kv; }
int64_t slm_gguf_n_tensors(const slm_gguf *g) { return g->n_tensors; }

static int64_t lookup(const int64_t *tab, size_t cap, const char *name,
                      const char *(*name_of)(const slm_gguf *, int64_t), const slm_gguf *g) {
    size_t h = (size_t)slm_gguf_hash(name, strlen(name)) & (cap - 1);
    while (tab[h] >= 0) {
        if (!strcmp(name_of(g, tab[h]), name)) return tab[h];
        h = (h + 1) & (cap - 1);
    }
    return -1;
}

static const char *kv_name(const slm_gguf *g, int64_t i) { return g->kv[i].key; }
static const char *tensor_name(const slm_gguf *g, int64_t i) { return g->tensors[i].name; }

int64_t slm_gguf_find_key(const slm_gguf *g, const char *key) {
    return lookup(g->kv_hash, g->kv_hash_cap, key, kv_name, g);
}

const char *slm_gguf_key(const slm_gguf *g, int64_t i) {
    SLM_ASSERT(i >= 0 && i < g->n_kv);
    return g->kv[i].key;
}

slm_gguf_type slm_gguf_kv_type(const slm_gguf *g, int64_t i) {
    SLM_ASSERT(i >= 0 && i < g->n_kv);
    return g->kv[i].type;
}

slm_gguf_type slm_gguf_arr_type(const slm_gguf *g, int64_t i) {
    SLM_ASSERT(i >= 0 && i < g->n_kv && g->kv[i].type == SLM_GGUF_ARRAY);
    return g->kv[i].arr_type;
}

uint64_t slm_gguf_arr_n(const slm_gguf *g, int64_t i) {
    SLM_ASSERT(i >= 0 && i < g->n_kv && g->kv[i].type == SLM_GGUF_ARRAY);
    return g->kv[i].arr_n;
}

const void *slm_gguf_arr_data(const slm_gguf *g, int64_t i) {
    SLM_ASSERT(i >= 0 && i < g->n_kv && g->kv[i].type == SLM_GGUF_ARRAY &&
               g->kv[i].arr_type != SLM_GGUF_STRING);
    static const uint64_t empty[1];
    if (g->kv[i].arr_n == 0) return empty;
    return g->kv[i].aligned ? g->kv[i].aligned : (const void *)g->kv[i].val;
}

const char *slm_gguf_arr_str(const slm_gguf *g, int64_t i, uint64_t j, uint64_t *len) {
    SLM_ASSERT(i >= 0 && i < g->n_kv && g->kv[i].type == SLM_GGUF_ARRAY &&
               g->kv[i].arr_type == SLM_GGUF_STRING && j < g->kv[i].arr_n);
    const uint8_t *p = g->kv[i].val + g->kv[i].str_off[j];
    memcpy(len, p, 8);
    return (const char *)p + 8;
}

const slm_gguf_tensor *slm_gguf_tensor_at(const slm_gguf *g, int64_t i) {
    SLM_ASSERT(i >= 0 && i < g->n_tensors);
    return &g->tensors[i];
}

const slm_gguf_tensor *slm_gguf_find_tensor(const slm_gguf *g, const char *name) {
    int64_t i = lookup(g->tensor_hash, g->tensor_hash_cap, name, tensor_name, g);
    return i < 0 ? NULL : &g->tensors[i];
}

/* ---- typed getters ---- */

static bool is_int_type(slm_gguf_type t) {
    return t <= SLM_GGUF_INT32 || t == SLM_GGUF_UINT64 || t == SLM_GGUF_INT64;
}

static bool is_signed(slm_gguf_type t) {
    return t == SLM_GGUF_INT8 || t == SLM_GGUF_INT16 || t == SLM_GGUF_INT32 || t == SLM_GGUF_INT64;
}

/* Integer scalar as a sign flag + magnitude-preserving pair. */
static void int_value(const uint8_t *p, slm_gguf_type t, int64_t *sv, uint64_t *uv) {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; uint64_t u64; int64_t i64;
    *sv = 0;
    *uv = 0;
    switch (t) {
    case SLM_GGUF_UINT8: memcpy(&u8, p, 1); *uv = u8; break;
    case SLM_GGUF_INT8: memcpy(&i8, p, 1); *sv = i8; break;
    case SLM_GGUF_UINT16: memcpy(&u16, p, 2); *uv = u16; break;
    case SLM_GGUF_INT16: memcpy(&i16, p, 2); *sv = i16; break;
    case SLM_GGUF_UINT32: memcpy(&u32, p, 4); *uv = u32; break;
    case SLM_GGUF_INT32: memcpy(&i32, p, 4); *sv = i32; break;
    case SLM_GGUF_UINT64: memcpy(&u64, p, 8); *uv = u64; break;
    case SLM_GGUF_INT64: memcpy(&i64, p, 8); *sv = i64; break;
    default: break;
    }
}

/* Finds key; SLM_OK with *idx = -1 when absent and optional. */
static slm_status find_for_get(const slm_gguf *g, const char *key, bool required, int64_t *idx) {
    *idx = slm_gguf_find_key(g, key);
    if (*idx < 0 && required) {
        slm_log_error("%s: key '%s': found nothing, expected the key to be present", g->path, key);
        return SLM_ERR_FORMAT;
    }
    return SLM_OK;
}

static slm_status wrong(const slm_gguf *g, const char *key, int64_t i, const char *expected) {
    char val[96];
    slm_gguf_kv_to_string(g, i, val, sizeof val);
    slm_log_error("%s: key '%s': found %s %s, expected %s", g->path, key,
                  slm_gguf_type_name(g->kv[i].type), val, expected);
    return SLM_ERR_FORMAT;
}

static slm_status get_int(const slm_gguf *g, const char *key, bool required, int64_t lo,
                          uint64_t hi, const char *what, int64_t *sv_out, uint64_t *uv_out,
                          bool *found) {
    int64_t i;
    *found = false;
    slm_status st = find_for_get(g, key, required, &i);
    if (st != SLM_OK || i < 0) return st;
    if (!is_int_type(g->kv[i].type)) return wrong(g, key, i, what);
    int64_t sv;
    uint64_t uv;
    int_value(g->kv[i].val, g->kv[i].type, &sv, &uv);
    bool neg = is_signed(g->kv[i].type) && sv < 0;
    if (is_signed(g->kv[i].type) && sv >= 0) uv = (uint64_t)sv;
    if (neg ? sv < lo : uv > hi) return wrong(g, key, i, what);
    *sv_out = neg ? sv : 0;
    *uv_out = neg ? 0 : uv;
    *found = true;
    return SLM_OK;
}

slm_status slm_gguf_get_u32(const slm_gguf *g, const char *key, bool required, uint32_t *out) {
    int64_t sv;
    uint64_t uv;
    bool found;
    slm_status st = get_int(g, key, required, 0, UINT32_MAX, "an integer in 0..4294967295", &sv, &uv, &found);
    if (st == SLM_OK && found) *out = (uint32_t)uv;
    return st;
}

slm_status slm_gguf_get_i64(const slm_gguf *g, const char *key, bool required, int64_t *out) {
    int64_t sv;
    uint64_t uv;
    bool found;
    slm_status st = get_int(g, key, required, INT64_MIN, INT64_MAX, "an integer that fits int64", &sv, &uv, &found);
    if (st == SLM_OK && found) *out = sv < 0 ? sv : (int64_t)uv;
    return st;
}

slm_status slm_gguf_get_f32(const slm_gguf *g, const char *key, bool required, float *out) {
    int64_t i;
    slm_status st = find_for_get(g, key, required, &i);
    if (st != SLM_OK || i < 0) return st;
    if (g->kv[i].type == SLM_GGUF_FLOAT32) {
        memcpy(out, g->kv[i].val, 4);
    } else if (g->kv[i].type == SLM_GGUF_FLOAT64) {
        double d;
        memcpy(&d, g->kv[i].val, 8);
        *out = (float)d;
    } else {
        return wrong(g, key, i, "a FLOAT32");
    }
    return SLM_OK;
}

slm_status slm_gguf_get_bool(const slm_gguf *g, const char *key, bool required, bool *out) {
    int64_t i;
    slm_status st = find_for_get(g, key, required, &i);
    if (st != SLM_OK || i < 0) return st;
    if (g->kv[i].type != SLM_GGUF_BOOL) return wrong(g, key, i, "a BOOL");
    *out = g->kv[i].val[0] != 0;
    return SLM_OK;
}

slm_status slm_gguf_get_str(const slm_gguf *g, const char *key, bool required, const char **out,
                            uint64_t *len) {
    int64_t i;
    slm_status st = find_for_get(g, key, required, &i);
    if (st != SLM_OK || i < 0) return st;
    if (g->kv[i].type != SLM_GGUF_STRING) return wrong(g, key, i, "a STRING");
    memcpy(len, g->kv[i].val, 8);
    *out = (const char *)g->kv[i].val + 8;
    return SLM_OK;
}

/* ---- rendering for slm info ---- */

typedef struct {
    char *buf;
    size_t cap, n;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *s, const char *f, ...) {
    if (s->n + 1 >= s->cap) return;
    va_list ap;
    va_start(ap, f);
    int k = vsnprintf(s->buf + s->n, s->cap - s->n, f, ap);
    va_end(ap);
    if (k > 0) s->n = s->n + (size_t)k < s->cap ? s->n + (size_t)k : s->cap - 1;
}

/* A string quoted with C-style escapes, at most max bytes of it. */
static void put_str(sbuf *s, const uint8_t *p, uint64_t n, uint64_t max) {
    put(s, "\"");
    for (uint64_t i = 0; i < n && i < max; i++) {
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\') put(s, "\\%c", ch);
        else if (ch == '\n') put(s, "\\n");
        else if (ch == '\t') put(s, "\\t");
        else if (ch < 0x20 || ch == 0x7f) put(s, "\\x%02x", ch);
        else put(s, "%c", ch);
    }
    put(s, n > max ? "\"..." : "\"");
}

static void put_scalar(sbuf *s, const uint8_t *p, slm_gguf_type t) {
    int64_t sv;
    uint64_t uv;
    float f;
    double d;
    switch (t) {
    case SLM_GGUF_FLOAT32: {
        /* shortest text that reads back as the same float */
        char tmp[32];
        memcpy(&f, p, 4);
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
            if (strtof(tmp, NULL) == f || f != f) break;
        }
        put(s, "%s", tmp);
        break;
    }
    case SLM_GGUF_FLOAT64: memcpy(&d, p, 8); put(s, "%.17g", d); break;
    case SLM_GGUF_BOOL: put(s, p[0] ? "true" : "false"); break;
    case SLM_GGUF_STRING: {
        uint64_t n;
        memcpy(&n, p, 8);
        put_str(s, p + 8, n, 200);
        break;
    }
    default:
        int_value(p, t, &sv, &uv);
        if (is_signed(t)) put(s, "%" PRId64, sv);
        else put(s, "%" PRIu64, uv);
        break;
    }
}

#define ARRAY_SHOWN 6

void slm_gguf_kv_to_string(const slm_gguf *g, int64_t i, char *buf, size_t cap) {
    SLM_ASSERT(i >= 0 && i < g->n_kv && cap > 0);
    sbuf s = {buf, cap, 0};
    buf[0] = 0;
    const slm_gguf_kv *kv = &g->kv[i];
    if (kv->type != SLM_GGUF_ARRAY) {
        put_scalar(&s, kv->val, kv->type);
        return;
    }
    put(&s, "[%s x %" PRIu64 "]", slm_gguf_type_name(kv->arr_type), kv->arr_n);
    if (kv->arr_n == 0) return;
    put(&s, " ");
    size_t esz = slm_gguf_type_size(kv->arr_type);
    for (uint64_t j = 0; j < kv->arr_n && j < ARRAY_SHOWN; j++) {
        if (j) put(&s, ", ");
        if (kv->arr_type == SLM_GGUF_STRING) {
            const uint8_t *p = kv->val + kv->str_off[j];
            uint64_t n;
            memcpy(&n, p, 8);
            put_str(&s, p + 8, n, 40);
        } else {
            put_scalar(&s, kv->val + j * esz, kv->arr_type);
        }
    }
    if (kv->arr_n > ARRAY_SHOWN) put(&s, ", ...");
}

/* ---- conversion to f32 ---- */

slm_status slm_gguf_tensor_to_f32(const slm_gguf *g, const slm_gguf_tensor *t, float *out) {
    const uint8_t *src = t->data;
    int64_t n = t->n_elements;
    switch (t->type) {
    case SLM_TYPE_F32:
        memcpy(out, src, (size_t)n * 4);
        return SLM_OK;
    case SLM_TYPE_F16:
    case SLM_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            out[i] = t->type == SLM_TYPE_F16 ? slm_f16_to_f32(h) : slm_bf16_to_f32(h);
        }
        return SLM_OK;
    case SLM_TYPE_Q8_0:
        for (int64_t b = 0; b < n / 32; b++) {
            const uint8_t *blk = src + 34 * b; /* f16 d, int8 qs[32] */
            uint16_t dh;
            memcpy(&dh, blk, 2);
            float d = slm_f16_to_f32(dh);
            for (int j = 0; j < 32; j++) out[32 * b + j] = (float)(int8_t)blk[2 + j] * d;
        }
        return SLM_OK;
    default:
        slm_log_error("%s: tensor '%s' type: found %s, expected F32, F16, BF16 or Q8_0 to read it "
                      "as f32 here (dequantize other types with quantize/)",
                      g->path, t->name, slm_type_name(t->type));
        return SLM_ERR_FORMAT;
    }
}
