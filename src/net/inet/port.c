/*
 * lwIP's platform port for NeoBoot (NO_SYS=1): the millisecond clock,
 * randomness, diagnostics and assertions, and RFC 6528 initial sequence
 * numbers. Freestanding: it uses only the platform interface.
 */
#include "lwip/opt.h"

#include "lwip/ip_addr.h"
#include "lwip/sys.h"
#include "lwip_hooks.h"

#include <neoboot/log.h>
#include <neoboot/platform.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

NB_LOG_MODULE(lwip);

u32_t sys_now(void)
{
    return (u32_t)(nb_clock_ns() / NB_NS_PER_MS);
}

/* xorshift64*, seeded from the platform's entropy: lwIP's random needs
 * (ports, DNS ids, DHCP xids, ND timers) want unpredictable, not crypto. */
static uint64_t rng_state;

uint32_t nb_lwip_rand(void)
{
    if (!rng_state) {
        if (nb_platform_entropy(&rng_state, sizeof rng_state) != 0 || !rng_state)
            rng_state = nb_clock_ns() | 1;
    }
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

void nb_lwip_diag(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    NB_DEBUG("%s", line);
}

void nb_lwip_assert(const char *msg, const char *file, int line)
{
    nb_log_write(&nb_log_mod_, NB_LOG_ERROR, "lwIP assertion \"%s\" failed at %s:%d", msg,
                 file, line);
    __builtin_trap();
}

/* SipHash-2-4 (Aumasson, Bernstein), for the ISN's keyed hash. */
static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static uint64_t siphash(const uint8_t key[16], const uint8_t *in, size_t len)
{
    uint64_t k0, k1;
    memcpy(&k0, key, 8);
    memcpy(&k1, key + 8, 8);
    uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
#define SIPROUND                                                          \
    do {                                                                  \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);         \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                            \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                            \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);         \
    } while (0)
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t j = 0; i + j < len; j++)
        b |= (uint64_t)in[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
#undef SIPROUND
    return v0 ^ v1 ^ v2 ^ v3;
}

u32_t nb_lwip_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
                      const ip_addr_t *remote_ip, u16_t remote_port)
{
    static uint8_t key[16];
    static int keyed;
    if (!keyed) {
        if (nb_platform_entropy(key, sizeof key) != 0) {
            uint64_t t = nb_clock_ns();
            memcpy(key, &t, sizeof t);
        }
        keyed = 1;
    }
    uint8_t buf[40];
    size_t n = 0;
    memcpy(buf + n, &local_port, 2);
    n += 2;
    memcpy(buf + n, &remote_port, 2);
    n += 2;
    if (IP_IS_V6(local_ip)) {
        memcpy(buf + n, ip_2_ip6(local_ip)->addr, 16);
        n += 16;
        memcpy(buf + n, ip_2_ip6(remote_ip)->addr, 16);
        n += 16;
    } else {
        memcpy(buf + n, &ip_2_ip4(local_ip)->addr, 4);
        n += 4;
        memcpy(buf + n, &ip_2_ip4(remote_ip)->addr, 4);
        n += 4;
    }
    /* RFC 6528: hash plus a 4 µs clock, so reused 4-tuples move forward. */
    return (u32_t)siphash(key, buf, n) + (u32_t)(nb_clock_ns() / 4000);
}

/* A keyed 32-bit hash for SYN cookies (tcp.c), with its own key. */
uint32_t nb_lwip_cookie_hash(const void *data, size_t len)
{
    static uint8_t key[16];
    static int keyed;
    if (!keyed) {
        if (nb_platform_entropy(key, sizeof key) != 0) {
            uint64_t t = nb_clock_ns() ^ 0x5bd1e995u;
            memcpy(key, &t, sizeof t);
        }
        keyed = 1;
    }
    return (uint32_t)siphash(key, data, len);
}
