/*
 * libFuzzer target for the SDK's parsers of outside input (sdk/lib): HTTP
 * request and response heads, the chunked decoder and URLs. One target
 * for all four keeps CI's fuzzing time modest; the first input byte picks
 * the parser. Besides crashes and sanitizer reports it checks the
 * parsers' promises: lengths within the input, header spans inside the
 * buffer, body bytes out of the chunked decoder never more than went in,
 * and a URL that parses yields an authority and a target starting '/'.
 */
#include "nb_http_parse.h"
#include "nb_url.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a broken promise: say which, then abort (libFuzzer keeps the input) */
#define check(ok)                                                                  \
    do {                                                                           \
        if (!(ok)) {                                                               \
            fprintf(stderr, "fuzz_http: check failed at line %d: %s\n", __LINE__, #ok); \
            abort();                                                               \
        }                                                                          \
    } while (0)

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && p + n <= buf + len;
}

static void head(const uint8_t *d, size_t n, int request)
{
    /* copy: a parse must not read past what it was given (ASan sees it) */
    char *buf = malloc(n ? n : 1);
    memcpy(buf, d, n);
    struct nb_http_head h;
    size_t max = 4096;
    long rc = request ? nb_http_parse_request(buf, n, max, &h) : nb_http_parse_response(buf, n, max, &h);
    if (rc > 0) {
        check((size_t)rc <= n && (size_t)rc <= max);
        check(h.n_headers <= NB_HTTP_MAX_HEADERS);
        for (size_t i = 0; i < h.n_headers; i++) {
            check(inside(h.headers[i].name, h.headers[i].name_len, buf, (size_t)rc));
            check(inside(h.headers[i].value, h.headers[i].value_len, buf, (size_t)rc));
        }
        if (request)
            check(inside(h.method, h.method_len, buf, (size_t)rc) && inside(h.target, h.target_len, buf, (size_t)rc));
        check(!(request && h.chunked && h.content_length >= 0));
        check(h.content_length >= -1);
        /* parsing a prefix never says "complete" with a different length */
        for (size_t cut = 0; cut < (size_t)rc; cut += 1 + (size_t)rc / 7) {
            long r2 = request ? nb_http_parse_request(buf, cut, max, &h) : nb_http_parse_response(buf, cut, max, &h);
            check(r2 <= 0);
        }
        (void)nb_http_response_body(&h, false);
    } else {
        check(rc == 0 || rc == NB_HTTP_EBAD || rc == NB_HTTP_ETOOLARGE || rc == NB_HTTP_ENOTIMPL ||
              rc == NB_HTTP_EVERSION);
    }
    free(buf);
}

static void chunked(const uint8_t *d, size_t n)
{
    /* feed the input in pieces whose sizes come from the input itself */
    struct nb_chunked c;
    nb_chunked_init(&c);
    size_t pos = 0, out = 0, step = n ? (d[0] % 13) + 1 : 1;
    for (int guard = 0; pos < n && guard < 100000; guard++) {
        size_t len = n - pos < step ? n - pos : step;
        uint8_t *piece = malloc(len);
        memcpy(piece, d + pos, len);
        size_t used;
        const uint8_t *data;
        size_t dn;
        int rc = nb_chunked_decode(&c, piece, len, &used, &data, &dn);
        check(used <= len);
        if (rc == NB_CHUNKED_DATA)
            check(dn > 0 && data >= piece && data + dn <= piece + used);
        free(piece);
        if (rc < 0 || rc == NB_CHUNKED_DONE)
            break;
        out += rc == NB_CHUNKED_DATA ? dn : 0;
        check(rc == NB_CHUNKED_DATA || used == len);
        pos += used;
        step = step * 3 % 17 + 1;
    }
    check(out <= n);
}

static void url(const uint8_t *d, size_t n)
{
    const uint8_t *z = memchr(d, 0, n);
    size_t a = z ? (size_t)(z - d) : n;
    struct nb_url u, r;
    char buf[NB_URL_HOST_MAX + 16];
    if (nb_url_parse((const char *)d, a, &u) == 0) {
        check(u.target[0] == '/' && u.host[0]);
        check(nb_url_authority(&u, buf, sizeof buf) > 0);
        if (z && nb_url_resolve(&u, (const char *)z + 1, n - a - 1, &r) == 0)
            check(r.target[0] == '/' && r.host[0]);
    }
    char *copy = malloc(a ? a : 1);
    memcpy(copy, d, a);
    int dl = nb_url_decode(copy, a);
    check(dl < 0 || (size_t)dl <= a);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] & 3) {
    case 0: head(data + 1, size - 1, 1); break;
    case 1: head(data + 1, size - 1, 0); break;
    case 2: chunked(data + 1, size - 1); break;
    default: url(data + 1, size - 1); break;
    }
    return 0;
}
