/*
 * A small HTTP/1.1 client for the runtime itself (the shell's `wget`,
 * `boot URL`, `run URL`): GET a URL into a sink, following redirects,
 * with Content-Length, chunked or close-delimited bodies, timeouts and a
 * progress callback. Apps have the SDK's richer client; this one is what
 * a bootloader needs before any app runs.
 *
 * The parsers (URL, response head, chunked framing) are pure functions
 * over bytes, so they are unit-tested and fuzzed on their own.
 */
#ifndef NEOBOOT_HTTP_H
#define NEOBOOT_HTTP_H

#include <neoboot/net.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nb_url {
    char host[256];     /* name, IPv4, or IPv6 without brackets */
    uint16_t port;      /* 80 if not given */
    char path[1024];    /* with query; "/" if empty */
};

/* "http://host[:port][/path]". NB_ENOTSUP for other schemes (https),
 * NB_EINVAL for anything malformed or too long. */
int nb_url_parse(const char *text, struct nb_url *out);

#define NB_HTTP_HEAD_MAX 16384

struct nb_http_head {
    int status;                /* 200, 404, ... */
    bool has_length;
    uint64_t content_length;
    bool chunked;
    bool keep_alive;
    char location[1024];       /* for redirects, if any */
};

/* Parse a response head that ends in buf (status line and headers through
 * the blank line). Returns the head's length, NB_EAGAIN if the blank line
 * is not in buf yet, NB_EBADMSG if it is malformed, NB_EMSGSIZE if
 * len >= NB_HTTP_HEAD_MAX without one. */
int nb_http_parse_head(const char *buf, size_t len, struct nb_http_head *out);

/* Chunked transfer coding, decoded incrementally in place. */
struct nb_chunked {
    int state;
    uint64_t left;   /* bytes of the current chunk still to come */
    unsigned digits;
    bool done;       /* the last chunk and trailers are through */
};
void nb_chunked_init(struct nb_chunked *c);
/* Decode len bytes at buf; payload bytes are moved to the front of buf.
 * Returns the payload byte count (>= 0), or NB_EBADMSG. After done is
 * set, *consumed tells how much of buf belonged to the body. */
long nb_chunked_decode(struct nb_chunked *c, uint8_t *buf, size_t len, size_t *consumed);

struct nb_http_get {
    /* body bytes as they arrive: 0 to go on, NB_E* to stop */
    int (*sink)(void *arg, const uint8_t *data, size_t len);
    /* progress: bytes so far, total (0 if unknown); may be NULL */
    void (*progress)(void *arg, uint64_t got, uint64_t total);
    void *arg;
    uint64_t timeout_ns;       /* per connect/read; 0: 10 s */
    uint64_t max_size;         /* refuse bodies above this; 0: no limit */
    unsigned max_redirects;    /* 0: 5 */
};

/*
 * GET url on stack st (blocking: runs the event loop). Returns the HTTP
 * status (2xx only; other statuses as NB_ENOENT for 404, NB_EPROTO
 * otherwise), or NB_E* from DNS, TCP, timeouts, the sink, or a body above
 * max_size (NB_EFBIG). *why, if non-NULL, gets a sentence on failure.
 * The total body size is reported through progress.
 */
int nb_http_get_url(struct nb_stack *st, const char *url, const struct nb_http_get *o,
                    char *why, size_t why_len);

#endif
