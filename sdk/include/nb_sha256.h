/*
 * nb_sha256.h: SHA-256 (FIPS 180-4), small and streaming, for apps that
 * check what they download (fetch) or receive (httpd's /sink). Pure C:
 * it also builds natively, where the unit tests check it against the
 * standard's test vectors. In an app (wasm) the runtime does the hashing
 * natively through the digest imports, an order of magnitude faster than
 * interpreted code; this C code is the fallback when it cannot (no free
 * handle).
 */
#ifndef NB_SDK_SHA256_H
#define NB_SDK_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct nb_sha256 {
    uint32_t h[8];
    uint64_t bytes;      /* message length so far */
    uint8_t block[64];   /* partial block */
    size_t fill;
    int32_t host;        /* > 0: the runtime's digest handle */
    int32_t host_error;  /* an import failed: final gives all zeros */
};

void nb_sha256_init(struct nb_sha256 *c);
void nb_sha256_update(struct nb_sha256 *c, const void *data, size_t len);
/* Also frees the runtime's handle: every init needs its final (or the
 * handle stays until the app ends). */
void nb_sha256_final(struct nb_sha256 *c, uint8_t digest[32]);
/* digest as 64 lowercase hex digits and a NUL */
void nb_sha256_hex(const uint8_t digest[32], char out[65]);

#endif
