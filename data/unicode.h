/* data/unicode.h — the Unicode facts slm's tokenizers need, as llama.cpp's
 * unicode.cpp defines them: a class per code point (general category group
 * plus White_Space), lowercase mapping, UTF-8 decoding with llama.cpp's
 * treatment of invalid bytes, and GPT-2's byte <-> printable-character map.
 * The tables come from data/unicode_table.c (scripts/gen_unicode_table.py). */
#ifndef SLM_DATA_UNICODE_H
#define SLM_DATA_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Class bits (same values as llama.cpp's unicode_cpt_flags). */
enum {
    SLM_UCP_UNDEFINED = 0x001, /* Cn, or outside 0..0x10FFFF */
    SLM_UCP_NUMBER = 0x002,    /* \p{N} */
    SLM_UCP_LETTER = 0x004,    /* \p{L} */
    SLM_UCP_SEPARATOR = 0x008, /* \p{Z} */
    SLM_UCP_MARK = 0x010,      /* \p{M} */
    SLM_UCP_PUNCT = 0x020,     /* \p{P} */
    SLM_UCP_SYMBOL = 0x040,    /* \p{S} */
    SLM_UCP_CONTROL = 0x080,   /* \p{C} except Cn */
    SLM_UCP_WHITESPACE = 0x100 /* \s: Unicode White_Space */
};

#define SLM_UNICODE_MAX 0x110000u
#define SLM_UNICODE_REPLACEMENT 0xFFFDu

extern const uint32_t slm_unicode_ranges[][2];
extern const size_t slm_unicode_n_ranges;
extern const uint32_t slm_unicode_lower[][2];
extern const size_t slm_unicode_n_lower;

/* Class bits of code point cp (thread-safe; the full table is built once). */
uint16_t slm_unicode_flags(uint32_t cp);
uint32_t slm_unicode_tolower(uint32_t cp);

/* Length of the UTF-8 sequence announced by lead byte c (1..4; continuation
 * and invalid bytes count 1), as llama.cpp's unicode_len_utf8. */
static inline size_t slm_utf8_len(unsigned char c) {
    static const unsigned char lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

/* Decodes one code point at s[0..n) (n > 0) and stores the bytes used in
 * *used.  Invalid or truncated sequences yield U+FFFD and consume one byte,
 * exactly as llama.cpp's unicode_cpts_from_utf8. */
uint32_t slm_utf8_decode(const unsigned char *s, size_t n, size_t *used);
/* Encodes cp (<= 0x10FFFF; larger values are encoded as U+FFFD) into out[4];
 * returns the byte count. */
size_t slm_utf8_encode(uint32_t cp, unsigned char out[4]);

/* GPT-2 bytes_to_unicode: byte b is written as the code point
 * slm_byte_to_cp[b] (printable bytes map to themselves). */
uint32_t slm_unicode_byte_to_cp(uint8_t b);
/* Inverse; -1 if cp is not the image of a byte. */
int slm_unicode_cp_to_byte(uint32_t cp);

#endif
