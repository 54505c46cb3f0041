/* core/gguf_internal.h — the reader's in-memory layout, shared by
 * core/gguf.c (accessors, type table), core/gguf_read.c (parser) and
 * core/gguf_write.c (slm_gguf_copy_kv).  Not a public interface. */
#ifndef SLM_CORE_GGUF_INTERNAL_H
#define SLM_CORE_GGUF_INTERNAL_H

#include "core/gguf.h"

/* ggml's GGML_MAX_NAME: llama.cpp refuses tensor names of 64 bytes or more. */
#define SLM_GGUF_MAX_NAME 64

typedef struct {
    char *key;                /* NUL-terminated copy (owned) */
    slm_gguf_type type;
    slm_gguf_type arr_type;   /* arrays only */
    uint64_t arr_n;           /* arrays only */
    const uint8_t *blob;      /* value bytes as stored after the u32 type (into the map) */
    size_t blob_len;
    const uint8_t *val;       /* scalars: the value; arrays: first element (into the map) */
    uint64_t *str_off;        /* string arrays: offset of element j from val (owned) */
    void *aligned;            /* numeric arrays whose elements are misaligned: a copy (owned) */
} slm_gguf_kv;

struct slm_gguf {
    char *path;               /* owned */
    const uint8_t *map;       /* whole file, read-only mapping (or the caller's buffer) */
    bool owns_map;            /* munmap at close */
    size_t size;
    uint32_t version;
    size_t alignment;
    size_t data_start;        /* absolute offset of the data section */
    int64_t n_kv;
    slm_gguf_kv *kv;          /* (n_kv) */
    int64_t n_tensors;
    slm_gguf_tensor *tensors; /* (n_tensors); names owned */
    int64_t *kv_hash;         /* open addressing, (hash_cap) entries of index or -1 */
    int64_t *tensor_hash;
    size_t kv_hash_cap, tensor_hash_cap;
};

uint64_t slm_gguf_hash(const char *s, size_t n);

/* Element count and bytes of a tensor of type t, shape ne[4] (unused dims 1),
 * the one rule shared by reader and writer: a zero dimension makes an empty
 * tensor (0 elements, 0 bytes); otherwise the element count must fit int64
 * and the byte size size_t. */
typedef enum {
    SLM_GGUF_SIZE_OK,
    SLM_GGUF_SIZE_BAD_TYPE,
    SLM_GGUF_SIZE_NEGATIVE,
    SLM_GGUF_SIZE_BLOCK,    /* ne[0] not a multiple of the block size */
    SLM_GGUF_SIZE_OVERFLOW,
} slm_gguf_size_check;
slm_gguf_size_check slm_gguf_tensor_size(slm_type t, const int64_t ne[SLM_GGUF_MAX_DIMS],
                                         int64_t *n_elements, size_t *n_bytes);

#endif
