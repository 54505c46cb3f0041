/* cli/model_cli.h — what `slm eval` and `slm generate` share: thread
 * setting, loading a model GGUF with its tokenizer, merging LoRA adapters
 * (--lora, repeatable, with --lora-scale), and a progress bar on a TTY. */
#ifndef SLM_CLI_MODEL_CLI_H
#define SLM_CLI_MODEL_CLI_H

#include "cli/opts.h"
#include "core/gguf.h"
#include "data/tokenizer.h"
#include "model/llama.h"

typedef struct {
    slm_gguf *g;            /* the model file (metadata) */
    slm_llama_weights w;
    slm_tokenizer *tok;
} slm_cli_model;

/* threads <= 0 keeps OpenMP's default (OMP_NUM_THREADS).  Sets OpenMP's and
 * OpenBLAS's thread counts together (OpenMP build of OpenBLAS). */
void slm_cli_set_threads(int64_t threads);
/* Loads path, its tokenizer, then merges each adapter of loras with scale. */
slm_status slm_cli_model_load(const char *path, const slm_strlist *loras, double lora_scale,
                              slm_cli_model *m);
void slm_cli_model_free(slm_cli_model *m);
/* "\r[#####     ] done/total what" on stderr when it is a terminal; a final
 * newline when done == total. */
void slm_cli_progress(int64_t done, int64_t total, const char *what);

#endif
