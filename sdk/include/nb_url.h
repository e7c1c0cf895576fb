/*
 * nb_url.h: a URL parser for the HTTP client and apps (RFC 3986, the parts
 * http needs): scheme://[userinfo@]host[:port][/path][?query][#fragment].
 * Results are copied into fixed buffers, so a URL longer than they hold is
 * refused (NB_ENAMETOOLONG), never truncated. Pure C: it also builds
 * natively for unit tests and the fuzz target.
 */
#ifndef NB_SDK_URL_H
#define NB_SDK_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_URL_HOST_MAX 256     /* host name, or IP literal without brackets */
#define NB_URL_TARGET_MAX 2048  /* path and query */

struct nb_url {
    char scheme[16];                  /* lower case, e.g. "http" */
    char host[NB_URL_HOST_MAX];       /* "[::1]" is stored as "::1" */
    bool ipv6;                        /* host was a bracketed literal */
    uint16_t port;                    /* given, or the scheme's default (http 80, https 443) */
    bool port_given;
    char target[NB_URL_TARGET_MAX];   /* "/path?query" ("/" when empty); no fragment */
};

/*
 * Parse the absolute URL s (len bytes; NUL not needed). 0, or NB_EINVAL
 * (malformed: no scheme, empty host, bad port, spaces or control
 * characters), NB_ENAMETOOLONG (a part exceeds its buffer).
 */
int nb_url_parse(const char *s, size_t len, struct nb_url *u);

/*
 * Resolve ref (a Location header, say) against base into out: absolute
 * URLs, "//host/..." (same scheme), "/path" (same authority) and relative
 * paths ("x", "../x", "?q") as RFC 3986 section 5 does, dot segments
 * removed. 0 or an NB_E* code as nb_url_parse.
 */
int nb_url_resolve(const struct nb_url *base, const char *ref, size_t len, struct nb_url *out);

/* "host", "host:port" or "[v6]:port" (port only when not the default) as
 * for a Host header; returns the length, or NB_ENAMETOOLONG. */
int nb_url_authority(const struct nb_url *u, char *buf, size_t len);

/* Percent-decode in place (len bytes at s); returns the new length, or
 * NB_EINVAL for a bad escape or an encoded NUL. */
int nb_url_decode(char *s, size_t len);

#endif
