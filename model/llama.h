/* model/llama.h — the Llama architecture as llama.cpp defines it
 * (general.architecture = llama): hyper-parameters from the llama.* keys,
 * weights by GGUF tensor name, held in f32 (quantized/half inputs are
 * dequantized at load).  This header fixes the weight layout shared by
 * inference (model/), training (train/), distillation and export.
 *
 * GGUF names: token_embd.weight, blk.N.{attn_norm, attn_q, attn_k, attn_v,
 * attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}.weight,
 * output_norm.weight, output.weight (absent = tied to token_embd).
 */
#ifndef SLM_MODEL_LLAMA_H
#define SLM_MODEL_LLAMA_H

#include "core/base.h"
#include "core/gguf.h"

typedef struct {
    int64_t n_vocab;   /* V */
    int64_t n_embd;    /* C */
    int64_t n_layer;   /* L */
    int64_t n_head;    /* NH */
    int64_t n_head_kv; /* NKV, divides NH */
    int64_t head_dim;  /* hs = C / NH */
    int64_t n_ff;      /* F */
    int64_t n_ctx;     /* context length the model was trained for */
    float rms_eps;     /* llama.attention.layer_norm_rms_epsilon */
    float rope_base;   /* llama.rope.freq_base (default 10000) */
    bool tied_output;  /* no output.weight: logits use token_embd */
} slm_llama_hparams;

typedef struct {
    float *attn_norm; /* (C) */
    float *wq;        /* (NH*hs, C)  attn_q */
    float *wk;        /* (NKV*hs, C) attn_k */
    float *wv;        /* (NKV*hs, C) attn_v */
    float *wo;        /* (C, NH*hs)  attn_output */
    float *ffn_norm;  /* (C) */
    float *w_gate;    /* (F, C) ffn_gate */
    float *w_up;      /* (F, C) ffn_up */
    float *w_down;    /* (C, F) ffn_down */
} slm_llama_layer;

/* Which weight a tensor is, for iteration in a fixed order (GGUF order). */
typedef enum {
    SLM_W_TOKEN_EMBD = 0,
    SLM_W_ATTN_NORM,
    SLM_W_ATTN_Q,
    SLM_W_ATTN_K,
    SLM_W_ATTN_V,
    SLM_W_ATTN_OUTPUT,
    SLM_W_FFN_NORM,
    SLM_W_FFN_GATE,
    SLM_W_FFN_UP,
    SLM_W_FFN_DOWN,
    SLM_W_OUTPUT_NORM,
    SLM_W_OUTPUT,
    SLM_W_COUNT
} slm_llama_wkind;

typedef struct {
    slm_llama_hparams hp;
    float *token_embd;       /* (V, C) */
    slm_llama_layer *layers; /* [L] */
    float *output_norm;      /* (C) */
    float *output;           /* (V, C); aliases token_embd when hp.tied_output */
    float *mem;              /* one 64-byte aligned allocation holding all of the above */
    size_t n_floats;
} slm_llama_weights;

/* One tensor of the model, as iterated by slm_llama_tensor(). */
typedef struct {
    char name[64];       /* GGUF name, e.g. "blk.3.attn_q.weight" */
    slm_llama_wkind kind;
    int layer;           /* -1 for non-layer tensors */
    int n_dims;          /* 1 or 2 */
    int64_t ne[2];       /* GGUF order: ne[0] = input features (contiguous) */
    float *data;
} slm_llama_tensor_ref;

/* Reads and validates hyper-parameters (missing head_count_kv = NH, etc.). */
slm_status slm_llama_hparams_from_gguf(const slm_gguf *g, slm_llama_hparams *hp);
/* Allocates zeroed weights for hp (one allocation). */
slm_status slm_llama_weights_alloc(const slm_llama_hparams *hp, slm_llama_weights *w);
void slm_llama_weights_free(slm_llama_weights *w); /* accepts zeroed struct */
/* Loads every tensor of a GGUF, dequantizing to f32; checks names and shapes. */
slm_status slm_llama_weights_load(const slm_gguf *g, slm_llama_weights *w);
/* Number of tensors (tied output counts once) and the i-th in GGUF order. */
int64_t slm_llama_n_tensors(const slm_llama_weights *w);
void slm_llama_tensor(const slm_llama_weights *w, int64_t i, slm_llama_tensor_ref *out);

/* Opens path, reads hparams, allocates and loads the weights.  *g_out (may be
 * NULL) receives the open file for its metadata (tokenizer); caller closes it. */
slm_status slm_llama_load(const char *path, slm_gguf **g_out, slm_llama_weights *w);
/* Any tensor of a GGUF to f32: F32/F16/BF16, and the block types when slm is
 * built with quantize/ (SLM_ERR_FORMAT naming file and tensor otherwise).
 * dst (t->n_elements). */
slm_status slm_llama_dequantize(const char *path, const slm_gguf_tensor *t, float *dst);

/* Writing a model.  Tensors are stored as type (F32, F16 or BF16; 1-D norms
 * always F32), hyper-parameters as llama.* keys from w->hp, and the
 * tokenizer.* and general.* keys (but architecture/file_type/alignment) are
 * copied from meta_src (may be NULL).  slm_llama_gguf_writer returns the
 * populated writer so that callers can add keys before writing; w's data is
 * borrowed until the write.  slm_llama_save_gguf writes to path atomically. */
slm_status slm_llama_gguf_writer(const slm_llama_weights *w, const slm_gguf *meta_src,
                                 slm_type type, slm_gguf_writer **out);
slm_status slm_llama_save_gguf(const slm_llama_weights *w, const slm_gguf *meta_src,
                               slm_type type, const char *path);

#endif
