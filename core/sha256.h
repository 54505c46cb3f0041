/* core/sha256.h — SHA-256 (FIPS 180-4), for fingerprints and source hashes. */
#ifndef SLM_CORE_SHA256_H
#define SLM_CORE_SHA256_H

#include "core/base.h"

typedef struct {
    uint32_t h[8];
    uint64_t n_bytes;
    uint8_t buf[64];
    size_t buf_len;
} slm_sha256;

void slm_sha256_init(slm_sha256 *s);
void slm_sha256_update(slm_sha256 *s, const void *data, size_t n);
void slm_sha256_final(slm_sha256 *s, uint8_t digest[32]);
/* digest as 64 lowercase hex chars + NUL */
void slm_sha256_hex(const uint8_t digest[32], char out[65]);

#endif
