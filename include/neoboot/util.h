/*
 * Small helpers every layer uses: container_of, array size, min/max, and
 * little-endian loads and stores for wire formats (never cast a packet
 * pointer to a struct: packets are unaligned and guest-controlled).
 */
#ifndef NEOBOOT_UTIL_H
#define NEOBOOT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NB_CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define NB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NB_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline uint16_t nb_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t nb_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline uint64_t nb_le64(const uint8_t *p)
{
    return (uint64_t)nb_le32(p) | (uint64_t)nb_le32(p + 4) << 32;
}
static inline void nb_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void nb_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void nb_put_le64(uint8_t *p, uint64_t v)
{
    nb_put_le32(p, (uint32_t)v);
    nb_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t nb_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t nb_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}
static inline void nb_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void nb_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

#endif
