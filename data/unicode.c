/* data/unicode.c — code point classes, lowercase, UTF-8 and GPT-2 byte map
 * (see unicode.h).  The per-code-point class table (2.2 MB of uint16) is
 * expanded from the range list once, on first use, under pthread_once. */
#include "data/unicode.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

static uint16_t *g_flags;          /* (SLM_UNICODE_MAX) class bits per code point */
static uint32_t g_byte_to_cp[256]; /* GPT-2 byte -> code point */
static int16_t g_cp_to_byte[324];  /* code point (< 324) -> byte, or -1 */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
    uint16_t *f = malloc(sizeof(uint16_t) * SLM_UNICODE_MAX);
    if (f) {
        for (size_t i = 0; i < slm_unicode_n_ranges; i++) {
            uint32_t lo = slm_unicode_ranges[i][0];
            uint32_t hi = i + 1 < slm_unicode_n_ranges ? slm_unicode_ranges[i + 1][0] : SLM_UNICODE_MAX;
            for (uint32_t c = lo; c < hi; c++) f[c] = (uint16_t)slm_unicode_ranges[i][1];
        }
    }
    g_flags = f; /* NULL: slm_unicode_flags falls back to binary search */
    /* bytes_to_unicode (GPT-2, openai/gpt-2 encoder.py): '!'..'~', '¡'..'¬',
     * '®'..'ÿ' stand for themselves, the other 68 bytes get 256, 257, ... */
    for (int i = 0; i < 324; i++) g_cp_to_byte[i] = -1;
    int n = 0;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        g_byte_to_cp[b] = printable ? (uint32_t)b : (uint32_t)(256 + n++);
        g_cp_to_byte[g_byte_to_cp[b]] = (int16_t)b;
    }
}

static uint16_t flags_search(uint32_t cp) {
    size_t lo = 0, hi = slm_unicode_n_ranges; /* last range with start <= cp */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (slm_unicode_ranges[mid][0] <= cp) lo = mid;
        else hi = mid;
    }
    return (uint16_t)slm_unicode_ranges[lo][1];
}

uint16_t slm_unicode_flags(uint32_t cp) {
    if (cp >= SLM_UNICODE_MAX) return SLM_UCP_UNDEFINED;
    pthread_once(&g_once, build_tables);
    return g_flags ? g_flags[cp] : flags_search(cp);
}

uint32_t slm_unicode_tolower(uint32_t cp) {
    size_t lo = 0, hi = slm_unicode_n_lower;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (slm_unicode_lower[mid][0] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < slm_unicode_n_lower && slm_unicode_lower[lo][0] == cp ? slm_unicode_lower[lo][1] : cp;
}

uint32_t slm_utf8_decode(const unsigned char *s, size_t n, size_t *used) {
    unsigned c = s[0];
    *used = 1;
    if (!(c & 0x80)) return c;
    if (!(c & 0x40)) return SLM_UNICODE_REPLACEMENT; /* stray continuation byte */
    size_t len = !(c & 0x20) ? 2 : !(c & 0x10) ? 3 : !(c & 0x08) ? 4 : 0;
    if (len == 0 || len > n) return SLM_UNICODE_REPLACEMENT;
    uint32_t cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return SLM_UNICODE_REPLACEMENT;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *used = len;
    return cp;
}

size_t slm_utf8_encode(uint32_t cp, unsigned char out[4]) {
    if (cp <= 0x7F) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp <= 0x7FF) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp > 0x10FFFF) cp = SLM_UNICODE_REPLACEMENT;
    if (cp <= 0xFFFF) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

uint32_t slm_unicode_byte_to_cp(uint8_t b) {
    pthread_once(&g_once, build_tables);
    return g_byte_to_cp[b];
}

int slm_unicode_cp_to_byte(uint32_t cp) {
    pthread_once(&g_once, build_tables);
    return cp < 324 ? g_cp_to_byte[cp] : -1;
}
