/*
 * Network commands of the console shell: ifconfig, dhcp, ping, dns. They
 * use only the inet API (include/neoboot/inet.h), so the bare-metal
 * console has them too; the hosted `neoboot ifconfig|dhcp|ping|dns`
 * subcommands start an instance and run these.
 *
 * ping and dns block (they run the event loop while they wait, like socket
 * calls), bounded by their timeouts and interruptible with Ctrl-C.
 */
#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/inet.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/shell.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nb_shell_register_net(void);

static struct nb_iface *first_inet_iface(void)
{
    struct nb_inet_ifstatus s;
    for (struct nb_iface *i = nb_iface_first(); i; i = i->next)
        if (nb_inet_iface_status(i, &s) == 0)
            return i;
    return NULL;
}

static struct nb_iface *iface_arg(const char *name, nb_print_fn print, void *arg)
{
    struct nb_iface *i = name ? nb_iface_find(name) : first_inet_iface();
    struct nb_inet_ifstatus s;
    if (!i || nb_inet_iface_status(i, &s) != 0) {
        if (name)
            nb_printf(print, arg, "no IP interface '%s'", name);
        else
            nb_printf(print, arg, "no IP interface (start one with --net)");
        return NULL;
    }
    return i;
}

static char *ip4_text(const uint8_t ip[4], char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    return buf;
}

static char *ip6_text(const uint8_t ip[16], char *buf, size_t len)
{
    struct nb_addr a;
    memset(&a, 0, sizeof a);
    a.family = NB_AF_INET6;
    memcpy(a.u.ip6, ip, 16);
    char tmp[80];
    nb_addr_format(&a, tmp, sizeof tmp);
    /* nb_addr_format writes "[addr]:0"; keep the address */
    char *end = strchr(tmp, ']');
    if (tmp[0] == '[' && end) {
        *end = 0;
        snprintf(buf, len, "%s", tmp + 1);
    } else {
        snprintf(buf, len, "%s", tmp);
    }
    return buf;
}

static char *lifetime(uint32_t s, char *buf, size_t len)
{
    if (s == UINT32_MAX)
        snprintf(buf, len, "forever");
    else
        snprintf(buf, len, "%us", (unsigned)s);
    return buf;
}

static void show_iface(struct nb_iface *i, nb_print_fn print, void *arg)
{
    struct nb_inet_ifstatus s;
    if (nb_inet_iface_status(i, &s) != 0)
        return;
    char a[64], b[64];
    nb_printf(print, arg, "%s: index %u %s%s mtu %u mac %02x:%02x:%02x:%02x:%02x:%02x%s", s.name,
        (unsigned)s.index, s.up ? "up" : "down", s.link_up ? "" : " (no carrier)",
        (unsigned)s.mtu, s.mac[0], s.mac[1], s.mac[2], s.mac[3], s.mac[4], s.mac[5],
        s.is_default ? " default" : "");
    if (s.has_ip4) {
        bool gw = s.gw4[0] | s.gw4[1] | s.gw4[2] | s.gw4[3];
        nb_printf(print, arg, "    inet %s/%u%s%s (%s)", ip4_text(s.ip4, a, sizeof a),
            (unsigned)s.prefix4, gw ? " gateway " : "", gw ? ip4_text(s.gw4, b, sizeof b) : "",
            s.static4 ? "static" : "dhcp");
    }
    for (uint32_t k = 0; k < s.n_ip6; k++) {
        const struct nb_inet_ip6 *r = &s.ip6[k];
        char vl[16], pl[16];
        nb_printf(print, arg, "    inet6 %s/%u %s %s %s valid %s preferred %s",
            ip6_text(r->addr, a, sizeof a), (unsigned)r->prefix_len,
            r->link_local ? "link" : "global",
            r->origin == NB_IP6_SLAAC ? "slaac" : r->origin == NB_IP6_STATIC ? "static" : "auto",
            nb_ip6_state_name(r->state), lifetime(r->valid_s, vl, sizeof vl),
            lifetime(r->preferred_s, pl, sizeof pl));
    }
    if (s.has_gw6)
        nb_printf(print, arg, "    inet6 router %s%%%u", ip6_text(s.gw6, a, sizeof a), (unsigned)s.index);
    if (s.dhcp_state != NB_DHCP_OFF) {
        if (s.lease_s)
            nb_printf(print, arg, "    dhcp %s server %s lease %us (T1 %us, T2 %us), %us left, %u acks",
                nb_dhcp_state_name(s.dhcp_state), ip4_text(s.dhcp_server, a, sizeof a),
                (unsigned)s.lease_s, (unsigned)s.t1_s, (unsigned)s.t2_s,
                (unsigned)s.lease_left_s, (unsigned)s.dhcp_acks);
        else
            nb_printf(print, arg, "    dhcp %s", nb_dhcp_state_name(s.dhcp_state));
    }
}

static void show_dns(nb_print_fn print, void *arg)
{
    char line[200] = "dns servers:";
    size_t o = strlen(line);
    int n = 0;
    for (unsigned k = 0; k < NB_INET_MAX_DNS; k++) {
        struct nb_addr d;
        if (nb_inet_dns_get(k, &d) != 0)
            continue;
        char t[64];
        if (d.family == NB_AF_INET)
            ip4_text(d.u.ip4, t, sizeof t);
        else
            ip6_text(d.u.ip6, t, sizeof t);
        o += (size_t)snprintf(line + o, sizeof line - o, " %s", t);
        n++;
    }
    if (!n)
        snprintf(line + o, sizeof line - o, " none");
    print(arg, line);
}

static int parse_ip4_prefix(const char *text, uint8_t ip[4], unsigned *prefix)
{
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    if (nb_parse_ip4(text, len, ip) != 0)
        return NB_EINVAL;
    *prefix = 24;
    if (slash) {
        char *end;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (*end || !slash[1] || p > 32)
            return NB_EINVAL;
        *prefix = (unsigned)p;
    }
    return 0;
}

/* ifconfig [IFACE [ADDR/PREFIX [GATEWAY] | ADDR6 | -4]] */
static int cmd_ifconfig(int argc, char **argv, nb_print_fn print, void *arg)
{
    if (argc == 1) {
        int n = 0;
        struct nb_inet_ifstatus s;
        for (struct nb_iface *i = nb_iface_first(); i; i = i->next)
            if (nb_inet_iface_status(i, &s) == 0) {
                show_iface(i, print, arg);
                n++;
            }
        if (!n)
            nb_printf(print, arg, "no IP interfaces");
        show_dns(print, arg);
        return 0;
    }
    struct nb_iface *i = iface_arg(argv[1], print, arg);
    if (!i)
        return NB_ENODEV;
    if (argc == 2) {
        show_iface(i, print, arg);
        return 0;
    }
    if (strcmp(argv[2], "-4") == 0)
        return nb_inet_clear_ip4(i);
    if (strchr(argv[2], ':')) {
        uint8_t ip6[16];
        const char *slash = strchr(argv[2], '/');
        size_t len = slash ? (size_t)(slash - argv[2]) : strlen(argv[2]);
        if (nb_parse_ip6(argv[2], len, ip6) != 0) {
            nb_printf(print, arg, "bad IPv6 address '%s'", argv[2]);
            return NB_EINVAL;
        }
        return nb_inet_add_ip6(i, ip6);
    }
    uint8_t ip[4], gw[4];
    unsigned prefix;
    if (parse_ip4_prefix(argv[2], ip, &prefix) != 0) {
        nb_printf(print, arg, "bad address '%s' (e.g. 192.168.1.2/24)", argv[2]);
        return NB_EINVAL;
    }
    if (argc > 3 && nb_parse_ip4(argv[3], strlen(argv[3]), gw) != 0) {
        nb_printf(print, arg, "bad gateway '%s'", argv[3]);
        return NB_EINVAL;
    }
    int rc = nb_inet_set_ip4(i, ip, prefix, argc > 3 ? gw : NULL);
    if (rc == 0)
        show_iface(i, print, arg);
    return rc;
}

/* dhcp [IFACE] [start|stop|release|renew] */
static int cmd_dhcp(int argc, char **argv, nb_print_fn print, void *arg)
{
    const char *name = NULL, *verb = NULL;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "start") == 0 || strcmp(argv[k], "stop") == 0 ||
            strcmp(argv[k], "release") == 0 || strcmp(argv[k], "renew") == 0)
            verb = argv[k];
        else
            name = argv[k];
    }
    struct nb_iface *i = iface_arg(name, print, arg);
    if (!i)
        return NB_ENODEV;
    int rc = 0;
    if (!verb) {
        show_iface(i, print, arg);
        return 0;
    }
    if (strcmp(verb, "start") == 0)
        rc = nb_inet_dhcp_start(i);
    else if (strcmp(verb, "stop") == 0)
        rc = nb_inet_dhcp_stop(i, false);
    else if (strcmp(verb, "release") == 0)
        rc = nb_inet_dhcp_stop(i, true);
    else
        rc = nb_inet_dhcp_renew(i);
    if (rc == NB_EINVAL)
        nb_printf(print, arg, "dhcp %s: DHCP is not %s on %s", verb,
            strcmp(verb, "renew") == 0 ? "bound" : "running", i->name);
    return rc;
}

/* A host name or address (IPv6 may carry %scope) into a. */
static int resolve(const char *host, int family, struct nb_addr *a, nb_print_fn print,
                   void *arg)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", host);
    memset(a, 0, sizeof *a);
    char *pct = strchr(buf, '%');
    if (pct)
        *pct = 0;
    if (family != NB_AF_INET6 && nb_parse_ip4(buf, strlen(buf), a->u.ip4) == 0) {
        a->family = NB_AF_INET;
        return 0;
    }
    if (family != NB_AF_INET && nb_parse_ip6(buf, strlen(buf), a->u.ip6) == 0) {
        a->family = NB_AF_INET6;
        if (pct) {
            struct nb_iface *i = nb_iface_find(pct + 1);
            struct nb_inet_ifstatus s;
            if (i && nb_inet_iface_status(i, &s) == 0)
                a->scope_id = s.index;
            else
                a->scope_id = (uint32_t)strtoul(pct + 1, NULL, 10);
        }
        return 0;
    }
    struct nb_dns_result r;
    int rc = nb_dns_resolve(nb_stack_default(), host, family, 0, &r);
    if (rc) {
        nb_printf(print, arg, "cannot resolve %s: %s", host, nb_strerror(rc));
        return rc;
    }
    *a = r.addrs[0];
    return 0;
}

static char *addr_text(const struct nb_addr *a, char *buf, size_t len)
{
    if (a->family == NB_AF_INET)
        return ip4_text(a->u.ip4, buf, len);
    ip6_text(a->u.ip6, buf, len);
    if (a->scope_id) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%%%u", (unsigned)a->scope_id);
    }
    return buf;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

/* ping [-4|-6] [-c COUNT] [-s SIZE] [-W SECONDS] [-i SECONDS] HOST */

/* "1", "0.2", "1.5": seconds as a double, without strtod (not in the
 * freestanding libc). -1 when malformed. */
static double parse_seconds(const char *s)
{
    double v = 0, scale = 1;
    bool dot = false, digits = false;
    for (; *s; s++) {
        if (*s == '.' && !dot) {
            dot = true;
        } else if (*s >= '0' && *s <= '9') {
            digits = true;
            if (dot) {
                scale /= 10;
                v += (*s - '0') * scale;
            } else {
                v = v * 10 + (*s - '0');
            }
        } else {
            return -1;
        }
    }
    return digits ? v : -1;
}

static int cmd_ping(int argc, char **argv, nb_print_fn print, void *arg)
{
    int family = 0;
    long count = 4, size = 56;
    double wait_s = 1, interval_s = 1;
    const char *host = NULL;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        const char *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (strcmp(a, "-4") == 0) {
            family = NB_AF_INET;
        } else if (strcmp(a, "-6") == 0) {
            family = NB_AF_INET6;
        } else if (strcmp(a, "-c") == 0 && v) {
            count = strtol(v, NULL, 10);
            k++;
        } else if (strcmp(a, "-s") == 0 && v) {
            size = strtol(v, NULL, 10);
            k++;
        } else if (strcmp(a, "-W") == 0 && v) {
            wait_s = parse_seconds(v);
            k++;
        } else if (strcmp(a, "-i") == 0 && v) {
            interval_s = parse_seconds(v);
            k++;
        } else if (a[0] != '-' && !host) {
            host = a;
        } else {
            nb_printf(print, arg, "usage: ping [-4|-6] [-c COUNT] [-s SIZE] [-W SECONDS] [-i SECONDS] HOST");
            return NB_EINVAL;
        }
    }
    if (!host || count < 1 || size < 0 || size > 65000 || wait_s <= 0 || interval_s < 0) {
        nb_printf(print, arg, "usage: ping [-4|-6] [-c COUNT] [-s SIZE] [-W SECONDS] [-i SECONDS] HOST");
        return NB_EINVAL;
    }
    struct nb_addr dst;
    int rc = resolve(host, family, &dst, print, arg);
    if (rc)
        return rc;
    char t[80];
    addr_text(&dst, t, sizeof t);
    nb_printf(print, arg, "PING %s (%s): %ld data bytes", host, t, size);
    long received = 0;
    uint64_t min = UINT64_MAX, max = 0, sum = 0;
    for (long seq = 1; seq <= count; seq++) {
        uint64_t started = nb_clock_ns();
        struct nb_ping_result r;
        rc = nb_ping(nb_stack_default(), &dst, (uint16_t)seq, (size_t)size,
                     (uint64_t)(wait_s * 1e9), &r);
        if (rc == NB_EINTR)
            break;
        if (rc == 0) {
            received++;
            sum += r.rtt_ns;
            min = r.rtt_ns < min ? r.rtt_ns : min;
            max = r.rtt_ns > max ? r.rtt_ns : max;
            nb_printf(print, arg, "%u bytes from %s: icmp_seq=%ld ttl=%u time=%.3f ms",
                (unsigned)r.bytes + 8, addr_text(&r.from, t, sizeof t), seq, (unsigned)r.ttl,
                (double)r.rtt_ns / 1e6);
        } else if (rc == NB_ETIMEDOUT) {
            nb_printf(print, arg, "no reply for icmp_seq=%ld", seq);
        } else {
            nb_printf(print, arg, "icmp_seq=%ld: %s", seq, nb_strerror(rc));
        }
        if (seq < count) {
            uint64_t next = started + (uint64_t)(interval_s * 1e9);
            if (nb_loop_run_until(never, NULL, next) == NB_EINTR)
                break;
        }
    }
    nb_printf(print, arg, "--- %s ping statistics: %ld sent, %ld received, %ld%% loss", host, count,
        received, (count - received) * 100 / count);
    if (received)
        nb_printf(print, arg, "rtt min/avg/max = %.3f/%.3f/%.3f ms", (double)min / 1e6,
            (double)sum / (double)received / 1e6, (double)max / 1e6);
    if (rc == NB_EINTR)
        return NB_EINTR;
    return received ? 0 : NB_ETIMEDOUT;
}

/* dns [-4|-6] [-t SECONDS] NAME | dns server [INDEX ADDRESS] */
static int cmd_dns(int argc, char **argv, nb_print_fn print, void *arg)
{
    int family = 0;
    double timeout_s = 0;
    const char *name = NULL;
    if (argc >= 2 && strcmp(argv[1], "server") == 0) {
        if (argc == 2) {
            show_dns(print, arg);
            return 0;
        }
        if (argc != 4) {
            nb_printf(print, arg, "usage: dns server [INDEX ADDRESS]");
            return NB_EINVAL;
        }
        struct nb_addr a;
        memset(&a, 0, sizeof a);
        if (nb_parse_ip4(argv[3], strlen(argv[3]), a.u.ip4) == 0)
            a.family = NB_AF_INET;
        else if (nb_parse_ip6(argv[3], strlen(argv[3]), a.u.ip6) == 0)
            a.family = NB_AF_INET6;
        else {
            nb_printf(print, arg, "bad address '%s'", argv[3]);
            return NB_EINVAL;
        }
        return nb_inet_dns_set((unsigned)strtoul(argv[2], NULL, 10), &a);
    }
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "-4") == 0)
            family = NB_AF_INET;
        else if (strcmp(argv[k], "-6") == 0)
            family = NB_AF_INET6;
        else if (strcmp(argv[k], "-t") == 0 && k + 1 < argc)
            timeout_s = parse_seconds(argv[++k]);
        else if (argv[k][0] != '-' && !name)
            name = argv[k];
        else
            name = NULL, k = argc;
    }
    if (!name || timeout_s < 0) {
        nb_printf(print, arg, "usage: dns [-4|-6] [-t SECONDS] NAME | dns server [INDEX ADDRESS]");
        return NB_EINVAL;
    }
    struct nb_dns_result r;
    uint64_t started = nb_clock_ns();
    int rc = nb_dns_resolve(nb_stack_default(), name, family, (uint64_t)(timeout_s * 1e9), &r);
    double ms = (double)(nb_clock_ns() - started) / 1e6;
    if (rc) {
        nb_printf(print, arg, "%s: %s (after %.0f ms)", name, nb_strerror(rc), ms);
        return rc;
    }
    for (uint32_t k = 0; k < r.n; k++) {
        char t[80];
        nb_printf(print, arg, "%s has %s address %s", name,
            r.addrs[k].family == NB_AF_INET ? "IPv4" : "IPv6", addr_text(&r.addrs[k], t, sizeof t));
    }
    return 0;
}

static struct nb_shell_cmd net_cmds[] = {
    {"ifconfig", "ifconfig [IFACE [ADDR/PREFIX [GW]|ADDR6|-4]]",
     "show IP interfaces and DNS servers, or set an address", cmd_ifconfig, NULL},
    {"dhcp", "dhcp [IFACE] [start|stop|release|renew]", "DHCPv4 lease: show or control",
     cmd_dhcp, NULL},
    {"ping", "ping [-4|-6] [-c N] [-s SIZE] [-W S] [-i S] HOST", "ICMP echo (IPv4 and IPv6)",
     cmd_ping, NULL},
    {"dns", "dns [-4|-6] [-t S] NAME | dns server [I ADDR]", "look a name up (A and AAAA)",
     cmd_dns, NULL},
};

void nb_shell_register_net(void)
{
    for (size_t k = 0; k < sizeof net_cmds / sizeof net_cmds[0]; k++)
        nb_shell_register(&net_cmds[k]);
}
