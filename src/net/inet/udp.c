/*
 * UDP sockets on lwIP's raw API.
 *
 * Each received datagram is copied out of lwIP's pbufs into one exact-size
 * buffer with its sender's address, so the receive queue's memory is what
 * it says (bytes plus a small header), pool buffers go straight back to
 * lwIP, and datagram boundaries are kept by construction. The queue is
 * bounded by NB_SO_RCVBUF in bytes and by UDP_MAX_DGRAMS in count; what
 * does not fit is dropped and counted (NB_SO_RXDROPS, `stats`). As on
 * Linux, an empty queue takes one datagram even if it exceeds the buffer.
 *
 * recvfrom copies as much as fits; the rest of the datagram is discarded.
 * With NB_MSG_TRUNC the call returns the datagram's real length, so a
 * caller sees truncation (Linux's semantics).
 */
#include "inet_priv.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/util.h>

#include "lwip/udp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(inet);

#define RCVBUF_DEFAULT (256 * 1024)
#define RCVBUF_MIN 256
#define RCVBUF_MAX (4 * 1024 * 1024)
#define UDP_MAX_DGRAMS 4096
#define UDP_MAX_V4 65507
#define UDP_MAX_V6 65527

struct dgram {
    struct dgram *next;
    struct nb_addr from;
    uint32_t len;
    uint8_t data[];
};

struct iudp {
    struct inet_ns *ns;
    nb_sock *sock;
    struct udp_pcb *pcb;
    u8_t iptype;
    struct dgram *head, *tail;
    uint32_t q_bytes, q_count;
    uint32_t rcvbuf, sndbuf;
    bool bound, connected, broadcast, reuse;
    uint8_t local_shut;
    uint64_t drops;
    struct nb_addr peer;
    struct iudp *next, *prev;
};

static struct iudp *UC(nb_sock *s) { return s->priv; }

static uint32_t charge_of(uint32_t len)
{
    return (uint32_t)sizeof(struct dgram) + len;
}

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                    const ip_addr_t *addr, u16_t port)
{
    struct iudp *u = arg;
    (void)pcb;
    struct inet_ns *ns = u->ns;
    uint32_t len = p->tot_len;
    uint32_t cost = charge_of(len);
    ns->stats.udp_rx++;
    if ((u->local_shut & NB_SHUT_RD) || u->q_count >= UDP_MAX_DGRAMS ||
        (u->q_bytes && u->q_bytes + cost > u->rcvbuf)) {
        u->drops++;
        ns->stats.udp_rx_dropped++;
        pbuf_free(p);
        return;
    }
    struct dgram *d = malloc(sizeof *d + len);
    if (!d) {
        u->drops++;
        ns->stats.udp_rx_dropped++;
        pbuf_free(p);
        return;
    }
    d->next = NULL;
    d->len = len;
    pbuf_copy_partial(p, d->data, (u16_t)len, 0);
    inet_from_lwip(addr, port, &d->from);
    pbuf_free(p);
    if (u->tail)
        u->tail->next = d;
    else
        u->head = d;
    u->tail = d;
    u->q_count++;
    u->q_bytes += cost;
    if (u->sock)
        nb_sock_wakeup(u->sock);
}

static void queue_purge(struct iudp *u)
{
    while (u->head) {
        struct dgram *d = u->head;
        u->head = d->next;
        free(d);
    }
    u->tail = NULL;
    u->q_bytes = u->q_count = 0;
}

int inet_udp_create(nb_sock *s, struct inet_ns *ns)
{
    if (nb_stack_charge(ns->st) != 0)
        return NB_ENFILE;
    struct iudp *u = calloc(1, sizeof *u);
    if (!u) {
        nb_stack_uncharge(ns->st);
        return NB_ENOMEM;
    }
    u->iptype = s->family == NB_AF_INET6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4;
    u->pcb = udp_new_ip_type(u->iptype);
    if (!u->pcb) {
        free(u);
        nb_stack_uncharge(ns->st);
        return NB_ENOBUFS;
    }
    u->ns = ns;
    u->sock = s;
    u->rcvbuf = RCVBUF_DEFAULT;
    u->sndbuf = RCVBUF_DEFAULT;
    udp_recv(u->pcb, on_recv, u);
    u->next = ns->udps;
    if (ns->udps)
        ns->udps->prev = u;
    ns->udps = u;
    s->priv = u;
    return 0;
}

static void iudp_free(struct iudp *u)
{
    struct inet_ns *ns = u->ns;
    if (u->pcb)
        udp_remove(u->pcb);
    queue_purge(u);
    if (u->prev)
        u->prev->next = u->next;
    else
        ns->udps = u->next;
    if (u->next)
        u->next->prev = u->prev;
    nb_stack_uncharge(ns->st);
    free(u);
}

static bool family_ok(const struct iudp *u, const struct nb_addr *a)
{
    return (a->family == NB_AF_INET && u->iptype == IPADDR_TYPE_V4) ||
           (a->family == NB_AF_INET6 && u->iptype == IPADDR_TYPE_V6);
}

static void set_opts(struct iudp *u)
{
    if (u->reuse)
        ip_set_option(u->pcb, SOF_REUSEADDR);
    else
        ip_reset_option(u->pcb, SOF_REUSEADDR);
    if (u->broadcast)
        ip_set_option(u->pcb, SOF_BROADCAST);
    else
        ip_reset_option(u->pcb, SOF_BROADCAST);
}

static int udp_op_bind(nb_sock *s, const struct nb_addr *a)
{
    struct iudp *u = UC(s);
    if (!family_ok(u, a))
        return NB_EAFNOSUPPORT;
    if (u->bound || a->port > 0xFFFF)
        return NB_EINVAL;
    ip_addr_t ip;
    inet_to_lwip(a, &ip);
    set_opts(u);
    err_t e = udp_bind(u->pcb, &ip, (u16_t)a->port);
    if (e != ERR_OK)
        return inet_err(e);
    u->bound = true;
    return 0;
}

static int udp_op_connect(nb_sock *s, const struct nb_addr *a)
{
    struct iudp *u = UC(s);
    if (!family_ok(u, a))
        return NB_EAFNOSUPPORT;
    if (a->port == 0 || a->port > 0xFFFF)
        return NB_EINVAL;
    ip_addr_t ip;
    inet_to_lwip(a, &ip);
    set_opts(u);
    err_t e = udp_connect(u->pcb, &ip, (u16_t)a->port);
    if (e != ERR_OK)
        return inet_err(e);
    u->bound = true;
    u->connected = true;
    u->peer = *a;
    return 0;
}

static long udp_op_send(nb_sock *s, const void *buf, size_t len, int flags,
                        const struct nb_addr *to)
{
    struct iudp *u = UC(s);
    struct inet_ns *ns = u->ns;
    (void)flags;
    if (u->local_shut & NB_SHUT_WR)
        return NB_EPIPE;
    if (!to && !u->connected)
        return NB_EDESTADDRREQ;
    if (to && !family_ok(u, to))
        return NB_EAFNOSUPPORT;
    if (to && (to->port == 0 || to->port > 0xFFFF))
        return NB_EINVAL;
    if (len > (u->iptype == IPADDR_TYPE_V6 ? UDP_MAX_V6 : UDP_MAX_V4))
        return NB_EMSGSIZE;
    ip_addr_t ip;
    if (to) {
        inet_to_lwip(to, &ip);
        if (IP_IS_V4(&ip) && !u->broadcast &&
            (ip_2_ip4(&ip)->addr == IPADDR_BROADCAST ||
             (netif_default && ip4_addr_isbroadcast_u32(ip_2_ip4(&ip)->addr, netif_default))))
            return NB_EACCES;
    }
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p) {
        ns->stats.udp_tx_errors++;
        return NB_ENOBUFS;
    }
    if (len)
        pbuf_take(p, buf, (u16_t)len);
    set_opts(u);
    err_t e = to ? udp_sendto(u->pcb, p, &ip, (u16_t)to->port) : udp_send(u->pcb, p);
    pbuf_free(p);
    if (e != ERR_OK) {
        ns->stats.udp_tx_errors++;
        return inet_err(e);
    }
    u->bound = true;
    ns->stats.udp_tx++;
    return (long)len;
}

static long udp_op_recv(nb_sock *s, void *buf, size_t len, int flags,
                        struct nb_addr *from)
{
    struct iudp *u = UC(s);
    struct dgram *d = u->head;
    if (!d)
        return (u->local_shut & NB_SHUT_RD) ? 0 : NB_EAGAIN;
    size_t n = NB_MIN(len, (size_t)d->len);
    memcpy(buf, d->data, n);
    if (from)
        *from = d->from;
    long ret = (flags & NB_MSG_TRUNC) ? (long)d->len : (long)n;
    if (!(flags & NB_MSG_PEEK)) {
        if (n < d->len)
            u->ns->stats.udp_rx_truncated++;
        u->head = d->next;
        if (!u->head)
            u->tail = NULL;
        u->q_count--;
        u->q_bytes -= charge_of(d->len);
        free(d);
    }
    return ret;
}

static uint32_t udp_op_poll(nb_sock *s)
{
    struct iudp *u = UC(s);
    uint32_t m = NB_POLLOUT;
    if (u->head || (u->local_shut & NB_SHUT_RD))
        m |= NB_POLLIN;
    if (u->local_shut == NB_SHUT_RDWR)
        m |= NB_POLLHUP;
    return m;
}

static int udp_op_shutdown(nb_sock *s, int how)
{
    struct iudp *u = UC(s);
    if (!u->connected)
        return NB_ENOTCONN;
    u->local_shut |= (uint8_t)how;
    if (how & NB_SHUT_RD)
        queue_purge(u);
    nb_sock_wakeup(s);
    return 0;
}

static void udp_op_close(nb_sock *s)
{
    struct iudp *u = UC(s);
    s->priv = NULL;
    u->sock = NULL;
    iudp_free(u);
}

static int udp_op_setopt(nb_sock *s, int opt, int64_t v)
{
    struct iudp *u = UC(s);
    switch (opt) {
    case NB_SO_RCVBUF:
        if (v < 1)
            return NB_EINVAL;
        u->rcvbuf = (uint32_t)NB_MAX(NB_MIN(v, (int64_t)RCVBUF_MAX), (int64_t)RCVBUF_MIN);
        return 0;
    case NB_SO_SNDBUF:
        if (v < 1)
            return NB_EINVAL;
        u->sndbuf = (uint32_t)NB_MIN(v, (int64_t)RCVBUF_MAX);
        return 0;
    case NB_SO_REUSEADDR:
        u->reuse = v != 0;
        set_opts(u);
        return 0;
    case NB_SO_BROADCAST:
        u->broadcast = v != 0;
        set_opts(u);
        return 0;
    default:
        return NB_ENOPROTOOPT;
    }
}

static int udp_op_getopt(nb_sock *s, int opt, int64_t *v)
{
    struct iudp *u = UC(s);
    switch (opt) {
    case NB_SO_RCVBUF: *v = u->rcvbuf; return 0;
    case NB_SO_SNDBUF: *v = u->sndbuf; return 0;
    case NB_SO_REUSEADDR: *v = u->reuse; return 0;
    case NB_SO_BROADCAST: *v = u->broadcast; return 0;
    case NB_SO_NREAD: *v = u->head ? u->head->len : 0; return 0;
    case NB_SO_RXDROPS: *v = (int64_t)u->drops; return 0;
    case NB_SO_ERROR: *v = 0; return 0;
    default: return NB_ENOPROTOOPT;
    }
}

static int udp_op_getname(nb_sock *s, struct nb_addr *out, bool peer)
{
    struct iudp *u = UC(s);
    if (peer) {
        if (!u->connected)
            return NB_ENOTCONN;
        *out = u->peer;
        return 0;
    }
    inet_from_lwip(&u->pcb->local_ip, u->pcb->local_port, out);
    if (u->iptype == IPADDR_TYPE_V6 && out->family != NB_AF_INET6) {
        memset(out, 0, sizeof *out);
        out->family = NB_AF_INET6;
        out->port = u->pcb->local_port;
    }
    return 0;
}

static void udp_op_describe(nb_sock *s, char *buf, size_t len)
{
    struct iudp *u = UC(s);
    struct nb_addr la;
    udp_op_getname(s, &la, false);
    char lt[64], pt[64] = "*";
    nb_addr_format(&la, lt, sizeof lt);
    if (u->connected)
        nb_addr_format(&u->peer, pt, sizeof pt);
    snprintf(buf, len, "%s -> %s queue %u dgrams %u/%u bytes, drops %llu", lt, pt,
             (unsigned)u->q_count, (unsigned)u->q_bytes, (unsigned)u->rcvbuf,
             (unsigned long long)u->drops);
}

void inet_udp_fini(struct inet_ns *ns)
{
    while (ns->udps) {
        struct iudp *u = ns->udps;
        if (u->sock)
            u->sock->priv = NULL;
        iudp_free(u);
    }
}

const struct nb_family inet_udp_ops = {
    .name = "udp",
    .bind = udp_op_bind,
    .connect = udp_op_connect,
    .send = udp_op_send,
    .recv = udp_op_recv,
    .poll = udp_op_poll,
    .shutdown = udp_op_shutdown,
    .close = udp_op_close,
    .setopt = udp_op_setopt,
    .getopt = udp_op_getopt,
    .getname = udp_op_getname,
    .describe = udp_op_describe,
};
