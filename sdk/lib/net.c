/*
 * Socket helpers over the "neoboot" imports: name and address handling,
 * connect/listen in one call, whole-buffer send and receive, and poll
 * sets. Thin on purpose: everything here is what every app would
 * otherwise write again, and nothing hides a blocking call.
 */
#include "nb_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_ip4(const char *s, uint8_t out[4])
{
    unsigned v[4];
    int k = 0;
    const char *p = s;
    for (k = 0; k < 4; k++) {
        if (*p < '0' || *p > '9')
            return NB_EINVAL;
        unsigned x = 0;
        int d = 0;
        while (*p >= '0' && *p <= '9' && d < 4) {
            x = x * 10 + (unsigned)(*p++ - '0');
            d++;
        }
        if (x > 255 || d > 3)
            return NB_EINVAL;
        v[k] = x;
        if (k < 3 && *p++ != '.')
            return NB_EINVAL;
    }
    if (*p)
        return NB_EINVAL;
    for (k = 0; k < 4; k++)
        out[k] = (uint8_t)v[k];
    return 0;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 4291 text forms, including "::" and a trailing dotted quad. */
static int parse_ip6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t g[8];
    int ng = 0, gap = -1;
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < n) {
        if (ng == 8)
            return NB_EINVAL;
        /* a dotted quad may end the address */
        size_t j = i;
        while (j < n && s[j] != ':')
            j++;
        if (j == n && memchr(s + i, '.', n - i)) {
            char q[16];
            if (n - i >= sizeof q || ng > 6)
                return NB_EINVAL;
            memcpy(q, s + i, n - i);
            q[n - i] = 0;
            uint8_t b[4];
            if (parse_ip4(q, b))
                return NB_EINVAL;
            g[ng++] = (uint16_t)(b[0] << 8 | b[1]);
            g[ng++] = (uint16_t)(b[2] << 8 | b[3]);
            i = n;
            break;
        }
        unsigned v = 0;
        int d = 0;
        while (i < n && hexv(s[i]) >= 0 && d < 5) {
            v = v << 4 | (unsigned)hexv(s[i++]);
            d++;
        }
        if (d == 0 || d > 4)
            return NB_EINVAL;
        g[ng++] = (uint16_t)v;
        if (i == n)
            break;
        if (s[i] != ':')
            return NB_EINVAL;
        i++;
        if (i < n && s[i] == ':') {
            if (gap >= 0)
                return NB_EINVAL;
            gap = ng;
            i++;
        } else if (i == n) {
            return NB_EINVAL;
        }
    }
    if (gap < 0 && ng != 8)
        return NB_EINVAL;
    if (gap >= 0 && ng > 7)
        return NB_EINVAL;
    uint16_t full[8] = {0};
    int tail = gap >= 0 ? ng - gap : 0;
    for (int k = 0; k < (gap >= 0 ? gap : ng); k++)
        full[k] = g[k];
    for (int k = 0; k < tail; k++)
        full[8 - tail + k] = g[gap + k];
    for (int k = 0; k < 8; k++) {
        out[2 * k] = (uint8_t)(full[k] >> 8);
        out[2 * k + 1] = (uint8_t)full[k];
    }
    return 0;
}

int nb_addr_parse(const char *s, struct nb_addr *out)
{
    memset(out, 0, sizeof *out);
    if (strncmp(s, "vsock:", 6) == 0) {
        char *end;
        unsigned long cid = strtoul(s + 6, &end, 10);
        if (end == s + 6 || *end || cid > 0xFFFFFFFFul)
            return NB_EINVAL;
        out->family = NB_AF_VSOCK;
        out->u.cid = (uint32_t)cid;
        return 0;
    }
    if (parse_ip4(s, out->u.ip4) == 0) {
        out->family = NB_AF_INET;
        return 0;
    }
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    /* a zone ("%2") is a scope id */
    const char *pct = memchr(s, '%', n);
    size_t an = pct ? (size_t)(pct - s) : n;
    if (parse_ip6(s, an, out->u.ip6) != 0)
        return NB_EINVAL;
    if (pct) {
        char *end;
        char z[12];
        size_t zl = n - an - 1;
        if (zl == 0 || zl >= sizeof z)
            return NB_EINVAL;
        memcpy(z, pct + 1, zl);
        z[zl] = 0;
        out->scope_id = (uint32_t)strtoul(z, &end, 10);
        if (*end)
            return NB_EINVAL;
    }
    out->family = NB_AF_INET6;
    return 0;
}

char *nb_addr_format(const struct nb_addr *a, char *buf, size_t len)
{
    if (a->family == NB_AF_INET) {
        snprintf(buf, len, "%u.%u.%u.%u:%u", a->u.ip4[0], a->u.ip4[1], a->u.ip4[2],
                 a->u.ip4[3], (unsigned)a->port);
    } else if (a->family == NB_AF_INET6) {
        char t[48];
        size_t o = 0;
        for (int k = 0; k < 8; k++)
            o += (size_t)snprintf(t + o, sizeof t - o, "%s%x", k ? ":" : "",
                                  (unsigned)(a->u.ip6[2 * k] << 8 | a->u.ip6[2 * k + 1]));
        snprintf(buf, len, "[%s]:%u", t, (unsigned)a->port);
    } else if (a->family == NB_AF_VSOCK) {
        snprintf(buf, len, "vsock:%u:%u", (unsigned)a->u.cid, (unsigned)a->port);
    } else {
        snprintf(buf, len, "?");
    }
    return buf;
}

int nb_lookup(const char *host, uint16_t port, struct nb_addr *out, int max, int64_t timeout_ns)
{
    if (max <= 0)
        return NB_EINVAL;
    if (nb_addr_parse(host, &out[0]) == 0) {
        out[0].port = port;
        return 1;
    }
    size_t n = strlen(host);
    if (n == 0 || n > 253)
        return NB_EINVAL;
    int got = nb_resolve(host, n, 0, out, (size_t)max,
                         timeout_ns > 0 ? timeout_ns : 5 * NB_SEC);
    if (got < 0)
        return got;
    if (got == 0)
        return NB_ENOENT;
    /* IPv4 first: on the networks NeoBoot runs in, v6 is more often
     * configured than routed */
    for (int i = 0, j = 0; i < got; i++)
        if (out[i].family == NB_AF_INET) {
            struct nb_addr t = out[j];
            out[j++] = out[i];
            out[i] = t;
        }
    for (int i = 0; i < got; i++)
        out[i].port = port;
    return got;
}

int nb_connect_addr(const struct nb_addr *a, int64_t timeout_ns)
{
    int fam = a->family == NB_AF_INET6 ? NB_AF_INET6 : a->family;
    int h = nb_socket(fam, NB_SOCK_STREAM);
    if (h < 0)
        return h;
    if (timeout_ns > 0)
        nb_setopt(h, NB_SO_CONNECT_TIMEOUT, timeout_ns);
    int rc = nb_connect(h, a);
    if (rc < 0) {
        nb_close(h);
        return rc;
    }
    return h;
}

#define LOOKUP_MAX 8
#define NETIF_MAX 16

bool nb_net_ready(void)
{
    struct nb_netif ni;
    for (int i = 0; i < NETIF_MAX && nb_netif(i, &ni) == 0; i++) {
        if (ni.link != 1 || !(ni.flags & NB_NETIF_UP))
            continue;
        if (ni.ip4[0] | ni.ip4[1] | ni.ip4[2] | ni.ip4[3])
            return true;
        for (int k = 0; k < ni.n_ip6 && k < 4; k++)
            if (ni.ip6[k].state == 2 && ni.ip6[k].origin != 1)
                return true;
    }
    return false;
}

int nb_tcp_connect(const char *host, uint16_t port, int64_t timeout_ns)
{
    struct nb_addr addrs[LOOKUP_MAX];
    /* started before the lease: wait for an address (or fail as connect would) */
    nb_net_wait(timeout_ns > 0 ? timeout_ns : 10 * NB_SEC);
    int n = nb_lookup(host, port, addrs, LOOKUP_MAX, timeout_ns);
    if (n < 0)
        return n;
    int rc = NB_ENOENT;
    for (int i = 0; i < n; i++) {
        if (addrs[i].family == NB_AF_VSOCK)
            return NB_EINVAL; /* use nb_vsock_connect */
        rc = nb_connect_addr(&addrs[i], timeout_ns);
        if (rc >= 0 || rc == NB_EACCES || rc == NB_EINTR)
            return rc;
    }
    return rc;
}

int nb_vsock_connect(uint32_t cid, uint32_t port, int64_t timeout_ns)
{
    struct nb_addr a = {.family = NB_AF_VSOCK, .port = port};
    a.u.cid = cid;
    return nb_connect_addr(&a, timeout_ns);
}

static int listen_on(const struct nb_addr *a, int backlog)
{
    int h = nb_socket(a->family, NB_SOCK_STREAM);
    if (h < 0)
        return h;
    nb_setopt(h, NB_SO_REUSEADDR, 1);
    int rc = nb_bind(h, a);
    if (rc == 0)
        rc = nb_listen(h, backlog);
    if (rc < 0) {
        nb_close(h);
        return rc;
    }
    return h;
}

int nb_tcp_listen(uint16_t port, int backlog)
{
    struct nb_addr a = {.family = NB_AF_INET, .port = port};
    return listen_on(&a, backlog);
}

int nb_vsock_listen(uint32_t port, int backlog)
{
    struct nb_addr a = {.family = NB_AF_VSOCK, .port = port};
    a.u.cid = NB_VMADDR_CID_ANY;
    return listen_on(&a, backlog);
}

long nb_send_all(int h, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done > (1u << 30) ? (1u << 30) : len - done;
        int n = nb_send(h, (const char *)buf + done, chunk, 0);
        if (n < 0)
            return n;
        if (n == 0)
            return NB_EIO; /* cannot happen on a stream; never loop on it */
        done += (size_t)n;
    }
    return (long)done;
}

long nb_recv_all(int h, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done > (1u << 30) ? (1u << 30) : len - done;
        int n = nb_recv(h, (char *)buf + done, chunk, NB_MSG_WAITALL);
        if (n < 0)
            return done ? (long)done : n;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (long)done;
}

int nb_set_nonblock(int h, bool on) { return nb_setopt(h, NB_SO_NONBLOCK, on ? 1 : 0); }

int nb_set_timeouts(int h, int64_t recv_ns, int64_t send_ns)
{
    int rc = nb_setopt(h, NB_SO_RCVTIMEO, recv_ns);
    return rc ? rc : nb_setopt(h, NB_SO_SNDTIMEO, send_ns);
}

/* --- poll sets --- */

int nb_pollset_init(struct nb_pollset *ps, uint32_t cap)
{
    memset(ps, 0, sizeof *ps);
    if (cap == 0)
        return NB_EINVAL;
    ps->fds = calloc(cap, sizeof *ps->fds);
    ps->user = calloc(cap, sizeof *ps->user);
    if (!ps->fds || !ps->user) {
        nb_pollset_free(ps);
        return NB_ENOMEM;
    }
    ps->cap = cap;
    return 0;
}

void nb_pollset_free(struct nb_pollset *ps)
{
    free(ps->fds);
    free(ps->user);
    memset(ps, 0, sizeof *ps);
}

int nb_pollset_add(struct nb_pollset *ps, int handle, uint32_t events, void *user)
{
    if (ps->n == ps->cap)
        return NB_ENOBUFS;
    uint32_t i = ps->n++;
    ps->fds[i].handle = handle;
    ps->fds[i].events = events;
    ps->fds[i].revents = 0;
    ps->user[i] = user;
    return (int)i;
}

void *nb_pollset_del(struct nb_pollset *ps, uint32_t slot)
{
    if (slot >= ps->n)
        return NULL;
    uint32_t last = --ps->n;
    if (slot == last)
        return NULL;
    ps->fds[slot] = ps->fds[last];
    ps->user[slot] = ps->user[last];
    return ps->user[slot];
}

int nb_pollset_wait(struct nb_pollset *ps, int64_t timeout_ns)
{
    return nb_poll(ps->fds, ps->n, timeout_ns);
}
