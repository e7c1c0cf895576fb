/*
 * nb_http_parse.h: HTTP/1.1 message parsing (RFC 9112) as pure functions
 * over byte buffers: request and response heads, and a streaming chunked
 * decoder. They take outside input, so they are strict and bounded: a
 * fixed number of headers, a head size limit, overflow-checked lengths,
 * and no allocation. They make no imports, so the same code runs in apps,
 * in native unit tests and under libFuzzer (tests/fuzz/fuzz_http.c).
 *
 * A parsed head points into the caller's buffer: keep the bytes while the
 * head is in use.
 */
#ifndef NB_SDK_HTTP_PARSE_H
#define NB_SDK_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_HTTP_MAX_HEADERS 64

/* Parse errors are negative HTTP status codes, so a server can answer
 * with -rc directly. */
#define NB_HTTP_EBAD (-400)        /* malformed */
#define NB_HTTP_ETOOLARGE (-431)   /* head over the limit, or too many headers */
#define NB_HTTP_ENOTIMPL (-501)    /* a transfer coding other than chunked */
#define NB_HTTP_EVERSION (-505)    /* not HTTP/1.x */

struct nb_http_header {
    const char *name, *value;
    size_t name_len, value_len;   /* value without surrounding whitespace */
};

struct nb_http_head {
    /* request line */
    const char *method, *target;
    size_t method_len, target_len;
    /* status line */
    int status;
    const char *reason;
    size_t reason_len;
    int minor;                    /* HTTP/1.<minor>: 0 or 1 */
    struct nb_http_header headers[NB_HTTP_MAX_HEADERS];
    size_t n_headers;
    /* derived from the headers */
    int64_t content_length;       /* -1: none given */
    bool chunked;                 /* Transfer-Encoding: chunked */
    bool keep_alive;              /* the connection may carry another message */
    bool expect_continue;         /* Expect: 100-continue */
    bool has_host;
};

/*
 * Parse a request head at buf[0..len). Returns the head's length (> 0,
 * the body starts there) when complete, 0 when more bytes are needed, or
 * NB_HTTP_E*: NB_HTTP_ETOOLARGE when no complete head fits in max_head
 * bytes. Requests with both Content-Length and Transfer-Encoding, with
 * conflicting lengths, or HTTP/1.1 without exactly one Host are
 * NB_HTTP_EBAD (they are how request smuggling starts).
 */
long nb_http_parse_request(const char *buf, size_t len, size_t max_head, struct nb_http_head *h);

/*
 * Parse a response head; as above. Transfer-Encoding overrides
 * Content-Length (RFC 9112 6.3).
 */
long nb_http_parse_response(const char *buf, size_t len, size_t max_head, struct nb_http_head *h);

/* The value of the first header called name (case-insensitive), or NULL. */
const char *nb_http_header(const struct nb_http_head *h, const char *name, size_t *len);

/* Does a comma-separated header value list contain token (case-insensitive)? */
bool nb_http_has_token(const char *value, size_t len, const char *token);

/* How a response's body ends (RFC 9112 6.3) for a request with the given
 * method: */
enum nb_http_body {
    NB_HTTP_BODY_NONE,     /* HEAD, 1xx, 204, 304 */
    NB_HTTP_BODY_LENGTH,   /* Content-Length bytes */
    NB_HTTP_BODY_CHUNKED,
    NB_HTTP_BODY_CLOSE,    /* until the connection closes */
};
enum nb_http_body nb_http_response_body(const struct nb_http_head *h, bool head_request);

/* "OK", "Not Found", ... ("" for unknown codes) */
const char *nb_http_reason(int status);

/* --- chunked transfer coding, decoded as a stream --- */

#define NB_CHUNKED_LINE_MAX 1024    /* a size line with its extensions */
#define NB_CHUNKED_TRAILER_MAX 8192 /* all trailer fields together */

struct nb_chunked {
    int state;
    uint64_t left;          /* data bytes left in this chunk */
    size_t line;            /* bytes of the current size/trailer line */
    size_t trailer;         /* trailer bytes so far */
    int digits;
};

enum {
    NB_CHUNKED_MORE = 0,    /* all input consumed, no data: feed more */
    NB_CHUNKED_DATA = 1,    /* *data, *data_len: body bytes (inside the input) */
    NB_CHUNKED_DONE = 2,    /* last chunk and trailers consumed */
};

void nb_chunked_init(struct nb_chunked *c);

/*
 * Decode from in[0..len): sets *used to the input bytes consumed and
 * returns NB_CHUNKED_DATA (body bytes in place, no copy), NB_CHUNKED_MORE
 * or NB_CHUNKED_DONE (bytes after the message are left unconsumed), or
 * NB_HTTP_EBAD for malformed framing. Call again with the rest of the
 * input after DATA.
 */
int nb_chunked_decode(struct nb_chunked *c, const uint8_t *in, size_t len, size_t *used,
                      const uint8_t **data, size_t *data_len);

#endif
