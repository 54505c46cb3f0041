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
 *
 * The tokenizer copies what it needs: g may be closed after from_gguf.  A
 * tokenizer is read-only after loading and may be shared by threads (each
 * encoding thread with its own session, or through encode/encode_mt).
 * Details, llama.cpp compatibility notes and tests: docs/tokenizers.md.
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
bool slm_tokenizer_add_eos(const slm_tokenizer *t); /* tokenizer.ggml.add_eos_token (encode never adds EOS) */
/* Id of a token whose text is exactly piece (e.g. "<|im_start|>"), or -1. */
int32_t slm_tokenizer_find(const slm_tokenizer *t, const char *piece);
/* Raw token text as stored in the vocabulary. */
const char *slm_tokenizer_token_text(const slm_tokenizer *t, int32_t id);
bool slm_tokenizer_is_control(const slm_tokenizer *t, int32_t id);

/* Encodes len bytes of text (no EOS is ever appended: callers add it).
 * add_bos prepends BOS; parse_special lets special
 * tokens written in the text (e.g. "<s>") map to their ids as llama.cpp's
 * parse_special does.  *ids is allocated (caller frees), *n_ids its length. */
slm_status slm_tokenizer_encode(const slm_tokenizer *t, const char *text, size_t len,
                                bool add_bos, bool parse_special, int32_t **ids,
                                size_t *n_ids);
/* Text of ids into a new NUL-terminated *buf (caller frees), *len bytes.
 * Control tokens render as nothing unless render_special; SPM drops the
 * prefix space of the first text token.  No clean-up of spaces, so
 * decode(encode(text)) == text (see docs/tokenizers.md). */
slm_status slm_tokenizer_decode(const slm_tokenizer *t, const int32_t *ids, size_t n,
                                bool render_special, char **buf, size_t *len);

/* ---- extensions (tok branch) ---- */

/* Reusable encoding state for one thread (scratch buffers and a cache of
 * pre-token -> ids): encoding many texts through one session is faster than
 * slm_tokenizer_encode, which makes a session per call.  A session must not
 * be used by two threads at once; any number of sessions may share t. */
typedef struct slm_tok_session slm_tok_session;
slm_tok_session *slm_tok_session_new(const slm_tokenizer *t); /* NULL on OOM */
void slm_tok_session_free(slm_tok_session *s);                 /* accepts NULL */
slm_status slm_tok_session_encode(slm_tok_session *s, const char *text, size_t len, bool add_bos,
                                  bool parse_special, int32_t **ids, size_t *n_ids);

/* Same result as slm_tokenizer_encode, computed by n_threads OpenMP threads
 * (<= 0: omp_get_max_threads()): the text is cut after newlines where no
 * token can span the cut (see docs/tokenizers.md) and the pieces are encoded
 * in parallel. */
slm_status slm_tokenizer_encode_mt(const slm_tokenizer *t, const char *text, size_t len,
                                   bool add_bos, bool parse_special, int n_threads,
                                   int32_t **ids, size_t *n_ids);

/* Text of one token as decode renders it (bytes for byte tokens, '▁' as
 * space for SPM, GPT-2 characters mapped back to bytes); control and unknown
 * tokens give "" unless render_special.  Borrowed; *len its length. */
const char *slm_tokenizer_piece(const slm_tokenizer *t, int32_t id, bool render_special, size_t *len);
/* tokenizer.ggml.token_type of id (1 normal, 2 unknown, 3 control,
 * 4 user-defined, 5 unused, 6 byte); 1 if the file has none. */
int32_t slm_tokenizer_token_type(const slm_tokenizer *t, int32_t id);
int32_t slm_tokenizer_pad(const slm_tokenizer *t); /* -1 if none */
const char *slm_tokenizer_model_name(const slm_tokenizer *t); /* "llama" or "gpt2" */
const char *slm_tokenizer_pre_name(const slm_tokenizer *t);   /* tokenizer.ggml.pre */

/* SHA-256 (hex) over the model type, pre-tokenizer, token texts, types,
 * scores and merges: two files with equal fingerprints tokenize identically. */
void slm_tokenizer_fingerprint(const slm_tokenizer *t, char out[65]);

#endif
