/*
 * The HTTP/1.1 server: one event loop over nb_poll serving every
 * connection, so a single-threaded guest handles thousands of clients.
 *
 * Each connection is a small state machine:
 *
 *   HEAD  -- request head parsed --> handler runs --> BODY (if any)
 *   BODY  -- body consumed ---------> RESP
 *   RESP  -- response fully queued --> HEAD (keep-alive) or CLOSE
 *   CLOSE -- output flushed --------> shutdown(write), LINGER
 *   LINGER -- peer's EOF, a time or byte limit --> closed
 *
 * Requests are handled strictly in order, one at a time per connection;
 * pipelined requests simply wait in the input buffer. Output goes into a
 * per-connection buffer and is sent without blocking; above OUT_HIGH the
 * connection stops reading and producing until the peer drains it, which
 * is the backpressure that keeps memory bounded with slow readers.
 *
 * Why LINGER: the runtime (like Linux) resets a connection closed with
 * unread input, and a reset can destroy an error response still in
 * flight. So after an error we shut down our side and read and discard
 * what the client still sends, briefly, before closing (as nginx does).
 *
 * Timeouts are one deadline per connection. The loop keeps a lower bound
 * of all deadlines and scans the connections only when it passes, so an
 * iteration costs O(ready connections), not O(all).
 */
#include "nb_http.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUTES 64
#define IN_MIN 16384
#define OUT_HIGH 65536          /* stop reading and filling above this */
#define FILL_CHUNK 32768        /* one fill() call */
#define ACCEPT_BATCH 64
#define LINGER_NS (2 * NB_SEC)
#define LINGER_BYTES (1u << 20)
#define EXTRA_HDR_MAX 1024

enum cstate { S_HEAD, S_BODY, S_RESP, S_CLOSE, S_LINGER };
enum bmode { B_NONE, B_LENGTH, B_CHUNKED };

struct route {
    char method[16];
    char path[128];
    size_t path_len;
    bool prefix, any_method;
    nb_http_handler fn;
    void *arg;
};

struct nb_http_ex {
    struct conn *c;
    const struct nb_http_head *head;
    char method[16];
    char *path, *query;       /* in pbuf, or one allocation if longer */
    bool is_head, http10;
    bool responded;           /* a response is queued (or streaming) */
    bool response_done;       /* the whole response is queued */
    bool close_after;
    bool body_started;
    int status;
    enum bmode body;
    uint64_t body_left, body_seen, body_limit;
    int64_t body_length;
    struct nb_chunked ck;
    void (*on_data)(struct nb_http_ex *, const void *, size_t);
    void (*on_end)(struct nb_http_ex *);
    void (*on_done)(struct nb_http_ex *, bool);
    nb_http_fill fill;
    int fill_mode;            /* 0 length, 1 chunked, 2 until close */
    uint64_t fill_left;
    void *user;
    size_t extra_len;
    char extra[EXTRA_HDR_MAX];
    char pbuf[128];           /* after extra: ex_reset() does not clear these */
};

struct conn {
    struct nb_http_server *s;
    int h;
    uint32_t slot;
    enum cstate state;
    uint8_t *in;
    size_t in_off, in_len, in_cap;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
    int64_t deadline;
    int64_t head_start;       /* first byte of the current head, 0: none yet */
    uint64_t lingered;
    uint32_t requests;
    bool peer_eof, in_exchange;
    struct nb_addr peer;
    struct nb_http_ex ex;
};

struct nb_http_server {
    struct nb_http_server_config cfg;
    struct nb_pollset ps;
    int listeners[2];
    int nlisteners;
    struct route routes[MAX_ROUTES];
    int nroutes;
    struct nb_http_server_stats st;
    struct nb_http_head head;  /* the request being dispatched (big: shared) */
    int64_t next_deadline;
    int64_t now;
    bool stop;
    char date[40];
    size_t date_len, name_len;
    int64_t date_sec, date_next;
};

static const char reject_503[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/* --- configuration --- */

void nb_http_server_defaults(struct nb_http_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->backlog = 1024;
    cfg->max_conns = 1024;
    cfg->max_head = 8192;
    cfg->max_body = 1u << 20;
    cfg->header_timeout_ns = 10 * NB_SEC;
    cfg->idle_timeout_ns = 60 * NB_SEC;
    cfg->io_timeout_ns = 30 * NB_SEC;
    cfg->server_name = "neoboot";
}

struct nb_http_server *nb_http_server_new(const struct nb_http_server_config *cfg, int *err)
{
    struct nb_http_server *s = calloc(1, sizeof *s);
    int rc = NB_ENOMEM;
    if (!s)
        goto fail;
    s->cfg = *cfg;
    if (!s->cfg.max_conns)
        s->cfg.max_conns = 1024;
    if (s->cfg.max_head < 256)
        s->cfg.max_head = 256;
    if (!s->cfg.server_name)
        s->cfg.server_name = "neoboot";
    s->name_len = strlen(s->cfg.server_name);
    rc = nb_pollset_init(&s->ps, s->cfg.max_conns + 2);
    if (rc)
        goto fail;
    if (cfg->port) {
        int h = nb_tcp_listen(cfg->port, cfg->backlog ? cfg->backlog : 1024);
        if (h < 0) {
            rc = h;
            goto fail;
        }
        s->listeners[s->nlisteners++] = h;
    }
    if (cfg->vsock_port) {
        int h = nb_vsock_listen(cfg->vsock_port, cfg->backlog ? cfg->backlog : 1024);
        if (h < 0) {
            rc = h;
            goto fail;
        }
        s->listeners[s->nlisteners++] = h;
    }
    if (!s->nlisteners) {
        rc = NB_EINVAL;
        goto fail;
    }
    for (int i = 0; i < s->nlisteners; i++) {
        nb_set_nonblock(s->listeners[i], true);
        nb_pollset_add(&s->ps, s->listeners[i], NB_POLLIN, NULL);
    }
    s->next_deadline = INT64_MAX;
    return s;
fail:
    if (s) {
        for (int i = 0; i < s->nlisteners; i++)
            nb_close(s->listeners[i]);
        nb_pollset_free(&s->ps);
        free(s);
    }
    if (err)
        *err = rc;
    return NULL;
}

int nb_http_server_route(struct nb_http_server *s, const char *method, const char *path,
                         nb_http_handler fn, void *arg)
{
    if (s->nroutes == MAX_ROUTES)
        return NB_ENOBUFS;
    struct route *r = &s->routes[s->nroutes];
    size_t pl = strlen(path);
    if (pl >= sizeof r->path || (method && strlen(method) >= sizeof r->method) || !fn)
        return NB_EINVAL;
    memset(r, 0, sizeof *r);
    r->any_method = method == NULL;
    if (method)
        strcpy(r->method, method);
    r->prefix = pl > 0 && path[pl - 1] == '*';
    r->path_len = r->prefix ? pl - 1 : pl;
    memcpy(r->path, path, r->path_len);
    r->fn = fn;
    r->arg = arg;
    s->nroutes++;
    return 0;
}

void nb_http_server_stop(struct nb_http_server *s) { s->stop = true; }

const struct nb_http_server_stats *nb_http_server_stats(const struct nb_http_server *s)
{
    return &s->st;
}

/* --- exchange accessors --- */

const struct nb_http_head *nb_http_ex_head(const struct nb_http_ex *x) { return x->head; }
const char *nb_http_ex_method(const struct nb_http_ex *x) { return x->method; }
const char *nb_http_ex_path(const struct nb_http_ex *x) { return x->path; }
const char *nb_http_ex_query(const struct nb_http_ex *x) { return x->query; }
const struct nb_addr *nb_http_ex_peer(const struct nb_http_ex *x) { return &x->c->peer; }
struct nb_http_server *nb_http_ex_server(const struct nb_http_ex *x) { return x->c->s; }
void **nb_http_ex_user(struct nb_http_ex *x) { return &x->user; }
int64_t nb_http_ex_body_length(const struct nb_http_ex *x) { return x->body_length; }
void nb_http_ex_body_limit(struct nb_http_ex *x, uint64_t max) { x->body_limit = max; }
void nb_http_ex_close_after(struct nb_http_ex *x) { x->close_after = true; }

void nb_http_ex_on_body(struct nb_http_ex *x, void (*data)(struct nb_http_ex *, const void *, size_t),
                        void (*end)(struct nb_http_ex *))
{
    x->on_data = data;
    x->on_end = end;
}

void nb_http_ex_on_done(struct nb_http_ex *x, void (*done)(struct nb_http_ex *, bool))
{
    x->on_done = done;
}

int nb_http_ex_header(struct nb_http_ex *x, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    if (x->extra_len + nl + vl + 4 > sizeof x->extra)
        return NB_ENOBUFS;
    /* no header injection through a value */
    if (strpbrk(name, "\r\n: ") || strpbrk(value, "\r\n"))
        return NB_EINVAL;
    char *p = x->extra + x->extra_len;
    memcpy(p, name, nl);
    p[nl] = ':';
    p[nl + 1] = ' ';
    memcpy(p + nl + 2, value, vl);
    p[nl + 2 + vl] = '\r';
    p[nl + 3 + vl] = '\n';
    x->extra_len += nl + vl + 4;
    return 0;
}

/* --- output buffer --- */

static int out_reserve(struct conn *c, size_t n)
{
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_cap - c->out_len >= n)
        return 0;
    if (c->out_off) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_cap - c->out_len >= n)
            return 0;
    }
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap - c->out_len < n)
        cap *= 2;
    uint8_t *p = realloc(c->out, cap);
    if (!p)
        return NB_ENOMEM;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

static void out_put(struct conn *c, const void *p, size_t n)
{
    memcpy(c->out + c->out_len, p, n); /* after out_reserve */
    c->out_len += n;
}

static void out_str(struct conn *c, const char *s) { out_put(c, s, strlen(s)); }
/* a literal: its length is known at compile time, no strlen at run time */
#define out_lit(c, lit) out_put(c, lit, sizeof lit - 1)

static void out_num(struct conn *c, uint64_t v)
{
    char rev[24];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        c->out[c->out_len++] = (uint8_t)rev[--n];
}

static size_t out_pending(const struct conn *c) { return c->out_len - c->out_off; }

/* A large idle output buffer is given back (a one-off big response must
 * not pin its memory for the connection's lifetime). */
static void out_trim(struct conn *c)
{
    if (c->out_off == c->out_len && c->out_cap > 4 * OUT_HIGH) {
        free(c->out);
        c->out = NULL;
        c->out_cap = c->out_len = c->out_off = 0;
    }
}

/* The Date header, formatted once a second: the wall clock is read only
 * when the monotonic clock says the second has turned (a host call per
 * response would cost more than the rest of the header). */
static const char *http_date(struct nb_http_server *s)
{
    if (s->now < s->date_next)
        return s->date[0] ? s->date : NULL;
    int64_t wall = nb_clock(NB_CLOCK_REALTIME);
    if (wall <= 0) {
        s->date_next = s->now + NB_SEC;
        s->date[0] = 0;
        return NULL;
    }
    int64_t sec = wall / NB_SEC;
    s->date_next = s->now + (NB_SEC - wall % NB_SEC);
    if (sec != s->date_sec) {
        time_t t = (time_t)sec;
        struct tm *tm = gmtime(&t); /* one thread: the static result is fine */
        if (!tm)
            return NULL;
        s->date_len = strftime(s->date, sizeof s->date, "%a, %d %b %Y %H:%M:%S GMT", tm);
        s->date_sec = sec;
    }
    return s->date;
}

/* Queue the status line and headers. length < 0: chunked (or close-
 * delimited for HTTP/1.0 clients). */
static int put_head(struct nb_http_ex *x, int status, const char *ctype, int64_t length)
{
    struct conn *c = x->c;
    struct nb_http_server *s = c->s;
    const char *date = http_date(s);
    size_t ctlen = ctype ? strlen(ctype) : 0;
    size_t need = 256 + x->extra_len + ctlen + s->name_len;
    if (out_reserve(c, need))
        return NB_ENOMEM;
    if (s->cfg.max_requests && c->requests + 1 >= s->cfg.max_requests)
        x->close_after = true;
    if (s->stop)
        x->close_after = true;
    out_lit(c, "HTTP/1.1 ");
    out_num(c, (uint64_t)status);
    out_lit(c, " ");
    out_str(c, nb_http_reason(status));
    out_lit(c, "\r\nServer: ");
    out_put(c, s->cfg.server_name, s->name_len);
    if (date) {
        out_lit(c, "\r\nDate: ");
        out_put(c, date, s->date_len);
    }
    if (ctype) {
        out_lit(c, "\r\nContent-Type: ");
        out_put(c, ctype, ctlen);
    }
    if (length >= 0) {
        out_lit(c, "\r\nContent-Length: ");
        out_num(c, (uint64_t)length);
    } else if (!x->http10) {
        out_lit(c, "\r\nTransfer-Encoding: chunked");
    } else {
        x->close_after = true; /* HTTP/1.0: the body ends with the connection */
    }
    out_lit(c, "\r\n");
    out_put(c, x->extra, x->extra_len);
    if (x->close_after)
        out_lit(c, "Connection: close\r\n");
    else if (x->http10)
        out_lit(c, "Connection: keep-alive\r\n");
    out_lit(c, "\r\n");
    x->status = status;
    x->responded = true;
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        s->st.status[cls]++;
    return 0;
}

int nb_http_respond(struct nb_http_ex *x, int status, const char *content_type, const void *body,
                    size_t len)
{
    if (x->responded)
        return NB_EALREADY;
    int rc = put_head(x, status, content_type, (int64_t)len);
    if (rc)
        return rc;
    if (!x->is_head && len) {
        if (out_reserve(x->c, len))
            return NB_ENOMEM;
        out_put(x->c, body, len);
    }
    x->response_done = true;
    return 0;
}

int nb_http_respond_stream(struct nb_http_ex *x, int status, const char *content_type,
                           int64_t length, nb_http_fill fill)
{
    if (x->responded)
        return NB_EALREADY;
    int rc = put_head(x, status, content_type, length);
    if (rc)
        return rc;
    if (x->is_head || length == 0) {
        x->response_done = true;
        return 0;
    }
    x->fill = fill;
    x->fill_mode = length >= 0 ? 0 : x->http10 ? 2 : 1;
    x->fill_left = length >= 0 ? (uint64_t)length : 0;
    return 0;
}

/* An error answer from the server itself (parse errors, limits, timeouts):
 * always closes the connection afterwards. */
static void respond_error(struct conn *c, int status)
{
    struct nb_http_ex *x = &c->ex;
    x->close_after = true;
    if (x->responded)
        return;
    char body[96];
    int n = snprintf(body, sizeof body, "%d %s\n", status, nb_http_reason(status));
    nb_http_respond(x, status, "text/plain", body, (size_t)n);
}

/* --- connections --- */

static void set_deadline(struct conn *c, int64_t d)
{
    c->deadline = d;
    if (d < c->s->next_deadline)
        c->s->next_deadline = d;
}

static void ex_reset(struct conn *c)
{
    struct nb_http_ex *x = &c->ex;
    if (x->path != x->pbuf)
        free(x->path);
    memset(x, 0, offsetof(struct nb_http_ex, extra));
    x->c = c;
    x->body_length = -1;
}

static void ex_finish(struct conn *c, bool completed)
{
    struct nb_http_ex *x = &c->ex;
    if (c->in_exchange && x->on_done)
        x->on_done(x, completed);
    c->in_exchange = false;
    ex_reset(c);
}

static void conn_close(struct conn *c)
{
    struct nb_http_server *s = c->s;
    ex_finish(c, false);
    nb_close(c->h);
    struct conn *moved = nb_pollset_del(&s->ps, c->slot);
    if (moved)
        moved->slot = c->slot;
    free(c->in);
    free(c->out);
    free(c);
    s->st.open--;
}

/* Start closing: flush, then shut down and linger. */
static void conn_begin_close(struct conn *c)
{
    c->state = S_CLOSE;
    set_deadline(c, c->s->now + c->s->cfg.io_timeout_ns);
}

static void accept_all(struct nb_http_server *s, int lh)
{
    for (int k = 0; k < ACCEPT_BATCH; k++) {
        struct nb_addr peer;
        int h = nb_accept(lh, &peer);
        if (h < 0)
            return; /* NB_EAGAIN, or NB_EMFILE: the rest wait in the backlog */
        if (s->st.open >= s->cfg.max_conns) {
            /* Over capacity: say so and close, so the flood costs us one
             * handle for an instant, and keep serving those we have. */
            nb_send(h, reject_503, sizeof reject_503 - 1, NB_MSG_DONTWAIT);
            nb_close(h);
            s->st.rejected++;
            s->st.status[5]++;
            continue;
        }
        struct conn *c = calloc(1, sizeof *c);
        int slot = c ? nb_pollset_add(&s->ps, h, NB_POLLIN, c) : NB_ENOMEM;
        if (slot < 0) {
            free(c);
            nb_close(h);
            s->st.rejected++;
            continue;
        }
        c->s = s;
        c->h = h;
        c->slot = (uint32_t)slot;
        c->peer = peer;
        c->state = S_HEAD;
        ex_reset(c);
        nb_set_nonblock(h, true);
        nb_setopt(h, NB_TCP_NODELAY, 1);
        set_deadline(c, s->now + s->cfg.header_timeout_ns);
        s->st.accepted++;
        if (++s->st.open > s->st.peak_open)
            s->st.peak_open = s->st.open;
    }
}

/* Read what is there into the input buffer. Returns false if the
 * connection is gone. */
static bool conn_read(struct conn *c)
{
    if (!c->in) {
        c->in_cap = c->s->cfg.max_head + 1 > IN_MIN ? c->s->cfg.max_head + 1 : IN_MIN;
        c->in = malloc(c->in_cap);
        if (!c->in)
            return false;
    }
    if (c->in_off == c->in_len) {
        c->in_off = c->in_len = 0;
    } else if (c->in_off && c->in_len == c->in_cap) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in_len == c->in_cap)
        return true; /* full: process() must consume first */
    int n = nb_recv(c->h, c->in + c->in_len, c->in_cap - c->in_len, NB_MSG_DONTWAIT);
    if (n > 0) {
        c->in_len += (size_t)n;
        c->s->st.bytes_in += (uint64_t)n;
        if (c->state == S_HEAD && !c->head_start) {
            /* the head's clock starts with its first byte (slowloris) */
            c->head_start = c->s->now;
            if (c->head_start + c->s->cfg.header_timeout_ns < c->deadline)
                set_deadline(c, c->head_start + c->s->cfg.header_timeout_ns);
        } else if (c->state == S_BODY)
            set_deadline(c, c->s->now + c->s->cfg.io_timeout_ns);
        return true;
    }
    if (n == 0) {
        c->peer_eof = true;
        return true;
    }
    return n == NB_EAGAIN;
}

/* Send queued output. Returns false if the connection is gone. */
static bool conn_flush(struct conn *c)
{
    while (out_pending(c)) {
        int n = nb_send(c->h, c->out + c->out_off, out_pending(c), NB_MSG_DONTWAIT);
        if (n == NB_EAGAIN)
            break;
        if (n <= 0)
            return false;
        c->out_off += (size_t)n;
        c->s->st.bytes_out += (uint64_t)n;
        set_deadline(c, c->s->now + c->s->cfg.io_timeout_ns);
    }
    if (!out_pending(c))
        out_trim(c);
    return true;
}

static const struct route *route_find(struct nb_http_server *s, const char *method,
                                      const char *path, bool *wrong_method)
{
    *wrong_method = false;
    size_t plen = strlen(path);
    for (int i = 0; i < s->nroutes; i++) {
        const struct route *r = &s->routes[i];
        bool match = r->prefix ? plen >= r->path_len && memcmp(path, r->path, r->path_len) == 0
                               : plen == r->path_len && memcmp(path, r->path, r->path_len) == 0;
        if (!match)
            continue;
        bool mok = r->any_method || strcmp(r->method, method) == 0 ||
                   (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
        if (mok)
            return r;
        *wrong_method = true;
    }
    return NULL;
}

/* A complete head is in s->head: set up the exchange and run the handler. */
static void dispatch(struct conn *c, long head_len)
{
    struct nb_http_server *s = c->s;
    struct nb_http_head *h = &s->head;
    struct nb_http_ex *x = &c->ex;
    ex_reset(c);
    c->in_exchange = true;
    c->head_start = 0;
    s->st.requests++;
    x->head = h;
    x->http10 = h->minor == 0;
    x->close_after = !h->keep_alive;
    x->body_limit = s->cfg.max_body;
    size_t ml = h->method_len < sizeof x->method ? h->method_len : sizeof x->method - 1;
    memcpy(x->method, h->method, ml);
    x->method[ml] = 0;
    x->is_head = strcmp(x->method, "HEAD") == 0;
    /* path and query, NUL-terminated, in one allocation */
    x->path = h->target_len + 2 <= sizeof x->pbuf ? x->pbuf : malloc(h->target_len + 2);
    if (!x->path) {
        c->in_off += (size_t)head_len;
        respond_error(c, 500);
        c->state = S_RESP;
        return;
    }
    memcpy(x->path, h->target, h->target_len);
    x->path[h->target_len] = 0;
    char *q = memchr(x->path, '?', h->target_len);
    if (q) {
        *q = 0;
        x->query = q + 1;
    } else {
        x->query = x->path + h->target_len + 1;
        *x->query = 0;
    }
    x->body = h->chunked ? B_CHUNKED : h->content_length > 0 ? B_LENGTH : B_NONE;
    x->body_length = h->chunked ? -1 : h->content_length > 0 ? h->content_length : 0;
    x->body_left = h->content_length > 0 ? (uint64_t)h->content_length : 0;
    if (x->body == B_CHUNKED)
        nb_chunked_init(&x->ck);
    c->in_off += (size_t)head_len;

    bool wrong = false;
    const struct route *r = x->path[0] == '/' ? route_find(s, x->method, x->path, &wrong) : NULL;
    if (x->path[0] != '/' && strcmp(x->method, "OPTIONS") != 0) {
        respond_error(c, 400); /* absolute-form and authority-form are not served here */
    } else if (!r) {
        if (wrong)
            nb_http_ex_header(x, "Allow", "GET, HEAD, POST, PUT");
        nb_http_respond(x, wrong ? 405 : 404, "text/plain", wrong ? "method not allowed\n" : "not found\n",
                        wrong ? 19 : 10);
    } else {
        r->fn(x, r->arg);
    }
    x->head = NULL; /* s->head is reused for the next request */

    if (x->body == B_LENGTH && x->body_left > x->body_limit) {
        /* refuse before reading it: the client may even stop sending */
        if (!x->responded)
            respond_error(c, 413);
        x->close_after = true;
        x->body = B_NONE;
        x->body_left = 0;
    }
    if (x->body != B_NONE) {
        if (h->expect_continue && !x->responded) {
            if (out_reserve(c, 32) == 0)
                out_lit(c, "HTTP/1.1 100 Continue\r\n\r\n");
        } else if (h->expect_continue) {
            /* answered without the body: it will not come, so the
             * connection cannot be reused reliably */
            x->close_after = true;
            x->body = B_NONE;
        }
    }
    c->state = x->body != B_NONE ? S_BODY : S_RESP;
    set_deadline(c, s->now + s->cfg.io_timeout_ns);
}

static void body_data(struct conn *c, const uint8_t *p, size_t n)
{
    struct nb_http_ex *x = &c->ex;
    x->body_seen += n;
    if (x->body_seen > x->body_limit) {
        respond_error(c, 413);
        x->body = B_NONE;
        c->state = S_RESP;
        return;
    }
    if (x->on_data && !x->response_done)
        x->on_data(x, p, n);
}

static void body_end(struct conn *c)
{
    struct nb_http_ex *x = &c->ex;
    x->body = B_NONE;
    if (x->on_end)
        x->on_end(x);
    c->state = S_RESP;
}

/* Consume request body bytes from the input buffer. */
static void process_body(struct conn *c)
{
    struct nb_http_ex *x = &c->ex;
    while (c->state == S_BODY && c->in_off < c->in_len) {
        const uint8_t *in = c->in + c->in_off;
        size_t avail = c->in_len - c->in_off;
        if (x->body == B_LENGTH) {
            size_t n = (uint64_t)avail < x->body_left ? avail : (size_t)x->body_left;
            c->in_off += n;
            x->body_left -= n;
            body_data(c, in, n);
            if (c->state == S_BODY && x->body_left == 0)
                body_end(c);
        } else {
            size_t used;
            const uint8_t *d;
            size_t dn;
            int rc = nb_chunked_decode(&x->ck, in, avail, &used, &d, &dn);
            c->in_off += used;
            if (rc < 0) {
                respond_error(c, 400);
                c->state = S_RESP;
                c->s->st.bad_requests++;
            } else if (rc == NB_CHUNKED_DATA) {
                body_data(c, d, dn);
            } else if (rc == NB_CHUNKED_DONE) {
                body_end(c);
            }
        }
    }
    if (c->state == S_BODY && c->peer_eof) {
        /* truncated body: nobody will read an answer */
        ex_finish(c, false);
        c->state = S_LINGER;
    }
}

/* Produce streamed response data while there is room. */
static bool produce(struct conn *c)
{
    struct nb_http_ex *x = &c->ex;
    while (x->fill && !x->response_done && out_pending(c) < OUT_HIGH) {
        size_t cap = FILL_CHUNK;
        if (x->fill_mode == 0 && x->fill_left < cap)
            cap = (size_t)x->fill_left;
        if (out_reserve(c, cap + 16))
            return false;
        size_t pre = x->fill_mode == 1 ? 10 : 0; /* "%08x\r\n" */
        long n = x->fill(x, c->out + c->out_len + pre, cap);
        if (n < 0 || (size_t)n > cap)
            return false;
        if (n == 0) {
            if (x->fill_mode == 0)
                return false; /* promised more than it had: the client must see a failure */
            if (x->fill_mode == 1)
                out_lit(c, "0\r\n\r\n");
            x->response_done = true;
            break;
        }
        if (pre) {
            static const char hex[] = "0123456789abcdef";
            for (int i = 0; i < 8; i++)
                c->out[c->out_len + i] = (uint8_t)hex[((unsigned long)n >> (28 - 4 * i)) & 15];
            c->out[c->out_len + 8] = '\r';
            c->out[c->out_len + 9] = '\n';
        }
        c->out_len += pre + (size_t)n;
        if (pre)
            out_lit(c, "\r\n");
        if (x->fill_mode == 0) {
            x->fill_left -= (uint64_t)n;
            if (x->fill_left == 0)
                x->response_done = true;
        }
    }
    return true;
}

/* Advance the connection as far as its buffers allow. Returns false if it
 * must be closed now. */
static bool process(struct conn *c)
{
    struct nb_http_server *s = c->s;
    /* Ends: every pass consumes input, changes state, or returns. Pipelined
     * requests are bounded by the input buffer, output by OUT_HIGH. */
    for (;;) {
        switch (c->state) {
        case S_HEAD: {
            if (out_pending(c) >= OUT_HIGH)
                return true; /* backpressure: let the client read first */
            size_t avail = c->in_len - c->in_off;
            if (avail == 0) {
                if (c->peer_eof)
                    return false;
                return true;
            }
            long rc = nb_http_parse_request((const char *)c->in + c->in_off, avail,
                                            s->cfg.max_head, &s->head);
            if (rc == 0) {
                if (c->peer_eof)
                    return false; /* truncated request: nobody to answer */
                if (c->in_off) { /* make room for the rest of the head */
                    memmove(c->in, c->in + c->in_off, avail);
                    c->in_off = 0;
                    c->in_len = avail;
                }
                return true;
            }
            if (rc < 0) {
                s->st.bad_requests++;
                s->st.requests++;
                c->in_exchange = false;
                ex_reset(c);
                c->ex.http10 = false;
                respond_error(c, (int)-rc);
                c->in_off = c->in_len; /* the rest is not parsed again */
                c->state = S_RESP;
                break;
            }
            dispatch(c, rc);
            break;
        }
        case S_BODY:
            process_body(c);
            if (c->state == S_BODY)
                return true;
            break;
        case S_RESP: {
            struct nb_http_ex *x = &c->ex;
            if (!x->responded)
                respond_error(c, 500); /* the handler never answered */
            if (!produce(c))
                return false;
            if (!x->response_done)
                return true;
            bool close = x->close_after || c->peer_eof;
            ex_finish(c, true);
            c->requests++;
            if (close) {
                conn_begin_close(c);
                return true;
            }
            c->state = S_HEAD;
            c->head_start = c->in_off < c->in_len ? s->now : 0;
            set_deadline(c, s->now + (c->head_start ? s->cfg.header_timeout_ns : s->cfg.idle_timeout_ns));
            break;
        }
        case S_CLOSE:
        case S_LINGER:
            return true;
        }
    }
}

static void update_events(struct conn *c)
{
    uint32_t ev = 0;
    switch (c->state) {
    case S_HEAD:
    case S_BODY:
        if (out_pending(c) < OUT_HIGH && !c->peer_eof)
            ev |= NB_POLLIN;
        break;
    case S_RESP:
        if (c->ex.fill && !c->ex.response_done)
            ev |= NB_POLLOUT; /* room in the socket: produce more */
        break;
    case S_CLOSE:
        break;
    case S_LINGER:
        ev |= NB_POLLIN;
        break;
    }
    if (out_pending(c))
        ev |= NB_POLLOUT;
    nb_pollset_events(&c->s->ps, c->slot, ev);
}

/* Discard what the client still sends after we shut down our side. */
static bool linger(struct conn *c)
{
    uint8_t buf[4096];
    for (int k = 0; k < 16; k++) {
        int n = nb_recv(c->h, buf, sizeof buf, NB_MSG_DONTWAIT);
        if (n == NB_EAGAIN)
            return true;
        if (n <= 0)
            return false;
        c->lingered += (uint64_t)n;
        if (c->lingered > LINGER_BYTES)
            return false;
    }
    return true;
}

static void conn_event(struct conn *c, uint32_t ev)
{
    struct nb_http_server *s = c->s;
    if (c->state == S_LINGER) {
        if (!linger(c))
            conn_close(c);
        return;
    }
    if (ev & (NB_POLLERR | NB_POLLHUP)) {
        /* reset, or both directions closed: nobody can read an answer */
        conn_close(c);
        return;
    }
    if (ev & NB_POLLOUT) {
        if (!conn_flush(c)) {
            conn_close(c);
            return;
        }
    }
    if ((ev & NB_POLLIN) && (c->state == S_HEAD || c->state == S_BODY)) {
        if (!conn_read(c)) {
            conn_close(c);
            return;
        }
    }
    /* A streamed response is produced and sent in turns until the socket
     * takes no more (then POLLOUT brings us back), a few rounds at most so
     * one fast download does not starve the other connections. */
    for (int round = 0; round < 8; round++) {
        if (!process(c) || !conn_flush(c)) {
            conn_close(c);
            return;
        }
        if (!(c->state == S_RESP && c->ex.fill && !c->ex.response_done && !out_pending(c)))
            break;
    }
    if (c->state == S_CLOSE && !out_pending(c)) {
        nb_shutdown(c->h, NB_SHUT_WR);
        c->state = S_LINGER;
        c->lingered = 0;
        set_deadline(c, s->now + LINGER_NS);
        if (!linger(c)) {
            conn_close(c);
            return;
        }
    }
    update_events(c);
}

/* Close connections whose deadline passed; recompute the earliest one. */
static void expire(struct nb_http_server *s)
{
    int64_t next = INT64_MAX;
    for (int i = (int)s->ps.n - 1; i >= 0; i--) {
        struct conn *c = s->ps.user[i];
        if (!c)
            continue; /* a listener */
        if (c->deadline > s->now) {
            if (c->deadline < next)
                next = c->deadline;
            continue;
        }
        s->st.timeouts++;
        if (c->state == S_HEAD && c->head_start && !out_pending(c)) {
            /* a head that did not arrive in time (slowloris): 408, close */
            c->in_exchange = false;
            ex_reset(c);
            respond_error(c, 408);
            c->in_off = c->in_len;
            c->state = S_RESP;
            process(c);
            conn_flush(c);
            if (c->state == S_CLOSE) {
                conn_event(c, 0);
                if (i < (int)s->ps.n && s->ps.user[i] == c && c->deadline < next)
                    next = c->deadline;
                continue;
            }
        }
        conn_close(c);
    }
    s->next_deadline = next;
}

int nb_http_server_run(struct nb_http_server *s)
{
    s->now = nb_now();
    while (!s->stop) {
        /* s->now is from just after the last poll: deadlines may fire late
         * by one round of processing, never early */
        int64_t timeout = -1;
        if (s->next_deadline != INT64_MAX)
            timeout = s->next_deadline > s->now ? s->next_deadline - s->now : 0;
        int n = nb_pollset_wait(&s->ps, timeout);
        if (n < 0 && n != NB_EINTR)
            return n;
        s->st.polls++;
        s->st.events += n > 0 ? (uint64_t)n : 0;
        s->now = nb_now();
        for (int i = (int)s->ps.n - 1; n > 0 && i >= 0; i--) {
            uint32_t ev = s->ps.fds[i].revents;
            if (!ev)
                continue;
            n--;
            struct conn *c = s->ps.user[i];
            if (!c)
                accept_all(s, s->ps.fds[i].handle);
            else
                conn_event(c, ev);
        }
        if (s->now >= s->next_deadline)
            expire(s);
    }
    return 0;
}

void nb_http_server_free(struct nb_http_server *s)
{
    if (!s)
        return;
    for (int i = (int)s->ps.n - 1; i >= 0; i--) {
        struct conn *c = s->ps.user[i];
        if (c)
            conn_close(c);
    }
    for (int i = 0; i < s->nlisteners; i++)
        nb_close(s->listeners[i]);
    nb_pollset_free(&s->ps);
    free(s);
}
