/*
 * lwIP's compiler and platform glue for NeoBoot (lwIP includes it from
 * lwip/arch.h). Freestanding: only <stdint.h>, <stddef.h>, <limits.h>,
 * <string.h> and <sys/types.h>; diagnostics and assertions go to NeoBoot's logger
 * (module "lwip"), randomness to the platform's entropy source.
 */
#ifndef NB_LWIP_ARCH_CC_H
#define NB_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>
#include <sys/types.h> /* ssize_t, which lwIP's headers use */
/* Tell lwip/arch.h that ssize_t exists (glibc hides SSIZE_MAX in strict
 * C11), so it does not typedef its own. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

#define BYTE_ORDER LITTLE_ENDIAN

/* No <inttypes.h> or <ctype.h> on the freestanding platforms. */
#define LWIP_NO_INTTYPES_H 1
#define X8_F "02x"
#define U16_F "hu"
#define S16_F "hd"
#define X16_F "hx"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"
#define LWIP_NO_CTYPE_H 1
/* The pc libc has SSIZE_MAX but no <unistd.h>; the raw API needs neither. */
#define LWIP_NO_UNISTD_H 1

#define PACK_STRUCT_STRUCT __attribute__((packed))
#define PACK_STRUCT_BEGIN
#define PACK_STRUCT_END
#define PACK_STRUCT_FIELD(x) x
#define PACK_STRUCT_FLD_8(x) x
#define PACK_STRUCT_FLD_S(x) x

#define LWIP_PLATFORM_BYTESWAP 1
#define LWIP_PLATFORM_HTONS(x) __builtin_bswap16(x)
#define LWIP_PLATFORM_HTONL(x) __builtin_bswap32(x)

/* Implemented in src/net/inet/port.c. */
uint32_t nb_lwip_rand(void);
void nb_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nb_lwip_assert(const char *msg, const char *file, int line);

#define LWIP_RAND() nb_lwip_rand()
#define LWIP_PLATFORM_DIAG(x) do { nb_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) nb_lwip_assert(x, __FILE__, __LINE__)

#endif
