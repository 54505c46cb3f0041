/* core/gguf_read.c — GGUF v3 parser: maps the file and validates every
 * count, length, type, shape and offset before anything is allocated or used
 * (STYLE rule 13).  Each refusal logs "<file>: <field>: found X, expected Y"
 * and returns SLM_ERR_FORMAT.  Layout: see core/gguf.h and docs/gguf.md. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/gguf_internal.h"
#include "core/mapguard.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as little-endian u32 */
#define HEADER_BYTES 24        /* magic, version, n_tensors, n_kv */
/* Smallest possible encodings, used to bound counts by the bytes left. */
#define MIN_KV_BYTES 13     /* u64 key length + u32 type + 1-byte value */
#define MIN_TENSOR_BYTES 24 /* u64 name length + u32 n_dims + u32 type + u64 offset */

typedef struct {
    const char *path;
    const uint8_t *p;
    size_t pos, size;
} cursor;

static slm_status refuse(const char *path, const char *field, const char *found,
                         const char *expected) {
    slm_log_error("%s: %s: found %s, expected %s", path, field, found, expected);
    return SLM_ERR_FORMAT;
}

/* field/found/expected formatted; found and expected are short. */
__attribute__((format(printf, 2, 3))) static char *fmt(char *buf, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, 160, f, ap);
    va_end(ap);
    return buf;
}

static size_t left(const cursor *c) { return c->size - c->pos; }

/* Refuses when fewer than n bytes remain for `field`. */
static slm_status need(const cursor *c, size_t n, const char *field) {
    if (left(c) >= n) return SLM_OK;
    char a[160], b[160];
    return refuse(c->path, field, fmt(a, "%zu bytes before end of file (truncated)", left(c)),
                  fmt(b, "%zu more bytes", n));
}

static uint32_t rd_u32(cursor *c) {
    uint32_t v;
    memcpy(&v, c->p + c->pos, 4);
    c->pos += 4;
    return v;
}

static uint64_t rd_u64(cursor *c) {
    uint64_t v;
    memcpy(&v, c->p + c->pos, 8);
    c->pos += 8;
    return v;
}

/* gguf_string: u64 length + bytes.  *s points into the map. */
static slm_status rd_str(cursor *c, const char *field, const uint8_t **s, uint64_t *len) {
    slm_status st = need(c, 8, field);
    if (st != SLM_OK) return st;
    uint64_t n = rd_u64(c);
    if (n > left(c)) {
        char a[160], b[160], f[200];
        return refuse(c->path, fmt(f, "%s length", field), fmt(a, "%" PRIu64, n),
                      fmt(b, "at most %zu (bytes left in file)", left(c)));
    }
    *s = c->p + c->pos;
    *len = n;
    c->pos += (size_t)n;
    return SLM_OK;
}

static bool has_nul(const uint8_t *s, uint64_t n) { return memchr(s, 0, (size_t)n) != NULL; }

static char *dup_n(const uint8_t *s, uint64_t n) {
    char *d = slm_alloc((size_t)n + 1);
    if (d) {
        memcpy(d, s, (size_t)n);
        d[n] = 0;
    }
    return d;
}

/* Inserts index idx of `name` into an open-addressing table; false if an
 * entry with the same name exists (duplicate). */
static bool hash_insert(int64_t *tab, size_t cap, const char *name, int64_t idx,
                        const char *(*name_of)(const slm_gguf *, int64_t), const slm_gguf *g) {
    size_t h = (size_t)slm_gguf_hash(name, strlen(name)) & (cap - 1);
    while (tab[h] >= 0) {
        if (!strcmp(name_of(g, tab[h]), name)) return false;
        h = (h + 1) & (cap - 1);
    }
    tab[h] = idx;
    return true;
}

static const char *kv_name(const slm_gguf *g, int64_t i) { return g->kv[i].key; }
static const char *tensor_name(const slm_gguf *g, int64_t i) { return g->tensors[i].name; }

static size_t hash_cap_for(int64_t n) {
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap *= 2;
    return cap;
}

static int64_t *hash_new(size_t cap) {
    int64_t *t = slm_alloc(cap * sizeof *t);
    if (t)
        for (size_t i = 0; i < cap; i++) t[i] = -1;
    return t;
}

/* One metadata value of type t (scalar or string) at the cursor. */
static slm_status skip_value(cursor *c, slm_gguf_type t, const char *field) {
    if (t == SLM_GGUF_STRING) {
        const uint8_t *s;
        uint64_t n;
        return rd_str(c, field, &s, &n);
    }
    size_t sz = slm_gguf_type_size(t);
    slm_status st = need(c, sz, field);
    if (st == SLM_OK) c->pos += sz;
    return st;
}

static slm_status parse_kv(cursor *c, slm_gguf *g, int64_t i) {
    char f[200], a[160], b[160];
    slm_gguf_kv *kv = &g->kv[i];
    const uint8_t *key;
    uint64_t klen;
    slm_status st = rd_str(c, fmt(f, "key[%" PRId64 "]", i), &key, &klen);
    if (st != SLM_OK) return st;
    if (klen == 0) return refuse(c->path, f, "an empty key", "a non-empty key (llama.cpp refuses empty keys)");
    if (has_nul(key, klen))
        return refuse(c->path, f, "a NUL byte inside the key", "a key without NUL bytes");
    if (!(kv->key = dup_n(key, klen))) return SLM_ERR_NOMEM;
    fmt(f, "key[%" PRId64 "] '%.80s' type", i, kv->key);
    if ((st = need(c, 4, f)) != SLM_OK) return st;
    uint32_t t = rd_u32(c);
    if (t >= SLM_GGUF_TYPE_COUNT)
        return refuse(c->path, f, fmt(a, "%" PRIu32, t), fmt(b, "a GGUF value type 0..%d", SLM_GGUF_TYPE_COUNT - 1));
    kv->type = (slm_gguf_type)t;
    kv->blob = c->p + c->pos;
    fmt(f, "key '%.80s' value", kv->key);
    if (t != SLM_GGUF_ARRAY) {
        kv->val = kv->blob;
        if ((st = skip_value(c, kv->type, f)) != SLM_OK) return st;
        kv->blob_len = (size_t)(c->p + c->pos - kv->blob);
        return SLM_OK;
    }
    fmt(f, "key '%.80s' array element type", kv->key);
    if ((st = need(c, 12, f)) != SLM_OK) return st;
    uint32_t et = rd_u32(c);
    if (et >= SLM_GGUF_TYPE_COUNT || et == SLM_GGUF_ARRAY)
        return refuse(c->path, f, fmt(a, "%" PRIu32 "%s", et, et == SLM_GGUF_ARRAY ? " (nested array)" : ""),
                      "a scalar or string type (0..8, 10..12)");
    kv->arr_type = (slm_gguf_type)et;
    uint64_t n = rd_u64(c);
    size_t esz = et == SLM_GGUF_STRING ? 8 : slm_gguf_type_size(kv->arr_type);
    if (n > left(c) / esz)
        return refuse(c->path, fmt(f, "key '%.80s' array count", kv->key), fmt(a, "%" PRIu64, n),
                      fmt(b, "at most %zu (%zu-byte elements in the %zu bytes left)", left(c) / esz, esz, left(c)));
    kv->arr_n = n;
    kv->val = c->p + c->pos;
    if (et != SLM_GGUF_STRING) {
        size_t bytes = (size_t)n * esz;
        if (((uintptr_t)kv->val % esz) != 0 && n > 0) {
            if (!(kv->aligned = slm_alloc(bytes))) return SLM_ERR_NOMEM;
            memcpy(kv->aligned, kv->val, bytes);
        }
        c->pos += bytes;
    } else {
        if (!(kv->str_off = slm_alloc((size_t)(n ? n : 1) * sizeof *kv->str_off))) return SLM_ERR_NOMEM;
        for (uint64_t j = 0; j < n; j++) {
            kv->str_off[j] = (uint64_t)(c->p + c->pos - kv->val);
            const uint8_t *s;
            uint64_t len;
            if ((st = rd_str(c, fmt(f, "key '%.80s' string[%" PRIu64 "]", kv->key, j), &s, &len)) != SLM_OK)
                return st;
        }
    }
    kv->blob_len = (size_t)(c->p + c->pos - kv->blob);
    return SLM_OK;
}

static slm_status parse_alignment(slm_gguf *g) {
    g->alignment = SLM_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = slm_gguf_find_key(g, "general.alignment");
    if (i < 0) return SLM_OK;
    char a[160];
    if (g->kv[i].type != SLM_GGUF_UINT32)
        return refuse(g->path, "key 'general.alignment' type",
                      fmt(a, "%s", slm_gguf_type_name(g->kv[i].type)), "UINT32");
    uint32_t al;
    memcpy(&al, g->kv[i].val, 4);
    if (al == 0 || (al & (al - 1)) != 0)
        return refuse(g->path, "key 'general.alignment'", fmt(a, "%" PRIu32, al),
                      "a power of two (default 32)");
    g->alignment = al;
    return SLM_OK;
}

static slm_status parse_tensor_info(cursor *c, slm_gguf *g, int64_t i) {
    char f[200], a[160], b[160];
    slm_gguf_tensor *t = &g->tensors[i];
    const uint8_t *name;
    uint64_t nlen;
    slm_status st = rd_str(c, fmt(f, "tensor[%" PRId64 "] name", i), &name, &nlen);
    if (st != SLM_OK) return st;
    if (nlen >= SLM_GGUF_MAX_NAME)
        return refuse(c->path, f, fmt(a, "%" PRIu64 " bytes", nlen),
                      fmt(b, "fewer than %d bytes (ggml's GGML_MAX_NAME)", SLM_GGUF_MAX_NAME));
    if (has_nul(name, nlen))
        return refuse(c->path, f, "a NUL byte inside the name", "a name without NUL bytes");
    if (!(t->name = dup_n(name, nlen))) return SLM_ERR_NOMEM;
    if ((st = need(c, 4, fmt(f, "tensor '%s' n_dims", t->name))) != SLM_OK) return st;
    uint32_t nd = rd_u32(c);
    if (nd > SLM_GGUF_MAX_DIMS)
        return refuse(c->path, f, fmt(a, "%" PRIu32, nd), fmt(b, "0..%d", SLM_GGUF_MAX_DIMS));
    t->n_dims = (int)nd;
    if ((st = need(c, 8 * (size_t)nd + 12, fmt(f, "tensor '%s' ne/type/offset", t->name))) != SLM_OK)
        return st;
    for (int d = 0; d < SLM_GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d >= (int)nd) continue;
        uint64_t v = rd_u64(c);
        if (v > (uint64_t)INT64_MAX)
            return refuse(c->path, fmt(f, "tensor '%s' ne[%d]", t->name, d),
                          fmt(a, "%" PRId64, (int64_t)v), "a dimension >= 0");
        t->ne[d] = (int64_t)v;
    }
    uint32_t type = rd_u32(c);
    uint64_t off = rd_u64(c);
    if (type >= SLM_TYPE_COUNT || slm_type_block_size((slm_type)type) == 0)
        return refuse(c->path, fmt(f, "tensor '%s' type", t->name), fmt(a, "%" PRIu32, type),
                      "a ggml type id (0..39, except the removed 4, 5, 31..33, 36..38)");
    t->type = (slm_type)type;
    switch (slm_gguf_tensor_size(t->type, t->ne, &t->n_elements, &t->n_bytes)) {
    case SLM_GGUF_SIZE_OK:
        break;
    case SLM_GGUF_SIZE_BLOCK:
        return refuse(c->path, fmt(f, "tensor '%s' ne[0]", t->name), fmt(a, "%" PRId64, t->ne[0]),
                      fmt(b, "a multiple of %s's block size %" PRId64, slm_type_name(t->type),
                          slm_type_block_size(t->type)));
    default: /* overflow (negative dims were refused above) */
        return refuse(c->path, fmt(f, "tensor '%s' shape", t->name),
                      fmt(a, "%" PRId64 " x %" PRId64 " x %" PRId64 " x %" PRId64 " %s", t->ne[0], t->ne[1],
                          t->ne[2], t->ne[3], slm_type_name(t->type)),
                      "an element count below 2^63 and a byte size that fits");
    }
    if (t->n_bytes > c->size)
        return refuse(c->path, fmt(f, "tensor '%s' size", t->name), fmt(a, "%zu bytes", t->n_bytes),
                      fmt(b, "at most the file size %zu", c->size));
    if (off > c->size)
        return refuse(c->path, fmt(f, "tensor '%s' offset", t->name), fmt(a, "%" PRIu64, off),
                      fmt(b, "at most the file size %zu", c->size));
    t->offset = (size_t)off;
    return SLM_OK;
}

static int cmp_by_offset(const void *a, const void *b) {
    const slm_gguf_tensor *x = *(const slm_gguf_tensor *const *)a, *y = *(const slm_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Offsets aligned, data inside the file, no two tensors sharing bytes. */
static slm_status check_data(slm_gguf *g) {
    char f[200], a[160], b[160];
    if (g->n_tensors == 0) return SLM_OK;
    /* with tensors, the (aligned) data section must start inside the file,
     * even if every tensor is empty: pointers stay within the mapping */
    if (g->data_start > g->size)
        return refuse(g->path, "data section start", fmt(a, "offset %zu", g->data_start),
                      fmt(b, "at most the file size %zu (file truncated?)", g->size));
    size_t avail = g->size - g->data_start;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        slm_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment != 0)
            return refuse(g->path, fmt(f, "tensor '%s' offset", t->name), fmt(a, "%zu", t->offset),
                          fmt(b, "a multiple of general.alignment = %zu", g->alignment));
        if (t->offset > avail || t->n_bytes > avail - t->offset)
            return refuse(g->path, fmt(f, "tensor '%s' data", t->name),
                          fmt(a, "bytes %zu..%zu of the data section", t->offset, t->offset + t->n_bytes),
                          fmt(b, "within the %zu bytes after the header (file truncated?)", avail));
        t->data = g->map + g->data_start + t->offset;
    }
    if (g->n_tensors < 2) return SLM_OK;
    const slm_gguf_tensor **order = slm_alloc((size_t)g->n_tensors * sizeof *order);
    if (!order) return SLM_ERR_NOMEM;
    for (int64_t i = 0; i < g->n_tensors; i++) order[i] = &g->tensors[i];
    qsort(order, (size_t)g->n_tensors, sizeof *order, cmp_by_offset);
    slm_status st = SLM_OK;
    for (int64_t i = 1; i < g->n_tensors && st == SLM_OK; i++) {
        const slm_gguf_tensor *p = order[i - 1], *t = order[i];
        if (p->n_bytes > 0 && t->n_bytes > 0 && p->offset + p->n_bytes > t->offset)
            st = refuse(g->path, fmt(f, "tensor '%s' offset", t->name), fmt(a, "%zu", t->offset),
                        fmt(b, "at least %zu (tensor '%s' ends there; tensors overlap)",
                            p->offset + p->n_bytes, p->name));
    }
    free(order);
    return st;
}

static slm_status parse(slm_gguf *g) {
    char a[160], b[160];
    cursor c = {g->path, g->map, 0, g->size};
    slm_status st = need(&c, HEADER_BYTES, "header");
    if (st != SLM_OK) return st;
    uint32_t magic = rd_u32(&c);
    if (magic != GGUF_MAGIC)
        return refuse(g->path, "magic",
                      fmt(a, "bytes %02x %02x %02x %02x", g->map[0], g->map[1], g->map[2], g->map[3]),
                      "\"GGUF\" (47 47 55 46); is this a GGUF file?");
    g->version = rd_u32(&c);
    if (g->version != 3) {
        const char *hint = g->version == 1 || g->version == 2
                               ? "3 (GGUF v1/v2 files predate the current format; re-convert the model with a current llama.cpp)"
                           : (g->version & 0xffff) == 0 ? "3 (this looks like a big-endian GGUF, which slm does not read)"
                                                        : "3";
        return refuse(g->path, "version", fmt(b, "%" PRIu32, g->version), hint);
    }
    uint64_t nt = rd_u64(&c), nkv = rd_u64(&c);
    if (nkv > left(&c) / MIN_KV_BYTES)
        return refuse(g->path, "header n_kv", fmt(a, "%" PRIu64, nkv),
                      fmt(b, "at most %zu (%d bytes per key-value in the %zu bytes left)",
                          left(&c) / MIN_KV_BYTES, MIN_KV_BYTES, left(&c)));
    if (nt > (left(&c) - nkv * MIN_KV_BYTES) / MIN_TENSOR_BYTES)
        return refuse(g->path, "header n_tensors", fmt(a, "%" PRIu64, nt),
                      fmt(b, "at most %zu (%d bytes per tensor info in the bytes left)",
                          (left(&c) - nkv * MIN_KV_BYTES) / MIN_TENSOR_BYTES, MIN_TENSOR_BYTES));
    g->n_kv = (int64_t)nkv;
    g->n_tensors = (int64_t)nt;
    g->kv_hash_cap = hash_cap_for(g->n_kv);
    g->tensor_hash_cap = hash_cap_for(g->n_tensors);
    g->kv = slm_calloc((size_t)(nkv ? nkv : 1), sizeof *g->kv);
    g->tensors = slm_calloc((size_t)(nt ? nt : 1), sizeof *g->tensors);
    g->kv_hash = hash_new(g->kv_hash_cap);
    g->tensor_hash = hash_new(g->tensor_hash_cap);
    if (!g->kv || !g->tensors || !g->kv_hash || !g->tensor_hash) return SLM_ERR_NOMEM;

    for (int64_t i = 0; i < g->n_kv; i++) {
        if ((st = parse_kv(&c, g, i)) != SLM_OK) {
            g->n_kv = i + 1; /* free what was allocated */
            return st;
        }
        if (!hash_insert(g->kv_hash, g->kv_hash_cap, g->kv[i].key, i, kv_name, g)) {
            g->n_kv = i + 1;
            return refuse(g->path, fmt(a, "key[%" PRId64 "]", i), fmt(b, "'%.80s' a second time", g->kv[i].key),
                          "each key once");
        }
    }
    if ((st = parse_alignment(g)) != SLM_OK) return st;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        if ((st = parse_tensor_info(&c, g, i)) != SLM_OK) {
            g->n_tensors = i + 1;
            return st;
        }
        if (!hash_insert(g->tensor_hash, g->tensor_hash_cap, g->tensors[i].name, i, tensor_name, g)) {
            g->n_tensors = i + 1;
            return refuse(g->path, fmt(a, "tensor[%" PRId64 "] name", i),
                          fmt(b, "'%s' a second time", g->tensors[i].name), "each tensor name once");
        }
    }
    /* data section: aligned start.  With no tensors there is no data section
     * and ggml reports the end of the tensor infos (padding may be absent). */
    g->data_start = g->n_tensors == 0 ? c.pos : c.pos + (g->alignment - c.pos % g->alignment) % g->alignment;
    return check_data(g);
}

slm_status slm_gguf_open(const char *path, slm_gguf **out) {
    *out = NULL;
    slm_gguf *g = slm_calloc(1, sizeof *g);
    if (!g) return SLM_ERR_NOMEM;
    if (!(g->path = slm_strdup(path))) {
        free(g);
        return SLM_ERR_NOMEM;
    }
    slm_status st = SLM_OK;
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        slm_log_error("%s: cannot open: %s", path, strerror(errno));
        st = errno == ENOENT ? SLM_ERR_USAGE : SLM_ERR_IO;
    } else if (!S_ISREG(sb.st_mode)) {
        st = refuse(path, "file type", "not a regular file", "a GGUF file");
    } else if ((uint64_t)sb.st_size < HEADER_BYTES) {
        char a[64];
        st = refuse(path, "file size", fmt(a, "%lld bytes", (long long)sb.st_size),
                    "at least 24 bytes (GGUF header)");
    } else {
        g->size = (size_t)sb.st_size;
        void *m = mmap(NULL, g->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            slm_log_error("%s: cannot map %zu bytes: %s", path, g->size, strerror(errno));
            g->size = 0;
            st = SLM_ERR_IO;
        } else {
            g->map = m;
            slm_mapguard_add(m, g->size, path); /* SIGBUS on a page -> error naming the file */
            g->owns_map = true;
            st = parse(g);
        }
    }
    if (fd >= 0) close(fd);
    if (st != SLM_OK) {
        slm_gguf_close(g);
        return st;
    }
    *out = g;
    return SLM_OK;
}

slm_status slm_gguf_open_memory(const void *data, size_t size, const char *name, slm_gguf **out) {
    *out = NULL;
    slm_gguf *g = slm_calloc(1, sizeof *g);
    if (!g) return SLM_ERR_NOMEM;
    if (!(g->path = slm_strdup(name))) {
        free(g);
        return SLM_ERR_NOMEM;
    }
    slm_status st;
    if (size < HEADER_BYTES) {
        char a[64];
        st = refuse(name, "file size", fmt(a, "%zu bytes", size), "at least 24 bytes (GGUF header)");
    } else {
        g->map = data;
        g->size = size;
        st = parse(g);
    }
    if (st != SLM_OK) {
        slm_gguf_close(g);
        return st;
    }
    *out = g;
    return SLM_OK;
}

void slm_gguf_close(slm_gguf *g) {
    if (!g) return;
    if (g->map && g->owns_map) {
        slm_mapguard_remove(g->map);
        munmap((void *)g->map, g->size);
    }
    for (int64_t i = 0; g->kv && i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].str_off);
        free(g->kv[i].aligned);
    }
    for (int64_t i = 0; g->tensors && i < g->n_tensors; i++) free((char *)g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    free(g->kv_hash);
    free(g->tensor_hash);
    free(g->path);
    free(g);
}
