/* quantize/quantize_model.h — GGUF -> quantized GGUF (STYLE row 4).
 *
 *   slm_quantize_params p = slm_quantize_default_params();
 *   p.ftype = SLM_FTYPE_Q4_K_M;
 *   st = slm_quantize_model("in.gguf", "out.gguf", &p);
 *
 * Streams tensor by tensor: each output tensor is produced by the GGUF
 * writer's fill callback, rows in parallel (OpenMP), each row dequantized
 * from the input (any type slm reads) into a per-thread buffer and quantized
 * with slm's quantizers; memory stays near one output tensor.  Metadata and
 * vocabulary are copied; general.file_type and general.quantization_version
 * (2) are set; the output goes through a temporary file and a rename.
 * With a hessian, block-type tensors whose inputs it covers are quantized with
 * error feedback, one chunk of rows at a time (the factor of H^-1, n x n,
 * is computed when the tensor's first chunk is produced and kept for the
 * next tensors that read the same input).
 */
#ifndef SLM_QUANTIZE_QUANTIZE_MODEL_H
#define SLM_QUANTIZE_QUANTIZE_MODEL_H

#include "quantize/hessian.h"
#include "quantize/imatrix.h"
#include "quantize/mix.h"

typedef struct {
    slm_ftype ftype;
    const slm_imatrix *imatrix;         /* borrowed, may be NULL */
    bool refine;                        /* slm's least-squares refinement (default false) */
    const slm_hessian *hessian;         /* borrowed, may be NULL: error feedback (quantize/gptq.h)
                                         * for the block-type tensors it covers */
    double damp;                        /* its relative dampening (default 0.01) */
    const slm_mix_override *overrides;  /* --type-override */
    int n_overrides;
    const char *const *keep;            /* --keep */
    int n_keep;
    int n_threads;                      /* <= 0: OpenMP default */
    bool quiet;                         /* no per-tensor progress lines */
} slm_quantize_params;

slm_quantize_params slm_quantize_default_params(void);
slm_status slm_quantize_model(const char *in_path, const char *out_path, const slm_quantize_params *p);

#endif
