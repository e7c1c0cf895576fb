/*
 * The Internet checksum (RFC 1071) for tests that build frames by hand
 * (test_dhcp, fuzz_inet): written apart from lwIP's so that a frame the
 * test makes is checked by different code than the stack's.
 */
#ifndef NB_TEST_INET_CSUM_H
#define NB_TEST_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add b[0..n) as big-endian 16-bit words to the running sum s. */
static inline uint32_t sum16(const uint8_t *b, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n & 1)
        s += (uint32_t)(b[n - 1] << 8);
    return s;
}

/* The checksum field's value for the running sum s. */
static inline uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

#endif
