/*
 * The inet family: IPv4 and IPv6 sockets (TCP, UDP) over lwIP 2.1.3's raw
 * API, registered with the socket layer like vsock.
 *
 * This file is the glue: it binds lwIP to one NeoBoot stack (lwIP is
 * process-global), drives lwIP's timeouts from one nb_timer armed at
 * sys_timeouts_sleeptime() (never a periodic poll), delivers loopback
 * packets from loop work, converts addresses and errors, dispatches socket
 * operations to tcp.c and udp.c by socket type, and prints lwIP's counters
 * for `stats`. Interfaces are in netif.c; DHCP, DNS, ping and
 * configuration in their own files.
 */
#include "inet_priv.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(inet);

struct inet_global g_inet;
static struct nb_family inet_family;

/* --- timers and loopback --- */

static void inet_timer_fired(struct nb_timer *t)
{
    (void)t;
    sys_check_timeouts();
    inet_leave();
}

static void inet_loop_work(struct nb_work *w)
{
    (void)w;
    netif_poll_all();
    inet_leave();
}

void inet_leave(void)
{
    if (!g_inet.lwip_ready)
        return;
    struct netif *n;
    NETIF_FOREACH(n) {
        if (n->loop_first) {
            nb_work_post(&g_inet.loop_work);
            break;
        }
    }
    u32_t ms = sys_timeouts_sleeptime();
    if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
        nb_timer_cancel(&g_inet.timer);
        return;
    }
    uint64_t deadline = nb_clock_ns() + (uint64_t)ms * NB_NS_PER_MS;
    /* lwIP counts in milliseconds: moving the timer by less is churn. */
    if (nb_timer_armed(&g_inet.timer)) {
        uint64_t cur = g_inet.timer.deadline;
        uint64_t diff = cur > deadline ? cur - deadline : deadline - cur;
        if (diff < NB_NS_PER_MS)
            return;
    }
    nb_timer_arm(&g_inet.timer, deadline);
}

static void inet_lwip_init(void)
{
    if (g_inet.lwip_ready)
        return;
    lwip_init();
    g_inet.tcp_ext_id = tcp_ext_arg_alloc_id();
    nb_timer_init(&g_inet.timer, inet_timer_fired);
    nb_work_init(&g_inet.loop_work, inet_loop_work);
    g_inet.lwip_ready = true;
    NB_DEBUG("lwIP %s initialised", LWIP_VERSION_STRING);
}

int inet_claim(struct inet_ns *ns, const char *why)
{
    if (g_inet.owner == ns)
        return 0;
    if (g_inet.owner) {
        NB_WARN("stack %s: %s refused: lwIP (inet) belongs to stack %s "
                "(one inet stack per process)",
                nb_stack_name(ns->st), why, nb_stack_name(g_inet.owner->st));
        return NB_EBUSY;
    }
    inet_lwip_init();
    g_inet.owner = ns;
    NB_DEBUG("stack %s owns inet", nb_stack_name(ns->st));
    return 0;
}

struct inet_ns *inet_ns_of(struct nb_stack *st)
{
    if (!st)
        return NULL;
    return nb_stack_family_state(st, &inet_family);
}

/* --- conversions --- */

int inet_err(int e)
{
    switch (e) {
    case ERR_OK: return 0;
    case ERR_MEM: return NB_ENOBUFS;
    case ERR_BUF: return NB_ENOBUFS;
    case ERR_TIMEOUT: return NB_ETIMEDOUT;
    case ERR_RTE: return NB_ENETUNREACH;
    case ERR_INPROGRESS: return NB_EINPROGRESS;
    case ERR_VAL: return NB_EINVAL;
    case ERR_WOULDBLOCK: return NB_EAGAIN;
    case ERR_USE: return NB_EADDRINUSE;
    case ERR_ALREADY: return NB_EALREADY;
    case ERR_ISCONN: return NB_EISCONN;
    case ERR_CONN: return NB_ENOTCONN;
    case ERR_IF: return NB_ENETDOWN;
    case ERR_ABRT: return NB_ECONNABORTED;
    case ERR_RST: return NB_ECONNRESET;
    case ERR_CLSD: return NB_ENOTCONN;
    case ERR_ARG: return NB_EINVAL;
    default: return NB_EIO;
    }
}

void inet_to_lwip(const struct nb_addr *a, ip_addr_t *ip)
{
    if (a->family == NB_AF_INET) {
        IP_ADDR4(ip, a->u.ip4[0], a->u.ip4[1], a->u.ip4[2], a->u.ip4[3]);
        return;
    }
    ip6_addr_t *v6 = ip_2_ip6(ip);
    memcpy(v6->addr, a->u.ip6, 16);
    IP_SET_TYPE(ip, IPADDR_TYPE_V6);
    ip6_addr_clear_zone(v6);
    if (ip6_addr_has_scope(v6, IP6_UNKNOWN)) {
        if (a->scope_id) {
            ip6_addr_set_zone(v6, (u8_t)a->scope_id);
        } else {
            /* No scope given: the default interface, as most users mean. */
            struct inet_if *ii = inet_default_if();
            if (ii)
                ip6_addr_set_zone(v6, netif_get_index(&ii->nif));
        }
    }
}

void inet_from_lwip(const ip_addr_t *ip, uint16_t port, struct nb_addr *a)
{
    memset(a, 0, sizeof *a);
    a->port = port;
    if (IP_IS_V4(ip)) {
        a->family = NB_AF_INET;
        memcpy(a->u.ip4, &ip_2_ip4(ip)->addr, 4);
    } else {
        const ip6_addr_t *v6 = ip_2_ip6(ip);
        a->family = NB_AF_INET6;
        memcpy(a->u.ip6, v6->addr, 16);
        if (ip6_addr_has_zone(v6))
            a->scope_id = ip6_addr_zone(v6);
    }
}

struct inet_if *inet_if_of(struct nb_iface *ifc)
{
    if (!ifc || !g_inet.owner || ifc->stack != g_inet.owner->st ||
        ifc->link != NB_LINK_ETHERNET)
        return NULL;
    return ifc->proto;
}

struct inet_if *inet_default_if(void)
{
    if (!g_inet.owner)
        return NULL;
    for (struct inet_if *ii = g_inet.owner->ifs; ii; ii = ii->next)
        if (netif_default == &ii->nif)
            return ii;
    return g_inet.owner->ifs;
}

/* --- socket operations: dispatch by type --- */

static const struct nb_family *ops(nb_sock *s)
{
    return s->type == NB_SOCK_STREAM ? &inet_tcp_ops : &inet_udp_ops;
}

static int inet_create(nb_sock *s)
{
    struct inet_ns *ns = inet_ns_of(s->st);
    if (s->type != NB_SOCK_STREAM && s->type != NB_SOCK_DGRAM)
        return NB_EPROTONOSUPPORT;
    if (inet_claim(ns, "inet socket") != 0)
        return NB_EAFNOSUPPORT;
    int rc = s->type == NB_SOCK_STREAM ? inet_tcp_create(s, ns) : inet_udp_create(s, ns);
    inet_leave();
    return rc;
}

#define DISPATCH(ret, name, params, args)                     \
    static ret inet_##name params                             \
    {                                                         \
        const struct nb_family *f = ops(s);                   \
        if (!f->name)                                         \
            return NB_ENOTSUP;                                \
        ret r = f->name args;                                 \
        inet_leave();                                         \
        return r;                                             \
    }

DISPATCH(int, bind, (nb_sock *s, const struct nb_addr *a), (s, a))
DISPATCH(int, listen, (nb_sock *s, int backlog), (s, backlog))
DISPATCH(int, accept, (nb_sock *s, nb_sock **out, struct nb_addr *peer), (s, out, peer))
DISPATCH(int, connect, (nb_sock *s, const struct nb_addr *a), (s, a))
DISPATCH(long, send, (nb_sock *s, const void *buf, size_t len, int flags, const struct nb_addr *to),
         (s, buf, len, flags, to))
DISPATCH(long, recv, (nb_sock *s, void *buf, size_t len, int flags, struct nb_addr *from),
         (s, buf, len, flags, from))
DISPATCH(int, shutdown, (nb_sock *s, int how), (s, how))
DISPATCH(int, setopt, (nb_sock *s, int opt, int64_t v), (s, opt, v))
DISPATCH(int, getopt, (nb_sock *s, int opt, int64_t *v), (s, opt, v))
DISPATCH(int, getname, (nb_sock *s, struct nb_addr *out, bool peer), (s, out, peer))

static uint32_t inet_poll(nb_sock *s)
{
    return ops(s)->poll(s);
}

static void inet_close(nb_sock *s)
{
    ops(s)->close(s);
    inet_leave();
}

static void inet_describe(nb_sock *s, char *buf, size_t len)
{
    ops(s)->describe(s, buf, len);
}

/* --- statistics --- */

static const char *const memp_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

struct line {
    char buf[200];
    size_t o;
    nb_print_fn print;
    void *arg;
};

static void line_add(struct line *l, const char *name, uint64_t v)
{
    if (!v)
        return;
    char item[64];
    int n = snprintf(item, sizeof item, " %s=%llu", name, (unsigned long long)v);
    if (n <= 0)
        return;
    if (l->o + (size_t)n >= sizeof l->buf - 4) {
        l->buf[l->o] = 0;
        nb_printf(l->print, l->arg, "   %s", l->buf);
        l->o = 0;
    }
    memcpy(l->buf + l->o, item, (size_t)n + 1);
    l->o += (size_t)n;
}

static void line_flush(struct line *l, const char *prefix)
{
    if (l->o)
        nb_printf(l->print, l->arg, "   %s%s", prefix, l->buf);
    l->o = 0;
}

static void print_proto(struct line *l, const char *name, const struct stats_proto *p)
{
    if (!p->xmit && !p->recv && !p->drop && !p->err)
        return;
    line_add(l, "xmit", p->xmit);
    line_add(l, "recv", p->recv);
    line_add(l, "fw", p->fw);
    line_add(l, "drop", p->drop);
    line_add(l, "chkerr", p->chkerr);
    line_add(l, "lenerr", p->lenerr);
    line_add(l, "memerr", p->memerr);
    line_add(l, "rterr", p->rterr);
    line_add(l, "proterr", p->proterr);
    line_add(l, "opterr", p->opterr);
    line_add(l, "err", p->err);
    char prefix[24];
    snprintf(prefix, sizeof prefix, "%s:", name);
    line_flush(l, prefix);
}

#define FSTAT(name) {#name, offsetof(struct inet_stats, name)}

static void inet_print_stats(struct nb_stack *st, void *state, nb_print_fn print,
                             void *arg)
{
    struct inet_ns *ns = state;
    (void)st;
    if (g_inet.owner != ns)
        return;
    nb_printf(print, arg, "  inet: lwIP %s", LWIP_VERSION_STRING);
    struct line l = {.print = print, .arg = arg};
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        FSTAT(tcp_connects), FSTAT(tcp_accepts), FSTAT(tcp_resets), FSTAT(tcp_aborts),
        FSTAT(tcp_connect_timeouts), FSTAT(tcp_close_timeouts), FSTAT(tcp_closed_unread),
        FSTAT(tcp_lingering_done), FSTAT(tcp_syn_evicted), FSTAT(tcp_syn_dropped),
        FSTAT(tcp_syn_cookies_sent), FSTAT(tcp_syn_cookies_ok),
        FSTAT(tcp_accept_nomem), FSTAT(tcp_rx_coalesced), FSTAT(udp_rx), FSTAT(udp_rx_dropped),
        FSTAT(udp_rx_truncated), FSTAT(udp_tx), FSTAT(udp_tx_errors), FSTAT(rx_nobuf),
        FSTAT(tx_nomem), FSTAT(tx_queued), FSTAT(tx_queue_dropped),
    };
    for (size_t i = 0; i < NB_ARRAY_SIZE(fields); i++)
        line_add(&l, fields[i].name, *(const uint64_t *)((const char *)&ns->stats + fields[i].off));
    line_flush(&l, "family:");

    print_proto(&l, "link", &lwip_stats.link);
    print_proto(&l, "etharp", &lwip_stats.etharp);
    print_proto(&l, "ip4", &lwip_stats.ip);
    print_proto(&l, "ip4frag", &lwip_stats.ip_frag);
    print_proto(&l, "icmp", &lwip_stats.icmp);
    print_proto(&l, "udp", &lwip_stats.udp);
    print_proto(&l, "tcp", &lwip_stats.tcp);
    print_proto(&l, "ip6", &lwip_stats.ip6);
    print_proto(&l, "ip6frag", &lwip_stats.ip6_frag);
    print_proto(&l, "icmp6", &lwip_stats.icmp6);
    print_proto(&l, "nd6", &lwip_stats.nd6);


    /* Pools: used now / peak / size, and allocation failures. */
    nb_printf(print, arg, "   pools (used/peak/size, failures):");
    for (int i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        if (!m || (!m->max && !m->err))
            continue;
        char item[80];
        int n = snprintf(item, sizeof item, " %s=%u/%u/%u", memp_names[i],
                         (unsigned)m->used, (unsigned)m->max, (unsigned)m->avail);
        if (m->err && n > 0 && (size_t)n < sizeof item)
            snprintf(item + n, sizeof item - (size_t)n, ",fail=%u", (unsigned)m->err);
        if (l.o + strlen(item) >= sizeof l.buf - 4)
            line_flush(&l, "");
        memcpy(l.buf + l.o, item, strlen(item) + 1);
        l.o += strlen(item);
    }
    line_flush(&l, "");
    nb_printf(print, arg, "   heap: used %u peak %u failures %u",
              (unsigned)lwip_stats.mem.used, (unsigned)lwip_stats.mem.max,
              (unsigned)lwip_stats.mem.err);
    inet_tcp_describe_pcbs(print, arg);
}

/* --- stack plumbing --- */

static int inet_stack_init(struct nb_stack *st, void **state)
{
    struct inet_ns *ns = calloc(1, sizeof *ns);
    if (!ns)
        return NB_ENOMEM;
    ns->st = st;
    *state = ns;
    return 0;
}

static void inet_stack_fini(struct nb_stack *st, void *state)
{
    struct inet_ns *ns = state;
    (void)st;
    if (g_inet.owner == ns) {
        while (ns->ifs)
            inet_if_detach(ns, ns->ifs->ifc);
        inet_tcp_fini(ns);
        inet_udp_fini(ns);
        inet_dns_fini();
        inet_ping_fini();
        g_inet.owner = NULL;
        g_inet.dns_manual = false;
        inet_leave();
        NB_DEBUG("stack %s released inet", nb_stack_name(ns->st));
    }
    free(ns);
}

static int inet_attach(struct nb_stack *st, void *state, struct nb_iface *ifc)
{
    struct inet_ns *ns = state;
    (void)st;
    if (inet_claim(ns, "attaching Ethernet interface") != 0) {
        NB_ERROR("%s: cannot attach to stack %s: the inet family (lwIP) already "
                 "serves stack %s",
                 ifc->name, nb_stack_name(ns->st), nb_stack_name(g_inet.owner->st));
        return NB_EBUSY;
    }
    int rc = inet_if_attach(ns, ifc);
    inet_leave();
    return rc;
}

static void inet_detach(struct nb_stack *st, void *state, struct nb_iface *ifc)
{
    (void)st;
    inet_if_detach(state, ifc);
    inet_leave();
}

static struct nb_family inet_family = {
    .name = "inet",
    .families = {NB_AF_INET, NB_AF_INET6},
    .link = NB_LINK_ETHERNET,
    .stack_init = inet_stack_init,
    .stack_fini = inet_stack_fini,
    .attach = inet_attach,
    .detach = inet_detach,
    .create = inet_create,
    .bind = inet_bind,
    .listen = inet_listen,
    .accept = inet_accept,
    .connect = inet_connect,
    .send = inet_send,
    .recv = inet_recv,
    .poll = inet_poll,
    .shutdown = inet_shutdown,
    .close = inet_close,
    .setopt = inet_setopt,
    .getopt = inet_getopt,
    .getname = inet_getname,
    .describe = inet_describe,
    .print_stats = inet_print_stats,
};

void nb_inet_register(void);
void nb_inet_register(void)
{
    nb_family_register(&inet_family);
}
