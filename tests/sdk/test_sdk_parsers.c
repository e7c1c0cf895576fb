/*
 * Unit tests for the SDK's pure parts, built natively (the same files the
 * wasm library compiles): URL parsing and resolution, HTTP request and
 * response heads (the limits and the refusals that stop smuggling), the
 * chunked decoder fed one split at a time, SHA-256 test vectors and error
 * strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nb_err.h"
#include "nb_http_parse.h"
#include "nb_sha256.h"
#include "nb_url.h"

#include <stdio.h>
#include <string.h>

static int url(const char *s, struct nb_url *u) { return nb_url_parse(s, strlen(s), u); }

static void test_url_parse(void **state)
{
    (void)state;
    struct nb_url u;
    assert_int_equal(url("http://example.org", &u), 0);
    assert_string_equal(u.scheme, "http");
    assert_string_equal(u.host, "example.org");
    assert_int_equal(u.port, 80);
    assert_string_equal(u.target, "/");
    assert_int_equal(url("HTTP://User:pw@Host.Example:8080/a/b?x=1#frag", &u), 0);
    assert_string_equal(u.host, "host.example");
    assert_int_equal(u.port, 8080);
    assert_true(u.port_given);
    assert_string_equal(u.target, "/a/b?x=1");
    assert_int_equal(url("http://[fe80::1%2]:81/x", &u), 0);
    assert_true(u.ipv6);
    assert_string_equal(u.host, "fe80::1%2");
    assert_int_equal(u.port, 81);
    assert_int_equal(url("http://h?q", &u), 0);
    assert_string_equal(u.target, "/?q");
    assert_int_equal(url("http://h:/", &u), 0);
    assert_int_equal(u.port, 80);
    char auth[64];
    assert_int_equal(url("http://[::1]:8080/", &u), 0);
    assert_int_equal(nb_url_authority(&u, auth, sizeof auth), 10);
    assert_string_equal(auth, "[::1]:8080");
    /* refused */
    assert_int_equal(url("example.org/x", &u), -28);
    assert_int_equal(url("http://", &u), -28);
    assert_int_equal(url("http://h:65536/", &u), -28);
    assert_int_equal(url("http://h:0/", &u), -28);
    assert_int_equal(url("http://h:8x/", &u), -28);
    assert_int_equal(url("http://h/a b", &u), -28);
    assert_int_equal(url("http://h/\r\nX: y", &u), -28);
    assert_int_equal(url("http://[::1/", &u), -28);
    char big[3000];
    memset(big, 'a', sizeof big);
    memcpy(big, "http://h/", 9);
    assert_int_equal(nb_url_parse(big, sizeof big, &u), -37);
}

static void resolve(const char *base, const char *ref, const char *want)
{
    struct nb_url b, r;
    assert_int_equal(url(base, &b), 0);
    assert_int_equal(nb_url_resolve(&b, ref, strlen(ref), &r), 0);
    char got[4096];
    snprintf(got, sizeof got, "%s://%s:%u%s", r.scheme, r.host, r.port, r.target);
    assert_string_equal(got, want);
}

static void test_url_resolve(void **state)
{
    (void)state;
    /* RFC 3986 5.4.1 examples, base http://a/b/c/d;p?q */
    const char *b = "http://a/b/c/d;p?q";
    resolve(b, "g", "http://a:80/b/c/g");
    resolve(b, "./g", "http://a:80/b/c/g");
    resolve(b, "g/", "http://a:80/b/c/g/");
    resolve(b, "/g", "http://a:80/g");
    resolve(b, "//g", "http://g:80/");
    resolve(b, "?y", "http://a:80/b/c/d;p?y");
    resolve(b, "g?y", "http://a:80/b/c/g?y");
    resolve(b, "#s", "http://a:80/b/c/d;p?q");
    resolve(b, ".", "http://a:80/b/c/");
    resolve(b, "..", "http://a:80/b/");
    resolve(b, "../g", "http://a:80/b/g");
    resolve(b, "../..", "http://a:80/");
    resolve(b, "../../../g", "http://a:80/g");
    resolve(b, "http://other:81/x", "http://other:81/x");
    resolve("http://h:8080/r/3", "/redirect/2", "http://h:8080/redirect/2");
}

static void test_url_decode(void **state)
{
    (void)state;
    char s[] = "a%20b%2Fc";
    assert_int_equal(nb_url_decode(s, strlen(s)), 5);
    assert_memory_equal(s, "a b/c", 5);
    char bad[] = "a%2";
    assert_int_equal(nb_url_decode(bad, strlen(bad)), -28);
    char nul[] = "%00";
    assert_int_equal(nb_url_decode(nul, 3), -28);
}

static long req(const char *s, struct nb_http_head *h)
{
    return nb_http_parse_request(s, strlen(s), 8192, h);
}

static void test_request(void **state)
{
    (void)state;
    struct nb_http_head h;
    const char *r = "GET /a?b HTTP/1.1\r\nHost: x\r\nX-A:  v 1 \r\nConnection: keep-alive\r\n\r\nBODY";
    assert_int_equal(req(r, &h), (long)strlen(r) - 4);
    assert_int_equal(h.method_len, 3);
    assert_memory_equal(h.target, "/a?b", 4);
    assert_int_equal(h.minor, 1);
    assert_true(h.keep_alive);
    assert_int_equal(h.content_length, -1);
    size_t vl;
    const char *v = nb_http_header(&h, "x-a", &vl);
    assert_non_null(v);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "v 1", 3);
    /* every prefix is incomplete */
    for (size_t i = 0; i < strlen(r) - 4; i++)
        assert_int_equal(nb_http_parse_request(r, i, 8192, &h), 0);
    /* bare LF, leading empty lines, HTTP/1.0 defaults */
    assert_true(req("\r\n\nGET / HTTP/1.0\n\n", &h) > 0);
    assert_false(h.keep_alive);
    assert_true(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h) > 0);
    assert_true(h.keep_alive);
    assert_true(req("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &h) > 0);
    assert_false(h.keep_alive);
    assert_true(req("PUT /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n", &h) > 0);
    assert_true(h.chunked);
    assert_true(h.expect_continue);
    assert_true(req("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", &h) > 0);
    assert_int_equal(h.content_length, 5);
}

static void test_request_refused(void **state)
{
    (void)state;
    struct nb_http_head h;
    const char *bad[] = {
        "GET / HTTP/1.1\r\n\r\n",                                    /* no Host */
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",              /* two Hosts */
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",                        /* space before colon */
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",              /* obs-fold */
        "GET / HTTP/1.1\r\nHost: x\r\nA: b\001c\r\n\r\n",            /* control char */
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n",
        "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        "GET / HTTP/11\r\nHost: x\r\n\r\n",
        "GET /\rx HTTP/1.1\r\nHost: x\r\n\r\n",
        "\x16\x03\x01\x02\x00",                                      /* TLS: refused before a line ends */
        "G{T / HTTP/1.1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long rc = req(bad[i], &h);
        if (rc != NB_HTTP_EBAD)
            fail_msg("case %zu: %ld", i, rc);
    }
    assert_int_equal(req("GET / HTTP/2.0\r\nHost: x\r\n\r\n", &h), NB_HTTP_EVERSION);
    assert_int_equal(req("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", &h), NB_HTTP_ENOTIMPL);
    /* limits: head size and header count */
    char big[10000];
    int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
    memset(big + n, 'a', sizeof big - (size_t)n - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(nb_http_parse_request(big, strlen(big), 8192, &h), NB_HTTP_ETOOLARGE);
    assert_int_equal(nb_http_parse_request(big, 4000, 8192, &h), 0);
    char many[4096];
    size_t o = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < NB_HTTP_MAX_HEADERS; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "X%d: 1\r\n", i);
    snprintf(many + o, sizeof many - o, "\r\n");
    assert_int_equal(req(many, &h), NB_HTTP_ETOOLARGE);
}

static void test_response(void **state)
{
    (void)state;
    struct nb_http_head h;
    const char *r = "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 3\r\n\r\nabc";
    assert_int_equal(nb_http_parse_response(r, strlen(r), 8192, &h), (long)strlen(r) - 3);
    assert_int_equal(h.status, 302);
    assert_int_equal(nb_http_response_body(&h, false), NB_HTTP_BODY_LENGTH);
    assert_int_equal(nb_http_response_body(&h, true), NB_HTTP_BODY_NONE);
    const char *c = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_true(nb_http_parse_response(c, strlen(c), 8192, &h) > 0);
    assert_int_equal(nb_http_response_body(&h, false), NB_HTTP_BODY_CHUNKED);
    assert_false(h.keep_alive); /* both given: do not trust the connection further */
    const char *e = "HTTP/1.0 200\r\n\r\n";
    assert_true(nb_http_parse_response(e, strlen(e), 8192, &h) > 0);
    assert_int_equal(nb_http_response_body(&h, false), NB_HTTP_BODY_CLOSE);
    const char *n = "HTTP/1.1 204 No Content\r\n\r\n";
    assert_true(nb_http_parse_response(n, strlen(n), 8192, &h) > 0);
    assert_int_equal(nb_http_response_body(&h, false), NB_HTTP_BODY_NONE);
    assert_int_equal(nb_http_parse_response("HTTP/1.1 2x0 OK\r\n\r\n", 19, 8192, &h), NB_HTTP_EBAD);
    assert_int_equal(nb_http_parse_response("SSH-2.0-x\r\n\r\n", 13, 8192, &h), NB_HTTP_EBAD);
    assert_string_equal(nb_http_reason(431), "Request Header Fields Too Large");
}

/* Decode msg fed in pieces of `step` bytes; returns the body or NULL. */
static int dechunk(const char *msg, size_t step, char *out, size_t *outlen, size_t *rest)
{
    struct nb_chunked c;
    nb_chunked_init(&c);
    size_t len = strlen(msg), pos = 0, o = 0;
    while (pos < len) {
        size_t n = len - pos < step ? len - pos : step;
        size_t used, dn;
        const uint8_t *d;
        int rc = nb_chunked_decode(&c, (const uint8_t *)msg + pos, n, &used, &d, &dn);
        if (rc < 0)
            return rc;
        pos += used;
        if (rc == NB_CHUNKED_DATA) {
            memcpy(out + o, d, dn);
            o += dn;
        }
        if (rc == NB_CHUNKED_DONE) {
            *outlen = o;
            *rest = len - pos;
            return 0;
        }
    }
    return 1; /* incomplete */
}

static void test_chunked(void **state)
{
    (void)state;
    const char *m = "5;name=val\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (size_t step = 1; step < 80; step++) {
        char out[64];
        size_t ol = 0, rest = 0;
        assert_int_equal(dechunk(m, step, out, &ol, &rest), 0);
        assert_int_equal(ol, 31);
        assert_memory_equal(out, "helloabcdefghijklmnopqrstuvwxyz", 31);
        assert_int_equal(rest, 4); /* "NEXT" is left for the next message */
    }
    char out[64];
    size_t ol, rest;
    assert_int_equal(dechunk("3\nabc\n0\n\n", 2, out, &ol, &rest), 0); /* bare LF */
    assert_int_equal(dechunk("3\r\nabc\r\n", 3, out, &ol, &rest), 1);
    assert_int_equal(dechunk("x\r\n", 1, out, &ol, &rest), NB_HTTP_EBAD);
    assert_int_equal(dechunk("3\r\nabcX\r\n", 1, out, &ol, &rest), NB_HTTP_EBAD);
    assert_int_equal(dechunk("1000000000000000\r\n", 5, out, &ol, &rest), NB_HTTP_EBAD); /* 16 digits */
    assert_int_equal(dechunk("-1\r\n", 5, out, &ol, &rest), NB_HTTP_EBAD);
    char ext[2000] = "1;";
    memset(ext + 2, 'e', 1500);
    strcpy(ext + 1502, "\r\nx\r\n0\r\n\r\n");
    assert_int_equal(dechunk(ext, 100, out, &ol, &rest), NB_HTTP_EBAD); /* extension too long */
}

static void sha_hex(const void *d, size_t n, char out[65])
{
    struct nb_sha256 c;
    uint8_t dg[32];
    nb_sha256_init(&c);
    nb_sha256_update(&c, d, n);
    nb_sha256_final(&c, dg);
    nb_sha256_hex(dg, out);
}

static void test_sha256(void **state)
{
    (void)state;
    char h[65];
    sha_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_hex(m, strlen(m), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a' in uneven pieces */
    struct nb_sha256 c;
    uint8_t dg[32], a[1000];
    memset(a, 'a', sizeof a);
    nb_sha256_init(&c);
    size_t done = 0;
    for (size_t k = 1; done < 1000000; k = k % 990 + 7) {
        size_t n = 1000000 - done < k ? 1000000 - done : k;
        nb_sha256_update(&c, a, n);
        done += n;
    }
    nb_sha256_final(&c, dg);
    nb_sha256_hex(dg, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(nb_strerror(-73), "timed out");
    assert_string_equal(nb_errname(-2), "NB_EACCES");
    assert_string_equal(nb_strerror(-999), "unknown error");
    assert_string_equal(nb_strerror(0), "success");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),    cmocka_unit_test(test_url_resolve),
        cmocka_unit_test(test_url_decode),   cmocka_unit_test(test_request),
        cmocka_unit_test(test_request_refused), cmocka_unit_test(test_response),
        cmocka_unit_test(test_chunked),      cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
