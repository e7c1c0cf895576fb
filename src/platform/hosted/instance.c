/*
 * Hosted instance setup (see instance.h).
 */
#define _GNU_SOURCE
#include "instance.h"

#include "commands.h"

#include "hosted.h"
#include "hvbridge.h"
#include "pcap.h"
#include "slirp.h"
#include "tap.h"
#include "vsock_uds.h"

#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/inet.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/shell.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

const char nb_instance_options_help[] =
    "  --cid N                this instance's vsock CID (default 3)\n"
    "  --vsock-uds PATH       hybrid-vsock bridge: host programs connect to PATH\n"
    "                         and send 'CONNECT <port>'; guest connections to\n"
    "                         CID 2 port P go to PATH_P (Firecracker's convention)\n"
    "  --vsock-dev SPEC       vsock device to another NeoBoot process over a UNIX\n"
    "                         socket: listen:PATH or connect:PATH\n"
    "  --net slirp|tap:NAME|none\n"
    "                         the network (default slirp: unprivileged, NAT to the\n"
    "                         host, guest 10.0.2.15, host 10.0.2.2, DNS 10.0.2.3)\n"
    "  -p [udp:][ADDR:]HOST:GUEST\n"
    "                         slirp port forward: host ADDR:HOST (default\n"
    "                         127.0.0.1) to NeoBoot's port GUEST (TCP unless udp:)\n"
    "  --ip A.B.C.D/PREFIX    static IPv4 address (turns DHCP off); an IPv6\n"
    "                         address (X::Y) is added beside SLAAC's\n"
    "  --gw ADDR              IPv4 default gateway (with --ip)\n"
    "  --dns ADDR             DNS server (instead of DHCP's)\n"
    "  --dhcp, --no-dhcp      DHCPv4 on or off (default: on unless --ip A.B.C.D/P)\n"
    "  --pcap FILE            capture the network's frames into a pcap file\n";

void nb_instance_defaults(struct nb_instance_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cid = 3;
    o->net = "slirp";
    o->dhcp = -1;
}

static bool has_value(const char *v, const char *opt, const char *what, const char *cmd)
{
    if (v)
        return true;
    fprintf(stderr, "neoboot %s: %s needs %s\n", cmd, opt, what);
    return false;
}

int nb_instance_option(struct nb_instance_opts *o, int argc, char **argv,
                       int *i, const char *cmd)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (strcmp(a, "--cid") == 0) {
        char *end;
        unsigned long cid = v ? strtoul(v, &end, 10) : 0;
        if (!v || *end || cid < 3 || cid > 0xFFFFFFFEul) {
            fprintf(stderr, "neoboot %s: --cid needs a number from 3 to 4294967294 "
                            "(0-2 are reserved)\n", cmd);
            return 2;
        }
        o->cid = (uint32_t)cid;
    } else if (strcmp(a, "--vsock-uds") == 0) {
        if (!v) {
            fprintf(stderr, "neoboot %s: --vsock-uds needs a socket path\n", cmd);
            return 2;
        }
        o->vsock_uds = v;
    } else if (strcmp(a, "--vsock-dev") == 0) {
        if (!v || (strncmp(v, "listen:", 7) != 0 && strncmp(v, "connect:", 8) != 0)) {
            fprintf(stderr, "neoboot %s: --vsock-dev needs listen:PATH or connect:PATH\n", cmd);
            return 2;
        }
        o->vsock_dev = v;
    } else if (strcmp(a, "--net") == 0) {
        if (!v || (strcmp(v, "slirp") != 0 && strcmp(v, "none") != 0 &&
                   (strncmp(v, "tap:", 4) != 0 || !v[4]))) {
            fprintf(stderr, "neoboot %s: --net needs slirp, tap:NAME or none\n", cmd);
            return 2;
        }
        o->net = v;
    } else if (strcmp(a, "-p") == 0) {
        if (!has_value(v, "-p", "[udp:][ADDR:]HOSTPORT:GUESTPORT", cmd))
            return 2;
        if (o->nforwards == NB_INSTANCE_MAX_FORWARDS) {
            fprintf(stderr, "neoboot %s: at most %d port forwards\n", cmd,
                    NB_INSTANCE_MAX_FORWARDS);
            return 2;
        }
        o->forwards[o->nforwards++] = v;
    } else if (strcmp(a, "--ip") == 0) {
        if (!has_value(v, "--ip", "an address such as 192.168.1.2/24 or fd00::2", cmd))
            return 2;
        if (strchr(v, ':'))
            o->ip6 = v;
        else
            o->ip4 = v;
    } else if (strcmp(a, "--gw") == 0) {
        if (!has_value(v, "--gw", "an IPv4 address", cmd))
            return 2;
        o->gw = v;
    } else if (strcmp(a, "--dns") == 0) {
        if (!has_value(v, "--dns", "an IPv4 or IPv6 address", cmd))
            return 2;
        o->dns = v;
    } else if (strcmp(a, "--pcap") == 0) {
        if (!has_value(v, "--pcap", "a file name", cmd))
            return 2;
        o->pcap = v;
    } else if (strcmp(a, "--dhcp") == 0 || strcmp(a, "--no-dhcp") == 0) {
        o->dhcp = a[2] == 'd';
        return 1; /* no value */
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}

static void on_signal(int sig)
{
    (void)sig;
    nb_loop_interrupt(); /* sets a flag and writes the wake eventfd */
}

void nb_instance_catch_signals(void)
{
    nb_instance_catch_signals_to(on_signal);
}

void nb_instance_catch_signals_to(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* "[udp:|tcp:][ADDR:]HOST:GUEST" */
static int add_forward(struct nb_instance *in, const char *spec)
{
    struct nb_cmd_forward f;
    if (nb_cmd_parse_forward(spec, &f) != 0)
        return NB_EINVAL;
    return nb_slirp_forward(in->eth, f.udp, f.addr, f.host, f.guest);
}

static int parse_prefixed(const char *text, struct nb_addr *a, unsigned *prefix)
{
    char buf[80];
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    *prefix = 0;
    if (slash) {
        *slash = 0;
        char *end;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (*end || !slash[1])
            return NB_EINVAL;
        *prefix = (unsigned)p;
    }
    memset(a, 0, sizeof *a);
    if (strchr(buf, ':')) {
        a->family = NB_AF_INET6;
        return nb_parse_ip6(buf, strlen(buf), a->u.ip6);
    }
    a->family = NB_AF_INET;
    if (!slash)
        *prefix = 24;
    if (*prefix > 32)
        return NB_EINVAL;
    return nb_parse_ip4(buf, strlen(buf), a->u.ip4);
}

static int start_network(struct nb_instance *in, const struct nb_instance_opts *o)
{
    int err = 0;
    if (!o->net || strcmp(o->net, "none") == 0) {
        if (o->nforwards || o->ip4 || o->ip6 || o->pcap || o->dhcp == 1) {
            fprintf(stderr, "neoboot: network options need a network (--net slirp or tap:NAME)\n");
            return NB_EINVAL;
        }
        return 0;
    }
    if (strcmp(o->net, "slirp") == 0) {
        in->net_kind = 1;
        in->eth = nb_slirp_open("eth0", &err);
    } else {
        in->net_kind = 2;
        in->eth = nb_tap_open("eth0", o->net + 4, &err);
    }
    if (!in->eth) {
        fprintf(stderr, "neoboot: cannot open network %s: %s\n", o->net, nb_strerror(err));
        return err;
    }
    if (o->pcap) {
        in->pcap = nb_pcap_open(o->pcap, 0, &err);
        if (!in->pcap) {
            fprintf(stderr, "neoboot: cannot capture into %s: %s\n", o->pcap, nb_strerror(err));
            return err;
        }
        nb_pcap_attach(in->pcap, in->eth);
    }
    err = nb_stack_attach(in->st, in->eth);
    if (err == 0)
        err = nb_iface_start(in->eth);
    if (err) {
        fprintf(stderr, "neoboot: cannot start network %s: %s\n", o->net, nb_strerror(err));
        return err;
    }
    for (unsigned i = 0; i < o->nforwards; i++) {
        if (in->net_kind != 1) {
            fprintf(stderr, "neoboot: port forwards (-p) need --net slirp; on a TAP, "
                            "the host reaches NeoBoot's address directly\n");
            return NB_EINVAL;
        }
        err = add_forward(in, o->forwards[i]);
        if (err) {
            fprintf(stderr, "neoboot: cannot forward '%s': %s\n", o->forwards[i],
                    err == NB_EINVAL ? "expected [udp:][ADDR:]HOSTPORT:GUESTPORT"
                                     : nb_strerror(err));
            return err;
        }
    }
    struct nb_addr a;
    unsigned prefix;
    if (o->ip4) {
        if (parse_prefixed(o->ip4, &a, &prefix) != 0) {
            fprintf(stderr, "neoboot: bad --ip '%s' (e.g. 192.168.7.2/24)\n", o->ip4);
            return NB_EINVAL;
        }
        struct nb_addr g;
        if (o->gw && (nb_parse_ip4(o->gw, strlen(o->gw), g.u.ip4) != 0)) {
            fprintf(stderr, "neoboot: bad --gw '%s'\n", o->gw);
            return NB_EINVAL;
        }
        err = nb_inet_set_ip4(in->eth, a.u.ip4, prefix, o->gw ? g.u.ip4 : NULL);
        if (err)
            return err;
    }
    if (o->ip6) {
        if (parse_prefixed(o->ip6, &a, &prefix) != 0) {
            fprintf(stderr, "neoboot: bad --ip '%s' (e.g. fd00::2)\n", o->ip6);
            return NB_EINVAL;
        }
        err = nb_inet_add_ip6(in->eth, a.u.ip6);
        if (err) {
            fprintf(stderr, "neoboot: cannot add %s: %s\n", o->ip6, nb_strerror(err));
            return err;
        }
    }
    if (o->dns) {
        memset(&a, 0, sizeof a);
        if (strchr(o->dns, ':')) {
            a.family = NB_AF_INET6;
            err = nb_parse_ip6(o->dns, strlen(o->dns), a.u.ip6);
        } else {
            a.family = NB_AF_INET;
            err = nb_parse_ip4(o->dns, strlen(o->dns), a.u.ip4);
        }
        if (err == 0)
            err = nb_inet_dns_set(0, &a);
        if (err) {
            fprintf(stderr, "neoboot: bad --dns '%s'\n", o->dns);
            return NB_EINVAL;
        }
    }
    if (o->dhcp == 1 || (o->dhcp == -1 && !o->ip4)) {
        err = nb_inet_dhcp_start(in->eth);
        if (err) {
            fprintf(stderr, "neoboot: cannot start DHCP: %s\n", nb_strerror(err));
            return err;
        }
    }
    return 0;
}

struct net_wait {
    struct nb_iface *eth;
    int family;
    bool link_local;
};

static bool net_ready(void *arg)
{
    struct net_wait *w = arg;
    if (w->family != NB_AF_INET6 || !w->link_local)
        return nb_inet_ready(w->eth, w->family);
    struct nb_inet_ifstatus s;
    if (nb_inet_iface_status(w->eth, &s) != 0)
        return false;
    for (uint32_t i = 0; i < s.n_ip6; i++)
        if (s.ip6[i].link_local && s.ip6[i].state == NB_IP6_PREFERRED)
            return true;
    return false;
}

int nb_instance_wait_net(struct nb_instance *in, int family, bool link_local,
                         uint64_t timeout_ns)
{
    if (!in->eth)
        return NB_ENETDOWN;
    struct net_wait w = {in->eth, family, link_local};
    uint64_t now = nb_clock_ns();
    return nb_loop_run_until(net_ready, &w,
                             timeout_ns > NB_FOREVER - now ? NB_FOREVER : now + timeout_ns);
}

int nb_instance_start(struct nb_instance *in, const struct nb_instance_opts *o)
{
    memset(in, 0, sizeof *in);
    nb_instance_catch_signals();
    in->st = nb_stack_default();
    if (!in->st) {
        fprintf(stderr, "neoboot: out of memory\n");
        return NB_ENOMEM;
    }
    if (o->vsock_uds && o->vsock_dev) {
        fprintf(stderr, "neoboot: use either --vsock-uds or --vsock-dev (one vsock device)\n");
        return NB_EINVAL;
    }
    int err = 0;
    if (o->vsock_uds) {
        in->bridge = nb_hvbridge_new(in->st, o->vsock_uds, o->cid, &err);
        if (!in->bridge) {
            fprintf(stderr, "neoboot: cannot start the vsock bridge on %s: %s%s\n",
                    o->vsock_uds, nb_strerror(err),
                    err == NB_EADDRINUSE ? " (another instance is serving there)" : "");
            return err;
        }
    }
    if (o->vsock_dev) {
        in->vsdev = nb_vsock_uds_open("vsock0", o->vsock_dev, o->cid, &err);
        if (in->vsdev) {
            err = nb_stack_attach(in->st, in->vsdev);
            if (err == 0)
                err = nb_iface_start(in->vsdev);
        }
        if (err) {
            fprintf(stderr, "neoboot: cannot open vsock device %s: %s\n", o->vsock_dev,
                    nb_strerror(err));
            return err;
        }
    }
    return start_network(in, o);
}

void nb_instance_stop(struct nb_instance *in)
{
    if (in->pcap)
        nb_pcap_close(in->pcap); /* before the interfaces it points at go */
    if (in->eth && in->net_kind == 2)
        nb_tap_close(in->eth);
    else if (in->eth)
        nb_slirp_close(in->eth);
    if (in->bridge)
        nb_hvbridge_free(in->bridge);
    if (in->vsdev)
        nb_vsock_uds_close(in->vsdev);
    if (in->st)
        nb_stack_free(in->st);
    memset(in, 0, sizeof *in);
}

/* --- console --- */

/* The terminal goes raw (no echo, no line buffering) while the shell owns
 * it, so the line editor sees every key; Ctrl-C still stops the instance. */
static struct termios saved_tio;
static bool tio_saved;

static void restore_terminal(void)
{
    if (tio_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    tio_saved = false;
}

static void raw_terminal(void)
{
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &t) != 0)
        return;
    saved_tio = t;
    tio_saved = true;
    atexit(restore_terminal);
    t.c_lflag &= (tcflag_t) ~(ICANON | ECHO | IEXTEN);
    t.c_iflag &= (tcflag_t) ~(IXON | ICRNL);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static bool con_quit_on_eof;

static void con_write(void *arg, const char *s, size_t n)
{
    (void)arg;
    while (n) {
        ssize_t w = write(STDOUT_FILENO, s, n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void con_event(void *arg, int fd, uint32_t ev)
{
    (void)arg;
    (void)ev;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        nb_hosted_unwatch(fd);
        if (con_quit_on_eof)
            nb_console_shell_input("quit\n", 5); /* commands piped in: done */
        return; /* else keep serving without a console */
    }
    nb_console_shell_input(buf, (size_t)n);
}

static bool quit_cond(void *arg)
{
    (void)arg;
    return nb_shell_quit_requested();
}

void nb_instance_serve_console(struct nb_instance *in, bool always)
{
    (void)in;
    bool tty = isatty(STDIN_FILENO);
    bool console = tty || always;
    con_quit_on_eof = !tty;
    if (console && nb_hosted_watch(STDIN_FILENO, EPOLLIN, con_event, NULL) == 0) {
        if (tty)
            raw_terminal();
        nb_console_shell_start(con_write, NULL);
    } else {
        console = false;
    }
    nb_loop_run_until(quit_cond, NULL, NB_FOREVER);
    if (console) {
        nb_hosted_unwatch(STDIN_FILENO);
        restore_terminal();
    }
    nb_loop_clear_interrupt();
}

void nb_instance_serve(struct nb_instance *in)
{
    nb_instance_serve_console(in, false);
}
