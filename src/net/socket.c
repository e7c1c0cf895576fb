/*
 * The socket layer: stacks, handles, blocking and readiness over every
 * address family (the API is in include/neoboot/net.h, the family
 * contract in family.h).
 *
 * Families never block. Everything that waits is here and is built on one
 * primitive, nb_loop_run_until(): a blocking call runs the event loop until
 * the family reports the readiness it needs, its timeout passes, or the loop
 * is interrupted. The loop itself sleeps in the platform between events, so
 * a blocked socket costs no CPU.
 */
#include "family.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(socket);

#define MAX_FAMILIES 4
#define STACK_MAX_SOCKETS_DEFAULT 4096

struct nb_stack {
    char name[16];
    void *fam_state[MAX_FAMILIES];
    nb_sock *socks;
    uint32_t nsocks;
    uint32_t next_id;
    uint32_t charged, max_charged;
    struct nb_stack *next;
};

static struct nb_family *families[MAX_FAMILIES];
static size_t nfamilies;
static struct nb_stack *stacks;
static struct nb_stack *default_stack;

/* Registers the built-in families (net_init.c). */
void nb_net_init(void);

int nb_family_register(struct nb_family *fam)
{
    for (size_t i = 0; i < nfamilies; i++)
        if (families[i] == fam)
            return 0;
    if (nfamilies == MAX_FAMILIES)
        return NB_ENOSPC;
    fam->index = nfamilies;
    families[nfamilies++] = fam;
    return 0;
}

static const struct nb_family *family_for(int af)
{
    for (size_t i = 0; i < nfamilies; i++)
        if (families[i]->families[0] == af || families[i]->families[1] == af)
            return families[i];
    return NULL;
}

/* --- stacks --- */

struct nb_stack *nb_stack_new(const char *name)
{
    nb_net_init();
    struct nb_stack *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    snprintf(st->name, sizeof st->name, "%s", name ? name : "stack");
    st->max_charged = STACK_MAX_SOCKETS_DEFAULT;
    st->next_id = 1;
    for (size_t i = 0; i < nfamilies; i++) {
        if (families[i]->stack_init &&
            families[i]->stack_init(st, &st->fam_state[i]) != 0) {
            while (i-- > 0)
                if (families[i]->stack_fini)
                    families[i]->stack_fini(st, st->fam_state[i]);
            free(st);
            return NULL;
        }
    }
    st->next = stacks;
    stacks = st;
    return st;
}

void nb_stack_free(struct nb_stack *st)
{
    while (st->socks)
        nb_close(st->socks);
    for (struct nb_iface *i = nb_iface_first(); i; i = i->next)
        if (i->stack == st)
            nb_stack_detach(i);
    for (size_t i = nfamilies; i-- > 0;)
        if (families[i]->stack_fini)
            families[i]->stack_fini(st, st->fam_state[i]);
    for (struct nb_stack **pp = &stacks; *pp; pp = &(*pp)->next)
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    if (default_stack == st)
        default_stack = NULL;
    free(st);
}

struct nb_stack *nb_stack_default(void)
{
    if (!default_stack)
        default_stack = nb_stack_new("default");
    return default_stack;
}

const char *nb_stack_name(const struct nb_stack *st) { return st->name; }

int nb_stack_attach(struct nb_stack *st, struct nb_iface *ifc)
{
    if (ifc->stack)
        return ifc->stack == st ? 0 : NB_EBUSY;
    for (size_t i = 0; i < nfamilies; i++) {
        struct nb_family *f = families[i];
        if (f->link != ifc->link || !f->attach)
            continue;
        int rc = f->attach(st, st->fam_state[i], ifc);
        if (rc == 0)
            ifc->stack = st;
        return rc;
    }
    return NB_EAFNOSUPPORT;
}

void nb_stack_detach(struct nb_iface *ifc)
{
    struct nb_stack *st = ifc->stack;
    if (!st)
        return;
    for (size_t i = 0; i < nfamilies; i++) {
        struct nb_family *f = families[i];
        if (f->link == ifc->link && f->detach)
            f->detach(st, st->fam_state[i], ifc);
    }
    ifc->stack = NULL;
    ifc->input = NULL;
    ifc->tx_ready = NULL;
    ifc->proto = NULL;
}

void nb_stack_set_max_sockets(struct nb_stack *st, uint32_t max)
{
    st->max_charged = max;
}

uint32_t nb_stack_objects(const struct nb_stack *st) { return st->charged; }

void *nb_stack_family_state(struct nb_stack *st, const struct nb_family *fam)
{
    return st->fam_state[fam->index];
}

int nb_stack_charge(struct nb_stack *st)
{
    if (st->charged >= st->max_charged)
        return NB_ENFILE;
    st->charged++;
    return 0;
}

void nb_stack_uncharge(struct nb_stack *st)
{
    if (st->charged)
        st->charged--;
}

/* --- handles --- */

nb_sock *nb_sock_new(struct nb_stack *st, const struct nb_family *fam,
                     int family, int type)
{
    nb_sock *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->st = st;
    s->fam = fam;
    s->family = family;
    s->type = type;
    s->id = st->next_id++;
    s->next = st->socks;
    if (st->socks)
        st->socks->prev = s;
    st->socks = s;
    st->nsocks++;
    return s;
}

static void sock_unlink_free(nb_sock *s)
{
    struct nb_stack *st = s->st;
    if (s->prev)
        s->prev->next = s->next;
    else
        st->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    st->nsocks--;
    free(s);
}

void nb_sock_discard(nb_sock *s)
{
    sock_unlink_free(s);
}

void nb_sock_wakeup(nb_sock *s)
{
    if (s && s->notify)
        s->notify(s, s->notify_arg);
}

void nb_sock_set_notify(nb_sock *s, nb_sock_notify_fn fn, void *arg)
{
    s->notify = fn;
    s->notify_arg = arg;
}

void nb_sock_set_user(nb_sock *s, void *user) { s->user = user; }
void *nb_sock_user(nb_sock *s) { return s->user; }
struct nb_stack *nb_sock_stack(nb_sock *s) { return s->st; }

int nb_socket(struct nb_stack *st, int family, int type, nb_sock **out)
{
    *out = NULL;
    if (!st)
        return NB_EINVAL;
    const struct nb_family *fam = family_for(family);
    if (!fam)
        return NB_EAFNOSUPPORT;
    nb_sock *s = nb_sock_new(st, fam, family, type);
    if (!s)
        return NB_ENOMEM;
    int rc = fam->create(s);
    if (rc != 0) {
        sock_unlink_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* --- waiting --- */

struct wait_ctx {
    nb_sock *s;
    uint32_t mask;
};

static bool sock_ready(void *arg)
{
    struct wait_ctx *w = arg;
    return (w->s->fam->poll(w->s) & (w->mask | NB_POLLERR | NB_POLLHUP)) != 0;
}

static uint64_t deadline_after(uint64_t timeout_ns)
{
    if (timeout_ns == 0)
        return NB_FOREVER;
    uint64_t now = nb_clock_ns();
    return timeout_ns > NB_FOREVER - now ? NB_FOREVER : now + timeout_ns;
}

/* Run the loop until s shows `mask` (or an error/hang-up). */
static int sock_wait(nb_sock *s, uint32_t mask, uint64_t deadline)
{
    struct wait_ctx w = {s, mask};
    return nb_loop_run_until(sock_ready, &w, deadline);
}

static bool may_block(nb_sock *s, int flags)
{
    return !s->nonblock && !(flags & NB_MSG_DONTWAIT);
}

/* --- operations --- */

int nb_bind(nb_sock *s, const struct nb_addr *addr)
{
    if (!addr)
        return NB_EFAULT;
    return s->fam->bind(s, addr);
}

int nb_listen(nb_sock *s, int backlog)
{
    if (!s->fam->listen)
        return NB_ENOTSUP;
    return s->fam->listen(s, backlog);
}

int nb_accept(nb_sock *s, nb_sock **out, struct nb_addr *peer)
{
    *out = NULL;
    if (!s->fam->accept)
        return NB_ENOTSUP;
    uint64_t deadline = deadline_after(s->rcvtimeo_ns);
    for (;;) {
        int rc = s->fam->accept(s, out, peer);
        if (rc != NB_EAGAIN || !may_block(s, 0))
            return rc;
        rc = sock_wait(s, NB_POLLIN, deadline);
        if (rc != 0)
            return rc;
    }
}

int nb_connect(nb_sock *s, const struct nb_addr *addr)
{
    if (!addr)
        return NB_EFAULT;
    int rc = s->fam->connect(s, addr);
    if (rc != NB_EINPROGRESS || !may_block(s, 0))
        return rc;
    /* The family enforces the connect timeout itself (so non-blocking
     * connects time out too); here we only wait for its verdict. */
    rc = sock_wait(s, NB_POLLOUT, NB_FOREVER);
    if (rc != 0)
        return rc;
    int64_t err = 0;
    s->fam->getopt(s, NB_SO_ERROR, &err);
    return (int)err;
}

long nb_sendto(nb_sock *s, const void *buf, size_t len, int flags,
               const struct nb_addr *to)
{
    if (!buf && len)
        return NB_EFAULT;
    uint64_t deadline = deadline_after(s->sndtimeo_ns);
    size_t done = 0;
    for (;;) {
        long n = s->fam->send(s, (const char *)buf + done, len - done, flags, to);
        if (n >= 0) {
            done += (size_t)n;
            /* A blocking stream send returns only when all is queued. */
            if (done == len || !may_block(s, flags) || s->type != NB_SOCK_STREAM)
                return (long)done;
            continue;
        }
        if (n != NB_EAGAIN || !may_block(s, flags))
            return done ? (long)done : n;
        int rc = sock_wait(s, NB_POLLOUT, deadline);
        if (rc != 0)
            return done ? (long)done : rc;
    }
}

long nb_send(nb_sock *s, const void *buf, size_t len, int flags)
{
    return nb_sendto(s, buf, len, flags, NULL);
}

long nb_recvfrom(nb_sock *s, void *buf, size_t len, int flags,
                 struct nb_addr *from)
{
    if (!buf && len)
        return NB_EFAULT;
    uint64_t deadline = deadline_after(s->rcvtimeo_ns);
    size_t done = 0;
    bool waitall = (flags & NB_MSG_WAITALL) && !(flags & NB_MSG_PEEK) &&
                   s->type == NB_SOCK_STREAM;
    for (;;) {
        long n = s->fam->recv(s, (char *)buf + done, len - done, flags, from);
        if (n > 0) {
            done += (size_t)n;
            if (!waitall || done == len || !may_block(s, flags))
                return (long)done;
            continue;
        }
        if (n == 0)
            return (long)done; /* end of stream */
        if (n != NB_EAGAIN || !may_block(s, flags))
            return done ? (long)done : n;
        int rc = sock_wait(s, NB_POLLIN | NB_POLLRDHUP, deadline);
        if (rc != 0)
            return done ? (long)done : rc;
    }
}

long nb_recv(nb_sock *s, void *buf, size_t len, int flags)
{
    return nb_recvfrom(s, buf, len, flags, NULL);
}

int nb_shutdown(nb_sock *s, int how)
{
    if (how < NB_SHUT_RD || how > NB_SHUT_RDWR)
        return NB_EINVAL;
    return s->fam->shutdown(s, how);
}

int nb_close(nb_sock *s)
{
    if (!s)
        return NB_EBADF;
    s->fam->close(s);
    sock_unlink_free(s);
    return 0;
}

int nb_getsockname(nb_sock *s, struct nb_addr *out)
{
    return s->fam->getname(s, out, false);
}

int nb_getpeername(nb_sock *s, struct nb_addr *out)
{
    return s->fam->getname(s, out, true);
}

int nb_setopt(nb_sock *s, int opt, int64_t value)
{
    switch (opt) {
    case NB_SO_NONBLOCK:
        s->nonblock = value != 0;
        return 0;
    case NB_SO_RCVTIMEO:
    case NB_SO_SNDTIMEO:
        if (value < 0)
            return NB_EINVAL;
        if (opt == NB_SO_RCVTIMEO)
            s->rcvtimeo_ns = (uint64_t)value;
        else
            s->sndtimeo_ns = (uint64_t)value;
        return 0;
    case NB_SO_TYPE:
    case NB_SO_FAMILY:
    case NB_SO_ERROR:
    case NB_SO_NREAD:
        return NB_EINVAL; /* read-only */
    default:
        return s->fam->setopt ? s->fam->setopt(s, opt, value) : NB_ENOPROTOOPT;
    }
}

int nb_getopt(nb_sock *s, int opt, int64_t *value)
{
    switch (opt) {
    case NB_SO_NONBLOCK:
        *value = s->nonblock;
        return 0;
    case NB_SO_RCVTIMEO:
        *value = (int64_t)s->rcvtimeo_ns;
        return 0;
    case NB_SO_SNDTIMEO:
        *value = (int64_t)s->sndtimeo_ns;
        return 0;
    case NB_SO_TYPE:
        *value = s->type;
        return 0;
    case NB_SO_FAMILY:
        *value = s->family;
        return 0;
    default:
        return s->fam->getopt ? s->fam->getopt(s, opt, value) : NB_ENOPROTOOPT;
    }
}

uint32_t nb_sock_readiness(nb_sock *s)
{
    return s ? s->fam->poll(s) : NB_POLLNVAL;
}

struct poll_ctx {
    struct nb_pollfd *fds;
    size_t n;
    int ready;
};

static bool poll_scan(void *arg)
{
    struct poll_ctx *c = arg;
    c->ready = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct nb_pollfd *p = &c->fds[i];
        if (!p->sock) {
            p->revents = NB_POLLNVAL;
        } else {
            uint32_t r = p->sock->fam->poll(p->sock);
            p->revents = r & (p->events | NB_POLLERR | NB_POLLHUP | NB_POLLNVAL);
        }
        if (p->revents)
            c->ready++;
    }
    return c->ready > 0;
}

int nb_poll(struct nb_pollfd *fds, size_t n, int64_t timeout_ns)
{
    struct poll_ctx c = {fds, n, 0};
    if (poll_scan(&c) || timeout_ns == 0)
        return c.ready;
    uint64_t deadline = timeout_ns < 0 ? NB_FOREVER : deadline_after((uint64_t)timeout_ns);
    int rc = nb_loop_run_until(poll_scan, &c, deadline);
    if (rc == NB_EINTR)
        return rc;
    return c.ready;
}

/* --- introspection --- */

void nb_printf(nb_print_fn print, void *arg, const char *fmt, ...)
{
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    print(arg, line);
}

static const char *family_name(int af)
{
    switch (af) {
    case NB_AF_INET: return "inet";
    case NB_AF_INET6: return "inet6";
    case NB_AF_VSOCK: return "vsock";
    default: return "?";
    }
}

void nb_net_print_stats(nb_print_fn print, void *arg)
{
    struct nb_memstats mem;
    nb_platform_memstats(&mem);
    uint64_t up = nb_clock_ns();
    nb_printf(print, arg, "platform %s, uptime %llu.%03llus, heap used %llu KiB",
              nb_platform_name(), (unsigned long long)(up / NB_NS_PER_S),
              (unsigned long long)(up % NB_NS_PER_S / NB_NS_PER_MS),
              (unsigned long long)(mem.used / 1024));

    struct nb_loop_stats ls;
    nb_loop_get_stats(&ls);
    nb_printf(print, arg, "loop: %llu iterations, %llu waits, %llu work, %llu timers fired, %llu armed",
              (unsigned long long)ls.iterations, (unsigned long long)ls.waits,
              (unsigned long long)ls.work_run, (unsigned long long)ls.timers_fired,
              (unsigned long long)ls.timers_armed);

    struct nb_pkt_stats ps;
    nb_pkt_get_stats(&ps);
    nb_printf(print, arg, "packets: %llu live (%llu KiB, peak %llu KiB, limit %llu KiB), %llu allocation failures",
              (unsigned long long)ps.live, (unsigned long long)(ps.live_bytes / 1024),
              (unsigned long long)(ps.peak_bytes / 1024),
              (unsigned long long)(ps.limit_bytes / 1024),
              (unsigned long long)ps.alloc_fail);

    for (struct nb_iface *i = nb_iface_first(); i; i = i->next) {
        const struct nb_iface_stats *s = &i->stats;
        nb_printf(print, arg, "iface %s: %s %s stack=%s mtu=%u",
                  i->name, i->link == NB_LINK_VSOCK ? "vsock" : "ethernet",
                  i->up ? "up" : "down", i->stack ? i->stack->name : "-", i->mtu);
        nb_printf(print, arg, "  rx %llu pkts %llu bytes, dropped %llu, refused %llu, errors %llu, queue %u/%u (high %u)",
                  (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
                  (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_refused,
                  (unsigned long long)s->rx_errors, i->rxq.count, i->rxq.limit, s->rxq_high);
        nb_printf(print, arg, "  tx %llu pkts %llu bytes, busy %llu, errors %llu",
                  (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
                  (unsigned long long)s->tx_busy, (unsigned long long)s->tx_errors);
    }

    for (struct nb_stack *st = stacks; st; st = st->next) {
        nb_printf(print, arg, "stack %s: %u sockets, %u/%u connection objects",
                  st->name, st->nsocks, st->charged, st->max_charged);
        for (nb_sock *s = st->socks; s; s = s->next) {
            char desc[160] = "";
            if (s->fam->describe)
                s->fam->describe(s, desc, sizeof desc);
            nb_printf(print, arg, "  #%u %s/%s %s", s->id, family_name(s->family),
                      s->type == NB_SOCK_STREAM ? "stream" :
                      s->type == NB_SOCK_DGRAM ? "dgram" : "seqpacket", desc);
        }
        for (size_t i = 0; i < nfamilies; i++)
            if (families[i]->print_stats)
                families[i]->print_stats(st, st->fam_state[i], print, arg);
    }
}

void nb_jprintf(struct nb_jbuf *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = j->len < j->cap ? j->cap - j->len : 0;
    int n = vsnprintf(room ? j->p + j->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        j->len += (size_t)n;
}

/* A JSON string with the characters that need it escaped. */
static void json_str(struct nb_jbuf *j, const char *s)
{
    nb_jprintf(j, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            nb_jprintf(j, "\\%c", c);
        else if (c < 0x20)
            nb_jprintf(j, "\\u%04x", c);
        else
            nb_jprintf(j, "%c", c);
    }
    nb_jprintf(j, "\"");
}

size_t nb_net_stats_json(char *buf, size_t len)
{
    struct nb_jbuf j = {buf, len, 0};
    if (len)
        buf[0] = 0;
    struct nb_memstats mem;
    nb_platform_memstats(&mem);
    struct nb_loop_stats ls;
    nb_loop_get_stats(&ls);
    struct nb_pkt_stats ps;
    nb_pkt_get_stats(&ps);
    nb_jprintf(&j, "{\"platform\":");
    json_str(&j, nb_platform_name());
    nb_jprintf(&j, ",\"uptime_ns\":%llu,\"heap\":{\"used\":%llu,\"total\":%llu,\"peak\":%llu}",
               (unsigned long long)nb_clock_ns(), (unsigned long long)mem.used,
               (unsigned long long)mem.total, (unsigned long long)mem.peak);
    nb_jprintf(&j, ",\"loop\":{\"iterations\":%llu,\"waits\":%llu,\"work\":%llu,"
                   "\"timers_fired\":%llu,\"timers_armed\":%llu}",
               (unsigned long long)ls.iterations, (unsigned long long)ls.waits,
               (unsigned long long)ls.work_run, (unsigned long long)ls.timers_fired,
               (unsigned long long)ls.timers_armed);
    nb_jprintf(&j, ",\"packets\":{\"live\":%llu,\"live_bytes\":%llu,\"peak_bytes\":%llu,"
                   "\"limit_bytes\":%llu,\"alloc_fail\":%llu}",
               (unsigned long long)ps.live, (unsigned long long)ps.live_bytes,
               (unsigned long long)ps.peak_bytes, (unsigned long long)ps.limit_bytes,
               (unsigned long long)ps.alloc_fail);
    nb_jprintf(&j, ",\"interfaces\":[");
    for (struct nb_iface *i = nb_iface_first(); i; i = i->next) {
        const struct nb_iface_stats *s = &i->stats;
        nb_jprintf(&j, "%s{\"name\":", i == nb_iface_first() ? "" : ",");
        json_str(&j, i->name);
        nb_jprintf(&j, ",\"link\":\"%s\",\"up\":%s,\"carrier\":%s,\"mtu\":%u,\"stack\":",
                   i->link == NB_LINK_VSOCK ? "vsock" : "ethernet", i->up ? "true" : "false",
                   i->link_up ? "true" : "false", (unsigned)i->mtu);
        if (i->stack)
            json_str(&j, i->stack->name);
        else
            nb_jprintf(&j, "null");
        nb_jprintf(&j, ",\"rx_packets\":%llu,\"rx_bytes\":%llu,\"rx_dropped\":%llu,"
                       "\"rx_errors\":%llu,\"tx_packets\":%llu,\"tx_bytes\":%llu,"
                       "\"tx_busy\":%llu,\"tx_errors\":%llu}",
                   (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
                   (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_errors,
                   (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
                   (unsigned long long)s->tx_busy, (unsigned long long)s->tx_errors);
    }
    nb_jprintf(&j, "],\"stacks\":[");
    for (struct nb_stack *st = stacks; st; st = st->next) {
        nb_jprintf(&j, "%s{\"name\":", st == stacks ? "" : ",");
        json_str(&j, st->name);
        nb_jprintf(&j, ",\"sockets\":%u,\"objects\":%u,\"max_objects\":%u", st->nsocks,
                   st->charged, st->max_charged);
        for (size_t i = 0; i < nfamilies; i++) {
            if (!families[i]->json_stats)
                continue;
            nb_jprintf(&j, ",\"%s\":{", families[i]->name);
            families[i]->json_stats(st, st->fam_state[i], &j);
            nb_jprintf(&j, "}");
        }
        nb_jprintf(&j, "}");
    }
    nb_jprintf(&j, "]}");
    if (len && j.len >= len)
        buf[len - 1] = 0;
    return j.len;
}
