/*
 * minifetch: download one URL over HTTP/1.1 and report its size, SHA-256
 * and rate -- the pc tests' and benchmark's client, built with clang
 * --target=wasm32-wasi against sdk/include/neoboot.h only.
 *
 *     minifetch URL [EXPECTED_SHA256 | nohash]
 *
 * URL is http://HOST[:PORT]/PATH (HOST a name or an IPv4 address). Prints
 *     minifetch: 67108864 bytes in 3.21 s (19.9 MiB/s), sha256 <hex>
 * and exits 0 on a 200 answer whose body matches Content-Length (and the
 * expected digest, if given); 1 otherwise. "nohash" skips the digest (it
 * runs in the interpreter, so it dominates under emulation): the
 * benchmark measures the network path alone, as iPXE's imgfetch does.
 */
#include <neoboot.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SHA-256 (FIPS 180-4) ---- */

struct sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t fill;
};

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(struct sha256 *c, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
    c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

static void sha_init(struct sha256 *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->bytes = 0;
    c->fill = 0;
}

static void sha_update(struct sha256 *c, const uint8_t *p, size_t n)
{
    c->bytes += n;
    if (c->fill) {
        size_t k = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->block + c->fill, p, k);
        c->fill += k;
        p += k;
        n -= k;
        if (c->fill < 64)
            return;
        sha_block(c, c->block);
        c->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        sha_block(c, p);
    memcpy(c->block, p, n);
    c->fill = n;
}

static void sha_hex(struct sha256 *c, char out[65])
{
    uint64_t bits = c->bytes * 8;
    uint8_t pad = 0x80;
    sha_update(c, &pad, 1);
    uint8_t z = 0;
    while (c->fill != 56)
        sha_update(c, &z, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_update(c, len, 8);
    for (int i = 0; i < 8; i++)
        sprintf(out + 8 * i, "%08x", c->h[i]);
}

/* ---- HTTP ---- */

static int parse_url(const char *url, char *host, size_t hlen, unsigned *port,
                     const char **path)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *h = url + 7, *end = h + strcspn(h, ":/");
    if (end == h || (size_t)(end - h) >= hlen)
        return -1;
    memcpy(host, h, (size_t)(end - h));
    host[end - h] = 0;
    *port = 80;
    if (*end == ':') {
        *port = (unsigned)strtoul(end + 1, (char **)&end, 10);
        if (*port == 0 || *port > 65535)
            return -1;
    }
    *path = *end == '/' ? end : "/";
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: minifetch URL [EXPECTED_SHA256]\n");
        return 2;
    }
    char host[256];
    unsigned port;
    const char *path;
    if (parse_url(argv[1], host, sizeof host, &port, &path) != 0) {
        fprintf(stderr, "minifetch: bad URL %s (http://HOST[:PORT]/PATH)\n", argv[1]);
        return 2;
    }
    struct nb_addr addr;
    int32_t rc = nb_resolve(host, strlen(host), NB_AF_INET, &addr, 1, 0);
    if (rc <= 0) {
        fprintf(stderr, "minifetch: cannot resolve %s: error %d\n", host, (int)-rc);
        return 1;
    }
    addr.port = port;
    int64_t t0 = nb_clock(NB_CLOCK_MONOTONIC);
    int32_t s = nb_socket(NB_AF_INET, NB_SOCK_STREAM);
    rc = s < 0 ? s : nb_connect(s, &addr);
    if (rc < 0) {
        fprintf(stderr, "minifetch: cannot connect to %s:%u: error %d\n", host, port, (int)-rc);
        return 1;
    }
    nb_setopt(s, NB_SO_RCVTIMEO, 30000000000ll); /* a stalled server ends the fetch */
    char req[600];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: minifetch (NeoBoot)\r\n"
                     "Connection: close\r\n\r\n", path, host);
    if (n < 0 || (size_t)n >= sizeof req || nb_send(s, req, (size_t)n, 0) != n) {
        fprintf(stderr, "minifetch: cannot send the request\n");
        return 1;
    }
    static uint8_t buf[256 * 1024];
    size_t have = 0;
    char *body = NULL;
    while (!body) {
        if (have == 16384) {
            fprintf(stderr, "minifetch: response header too long\n");
            return 1;
        }
        int32_t r = nb_recv(s, buf + have, 16384 - have, 0);
        if (r <= 0) {
            fprintf(stderr, "minifetch: connection ended in the header (%d)\n", (int)-r);
            return 1;
        }
        have += (size_t)r;
        buf[have] = 0;
        body = strstr((char *)buf, "\r\n\r\n");
    }
    body += 4;
    int status = 0;
    sscanf((char *)buf, "HTTP/%*s %d", &status);
    long long expect = -1;
    for (char *p = (char *)buf; p < body; p = strchr(p, '\n') + 1) {
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            expect = strtoll(p + 15, NULL, 10);
        if (!strchr(p, '\n'))
            break;
    }
    bool hash = !(argc > 2 && strcmp(argv[2], "nohash") == 0);
    struct sha256 sha;
    sha_init(&sha);
    size_t first = have - (size_t)(body - (char *)buf);
    if (hash)
        sha_update(&sha, (uint8_t *)body, first);
    unsigned long long total = first;
    for (;;) {
        int32_t r = nb_recv(s, buf, sizeof buf, 0);
        if (r < 0) {
            fprintf(stderr, "minifetch: receive error %d after %llu bytes\n", (int)-r, total);
            return 1;
        }
        if (r == 0)
            break;
        if (hash)
            sha_update(&sha, buf, (size_t)r);
        total += (unsigned long long)r;
    }
    nb_close(s);
    double secs = (double)(nb_clock(NB_CLOCK_MONOTONIC) - t0) / 1e9;
    char hex[65] = "-";
    if (hash)
        sha_hex(&sha, hex);
    printf("minifetch: HTTP %d, %llu bytes in %.2f s (%.1f MiB/s), sha256 %s\n", status, total,
           secs, secs > 0 ? (double)total / secs / 1048576.0 : 0.0, hex);
    fflush(stdout);
    if (status != 200 || (expect >= 0 && (unsigned long long)expect != total)) {
        fprintf(stderr, "minifetch: incomplete (HTTP %d, %llu of %lld bytes)\n", status, total,
                expect);
        return 1;
    }
    if (hash && argc > 2 && strcmp(argv[2], hex) != 0) {
        fprintf(stderr, "minifetch: sha256 mismatch (expected %s)\n", argv[2]);
        return 1;
    }
    return 0;
}
