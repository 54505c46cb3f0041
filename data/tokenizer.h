/* data/tokenizer.h — tokenizers read from GGUF metadata, matching llama.cpp:
 *   tokenizer.ggml.model = "llama": SentencePiece BPE with scores, byte fallback
 *   tokenizer.ggml.model = "gpt2":  byte-level BPE with merges, pre-tokenizer
 *                                    regex chosen by tokenizer.ggml.pre
 * plus special/control tokens, encode and decode.
 *
 *   slm_tokenizer *tok;
 *   st = slm_tokenizer_from_gguf(g, &tok);
 *   st = slm_tokenizer_encode(tok, text, len, true, false, &ids, &n);  // free(ids)
 *   slm_tokenizer_free(tok);
 */
#ifndef SLM_DATA_TOKENIZER_H
#define SLM_DATA_TOKENIZER_H

#include "core/base.h"
#include "core/gguf.h"

typedef struct slm_tokenizer slm_tokenizer;

slm_status slm_tokenizer_from_gguf(const slm_gguf *g, slm_tokenizer **out);
void slm_tokenizer_free(slm_tokenizer *t);

int32_t slm_tokenizer_n_vocab(const slm_tokenizer *t);
int32_t slm_tokenizer_bos(const slm_tokenizer *t); /* -1 if none */
int32_t slm_tokenizer_eos(const slm_tokenizer *t); /* -1 if none */
bool slm_tokenizer_add_bos(const slm_tokenizer *t); /* tokenizer.ggml.add_bos_token */
/* Id of a token whose text is exactly piece (e.g. "<|im_start|>"), or -1. */
int32_t slm_tokenizer_find(const slm_tokenizer *t, const char *piece);
/* Raw token text as stored in the vocabulary. */
const char *slm_tokenizer_token_text(const slm_tokenizer *t, int32_t id);
bool slm_tokenizer_is_control(const slm_tokenizer *t, int32_t id);

/* Encodes len bytes of text.  add_bos prepends BOS; parse_special lets special
 * tokens written in the text (e.g. "<s>") map to their ids as llama.cpp's
 * parse_special does.  *ids is allocated (caller frees), *n_ids its length. */
slm_status slm_tokenizer_encode(const slm_tokenizer *t, const char *text, size_t len,
                                bool add_bos, bool parse_special, int32_t **ids,
                                size_t *n_ids);
/* Appends the bytes of token id to buf (grown as needed, NUL-terminated).
 * Control tokens render as nothing unless render_special. */
slm_status slm_tokenizer_decode(const slm_tokenizer *t, const int32_t *ids, size_t n,
                                bool render_special, char **buf, size_t *len);

/* SHA-256 (hex) over the model type, pre-tokenizer, token texts, types,
 * scores and merges: two files with equal fingerprints tokenize identically. */
void slm_tokenizer_fingerprint(const slm_tokenizer *t, char out[65]);

#endif
