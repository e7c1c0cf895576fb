/*
 * Capability rules (see include/neoboot/caps.h): parsing once, matching
 * on every bind/listen/connect/sendto of a guest.
 */
#include <neoboot/caps.h>
#include <neoboot/err.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nb_caps_init(struct nb_caps *c)
{
    memset(c, 0, sizeof *c);
}

static int parse_ports(const char *s, uint32_t max, uint32_t *lo, uint32_t *hi)
{
    if (strcmp(s, "*") == 0) {
        *lo = 0;
        *hi = max;
        return 0;
    }
    char *end;
    if (*s < '0' || *s > '9')
        return NB_EINVAL;
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (*end == '-') {
        if (end[1] < '0' || end[1] > '9')
            return NB_EINVAL;
        b = strtoul(end + 1, &end, 10);
    }
    if (*end || a > b || b > max)
        return NB_EINVAL;
    *lo = (uint32_t)a;
    *hi = (uint32_t)b;
    return 0;
}

static int parse_proto(const char *s, size_t len, uint8_t *protos)
{
    if (len == 3 && memcmp(s, "tcp", 3) == 0)
        *protos = NB_CAP_TCP;
    else if (len == 3 && memcmp(s, "udp", 3) == 0)
        *protos = NB_CAP_UDP;
    else if (len == 5 && memcmp(s, "vsock", 5) == 0)
        *protos = NB_CAP_VSOCK;
    else if (len == 1 && s[0] == '*')
        *protos = NB_CAP_ANYPROTO;
    else
        return NB_EINVAL;
    return 0;
}

/* HOST for connect rules: *, CID, A.B.C.D[/n], [v6[/n]] (brackets kept). */
static int parse_host(struct nb_cap_rule *r, const char *s, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return NB_EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (strcmp(buf, "*") == 0) {
        r->family = 0;
        return 0;
    }
    if (buf[0] == '[') {
        if (buf[len - 1] != ']')
            return NB_EINVAL;
        buf[len - 1] = 0;
        char *slash = strchr(buf + 1, '/');
        unsigned long prefix = 128;
        if (slash) {
            char *end;
            prefix = strtoul(slash + 1, &end, 10);
            if (*end || slash[1] == 0 || prefix > 128)
                return NB_EINVAL;
            *slash = 0;
        }
        if (nb_parse_ip6(buf + 1, strlen(buf + 1), r->addr) != 0)
            return NB_EINVAL;
        r->family = NB_AF_INET6;
        r->prefix = (uint8_t)prefix;
        return 0;
    }
    if (strchr(buf, '.')) {
        char *slash = strchr(buf, '/');
        unsigned long prefix = 32;
        if (slash) {
            char *end;
            prefix = strtoul(slash + 1, &end, 10);
            if (*end || slash[1] == 0 || prefix > 32)
                return NB_EINVAL;
            *slash = 0;
        }
        if (nb_parse_ip4(buf, strlen(buf), r->addr) != 0)
            return NB_EINVAL;
        r->family = NB_AF_INET;
        r->prefix = (uint8_t)prefix;
        return 0;
    }
    char *end;
    unsigned long cid = strtoul(buf, &end, 10);
    if (*end || buf[0] < '0' || buf[0] > '9' || cid > 0xFFFFFFFEul)
        return NB_EINVAL;
    r->family = NB_AF_VSOCK;
    r->cid = (uint32_t)cid;
    return 0;
}

int nb_caps_add(struct nb_caps *c, enum nb_cap_kind kind, const char *text,
                const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (c->n == NB_CAPS_MAX_RULES) {
        *why = "too many rules";
        return NB_ENOSPC;
    }
    struct nb_cap_rule r;
    memset(&r, 0, sizeof r);
    r.kind = (uint8_t)kind;
    if (strcmp(text, "any") == 0) {
        r.protos = NB_CAP_ANYPROTO;
        r.port_lo = 0;
        r.port_hi = 0xFFFFFFFFu;
        c->rules[c->n++] = r;
        return 0;
    }
    const char *colon = strchr(text, ':');
    if (!colon || parse_proto(text, (size_t)(colon - text), &r.protos) != 0) {
        *why = "expected PROTO:... with PROTO tcp, udp, vsock or *";
        return NB_EINVAL;
    }
    const char *rest = colon + 1;
    uint32_t maxport = r.protos == NB_CAP_VSOCK ? 0xFFFFFFFEu : 65535;
    if (r.protos == NB_CAP_ANYPROTO)
        maxport = 0xFFFFFFFEu;
    if (kind == NB_CAP_LISTEN) {
        if (parse_ports(rest, maxport, &r.port_lo, &r.port_hi) != 0) {
            *why = "expected a port, a range A-B, or *";
            return NB_EINVAL;
        }
    } else {
        /* HOST:PORTS, the port part after the last ':' outside brackets */
        const char *close = strrchr(rest, ']');
        const char *pc = strrchr(close ? close : rest, ':');
        if (!pc) {
            *why = "expected PROTO:HOST:PORTS";
            return NB_EINVAL;
        }
        if (parse_host(&r, rest, (size_t)(pc - rest)) != 0) {
            *why = "expected HOST as *, an IPv4 address[/prefix], [IPv6[/prefix]] or a vsock CID";
            return NB_EINVAL;
        }
        if ((r.family == NB_AF_VSOCK && r.protos != NB_CAP_VSOCK) ||
            ((r.family == NB_AF_INET || r.family == NB_AF_INET6) && (r.protos & NB_CAP_VSOCK) &&
             r.protos != NB_CAP_ANYPROTO)) {
            *why = "the host does not fit the protocol";
            return NB_EINVAL;
        }
        if (r.family == NB_AF_INET || r.family == NB_AF_INET6)
            r.protos &= (uint8_t)~NB_CAP_VSOCK;
        if (r.family == NB_AF_VSOCK)
            maxport = 0xFFFFFFFEu;
        if (parse_ports(pc + 1, maxport, &r.port_lo, &r.port_hi) != 0) {
            *why = "expected a port, a range A-B, or *";
            return NB_EINVAL;
        }
    }
    c->rules[c->n++] = r;
    return 0;
}

static uint8_t proto_of(int family, int type)
{
    if (family == NB_AF_VSOCK)
        return NB_CAP_VSOCK;
    return type == NB_SOCK_DGRAM ? NB_CAP_UDP : NB_CAP_TCP;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rem = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return false;
    if (rem == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rem));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

int nb_caps_check_listen(const struct nb_caps *c, int family, int type, uint32_t port)
{
    uint8_t p = proto_of(family, type);
    for (size_t i = 0; i < c->n; i++) {
        const struct nb_cap_rule *r = &c->rules[i];
        if (r->kind == NB_CAP_LISTEN && (r->protos & p) && port >= r->port_lo &&
            port <= r->port_hi)
            return 0;
    }
    return NB_EACCES;
}

int nb_caps_check_connect(const struct nb_caps *c, int type, const struct nb_addr *a)
{
    uint8_t p = proto_of(a->family, type);
    for (size_t i = 0; i < c->n; i++) {
        const struct nb_cap_rule *r = &c->rules[i];
        if (r->kind != NB_CAP_CONNECT || !(r->protos & p) || a->port < r->port_lo ||
            a->port > r->port_hi)
            continue;
        if (r->family == 0)
            return 0;
        if (r->family != a->family)
            continue;
        if (a->family == NB_AF_VSOCK && a->u.cid == r->cid)
            return 0;
        if (a->family == NB_AF_INET && prefix_match(a->u.ip4, r->addr, r->prefix))
            return 0;
        if (a->family == NB_AF_INET6 && prefix_match(a->u.ip6, r->addr, r->prefix))
            return 0;
    }
    return NB_EACCES;
}

void nb_caps_print(const struct nb_caps *c, nb_print_fn print, void *arg)
{
    char line[128];
    for (size_t i = 0; i < c->n; i++) {
        const struct nb_cap_rule *r = &c->rules[i];
        const char *proto = r->protos == NB_CAP_TCP ? "tcp" : r->protos == NB_CAP_UDP ? "udp"
                          : r->protos == NB_CAP_VSOCK ? "vsock" : r->protos == (NB_CAP_TCP | NB_CAP_UDP)
                          ? "tcp+udp" : "*";
        char host[64] = "*";
        if (r->family == NB_AF_VSOCK) {
            snprintf(host, sizeof host, "%u", (unsigned)r->cid);
        } else if (r->family == NB_AF_INET || r->family == NB_AF_INET6) {
            struct nb_addr a;
            memset(&a, 0, sizeof a);
            a.family = r->family;
            memcpy(a.u.ip6, r->addr, 16);
            char t[64];
            nb_addr_format(&a, t, sizeof t);
            *strrchr(t, ':') = 0; /* drop the :0 port */
            snprintf(host, sizeof host, "%s/%u", t, r->prefix);
        }
        if (r->kind == NB_CAP_LISTEN)
            snprintf(line, sizeof line, "allow listen %s port %u-%u", proto,
                     (unsigned)r->port_lo, (unsigned)r->port_hi);
        else
            snprintf(line, sizeof line, "allow connect %s host %s port %u-%u", proto, host,
                     (unsigned)r->port_lo, (unsigned)r->port_hi);
        print(arg, line);
    }
    if (c->boot)
        print(arg, "allow boot");
}
