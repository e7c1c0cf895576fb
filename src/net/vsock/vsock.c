/*
 * The vsock family: stream sockets over a virtio-vsock transport, following
 * VIRTIO 1.2 ("Socket Device") and, where the spec is silent, Linux.
 *
 * One vsock device per stack carries every connection; this stack's CID is
 * the device's. A connection is a `vconn`, which outlives the application's
 * handle while a graceful close completes (SHUTDOWN sent, waiting for the
 * peer's RST, or our RST after close_timeout).
 *
 * Credit (spec 5.10.6.3): we tell the peer our buf_alloc and fwd_cnt (bytes
 * the application has consumed) in every packet; the peer may have at most
 * buf_alloc - (its tx_cnt - our fwd_cnt) bytes in flight. Symmetrically we
 * never send more than peer_buf_alloc - (tx_cnt - peer_fwd_cnt). Because we
 * never grant more than the room we have, data a peer sends within its
 * credit always fits: it is never dropped. A peer that exceeds its credit
 * breaks the protocol and gets its connection reset (counted), which is
 * loud, instead of losing bytes quietly.
 *
 * Received payloads stay in the packets they came in (no copy until the
 * application reads), except small or mostly-empty ones, which are merged
 * into one buffer so a stream of tiny packets cannot cost more memory than
 * the credit it uses.
 *
 * Transmission never blocks. A connection whose packet the device refused
 * keeps it (at most one data packet) and control work as flags, and waits
 * on the stack's transmit list for nb_iface_tx_ready().
 */
#include "../family.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>
#include <neoboot/vsock.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(vsock);

#define CONN_BUCKETS 4096
#define BOUND_BUCKETS 1024
#define BACKLOG_MAX 4096
#define BACKLOG_DEFAULT 128
/* Payloads smaller than this are copied into a shared buffer. */
#define COALESCE_BELOW 1024
#define COALESCE_BUF 4096
/* Zero credit for this long: send CREDIT_REQUEST. */
#define CREDIT_STALL_NS (100 * NB_NS_PER_MS)

enum vstate {
    V_UNBOUND,
    V_BOUND,
    V_LISTEN,
    V_CONNECTING,
    V_CONNECTED,
    V_CLOSING, /* handle closed, SHUTDOWN sent, waiting for the peer's RST */
    V_DONE,    /* peer gone (RST received or sent); readable until drained */
};

static const char *const state_names[] = {
    "UNBOUND", "BOUND", "LISTEN", "CONNECTING", "CONNECTED", "CLOSING", "DONE",
};

/* control work waiting for the device, flushed in this order */
enum {
    P_REQUEST = 1u << 0,
    P_RESPONSE = 1u << 1,
    P_CREDIT_UPDATE = 1u << 2,
    P_CREDIT_REQUEST = 1u << 3,
    P_SHUTDOWN = 1u << 4,
    P_RST = 1u << 5,
};

struct vsock_ns;

struct vconn {
    struct vsock_ns *ns;
    nb_sock *sock; /* NULL once the application closed it, or before accept */
    enum vstate state;
    uint32_t lport;
    uint32_t pcid, pport;
    bool in_conn, in_bound, on_txq;
    bool free_after_flush; /* closed: free once pending control is sent */
    struct vconn *hnext, *bnext, *txnext;

    /* listener */
    int backlog;
    uint32_t acceptq_len;
    struct vconn *aq_head, *aq_tail, *aq_next, *parent;
    bool any_port;
    nb_vsock_request_fn filter;
    void *filter_arg;
    void *cookie;

    /* receive side */
    struct nb_pktq rxq;
    uint32_t rx_bytes;
    uint32_t buf_alloc;
    uint32_t fwd_cnt;
    uint32_t last_fwd_sent, last_buf_alloc_sent;
    uint32_t max_buf_adv;     /* largest buf_alloc the peer has been told */

    /* transmit side */
    uint32_t tx_cnt;
    uint32_t peer_buf_alloc, peer_fwd_cnt;
    struct nb_pkt *tx_pending; /* data refused by the device, header unset */
    bool credit_requested;

    uint32_t pending;         /* P_* */
    uint32_t shutdown_flags;  /* for P_SHUTDOWN */
    uint8_t local_shut;       /* NB_SHUT_RD / NB_SHUT_WR */
    uint8_t peer_shut;        /* NB_VSOCK_SHUTDOWN_* */
    int so_error;             /* pending error (SO_ERROR), cleared on read */
    int reset_error;          /* sticky: why the connection ended abnormally */

    uint64_t connect_timeout_ns;
    struct nb_timer timer;    /* connect timeout, credit stall, close timeout */
};

struct vsock_ns {
    struct nb_stack *st;
    struct nb_iface *dev;
    uint32_t local_cid;
    struct vconn *conn_tab[CONN_BUCKETS];
    struct vconn *bound_tab[BOUND_BUCKETS];
    struct vconn *any_listener;
    struct vconn *txq_head, *txq_tail;
    struct nb_vsock_tunables tun;
    uint32_t eph_next;
    struct nb_vsock_stats stats;
};

static struct nb_family vsock_family;

/* --- header --- */

void nb_vsock_hdr_decode(const uint8_t *p, struct nb_vsock_hdr *h)
{
    h->src_cid = nb_le64(p + 0);
    h->dst_cid = nb_le64(p + 8);
    h->src_port = nb_le32(p + 16);
    h->dst_port = nb_le32(p + 20);
    h->len = nb_le32(p + 24);
    h->type = nb_le16(p + 28);
    h->op = nb_le16(p + 30);
    h->flags = nb_le32(p + 32);
    h->buf_alloc = nb_le32(p + 36);
    h->fwd_cnt = nb_le32(p + 40);
}

void nb_vsock_hdr_encode(uint8_t *p, const struct nb_vsock_hdr *h)
{
    nb_put_le64(p + 0, h->src_cid);
    nb_put_le64(p + 8, h->dst_cid);
    nb_put_le32(p + 16, h->src_port);
    nb_put_le32(p + 20, h->dst_port);
    nb_put_le32(p + 24, h->len);
    nb_put_le16(p + 28, h->type);
    nb_put_le16(p + 30, h->op);
    nb_put_le32(p + 32, h->flags);
    nb_put_le32(p + 36, h->buf_alloc);
    nb_put_le32(p + 40, h->fwd_cnt);
}

/* --- tables --- */

static uint32_t conn_hash(uint32_t lport, uint32_t pcid, uint32_t pport)
{
    uint32_t h = lport * 0x9E3779B1u ^ pcid * 0x85EBCA77u ^ pport * 0xC2B2AE3Du;
    h ^= h >> 15;
    return h % CONN_BUCKETS;
}

static struct vconn *conn_lookup(struct vsock_ns *ns, uint32_t lport,
                                 uint32_t pcid, uint32_t pport)
{
    for (struct vconn *c = ns->conn_tab[conn_hash(lport, pcid, pport)]; c; c = c->hnext)
        if (c->lport == lport && c->pcid == pcid && c->pport == pport)
            return c;
    return NULL;
}

static void conn_insert(struct vconn *c)
{
    struct vconn **b = &c->ns->conn_tab[conn_hash(c->lport, c->pcid, c->pport)];
    c->hnext = *b;
    *b = c;
    c->in_conn = true;
}

static void conn_remove(struct vconn *c)
{
    if (!c->in_conn)
        return;
    struct vconn **pp = &c->ns->conn_tab[conn_hash(c->lport, c->pcid, c->pport)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    c->in_conn = false;
}

static struct vconn *bound_lookup(struct vsock_ns *ns, uint32_t port)
{
    for (struct vconn *c = ns->bound_tab[port % BOUND_BUCKETS]; c; c = c->bnext)
        if (c->lport == port)
            return c;
    return NULL;
}

static void bound_insert(struct vconn *c)
{
    struct vconn **b = &c->ns->bound_tab[c->lport % BOUND_BUCKETS];
    c->bnext = *b;
    *b = c;
    c->in_bound = true;
}

static void bound_remove(struct vconn *c)
{
    if (!c->in_bound)
        return;
    struct vconn **pp = &c->ns->bound_tab[c->lport % BOUND_BUCKETS];
    while (*pp && *pp != c)
        pp = &(*pp)->bnext;
    if (*pp)
        *pp = c->bnext;
    c->in_bound = false;
}

static void txq_add(struct vconn *c)
{
    if (c->on_txq)
        return;
    c->on_txq = true;
    c->txnext = NULL;
    if (c->ns->txq_tail)
        c->ns->txq_tail->txnext = c;
    else
        c->ns->txq_head = c;
    c->ns->txq_tail = c;
}

static void txq_remove(struct vconn *c)
{
    if (!c->on_txq)
        return;
    struct vconn **pp = &c->ns->txq_head, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->txnext;
    }
    if (*pp) {
        *pp = c->txnext;
        if (c->ns->txq_tail == c)
            c->ns->txq_tail = prev;
    }
    c->on_txq = false;
}

/* --- connection objects --- */

static void conn_timer_fired(struct nb_timer *t);

static struct vconn *vconn_new(struct vsock_ns *ns)
{
    if (nb_stack_charge(ns->st) != 0)
        return NULL;
    struct vconn *c = calloc(1, sizeof *c);
    if (!c) {
        nb_stack_uncharge(ns->st);
        return NULL;
    }
    c->ns = ns;
    c->state = V_UNBOUND;
    c->buf_alloc = NB_VSOCK_BUF_DEFAULT;
    c->connect_timeout_ns = ns->tun.connect_timeout_ns;
    c->lport = NB_VMADDR_PORT_ANY;
    nb_pktq_init(&c->rxq, 0); /* bounded by credit, not count */
    nb_timer_init(&c->timer, conn_timer_fired);
    return c;
}

static void vconn_free(struct vconn *c)
{
    conn_remove(c);
    bound_remove(c);
    txq_remove(c);
    nb_timer_cancel(&c->timer);
    if (c->ns->any_listener == c)
        c->ns->any_listener = NULL;
    nb_pktq_purge(&c->rxq);
    nb_pkt_free(c->tx_pending);
    nb_stack_uncharge(c->ns->st);
    free(c);
}

static void wake(struct vconn *c)
{
    if (c->sock)
        nb_sock_wakeup(c->sock);
}

static uint32_t peer_free(const struct vconn *c)
{
    uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
    return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* --- transmit --- */

static struct nb_pkt *pkt_for(struct vsock_ns *ns, size_t payload)
{
    (void)ns;
    return nb_pkt_alloc(NB_PKT_HEADROOM, NB_VSOCK_HDR_LEN + payload);
}

static void fill_hdr(struct vconn *c, uint8_t *p, uint16_t op, uint32_t flags,
                     uint32_t len)
{
    struct nb_vsock_hdr h = {
        .src_cid = c->ns->local_cid,
        .dst_cid = c->pcid,
        .src_port = c->lport,
        .dst_port = c->pport,
        .len = len,
        .type = NB_VSOCK_TYPE_STREAM,
        .op = op,
        .flags = flags,
        .buf_alloc = c->buf_alloc,
        .fwd_cnt = c->fwd_cnt,
    };
    nb_vsock_hdr_encode(p, &h);
}

/* Hand a packet for c to the device; every packet carries our credit, so
 * a pending CREDIT_UPDATE is satisfied by it. NB_ENOBUFS: caller keeps pkt. */
static int conn_xmit(struct vconn *c, struct nb_pkt *pkt)
{
    struct vsock_ns *ns = c->ns;
    if (!ns->dev)
        return NB_ENETDOWN;
    int rc = nb_iface_send(ns->dev, pkt);
    if (rc == 0) {
        ns->stats.tx_packets++;
        c->last_fwd_sent = c->fwd_cnt;
        c->last_buf_alloc_sent = c->buf_alloc;
        if (c->buf_alloc > c->max_buf_adv)
            c->max_buf_adv = c->buf_alloc;
        c->pending &= ~P_CREDIT_UPDATE;
    }
    return rc;
}

static int send_ctl(struct vconn *c, uint16_t op, uint32_t flags)
{
    struct nb_pkt *p = pkt_for(c->ns, 0);
    if (!p)
        return NB_ENOBUFS;
    fill_hdr(c, p->data, op, flags, 0);
    int rc = conn_xmit(c, p);
    if (rc != 0) {
        nb_pkt_free(p);
        return rc;
    }
    if (op == NB_VSOCK_OP_RST)
        c->ns->stats.rst_sent++;
    else if (op == NB_VSOCK_OP_CREDIT_UPDATE)
        c->ns->stats.credit_updates_sent++;
    else if (op == NB_VSOCK_OP_CREDIT_REQUEST)
        c->ns->stats.credit_requests_sent++;
    return 0;
}

/* Send what c has pending, in protocol order. Returns false if the device
 * refused something (c stays on the transmit list). Frees c when it was
 * only waiting to say its last word. */
static bool conn_flush(struct vconn *c)
{
    static const struct {
        uint32_t bit;
        uint16_t op;
    } order[] = {
        {P_REQUEST, NB_VSOCK_OP_REQUEST},
        {P_RESPONSE, NB_VSOCK_OP_RESPONSE},
        {0, 0}, /* data goes here */
        {P_CREDIT_UPDATE, NB_VSOCK_OP_CREDIT_UPDATE},
        {P_CREDIT_REQUEST, NB_VSOCK_OP_CREDIT_REQUEST},
        {P_SHUTDOWN, NB_VSOCK_OP_SHUTDOWN},
        {P_RST, NB_VSOCK_OP_RST},
    };
    for (size_t i = 0; i < NB_ARRAY_SIZE(order); i++) {
        if (order[i].bit == 0) {
            if (c->tx_pending) {
                struct nb_pkt *p = c->tx_pending;
                fill_hdr(c, p->data, NB_VSOCK_OP_RW, 0, p->len - NB_VSOCK_HDR_LEN);
                int rc = conn_xmit(c, p);
                if (rc == NB_ENOBUFS)
                    goto busy;
                if (rc != 0)
                    nb_pkt_free(p); /* device gone: the stream is over anyway */
                c->tx_pending = NULL;
                wake(c);
            }
            continue;
        }
        if (!(c->pending & order[i].bit))
            continue;
        int rc = send_ctl(c, order[i].op,
                          order[i].bit == P_SHUTDOWN ? c->shutdown_flags : 0);
        if (rc == NB_ENOBUFS)
            goto busy;
        if (rc != 0 && order[i].bit == P_RST)
            c->ns->stats.rst_dropped++;
        c->pending &= ~order[i].bit;
    }
    txq_remove(c);
    if (c->free_after_flush)
        vconn_free(c);
    return true;
busy:
    txq_add(c);
    return false;
}

static void conn_queue(struct vconn *c, uint32_t bits)
{
    c->pending |= bits;
    /* Keep protocol order: if others already wait, wait behind them. */
    if (!c->on_txq)
        conn_flush(c);
}

static void vsock_tx_ready(struct nb_iface *ifc)
{
    struct vsock_ns *ns = ifc->proto;
    while (ns->txq_head) {
        struct vconn *c = ns->txq_head;
        txq_remove(c);
        if (!conn_flush(c))
            break;
    }
}

/* RST for a packet that matches no connection; best effort (never queued:
 * a flood of junk must not build up state). */
static void reply_rst(struct vsock_ns *ns, const struct nb_vsock_hdr *in)
{
    struct nb_pkt *p = pkt_for(ns, 0);
    if (!p || !ns->dev) {
        nb_pkt_free(p);
        ns->stats.rst_dropped++;
        return;
    }
    struct nb_vsock_hdr h = {
        .src_cid = ns->local_cid,
        .dst_cid = in->src_cid,
        .src_port = in->dst_port,
        .dst_port = in->src_port,
        .type = in->type,
        .op = NB_VSOCK_OP_RST,
    };
    nb_vsock_hdr_encode(p->data, &h);
    if (nb_iface_send(ns->dev, p) == 0) {
        ns->stats.tx_packets++;
        ns->stats.rst_sent++;
    } else {
        nb_pkt_free(p);
        ns->stats.rst_dropped++;
    }
}

/* --- state changes --- */

/* The peer is gone or broke the protocol: stop everything, keep unread
 * data readable, report err (0 for a clean end of stream). */
static void conn_terminate(struct vconn *c, int err, bool send_rst)
{
    nb_timer_cancel(&c->timer);
    conn_remove(c);
    nb_pkt_free(c->tx_pending);
    c->tx_pending = NULL;
    c->pending = 0;
    if (send_rst)
        conn_queue(c, P_RST);
    if (err) {
        c->reset_error = err;
        c->so_error = err;
    }
    c->peer_shut = NB_VSOCK_SHUTDOWN_RCV | NB_VSOCK_SHUTDOWN_SEND;
    c->state = V_DONE;
    wake(c);
}

/* A closed handle's connection has nothing more to do: free it once any
 * last packet is out. */
static void conn_release(struct vconn *c)
{
    if (c->pending || c->on_txq) {
        c->free_after_flush = true;
        conn_remove(c);
        return;
    }
    vconn_free(c);
}

static void conn_timer_fired(struct nb_timer *t)
{
    struct vconn *c = NB_CONTAINER_OF(t, struct vconn, timer);
    if (c->state == V_CONNECTING) {
        c->ns->stats.connect_timeouts++;
        NB_DEBUG("connect to %u:%u timed out", (unsigned)c->pcid, (unsigned)c->pport);
        conn_remove(c);
        /* Tell the peer in case its RESPONSE is merely late. */
        c->pending = 0;
        conn_queue(c, P_RST);
        c->state = V_BOUND;
        c->so_error = NB_ETIMEDOUT;
        wake(c);
    } else if (c->state == V_CONNECTED) {
        if (peer_free(c) == 0 && !c->credit_requested) {
            c->credit_requested = true;
            conn_queue(c, P_CREDIT_REQUEST);
        }
    } else if (c->state == V_CLOSING) {
        c->ns->stats.close_timeouts++;
        NB_DEBUG("close of %u -> %u:%u timed out; resetting", (unsigned)c->lport,
                 (unsigned)c->pcid, (unsigned)c->pport);
        conn_remove(c);
        nb_pkt_free(c->tx_pending);
        c->tx_pending = NULL;
        c->pending = P_RST;
        c->free_after_flush = true;
        txq_remove(c);
        conn_flush(c);
    }
}

/* --- receive --- */

/* Queue an RW payload (pkt's data is already past the header). */
static void rx_enqueue(struct vconn *c, struct nb_pkt *pkt)
{
    uint32_t len = pkt->len;
    c->rx_bytes += len;
    struct nb_pkt *tail = c->rxq.tail;
    if (tail) {
        size_t tailroom = tail->cap - nb_pkt_headroom(tail) - tail->len;
        if (tailroom >= len) {
            memcpy(tail->data + tail->len, pkt->data, len);
            tail->len += len;
            c->rxq.bytes += len;
            nb_pkt_free(pkt);
            c->ns->stats.coalesced++;
            return;
        }
    }
    /* Small payloads, or payloads in a mostly empty buffer, get a buffer
     * of their own size class so memory tracks credit. If that fails we
     * keep the original: dropping credited data is never an option. */
    if (len < COALESCE_BELOW || pkt->cap > 2 * (len + NB_PKT_HEADROOM + NB_VSOCK_HDR_LEN)) {
        size_t size = len < COALESCE_BUF ? COALESCE_BUF : len;
        struct nb_pkt *n = nb_pkt_alloc(0, size);
        if (n) {
            memcpy(n->data, pkt->data, len);
            n->len = len;
            nb_pkt_free(pkt);
            pkt = n;
            c->ns->stats.coalesced++;
        }
    }
    nb_pktq_push(&c->rxq, pkt);
}

static void rx_discard(struct vconn *c)
{
    c->fwd_cnt += c->rx_bytes;
    c->rx_bytes = 0;
    nb_pktq_purge(&c->rxq);
}

/* Update what we know of the peer's credit from any packet's header. */
static void rx_credit(struct vconn *c, const struct nb_vsock_hdr *h)
{
    uint32_t before = peer_free(c);
    /* fwd_cnt can only move forward and never past what we sent. */
    uint32_t acked = h->fwd_cnt - c->peer_fwd_cnt;
    uint32_t unacked = c->tx_cnt - c->peer_fwd_cnt;
    if (acked <= unacked)
        c->peer_fwd_cnt = h->fwd_cnt;
    else
        c->ns->stats.rx_bad_credit++;
    c->peer_buf_alloc = h->buf_alloc;
    if (peer_free(c) > 0) {
        c->credit_requested = false;
        if (c->state == V_CONNECTED)
            nb_timer_cancel(&c->timer); /* the stall timer */
    }
    if (peer_free(c) > before)
        wake(c);
}

static void rx_connected(struct vconn *c, const struct nb_vsock_hdr *h,
                         struct nb_pkt *pkt)
{
    struct vsock_ns *ns = c->ns;
    rx_credit(c, h);
    switch (h->op) {
    case NB_VSOCK_OP_RW:
        if (h->len == 0)
            break;
        if (c->state == V_CLOSING || (c->local_shut & NB_SHUT_RD)) {
            /* Nobody will read it; count it consumed so credit keeps flowing. */
            ns->stats.rx_discarded += h->len;
            c->fwd_cnt += h->len;
            break;
        }
        /* The peer may rely on the largest buffer we ever advertised (a
         * smaller one may still be on its way to it). */
        if ((uint64_t)c->rx_bytes + h->len > NB_MAX(c->buf_alloc, c->max_buf_adv)) {
            ns->stats.rx_over_credit++;
            NB_WARN("peer %u:%u sent %u bytes beyond its credit; resetting",
                    (unsigned)c->pcid, (unsigned)c->pport, (unsigned)h->len);
            conn_terminate(c, NB_ECONNRESET, true);
            break;
        }
        rx_enqueue(c, pkt);
        pkt = NULL;
        wake(c);
        break;
    case NB_VSOCK_OP_CREDIT_UPDATE:
        break; /* rx_credit did it */
    case NB_VSOCK_OP_CREDIT_REQUEST:
        conn_queue(c, P_CREDIT_UPDATE);
        break;
    case NB_VSOCK_OP_SHUTDOWN:
        c->peer_shut |= (uint8_t)(h->flags & (NB_VSOCK_SHUTDOWN_RCV | NB_VSOCK_SHUTDOWN_SEND));
        if (c->state == V_CLOSING) {
            if (c->peer_shut == (NB_VSOCK_SHUTDOWN_RCV | NB_VSOCK_SHUTDOWN_SEND)) {
                /* Both sides have finished: end it now. */
                conn_remove(c);
                nb_timer_cancel(&c->timer);
                c->pending |= P_RST;
                c->free_after_flush = true;
                if (!c->on_txq)
                    conn_flush(c);
            }
            break;
        }
        if (c->peer_shut == (NB_VSOCK_SHUTDOWN_RCV | NB_VSOCK_SHUTDOWN_SEND)) {
            /* As Linux: the peer is done with both directions, so the
             * connection ends with our RST; unread data stays readable. */
            conn_terminate(c, 0, true);
        } else {
            wake(c);
        }
        break;
    case NB_VSOCK_OP_RST:
        ns->stats.rst_received++;
        if (c->state == V_CLOSING) {
            vconn_free(c);
            break;
        }
        /* After the peer's SHUTDOWN(SEND) an RST is the normal end; before
         * it, it aborts the stream. */
        conn_terminate(c, (c->peer_shut & NB_VSOCK_SHUTDOWN_SEND) ? 0 : NB_ECONNRESET,
                       false);
        break;
    case NB_VSOCK_OP_REQUEST:
    case NB_VSOCK_OP_RESPONSE:
    default:
        ns->stats.rx_unexpected++;
        break;
    }
    nb_pkt_free(pkt);
}

static void rx_connecting(struct vconn *c, const struct nb_vsock_hdr *h)
{
    struct vsock_ns *ns = c->ns;
    switch (h->op) {
    case NB_VSOCK_OP_RESPONSE:
        nb_timer_cancel(&c->timer);
        c->state = V_CONNECTED;
        rx_credit(c, h);
        ns->stats.connects++;
        wake(c);
        break;
    case NB_VSOCK_OP_RST:
        ns->stats.rst_received++;
        nb_timer_cancel(&c->timer);
        conn_remove(c);
        c->pending = 0;
        txq_remove(c);
        c->state = V_BOUND;
        c->so_error = NB_ECONNREFUSED;
        wake(c);
        break;
    default:
        /* Anything else before RESPONSE breaks the protocol (as Linux). */
        ns->stats.rx_unexpected++;
        nb_timer_cancel(&c->timer);
        conn_remove(c);
        c->pending = 0;
        conn_queue(c, P_RST);
        c->state = V_BOUND;
        c->so_error = NB_EPROTO;
        wake(c);
        break;
    }
}

static void rx_request(struct vsock_ns *ns, struct vconn *l,
                       const struct nb_vsock_hdr *h)
{
    int limit = l->backlog > 0 ? l->backlog : 1;
    if (l->acceptq_len >= (uint32_t)limit) {
        ns->stats.backlog_full++;
        reply_rst(ns, h);
        return;
    }
    void *cookie = NULL;
    if (l->any_port && l->filter) {
        struct nb_addr local = nb_addr_vsock(ns->local_cid, h->dst_port);
        struct nb_addr peer = nb_addr_vsock((uint32_t)h->src_cid, h->src_port);
        if (l->filter(l->filter_arg, &local, &peer, &cookie) != 0) {
            ns->stats.rx_no_socket++;
            reply_rst(ns, h);
            return;
        }
    }
    struct vconn *c = vconn_new(ns);
    if (!c) {
        ns->stats.no_resources++;
        reply_rst(ns, h);
        return;
    }
    c->state = V_CONNECTED;
    c->lport = h->dst_port;
    c->pcid = (uint32_t)h->src_cid;
    c->pport = h->src_port;
    c->buf_alloc = l->buf_alloc;
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;
    c->cookie = cookie;
    c->parent = l;
    conn_insert(c);
    if (l->aq_tail)
        l->aq_tail->aq_next = c;
    else
        l->aq_head = c;
    l->aq_tail = c;
    l->acceptq_len++;
    conn_queue(c, P_RESPONSE);
    wake(l);
}

static void vsock_input(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    struct vsock_ns *ns = ifc->proto;
    struct nb_vsock_hdr h;
    ns->stats.rx_packets++;
    if (pkt->len < NB_VSOCK_HDR_LEN) {
        ns->stats.rx_short++;
        ifc->stats.rx_errors++;
        nb_pkt_free(pkt);
        return;
    }
    nb_vsock_hdr_decode(pkt->data, &h);
    nb_pkt_pull(pkt, NB_VSOCK_HDR_LEN);

    struct vconn *c = NULL;
    if (h.dst_cid == ns->local_cid && h.src_cid <= UINT32_MAX)
        c = conn_lookup(ns, h.dst_port, (uint32_t)h.src_cid, h.src_port);

    if (h.len != pkt->len) {
        /* Bytes went missing or appeared: for data the stream can't be
         * trusted any more; a control packet is dropped. */
        ns->stats.rx_len_mismatch++;
        ifc->stats.rx_errors++;
        if (c && h.op == NB_VSOCK_OP_RW &&
            (c->state == V_CONNECTED || c->state == V_CONNECTING))
            conn_terminate(c, NB_EPROTO, true);
        nb_pkt_free(pkt);
        return;
    }
    if (h.len > NB_VSOCK_MAX_PAYLOAD) {
        ns->stats.rx_oversize++;
        ifc->stats.rx_errors++;
        if (c && (c->state == V_CONNECTED || c->state == V_CONNECTING))
            conn_terminate(c, NB_EPROTO, true);
        nb_pkt_free(pkt);
        return;
    }
    if (h.type != NB_VSOCK_TYPE_STREAM) {
        ns->stats.rx_bad_type++;
        if (h.op != NB_VSOCK_OP_RST)
            reply_rst(ns, &h);
        nb_pkt_free(pkt);
        return;
    }
    if (h.op < NB_VSOCK_OP_REQUEST || h.op > NB_VSOCK_OP_CREDIT_REQUEST) {
        ns->stats.rx_bad_op++;
        if (!c)
            reply_rst(ns, &h);
        nb_pkt_free(pkt);
        return;
    }

    if (c) {
        if (c->state == V_CLOSING && h.op == NB_VSOCK_OP_REQUEST) {
            /* The peer reuses the port of a connection it already
             * forgot: ours is dead, let the new one through. */
            vconn_free(c);
            c = NULL;
        } else if (c->state == V_CONNECTING) {
            rx_connecting(c, &h);
            nb_pkt_free(pkt);
            return;
        } else {
            rx_connected(c, &h, pkt);
            return;
        }
    }

    if (h.op == NB_VSOCK_OP_RST) {
        ns->stats.rst_received++;
        nb_pkt_free(pkt);
        return; /* never answer RST with RST */
    }
    if (h.dst_cid != ns->local_cid || h.src_cid > UINT32_MAX - 1) {
        ns->stats.rx_wrong_cid++;
        reply_rst(ns, &h);
        nb_pkt_free(pkt);
        return;
    }
    struct vconn *l = bound_lookup(ns, h.dst_port);
    if (!l)
        l = ns->any_listener;
    if (l && l->state == V_LISTEN && h.op == NB_VSOCK_OP_REQUEST) {
        rx_request(ns, l, &h);
    } else {
        ns->stats.rx_no_socket++;
        reply_rst(ns, &h);
    }
    nb_pkt_free(pkt);
}

/* --- socket operations --- */

static struct vconn *VC(nb_sock *s) { return s->priv; }

static int vsock_create(nb_sock *s)
{
    if (s->type != NB_SOCK_STREAM)
        return NB_EPROTONOSUPPORT;
    struct vsock_ns *ns = nb_stack_family_state(s->st, &vsock_family);
    struct vconn *c = vconn_new(ns);
    if (!c)
        return NB_ENFILE;
    c->sock = s;
    s->priv = c;
    return 0;
}

static int autobind(struct vconn *c)
{
    struct vsock_ns *ns = c->ns;
    uint64_t range = (uint64_t)ns->tun.eph_hi - ns->tun.eph_lo + 1;
    uint64_t tries = range < 65536 ? range : 65536;
    for (uint64_t i = 0; i < tries; i++) {
        uint32_t port = ns->eph_next;
        ns->eph_next = port >= ns->tun.eph_hi ? ns->tun.eph_lo : port + 1;
        if (!bound_lookup(ns, port)) {
            c->lport = port;
            bound_insert(c);
            c->state = V_BOUND;
            return 0;
        }
    }
    return NB_EADDRNOTAVAIL;
}

static int vsock_bind(nb_sock *s, const struct nb_addr *a)
{
    struct vconn *c = VC(s);
    if (a->family != NB_AF_VSOCK)
        return NB_EAFNOSUPPORT;
    if (c->state != V_UNBOUND)
        return NB_EINVAL;
    if (a->u.cid != NB_VMADDR_CID_ANY && a->u.cid != c->ns->local_cid)
        return NB_EADDRNOTAVAIL;
    if (a->port == NB_VMADDR_PORT_ANY)
        return autobind(c);
    if (bound_lookup(c->ns, a->port))
        return NB_EADDRINUSE;
    c->lport = a->port;
    bound_insert(c);
    c->state = V_BOUND;
    return 0;
}

static int do_listen(struct vconn *c, int backlog)
{
    if (c->state == V_LISTEN) {
        c->backlog = backlog;
        return 0;
    }
    if (c->state != V_BOUND)
        return NB_EINVAL;
    c->state = V_LISTEN;
    c->backlog = backlog;
    return 0;
}

static int clamp_backlog(int backlog)
{
    if (backlog < 0)
        return BACKLOG_DEFAULT;
    return backlog > BACKLOG_MAX ? BACKLOG_MAX : backlog;
}

static int vsock_listen(nb_sock *s, int backlog)
{
    struct vconn *c = VC(s);
    if (c->state == V_UNBOUND)
        return NB_EDESTADDRREQ;
    return do_listen(c, clamp_backlog(backlog));
}

int nb_vsock_listen_any(nb_sock *s, int backlog, nb_vsock_request_fn filter,
                        void *arg)
{
    if (s->fam != &vsock_family)
        return NB_ENOTSOCK;
    struct vconn *c = VC(s);
    if (c->state != V_UNBOUND)
        return NB_EINVAL;
    if (c->ns->any_listener)
        return NB_EADDRINUSE;
    c->any_port = true;
    c->filter = filter;
    c->filter_arg = arg;
    c->state = V_BOUND;
    c->ns->any_listener = c;
    return do_listen(c, clamp_backlog(backlog));
}

static int vsock_accept(nb_sock *s, nb_sock **out, struct nb_addr *peer)
{
    struct vconn *l = VC(s);
    if (l->state != V_LISTEN)
        return NB_EINVAL;
    struct vconn *c = l->aq_head;
    if (!c)
        return NB_EAGAIN;
    nb_sock *ns = nb_sock_new(s->st, &vsock_family, NB_AF_VSOCK, NB_SOCK_STREAM);
    if (!ns)
        return NB_ENOMEM;
    l->aq_head = c->aq_next;
    if (!l->aq_head)
        l->aq_tail = NULL;
    l->acceptq_len--;
    c->aq_next = NULL;
    c->parent = NULL;
    c->sock = ns;
    ns->priv = c;
    ns->user = c->cookie;
    if (peer)
        *peer = nb_addr_vsock(c->pcid, c->pport);
    l->ns->stats.accepts++;
    *out = ns;
    return 0;
}

static int vsock_connect(nb_sock *s, const struct nb_addr *a)
{
    struct vconn *c = VC(s);
    struct vsock_ns *ns = c->ns;
    if (a->family != NB_AF_VSOCK)
        return NB_EAFNOSUPPORT;
    switch (c->state) {
    case V_CONNECTING: return NB_EALREADY;
    case V_CONNECTED: return NB_EISCONN;
    case V_LISTEN: return NB_EINVAL;
    case V_DONE:
    case V_CLOSING: return NB_EISCONN;
    default: break;
    }
    if (a->u.cid == NB_VMADDR_CID_ANY || a->port == NB_VMADDR_PORT_ANY)
        return NB_EINVAL;
    if (!ns->dev || !ns->dev->up)
        return NB_ENETUNREACH;
    if (a->u.cid == ns->local_cid)
        return NB_ENETUNREACH; /* no loopback transport */
    if (c->state == V_UNBOUND) {
        int rc = autobind(c);
        if (rc)
            return rc;
    }
    if (conn_lookup(ns, c->lport, a->u.cid, a->port))
        return NB_EADDRINUSE;
    c->pcid = a->u.cid;
    c->pport = a->port;
    c->tx_cnt = c->peer_fwd_cnt = c->peer_buf_alloc = 0;
    c->so_error = 0;
    c->state = V_CONNECTING;
    conn_insert(c);
    nb_timer_arm_in(&c->timer, c->connect_timeout_ns);
    conn_queue(c, P_REQUEST);
    return NB_EINPROGRESS;
}

static bool send_shut(const struct vconn *c)
{
    return (c->local_shut & NB_SHUT_WR) || (c->peer_shut & NB_VSOCK_SHUTDOWN_RCV);
}

static long vsock_send(nb_sock *s, const void *buf, size_t len, int flags,
                       const struct nb_addr *to)
{
    struct vconn *c = VC(s);
    (void)flags;
    if (to)
        return NB_EISCONN;
    if (c->reset_error)
        return c->reset_error;
    if (c->state == V_DONE)
        return NB_EPIPE;
    if (c->state != V_CONNECTED)
        return c->state == V_CONNECTING ? NB_EAGAIN : NB_ENOTCONN;
    if (send_shut(c))
        return NB_EPIPE;
    if (len == 0)
        return 0;
    if (c->tx_pending || c->on_txq)
        return NB_EAGAIN;
    uint32_t room = peer_free(c);
    if (room == 0) {
        /* A correct peer sends CREDIT_UPDATE as its reader frees space. If
         * the stall lasts, ask once, in case an update was lost. */
        if (!c->credit_requested && !nb_timer_armed(&c->timer))
            nb_timer_arm_in(&c->timer, CREDIT_STALL_NS);
        return NB_EAGAIN;
    }
    size_t max = NB_VSOCK_MAX_PAYLOAD;
    if (c->ns->dev->mtu > NB_VSOCK_HDR_LEN && c->ns->dev->mtu - NB_VSOCK_HDR_LEN < max)
        max = c->ns->dev->mtu - NB_VSOCK_HDR_LEN;
    size_t n = len < room ? len : room;
    if (n > max)
        n = max;
    struct nb_pkt *p = pkt_for(c->ns, n);
    if (!p)
        return NB_ENOBUFS;
    memcpy(p->data + NB_VSOCK_HDR_LEN, buf, n);
    c->tx_cnt += (uint32_t)n;
    fill_hdr(c, p->data, NB_VSOCK_OP_RW, 0, (uint32_t)n);
    int rc = conn_xmit(c, p);
    if (rc == NB_ENOBUFS) {
        /* The bytes are ours to deliver now: hold them for the device. */
        c->tx_pending = p;
        txq_add(c);
    } else if (rc != 0) {
        c->tx_cnt -= (uint32_t)n;
        nb_pkt_free(p);
        return rc;
    }
    return (long)n;
}

/* After the application consumed bytes: tell the peer if its view of our
 * free space has become small. */
static void consumed(struct vconn *c, uint32_t n)
{
    c->fwd_cnt += n;
    if (c->state != V_CONNECTED)
        return;
    uint32_t received = c->fwd_cnt + c->rx_bytes; /* peer's tx_cnt, as we know it */
    uint32_t peer_view_used = received - c->last_fwd_sent;
    uint32_t peer_view_free = peer_view_used >= c->buf_alloc ? 0 : c->buf_alloc - peer_view_used;
    uint32_t threshold = c->buf_alloc / 2;
    if (threshold > NB_VSOCK_MAX_PAYLOAD)
        threshold = NB_VSOCK_MAX_PAYLOAD;
    if (threshold == 0)
        threshold = 1;
    if (peer_view_free < threshold && c->fwd_cnt != c->last_fwd_sent)
        conn_queue(c, P_CREDIT_UPDATE);
}

static long vsock_recv(nb_sock *s, void *buf, size_t len, int flags,
                       struct nb_addr *from)
{
    struct vconn *c = VC(s);
    if (from)
        *from = nb_addr_vsock(c->pcid, c->pport);
    if (c->state != V_CONNECTED && c->state != V_DONE)
        return c->state == V_CONNECTING ? NB_EAGAIN : NB_ENOTCONN;
    if (c->local_shut & NB_SHUT_RD)
        return 0;
    if (c->rx_bytes == 0) {
        if (c->reset_error)
            return c->reset_error;
        if (c->peer_shut & NB_VSOCK_SHUTDOWN_SEND)
            return 0;
        return NB_EAGAIN;
    }
    if (len == 0)
        return 0;
    size_t done = 0;
    bool peek = (flags & NB_MSG_PEEK) != 0;
    struct nb_pkt *p = c->rxq.head;
    while (p && done < len) {
        size_t n = NB_MIN((size_t)p->len, len - done);
        memcpy((uint8_t *)buf + done, p->data, n);
        done += n;
        if (peek) {
            p = p->next;
            continue;
        }
        nb_pkt_pull(p, n);
        c->rxq.bytes -= n;
        if (p->len == 0) {
            nb_pkt_free(nb_pktq_pop(&c->rxq));
            p = c->rxq.head;
        }
    }
    if (!peek) {
        c->rx_bytes -= (uint32_t)done;
        consumed(c, (uint32_t)done);
    }
    return (long)done;
}

static uint32_t vsock_poll(nb_sock *s)
{
    struct vconn *c = VC(s);
    uint32_t m = 0;
    if (c->so_error)
        m |= NB_POLLERR;
    switch (c->state) {
    case V_LISTEN:
        if (c->acceptq_len)
            m |= NB_POLLIN;
        break;
    case V_CONNECTED:
        if (c->rx_bytes || (c->local_shut & NB_SHUT_RD))
            m |= NB_POLLIN;
        if (c->peer_shut & NB_VSOCK_SHUTDOWN_SEND)
            m |= NB_POLLIN | NB_POLLRDHUP;
        /* Writable when a send would not say NB_EAGAIN. */
        if (send_shut(c) || (!c->tx_pending && !c->on_txq && peer_free(c) > 0))
            m |= NB_POLLOUT;
        if (c->local_shut == NB_SHUT_RDWR)
            m |= NB_POLLHUP;
        break;
    case V_DONE:
        m |= NB_POLLIN | NB_POLLRDHUP | NB_POLLHUP | NB_POLLOUT;
        if (c->reset_error)
            m |= NB_POLLERR;
        break;
    case V_BOUND:
    case V_UNBOUND:
        /* A failed connect leaves the socket bound with so_error set. */
        if (c->so_error)
            m |= NB_POLLOUT;
        break;
    default:
        break;
    }
    return m;
}

static int vsock_shutdown(nb_sock *s, int how)
{
    struct vconn *c = VC(s);
    if (c->state != V_CONNECTED && c->state != V_DONE)
        return NB_ENOTCONN;
    uint8_t newly = (uint8_t)(how & ~c->local_shut);
    c->local_shut |= (uint8_t)how;
    if (newly & NB_SHUT_RD)
        rx_discard(c);
    if (newly && c->state == V_CONNECTED) {
        c->shutdown_flags = 0;
        if (c->local_shut & NB_SHUT_RD)
            c->shutdown_flags |= NB_VSOCK_SHUTDOWN_RCV;
        if (c->local_shut & NB_SHUT_WR)
            c->shutdown_flags |= NB_VSOCK_SHUTDOWN_SEND;
        conn_queue(c, P_SHUTDOWN);
    }
    wake(c);
    return 0;
}

static void listener_close(struct vconn *l)
{
    while (l->aq_head) {
        struct vconn *c = l->aq_head;
        l->aq_head = c->aq_next;
        c->aq_next = NULL;
        c->parent = NULL;
        /* Never accepted: abort rather than linger. */
        conn_remove(c);
        nb_pkt_free(c->tx_pending);
        c->tx_pending = NULL;
        c->pending &= P_RESPONSE;
        c->pending |= P_RST;
        c->free_after_flush = true;
        txq_remove(c);
        conn_flush(c);
    }
    l->aq_tail = NULL;
    l->acceptq_len = 0;
}

static void vsock_close(nb_sock *s)
{
    struct vconn *c = VC(s);
    c->sock = NULL;
    s->priv = NULL;
    switch (c->state) {
    case V_LISTEN:
        listener_close(c);
        vconn_free(c);
        return;
    case V_CONNECTING:
        conn_remove(c);
        nb_timer_cancel(&c->timer);
        c->pending = P_RST;
        c->free_after_flush = true;
        txq_remove(c);
        conn_flush(c);
        return;
    case V_CONNECTED:
        rx_discard(c);
        c->state = V_CLOSING; /* keeps its port until the close completes */
        c->shutdown_flags = NB_VSOCK_SHUTDOWN_RCV | NB_VSOCK_SHUTDOWN_SEND;
        nb_timer_arm_in(&c->timer, c->ns->tun.close_timeout_ns);
        conn_queue(c, P_SHUTDOWN);
        return;
    case V_DONE:
        conn_release(c);
        return;
    default:
        vconn_free(c);
        return;
    }
}

static int vsock_setopt(nb_sock *s, int opt, int64_t v)
{
    struct vconn *c = VC(s);
    switch (opt) {
    case NB_SO_RCVBUF:
        if (v < 1 || v > NB_VSOCK_BUF_MAX)
            return NB_EINVAL;
        c->buf_alloc = (uint32_t)v;
        if (c->state == V_CONNECTED && c->buf_alloc != c->last_buf_alloc_sent)
            conn_queue(c, P_CREDIT_UPDATE);
        return 0;
    case NB_SO_CONNECT_TIMEOUT:
        if (v <= 0)
            return NB_EINVAL;
        c->connect_timeout_ns = (uint64_t)v;
        return 0;
    default:
        return NB_ENOPROTOOPT;
    }
}

static int vsock_getopt(nb_sock *s, int opt, int64_t *v)
{
    struct vconn *c = VC(s);
    switch (opt) {
    case NB_SO_RCVBUF:
        *v = c->buf_alloc;
        return 0;
    case NB_SO_CONNECT_TIMEOUT:
        *v = (int64_t)c->connect_timeout_ns;
        return 0;
    case NB_SO_ERROR:
        *v = c->so_error;
        c->so_error = 0;
        return 0;
    case NB_SO_NREAD:
        *v = c->rx_bytes;
        return 0;
    default:
        return NB_ENOPROTOOPT;
    }
}

static int vsock_getname(nb_sock *s, struct nb_addr *out, bool peer)
{
    struct vconn *c = VC(s);
    if (peer) {
        if (c->state != V_CONNECTED && c->state != V_DONE)
            return NB_ENOTCONN;
        *out = nb_addr_vsock(c->pcid, c->pport);
    } else {
        *out = nb_addr_vsock(c->ns->local_cid, c->lport);
    }
    return 0;
}

static void vsock_describe(nb_sock *s, char *buf, size_t len)
{
    struct vconn *c = VC(s);
    if (c->state == V_LISTEN)
        snprintf(buf, len, "LISTEN port %u%s backlog %u/%d", (unsigned)c->lport,
                 c->any_port ? " (any)" : "", (unsigned)c->acceptq_len, c->backlog);
    else
        snprintf(buf, len, "%s %u -> %u:%u rx %u/%u peer_free %u tx_cnt %u",
                 state_names[c->state], (unsigned)c->lport, (unsigned)c->pcid,
                 (unsigned)c->pport, (unsigned)c->rx_bytes, (unsigned)c->buf_alloc,
                 (unsigned)peer_free(c), (unsigned)c->tx_cnt);
}

#define STAT(name) {#name, offsetof(struct nb_vsock_stats, name)}
static const struct {
    const char *name;
    size_t off;
} stat_fields[] = {
    STAT(rx_packets), STAT(tx_packets), STAT(rx_short), STAT(rx_len_mismatch),
    STAT(rx_oversize), STAT(rx_bad_type), STAT(rx_bad_op), STAT(rx_wrong_cid),
    STAT(rx_no_socket), STAT(rx_over_credit), STAT(rx_bad_credit),
    STAT(rx_unexpected), STAT(rx_discarded), STAT(backlog_full),
    STAT(no_resources), STAT(rst_sent), STAT(rst_received), STAT(rst_dropped),
    STAT(credit_updates_sent), STAT(credit_requests_sent), STAT(connects),
    STAT(accepts), STAT(connect_timeouts), STAT(close_timeouts), STAT(coalesced),
};

static void vsock_print_stats(struct nb_stack *st, void *state, nb_print_fn print,
                              void *arg)
{
    struct vsock_ns *ns = state;

    (void)st;
    if (!ns->dev && !ns->stats.rx_packets && !ns->stats.tx_packets)
        return;
    nb_printf(print, arg, "  vsock: cid %u on %s", (unsigned)ns->local_cid,
              ns->dev ? ns->dev->name : "-");
    char line[200];
    size_t o = 0;
    for (size_t i = 0; i < NB_ARRAY_SIZE(stat_fields); i++) {
        uint64_t v = *(const uint64_t *)((const char *)&ns->stats + stat_fields[i].off);
        if (!v)
            continue;
        int n = snprintf(line + o, sizeof line - o, " %s=%llu", stat_fields[i].name,
                         (unsigned long long)v);
        if (n < 0 || (size_t)n >= sizeof line - o) {
            line[o] = 0;
            nb_printf(print, arg, "   %s", line);
            o = 0;
            i--;
            continue;
        }
        o += (size_t)n;
    }
    if (o)
        nb_printf(print, arg, "   %s", line);
}

static void vsock_json_stats(struct nb_stack *st, void *state, struct nb_jbuf *j)
{
    struct vsock_ns *ns = state;
    (void)st;
    nb_jprintf(j, "\"cid\":%u", ns->dev ? (unsigned)ns->local_cid : 0);
    for (size_t i = 0; i < NB_ARRAY_SIZE(stat_fields); i++)
        nb_jprintf(j, ",\"%s\":%llu", stat_fields[i].name,
                   (unsigned long long)*(const uint64_t *)((const char *)&ns->stats +
                                                           stat_fields[i].off));
}

/* --- stack plumbing --- */

static int vsock_stack_init(struct nb_stack *st, void **state)
{
    struct vsock_ns *ns = calloc(1, sizeof *ns);
    if (!ns)
        return NB_ENOMEM;
    ns->st = st;
    ns->local_cid = NB_VMADDR_CID_ANY;
    ns->tun.connect_timeout_ns = 2 * NB_NS_PER_S;
    ns->tun.close_timeout_ns = 8 * NB_NS_PER_S;
    ns->tun.eph_lo = 1024;
    ns->tun.eph_hi = 0x7FFFFFFF;
    uint32_t r = 0;
    nb_platform_entropy(&r, sizeof r);
    ns->eph_next = ns->tun.eph_lo + r % (ns->tun.eph_hi - ns->tun.eph_lo + 1);
    *state = ns;
    return 0;
}

static void vsock_stack_fini(struct nb_stack *st, void *state)
{
    struct vsock_ns *ns = state;
    (void)st;
    /* Lingering connections have no handle: free them with the stack. */
    for (size_t b = 0; b < CONN_BUCKETS; b++)
        while (ns->conn_tab[b]) {
            struct vconn *c = ns->conn_tab[b];
            conn_remove(c);
            if (!c->sock && !c->parent)
                vconn_free(c);
        }
    while (ns->txq_head) {
        struct vconn *c = ns->txq_head;
        txq_remove(c);
        if (c->free_after_flush)
            vconn_free(c);
    }
    free(ns);
}

static int vsock_attach(struct nb_stack *st, void *state, struct nb_iface *ifc)
{
    struct vsock_ns *ns = state;
    (void)st;
    if (ns->dev)
        return NB_EBUSY;
    if (ifc->vsock_cid > UINT32_MAX - 1 || ifc->vsock_cid <= NB_VMADDR_CID_LOCAL)
        return NB_EINVAL;
    ns->dev = ifc;
    ns->local_cid = (uint32_t)ifc->vsock_cid;
    ifc->proto = ns;
    ifc->input = vsock_input;
    ifc->tx_ready = vsock_tx_ready;
    NB_INFO("%s: vsock cid %u", ifc->name, (unsigned)ns->local_cid);
    return 0;
}

static void vsock_detach(struct nb_stack *st, void *state, struct nb_iface *ifc)
{
    struct vsock_ns *ns = state;
    (void)st;
    if (ns->dev == ifc)
        ns->dev = NULL;
}

int nb_vsock_get_tunables(struct nb_stack *st, struct nb_vsock_tunables *out)
{
    struct vsock_ns *ns = nb_stack_family_state(st, &vsock_family);
    *out = ns->tun;
    return 0;
}

int nb_vsock_set_tunables(struct nb_stack *st, const struct nb_vsock_tunables *t)
{
    struct vsock_ns *ns = nb_stack_family_state(st, &vsock_family);
    if (t->eph_lo > t->eph_hi || t->eph_hi == NB_VMADDR_PORT_ANY ||
        t->connect_timeout_ns == 0 || t->close_timeout_ns == 0)
        return NB_EINVAL;
    ns->tun = *t;
    if (ns->eph_next < t->eph_lo || ns->eph_next > t->eph_hi)
        ns->eph_next = t->eph_lo;
    return 0;
}

int nb_vsock_get_stats(struct nb_stack *st, struct nb_vsock_stats *out)
{
    struct vsock_ns *ns = nb_stack_family_state(st, &vsock_family);
    *out = ns->stats;
    return 0;
}

static struct nb_family vsock_family = {
    .name = "vsock",
    .families = {NB_AF_VSOCK, 0},
    .link = NB_LINK_VSOCK,
    .stack_init = vsock_stack_init,
    .stack_fini = vsock_stack_fini,
    .attach = vsock_attach,
    .detach = vsock_detach,
    .create = vsock_create,
    .bind = vsock_bind,
    .listen = vsock_listen,
    .accept = vsock_accept,
    .connect = vsock_connect,
    .send = vsock_send,
    .recv = vsock_recv,
    .poll = vsock_poll,
    .shutdown = vsock_shutdown,
    .close = vsock_close,
    .setopt = vsock_setopt,
    .getopt = vsock_getopt,
    .getname = vsock_getname,
    .describe = vsock_describe,
    .print_stats = vsock_print_stats,
    .json_stats = vsock_json_stats,
};

void nb_vsock_register(void);
void nb_vsock_register(void)
{
    nb_family_register(&vsock_family);
}
