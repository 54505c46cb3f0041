/* model/adapter.h — LoRA adapters at inference, in llama.cpp's adapter GGUF
 * format (general.type = adapter, adapter.type = lora, adapter.lora.alpha;
 * tensors "<base name>.lora_a" ne = [in, r] and "<base name>.lora_b"
 * ne = [r, out]).  The adapter is merged into the f32 weights:
 *     W (out, in) += scale * B (out, r) @ A (r, in),
 *     scale = user_scale * alpha / r   (user_scale when alpha is 0),
 * which is llama.cpp's y = W x + scale * B (A x) up to float rounding. */
#ifndef SLM_MODEL_ADAPTER_H
#define SLM_MODEL_ADAPTER_H

#include "core/gguf.h"
#include "model/llama.h"

/* Validates every adapter tensor against w (names, shapes, types) before
 * changing anything; SLM_ERR_FORMAT naming file and tensor otherwise. */
slm_status slm_adapter_merge(const slm_gguf *a, float user_scale, slm_llama_weights *w);
slm_status slm_adapter_merge_file(const char *path, float user_scale, slm_llama_weights *w);

#endif
