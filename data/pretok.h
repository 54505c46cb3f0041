/* data/pretok.h — byte-level BPE pre-tokenizers: the regular expressions of
 * llama.cpp's llm_tokenizer_bpe, written as hand-made matchers over code
 * points (no regex engine).  Each splits a text into "words" that BPE then
 * encodes independently.
 *
 *   SLM_PRETOK_GPT2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   SLM_PRETOK_LLAMA3  (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])
 *                      |[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
 *                      |\s*[\r\n]+|\s+(?!\S)|\s+
 *   SLM_PRETOK_QWEN2   as LLAMA3 with \p{N} (one digit per word) for \p{N}{1,3}
 *   SLM_PRETOK_DEFAULT llama.cpp's fallback: four expressions applied in turn,
 *                      [\p{P}\$\+<=>\^~\|]+ then GPT2 then \p{N}+ then [0-9][0-9][0-9]
 *
 * Classes (\p{L}, \s, ...) are those of data/unicode.h; each expression is
 * applied to every segment the previous one produced, the text between two
 * matches becoming a segment of its own (llama.cpp's unicode_regex_split). */
#ifndef SLM_DATA_PRETOK_H
#define SLM_DATA_PRETOK_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

typedef enum {
    SLM_PRETOK_GPT2,
    SLM_PRETOK_LLAMA3,
    SLM_PRETOK_QWEN2,
    SLM_PRETOK_DEFAULT,
    SLM_PRETOK_COUNT
} slm_pretok_kind;

/* Growable list of word lengths in code points. */
typedef struct {
    uint32_t *len; /* (n) */
    size_t n, cap;
} slm_pretok_words;

/* Splits the n code points cps (with fl[i] = slm_unicode_flags(cps[i])) into
 * words; replaces w's contents.  SLM_ERR_NOMEM on allocation failure. */
slm_status slm_pretok_split(slm_pretok_kind kind, const uint32_t *cps, const uint16_t *fl,
                            size_t n, slm_pretok_words *w);
void slm_pretok_words_free(slm_pretok_words *w);

/* Kind for a tokenizer.ggml.pre value; false if slm does not know it. */
bool slm_pretok_from_name(const char *pre, size_t len, slm_pretok_kind *kind);

#endif
