/*
 * nb_http.h: an HTTP/1.1 client and server for NeoBoot apps, on the
 * parsers of nb_http_parse.h and the sockets of nb_net.h.
 *
 * Client: one connection at a time, kept alive between requests to the
 * same host and port; Content-Length, chunked and close-delimited bodies
 * read as a stream; redirects followed (bounded); every wait bounded by
 * a timeout.
 *
 *     struct nb_http_client c;
 *     nb_http_client_init(&c, NULL);
 *     int status = nb_http_get(&c, "http://10.0.2.2:8000/f");
 *     char buf[65536];
 *     long n;
 *     while ((n = nb_http_read(&c, buf, sizeof buf)) > 0) consume(buf, n);
 *     nb_http_client_close(&c);
 *
 * Server: event-driven over nb_poll, so one guest serves many connections
 * (bounded by max_conns); routing by method and path; keep-alive and
 * pipelining; request and response bodies streamed; limits that answer
 * 431 (head too large), 413 (body too large), 408 and close (a head that
 * does not arrive in time: slowloris), and idle and no-progress timeouts.
 *
 *     static void hello(struct nb_http_ex *x, void *arg) {
 *         nb_http_respond(x, 200, "text/plain", "hi\n", 3);
 *     }
 *     struct nb_http_server_config cfg;
 *     nb_http_server_defaults(&cfg);
 *     cfg.port = 8080;
 *     struct nb_http_server *s = nb_http_server_new(&cfg);
 *     nb_http_server_route(s, "GET", "/", hello, NULL);
 *     nb_http_server_run(s);
 *
 * Handlers run inside the server's loop and must not block: they answer
 * at once, or stream (a body callback for the request, a fill callback for
 * the response).
 */
#ifndef NB_SDK_HTTP_H
#define NB_SDK_HTTP_H

#include "nb_http_parse.h"
#include "nb_net.h"
#include "nb_url.h"

/* ===================== client ===================== */

struct nb_http_client_opts {
    int64_t connect_timeout_ns;   /* default 10 s */
    int64_t io_timeout_ns;        /* no progress for this long fails a read/write; default 30 s */
    int max_redirects;            /* default 5; 0: return 3xx responses as they are */
    bool keep_alive;              /* reuse the connection; default true */
    const char *user_agent;       /* default "neoboot-sdk" */
};

#define NB_HTTP_CLIENT_BUF 65536   /* response head (<= 16 KiB) + read-ahead */
#define NB_HTTP_CLIENT_MAX_HEAD 16384

struct nb_http_client {
    struct nb_http_client_opts o;
    int h;                        /* connection, -1 when none */
    char conn_host[NB_URL_HOST_MAX];
    uint16_t conn_port;
    struct nb_url url;            /* the last request's URL, after redirects */
    struct nb_http_head head;     /* the last response's head (points into buf) */
    int status;
    /* body state */
    enum nb_http_body body;
    uint64_t body_left;
    uint64_t body_read;
    struct nb_chunked ck;
    bool body_done, reusable;
    size_t head_len, pos, end;    /* buf[head_len..): read-ahead from pos to end */
    char buf[NB_HTTP_CLIENT_BUF];
};

/* The defaults named above. */
void nb_http_client_defaults(struct nb_http_client_opts *o);
/* o: NULL for the defaults. */
void nb_http_client_init(struct nb_http_client *c, const struct nb_http_client_opts *o);
void nb_http_client_close(struct nb_http_client *c);

/*
 * A body source for uploads: fill buf with up to cap bytes; return the
 * count, 0 at the end, or NB_E*.
 */
typedef long (*nb_http_source)(void *arg, void *buf, size_t cap);

/*
 * Send a request and read the response head. extra_headers is NULL or
 * lines "Name: value\r\n". The body is body/body_len (body_len < 0: no
 * body), or comes from src when src is set: with body_len >= 0 as
 * Content-Length, else chunked. Redirects (301, 302, 303, 307, 308) are
 * followed up to max_redirects; 303, and 301/302 after a POST, continue
 * as GET without a body; a streamed body is not sent twice, so with src
 * only 303 is followed. Returns the final status code (> 0) or NB_E*
 * (NB_ELOOP: too many redirects; NB_EPROTO: malformed response). The
 * head is then in c->head (nb_http_header() reads it) and the body is
 * read with nb_http_read().
 */
int nb_http_request(struct nb_http_client *c, const char *method, const char *url,
                    const char *extra_headers, const void *body, long body_len,
                    nb_http_source src, void *src_arg);
static inline int nb_http_get(struct nb_http_client *c, const char *url)
{
    return nb_http_request(c, "GET", url, NULL, NULL, -1, NULL, NULL);
}

/* Read up to len bytes of the response body: the count, 0 at its end, or
 * NB_E* (NB_ECONNRESET: the connection ended before the body did;
 * NB_EPROTO: bad chunked framing; NB_ETIMEDOUT). */
long nb_http_read(struct nb_http_client *c, void *buf, size_t len);

/* The response's Content-Length, or -1 when it has none (chunked, close). */
static inline int64_t nb_http_content_length(const struct nb_http_client *c)
{
    return c->body == NB_HTTP_BODY_LENGTH ? c->head.content_length : -1;
}

/* ===================== server ===================== */

struct nb_http_server_config {
    uint16_t port;                /* TCP port (0: none) */
    uint32_t vsock_port;          /* vsock port (0: none) */
    int backlog;                  /* default 1024 */
    uint32_t max_conns;           /* open connections; more are answered 503 and closed; default 1024 */
    uint32_t max_head;            /* request line + headers; beyond: 431; default 8 KiB */
    uint64_t max_body;            /* request body; beyond: 413; default 1 MiB (per request: nb_http_ex_body_limit) */
    int64_t header_timeout_ns;    /* a request head must arrive within; default 10 s */
    int64_t idle_timeout_ns;      /* between requests on a kept-alive connection; default 60 s */
    int64_t io_timeout_ns;        /* a body or response without progress; default 30 s */
    uint32_t max_requests;        /* per connection, then close; default 0 (no limit) */
    const char *server_name;      /* Server: header; default "neoboot" */
};

struct nb_http_server_stats {
    uint64_t accepted, rejected;  /* rejected: over max_conns */
    uint64_t requests;
    uint64_t status[6];           /* responses by class: [1] 1xx .. [5] 5xx */
    uint64_t bad_requests;        /* parse errors (400, 431, 501, 505) */
    uint64_t timeouts;            /* connections closed by a timeout */
    uint64_t bytes_in, bytes_out;
    uint64_t polls, events;       /* nb_poll calls, and ready handles they returned */
    uint32_t open, peak_open;
};

struct nb_http_server;
struct nb_http_ex;                /* one request and its response */

typedef void (*nb_http_handler)(struct nb_http_ex *x, void *arg);

void nb_http_server_defaults(struct nb_http_server_config *cfg);
/* Listen as configured; NULL with *err set (NB_E*) on failure. */
struct nb_http_server *nb_http_server_new(const struct nb_http_server_config *cfg, int *err);
/*
 * Route requests whose method is method (NULL: any) and whose path is
 * path, or starts with it when path ends in '*'. First match wins;
 * unmatched paths get 404, matched paths with another method 405.
 * At most 64 routes.
 */
int nb_http_server_route(struct nb_http_server *s, const char *method, const char *path,
                         nb_http_handler fn, void *arg);
/* Serve until nb_http_server_stop() or a fatal error (NB_E*); 0 when stopped. */
int nb_http_server_run(struct nb_http_server *s);
void nb_http_server_stop(struct nb_http_server *s);
const struct nb_http_server_stats *nb_http_server_stats(const struct nb_http_server *s);
/* Close every connection and the listeners. */
void nb_http_server_free(struct nb_http_server *s);

/* --- inside a handler --- */

/* The request head: valid only during the handler call. */
const struct nb_http_head *nb_http_ex_head(const struct nb_http_ex *x);
/* Method, path (without the query) and query ("" when none): NUL-
 * terminated, valid until the exchange ends. */
const char *nb_http_ex_method(const struct nb_http_ex *x);
const char *nb_http_ex_path(const struct nb_http_ex *x);
const char *nb_http_ex_query(const struct nb_http_ex *x);
const struct nb_addr *nb_http_ex_peer(const struct nb_http_ex *x);
struct nb_http_server *nb_http_ex_server(const struct nb_http_ex *x);
/* A pointer for the handler's own state for this exchange. */
void **nb_http_ex_user(struct nb_http_ex *x);
/* The request body's length if known, else -1 (chunked). */
int64_t nb_http_ex_body_length(const struct nb_http_ex *x);

/* Change max_body for this request (call from the handler, before the body). */
void nb_http_ex_body_limit(struct nb_http_ex *x, uint64_t max);
/*
 * Receive the request body as it arrives: data() for each piece, end()
 * once it is complete (respond there, if not before). Without these the
 * body is read and discarded.
 */
void nb_http_ex_on_body(struct nb_http_ex *x, void (*data)(struct nb_http_ex *x, const void *p, size_t n),
                        void (*end)(struct nb_http_ex *x));
/* done(x, completed) runs once when the exchange ends, also when the
 * connection is lost midway (completed = false): free state there. */
void nb_http_ex_on_done(struct nb_http_ex *x, void (*done)(struct nb_http_ex *x, bool completed));

/* An extra response header (before responding); NB_ENOBUFS past 1 KiB in all. */
int nb_http_ex_header(struct nb_http_ex *x, const char *name, const char *value);
/* Answer with a whole body (copied). HEAD requests get the head only. */
int nb_http_respond(struct nb_http_ex *x, int status, const char *content_type, const void *body,
                    size_t len);
/* Answer with a streamed body of length bytes (< 0: unknown, chunked):
 * fill(x, buf, cap) is called whenever the connection can take more and
 * returns bytes written (> 0), 0 at the end, or NB_E* to abort. */
typedef long (*nb_http_fill)(struct nb_http_ex *x, void *buf, size_t cap);
int nb_http_respond_stream(struct nb_http_ex *x, int status, const char *content_type,
                           int64_t length, nb_http_fill fill);
/* Close the connection after this response (keep-alive off). */
void nb_http_ex_close_after(struct nb_http_ex *x);

#endif
