/* core/gguf_write.c — GGUF v3 writer.  Metadata values are kept serialised
 * (the bytes that follow the u32 value type in the file), so copying a key
 * from a reader is a byte copy.  Tensor data is borrowed or produced by a
 * fill callback at write time; each tensor starts at a multiple of
 * general.alignment (default 32) and is padded to it, tensors packed in the
 * order added, as ggml writes them.  Output goes through core/fileio
 * (temporary file, fsync, rename).
 *
 * Tensor data is written by a background thread: while it writes one buffer
 * (borrowed data, a filled tensor or a chunk of rows) the caller's thread
 * produces the next into the other of two buffers, so quantization and the
 * kernel's copy into the page cache overlap. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/gguf_internal.h"

#define GGUF_MAGIC 0x46554747u
#define GGUF_VERSION 3u

typedef struct {
    char *key;
    slm_gguf_type type;
    uint8_t *blob; /* serialised value (owned) */
    size_t blob_len;
} wkv;

typedef struct {
    char *name;
    slm_type type;
    int n_dims;
    int64_t ne[SLM_GGUF_MAX_DIMS];
    size_t n_bytes;
    const void *data; /* borrowed, or NULL when fill is set */
    slm_gguf_fill_fn fill;
    slm_gguf_fill_rows_fn fill_rows;
    void *ctx;
} wtensor;

struct slm_gguf_writer {
    wkv *kv;
    int64_t n_kv, cap_kv;
    wtensor *t;
    int64_t n_t, cap_t;
    double commit_sec; /* of the last write */
};

slm_gguf_writer *slm_gguf_writer_new(void) { return slm_calloc(1, sizeof(slm_gguf_writer)); }

void slm_gguf_writer_free(slm_gguf_writer *w) {
    if (!w) return;
    for (int64_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].blob);
    }
    for (int64_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w);
}

static int64_t find_kv(const slm_gguf_writer *w, const char *key) {
    for (int64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) return i;
    return -1;
}

/* Takes ownership of blob (also on failure). */
static slm_status set_blob(slm_gguf_writer *w, const char *key, slm_gguf_type type, uint8_t *blob,
                           size_t len) {
    if (!blob) return SLM_ERR_NOMEM;
    if (!key[0]) {
        free(blob);
        slm_log_error("gguf writer: found an empty key, expected a non-empty key (llama.cpp refuses them)");
        return SLM_ERR_USAGE;
    }
    int64_t i = find_kv(w, key);
    if (i >= 0) {
        free(w->kv[i].blob);
        w->kv[i].type = type;
        w->kv[i].blob = blob;
        w->kv[i].blob_len = len;
        return SLM_OK;
    }
    if (w->n_kv == w->cap_kv) {
        int64_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        wkv *nk = realloc(w->kv, (size_t)cap * sizeof *nk);
        if (!nk) {
            free(blob);
            slm_log_error("gguf writer: out of memory for %lld keys", (long long)cap);
            return SLM_ERR_NOMEM;
        }
        w->kv = nk;
        w->cap_kv = cap;
    }
    char *k = slm_strdup(key);
    if (!k) {
        free(blob);
        return SLM_ERR_NOMEM;
    }
    w->kv[w->n_kv++] = (wkv){k, type, blob, len};
    return SLM_OK;
}

static uint8_t *blob_of(const void *p, size_t n) {
    uint8_t *b = slm_alloc(n ? n : 1);
    if (b && n) memcpy(b, p, n);
    return b;
}

slm_status slm_gguf_set_scalar(slm_gguf_writer *w, const char *key, slm_gguf_type t, const void *v) {
    size_t sz = slm_gguf_type_size(t);
    SLM_ASSERT(sz > 0);
    return set_blob(w, key, t, blob_of(v, sz), sz);
}

slm_status slm_gguf_set_u8(slm_gguf_writer *w, const char *key, uint8_t v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_UINT8, &v);
}
slm_status slm_gguf_set_i8(slm_gguf_writer *w, const char *key, int8_t v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_INT8, &v);
}
slm_status slm_gguf_set_u16(slm_gguf_writer *w, const char *key, uint16_t v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_UINT16, &v);
}
slm_status slm_gguf_set_i16(slm_gguf_writer *w, const char *key, int16_t v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_INT16, &v);
}
slm_status slm_gguf_set_u32(slm_gguf_writer *w, const char *key, uint32_t v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_UINT32, &v);
}
slm_status slm_gguf_set_i32(slm_gguf_writer *w, const char *key, int32_t v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_INT32, &v);
}
slm_status slm_gguf_set_u64(slm_gguf_writer *w, const char *key, uint64_t v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_UINT64, &v);
}
slm_status slm_gguf_set_i64(slm_gguf_writer *w, const char *key, int64_t v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_INT64, &v);
}
slm_status slm_gguf_set_f32(slm_gguf_writer *w, const char *key, float v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_FLOAT32, &v);
}
slm_status slm_gguf_set_f64(slm_gguf_writer *w, const char *key, double v) {
    return slm_gguf_set_scalar(w, key, SLM_GGUF_FLOAT64, &v);
}
slm_status slm_gguf_set_bool(slm_gguf_writer *w, const char *key, bool v) {
    uint8_t b = v ? 1 : 0;
    return slm_gguf_set_scalar(w, key, SLM_GGUF_BOOL, &b);
}

slm_status slm_gguf_set_str(slm_gguf_writer *w, const char *key, const char *v) {
    uint64_t n = strlen(v);
    uint8_t *b = slm_alloc(8 + (size_t)n);
    if (b) {
        memcpy(b, &n, 8);
        memcpy(b + 8, v, (size_t)n);
    }
    return set_blob(w, key, SLM_GGUF_STRING, b, 8 + (size_t)n);
}

slm_status slm_gguf_set_arr(slm_gguf_writer *w, const char *key, slm_gguf_type t, const void *data,
                            uint64_t n) {
    size_t esz = slm_gguf_type_size(t), bytes;
    SLM_ASSERT(esz > 0); /* numeric element types only; strings: slm_gguf_set_arr_str */
    if (!slm_mul_size((size_t)n, esz, &bytes) || bytes > SIZE_MAX - 12) return SLM_ERR_NOMEM;
    uint8_t *b = slm_alloc(12 + bytes);
    if (b) {
        uint32_t et = (uint32_t)t;
        memcpy(b, &et, 4);
        memcpy(b + 4, &n, 8);
        if (bytes) memcpy(b + 12, data, bytes);
    }
    return set_blob(w, key, SLM_GGUF_ARRAY, b, 12 + bytes);
}

slm_status slm_gguf_set_arr_str(slm_gguf_writer *w, const char *key, const char *const *strs,
                                uint64_t n) {
    size_t bytes = 12;
    for (uint64_t j = 0; j < n; j++) bytes += 8 + strlen(strs[j]);
    uint8_t *b = slm_alloc(bytes);
    if (b) {
        uint32_t et = SLM_GGUF_STRING;
        memcpy(b, &et, 4);
        memcpy(b + 4, &n, 8);
        size_t pos = 12;
        for (uint64_t j = 0; j < n; j++) {
            uint64_t len = strlen(strs[j]);
            memcpy(b + pos, &len, 8);
            memcpy(b + pos + 8, strs[j], (size_t)len);
            pos += 8 + (size_t)len;
        }
    }
    return set_blob(w, key, SLM_GGUF_ARRAY, b, bytes);
}

slm_status slm_gguf_copy_kv(slm_gguf_writer *w, const slm_gguf *src, int64_t i) {
    SLM_ASSERT(i >= 0 && i < src->n_kv);
    const slm_gguf_kv *kv = &src->kv[i];
    return set_blob(w, kv->key, kv->type, blob_of(kv->blob, kv->blob_len), kv->blob_len);
}

slm_status slm_gguf_copy_all_kv(slm_gguf_writer *w, const slm_gguf *src,
                                bool (*skip)(const char *key)) {
    for (int64_t i = 0; i < src->n_kv; i++) {
        if (skip && skip(src->kv[i].key)) continue;
        slm_status st = slm_gguf_copy_kv(w, src, i);
        if (st != SLM_OK) return st;
    }
    return SLM_OK;
}

slm_status slm_gguf_remove_key(slm_gguf_writer *w, const char *key) {
    int64_t i = find_kv(w, key);
    if (i < 0) return SLM_OK;
    free(w->kv[i].key);
    free(w->kv[i].blob);
    memmove(&w->kv[i], &w->kv[i + 1], (size_t)(w->n_kv - i - 1) * sizeof *w->kv);
    w->n_kv--;
    return SLM_OK;
}

/* ---- tensors ---- */

static slm_status add_tensor(slm_gguf_writer *w, const char *name, slm_type type, int n_dims,
                             const int64_t *ne, const void *data, slm_gguf_fill_fn fill,
                             slm_gguf_fill_rows_fn fill_rows, void *ctx) {
    if (strlen(name) >= SLM_GGUF_MAX_NAME) {
        slm_log_error("gguf writer: tensor '%s': name of %zu bytes, expected fewer than %d "
                      "(llama.cpp's GGML_MAX_NAME)", name, strlen(name), SLM_GGUF_MAX_NAME);
        return SLM_ERR_USAGE;
    }
    if (slm_type_block_size(type) == 0) {
        slm_log_error("gguf writer: tensor '%s': type %d, expected a ggml type slm knows", name, (int)type);
        return SLM_ERR_USAGE;
    }
    if (n_dims < 1 || n_dims > SLM_GGUF_MAX_DIMS) {
        slm_log_error("gguf writer: tensor '%s': n_dims %d, expected 1..%d", name, n_dims, SLM_GGUF_MAX_DIMS);
        return SLM_ERR_USAGE;
    }
    for (int64_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) {
            slm_log_error("gguf writer: tensor '%s' added twice, expected unique names", name);
            return SLM_ERR_USAGE;
        }
    wtensor t = {0};
    t.type = type;
    t.n_dims = n_dims;
    for (int d = 0; d < SLM_GGUF_MAX_DIMS; d++) t.ne[d] = d < n_dims ? ne[d] : 1;
    int64_t n_el;
    switch (slm_gguf_tensor_size(type, t.ne, &n_el, &t.n_bytes)) {
    case SLM_GGUF_SIZE_OK:
        break;
    case SLM_GGUF_SIZE_BLOCK:
        slm_log_error("gguf writer: tensor '%s': ne[0] = %" PRId64 ", expected a multiple of %s's "
                      "block size %" PRId64, name, t.ne[0], slm_type_name(type), slm_type_block_size(type));
        return SLM_ERR_USAGE;
    default:
        slm_log_error("gguf writer: tensor '%s': shape %" PRId64 " x %" PRId64 " x %" PRId64 " x %" PRId64
                      ", expected dimensions >= 0 whose element count and byte size fit",
                      name, t.ne[0], t.ne[1], t.ne[2], t.ne[3]);
        return SLM_ERR_USAGE;
    }
    if (w->n_t == w->cap_t) {
        int64_t cap = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *nt = realloc(w->t, (size_t)cap * sizeof *nt);
        if (!nt) {
            slm_log_error("gguf writer: out of memory for %lld tensors", (long long)cap);
            return SLM_ERR_NOMEM;
        }
        w->t = nt;
        w->cap_t = cap;
    }
    if (!(t.name = slm_strdup(name))) return SLM_ERR_NOMEM;
    t.data = data;
    t.fill = fill;
    t.fill_rows = fill_rows;
    t.ctx = ctx;
    w->t[w->n_t++] = t;
    return SLM_OK;
}

slm_status slm_gguf_add_tensor(slm_gguf_writer *w, const char *name, slm_type type, int n_dims,
                               const int64_t *ne, const void *data) {
    SLM_ASSERT(ne != NULL); /* data may be NULL only for an empty tensor (checked at write) */
    return add_tensor(w, name, type, n_dims, ne, data, NULL, NULL, NULL);
}

slm_status slm_gguf_add_tensor_fn(slm_gguf_writer *w, const char *name, slm_type type, int n_dims,
                                  const int64_t *ne, slm_gguf_fill_fn fill, void *ctx) {
    SLM_ASSERT(fill != NULL);
    return add_tensor(w, name, type, n_dims, ne, NULL, fill, NULL, ctx);
}

slm_status slm_gguf_add_tensor_rows(slm_gguf_writer *w, const char *name, slm_type type, int n_dims,
                                    const int64_t *ne, slm_gguf_fill_rows_fn fill_rows, void *ctx) {
    SLM_ASSERT(fill_rows != NULL);
    return add_tensor(w, name, type, n_dims, ne, NULL, NULL, fill_rows, ctx);
}

double slm_gguf_writer_commit_seconds(const slm_gguf_writer *w) { return w->commit_sec; }

/* ---- output ---- */

typedef struct {
    slm_outfile of;
    size_t pos;
    const char *path;
} out;

static slm_status emit(out *o, const void *p, size_t n) {
    o->pos += n;
    return slm_outfile_write(&o->of, p, n);
}

static slm_status emit_u32(out *o, uint32_t v) { return emit(o, &v, 4); }
static slm_status emit_u64(out *o, uint64_t v) { return emit(o, &v, 8); }

static slm_status emit_str(out *o, const char *s) {
    slm_status st = emit_u64(o, strlen(s));
    return st == SLM_OK ? emit(o, s, strlen(s)) : st;
}

static slm_status emit_pad(out *o, size_t align) {
    size_t n = (align - o->pos % align) % align;
    o->pos += n;
    return slm_outfile_pad(&o->of, n);
}

/* Refuses NaN/Inf in float tensors (STYLE rule 15): they would load silently.
 * data holds n_bytes of the tensor starting at element first. */
static slm_status check_finite(const out *o, const wtensor *t, const void *data, size_t n_bytes,
                               int64_t first) {
    if (t->type != SLM_TYPE_F32 && t->type != SLM_TYPE_F16 && t->type != SLM_TYPE_BF16) return SLM_OK;
    int64_t n = n_bytes / slm_type_block_bytes(t->type);
    for (int64_t i = 0; i < n; i++) {
        bool bad;
        if (t->type == SLM_TYPE_F32) {
            float f;
            memcpy(&f, (const uint8_t *)data + 4 * i, 4);
            bad = !isfinite(f);
        } else if (t->type == SLM_TYPE_F16 || t->type == SLM_TYPE_BF16) {
            uint16_t h;
            memcpy(&h, (const uint8_t *)data + 2 * i, 2);
            uint16_t e = t->type == SLM_TYPE_F16 ? 0x7c00 : 0x7f80;
            bad = (h & e) == e;
        } else {
            return SLM_OK;
        }
        if (bad) {
            slm_log_error("%s: tensor '%s' element %" PRId64 ": found a NaN or Inf, expected finite "
                          "values (diverged training?)", o->path, t->name, first + i);
            return SLM_ERR_RUNTIME;
        }
    }
    return SLM_OK;
}

/* ---- background writer ---- */

typedef struct {
    out *o;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const void *data; /* the job: n bytes, then padding to pad_align (0: none) */
    size_t n, pad_align;
    bool busy, quit, started;
    slm_status st; /* first failure */
} bgwriter;

static slm_status write_job(out *o, const void *data, size_t n, size_t pad_align) {
    slm_status st = emit(o, data, n);
    return st == SLM_OK && pad_align ? emit_pad(o, pad_align) : st;
}

static void *bg_main(void *arg) {
    bgwriter *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->busy && !b->quit) pthread_cond_wait(&b->cv, &b->mu);
        if (!b->busy) break;
        const void *data = b->data;
        const size_t n = b->n, pad_align = b->pad_align;
        const bool ok = b->st == SLM_OK;
        pthread_mutex_unlock(&b->mu);
        slm_status st = ok ? write_job(b->o, data, n, pad_align) : SLM_OK;
        pthread_mutex_lock(&b->mu);
        if (b->st == SLM_OK) b->st = st;
        b->busy = false;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void bg_start(bgwriter *b, out *o) {
    memset(b, 0, sizeof *b);
    b->o = o;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    /* without a thread every job is written synchronously */
    b->started = pthread_create(&b->th, NULL, bg_main, b) == 0;
}

/* Waits until the job in flight is written; returns the first failure. */
static slm_status bg_wait(bgwriter *b) {
    pthread_mutex_lock(&b->mu);
    while (b->busy) pthread_cond_wait(&b->cv, &b->mu);
    const slm_status st = b->st;
    pthread_mutex_unlock(&b->mu);
    return st;
}

/* Queues one job after the one in flight has finished (so the buffer used two
 * jobs ago is free again when this returns).  data must stay valid until the
 * next bg_submit / bg_wait returns. */
static slm_status bg_submit(bgwriter *b, const void *data, size_t n, size_t pad_align) {
    slm_status st = bg_wait(b);
    if (st != SLM_OK) return st;
    if (!b->started) return (b->st = write_job(b->o, data, n, pad_align));
    pthread_mutex_lock(&b->mu);
    b->data = data;
    b->n = n;
    b->pad_align = pad_align;
    b->busy = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return SLM_OK;
}

static void bg_stop(bgwriter *b) {
    if (b->started) {
        bg_wait(b);
        pthread_mutex_lock(&b->mu);
        b->quit = true;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
        pthread_join(b->th, NULL);
    }
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

static int64_t n_rows_of(const wtensor *t) {
    return t->ne[0] > 0 ? t->ne[1] * t->ne[2] * t->ne[3] : 0;
}

/* Rows per chunk of a fill_rows tensor: about SLM_GGUF_CHUNK_BYTES, >= 1. */
static int64_t chunk_rows(const wtensor *t) {
    const int64_t nr = n_rows_of(t);
    if (nr == 0) return 0;
    const size_t rb = t->n_bytes / (size_t)nr;
    int64_t k = rb ? (int64_t)(SLM_GGUF_CHUNK_BYTES / rb) : nr;
    return k < 1 ? 1 : k > nr ? nr : k;
}

/* Uninitialised (every byte is filled before it is written), 64-aligned. */
static void *alloc_buf(size_t n) {
    void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
    if (!p) slm_log_error("gguf writer: out of memory allocating a %zu-byte buffer", n);
    return p;
}

static slm_status write_data(slm_gguf_writer *w, out *o, size_t align, size_t buf_bytes) {
    uint8_t *bufs[2] = {NULL, NULL};
    slm_status st = SLM_OK;
    int k = 0;
    if (buf_bytes && (!(bufs[0] = alloc_buf(buf_bytes)) || !(bufs[1] = alloc_buf(buf_bytes)))) {
        free(bufs[0]);
        return SLM_ERR_NOMEM;
    }
    bgwriter bg;
    bg_start(&bg, o);
    for (int64_t i = 0; st == SLM_OK && i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        if (t->fill_rows) {
            const int64_t nr = n_rows_of(t), per = chunk_rows(t);
            const size_t rb = nr ? t->n_bytes / (size_t)nr : 0;
            if (nr == 0) st = bg_submit(&bg, NULL, 0, align);
            for (int64_t r0 = 0; st == SLM_OK && r0 < nr; r0 += per) {
                const int64_t n = per < nr - r0 ? per : nr - r0;
                uint8_t *b = bufs[k++ & 1];
                if ((st = t->fill_rows(t->ctx, b, r0, n)) != SLM_OK) {
                    slm_log_error("%s: producing rows %" PRId64 "..%" PRId64 " of tensor '%s' failed: %s",
                                  o->path, r0, r0 + n - 1, t->name, slm_status_str(st));
                    break;
                }
                st = check_finite(o, t, b, (size_t)n * rb, r0 * t->ne[0]);
                if (st == SLM_OK) st = bg_submit(&bg, b, (size_t)n * rb, r0 + n == nr ? align : 0);
            }
        } else if (t->fill) {
            uint8_t *b = bufs[k++ & 1];
            if ((st = t->fill(t->ctx, b, t->n_bytes)) != SLM_OK) {
                slm_log_error("%s: producing tensor '%s' failed: %s", o->path, t->name, slm_status_str(st));
                break;
            }
            st = check_finite(o, t, b, t->n_bytes, 0);
            if (st == SLM_OK) st = bg_submit(&bg, b, t->n_bytes, align);
        } else {
            SLM_ASSERT(t->data != NULL || t->n_bytes == 0);
            st = check_finite(o, t, t->data, t->n_bytes, 0);
            if (st == SLM_OK) st = bg_submit(&bg, t->data, t->n_bytes, align);
        }
    }
    const slm_status st_bg = bg_wait(&bg);
    bg_stop(&bg);
    free(bufs[0]);
    free(bufs[1]);
    return st != SLM_OK ? st : st_bg;
}

static slm_status write_all(slm_gguf_writer *w, out *o, size_t align) {
    slm_status st = SLM_OK;
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((st = (x)) != SLM_OK) goto done;                                                       \
    } while (0)
    TRY(emit_u32(o, GGUF_MAGIC));
    TRY(emit_u32(o, GGUF_VERSION));
    TRY(emit_u64(o, (uint64_t)w->n_t));
    TRY(emit_u64(o, (uint64_t)w->n_kv));
    for (int64_t i = 0; i < w->n_kv; i++) {
        TRY(emit_str(o, w->kv[i].key));
        TRY(emit_u32(o, (uint32_t)w->kv[i].type));
        TRY(emit(o, w->kv[i].blob, w->kv[i].blob_len));
    }
    size_t off = 0, buf_bytes = 0;
    for (int64_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        TRY(emit_str(o, t->name));
        TRY(emit_u32(o, (uint32_t)t->n_dims));
        for (int d = 0; d < t->n_dims; d++) TRY(emit_u64(o, (uint64_t)t->ne[d]));
        TRY(emit_u32(o, (uint32_t)t->type));
        TRY(emit_u64(o, off));
        off += t->n_bytes + (align - t->n_bytes % align) % align;
        size_t need = t->fill ? t->n_bytes : 0;
        if (t->fill_rows && n_rows_of(t)) need = (size_t)chunk_rows(t) * (t->n_bytes / (size_t)n_rows_of(t));
        if (need > buf_bytes) buf_bytes = need;
    }
    TRY(emit_pad(o, align));
    st = write_data(w, o, align, buf_bytes);
done:
    return st;
#undef TRY
}

slm_status slm_gguf_writer_write(slm_gguf_writer *w, const char *path) {
    size_t align = SLM_GGUF_DEFAULT_ALIGNMENT;
    int64_t ai = find_kv(w, "general.alignment");
    if (ai >= 0) {
        uint32_t a = 0;
        if (w->kv[ai].type != SLM_GGUF_UINT32) {
            slm_log_error("%s: key 'general.alignment': found type %s, expected UINT32", path,
                          slm_gguf_type_name(w->kv[ai].type));
            return SLM_ERR_USAGE;
        }
        memcpy(&a, w->kv[ai].blob, 4);
        if (a == 0 || (a & (a - 1)) != 0) {
            slm_log_error("%s: key 'general.alignment': found %" PRIu32 ", expected a power of two", path, a);
            return SLM_ERR_USAGE;
        }
        align = a;
    }
    out o = {.path = path};
    slm_status st = slm_outfile_open(&o.of, path);
    if (st != SLM_OK) return st;
    st = write_all(w, &o, align);
    if (st == SLM_OK) {
        const double t0 = slm_time_sec();
        st = slm_outfile_commit(&o.of);
        w->commit_sec = slm_time_sec() - t0;
        return st;
    }
    slm_outfile_abort(&o.of);
    return st;
}
