/* core/gguf.h — GGUF v3 reader and writer (the file format of llama.cpp).
 *
 * File layout (little-endian), as in ggml's gguf.h / docs/gguf.md:
 *   u32 magic "GGUF" | u32 version (3) | u64 n_tensors | u64 n_kv
 *   n_kv x { gguf_string key | u32 value_type | value }
 *   n_tensors x { gguf_string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
 *   padding to general.alignment (default 32)
 *   tensor data; each tensor at data_start + offset, offset a multiple of the alignment
 *   gguf_string = u64 length + bytes (no NUL); array = u32 elem_type + u64 count + elems
 *
 * Reader: slm_gguf_open() memory-maps the file and validates every count,
 * length, offset and size against the file before anything is used; on any
 * inconsistency it returns SLM_ERR_FORMAT after logging the file and field.
 * The returned handle owns the mapping; tensor data pointers stay valid until
 * slm_gguf_close().
 *
 * Writer usage:
 *   slm_gguf_writer *w = slm_gguf_writer_new();
 *   slm_gguf_set_str(w, "general.architecture", "llama");
 *   slm_gguf_set_u32(w, "llama.block_count", 6);
 *   slm_gguf_add_tensor(w, "token_embd.weight", SLM_TYPE_F32, 2, ne, data);  // data borrowed
 *   st = slm_gguf_writer_write(w, "out.gguf");   // temp file + fsync + rename
 *   slm_gguf_writer_free(w);
 */
#ifndef SLM_CORE_GGUF_H
#define SLM_CORE_GGUF_H

#include "core/base.h"

#define SLM_GGUF_MAX_DIMS 4
#define SLM_GGUF_DEFAULT_ALIGNMENT 32

/* Metadata value types, numbered as in the GGUF spec. */
typedef enum {
    SLM_GGUF_UINT8 = 0,
    SLM_GGUF_INT8 = 1,
    SLM_GGUF_UINT16 = 2,
    SLM_GGUF_INT16 = 3,
    SLM_GGUF_UINT32 = 4,
    SLM_GGUF_INT32 = 5,
    SLM_GGUF_FLOAT32 = 6,
    SLM_GGUF_BOOL = 7,
    SLM_GGUF_STRING = 8,
    SLM_GGUF_ARRAY = 9,
    SLM_GGUF_UINT64 = 10,
    SLM_GGUF_INT64 = 11,
    SLM_GGUF_FLOAT64 = 12,
    SLM_GGUF_TYPE_COUNT
} slm_gguf_type;

/* Tensor element types, numbered as ggml's enum ggml_type. */
typedef enum {
    SLM_TYPE_F32 = 0,
    SLM_TYPE_F16 = 1,
    SLM_TYPE_Q4_0 = 2,
    SLM_TYPE_Q4_1 = 3,
    SLM_TYPE_Q5_0 = 6,
    SLM_TYPE_Q5_1 = 7,
    SLM_TYPE_Q8_0 = 8,
    SLM_TYPE_Q8_1 = 9,
    SLM_TYPE_Q2_K = 10,
    SLM_TYPE_Q3_K = 11,
    SLM_TYPE_Q4_K = 12,
    SLM_TYPE_Q5_K = 13,
    SLM_TYPE_Q6_K = 14,
    SLM_TYPE_Q8_K = 15,
    SLM_TYPE_BF16 = 30,
    SLM_TYPE_COUNT = 40
} slm_type;

/* Block geometry: elements per block and bytes per block; 0 for ids ggml
 * does not define (then the reader refuses the tensor).  Besides the named
 * types above, ggml's other types (IQ*, I8..I64, F64, TQ1_0, TQ2_0, MXFP4)
 * have geometry and names so that any llama.cpp GGUF opens and copies; slm
 * computes only with the named ones. */
int64_t slm_type_block_size(slm_type t);
size_t slm_type_block_bytes(slm_type t);
const char *slm_type_name(slm_type t);          /* "F32", "Q4_K", ...; NULL if unknown */
bool slm_type_from_name(const char *name, slm_type *out);
/* Bytes of a row of n elements; 0 if n is not a multiple of the block size. */
size_t slm_type_row_bytes(slm_type t, int64_t n);

/* Metadata value types: "UINT8", ..., "FLOAT64" ("INVALID" if out of range);
 * bytes of one element of a fixed-size type (0 for STRING, ARRAY). */
const char *slm_gguf_type_name(slm_gguf_type t);
size_t slm_gguf_type_size(slm_gguf_type t);

typedef struct slm_gguf slm_gguf; /* opaque, read-only view of one file */

typedef struct {
    const char *name;  /* NUL-terminated copy, owned by the slm_gguf */
    slm_type type;
    int n_dims;
    int64_t ne[SLM_GGUF_MAX_DIMS]; /* ne[0] contiguous; unused dims are 1 */
    int64_t n_elements;
    size_t n_bytes;
    const void *data;  /* into the mapping */
    size_t offset;     /* relative to the data section */
} slm_gguf_tensor;

slm_status slm_gguf_open(const char *path, slm_gguf **out);
/* Same checks on a buffer the caller keeps alive until slm_gguf_close (not
 * copied); name is used in error messages and as slm_gguf_path(). */
slm_status slm_gguf_open_memory(const void *data, size_t size, const char *name, slm_gguf **out);
void slm_gguf_close(slm_gguf *g); /* accepts NULL */
const char *slm_gguf_path(const slm_gguf *g);
uint32_t slm_gguf_version(const slm_gguf *g);
size_t slm_gguf_alignment(const slm_gguf *g);
size_t slm_gguf_file_size(const slm_gguf *g);
size_t slm_gguf_data_offset(const slm_gguf *g); /* absolute offset of the data section */

/* Metadata: keys are indexed 0..n_kv-1 in file order. */
int64_t slm_gguf_n_kv(const slm_gguf *g);
int64_t slm_gguf_find_key(const slm_gguf *g, const char *key); /* -1 if absent */
const char *slm_gguf_key(const slm_gguf *g, int64_t i);
slm_gguf_type slm_gguf_kv_type(const slm_gguf *g, int64_t i);
slm_gguf_type slm_gguf_arr_type(const slm_gguf *g, int64_t i); /* element type of an array */
uint64_t slm_gguf_arr_n(const slm_gguf *g, int64_t i);
/* Numeric arrays only; the pointer is aligned for the element type (a copy
 * when the file stores the elements misaligned), valid until close. */
const void *slm_gguf_arr_data(const slm_gguf *g, int64_t i);
const char *slm_gguf_arr_str(const slm_gguf *g, int64_t i, uint64_t j, uint64_t *len);

/* Typed getters by key.  Return SLM_ERR_FORMAT (logged, naming file and key)
 * if the key is missing and required, or has another type.  An absent key with
 * required == false leaves *out unchanged and returns SLM_OK.  Integer getters
 * accept any integer type whose value fits. */
slm_status slm_gguf_get_u32(const slm_gguf *g, const char *key, bool required, uint32_t *out);
slm_status slm_gguf_get_i64(const slm_gguf *g, const char *key, bool required, int64_t *out);
slm_status slm_gguf_get_f32(const slm_gguf *g, const char *key, bool required, float *out);
slm_status slm_gguf_get_bool(const slm_gguf *g, const char *key, bool required, bool *out);
/* *out points into the file (not NUL-terminated); *len its length. */
slm_status slm_gguf_get_str(const slm_gguf *g, const char *key, bool required,
                            const char **out, uint64_t *len);
/* Scalar value of key i rendered as text (for slm info); arrays summarised. */
void slm_gguf_kv_to_string(const slm_gguf *g, int64_t i, char *buf, size_t cap);

int64_t slm_gguf_n_tensors(const slm_gguf *g);
const slm_gguf_tensor *slm_gguf_tensor_at(const slm_gguf *g, int64_t i);
const slm_gguf_tensor *slm_gguf_find_tensor(const slm_gguf *g, const char *name); /* NULL if absent */

/* Converts tensor t of g to f32: out holds t->n_elements floats.  Types F32,
 * F16, BF16 and Q8_0 (y = d * q, as ggml's dequantize_row_q8_0); any other
 * type returns SLM_ERR_FORMAT naming the file, tensor and type. */
slm_status slm_gguf_tensor_to_f32(const slm_gguf *g, const slm_gguf_tensor *t, float *out);

/* ---- writer ---- */
typedef struct slm_gguf_writer slm_gguf_writer;

/* Produces a tensor's bytes at write time (streaming): fill dst with n_bytes
 * (every byte: the buffer is not zeroed). */
typedef slm_status (*slm_gguf_fill_fn)(void *ctx, void *dst, size_t n_bytes);

slm_gguf_writer *slm_gguf_writer_new(void); /* NULL on OOM */
void slm_gguf_writer_free(slm_gguf_writer *w);
/* Setting an existing key replaces its value (keeps its position). */
slm_status slm_gguf_set_u8(slm_gguf_writer *w, const char *key, uint8_t v);
slm_status slm_gguf_set_u32(slm_gguf_writer *w, const char *key, uint32_t v);
slm_status slm_gguf_set_i32(slm_gguf_writer *w, const char *key, int32_t v);
slm_status slm_gguf_set_u64(slm_gguf_writer *w, const char *key, uint64_t v);
slm_status slm_gguf_set_f32(slm_gguf_writer *w, const char *key, float v);
slm_status slm_gguf_set_bool(slm_gguf_writer *w, const char *key, bool v);
slm_status slm_gguf_set_str(slm_gguf_writer *w, const char *key, const char *v);
slm_status slm_gguf_set_i8(slm_gguf_writer *w, const char *key, int8_t v);
slm_status slm_gguf_set_u16(slm_gguf_writer *w, const char *key, uint16_t v);
slm_status slm_gguf_set_i16(slm_gguf_writer *w, const char *key, int16_t v);
slm_status slm_gguf_set_i64(slm_gguf_writer *w, const char *key, int64_t v);
slm_status slm_gguf_set_f64(slm_gguf_writer *w, const char *key, double v);
/* Any fixed-size scalar type t (not STRING/ARRAY); v points to its value. */
slm_status slm_gguf_set_scalar(slm_gguf_writer *w, const char *key, slm_gguf_type t, const void *v);
/* The alignment of the data section is general.alignment (a UINT32 power of
 * two, set it like any key) or 32 when absent. */
/* Numeric array of n elements of type t (copied). */
slm_status slm_gguf_set_arr(slm_gguf_writer *w, const char *key, slm_gguf_type t,
                            const void *data, uint64_t n);
slm_status slm_gguf_set_arr_str(slm_gguf_writer *w, const char *key,
                                const char *const *strs, uint64_t n);
/* Copy key i of a reader (any type, arrays included). */
slm_status slm_gguf_copy_kv(slm_gguf_writer *w, const slm_gguf *src, int64_t i);
/* Copy every key of src except those for which skip(key) returns true (skip may be NULL). */
slm_status slm_gguf_copy_all_kv(slm_gguf_writer *w, const slm_gguf *src,
                                bool (*skip)(const char *key));
slm_status slm_gguf_remove_key(slm_gguf_writer *w, const char *key);

/* data is borrowed until slm_gguf_writer_write returns. */
slm_status slm_gguf_add_tensor(slm_gguf_writer *w, const char *name, slm_type type,
                               int n_dims, const int64_t *ne, const void *data);
/* Streaming variant: fill(ctx, dst, n_bytes) is called once, in order, at write time. */
slm_status slm_gguf_add_tensor_fn(slm_gguf_writer *w, const char *name, slm_type type,
                                  int n_dims, const int64_t *ne, slm_gguf_fill_fn fill,
                                  void *ctx);
/* Row-chunked streaming: fill_rows(ctx, dst, row0, n_rows) writes rows
 * [row0, row0 + n_rows) of the tensor (a row = ne[0] elements,
 * slm_type_row_bytes(type, ne[0]) bytes) to dst.  Called at write time on the
 * caller's thread, chunk after chunk in row order, the tensors in the order
 * added; the writer picks the chunks (about SLM_GGUF_CHUNK_BYTES each, whole
 * rows) and writes chunk k from a background thread while chunk k+1 is
 * produced, so production and the write overlap and memory stays near two
 * chunks whatever the tensor size. */
#define SLM_GGUF_CHUNK_BYTES ((size_t)4 << 20)
typedef slm_status (*slm_gguf_fill_rows_fn)(void *ctx, void *dst, int64_t row0, int64_t n_rows);
slm_status slm_gguf_add_tensor_rows(slm_gguf_writer *w, const char *name, slm_type type,
                                    int n_dims, const int64_t *ne, slm_gguf_fill_rows_fn fill_rows,
                                    void *ctx);
/* Writes to "<path>.tmp.<pid>", fsyncs, renames over path; removes the
 * temporary on failure.  Logs the path and errno on error.  Refuses
 * (SLM_ERR_RUNTIME) F32/F16/BF16 data holding NaN or Inf.  Tensor names must
 * be shorter than 64 bytes (llama.cpp's limit); add_tensor checks names,
 * shapes (ne[0] a multiple of the block size) and duplicates (SLM_ERR_USAGE). */
slm_status slm_gguf_writer_write(slm_gguf_writer *w, const char *path);
/* Seconds the last slm_gguf_writer_write spent making the file durable
 * (flush, fsync of file and directory, rename): the price of durability. */
double slm_gguf_writer_commit_seconds(const slm_gguf_writer *w);

#endif
