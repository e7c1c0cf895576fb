/*
 * The HTTP/1.1 client: a request, its response head, then the body read
 * as a stream, over one blocking connection with timeouts.
 *
 * The client's buffer holds the response head at its start (so header
 * values stay readable while the body streams) and read-ahead after it.
 * Content-Length bodies bypass the buffer once it is empty: recv goes
 * straight into the caller's buffer, so a large download costs one copy.
 *
 * Keep-alive: a connection is reused for the next request to the same
 * host and port if the last response said it may be and its body was
 * read to the end. A reused connection the server has meanwhile closed
 * fails before any response byte; such a request is sent once more on a
 * new connection (never one with a streamed body, which cannot be
 * replayed: those always get a fresh connection).
 */
#include "nb_http.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEND_CHUNK 16384
#define DRAIN_MAX 65536   /* a redirect's body is read away up to this, else the connection closes */

void nb_http_client_defaults(struct nb_http_client_opts *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ns = 10 * NB_SEC;
    o->io_timeout_ns = 30 * NB_SEC;
    o->max_redirects = 5;
    o->keep_alive = true;
    o->user_agent = "neoboot-sdk";
}

void nb_http_client_init(struct nb_http_client *c, const struct nb_http_client_opts *o)
{
    memset(c, 0, offsetof(struct nb_http_client, buf));
    c->h = -1;
    if (o)
        c->o = *o;
    else
        nb_http_client_defaults(&c->o);
    if (!c->o.connect_timeout_ns)
        c->o.connect_timeout_ns = 10 * NB_SEC;
    if (!c->o.io_timeout_ns)
        c->o.io_timeout_ns = 30 * NB_SEC;
    if (c->o.max_redirects < 0)
        c->o.max_redirects = 0;
    if (!c->o.user_agent)
        c->o.user_agent = "neoboot-sdk";
    c->body_done = true;
}

void nb_http_client_close(struct nb_http_client *c)
{
    if (c->h >= 0)
        nb_close(c->h);
    c->h = -1;
    c->reusable = false;
}

/* Connect unless the open connection can be reused. 1: reused, 0: new. */
static int ensure_conn(struct nb_http_client *c, bool allow_reuse)
{
    if (strcmp(c->url.scheme, "http") != 0)
        return NB_EPROTONOSUPPORT;
    if (c->h >= 0 && allow_reuse && c->reusable && c->conn_port == c->url.port &&
        strcmp(c->conn_host, c->url.host) == 0)
        return 1;
    nb_http_client_close(c);
    int h = nb_tcp_connect(c->url.host, c->url.port, c->o.connect_timeout_ns);
    if (h < 0)
        return h;
    nb_set_timeouts(h, c->o.io_timeout_ns, c->o.io_timeout_ns);
    nb_setopt(h, NB_TCP_NODELAY, 1);
    c->h = h;
    strcpy(c->conn_host, c->url.host); /* both NB_URL_HOST_MAX */
    c->conn_port = c->url.port;
    return 0;
}

static int append(char *buf, size_t cap, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n >= cap)
        return NB_ENOBUFS;
    memcpy(buf + *o, s, n);
    *o += n;
    buf[*o] = 0;
    return 0;
}

static int send_request(struct nb_http_client *c, const char *method, const char *extra,
                        const void *body, long body_len, nb_http_source src, void *arg)
{
    char auth[NB_URL_HOST_MAX + 16], num[32];
    int rc = nb_url_authority(&c->url, auth, sizeof auth);
    if (rc < 0)
        return rc;
    /* the previous response is finished: its buffer is free for the request head */
    char *b = c->buf;
    size_t cap = sizeof c->buf, o = 0;
    bool has_body = src || body_len >= 0;
    rc = append(b, cap, &o, method);
    rc = rc ? rc : append(b, cap, &o, " ");
    rc = rc ? rc : append(b, cap, &o, c->url.target);
    rc = rc ? rc : append(b, cap, &o, " HTTP/1.1\r\nHost: ");
    rc = rc ? rc : append(b, cap, &o, auth);
    rc = rc ? rc : append(b, cap, &o, "\r\nUser-Agent: ");
    rc = rc ? rc : append(b, cap, &o, c->o.user_agent);
    rc = rc ? rc : append(b, cap, &o, "\r\nAccept: */*\r\n");
    if (!c->o.keep_alive)
        rc = rc ? rc : append(b, cap, &o, "Connection: close\r\n");
    if (has_body && body_len >= 0) {
        snprintf(num, sizeof num, "%ld", body_len);
        rc = rc ? rc : append(b, cap, &o, "Content-Length: ");
        rc = rc ? rc : append(b, cap, &o, num);
        rc = rc ? rc : append(b, cap, &o, "\r\n");
    } else if (has_body) {
        rc = rc ? rc : append(b, cap, &o, "Transfer-Encoding: chunked\r\n");
    }
    if (extra)
        rc = rc ? rc : append(b, cap, &o, extra);
    rc = rc ? rc : append(b, cap, &o, "\r\n");
    if (rc)
        return rc;
    long n = nb_send_all(c->h, b, o);
    if (n < 0)
        return (int)n;
    if (!has_body)
        return 0;
    if (!src) {
        n = nb_send_all(c->h, body, (size_t)body_len);
        return n < 0 ? (int)n : 0;
    }
    /* streamed body: chunk framing around each piece unless the length is known */
    uint64_t sent = 0;
    for (;;) {
        char *p = c->buf + 16;
        long got = src(arg, p, SEND_CHUNK);
        if (got < 0)
            return (int)got;
        if (got > SEND_CHUNK)
            return NB_EINVAL;
        if (got == 0)
            break;
        sent += (uint64_t)got;
        if (body_len >= 0) {
            if (sent > (uint64_t)body_len)
                return NB_EINVAL; /* more than promised */
            n = nb_send_all(c->h, p, (size_t)got);
        } else {
            int hl = snprintf(num, sizeof num, "%lx\r\n", (unsigned long)got);
            memcpy(p - hl, num, (size_t)hl);
            memcpy(p + got, "\r\n", 2);
            n = nb_send_all(c->h, p - hl, (size_t)(hl + got + 2));
        }
        if (n < 0)
            return (int)n;
    }
    if (body_len >= 0 && sent != (uint64_t)body_len)
        return NB_EINVAL; /* fewer bytes than promised: the server would wait */
    if (body_len < 0) {
        n = nb_send_all(c->h, "0\r\n\r\n", 5);
        if (n < 0)
            return (int)n;
    }
    return 0;
}

/* Read and parse the response head (skipping 1xx interim responses).
 * NB_ENOTCONN: the connection ended before any byte (a stale keep-alive). */
static int read_head(struct nb_http_client *c, bool head_request)
{
    size_t end = 0, start = 0;
    for (;;) {
        if (end > start) {
            long hl = nb_http_parse_response(c->buf + start, end - start, NB_HTTP_CLIENT_MAX_HEAD,
                                             &c->head);
            if (hl < 0)
                return NB_EPROTO;
            if (hl > 0) {
                if (c->head.status >= 100 && c->head.status < 200 && c->head.status != 101) {
                    start += (size_t)hl; /* 100 Continue and friends: the real one follows */
                    continue;
                }
                if (start) { /* keep the head at the start of the buffer */
                    memmove(c->buf, c->buf + start, end - start);
                    end -= start;
                    start = 0;
                    hl = nb_http_parse_response(c->buf, end, NB_HTTP_CLIENT_MAX_HEAD, &c->head);
                }
                c->head_len = (size_t)hl;
                c->pos = (size_t)hl;
                c->end = end;
                return 0;
            }
        }
        if (end == sizeof c->buf) {
            if (start == 0)
                return NB_EPROTO;
            memmove(c->buf, c->buf + start, end - start);
            end -= start;
            start = 0;
        }
        int n = nb_recv(c->h, c->buf + end, sizeof c->buf - end, 0);
        if (n < 0)
            return n;
        if (n == 0)
            return end == 0 ? NB_ENOTCONN : NB_ECONNRESET;
        end += (size_t)n;
    }
    (void)head_request;
}

static void start_body(struct nb_http_client *c, bool head_request)
{
    c->status = c->head.status;
    c->body = nb_http_response_body(&c->head, head_request);
    c->body_left = c->body == NB_HTTP_BODY_LENGTH ? (uint64_t)c->head.content_length : 0;
    c->body_read = 0;
    c->body_done = c->body == NB_HTTP_BODY_NONE ||
                   (c->body == NB_HTTP_BODY_LENGTH && c->body_left == 0);
    nb_chunked_init(&c->ck);
    c->reusable = c->o.keep_alive && c->head.keep_alive && c->body != NB_HTTP_BODY_CLOSE;
}

/* Refill the read-ahead after the head; bytes, 0 at end of stream, NB_E*. */
static int refill(struct nb_http_client *c)
{
    c->pos = c->end = c->head_len;
    int n = nb_recv(c->h, c->buf + c->head_len, sizeof c->buf - c->head_len, 0);
    if (n > 0)
        c->end += (size_t)n;
    return n;
}

long nb_http_read(struct nb_http_client *c, void *out, size_t len)
{
    if (c->body_done || len == 0)
        return 0;
    if (c->h < 0)
        return NB_ENOTCONN;
    if (len > (1u << 30))
        len = 1u << 30;
    uint8_t *dst = out;
    switch (c->body) {
    case NB_HTTP_BODY_NONE:
        c->body_done = true;
        return 0;
    case NB_HTTP_BODY_LENGTH:
    case NB_HTTP_BODY_CLOSE: {
        size_t want = len;
        if (c->body == NB_HTTP_BODY_LENGTH && want > c->body_left)
            want = (size_t)c->body_left;
        long n;
        if (c->pos < c->end) {
            n = (long)(c->end - c->pos < want ? c->end - c->pos : want);
            memcpy(dst, c->buf + c->pos, (size_t)n);
            c->pos += (size_t)n;
        } else {
            n = nb_recv(c->h, dst, want, 0);
            if (n < 0) {
                c->reusable = false;
                return n;
            }
            if (n == 0) {
                c->body_done = true;
                c->reusable = false;
                return c->body == NB_HTTP_BODY_LENGTH ? NB_ECONNRESET : 0;
            }
        }
        c->body_read += (uint64_t)n;
        if (c->body == NB_HTTP_BODY_LENGTH) {
            c->body_left -= (uint64_t)n;
            if (c->body_left == 0) {
                c->body_done = true;
                if (c->pos != c->end)
                    c->reusable = false; /* bytes nobody asked for */
            }
        }
        return n;
    }
    case NB_HTTP_BODY_CHUNKED:
        for (;;) {
            if (c->pos == c->end) {
                int r = refill(c);
                if (r <= 0) {
                    c->reusable = false;
                    c->body_done = r == 0;
                    return r == 0 ? NB_ECONNRESET : r;
                }
            }
            /* at most len input bytes: then the data returned fits */
            size_t avail = c->end - c->pos < len ? c->end - c->pos : len;
            size_t used, dn;
            const uint8_t *d;
            int rc = nb_chunked_decode(&c->ck, (const uint8_t *)c->buf + c->pos, avail, &used, &d, &dn);
            c->pos += used;
            if (rc < 0) {
                c->reusable = false;
                c->body_done = true;
                return NB_EPROTO;
            }
            if (rc == NB_CHUNKED_DONE) {
                c->body_done = true;
                if (c->pos != c->end)
                    c->reusable = false;
                return 0;
            }
            if (rc == NB_CHUNKED_DATA && dn) {
                memmove(dst, d, dn);
                c->body_read += dn;
                return (long)dn;
            }
        }
    }
    return NB_EINVAL;
}

/* Finish the current response so the connection can carry another one:
 * read a small rest of body away, or close. */
static void finish_response(struct nb_http_client *c)
{
    if (c->h < 0 || c->body_done)
        return;
    uint8_t junk[4096];
    size_t drained = 0;
    while (!c->body_done && c->reusable && drained < DRAIN_MAX) {
        long n = nb_http_read(c, junk, sizeof junk);
        if (n <= 0)
            break;
        drained += (size_t)n;
    }
    if (!c->body_done)
        nb_http_client_close(c);
    c->body_done = true;
}

static bool is_redirect(int st)
{
    return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

int nb_http_request(struct nb_http_client *c, const char *method, const char *url,
                    const char *extra_headers, const void *body, long body_len,
                    nb_http_source src, void *src_arg)
{
    finish_response(c);
    int rc = nb_url_parse(url, strlen(url), &c->url);
    if (rc)
        return rc;
    char meth[16];
    if (strlen(method) >= sizeof meth)
        return NB_EINVAL;
    strcpy(meth, method);
    for (int redirects = 0;; redirects++) {
        bool head_req = strcmp(meth, "HEAD") == 0;
        for (int attempt = 0;; attempt++) {
            /* a streamed body cannot be sent twice: always a fresh connection */
            rc = ensure_conn(c, src == NULL && attempt == 0);
            if (rc < 0)
                return rc;
            bool reused = rc == 1;
            rc = send_request(c, meth, extra_headers, body, body_len, src, src_arg);
            if (rc == 0)
                rc = read_head(c, head_req);
            if (rc == 0)
                break;
            nb_http_client_close(c);
            bool stale = reused && (rc == NB_ENOTCONN || rc == NB_EPIPE || rc == NB_ECONNRESET);
            if (!stale || attempt > 0)
                return rc == NB_ENOTCONN ? NB_ECONNRESET : rc;
        }
        start_body(c, head_req);
        int st = c->status;
        if (!is_redirect(st) || c->o.max_redirects == 0)
            return st;
        size_t ll;
        const char *loc = nb_http_header(&c->head, "Location", &ll);
        if (!loc)
            return st;
        if (redirects >= c->o.max_redirects) {
            finish_response(c);
            return NB_ELOOP;
        }
        struct nb_url next;
        rc = nb_url_resolve(&c->url, loc, ll, &next); /* before the head's bytes are reused */
        if (rc)
            return rc;
        bool to_get = st == 303 || ((st == 301 || st == 302) && strcmp(meth, "POST") == 0);
        if (src && !to_get)
            return st; /* cannot replay a streamed body */
        finish_response(c);
        c->url = next;
        if (to_get) {
            if (!head_req)
                strcpy(meth, "GET");
            body = NULL;
            body_len = -1;
            src = NULL;
        }
    }
}
