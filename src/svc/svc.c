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
    nb_close(svc->listener);
    nb_work_cancel(&svc->accept_work);
    free(svc);
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
