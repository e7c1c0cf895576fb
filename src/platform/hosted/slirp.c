/*
 * libslirp behind a NeoBoot Ethernet interface (see slirp.h).
 *
 * Frames NeoBoot sends go to slirp_input(); frames slirp sends come back
 * through its send_packet callback into the interface's receive FIFO (never
 * straight into lwIP, so nothing re-enters the stack).
 *
 * libslirp owns host sockets and wants to be asked, before each sleep,
 * which descriptors to wait for and how long (slirp_pollfds_fill), and
 * told afterwards what happened (slirp_pollfds_poll). A loop wait hook
 * does exactly that: prepare turns slirp's descriptor list into epoll
 * watches (added, changed or dropped as slirp's wishes change) and lowers
 * the loop's deadline to slirp's timeout; the watches only record events;
 * check hands them to slirp. slirp's timers are nb_timers and its clock is
 * nb_clock_ns. Nothing polls: when slirp has no TCP timers running it asks
 * for a 1 s timeout "just in case", which we ignore.
 */
#define _GNU_SOURCE
#include "slirp.h"

#include "hosted.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/pkt.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include <arpa/inet.h>
#include <errno.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

NB_LOG_MODULE(slirp);

/* libslirp's timeout when it has nothing scheduled (ms). */
#define SLIRP_IDLE_TIMEOUT_MS 1000

struct fdstate {
    uint32_t watched;   /* epoll events we watch it for (0: not watched) */
    int revents;        /* SLIRP_POLL_* seen since prepare */
    uint32_t gen;       /* prepare round that last asked for it */
};

struct pollreq {
    int fd;
};

struct slirp_timer {
    struct nb_timer t;
    struct slirp_dev *dev;
    SlirpTimerId id;
    void *cb_opaque;
};

struct slirp_dev {
    struct nb_iface ifc;
    Slirp *slirp;
    struct nb_loop_hook hook;
    struct fdstate *fds;     /* indexed by fd */
    size_t nfds;
    struct pollreq *req;     /* this round's descriptors, by slirp's index */
    size_t nreq, capreq;
    uint32_t gen;
    bool polled;             /* prepare ran; check owes slirp a poll */
};

/* --- callbacks from libslirp --- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct slirp_dev *d = opaque;
    struct nb_pkt *p = nb_pkt_alloc(0, len);
    if (!p) {
        d->ifc.stats.rx_dropped++;
        return (ssize_t)len; /* lossy: TCP retransmits */
    }
    memcpy(p->data, buf, len);
    nb_iface_rx_or_drop(&d->ifc, p);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    struct slirp_dev *d = opaque;
    NB_WARN("%s: slirp: %s", d->ifc.name, msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return (int64_t)nb_clock_ns();
}

static void timer_fired(struct nb_timer *t)
{
    struct slirp_timer *st = NB_CONTAINER_OF(t, struct slirp_timer, t);
    slirp_handle_timer(st->dev->slirp, st->id, st->cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    struct slirp_timer *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->dev = opaque;
    st->id = id;
    st->cb_opaque = cb_opaque;
    nb_timer_init(&st->t, timer_fired);
    return st;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    /* Only used by libslirp before config version 4; we give it 4. */
    (void)cb;
    (void)cb_opaque;
    (void)opaque;
    return NULL;
}

static void cb_timer_free(void *timer, void *opaque)
{
    (void)opaque;
    struct slirp_timer *st = timer;
    if (!st)
        return;
    nb_timer_cancel(&st->t);
    free(st);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    struct slirp_timer *st = timer;
    if (st)
        nb_timer_arm(&st->t, expire_ms < 0 ? 0 : (uint64_t)expire_ms * NB_NS_PER_MS);
}

static void fd_unwatch(struct slirp_dev *d, int fd)
{
    if (fd >= 0 && (size_t)fd < d->nfds && d->fds[fd].watched) {
        nb_hosted_unwatch(fd);
        d->fds[fd].watched = 0;
        d->fds[fd].revents = 0;
    }
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    /* slirp is about to close fd: forget it before the number is reused. */
    fd_unwatch(opaque, fd);
}

static void cb_notify(void *opaque)
{
    /* Every slirp call happens on the loop's thread, and the next prepare
     * recomputes what to wait for: nothing to wake. */
    (void)opaque;
}

static const SlirpCb slirp_cbs = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* --- the wait hook --- */

static void fd_event(void *arg, int fd, uint32_t ev)
{
    struct slirp_dev *d = arg;
    if (fd < 0 || (size_t)fd >= d->nfds)
        return;
    int r = 0;
    if (ev & EPOLLIN)
        r |= SLIRP_POLL_IN;
    if (ev & EPOLLOUT)
        r |= SLIRP_POLL_OUT;
    if (ev & EPOLLPRI)
        r |= SLIRP_POLL_PRI;
    if (ev & EPOLLERR)
        r |= SLIRP_POLL_ERR;
    if (ev & EPOLLHUP)
        r |= SLIRP_POLL_HUP;
    d->fds[fd].revents |= r;
}

static int add_poll(int fd, int events, void *opaque)
{
    struct slirp_dev *d = opaque;
    if (fd < 0)
        return -1;
    if ((size_t)fd >= d->nfds) {
        size_t n = NB_MAX((size_t)fd + 1, d->nfds * 2);
        struct fdstate *f = realloc(d->fds, n * sizeof *f);
        if (!f)
            return -1;
        memset(f + d->nfds, 0, (n - d->nfds) * sizeof *f);
        d->fds = f;
        d->nfds = n;
    }
    if (d->nreq == d->capreq) {
        size_t n = d->capreq ? d->capreq * 2 : 32;
        struct pollreq *r = realloc(d->req, n * sizeof *r);
        if (!r)
            return -1;
        d->req = r;
        d->capreq = n;
    }
    uint32_t ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= EPOLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= EPOLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= EPOLLPRI;
    struct fdstate *s = &d->fds[fd];
    s->gen = d->gen;
    if (ev != s->watched) {
        int rc;
        if (!s->watched) {
            rc = nb_hosted_watch(fd, ev, fd_event, d);
            if (rc == NB_EEXIST) {
                /* a stale watch on a reused number */
                nb_hosted_unwatch(fd);
                rc = nb_hosted_watch(fd, ev, fd_event, d);
            }
        } else {
            rc = nb_hosted_rewatch(fd, ev);
            if (rc) {
                nb_hosted_unwatch(fd);
                rc = nb_hosted_watch(fd, ev, fd_event, d);
            }
        }
        s->watched = rc == 0 ? ev : 0;
        if (rc)
            NB_DEBUG("%s: cannot watch fd %d: %s", d->ifc.name, fd, nb_strerror(rc));
    }
    d->req[d->nreq].fd = fd;
    return (int)d->nreq++;
}

static int get_revents(int idx, void *opaque)
{
    struct slirp_dev *d = opaque;
    if (idx < 0 || (size_t)idx >= d->nreq)
        return 0;
    int fd = d->req[idx].fd;
    return (size_t)fd < d->nfds ? d->fds[fd].revents : 0;
}

static void hook_prepare(struct nb_loop_hook *h, uint64_t *deadline)
{
    struct slirp_dev *d = NB_CONTAINER_OF(h, struct slirp_dev, hook);
    uint64_t now = nb_clock_ns();
    uint64_t left = *deadline > now ? (*deadline - now) / NB_NS_PER_MS : 0;
    uint32_t timeout = left > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)left;
    uint32_t asked = timeout;
    d->gen++;
    d->nreq = 0;
    for (size_t fd = 0; fd < d->nfds; fd++)
        d->fds[fd].revents = 0;
    slirp_pollfds_fill(d->slirp, &timeout, add_poll, d);
    /* descriptors slirp no longer asks about */
    for (size_t fd = 0; fd < d->nfds; fd++)
        if (d->fds[fd].watched && d->fds[fd].gen != d->gen)
            fd_unwatch(d, (int)fd);
    d->polled = true;
    if (timeout < asked && !(timeout == SLIRP_IDLE_TIMEOUT_MS && asked > timeout)) {
        uint64_t dl = now + (uint64_t)timeout * NB_NS_PER_MS;
        if (dl < *deadline)
            *deadline = dl;
    }
}

static void hook_check(struct nb_loop_hook *h)
{
    struct slirp_dev *d = NB_CONTAINER_OF(h, struct slirp_dev, hook);
    if (!d->polled)
        return;
    d->polled = false;
    slirp_pollfds_poll(d->slirp, 0, get_revents, d);
}

/* --- interface --- */

static int slirp_start(struct nb_iface *ifc)
{
    struct slirp_dev *d = ifc->priv;
    nb_loop_hook_add(&d->hook);
    nb_iface_set_link(ifc, true);
    return 0;
}

static int slirp_send(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    struct slirp_dev *d = ifc->priv;
    slirp_input(d->slirp, pkt->data, (int)pkt->len);
    nb_pkt_free(pkt);
    return 0;
}

static void slirp_stop(struct nb_iface *ifc)
{
    struct slirp_dev *d = ifc->priv;
    nb_loop_hook_remove(&d->hook);
    nb_iface_set_link(ifc, false);
}

static const struct nb_iface_ops slirp_ops = {
    .start = slirp_start,
    .send = slirp_send,
    .stop = slirp_stop,
};

struct nb_iface *nb_slirp_open(const char *name, int *err)
{
    struct slirp_dev *d = calloc(1, sizeof *d);
    if (!d) {
        *err = NB_ENOMEM;
        return NULL;
    }
    SlirpConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.version = 4;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.in6_enabled = true;
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    cfg.vhostname = "neoboot";
    cfg.if_mtu = 1500;
    cfg.if_mru = 1500;
    d->slirp = slirp_new(&cfg, &slirp_cbs, d);
    if (!d->slirp) {
        free(d);
        *err = NB_ENOMEM;
        return NULL;
    }
    d->hook.prepare = hook_prepare;
    d->hook.check = hook_check;
    snprintf(d->ifc.name, sizeof d->ifc.name, "%s", name);
    d->ifc.link = NB_LINK_ETHERNET;
    d->ifc.ops = &slirp_ops;
    d->ifc.priv = d;
    d->ifc.mtu = 1514;
    uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}; /* QEMU's usual */
    memcpy(d->ifc.mac, mac, 6);
    int rc = nb_iface_register(&d->ifc);
    if (rc) {
        slirp_cleanup(d->slirp);
        free(d);
        *err = rc;
        return NULL;
    }
    NB_INFO("%s: slirp %s (guest 10.0.2.15, host 10.0.2.2, DNS 10.0.2.3)", name,
            slirp_version_string());
    return &d->ifc;
}

int nb_slirp_forward(struct nb_iface *ifc, bool udp, const char *host_addr,
                     uint16_t host_port, uint16_t guest_port)
{
    struct slirp_dev *d = ifc->priv;
    struct in_addr host, guest;
    if (inet_pton(AF_INET, host_addr ? host_addr : "127.0.0.1", &host) != 1)
        return NB_EINVAL;
    inet_pton(AF_INET, "10.0.2.15", &guest);
    if (slirp_add_hostfwd(d->slirp, udp, host, host_port, guest, guest_port) != 0) {
        NB_ERROR("%s: cannot forward %s %s:%u: %s", ifc->name, udp ? "udp" : "tcp",
                 host_addr ? host_addr : "127.0.0.1", host_port, strerror(errno));
        return errno == EADDRINUSE ? NB_EADDRINUSE : NB_EINVAL;
    }
    NB_INFO("%s: forwarding %s %s:%u -> guest port %u", ifc->name, udp ? "udp" : "tcp",
            host_addr ? host_addr : "127.0.0.1", host_port, guest_port);
    return 0;
}

void nb_slirp_close(struct nb_iface *ifc)
{
    if (!ifc)
        return;
    struct slirp_dev *d = ifc->priv;
    nb_iface_unregister(ifc);
    nb_loop_hook_remove(&d->hook);
    for (size_t fd = 0; fd < d->nfds; fd++)
        fd_unwatch(d, (int)fd);
    slirp_cleanup(d->slirp);
    free(d->fds);
    free(d->req);
    free(d);
}
