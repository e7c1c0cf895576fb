/*
 * SHA-256 after FIPS 180-4, written for clarity first: one compression
 * function over 64-byte blocks, whole blocks hashed straight from the
 * caller's buffer (no copy), only the tail kept in the context.
 */
#include "nb_sha256.h"

#include <string.h>

#ifdef __wasm__
#include "neoboot.h"
#define HOST_CHUNK (8u << 20) /* below the runtime's per-call limit */
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/*
 * The rounds are unrolled eight at a time with the working variables
 * renamed instead of shifted, and the message schedule kept in a 16-word
 * ring: under NeoBoot's interpreter every wasm instruction costs a
 * dispatch, and this removes the eight copies per round and the 64-word
 * array (hashing is most of fetch's CPU time).
 */
#define S0(x) (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22))
#define S1(x) (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25))
#define G0(x) (ROR(x, 7) ^ ROR(x, 18) ^ ((x) >> 3))
#define G1(x) (ROR(x, 17) ^ ROR(x, 19) ^ ((x) >> 10))
#define CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
/* w[i & 15] becomes message word i (i >= 16) */
#define SCHED(i) (w[(i) & 15] += G1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] + G0(w[((i) - 15) & 15]))
#define ROUND(a, b, c, d, e, f, g, h, i, wi)                  \
    do {                                                      \
        uint32_t t1 = h + S1(e) + CH(e, f, g) + K[i] + (wi);  \
        d += t1;                                              \
        h = t1 + S0(a) + MAJ(a, b, c);                        \
    } while (0)
#define EIGHT(i, W)                                  \
    ROUND(a, b, c, d, e, f, g, h, (i) + 0, W((i) + 0)); \
    ROUND(h, a, b, c, d, e, f, g, (i) + 1, W((i) + 1)); \
    ROUND(g, h, a, b, c, d, e, f, (i) + 2, W((i) + 2)); \
    ROUND(f, g, h, a, b, c, d, e, (i) + 3, W((i) + 3)); \
    ROUND(e, f, g, h, a, b, c, d, (i) + 4, W((i) + 4)); \
    ROUND(d, e, f, g, h, a, b, c, (i) + 5, W((i) + 5)); \
    ROUND(c, d, e, f, g, h, a, b, (i) + 6, W((i) + 6)); \
    ROUND(b, c, d, e, f, g, h, a, (i) + 7, W((i) + 7))
#define WDIRECT(i) w[i]

static void compress(uint32_t hs[8], const uint8_t *p)
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    uint32_t a = hs[0], b = hs[1], c = hs[2], d = hs[3], e = hs[4], f = hs[5], g = hs[6], h = hs[7];
    EIGHT(0, WDIRECT);
    EIGHT(8, WDIRECT);
    for (int i = 16; i < 64; i += 16) {
        EIGHT(i, SCHED);
        EIGHT(i + 8, SCHED);
    }
    hs[0] += a; hs[1] += b; hs[2] += c; hs[3] += d;
    hs[4] += e; hs[5] += f; hs[6] += g; hs[7] += h;
}

void nb_sha256_init(struct nb_sha256 *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->bytes = 0;
    c->fill = 0;
    c->host = 0;
    c->host_error = 0;
#ifdef __wasm__
    int32_t h = nb_digest_begin(NB_DIGEST_SHA256);
    if (h > 0)
        c->host = h;
#endif
}

void nb_sha256_update(struct nb_sha256 *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->bytes += len;
#ifdef __wasm__
    if (c->host > 0) {
        for (size_t off = 0; off < len && !c->host_error;) {
            size_t n = len - off < HOST_CHUNK ? len - off : HOST_CHUNK;
            if (nb_digest_update(c->host, p + off, n) < 0)
                c->host_error = 1;
            off += n;
        }
        return;
    }
#endif
    if (c->fill) {
        size_t take = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->block + c->fill, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill < 64)
            return;
        compress(c->h, c->block);
        c->fill = 0;
    }
    for (; len >= 64; p += 64, len -= 64)
        compress(c->h, p);
    memcpy(c->block, p, len);
    c->fill = len;
}

void nb_sha256_final(struct nb_sha256 *c, uint8_t digest[32])
{
#ifdef __wasm__
    if (c->host > 0) {
        /* a failed import (only misuse: the app closed the handle) must not
         * pass for a digest: zeros match no real file's */
        if (nb_digest_end(c->host, digest, 32) != 32 || c->host_error)
            memset(digest, 0, 32);
        c->host = 0;
        return;
    }
#endif
    uint64_t bits = c->bytes * 8;
    c->block[c->fill++] = 0x80;
    if (c->fill > 56) {
        memset(c->block + c->fill, 0, 64 - c->fill);
        compress(c->h, c->block);
        c->fill = 0;
    }
    memset(c->block + c->fill, 0, 56 - c->fill);
    for (int i = 0; i < 8; i++)
        c->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(c->h, c->block);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(c->h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void nb_sha256_hex(const uint8_t digest[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = 0;
}
