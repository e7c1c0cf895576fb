/*
 * SHA-256 (FIPS 180-4), incremental. Used to check bundled apps in images,
 * staged kernels and initrds, and by the shell's `sha256`.
 */
#ifndef NEOBOOT_SHA256_H
#define NEOBOOT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define NB_SHA256_LEN 32

struct nb_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t fill;
};

void nb_sha256_init(struct nb_sha256 *c);
void nb_sha256_update(struct nb_sha256 *c, const void *data, size_t len);
void nb_sha256_final(struct nb_sha256 *c, uint8_t out[NB_SHA256_LEN]);
/* One call for a whole buffer. */
void nb_sha256(const void *data, size_t len, uint8_t out[NB_SHA256_LEN]);
/* Lower-case hex (65 bytes with the NUL). */
void nb_sha256_hex(const uint8_t digest[NB_SHA256_LEN], char out[65]);
/* Parse 64 hex digits. 0 or NB_EINVAL. */
int nb_sha256_parse(const char *hex, uint8_t out[NB_SHA256_LEN]);

#endif
