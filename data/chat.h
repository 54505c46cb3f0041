/* data/chat.h — rendering records (data/readers.h) to token ids + a per-token
 * loss mask, plain or through a chat template.
 *
 * Templates (special tokens looked up in the vocabulary; a vocabulary that
 * lacks one is refused by slm_chat_template_init with the missing piece):
 *   chatml : <|im_start|>ROLE\nCONTENT<|im_end|>\n            needs <|im_start|>, <|im_end|>
 *   llama2 : <s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nUSER [/INST] ASSISTANT </s>
 *            (the space before ASSISTANT comes from the encoder's dummy prefix
 *            when it has one, else is encoded with the assistant text)
 *                                                         needs BOS and EOS ids
 *   llama3 : <|begin_of_text|><|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>
 *            needs <|begin_of_text|>, <|start_header_id|>, <|end_header_id|>, <|eot_id|>
 *   zephyr : <|ROLE|>\nCONTENT</s>\n                       needs the EOS id
 * Mask = 1 only on assistant content and the end marker that closes it
 * (<|im_end|>, </s>, <|eot_id|>); everything else 0.  User text is encoded
 * with special-token parsing OFF, so "<|im_end|>" typed by a user stays text.
 *
 * Without a template: TEXT records are all mask 1; PROMPT records are the
 * prompt (mask 0) then the completion (mask 1), encoded separately.
 * Every document gets EOS at the end (mask 1 for plain records; for templated
 * records EOS is appended with mask 0 only if it is not already the
 * template's end marker).  BOS (mask 0) is prepended when the vocabulary's
 * add_bos_token is set (llama2/llama3 write their own). */
#ifndef SLM_DATA_CHAT_H
#define SLM_DATA_CHAT_H

#include "core/base.h"
#include "data/readers.h"
#include "data/tokenizer.h"

/* What rendering needs from a tokenizer; tests may supply a fake. */
typedef struct slm_encoder slm_encoder;
struct slm_encoder {
    const void *ctx;
    /* encode without BOS and without special-token parsing; *ids allocated */
    slm_status (*encode)(const void *ctx, const char *text, size_t len, int32_t **ids,
                         size_t *n);
    int32_t (*find)(const void *ctx, const char *piece); /* -1 if absent */
    int32_t bos, eos; /* -1 if none */
    bool add_bos;
    int32_t n_vocab;
    bool space_prefix; /* encode puts a space before the text (SentencePiece's dummy prefix) */
    /* optional: a copy for one thread (e.g. with its own scratch state);
     * encoders without it are shared between threads as they are */
    slm_status (*thread_copy)(const slm_encoder *e, slm_encoder *out);
    void (*thread_release)(slm_encoder *e);
};

/* Encoder over t; thread copies encode through their own slm_tok_session. */
void slm_encoder_from_tokenizer(slm_encoder *e, const slm_tokenizer *t);

typedef enum {
    SLM_TEMPLATE_NONE = 0,
    SLM_TEMPLATE_CHATML,
    SLM_TEMPLATE_LLAMA2,
    SLM_TEMPLATE_LLAMA3,
    SLM_TEMPLATE_ZEPHYR,
    SLM_TEMPLATE_COUNT
} slm_template_kind;

bool slm_template_from_name(const char *name, slm_template_kind *out); /* "none", "chatml", ... */
const char *slm_template_name(slm_template_kind k);

typedef struct {
    slm_template_kind kind;
    int32_t start, end;        /* chatml im_start/im_end; llama3 start/end_header */
    int32_t bot, eot;          /* llama3 begin_of_text / eot_id */
    int32_t end_marker;        /* token closing an assistant turn (-1 for none) */
} slm_chat_template;

/* Looks the template's special tokens up; SLM_ERR_USAGE naming the template
 * and the missing token if the vocabulary lacks one. */
slm_status slm_chat_template_init(slm_chat_template *ct, slm_template_kind kind,
                                  const slm_encoder *e);

/* Growable token + mask buffer. */
typedef struct {
    int32_t *tokens; /* (n) */
    uint8_t *mask;   /* (n) */
    int64_t n, cap;
} slm_token_buf;
void slm_token_buf_free(slm_token_buf *b);

/* Renders rec into out (cleared first).  ct NULL or kind NONE: plain rules.
 * CHAT records need a template.  A record the template cannot express
 * (llama2 without strict user/assistant alternation) sets err (a reason) and
 * returns SLM_OK with out->n == 0; err must hold 256 bytes. */
slm_status slm_render_record(const slm_chat_template *ct, const slm_encoder *e,
                             const slm_record *rec, slm_token_buf *out, char *err);

#endif
