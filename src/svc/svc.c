/*
 * The service framework behind include/neoboot/svc.h: a non-blocking
 * listener whose readiness notification posts an accept work item, and one
 * work item per connection that runs the service's pump whenever the
 * socket's state changes. Each connection has one bounded buffer.
 */
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/svc.h>
#include <neoboot/util.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(svc);

#define SVC_BUF (64 * 1024)
#define STATS_MAX (256 * 1024)

struct conn;

struct svc_ops {
    const char *name;
    size_t bufsize;
    /* fill the buffer when the connection opens (optional) */
    void (*open)(struct conn *c);
    /* move data; false when the connection is finished */
    bool (*pump)(struct conn *c);
};

struct nb_svc {
    const struct svc_ops *ops;
    nb_sock *listener;
    uint64_t source_bytes;   /* source: bytes each connection gets */
    /* udp echo (no listener, no connections) */
    nb_sock *udp;
    struct nb_work udp_work;
    struct nb_work accept_work;
    struct conn *conns;
    struct nb_svc_stats stats;
};

struct conn {
    struct nb_svc *svc;
    nb_sock *s;
    struct nb_work work;
    uint8_t *buf;
    size_t cap, off, len;
    bool eof, shut;
    uint64_t count;          /* sink: bytes taken; source: bytes still to send */
    struct http_state *http; /* http service only */
    struct conn *next, *prev;
};

static void conn_close(struct conn *c)
{
    struct nb_svc *svc = c->svc;
    nb_close(c->s);
    nb_work_cancel(&c->work);
    if (c->prev)
        c->prev->next = c->next;
    else
        svc->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    svc->stats.active--;
    free(c->buf);
    free(c->http);
    free(c);
}

static void conn_work(struct nb_work *w)
{
    struct conn *c = NB_CONTAINER_OF(w, struct conn, work);
    if (!c->svc->ops->pump(c))
        conn_close(c);
}

static void conn_notify(nb_sock *s, void *arg)
{
    (void)s;
    nb_work_post(&((struct conn *)arg)->work);
}

static void svc_accept(struct nb_work *w)
{
    struct nb_svc *svc = NB_CONTAINER_OF(w, struct nb_svc, accept_work);
    nb_sock *s;
    int rc;
    while ((rc = nb_accept(svc->listener, &s, NULL)) == 0) {
        struct conn *c = calloc(1, sizeof *c);
        if (c)
            c->buf = malloc(svc->ops->bufsize);
        if (!c || !c->buf) {
            free(c);
            nb_close(s);
            svc->stats.errors++;
            continue;
        }
        c->svc = svc;
        c->s = s;
        c->cap = svc->ops->bufsize;
        nb_work_init(&c->work, conn_work);
        nb_setopt(s, NB_SO_NONBLOCK, 1);
        nb_sock_set_notify(s, conn_notify, c);
        c->next = svc->conns;
        if (svc->conns)
            svc->conns->prev = c;
        svc->conns = c;
        svc->stats.accepted++;
        svc->stats.active++;
        if (svc->ops->open)
            svc->ops->open(c);
        nb_work_post(&c->work);
    }
    if (rc != NB_EAGAIN)
        NB_WARN("%s: accept: %s", svc->ops->name, nb_strerror(rc));
}

static void svc_listener_notify(nb_sock *s, void *arg)
{
    (void)s;
    nb_work_post(&((struct nb_svc *)arg)->accept_work);
}

static struct nb_svc *svc_start(struct nb_stack *st, const struct nb_addr *addr,
                                const struct svc_ops *ops, int *err)
{
    struct nb_svc *svc = calloc(1, sizeof *svc);
    if (!svc) {
        *err = NB_ENOMEM;
        return NULL;
    }
    svc->ops = ops;
    nb_work_init(&svc->accept_work, svc_accept);
    *err = nb_socket(st, addr->family, NB_SOCK_STREAM, &svc->listener);
    if (*err == 0) {
        nb_setopt(svc->listener, NB_SO_REUSEADDR, 1);
        *err = nb_bind(svc->listener, addr);
    }
    if (*err == 0)
        *err = nb_listen(svc->listener, 128);
    if (*err) {
        if (svc->listener)
            nb_close(svc->listener);
        free(svc);
        return NULL;
    }
    nb_setopt(svc->listener, NB_SO_NONBLOCK, 1);
    nb_sock_set_notify(svc->listener, svc_listener_notify, svc);
    char text[64];
    NB_INFO("%s service on %s", ops->name, nb_addr_format(addr, text, sizeof text));
    return svc;
}

void nb_svc_stop(struct nb_svc *svc)
{
    if (!svc)
        return;
    while (svc->conns)
        conn_close(svc->conns);
    if (svc->listener)
        nb_close(svc->listener);
    if (svc->udp)
        nb_close(svc->udp);
    nb_work_cancel(&svc->accept_work);
    nb_work_cancel(&svc->udp_work);
    free(svc);
}

int nb_svc_set_backlog(struct nb_svc *svc, int backlog)
{
    if (!svc->listener)
        return NB_ENOTSUP;
    return nb_listen(svc->listener, backlog);
}

void nb_svc_get_stats(struct nb_svc *svc, struct nb_svc_stats *out)
{
    *out = svc->stats;
}

/* Send what the buffer holds; false on a broken connection. */
static bool flush_buf(struct conn *c)
{
    while (c->len) {
        long n = nb_send(c->s, c->buf + c->off, c->len, 0);
        if (n == NB_EAGAIN)
            return true;
        if (n < 0) {
            c->svc->stats.errors++;
            return false;
        }
        c->off += (size_t)n;
        c->len -= (size_t)n;
        c->svc->stats.bytes_out += (uint64_t)n;
    }
    return true;
}

/* --- echo --- */

static bool echo_pump(struct conn *c)
{
    for (int round = 0; round < 64; round++) {
        if (!flush_buf(c))
            return false;
        if (c->len)
            return true; /* wait until writable */
        if (!c->eof) {
            long n = nb_recv(c->s, c->buf, c->cap, 0);
            if (n > 0) {
                c->off = 0;
                c->len = (size_t)n;
                c->svc->stats.bytes_in += (uint64_t)n;
                continue;
            }
            if (n == NB_EAGAIN)
                return true;
            if (n < 0) {
                c->svc->stats.errors++;
                return false;
            }
            c->eof = true;
        }
        if (!c->shut) {
            nb_shutdown(c->s, NB_SHUT_WR);
            c->shut = true;
        }
        return false; /* both directions done */
    }
    nb_work_post(&c->work); /* busy connection: let others run */
    return true;
}

static const struct svc_ops echo_ops = {
    .name = "echo",
    .bufsize = SVC_BUF,
    .pump = echo_pump,
};

struct nb_svc *nb_svc_echo_start(struct nb_stack *st, const struct nb_addr *addr,
                                 int *err)
{
    return svc_start(st, addr, &echo_ops, err);
}

/* --- stats --- */

static void stats_line(void *arg, const char *line)
{
    struct conn *c = arg;
    size_t n = strlen(line);
    if (c->len + n + 1 > c->cap)
        return; /* bounded: the tail is cut */
    memcpy(c->buf + c->len, line, n);
    c->buf[c->len + n] = '\n';
    c->len += n + 1;
}

static void stats_open(struct conn *c)
{
    c->off = c->len = 0;
    nb_net_print_stats(stats_line, c);
    c->eof = true; /* input is ignored */
}

static bool stats_pump(struct conn *c)
{
    if (!flush_buf(c))
        return false;
    return c->len != 0; /* done once everything is out */
}

static const struct svc_ops stats_ops = {
    .name = "stats",
    .bufsize = STATS_MAX,
    .open = stats_open,
    .pump = stats_pump,
};

struct nb_svc *nb_svc_stats_start(struct nb_stack *st, const struct nb_addr *addr,
                                  int *err)
{
    return svc_start(st, addr, &stats_ops, err);
}

/* --- sink: count until end of input, then say how much --- */

static bool sink_pump(struct conn *c)
{
    for (int round = 0; round < 64; round++) {
        if (c->eof) {
            if (!flush_buf(c))
                return false;
            if (c->len)
                return true;
            if (!c->shut) {
                nb_shutdown(c->s, NB_SHUT_WR);
                c->shut = true;
            }
            return false;
        }
        long n = nb_recv(c->s, c->buf, c->cap, 0);
        if (n > 0) {
            c->count += (uint64_t)n;
            c->svc->stats.bytes_in += (uint64_t)n;
            continue;
        }
        if (n == NB_EAGAIN)
            return true;
        if (n < 0) {
            c->svc->stats.errors++;
            return false;
        }
        c->eof = true;
        c->off = 0;
        c->len = (size_t)snprintf((char *)c->buf, c->cap, "%llu\n", (unsigned long long)c->count);
    }
    nb_work_post(&c->work);
    return true;
}

static const struct svc_ops sink_ops = {
    .name = "sink",
    .bufsize = SVC_BUF,
    .pump = sink_pump,
};

struct nb_svc *nb_svc_sink_start(struct nb_stack *st, const struct nb_addr *addr, int *err)
{
    return svc_start(st, addr, &sink_ops, err);
}

/* --- source: a known byte pattern, then end of stream --- */

uint8_t nb_svc_pattern_byte(uint64_t i)
{
    return (uint8_t)(((i % 65536) * 2654435761ull) >> 13);
}

/* The pattern repeats every 64 KiB: build that block once, then copy. */
static void fill_pattern(uint8_t *buf, size_t n, uint64_t from)
{
    static uint8_t *block;
    if (!block) {
        block = malloc(65536);
        if (!block) {
            for (size_t k = 0; k < n; k++)
                buf[k] = nb_svc_pattern_byte(from + k);
            return;
        }
        for (size_t k = 0; k < 65536; k++)
            block[k] = nb_svc_pattern_byte(k);
    }
    while (n) {
        size_t at = (size_t)(from % 65536), m = NB_MIN(n, 65536 - at);
        memcpy(buf, block + at, m);
        buf += m;
        n -= m;
        from += m;
    }
}

/* Send `total` pattern bytes, c->count of them still to go. */
static bool pattern_send(struct conn *c, uint64_t total)
{
    for (int round = 0; round < 64; round++) {
        if (!flush_buf(c))
            return false;
        if (c->len)
            return true;
        if (c->count == 0)
            return false; /* done */
        size_t n = (size_t)NB_MIN((uint64_t)c->cap, c->count);
        fill_pattern(c->buf, n, total - c->count);
        c->count -= n;
        c->off = 0;
        c->len = n;
    }
    nb_work_post(&c->work);
    return true;
}

static void source_open(struct conn *c)
{
    c->count = c->svc->source_bytes;
}

static bool source_pump(struct conn *c)
{
    /* input is read and dropped so the peer never stalls on us */
    char scratch[1024];
    while (nb_recv(c->s, scratch, sizeof scratch, 0) > 0)
        ;
    bool more = pattern_send(c, c->svc->source_bytes);
    if (!more && !c->shut) {
        nb_shutdown(c->s, NB_SHUT_WR);
        c->shut = true;
    }
    return more;
}

static const struct svc_ops source_ops = {
    .name = "source",
    .bufsize = SVC_BUF,
    .open = source_open,
    .pump = source_pump,
};

struct nb_svc *nb_svc_source_start(struct nb_stack *st, const struct nb_addr *addr,
                                   uint64_t bytes, int *err)
{
    struct nb_svc *svc = svc_start(st, addr, &source_ops, err);
    if (svc)
        svc->source_bytes = bytes;
    return svc;
}

/* --- http: one request per connection, for curl --- */

#define HTTP_HEAD_MAX 8192

enum http_phase { H_HEAD, H_ECHO, H_SINK, H_BYTES, H_REPLY, H_DONE };

struct http_state {
    enum http_phase phase;
    char head[HTTP_HEAD_MAX + 1];
    size_t head_len;
    uint64_t body_left;      /* request body bytes still to read */
    uint64_t total;          /* H_BYTES: response size */
    uint64_t count;
};

static void http_reply(struct conn *c, const char *status, const char *body)
{
    c->off = 0;
    c->len = (size_t)snprintf((char *)c->buf, c->cap,
                              "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                              "Connection: close\r\n\r\n%s",
                              status, strlen(body), body);
    c->http->phase = H_REPLY;
}

static const char *header_value(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        size_t i = 0;
        while (i < n && h[i] && (h[i] | 0x20) == (name[i] | 0x20))
            i++;
        if (i == n && h[n] == ':') {
            h += n + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            return h;
        }
    }
    return NULL;
}

/* "METHOD PATH HTTP/1.x": copy the first two words (sscanf is not in the
 * freestanding libc). False if the line does not have that shape. */
static bool split_request_line(const char *h, char *method, size_t mlen, char *path,
                               size_t plen)
{
    size_t i = 0;
    while (h[i] && h[i] != ' ' && i + 1 < mlen)
        method[i] = h[i], i++;
    method[i] = 0;
    if (h[i] != ' ' || i == 0)
        return false;
    h += i + 1;
    i = 0;
    while (h[i] && h[i] != ' ' && i + 1 < plen)
        path[i] = h[i], i++;
    path[i] = 0;
    return h[i] == ' ' && i > 0 && strncmp(h + i + 1, "HTTP/1.", 7) == 0;
}

/* The head is complete in hs->head (NUL-terminated, blank line included). */
static void http_start(struct conn *c, size_t body_in_head, const char *body)
{
    struct http_state *hs = c->http;
    char method[8] = "", path[256] = "";
    if (!split_request_line(hs->head, method, sizeof method, path, sizeof path)) {
        http_reply(c, "400 Bad Request", "bad request line\n");
        return;
    }
    const char *cl = header_value(hs->head, "Content-Length");
    const char *te = header_value(hs->head, "Transfer-Encoding");
    const char *ex = header_value(hs->head, "Expect");
    uint64_t len = cl ? strtoull(cl, NULL, 10) : 0;
    bool body_method = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    if (te && strncmp(te, "identity", 8) != 0) {
        http_reply(c, "411 Length Required", "send a Content-Length (no chunked bodies)\n");
        return;
    }
    if (strcmp(method, "GET") == 0 && strncmp(path, "/bytes/", 7) == 0) {
        hs->total = strtoull(path + 7, NULL, 10);
        c->count = hs->total;
        c->off = 0;
        c->len = (size_t)snprintf((char *)c->buf, c->cap,
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                  "Content-Length: %llu\r\nConnection: close\r\n\r\n",
                                  (unsigned long long)hs->total);
        hs->phase = H_BYTES;
        return;
    }
    if (body_method && (strcmp(path, "/echo") == 0 || strcmp(path, "/sink") == 0)) {
        bool echo = path[1] == 'e';
        hs->body_left = len;
        hs->count = 0;
        c->off = 0;
        c->len = 0;
        if (ex && strncmp(ex, "100-continue", 12) == 0)
            c->len = (size_t)snprintf((char *)c->buf, c->cap, "HTTP/1.1 100 Continue\r\n\r\n");
        if (echo) {
            c->len += (size_t)snprintf((char *)c->buf + c->len, c->cap - c->len,
                                       "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                       "Content-Length: %llu\r\nConnection: close\r\n\r\n",
                                       (unsigned long long)len);
        }
        /* body bytes that came with the head */
        size_t take = (size_t)NB_MIN((uint64_t)body_in_head, hs->body_left);
        if (echo && take) {
            memcpy(c->buf + c->len, body, take);
            c->len += take;
        }
        hs->body_left -= take;
        hs->count += take;
        hs->phase = echo ? H_ECHO : H_SINK;
        return;
    }
    if (strcmp(method, "GET") == 0 && strcmp(path, "/") == 0) {
        http_reply(c, "200 OK",
                   "NeoBoot built-in http service\n"
                   "  GET /bytes/N    N bytes of the test pattern\n"
                   "  POST /echo      the request body back\n"
                   "  POST /sink      how many body bytes arrived\n");
        return;
    }
    http_reply(c, "404 Not Found", "no such resource\n");
}

static bool http_pump(struct conn *c)
{
    struct http_state *hs = c->http;
    if (!hs) {
        hs = c->http = calloc(1, sizeof *hs);
        if (!hs)
            return false;
    }
    for (int round = 0; round < 64; round++) {
        if (!flush_buf(c))
            return false;
        if (c->len)
            return true;
        switch (hs->phase) {
        case H_HEAD: {
            long n = nb_recv(c->s, hs->head + hs->head_len, HTTP_HEAD_MAX - hs->head_len, 0);
            if (n == NB_EAGAIN)
                return true;
            if (n <= 0)
                return false;
            c->svc->stats.bytes_in += (uint64_t)n;
            hs->head_len += (size_t)n;
            hs->head[hs->head_len] = 0;
            char *end = strstr(hs->head, "\r\n\r\n");
            if (end) {
                size_t hl = (size_t)(end + 4 - hs->head);
                char body[HTTP_HEAD_MAX];
                size_t extra = hs->head_len - hl;
                memcpy(body, end + 4, extra);
                end[2] = 0;
                http_start(c, extra, body);
            } else if (hs->head_len == HTTP_HEAD_MAX) {
                http_reply(c, "431 Request Header Fields Too Large", "header too large\n");
            }
            break;
        }
        case H_ECHO:
        case H_SINK: {
            if (hs->body_left == 0) {
                if (hs->phase == H_SINK) {
                    char msg[64];
                    snprintf(msg, sizeof msg, "%llu\n", (unsigned long long)hs->count);
                    http_reply(c, "200 OK", msg);
                } else {
                    hs->phase = H_DONE;
                }
                break;
            }
            size_t want = (size_t)NB_MIN((uint64_t)c->cap, hs->body_left);
            long n = nb_recv(c->s, c->buf, want, 0);
            if (n == NB_EAGAIN)
                return true;
            if (n <= 0)
                return false; /* the client went away mid-body */
            c->svc->stats.bytes_in += (uint64_t)n;
            hs->body_left -= (uint64_t)n;
            hs->count += (uint64_t)n;
            c->off = 0;
            c->len = hs->phase == H_ECHO ? (size_t)n : 0;
            break;
        }
        case H_BYTES:
            if (!pattern_send(c, hs->total)) {
                if (c->len || c->count)
                    return false;
                hs->phase = H_DONE;
                break;
            }
            return true;
        case H_REPLY:
            hs->phase = H_DONE;
            break;
        case H_DONE:
            if (!c->shut) {
                nb_shutdown(c->s, NB_SHUT_WR);
                c->shut = true;
            }
            return false;
        }
    }
    nb_work_post(&c->work);
    return true;
}

static const struct svc_ops http_ops = {
    .name = "http",
    .bufsize = SVC_BUF,
    .pump = http_pump,
};

struct nb_svc *nb_svc_http_start(struct nb_stack *st, const struct nb_addr *addr, int *err)
{
    return svc_start(st, addr, &http_ops, err);
}

/* --- udp echo: every datagram goes back to its sender --- */

#define UDP_ECHO_MAX 65535

static void udp_echo_work(struct nb_work *w)
{
    struct nb_svc *svc = NB_CONTAINER_OF(w, struct nb_svc, udp_work);
    static uint8_t dgram[UDP_ECHO_MAX];
    for (int i = 0; i < 256; i++) {
        struct nb_addr from;
        long n = nb_recvfrom(svc->udp, dgram, sizeof dgram, 0, &from);
        if (n == NB_EAGAIN)
            return;
        if (n < 0) {
            svc->stats.errors++;
            return;
        }
        svc->stats.bytes_in += (uint64_t)n;
        long m = nb_sendto(svc->udp, dgram, (size_t)n, 0, &from);
        if (m < 0)
            svc->stats.errors++;
        else
            svc->stats.bytes_out += (uint64_t)m;
    }
    nb_work_post(w);
}

static void udp_echo_notify(nb_sock *s, void *arg)
{
    (void)s;
    nb_work_post(&((struct nb_svc *)arg)->udp_work);
}

struct nb_svc *nb_svc_udp_echo_start(struct nb_stack *st, const struct nb_addr *addr, int *err)
{
    struct nb_svc *svc = calloc(1, sizeof *svc);
    if (!svc) {
        *err = NB_ENOMEM;
        return NULL;
    }
    nb_work_init(&svc->accept_work, svc_accept);
    nb_work_init(&svc->udp_work, udp_echo_work);
    *err = nb_socket(st, addr->family, NB_SOCK_DGRAM, &svc->udp);
    if (*err == 0)
        *err = nb_bind(svc->udp, addr);
    if (*err) {
        if (svc->udp)
            nb_close(svc->udp);
        free(svc);
        return NULL;
    }
    nb_setopt(svc->udp, NB_SO_NONBLOCK, 1);
    nb_setopt(svc->udp, NB_SO_RCVBUF, 1 << 20);
    nb_sock_set_notify(svc->udp, udp_echo_notify, svc);
    char text[64];
    NB_INFO("udp echo service on %s", nb_addr_format(addr, text, sizeof text));
    return svc;
}
