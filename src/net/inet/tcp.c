/*
 * TCP sockets on lwIP's raw API.
 *
 * A socket is an `itcp` holding an lwIP tcp_pcb. lwIP reports events
 * through callbacks (connected, recv, sent, err, poll, accept); each one
 * updates the itcp and calls nb_sock_wakeup(), and the socket layer does
 * the waiting. Nothing here blocks.
 *
 * Pcb lifetime is lwIP's, and the rules are strict:
 *   - the err callback means lwIP has already freed the pcb;
 *   - every pcb we own carries an ext-arg "destroy" callback, lwIP's one
 *     signal that it freed a pcb for any reason (RST, timeouts, TIME_WAIT
 *     expiry, pool pressure); it clears itcp->pcb, so a handle never
 *     touches a pcb after its connection is gone;
 *   - before we free a pcb ourselves (abort, close) we detach every
 *     callback first, so lwIP cannot call back into freed state.
 *
 * Receive: segments stay in their pbufs on a per-socket list (tiny ones
 * are copied into shared buffers so a stream of 1-byte segments cannot pin
 * a pool buffer each). The window reopens (tcp_recved) as the application
 * reads, in chunks of at most 65535 (lwIP's u16), and a receive buffer
 * smaller than TCP_WND is emulated by withholding the difference, so the
 * queue is always bounded by NB_SO_RCVBUF.
 *
 * Close: nb_close with unread data resets the connection (as Linux);
 * otherwise it closes gracefully in the background. The itcp lingers,
 * without a handle and still charged to the stack, until lwIP frees the
 * pcb, the pcb reaches TIME_WAIT (lwIP then owns it alone and reclaims it
 * under pressure), or a close timeout aborts it.
 *
 * Listen: user backlog bounds the accept queue; lwIP's own backlog bounds
 * half-open (SYN_RCVD) connections. Under a SYN flood the oldest half-open
 * connection is evicted for each new SYN (nb_lwip_tcp_inpacket), so a
 * real client's handshake still gets through.
 */
#include "inet_priv.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip_hooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(inet);

#define BACKLOG_DEFAULT 128
#define BACKLOG_MAX 4096
#define HALF_OPEN_CAP 512          /* SYN_RCVD connections, all listeners */
#define COOKIE_ABOVE 256           /* half-open connections before SYN cookies */
#define CONNECT_TIMEOUT_DEFAULT (60 * NB_NS_PER_S)
#define CLOSE_TIMEOUT (60 * NB_NS_PER_S)
#define RCVBUF_MIN (2 * TCP_MSS)
#define SNDBUF_MIN (2 * TCP_MSS)
#define COALESCE_BELOW 512
#define COALESCE_BUF 2048
#define POLL_INTERVAL 2            /* lwIP poll callback every 2 * 500 ms */

enum tstate {
    T_NEW,        /* pcb allocated, not bound */
    T_BOUND,
    T_LISTEN,
    T_CONNECTING,
    T_CONNECTED,  /* established (possibly half-closed) */
    T_DONE,       /* pcb gone: reset, timed out, failed to connect, or closed */
    T_CLOSING,    /* handle closed, graceful close in progress */
};

static const char *const tstate_names[] = {
    "NEW", "BOUND", "LISTEN", "CONNECTING", "CONNECTED", "DONE", "CLOSING",
};

struct itcp {
    struct inet_ns *ns;
    nb_sock *sock;            /* NULL once closed, or before accept */
    struct tcp_pcb *pcb;      /* NULL once lwIP freed it */
    enum tstate state;
    u8_t iptype;              /* IPADDR_TYPE_V4 / _V6 */

    /* receive */
    struct pbuf *rx_head, *rx_tail; /* linked through ->next */
    uint32_t rx_bytes;
    uint32_t rx_tail_room;    /* free bytes after rx_tail if it is a coalesce buffer */
    uint32_t rcvbuf;
    uint32_t withheld;        /* window held back to emulate rcvbuf < TCP_WND */
    uint32_t unannounced;     /* window reopened since we last forced an update */
    bool fin_rcvd;

    /* transmit */
    uint32_t sndbuf;
    bool tx_blocked;          /* lwIP refused a write: wait for sent/poll */
    bool fin_pending;         /* SHUT_WR asked before the connection was up */
    uint8_t local_shut;

    int so_error;             /* NB_SO_ERROR, cleared when read */
    int err;                  /* why the connection ended abnormally */
    bool err_told;            /* err reported once (send or recv), as Linux's sk_err */
    bool free_on_destroy;     /* unaccepted and reset: free when lwIP frees the pcb */

    /* options, kept for pcbs made later (reconnect, accepted) */
    bool nodelay, keepalive, reuse;
    uint32_t keepidle_ms, keepintvl_ms, keepcnt;
    uint64_t connect_timeout_ns;

    /* listener */
    int backlog;
    uint32_t aq_len;
    struct itcp *aq_head, *aq_tail, *aq_next;
    struct itcp *listener;    /* set while queued for accept */

    struct nb_addr local, peer; /* remembered past the pcb */
    struct nb_timer timer;    /* connect timeout / close timeout */
    struct itcp *next, *prev;
};

static struct itcp *TC(nb_sock *s) { return s->priv; }

static void wake(struct itcp *c)
{
    if (c->sock)
        nb_sock_wakeup(c->sock);
}

/* --- object lifetime --- */

static void tcp_timer_fired(struct nb_timer *t);
static void pcb_destroyed(u8_t id, void *data);
static const struct tcp_ext_arg_callbacks ext_cbs = {.destroy = pcb_destroyed};
static err_t on_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *npcb);
static void half_open_forget(struct tcp_pcb *pcb);
static const struct tcp_ext_arg_callbacks listen_cbs = {.destroy = pcb_destroyed,
                                                        .passive_open = on_passive_open};
/* lwIP insists on a callbacks table; this one says nothing. */
static const struct tcp_ext_arg_callbacks no_cbs = {.destroy = NULL};

static struct itcp *itcp_new(struct inet_ns *ns)
{
    if (nb_stack_charge(ns->st) != 0)
        return NULL;
    struct itcp *c = calloc(1, sizeof *c);
    if (!c) {
        nb_stack_uncharge(ns->st);
        return NULL;
    }
    c->ns = ns;
    c->rcvbuf = TCP_WND;
    c->sndbuf = TCP_SND_BUF;
    c->connect_timeout_ns = CONNECT_TIMEOUT_DEFAULT;
    c->keepidle_ms = 7200000;
    c->keepintvl_ms = 75000;
    c->keepcnt = 9;
    nb_timer_init(&c->timer, tcp_timer_fired);
    c->next = ns->tcps;
    if (ns->tcps)
        ns->tcps->prev = c;
    ns->tcps = c;
    return c;
}

static void rx_purge(struct itcp *c)
{
    if (c->rx_head)
        pbuf_free(c->rx_head);
    c->rx_head = c->rx_tail = NULL;
    c->rx_bytes = 0;
    c->rx_tail_room = 0;
}

/* Break every link between c and its pcb (the pcb lives on, or is about
 * to be freed by the caller). */
static void pcb_detach(struct itcp *c)
{
    struct tcp_pcb *pcb = c->pcb;
    if (!pcb)
        return;
    tcp_arg(pcb, NULL);
    if (pcb->state == LISTEN) {
        tcp_accept(pcb, NULL);
    } else {
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_poll(pcb, NULL, 0);
    }
    tcp_ext_arg_set_callbacks(pcb, g_inet.tcp_ext_id, &no_cbs);
    tcp_ext_arg_set(pcb, g_inet.tcp_ext_id, NULL);
    c->pcb = NULL;
}

static void itcp_free(struct itcp *c)
{
    struct inet_ns *ns = c->ns;
    pcb_detach(c);
    nb_timer_cancel(&c->timer);
    rx_purge(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        ns->tcps = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nb_stack_uncharge(ns->st);
    free(c);
}

/* Reset the connection (RST) and forget the pcb. */
static void pcb_abort(struct itcp *c)
{
    struct tcp_pcb *pcb = c->pcb;
    if (!pcb)
        return;
    pcb_detach(c);
    tcp_abort(pcb);
    c->ns->stats.tcp_aborts++;
}

/* Free a pcb that never connected (NEW/BOUND/CONNECTING/LISTEN): no RST. */
static void pcb_close_quiet(struct itcp *c)
{
    struct tcp_pcb *pcb = c->pcb;
    if (!pcb)
        return;
    pcb_detach(c);
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

/* --- callbacks from lwIP --- */

static void pcb_destroyed(u8_t id, void *data)
{
    (void)id;
    struct itcp *c = data;
    if (!c)
        return;
    c->pcb = NULL;
    if (c->state == T_CLOSING) {
        c->ns->stats.tcp_lingering_done++;
        itcp_free(c);
        return;
    }
    if (c->free_on_destroy) {
        itcp_free(c);
        return;
    }
    if (c->state == T_CONNECTED || c->state == T_CONNECTING || c->state == T_LISTEN) {
        /* The err callback (if any) follows and gives the reason; without
         * one the connection simply ended (e.g. TIME_WAIT expired). */
        c->state = T_DONE;
        c->fin_rcvd = true;
    } else {
        c->state = T_DONE;
    }
    wake(c);
}

static void aq_remove(struct itcp *l, struct itcp *c)
{
    struct itcp **pp = &l->aq_head, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->aq_next;
    }
    if (!*pp)
        return;
    *pp = c->aq_next;
    if (l->aq_tail == c)
        l->aq_tail = prev;
    l->aq_len--;
    c->aq_next = NULL;
    c->listener = NULL;
}

/*
 * lwIP gave up on the connection. Depending on the path, lwIP frees the pcb
 * just before (tcp_abandon, timers) or just after (RST received) calling
 * this; pcb_destroyed() marks which, so c->pcb is never trusted here and c
 * is never freed while a destroy callback may still name it.
 */
static void on_err(void *arg, err_t err)
{
    struct itcp *c = arg;
    if (!c)
        return;
    nb_timer_cancel(&c->timer);
    int e;
    if (c->state == T_CONNECTING) {
        e = err == ERR_RST ? NB_ECONNREFUSED : err == ERR_ABRT ? NB_ETIMEDOUT : inet_err(err);
    } else if (err == ERR_CLSD) {
        e = 0; /* both sides closed while we had only shut down sending */
    } else if (err == ERR_ABRT) {
        e = NB_ETIMEDOUT; /* retransmission or keep-alive gave up */
    } else {
        e = inet_err(err);
    }
    if (err == ERR_RST)
        c->ns->stats.tcp_resets++;
    NB_DEBUG("tcp %s: %s", tstate_names[c->state], e ? nb_strerror(e) : "closed");
    if (c->listener && !c->sock) {
        /* Reset before anyone accepted it: it never happened. */
        aq_remove(c->listener, c);
        if (c->pcb)
            c->free_on_destroy = true;
        else
            itcp_free(c);
        return;
    }
    if (e) {
        c->err = e;
        c->so_error = e;
    }
    c->fin_rcvd = true;
    c->state = T_DONE;
    wake(c);
}

/* Queue a received chain, copying small segments into shared buffers. */
static void rx_append(struct itcp *c, struct pbuf *p)
{
    while (p) {
        struct pbuf *next = p->next;
        p->next = NULL;
        p->tot_len = p->len;
        if (p->len == 0) {
            pbuf_free(p);
        } else if (p->len < COALESCE_BELOW) {
            if (c->rx_tail_room < p->len) {
                struct pbuf *q = pbuf_alloc(PBUF_RAW, COALESCE_BUF, PBUF_RAM);
                if (!q) {
                    /* No memory for a compact copy: keep the original. */
                    goto keep;
                }
                q->len = q->tot_len = 0;
                if (c->rx_tail)
                    c->rx_tail->next = q;
                else
                    c->rx_head = q;
                c->rx_tail = q;
                c->rx_tail_room = COALESCE_BUF;
            }
            struct pbuf *t = c->rx_tail;
            memcpy((u8_t *)t->payload + t->len, p->payload, p->len);
            t->len = (u16_t)(t->len + p->len);
            t->tot_len = t->len;
            c->rx_tail_room -= p->len;
            c->ns->stats.tcp_rx_coalesced++;
            pbuf_free(p);
        } else {
        keep:
            if (c->rx_tail)
                c->rx_tail->next = p;
            else
                c->rx_head = p;
            c->rx_tail = p;
            c->rx_tail_room = 0;
        }
        p = next;
    }
}

/* Open the window by n bytes, keeping back what rcvbuf says to withhold. */
static void window_credit(struct itcp *c, uint32_t n)
{
    if (!c->pcb || c->pcb->state == LISTEN)
        return;
    uint32_t max = TCP_WND_MAX(c->pcb);
    uint32_t target = c->rcvbuf < max ? max - c->rcvbuf : 0;
    if (c->withheld < target) {
        uint32_t take = NB_MIN(n, target - c->withheld);
        c->withheld += take;
        n -= take;
    } else if (c->withheld > target) {
        n += c->withheld - target;
        c->withheld = target;
    }
    uint32_t credited = n;
    while (n > 0) {
        u16_t chunk = (u16_t)NB_MIN(n, 0xFFFFu);
        tcp_recved(c->pcb, chunk);
        n -= chunk;
    }
    /* lwIP announces a reopened window after TCP_WND_UPDATE_THRESHOLD
     * bytes, more than a small buffer ever holds: announce it ourselves
     * after a quarter of the buffer, or the sender stalls until its
     * persist timer. */
    if (c->rcvbuf < TCP_WND && credited) {
        c->unannounced += credited;
        if (c->unannounced >= NB_MAX(c->rcvbuf / 4, (uint32_t)TCP_MSS)) {
            c->unannounced = 0;
            tcp_ack_now(c->pcb);
            tcp_output(c->pcb);
        }
    }
}

/*
 * Withhold window so the peer may have at most rcvbuf bytes outstanding.
 * At establishment nothing beyond the SYN's unscaled window has been
 * announced yet, so the announcement shrinks with it and the bound holds
 * from the first byte. Later (setsockopt on a live connection) lwIP never
 * takes back an announced edge: data past the new window is trimmed and
 * retransmitted, as after any window change.
 */
static void window_adjust(struct itcp *c, bool establishing)
{
    struct tcp_pcb *pcb = c->pcb;
    if (!pcb || pcb->state == LISTEN)
        return;
    uint32_t max = TCP_WND_MAX(pcb);
    uint32_t target = c->rcvbuf < max ? max - c->rcvbuf : 0;
    if (c->withheld < target) {
        uint32_t take = NB_MIN(target - c->withheld, pcb->rcv_wnd);
        pcb->rcv_wnd -= take;
        c->withheld += take;
        if (establishing && pcb->rcv_ann_wnd > pcb->rcv_wnd) {
            pcb->rcv_ann_wnd = pcb->rcv_wnd;
            pcb->rcv_ann_right_edge = pcb->rcv_nxt + pcb->rcv_ann_wnd;
        }
    } else if (c->withheld > target) {
        window_credit(c, 0);
    }
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct itcp *c = arg;
    (void)err;
    if (!c) {
        if (p) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        c->fin_rcvd = true;
        wake(c);
        return ERR_OK;
    }
    if (c->local_shut & NB_SHUT_RD) {
        /* Nobody will read it: consume at once so the peer is not stalled. */
        uint32_t n = p->tot_len;
        pbuf_free(p);
        window_credit(c, n);
        return ERR_OK;
    }
    c->rx_bytes += p->tot_len;
    rx_append(c, p);
    wake(c);
    return ERR_OK;
}

static bool writable(const struct itcp *c)
{
    if (!c->pcb || c->tx_blocked)
        return false;
    uint32_t space = c->pcb->snd_buf;
    uint32_t inflight = TCP_SND_BUF - space;
    if (inflight >= c->sndbuf)
        return false;
    uint32_t lowat = NB_MIN((uint32_t)TCP_SNDLOWAT, c->sndbuf / 2);
    return NB_MIN(space, c->sndbuf - inflight) >= lowat &&
           tcp_sndqueuelen(c->pcb) < TCP_SNDQUEUELOWAT;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct itcp *c = arg;
    (void)len;
    if (!c)
        return ERR_OK;
    if (c->tx_blocked && pcb->snd_buf > 0)
        c->tx_blocked = false;
    if (writable(c))
        wake(c);
    return ERR_OK;
}

static void do_fin(struct itcp *c)
{
    if (!c->pcb || !c->fin_pending)
        return;
    err_t e = tcp_shutdown(c->pcb, 0, 1);
    if (e == ERR_OK) {
        c->fin_pending = false;
        tcp_output(c->pcb);
    }
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
    struct itcp *c = arg;
    (void)pcb;
    if (!c)
        return ERR_OK;
    if (c->fin_pending && c->state == T_CONNECTED)
        do_fin(c);
    if (c->tx_blocked) {
        c->tx_blocked = false;
        wake(c);
    }
    return ERR_OK;
}

static void apply_opts(struct itcp *c)
{
    struct tcp_pcb *pcb = c->pcb;
    if (c->nodelay)
        tcp_nagle_disable(pcb);
    else
        tcp_nagle_enable(pcb);
    if (c->keepalive)
        ip_set_option(pcb, SOF_KEEPALIVE);
    else
        ip_reset_option(pcb, SOF_KEEPALIVE);
    if (c->reuse)
        ip_set_option(pcb, SOF_REUSEADDR);
    else
        ip_reset_option(pcb, SOF_REUSEADDR);
    pcb->keep_idle = c->keepidle_ms;
    pcb->keep_intvl = c->keepintvl_ms;
    pcb->keep_cnt = c->keepcnt;
}

static void pcb_attach(struct itcp *c, struct tcp_pcb *pcb)
{
    c->pcb = pcb;
    tcp_arg(pcb, c);
    tcp_ext_arg_set(pcb, g_inet.tcp_ext_id, c);
    tcp_ext_arg_set_callbacks(pcb, g_inet.tcp_ext_id,
                              pcb->state == LISTEN ? &listen_cbs : &ext_cbs);
    if (pcb->state != LISTEN) {
        tcp_recv(pcb, on_recv);
        tcp_sent(pcb, on_sent);
        tcp_err(pcb, on_err);
        tcp_poll(pcb, on_poll, POLL_INTERVAL);
        apply_opts(c);
    }
}

static void remember_names(struct itcp *c)
{
    if (!c->pcb)
        return;
    inet_from_lwip(&c->pcb->local_ip, c->pcb->local_port, &c->local);
    if (c->pcb->state != LISTEN)
        inet_from_lwip(&c->pcb->remote_ip, c->pcb->remote_port, &c->peer);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct itcp *c = arg;
    (void)err;
    if (!c)
        return ERR_OK;
    nb_timer_cancel(&c->timer);
    c->state = T_CONNECTED;
    /* Our own connections outrank half-open ones when pcbs run short. */
    tcp_setprio(pcb, TCP_PRIO_NORMAL);
    window_adjust(c, true);
    remember_names(c);
    c->ns->stats.tcp_connects++;
    if (c->fin_pending)
        do_fin(c);
    wake(c);
    return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *npcb, err_t err)
{
    struct itcp *l = arg;
    if (npcb)
        half_open_forget(npcb); /* completed: no longer evictable */
    if (err != ERR_OK || !npcb || !l || l->state != T_LISTEN) {
        if (l)
            l->ns->stats.tcp_accept_nomem++;
        if (npcb) {
            tcp_abort(npcb);
            return ERR_ABRT;
        }
        return ERR_VAL;
    }
    struct itcp *c = itcp_new(l->ns);
    if (!c) {
        l->ns->stats.tcp_accept_nomem++;
        tcp_abort(npcb);
        return ERR_ABRT;
    }
    c->iptype = l->iptype;
    c->rcvbuf = l->rcvbuf;
    c->sndbuf = l->sndbuf;
    c->nodelay = l->nodelay;
    c->keepalive = l->keepalive;
    c->reuse = l->reuse;
    c->keepidle_ms = l->keepidle_ms;
    c->keepintvl_ms = l->keepintvl_ms;
    c->keepcnt = l->keepcnt;
    c->state = T_CONNECTED;
    pcb_attach(c, npcb);
    tcp_setprio(npcb, TCP_PRIO_NORMAL);
    window_adjust(c, true);
    remember_names(c);
    c->listener = l;
    if (l->aq_tail)
        l->aq_tail->aq_next = c;
    else
        l->aq_head = c;
    l->aq_tail = c;
    l->aq_len++;
    wake(l);
    return ERR_OK;
}

/*
 * Half-open connections (SYN_RCVD) live in one global ring of
 * HALF_OPEN_CAP, oldest evicted first, instead of lwIP's per-listener
 * backlog: each new one is taken off lwIP's count as it is born (the
 * passive_open ext-arg callback) and put here. A SYN flood can then hold at
 * most HALF_OPEN_CAP pcbs, and a real client's half-open connection
 * survives HALF_OPEN_CAP newer SYNs, longer than its ACK can wait behind
 * them in the receive queue. The user's backlog bounds only completed
 * connections waiting for accept.
 */
static struct tcp_pcb *half_open[HALF_OPEN_CAP];
static uint32_t ho_head, ho_tail; /* free-running; ring index = n % CAP */
static uint32_t ho_count;

static void half_open_destroyed(u8_t id, void *data)
{
    (void)id;
    uintptr_t slot = (uintptr_t)data - 1;
    if (slot < HALF_OPEN_CAP && half_open[slot]) {
        half_open[slot] = NULL;
        ho_count--;
    }
}

static const struct tcp_ext_arg_callbacks half_open_cbs = {.destroy = half_open_destroyed};

/* A half-open connection completed (or we abort it): not ours to evict. */
static void half_open_forget(struct tcp_pcb *pcb)
{
    if (pcb->ext_args[g_inet.tcp_ext_id].callbacks != &half_open_cbs)
        return;
    half_open_destroyed(g_inet.tcp_ext_id, tcp_ext_arg_get(pcb, g_inet.tcp_ext_id));
    tcp_ext_arg_set(pcb, g_inet.tcp_ext_id, NULL);
    tcp_ext_arg_set_callbacks(pcb, g_inet.tcp_ext_id, &no_cbs);
}

/* Drop completed or vanished entries from the old end. */
static void half_open_trim(void)
{
    while (ho_tail != ho_head && !half_open[ho_tail % HALF_OPEN_CAP])
        ho_tail++;
}

static void half_open_evict_oldest(void)
{
    half_open_trim();
    if (ho_tail == ho_head)
        return;
    struct tcp_pcb *victim = half_open[ho_tail % HALF_OPEN_CAP];
    half_open_forget(victim);
    tcp_abandon(victim, 0); /* no RST: its source is likely forged */
    if (g_inet.owner)
        g_inet.owner->stats.tcp_syn_evicted++;
    half_open_trim();
}

static err_t on_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *npcb)
{
    (void)id;
    (void)lpcb;
    tcp_backlog_accepted(npcb); /* off lwIP's per-listener count */
    half_open_trim();
    if (ho_head - ho_tail >= HALF_OPEN_CAP)
        half_open_evict_oldest();
    /* positions before ho_tail are all empty, so this slot is free */
    uint32_t slot = ho_head++ % HALF_OPEN_CAP;
    half_open[slot] = npcb;
    ho_count++;
    tcp_ext_arg_set(npcb, g_inet.tcp_ext_id, (void *)(uintptr_t)(slot + 1));
    tcp_ext_arg_set_callbacks(npcb, g_inet.tcp_ext_id, &half_open_cbs);
    return ERR_OK;
}

/*
 * SYN cookies. Past COOKIE_ABOVE half-open connections a listener answers
 * SYNs statelessly: the SYN-ACK's sequence number is a keyed hash of the
 * connection's addresses and ports, the client's ISN, a 64-second time slot
 * and an MSS class (RFC 4987, as Linux). No pcb exists until the client's
 * ACK brings the cookie back; then we build the SYN_RCVD pcb lwIP would
 * have made and hand the ACK to lwIP again (re-injected from loop work),
 * which completes the handshake its own way. So a flood costs no memory
 * and keeps lwIP's pcb lists short, and a real client still connects.
 * Cookie connections have no window scaling or SACK (not in the cookie).
 */
static const u16_t cookie_mss[4] = {536, 1220, 1440, 1460};
static uint32_t cookie_above = COOKIE_ABOVE;

void inet_tcp_set_cookie_threshold(uint32_t count)
{
    cookie_above = count;
}
static uint32_t cookie_last_slot;
static bool cookies_used;

static uint32_t cookie_slot(void)
{
    return (uint32_t)(nb_clock_ns() / NB_NS_PER_S / 64);
}

static uint32_t cookie_make(const ip_addr_t *l, const ip_addr_t *r, u16_t lport, u16_t rport,
                            u32_t client_isn, uint32_t slot, uint32_t mssidx)
{
    uint8_t b[48];
    size_t n = 0;
    bool v6 = IP_IS_V6(l);
    memcpy(b + n, v6 ? (const void *)ip_2_ip6(l)->addr : (const void *)&ip_2_ip4(l)->addr, v6 ? 16 : 4);
    n += v6 ? 16 : 4;
    memcpy(b + n, v6 ? (const void *)ip_2_ip6(r)->addr : (const void *)&ip_2_ip4(r)->addr, v6 ? 16 : 4);
    n += v6 ? 16 : 4;
    nb_put_be16(b + n, lport);
    nb_put_be16(b + n + 2, rport);
    nb_put_be32(b + n + 4, client_isn);
    b[n + 8] = (uint8_t)(slot & 0x1F);
    n += 9;
    uint32_t h = nb_lwip_cookie_hash(b, n);
    return (slot & 0x1F) << 27 | (mssidx & 7) << 24 | (h & 0xFFFFFF);
}

/* The MSS option of a SYN (0 if absent); options may be split in two. */
static u16_t syn_mss(struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len, const u8_t *opt2)
{
    const u8_t *o1 = (const u8_t *)hdr + 20;
#define OPT(i) ((i) < opt1len ? o1[i] : opt2[(i) - opt1len])
    for (u16_t i = 0; i < optlen;) {
        u8_t kind = OPT(i);
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= optlen)
            break;
        u8_t len = OPT(i + 1);
        if (len < 2 || i + len > optlen)
            break;
        if (kind == 2 && len == 4)
            return (u16_t)(OPT(i + 2) << 8 | OPT(i + 3));
        i = (u16_t)(i + len);
    }
#undef OPT
    return 0;
}

static void cookie_synack(struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len, u8_t *opt2,
                          struct inet_ns *ns)
{
    const ip_addr_t *local = ip_current_dest_addr(), *remote = ip_current_src_addr();
    u16_t mss = syn_mss(hdr, optlen, opt1len, opt2);
    if (mss == 0)
        mss = 536;
    uint32_t idx = 0;
    for (uint32_t k = 0; k < NB_ARRAY_SIZE(cookie_mss); k++)
        if (cookie_mss[k] <= mss)
            idx = k;
    uint32_t slot = cookie_slot();
    u32_t isn = cookie_make(local, remote, hdr->dest, hdr->src, hdr->seqno, slot, idx);
    struct pbuf *p = pbuf_alloc(PBUF_IP, 24, PBUF_RAM);
    if (!p)
        return;
    uint8_t *t = p->payload;
    memset(t, 0, 24);
    nb_put_be16(t, hdr->dest);
    nb_put_be16(t + 2, hdr->src);
    nb_put_be32(t + 4, isn);
    nb_put_be32(t + 8, hdr->seqno + 1);
    t[12] = 6 << 4;                       /* 24-byte header */
    t[13] = TCP_SYN | TCP_ACK;
    nb_put_be16(t + 14, (u16_t)NB_MIN(TCP_WND, 0xFFFF));
    t[20] = 2, t[21] = 4;                 /* MSS option */
    nb_put_be16(t + 22, cookie_mss[idx] < TCP_MSS ? cookie_mss[idx] : TCP_MSS);
    struct netif *nif = ip_route(local, remote);
    if (nif) {
        u16_t sum = ip_chksum_pseudo(p, IP_PROTO_TCP, p->tot_len, local, remote);
        memcpy(t + 16, &sum, 2);
        ip_output_if(p, local, remote, TCP_TTL, 0, IP_PROTO_TCP, nif);
    }
    pbuf_free(p);
    cookie_last_slot = slot;
    cookies_used = true;
    ns->stats.tcp_syn_cookies_sent++;
}

/* Segments to hand to lwIP again, once the pcb for them exists. */
#define REINJECT_MAX 32
static struct {
    struct pbuf *p;
    u8_t netif_idx;
} reinject_q[REINJECT_MAX];
static unsigned reinject_n;
static struct nb_work reinject_work;

static void reinject_run(struct nb_work *w)
{
    (void)w;
    for (unsigned i = 0; i < reinject_n; i++) {
        struct netif *n = netif_get_by_index(reinject_q[i].netif_idx);
        if (!n || ip_input(reinject_q[i].p, n) != ERR_OK)
            pbuf_free(reinject_q[i].p);
    }
    reinject_n = 0;
    inet_leave();
}

/* The current segment as the IP packet it arrived in (tcp_input turned
 * some header fields to host order in place: turn them back). */
static struct pbuf *segment_copy(struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
                                 const u8_t *opt2, struct pbuf *data)
{
    const u8_t *iph = ip_current_is_v6() ? (const u8_t *)ip6_current_header()
                                         : (const u8_t *)ip4_current_header();
    u32_t iphl = ip_current_header_tot_len();
    u32_t thl = 20u + optlen;
    u32_t total = iphl + thl + data->tot_len;
    if (!iph || total > 0xFFFF || thl > 60)
        return NULL;
    struct pbuf *q = pbuf_alloc(PBUF_RAW, (u16_t)total, PBUF_POOL);
    if (!q)
        return NULL;
    uint8_t th[60];
    memcpy(th, hdr, 20);
    memcpy(th + 20, (const u8_t *)hdr + 20, opt1len);
    if (optlen > opt1len)
        memcpy(th + 20 + opt1len, opt2, (size_t)(optlen - opt1len));
    nb_put_be16(th, hdr->src);
    nb_put_be16(th + 2, hdr->dest);
    nb_put_be32(th + 4, hdr->seqno);
    nb_put_be32(th + 8, hdr->ackno);
    nb_put_be16(th + 14, hdr->wnd);
    pbuf_take_at(q, iph, (u16_t)iphl, 0);
    pbuf_take_at(q, th, (u16_t)thl, (u16_t)iphl);
    u32_t off = iphl + thl;
    for (struct pbuf *r = data; r && r->len; r = r->next) {
        pbuf_take_at(q, r->payload, r->len, (u16_t)off);
        off += r->len;
    }
    return q;
}

/* A valid cookie came back: make the SYN_RCVD pcb lwIP would have made
 * for the SYN, and let lwIP process this ACK against it. */
static void cookie_ack(struct tcp_pcb_listen *lpcb, struct itcp *l, struct tcp_hdr *hdr,
                       u16_t optlen, u16_t opt1len, u8_t *opt2, struct pbuf *p)
{
    if (reinject_n == REINJECT_MAX)
        return; /* the client retransmits */
    u32_t cookie = hdr->ackno - 1;
    uint32_t slot = cookie >> 27, idx = (cookie >> 24) & 7;
    if (!cookies_used || ((cookie_last_slot - slot) & 0x1F) > 1 || idx >= NB_ARRAY_SIZE(cookie_mss))
        return;
    const ip_addr_t *local = ip_current_dest_addr(), *remote = ip_current_src_addr();
    if (cookie_make(local, remote, hdr->dest, hdr->src, hdr->seqno - 1, slot, idx) != cookie)
        return;
    struct pbuf *again = segment_copy(hdr, optlen, opt1len, opt2, p);
    if (!again)
        return;
    struct tcp_pcb *npcb = tcp_alloc(lpcb->prio);
    if (!npcb) {
        pbuf_free(again);
        return;
    }
    ip_addr_copy(npcb->local_ip, *local);
    ip_addr_copy(npcb->remote_ip, *remote);
    npcb->local_port = lpcb->local_port;
    npcb->remote_port = hdr->src;
    npcb->state = SYN_RCVD;
    npcb->rcv_nxt = hdr->seqno;
    npcb->rcv_ann_right_edge = npcb->rcv_nxt;
    npcb->snd_wl2 = cookie;
    npcb->snd_nxt = cookie + 1;
    npcb->lastack = cookie;
    npcb->snd_lbb = cookie + 1;
    npcb->snd_wl1 = hdr->seqno - 1; /* take the next window update */
    npcb->callback_arg = lpcb->callback_arg;
    npcb->listener = lpcb;
    npcb->so_options = lpcb->so_options & SOF_INHERITED;
    npcb->netif_idx = lpcb->netif_idx;
    npcb->mss = cookie_mss[idx] < TCP_MSS ? cookie_mss[idx] : TCP_MSS;
    npcb->mss = tcp_eff_send_mss(npcb->mss, &npcb->local_ip, &npcb->remote_ip);
    npcb->snd_wnd = hdr->wnd;
    npcb->snd_wnd_max = npcb->snd_wnd;
    TCP_REG_ACTIVE(npcb);
    on_passive_open(g_inet.tcp_ext_id, lpcb, npcb); /* into the half-open ring */
    if (!reinject_work.fn)
        nb_work_init(&reinject_work, reinject_run);
    reinject_q[reinject_n].p = again;
    reinject_q[reinject_n].netif_idx = netif_get_index(ip_current_input_netif());
    reinject_n++;
    nb_work_post(&reinject_work);
    l->ns->stats.tcp_syn_cookies_ok++;
}

/* Every TCP segment, before lwIP processes it (LWIP_HOOK_TCP_INPACKET_PCB).
 * For listeners: a full accept queue drops new SYNs (as Linux; the client
 * tries again), many half-open connections switch to SYN cookies, and a
 * returning cookie becomes a connection. */
err_t nb_lwip_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
                           u16_t opt1len, u8_t *opt2, struct pbuf *p)
{
    if (pcb->state != LISTEN)
        return ERR_OK;
    struct tcp_pcb_listen *lpcb = (struct tcp_pcb_listen *)pcb;
    struct itcp *l = lpcb->callback_arg;
    if (!l)
        return ERR_OK;
    u8_t flags = TCPH_FLAGS(hdr);
    if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
        if (l->aq_len >= (uint32_t)l->backlog) {
            l->ns->stats.tcp_syn_dropped++;
            return ERR_ABRT;
        }
        if (ho_count >= cookie_above) {
            cookie_synack(hdr, optlen, opt1len, opt2, l->ns);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_ACK && cookies_used) {
        if (l->aq_len >= (uint32_t)l->backlog)
            return ERR_ABRT; /* no room yet: the client retransmits */
        unsigned before = reinject_n;
        cookie_ack(lpcb, l, hdr, optlen, opt1len, opt2, p);
        if (reinject_n != before)
            return ERR_ABRT; /* lwIP sees it again, with its pcb */
    }
    return ERR_OK; /* lwIP answers stray ACKs with RST */
}

/* --- timers --- */

static void linger_done(struct itcp *c)
{
    /* lwIP keeps the pcb (TIME_WAIT or already gone) on its own. */
    pcb_detach(c);
    c->ns->stats.tcp_lingering_done++;
    itcp_free(c);
}

static void tcp_timer_fired(struct nb_timer *t)
{
    struct itcp *c = NB_CONTAINER_OF(t, struct itcp, timer);
    if (c->state == T_CONNECTING) {
        c->ns->stats.tcp_connect_timeouts++;
        pcb_close_quiet(c);
        c->state = T_DONE;
        c->so_error = NB_ETIMEDOUT;
        c->err = NB_ETIMEDOUT;
        wake(c);
    } else if (c->state == T_CLOSING) {
        if (c->pcb && c->pcb->state == TIME_WAIT) {
            linger_done(c);
        } else {
            c->ns->stats.tcp_close_timeouts++;
            pcb_abort(c);
            itcp_free(c);
        }
    }
    inet_leave();
}

/* Lingering (closed handle) pcbs: the peer's FIN may move them into
 * TIME_WAIT, where they need nothing from us. */
static err_t linger_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct itcp *c = arg;
    (void)err;
    if (p) {
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        return ERR_OK;
    }
    if (c && pcb->state == TIME_WAIT)
        linger_done(c);
    return ERR_OK;
}

static err_t linger_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct itcp *c = arg;
    (void)len;
    if (c && pcb->state == TIME_WAIT)
        linger_done(c);
    return ERR_OK;
}

/* --- operations --- */

static u8_t iptype_of(int family)
{
    return family == NB_AF_INET6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4;
}

static int ensure_pcb(struct itcp *c)
{
    if (c->pcb)
        return 0;
    struct tcp_pcb *pcb = tcp_new_ip_type(c->iptype);
    if (!pcb)
        return NB_ENOBUFS;
    pcb_attach(c, pcb);
    return 0;
}

int inet_tcp_create(nb_sock *s, struct inet_ns *ns)
{
    struct itcp *c = itcp_new(ns);
    if (!c)
        return NB_ENFILE;
    c->iptype = iptype_of(s->family);
    c->sock = s;
    s->priv = c;
    int rc = ensure_pcb(c);
    if (rc) {
        c->sock = NULL;
        s->priv = NULL;
        itcp_free(c);
        return rc;
    }
    return 0;
}

static bool family_ok(const struct itcp *c, const struct nb_addr *a)
{
    return (a->family == NB_AF_INET && c->iptype == IPADDR_TYPE_V4) ||
           (a->family == NB_AF_INET6 && c->iptype == IPADDR_TYPE_V6);
}

/* Is a the address of one of our interfaces (or unspecified)? */
static bool local_address(const ip_addr_t *ip)
{
    if (ip_addr_isany(ip))
        return true;
    struct netif *n;
    NETIF_FOREACH(n) {
        if (IP_IS_V4(ip)) {
            if (ip4_addr_cmp(ip_2_ip4(ip), netif_ip4_addr(n)))
                return true;
            if (ip4_addr_isloopback(ip_2_ip4(ip)))
                return true;
        } else {
            if (netif_get_ip6_addr_match(n, ip_2_ip6(ip)) >= 0)
                return true;
        }
    }
    return false;
}

static int tcp_op_bind(nb_sock *s, const struct nb_addr *a)
{
    struct itcp *c = TC(s);
    if (!family_ok(c, a))
        return NB_EAFNOSUPPORT;
    if (c->state != T_NEW || a->port > 0xFFFF)
        return NB_EINVAL;
    int rc = ensure_pcb(c);
    if (rc)
        return rc;
    ip_addr_t ip;
    inet_to_lwip(a, &ip);
    if (!local_address(&ip))
        return NB_EADDRNOTAVAIL;
    apply_opts(c);
    err_t e = tcp_bind(c->pcb, &ip, (u16_t)a->port);
    if (e != ERR_OK)
        return inet_err(e);
    c->state = T_BOUND;
    remember_names(c);
    return 0;
}

static int tcp_op_listen(nb_sock *s, int backlog)
{
    struct itcp *c = TC(s);
    if (backlog < 0)
        backlog = BACKLOG_DEFAULT;
    if (backlog == 0)
        backlog = 1;
    if (backlog > BACKLOG_MAX)
        backlog = BACKLOG_MAX;
    if (c->state == T_LISTEN) {
        c->backlog = backlog;
        return 0;
    }
    if (c->state == T_NEW) {
        /* Linux binds an unbound socket to a free port. */
        struct nb_addr any;
        memset(&any, 0, sizeof any);
        any.family = c->iptype == IPADDR_TYPE_V6 ? NB_AF_INET6 : NB_AF_INET;
        int rc = tcp_op_bind(s, &any);
        if (rc)
            return rc;
    }
    if (c->state != T_BOUND || !c->pcb)
        return NB_EINVAL;
    /* lwIP frees the old pcb and copies its ext args: detach first so its
     * destroy callback does not report our socket gone. */
    struct tcp_pcb *old = c->pcb;
    tcp_ext_arg_set_callbacks(old, g_inet.tcp_ext_id, &no_cbs);
    tcp_ext_arg_set(old, g_inet.tcp_ext_id, NULL);
    err_t e = ERR_OK;
    /* lwIP's backlog never fills: half-open connections leave its count
     * as they are born (on_passive_open), accepted ones are ours. */
    struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(old, TCP_DEFAULT_LISTEN_BACKLOG, &e);
    if (!lpcb) {
        tcp_ext_arg_set(old, g_inet.tcp_ext_id, c);
        tcp_ext_arg_set_callbacks(old, g_inet.tcp_ext_id, &ext_cbs);
        return inet_err(e);
    }
    c->pcb = NULL;
    pcb_attach(c, lpcb);
    /* Half-open children inherit this: ours outrank them for pcbs. */
    tcp_setprio(lpcb, TCP_PRIO_MIN);
    tcp_accept(lpcb, on_accept);
    c->backlog = backlog;
    c->state = T_LISTEN;
    return 0;
}

static int tcp_op_accept(nb_sock *s, nb_sock **out, struct nb_addr *peer)
{
    struct itcp *l = TC(s);
    if (l->state != T_LISTEN)
        return NB_EINVAL;
    struct itcp *c = l->aq_head;
    if (!c)
        return NB_EAGAIN;
    nb_sock *ns = nb_sock_new(s->st, s->fam, s->family, NB_SOCK_STREAM);
    if (!ns)
        return NB_ENOMEM;
    aq_remove(l, c);
    c->sock = ns;
    ns->priv = c;
    if (peer)
        *peer = c->peer;
    l->ns->stats.tcp_accepts++;
    *out = ns;
    return 0;
}

static int tcp_op_connect(nb_sock *s, const struct nb_addr *a)
{
    struct itcp *c = TC(s);
    if (!family_ok(c, a))
        return NB_EAFNOSUPPORT;
    switch (c->state) {
    case T_CONNECTING: return NB_EALREADY;
    case T_CONNECTED: return NB_EISCONN;
    case T_LISTEN: return NB_EINVAL;
    case T_DONE:
        if (c->err && c->err != NB_ECONNREFUSED && c->err != NB_ETIMEDOUT)
            return NB_EISCONN;
        c->state = T_NEW; /* a failed connect may be retried */
        c->err = 0;
        c->so_error = 0;
        c->err_told = false;
        c->fin_rcvd = false;
        break;
    default:
        break;
    }
    if (a->port == 0 || a->port > 0xFFFF)
        return NB_EINVAL;
    int rc = ensure_pcb(c);
    if (rc)
        return rc;
    ip_addr_t ip;
    inet_to_lwip(a, &ip);
    if (ip_addr_isany(&ip))
        return NB_EINVAL;
    apply_opts(c);
    err_t e = tcp_connect(c->pcb, &ip, (u16_t)a->port, on_connected);
    if (e != ERR_OK)
        return inet_err(e);
    c->state = T_CONNECTING;
    c->peer = *a;
    remember_names(c);
    nb_timer_arm_in(&c->timer, c->connect_timeout_ns);
    return NB_EINPROGRESS;
}

static bool send_shut(const struct itcp *c)
{
    return (c->local_shut & NB_SHUT_WR) != 0;
}

/*
 * lwIP 2.1.3's tcp_write sizes segments by min(mss, largest window seen / 2)
 * and asserts that the last queued segment fits that size. A peer that
 * opens with a zero window and then offers a tiny one shrinks it below a
 * segment already queued: tcp_write would trap on the assertion (and,
 * built without assertions, underflow a length). Found by fuzz_inet. We
 * do not call tcp_write then; the queued segment goes out as the window
 * allows, and writing resumes.
 */
static bool write_would_trip_lwip(const struct tcp_pcb *pcb)
{
    if (!pcb->unsent || pcb->snd_wnd_max / 2 >= pcb->mss)
        return false;
    u16_t mss_local = LWIP_MIN(pcb->mss, TCPWND_MIN16(pcb->snd_wnd_max / 2));
    if (!mss_local)
        mss_local = pcb->mss;
    const struct tcp_seg *last = pcb->unsent;
    while (last->next)
        last = last->next;
    /* (tcp_out.c: LWIP_TCP_OPT_LENGTH_SEGMENT, without the hook we do not set) */
    return mss_local < last->len + LWIP_TCP_OPT_LENGTH(last->flags);
}

static long tcp_op_send(nb_sock *s, const void *buf, size_t len, int flags,
                        const struct nb_addr *to)
{
    struct itcp *c = TC(s);
    (void)flags;
    (void)to; /* ignored on a connected stream, as Linux does */
    if (c->state == T_CONNECTING)
        return NB_EAGAIN;
    if (c->state == T_DONE) {
        if (c->err && !c->err_told) {
            c->err_told = true;
            return c->err;
        }
        return NB_EPIPE;
    }
    if (c->state != T_CONNECTED)
        return NB_ENOTCONN;
    if (send_shut(c))
        return NB_EPIPE;
    if (!c->pcb)
        return NB_EPIPE;
    if (len == 0)
        return 0;
    size_t done = 0;
    while (done < len) {
        uint32_t space = c->pcb->snd_buf;
        uint32_t inflight = TCP_SND_BUF - space;
        uint32_t room = inflight >= c->sndbuf ? 0 : NB_MIN(space, c->sndbuf - inflight);
        if (room == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 2 ||
            write_would_trip_lwip(c->pcb))
            break;
        size_t n = NB_MIN(len - done, (size_t)room);
        if (n > 0xFFFF)
            n = 0xFFFF;
        u8_t wflags = TCP_WRITE_FLAG_COPY;
        if (done + n < len)
            wflags |= TCP_WRITE_FLAG_MORE;
        err_t e = tcp_write(c->pcb, (const char *)buf + done, (u16_t)n, wflags);
        if (e == ERR_MEM) {
            if (done == 0)
                c->tx_blocked = true;
            break;
        }
        if (e != ERR_OK) {
            if (done)
                break;
            return inet_err(e);
        }
        done += n;
    }
    if (done == 0) {
        /* Not writable until acks (on_sent) or lwIP's poll say so, which
         * keeps nb_poll and send in agreement. */
        c->tx_blocked = true;
        tcp_output(c->pcb);
        return NB_EAGAIN;
    }
    tcp_output(c->pcb);
    return (long)done;
}

static long tcp_op_recv(nb_sock *s, void *buf, size_t len, int flags,
                        struct nb_addr *from)
{
    struct itcp *c = TC(s);
    if (from)
        *from = c->peer;
    if (c->state == T_CONNECTING)
        return NB_EAGAIN;
    if (c->state != T_CONNECTED && c->state != T_DONE)
        return NB_ENOTCONN;
    if (c->local_shut & NB_SHUT_RD)
        return 0;
    if (c->rx_bytes == 0) {
        if (c->state == T_DONE && c->err && !c->err_told) {
            c->err_told = true;
            c->so_error = 0;
            return c->err;
        }
        if (c->fin_rcvd || c->state == T_DONE)
            return 0;
        return NB_EAGAIN;
    }
    if (len == 0)
        return 0;
    bool peek = (flags & NB_MSG_PEEK) != 0;
    size_t done = 0;
    struct pbuf *p = c->rx_head;
    while (p && done < len) {
        size_t n = NB_MIN((size_t)p->len, len - done);
        memcpy((u8_t *)buf + done, p->payload, n);
        done += n;
        if (peek) {
            p = p->next;
            continue;
        }
        if (n == p->len) {
            struct pbuf *next = p->next;
            p->next = NULL;
            if (p == c->rx_tail) {
                c->rx_tail = NULL;
                c->rx_tail_room = 0;
            }
            pbuf_free(p);
            c->rx_head = next;
            p = next;
        } else {
            /* Partially read: move the payload start (the buffer stays). */
            p->payload = (u8_t *)p->payload + n;
            p->len = (u16_t)(p->len - n);
            p->tot_len = p->len;
        }
    }
    if (!peek) {
        c->rx_bytes -= (uint32_t)done;
        window_credit(c, (uint32_t)done);
    }
    return (long)done;
}

static uint32_t tcp_op_poll(nb_sock *s)
{
    struct itcp *c = TC(s);
    uint32_t m = 0;
    if (c->so_error)
        m |= NB_POLLERR;
    switch (c->state) {
    case T_LISTEN:
        if (c->aq_len)
            m |= NB_POLLIN;
        break;
    case T_CONNECTED:
        if (c->rx_bytes || (c->local_shut & NB_SHUT_RD))
            m |= NB_POLLIN;
        if (c->fin_rcvd)
            m |= NB_POLLIN | NB_POLLRDHUP;
        if (send_shut(c) || writable(c))
            m |= NB_POLLOUT;
        if (c->local_shut == NB_SHUT_RDWR || (c->fin_rcvd && send_shut(c)))
            m |= NB_POLLHUP;
        break;
    case T_DONE:
        m |= NB_POLLIN | NB_POLLRDHUP | NB_POLLHUP | NB_POLLOUT;
        if (c->err)
            m |= NB_POLLERR;
        break;
    default:
        break;
    }
    return m;
}

static int tcp_op_shutdown(nb_sock *s, int how)
{
    struct itcp *c = TC(s);
    if (c->state != T_CONNECTED && c->state != T_DONE && c->state != T_CONNECTING)
        return NB_ENOTCONN;
    uint8_t newly = (uint8_t)(how & ~c->local_shut);
    c->local_shut |= (uint8_t)how;
    if ((newly & NB_SHUT_RD) && c->rx_bytes) {
        uint32_t n = c->rx_bytes;
        rx_purge(c);
        window_credit(c, n);
    }
    if ((newly & NB_SHUT_WR) && c->state != T_DONE) {
        c->fin_pending = true;
        if (c->state == T_CONNECTED)
            do_fin(c);
    }
    wake(c);
    return 0;
}

static void listener_close(struct itcp *l)
{
    while (l->aq_head) {
        struct itcp *c = l->aq_head;
        aq_remove(l, c);
        /* Never accepted: reset, as Linux does. */
        pcb_abort(c);
        itcp_free(c);
    }
}

static void tcp_op_close(nb_sock *s)
{
    struct itcp *c = TC(s);
    c->sock = NULL;
    s->priv = NULL;
    switch (c->state) {
    case T_LISTEN:
        listener_close(c);
        pcb_close_quiet(c);
        itcp_free(c);
        return;
    case T_CONNECTED:
        if (!c->pcb)
            break;
        if (c->rx_bytes) {
            c->ns->stats.tcp_closed_unread++;
            pcb_abort(c);
            break;
        }
        {
            struct tcp_pcb *pcb = c->pcb;
            /* Give back the withheld window: lwIP resets a connection
             * closed with "unread" data. */
            uint32_t give = c->withheld;
            c->withheld = 0;
            c->rcvbuf = TCP_WND;
            while (give) {
                u16_t chunk = (u16_t)NB_MIN(give, 0xFFFFu);
                tcp_recved(pcb, chunk);
                give -= chunk;
            }
            tcp_recv(pcb, linger_recv);
            tcp_sent(pcb, linger_sent);
            tcp_err(pcb, NULL);   /* the destroy callback frees us instead */
            tcp_poll(pcb, NULL, 0);
            c->state = T_CLOSING;
            if (pcb->state == TIME_WAIT) {
                linger_done(c);
                return;
            }
            nb_timer_arm_in(&c->timer, CLOSE_TIMEOUT);
            if (tcp_close(pcb) != ERR_OK) {
                pcb_abort(c);
                itcp_free(c);
                return;
            }
            /* tcp_close may already have freed it (pcb_destroyed ran). */
            return;
        }
    default:
        pcb_close_quiet(c);
        break;
    }
    itcp_free(c);
}

static int tcp_op_setopt(nb_sock *s, int opt, int64_t v)
{
    struct itcp *c = TC(s);
    bool live = c->pcb && c->pcb->state != LISTEN;
    switch (opt) {
    case NB_SO_RCVBUF:
        if (v < 1)
            return NB_EINVAL;
        c->rcvbuf = (uint32_t)NB_MAX(NB_MIN(v, (int64_t)TCP_WND), (int64_t)RCVBUF_MIN);
        if (live && c->state == T_CONNECTED)
            window_adjust(c, false);
        return 0;
    case NB_SO_SNDBUF:
        if (v < 1)
            return NB_EINVAL;
        c->sndbuf = (uint32_t)NB_MAX(NB_MIN(v, (int64_t)TCP_SND_BUF), (int64_t)SNDBUF_MIN);
        return 0;
    case NB_SO_REUSEADDR:
        c->reuse = v != 0;
        break;
    case NB_SO_KEEPALIVE:
        c->keepalive = v != 0;
        break;
    case NB_TCP_NODELAY:
        c->nodelay = v != 0;
        break;
    case NB_TCP_KEEPIDLE:
    case NB_TCP_KEEPINTVL:
        if (v < (int64_t)NB_NS_PER_MS || v > (int64_t)(UINT32_MAX * NB_NS_PER_MS))
            return NB_EINVAL;
        if (opt == NB_TCP_KEEPIDLE)
            c->keepidle_ms = (uint32_t)(v / (int64_t)NB_NS_PER_MS);
        else
            c->keepintvl_ms = (uint32_t)(v / (int64_t)NB_NS_PER_MS);
        break;
    case NB_TCP_KEEPCNT:
        if (v < 1 || v > 255)
            return NB_EINVAL;
        c->keepcnt = (uint32_t)v;
        break;
    case NB_SO_CONNECT_TIMEOUT:
        if (v <= 0)
            return NB_EINVAL;
        c->connect_timeout_ns = (uint64_t)v;
        return 0;
    default:
        return NB_ENOPROTOOPT;
    }
    if (c->pcb) {
        if (c->pcb->state == LISTEN) {
            if (c->reuse)
                ip_set_option(c->pcb, SOF_REUSEADDR);
            else
                ip_reset_option(c->pcb, SOF_REUSEADDR);
        } else {
            apply_opts(c);
            if (opt == NB_TCP_NODELAY && c->nodelay && c->state == T_CONNECTED)
                tcp_output(c->pcb);
        }
    }
    return 0;
}

static int tcp_op_getopt(nb_sock *s, int opt, int64_t *v)
{
    struct itcp *c = TC(s);
    switch (opt) {
    case NB_SO_RCVBUF: *v = c->rcvbuf; return 0;
    case NB_SO_SNDBUF: *v = c->sndbuf; return 0;
    case NB_SO_REUSEADDR: *v = c->reuse; return 0;
    case NB_SO_KEEPALIVE: *v = c->keepalive; return 0;
    case NB_TCP_NODELAY: *v = c->nodelay; return 0;
    case NB_TCP_KEEPIDLE: *v = (int64_t)c->keepidle_ms * (int64_t)NB_NS_PER_MS; return 0;
    case NB_TCP_KEEPINTVL: *v = (int64_t)c->keepintvl_ms * (int64_t)NB_NS_PER_MS; return 0;
    case NB_TCP_KEEPCNT: *v = c->keepcnt; return 0;
    case NB_SO_CONNECT_TIMEOUT: *v = (int64_t)c->connect_timeout_ns; return 0;
    case NB_SO_NREAD: *v = c->rx_bytes; return 0;
    case NB_SO_ERROR:
        *v = c->so_error;
        c->so_error = 0;
        return 0;
    default:
        return NB_ENOPROTOOPT;
    }
}

static int tcp_op_getname(nb_sock *s, struct nb_addr *out, bool peer)
{
    struct itcp *c = TC(s);
    if (c->pcb)
        remember_names(c);
    if (peer) {
        if (c->state != T_CONNECTED && !(c->state == T_DONE && c->peer.family))
            return NB_ENOTCONN;
        *out = c->peer;
        return 0;
    }
    if (c->local.family) {
        *out = c->local;
    } else {
        memset(out, 0, sizeof *out);
        out->family = c->iptype == IPADDR_TYPE_V6 ? NB_AF_INET6 : NB_AF_INET;
    }
    return 0;
}

static void tcp_op_describe(nb_sock *s, char *buf, size_t len)
{
    struct itcp *c = TC(s);
    char la[64], pa[64];
    nb_addr_format(&c->local, la, sizeof la);
    if (c->state == T_LISTEN) {
        snprintf(buf, len, "LISTEN %s backlog %u/%d", la, (unsigned)c->aq_len, c->backlog);
        return;
    }
    nb_addr_format(&c->peer, pa, sizeof pa);
    snprintf(buf, len, "%s %s -> %s %s rx %u/%u unacked %u",
             tstate_names[c->state], la, pa,
             c->pcb ? tcp_debug_state_str(c->pcb->state) : "-",
             (unsigned)c->rx_bytes, (unsigned)c->rcvbuf,
             c->pcb && c->pcb->state != LISTEN ? (unsigned)(TCP_SND_BUF - c->pcb->snd_buf) : 0u);
}

void inet_tcp_describe_pcbs(nb_print_fn print, void *arg)
{
    unsigned by_state[11] = {0};
    unsigned tw = 0, listen = 0, bound = 0;
    for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
        if ((unsigned)p->state < NB_ARRAY_SIZE(by_state))
            by_state[p->state]++;
    for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
        tw++;
    for (struct tcp_pcb_listen *p = tcp_listen_pcbs.listen_pcbs; p; p = p->next)
        listen++;
    for (struct tcp_pcb *p = tcp_bound_pcbs; p; p = p->next)
        bound++;
    nb_printf(print, arg,
              "   tcp pcbs: listen=%u bound=%u syn_sent=%u syn_rcvd=%u established=%u "
              "fin_wait=%u close_wait=%u closing=%u last_ack=%u time_wait=%u (half-open ring %u/%u)",
              listen, bound, by_state[SYN_SENT], by_state[SYN_RCVD], by_state[ESTABLISHED],
              by_state[FIN_WAIT_1] + by_state[FIN_WAIT_2], by_state[CLOSE_WAIT],
              by_state[CLOSING], by_state[LAST_ACK], tw, (unsigned)ho_count, HALF_OPEN_CAP);
}

void inet_tcp_fini(struct inet_ns *ns)
{
    /* Sockets were closed by nb_stack_free; what remains lingers. */
    while (ns->tcps) {
        struct itcp *c = ns->tcps;
        if (c->listener)
            aq_remove(c->listener, c);
        if (c->state == T_CLOSING || c->state == T_CONNECTED)
            pcb_abort(c);
        else
            pcb_close_quiet(c);
        if (c->sock)
            c->sock->priv = NULL;
        itcp_free(c);
    }
}

const struct nb_family inet_tcp_ops = {
    .name = "tcp",
    .bind = tcp_op_bind,
    .listen = tcp_op_listen,
    .accept = tcp_op_accept,
    .connect = tcp_op_connect,
    .send = tcp_op_send,
    .recv = tcp_op_recv,
    .poll = tcp_op_poll,
    .shutdown = tcp_op_shutdown,
    .close = tcp_op_close,
    .setopt = tcp_op_setopt,
    .getopt = tcp_op_getopt,
    .getname = tcp_op_getname,
    .describe = tcp_op_describe,
};
