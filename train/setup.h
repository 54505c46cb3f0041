/* train/setup.h — pieces of a training job that turn a config into model
 * weights and data: hyper-parameters of a pretraining model, its random
 * initialisation, the vocabulary size of a GGUF, and packed token sequences
 * (from a tokenized HDF5 dataset or a token array) as a trainer data source.
 *
 * Packing: a split of n tokens gives (n - 1) / T sequences; sequence i reads
 * tokens [i T, i T + T) and predicts tokens [i T + 1, i T + T]; the loss mask
 * of a position is the dataset's loss_mask of its target token. */
#ifndef SLM_TRAIN_SETUP_H
#define SLM_TRAIN_SETUP_H

#include "core/gguf.h"
#include "model/llama.h"
#include "model/llama_train.h"
#include "train/config.h"
#include "train/trainer.h"

/* Hyper-parameters of a pretraining model from [model] keys (ffn = 0: 8/3 dim
 * rounded up to a multiple of 32; kv_heads = 0: heads; ctx = 0: seq_len). */
void slm_train_hparams_from_config(const slm_train_config *c, int64_t n_vocab,
                                   slm_llama_hparams *hp);
/* Random init: matrices N(0, std), attn_output and ffn_down N(0, std/sqrt(2 L))
 * (GPT-2), norms 1. */
void slm_train_init_weights(slm_llama_weights *w, float std, slm_rng *rng);
/* Number of entries of tokenizer.ggml.tokens; SLM_ERR_FORMAT naming the file if absent. */
slm_status slm_gguf_vocab_size(const slm_gguf *g, int64_t *n);

/* Token sequences of one run (owned arrays). */
typedef struct {
    int32_t *tok[2];   /* [train, val] (n[s]) */
    uint8_t *mask[2];  /* (n[s]) or NULL = all ones */
    int64_t n[2];
    int64_t T;
    int64_t n_vocab;   /* ids are checked against it */
} slm_token_data;

/* Takes ownership of the arrays; checks every id is in [0, n_vocab). */
slm_status slm_token_data_init(slm_token_data *td, int32_t *train, uint8_t *train_mask,
                               int64_t n_train, int32_t *val, uint8_t *val_mask, int64_t n_val,
                               int64_t T, int64_t n_vocab, const char *what);
/* Reads both splits of an HDF5 dataset (data/dataset.h); fingerprint (may be
 * NULL) must match the dataset's tokenizer fingerprint. */
slm_status slm_token_data_from_dataset(slm_token_data *td, const char *path, int64_t T,
                                       int64_t n_vocab, const char *fingerprint,
                                       const char *model_what);
void slm_token_data_free(slm_token_data *td);
/* The trainer's view of td (borrowed). */
slm_train_data slm_token_data_source(slm_token_data *td);

/* The Llama training graph as a trainer model.  With LoRA dropout the graph
 * needs an rng even for validation; it then gets a fixed-seed stream, so
 * val_loss stays deterministic (but includes dropout noise).  gr must
 * outlive the returned model. */
typedef struct {
    slm_llama_train *tr;
    bool dropout;
} slm_graph_ctx;
slm_train_model slm_graph_model(slm_graph_ctx *gr, int64_t n_vocab);

/* Trainer parameters from a resolved config (steps, batch, schedule, AdamW,
 * clipping, cadences, output dir, mode); the caller adds config_text, the
 * resume check, progress and stop. */
slm_trainer_params slm_trainer_params_from_config(const slm_train_config *c);

#endif
