/* data/bpe_train.h — training a byte-level BPE vocabulary (GPT-2 style) and
 * writing it as a vocab-only GGUF that slm and llama.cpp load.
 *
 *   slm_bpe_train_params p = slm_bpe_train_default_params();
 *   p.vocab_size = 4096;
 *   slm_bpe_trainer *tr;
 *   st = slm_bpe_trainer_new(&p, &tr);
 *   st = slm_bpe_trainer_add_text(tr, doc, len);      // once per document
 *   st = slm_bpe_trainer_train(tr);
 *   st = slm_bpe_trainer_write_gguf(tr, "vocab.gguf"); // temp file + rename
 *   slm_bpe_trainer_free(tr);
 *
 * Text is split by the GPT-2 pre-tokenizer (data/pretok.h) and words are
 * counted; merges are learned greedily: the most frequent adjacent symbol
 * pair is merged, ties broken by the smaller (left id, right id) — symbol
 * ids are assigned in creation order, so the result depends only on the
 * word counts, not on file order or threads.  Pair counts are updated
 * incrementally (pair -> words index, lazy max-heap).
 *
 * Vocabulary layout: special tokens (ids 0..S-1: "<pad>", "<s>", "</s>",
 * then the extra ones), the 256 byte tokens (GPT-2 characters, byte order),
 * then one token per merge in merge order.  Written keys:
 * general.architecture = llama, general.name, tokenizer.ggml.model = gpt2,
 * tokenizer.ggml.pre = gpt-2, tokens, token_type (special: 3 control, others
 * 1 normal), merges, bos/eos/padding_token_id, add_bos_token = add_eos_token
 * = false. */
#ifndef SLM_DATA_BPE_TRAIN_H
#define SLM_DATA_BPE_TRAIN_H

#include "core/base.h"

typedef struct {
    int64_t vocab_size;        /* total tokens incl. 256 bytes and the specials */
    int64_t min_frequency;     /* a pair seen fewer times is never merged (>= 1) */
    const char *const *extra_special; /* (n_extra_special) besides <pad>, <s>, </s> */
    size_t n_extra_special;
    const char *name;          /* general.name */
} slm_bpe_train_params;

/* vocab_size 4096, min_frequency 2, extra specials: the ChatML, Llama-3 and
 * Zephyr chat markers (slm_bpe_default_chat_specials). */
slm_bpe_train_params slm_bpe_train_default_params(void);
extern const char *const slm_bpe_default_chat_specials[];
extern const size_t slm_bpe_n_default_chat_specials;

typedef struct slm_bpe_trainer slm_bpe_trainer;

slm_status slm_bpe_trainer_new(const slm_bpe_train_params *p, slm_bpe_trainer **out);
void slm_bpe_trainer_free(slm_bpe_trainer *tr);
/* Pre-tokenizes and counts one document (any bytes; invalid UTF-8 is
 * treated as llama.cpp's tokenizer treats it, as U+FFFD). */
slm_status slm_bpe_trainer_add_text(slm_bpe_trainer *tr, const char *text, size_t len);
/* Learns the merges.  Fewer than requested when the text runs out of pairs
 * of min_frequency (logged); see slm_bpe_trainer_stats. */
slm_status slm_bpe_trainer_train(slm_bpe_trainer *tr);
slm_status slm_bpe_trainer_write_gguf(const slm_bpe_trainer *tr, const char *path);

typedef struct {
    int64_t bytes, documents, words, unique_words, merges, vocab_size;
} slm_bpe_train_stats;
void slm_bpe_trainer_stats(const slm_bpe_trainer *tr, slm_bpe_train_stats *s);

#endif
