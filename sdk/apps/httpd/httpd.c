/*
 * httpd: a small web server on libneoboot's HTTP server. It serves a page,
 * the runtime's status as JSON, and the endpoints the tests and benchmarks
 * use: an upload echo, an upload sink that hashes what it gets, sized
 * downloads (Content-Length or chunked) and a redirect chain.
 *
 *     neoboot run -p 8080:8080 httpd.wasm --port 8080
 *     curl http://127.0.0.1:8080/status
 *
 * Everything is streamed except /echo (which answers with what it got, so
 * it holds the body, up to --max-body): memory stays bounded however big
 * an upload or download is.
 */
#include "nb_http.h"
#include "nb_sha256.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char page[] =
    "<!DOCTYPE html>\n<html><head><title>NeoBoot</title></head>\n"
    "<body><h1>Hello from NeoBoot</h1>\n"
    "<p>This page is served by <code>httpd.wasm</code>, a WebAssembly app, "
    "through NeoBoot's own TCP/IP stack.</p>\n"
    "<p><a href=\"/status\">status</a></p></body></html>\n";

static struct nb_http_server *srv;

/* --- / and /status --- */

static void h_page(struct nb_http_ex *x, void *arg)
{
    (void)arg;
    nb_http_respond(x, 200, "text/html; charset=utf-8", page, sizeof page - 1);
}

#define STATS_MAX (1u << 20)

static void h_status(struct nb_http_ex *x, void *arg)
{
    (void)arg;
    const struct nb_http_server_stats *st = nb_http_server_stats(srv);
    size_t cap = 16384;
    char *rt = NULL;
    int n = 0;
    /* nb_stats says how long the whole text is: grow once if needed */
    for (int k = 0; k < 3; k++) {
        char *p = realloc(rt, cap);
        if (!p)
            break;
        rt = p;
        n = nb_stats(rt, cap);
        if (n >= 0 && (size_t)n < cap)
            break;
        if (n < 0 || (size_t)n >= STATS_MAX) {
            n = -1;
            break;
        }
        cap = (size_t)n + 1;
    }
    if (!rt || n < 0 || (size_t)n >= cap) {
        free(rt);
        nb_http_respond(x, 500, "text/plain", "no stats\n", 9);
        return;
    }
    size_t olen = (size_t)n + 1024;
    char *out = malloc(olen);
    if (!out) {
        free(rt);
        nb_http_respond(x, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    int m = snprintf(out, olen,
                     "{\"server\":{\"open\":%" PRIu32 ",\"peak_open\":%" PRIu32
                     ",\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"requests\":%" PRIu64
                     ",\"bad_requests\":%" PRIu64 ",\"timeouts\":%" PRIu64
                     ",\"responses\":{\"1xx\":%" PRIu64 ",\"2xx\":%" PRIu64 ",\"3xx\":%" PRIu64
                     ",\"4xx\":%" PRIu64 ",\"5xx\":%" PRIu64 "},\"bytes_in\":%" PRIu64
                     ",\"bytes_out\":%" PRIu64 ",\"polls\":%" PRIu64 ",\"events\":%" PRIu64
                     "},\"runtime\":%s}\n",
                     st->open, st->peak_open, st->accepted, st->rejected, st->requests,
                     st->bad_requests, st->timeouts, st->status[1], st->status[2], st->status[3],
                     st->status[4], st->status[5], st->bytes_in, st->bytes_out, st->polls, st->events, rt);
    nb_http_ex_header(x, "Cache-Control", "no-store");
    nb_http_respond(x, 200, "application/json", out, m > 0 && (size_t)m < olen ? (size_t)m : 0);
    free(out);
    free(rt);
}

/* --- /echo: the body back --- */

struct echo {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
};

static void echo_data(struct nb_http_ex *x, const void *p, size_t n)
{
    struct echo *e = *nb_http_ex_user(x);
    if (e->failed)
        return;
    if (e->len + n > e->cap) {
        size_t cap = e->cap ? e->cap : 65536;
        while (cap < e->len + n)
            cap *= 2;
        uint8_t *b = realloc(e->buf, cap);
        if (!b) {
            e->failed = true;
            return;
        }
        e->buf = b;
        e->cap = cap;
    }
    memcpy(e->buf + e->len, p, n);
    e->len += n;
}

static void echo_end(struct nb_http_ex *x)
{
    struct echo *e = *nb_http_ex_user(x);
    if (e->failed)
        nb_http_respond(x, 500, "text/plain", "out of memory\n", 14);
    else
        nb_http_respond(x, 200, "application/octet-stream", e->buf, e->len);
}

static void echo_done(struct nb_http_ex *x, bool completed)
{
    (void)completed;
    struct echo *e = *nb_http_ex_user(x);
    if (e) {
        free(e->buf);
        free(e);
    }
}

static void h_echo(struct nb_http_ex *x, void *arg)
{
    (void)arg;
    struct echo *e = calloc(1, sizeof *e);
    if (!e) {
        nb_http_respond(x, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    *nb_http_ex_user(x) = e;
    nb_http_ex_on_done(x, echo_done);
    nb_http_ex_on_body(x, echo_data, echo_end);
}

/* --- /sink: count and hash, keep nothing --- */

struct sink {
    struct nb_sha256 sha;
    uint64_t bytes;
};

static void sink_data(struct nb_http_ex *x, const void *p, size_t n)
{
    struct sink *s = *nb_http_ex_user(x);
    nb_sha256_update(&s->sha, p, n);
    s->bytes += n;
}

static void sink_end(struct nb_http_ex *x)
{
    struct sink *s = *nb_http_ex_user(x);
    uint8_t d[32];
    char hex[65], out[128];
    nb_sha256_final(&s->sha, d);
    nb_sha256_hex(d, hex);
    int n = snprintf(out, sizeof out, "%" PRIu64 " %s\n", s->bytes, hex);
    nb_http_respond(x, 200, "text/plain", out, (size_t)n);
}

static void sink_done(struct nb_http_ex *x, bool completed)
{
    (void)completed;
    free(*nb_http_ex_user(x));
}

static void h_sink(struct nb_http_ex *x, void *arg)
{
    (void)arg;
    struct sink *s = malloc(sizeof *s);
    if (!s) {
        nb_http_respond(x, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    nb_sha256_init(&s->sha);
    s->bytes = 0;
    *nb_http_ex_user(x) = s;
    nb_http_ex_on_done(x, sink_done);
    nb_http_ex_body_limit(x, UINT64_MAX); /* streamed: any size */
    nb_http_ex_on_body(x, sink_data, sink_end);
}

/* --- /bytes/N and /chunked/N: byte i of the body is i % 251 --- */

#define PERIOD 251
static uint8_t pattern[PERIOD + 65536];

static long fill_pattern(struct nb_http_ex *x, void *buf, size_t cap)
{
    uint64_t *off = *nb_http_ex_user(x);
    if (cap > 65536)
        cap = 65536;
    memcpy(buf, pattern + *off % PERIOD, cap);
    *off += cap;
    return (long)cap;
}

/* chunked: the length is ours to track */
struct chunked_src {
    uint64_t off, left;
};

static long fill_chunked(struct nb_http_ex *x, void *buf, size_t cap)
{
    struct chunked_src *c = *nb_http_ex_user(x);
    if (cap > 65536)
        cap = 65536;
    /* uneven chunk sizes exercise the client's framing */
    size_t n = cap > 1000 ? cap - (size_t)(c->off % 997) : cap;
    if (n > c->left)
        n = (size_t)c->left;
    memcpy(buf, pattern + c->off % PERIOD, n);
    c->off += n;
    c->left -= n;
    return (long)n;
}

static void free_user(struct nb_http_ex *x, bool completed)
{
    (void)completed;
    free(*nb_http_ex_user(x));
}

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > (1ull << 40))
        return false;
    *out = v;
    return true;
}

static void h_bytes(struct nb_http_ex *x, void *arg)
{
    bool chunked = arg != NULL;
    const char *p = nb_http_ex_path(x) + (chunked ? strlen("/chunked/") : strlen("/bytes/"));
    uint64_t n;
    if (!parse_size(p, &n)) {
        nb_http_respond(x, 400, "text/plain", "size: a number up to 2^40\n", 26);
        return;
    }
    struct chunked_src *c = calloc(1, sizeof *c);
    if (!c) {
        nb_http_respond(x, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    c->left = n;
    *nb_http_ex_user(x) = c; /* off is the first member: fill_pattern uses it */
    nb_http_ex_on_done(x, free_user);
    nb_http_respond_stream(x, 200, "application/octet-stream", chunked ? -1 : (int64_t)n,
                           chunked ? fill_chunked : fill_pattern);
}

/* --- /redirect/N: N more hops, then / --- */

static void h_redirect(struct nb_http_ex *x, void *arg)
{
    (void)arg;
    uint64_t n;
    if (!parse_size(nb_http_ex_path(x) + strlen("/redirect/"), &n) || n > 100) {
        nb_http_respond(x, 400, "text/plain", "hops: 0 to 100\n", 15);
        return;
    }
    char loc[64];
    if (n == 0)
        snprintf(loc, sizeof loc, "/");
    else
        snprintf(loc, sizeof loc, "/redirect/%" PRIu64, n - 1);
    nb_http_ex_header(x, "Location", loc);
    nb_http_respond(x, 302, "text/plain", "redirect\n", 9);
}

/* --- command line --- */

static void usage(void)
{
    fprintf(stderr,
            "usage: httpd [--port N] [--vsock-port N] [--max-conns N] [--max-head BYTES]\n"
            "             [--max-body BYTES] [--header-timeout S] [--idle-timeout S]\n"
            "             [--io-timeout S]\n"
            "Serves: GET / (a page), GET /status (JSON: server and runtime stats),\n"
            "POST|PUT /echo (the body back), POST|PUT /sink (\"<bytes> <sha256>\"),\n"
            "GET /bytes/N and /chunked/N (N bytes, byte i = i %% 251),\n"
            "GET /redirect/N (a chain of N redirects, then /). Default port 8080.\n");
}

static bool num_arg(const char *v, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || d < 0)
        return false;
    *out = d;
    return true;
}

int main(int argc, char **argv)
{
    struct nb_http_server_config cfg;
    nb_http_server_defaults(&cfg);
    cfg.port = 8080;
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        double d;
        if (!v || !num_arg(v, &d)) {
            usage();
            return 2;
        }
        if (strcmp(a, "--port") == 0 && d < 65536)
            cfg.port = (uint16_t)d;
        else if (strcmp(a, "--vsock-port") == 0 && d < 4294967295.0)
            cfg.vsock_port = (uint32_t)d;
        else if (strcmp(a, "--max-conns") == 0 && d >= 1 && d <= 4000)
            cfg.max_conns = (uint32_t)d;
        else if (strcmp(a, "--max-head") == 0 && d >= 256 && d <= (1 << 20))
            cfg.max_head = (uint32_t)d;
        else if (strcmp(a, "--max-body") == 0)
            cfg.max_body = (uint64_t)d;
        else if (strcmp(a, "--header-timeout") == 0 && d > 0)
            cfg.header_timeout_ns = (int64_t)(d * 1e9);
        else if (strcmp(a, "--idle-timeout") == 0 && d > 0)
            cfg.idle_timeout_ns = (int64_t)(d * 1e9);
        else if (strcmp(a, "--io-timeout") == 0 && d > 0)
            cfg.io_timeout_ns = (int64_t)(d * 1e9);
        else {
            usage();
            return 2;
        }
    }
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)(i % PERIOD);
    int err = 0;
    srv = nb_http_server_new(&cfg, &err);
    if (!srv) {
        fprintf(stderr, "httpd: cannot listen: %s\n", nb_strerror(err));
        return 1;
    }
    nb_http_server_route(srv, "GET", "/", h_page, NULL);
    nb_http_server_route(srv, "GET", "/index.html", h_page, NULL);
    nb_http_server_route(srv, "GET", "/status", h_status, NULL);
    nb_http_server_route(srv, "POST", "/echo", h_echo, NULL);
    nb_http_server_route(srv, "PUT", "/echo", h_echo, NULL);
    nb_http_server_route(srv, "POST", "/sink", h_sink, NULL);
    nb_http_server_route(srv, "PUT", "/sink", h_sink, NULL);
    nb_http_server_route(srv, "GET", "/bytes/*", h_bytes, NULL);
    nb_http_server_route(srv, "GET", "/chunked/*", h_bytes, (void *)1);
    nb_http_server_route(srv, "GET", "/redirect/*", h_redirect, NULL);
    fprintf(stderr, "httpd: serving on");
    if (cfg.port)
        fprintf(stderr, " tcp port %u", (unsigned)cfg.port);
    if (cfg.vsock_port)
        fprintf(stderr, " vsock port %u", (unsigned)cfg.vsock_port);
    fprintf(stderr, " (max %u connections)\n", (unsigned)cfg.max_conns);
    int rc = nb_http_server_run(srv);
    if (rc)
        fprintf(stderr, "httpd: %s\n", nb_strerror(rc));
    nb_http_server_free(srv);
    return rc ? 1 : 0;
}
