/* quantize/mix.h — per-tensor type choice of the llama.cpp quantization
 * mixes (llama_model_quantize's rules in llama-quant.cpp, llama.cpp release
 * bundled with node-llama-cpp 3.22.1), for Llama-architecture models.
 *
 * Rules reproduced (dense models, no experts):
 *  - only tensors with >= 2 dims whose name ends in "weight" and is not a
 *    "_norm.weight" are quantized; others keep their type;
 *  - output.weight (or token_embd.weight when there is no output.weight):
 *    Q8_0 if its rows are not a multiple of the block size, else Q6_K unless
 *    the mix's base type is Q8_0;
 *  - attn_v: Q2_K -> Q4_K if n_head/n_head_kv >= 4 else Q3_K; Q3_K_M -> Q5_K
 *    for the first two, then Q4_K; Q3_K_L -> Q5_K; Q4_K_M/Q5_K_M -> Q6_K on
 *    "more bits" layers (first and last eighth, every third in between);
 *    Q4_K_S -> Q5_K for the first four;
 *  - ffn_down: Q2_K -> Q3_K; Q3_K_M -> Q5_K below n_layer/16 else Q4_K;
 *    Q3_K_L -> Q5_K; Q4_K_M/Q5_K_M -> Q6_K on "more bits" layers; Q4_K_S ->
 *    Q5_K below n_layer/8; Q4_0/Q5_0 with an imatrix -> Q4_1/Q5_1 below n_layer/8;
 *  - attn_output: Q2_K -> Q3_K, Q3_K_M -> Q4_K, Q3_K_L -> Q5_K;
 *  - user overrides (regex PATTERN=TYPE, first match wins) replace the mix's
 *    choice; --keep patterns leave a tensor in its input type;
 *  - fallback when ne[0] is not a multiple of the chosen block size:
 *    Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16
 *    if still not divisible (llama.cpp aborts for the 32-element types; slm
 *    uses F16 and says so).
 * Layer counters run in llama.cpp's tensor order: by layer, then by name.
 */
#ifndef SLM_QUANTIZE_MIX_H
#define SLM_QUANTIZE_MIX_H

#include "core/base.h"
#include "core/gguf.h"

/* llama_ftype values (llama.h), written to general.file_type. */
typedef enum {
    SLM_FTYPE_ALL_F32 = 0,
    SLM_FTYPE_F16 = 1,
    SLM_FTYPE_Q4_0 = 2,
    SLM_FTYPE_Q4_1 = 3,
    SLM_FTYPE_Q8_0 = 7,
    SLM_FTYPE_Q5_0 = 8,
    SLM_FTYPE_Q5_1 = 9,
    SLM_FTYPE_Q2_K = 10,
    SLM_FTYPE_Q3_K_S = 11,
    SLM_FTYPE_Q3_K_M = 12,
    SLM_FTYPE_Q3_K_L = 13,
    SLM_FTYPE_Q4_K_S = 14,
    SLM_FTYPE_Q4_K_M = 15,
    SLM_FTYPE_Q5_K_S = 16,
    SLM_FTYPE_Q5_K_M = 17,
    SLM_FTYPE_Q6_K = 18,
    SLM_FTYPE_BF16 = 32,
} slm_ftype;

/* "Q4_K_M" -> SLM_FTYPE_Q4_K_M (case-insensitive); false if unknown. */
bool slm_ftype_from_name(const char *name, slm_ftype *out);
const char *slm_ftype_name(slm_ftype f);
/* Base tensor type of a mix (Q4_K for Q4_K_M, ...). */
slm_type slm_ftype_base_type(slm_ftype f);
/* Space-separated list of the accepted mix names, for messages. */
const char *slm_ftype_list(void);

typedef struct {
    const char *name;
    int n_dims;
    int64_t ne[SLM_GGUF_MAX_DIMS];
    slm_type type; /* input type */
} slm_mix_tensor;

typedef struct {
    const char *pattern; /* POSIX extended regex, searched in the name */
    slm_type type;
} slm_mix_override;

typedef struct {
    slm_ftype ftype;
    int64_t n_layer;   /* llama.block_count */
    int64_t n_head;    /* llama.attention.head_count */
    int64_t n_head_kv; /* llama.attention.head_count_kv */
    bool has_imatrix;
    const slm_mix_override *overrides; /* n_overrides entries */
    int n_overrides;
    const char *const *keep; /* n_keep regexes: tensors kept in their input type */
    int n_keep;
} slm_mix_params;

/* out[i] = type of tensor i.  Returns SLM_ERR_USAGE for a bad regex.  Each
 * fallback is logged (tensor, columns, wanted type, chosen type) and counted
 * in *n_fallback (may be NULL). */
slm_status slm_mix_choose(const slm_mix_params *p, const slm_mix_tensor *t, int64_t n,
                          slm_type *out, int *n_fallback);

#endif
