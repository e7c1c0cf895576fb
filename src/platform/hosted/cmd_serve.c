/*
 * Commands that run a NeoBoot instance with built-in services, and the
 * clients that talk to one: `demo`, `vsock-echo`, `serve` (any services on
 * TCP, UDP and vsock), `nc` (TCP, UDP or vsock), `stats`.
 */
#define _GNU_SOURCE
#include "commands.h"
#include "hosted.h"
#include "instance.h"
#include "relay.h"

#include <neoboot/err.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/platform.h>
#include <neoboot/svc.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_UDS "neoboot.vsock"
#define DEFAULT_ECHO_PORT 5000
#define DEFAULT_STATS_PORT 5001

static bool parse_port(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *end || v > 0xFFFFFFFEul)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* --- demo / vsock-echo --- */

static int serve_echo(const char *cmd, int argc, char **argv, bool demo)
{
    struct nb_instance_opts o;
    nb_instance_defaults(&o);
    uint32_t echo_port = DEFAULT_ECHO_PORT, stats_port = DEFAULT_STATS_PORT;
    if (demo)
        o.vsock_uds = DEFAULT_UDS;
    for (int i = 1; i < argc; i++) {
        int r = nb_instance_option(&o, argc, argv, &i, cmd);
        if (r == 2)
            return 2;
        if (r == 1)
            continue;
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            if (!parse_port(argv[++i], &echo_port))
                return nb_cmd_usage_error(cmd, "--port needs a vsock port number");
        } else if (strcmp(argv[i], "--stats-port") == 0 && i + 1 < argc) {
            if (!parse_port(argv[++i], &stats_port))
                return nb_cmd_usage_error(cmd, "--stats-port needs a vsock port number");
        } else {
            return nb_cmd_usage_error(cmd, "unknown argument '%s'", argv[i]);
        }
    }
    if (!o.vsock_uds && !o.vsock_dev)
        return nb_cmd_usage_error(cmd, "give a vsock device: --vsock-uds PATH or --vsock-dev SPEC");
    struct nb_instance in;
    int rc = nb_instance_start(&in, &o);
    if (rc)
        return 1;
    struct nb_addr ea = nb_addr_vsock(NB_VMADDR_CID_ANY, echo_port);
    struct nb_addr sa = nb_addr_vsock(NB_VMADDR_CID_ANY, stats_port);
    struct nb_svc *echo = nb_svc_echo_start(in.st, &ea, &rc);
    struct nb_svc *stats = echo ? nb_svc_stats_start(in.st, &sa, &rc) : NULL;
    if (!echo || !stats) {
        fprintf(stderr, "neoboot %s: cannot start services: %s\n", cmd, nb_strerror(rc));
        nb_svc_stop(echo);
        nb_instance_stop(&in);
        return 1;
    }
    if (o.vsock_uds) {
        printf("NeoBoot %s: vsock CID %u behind the hybrid-vsock bridge %s\n"
               "  echo  on vsock port %u: socat - UNIX-CONNECT:%s   then type: CONNECT %u\n"
               "  stats on vsock port %u: neoboot stats --vsock-uds %s\n"
               "Type 'help' for console commands, Ctrl-C to stop.\n",
               demo ? "demo" : "vsock-echo", (unsigned)o.cid, o.vsock_uds, (unsigned)echo_port,
               o.vsock_uds, (unsigned)echo_port, (unsigned)stats_port, o.vsock_uds);
    } else {
        printf("NeoBoot vsock-echo: CID %u on %s, echo port %u, stats port %u\n",
               (unsigned)o.cid, o.vsock_dev, (unsigned)echo_port, (unsigned)stats_port);
    }
    fflush(stdout);
    nb_instance_serve(&in);
    printf("\nstopping\n");
    nb_svc_stop(stats);
    nb_svc_stop(echo);
    nb_instance_stop(&in);
    return 0;
}

int nb_cmd_demo(int argc, char **argv);
int nb_cmd_demo(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("usage: neoboot demo [OPTIONS]\n\n"
               "Runs NeoBoot (hosted) with a vsock echo service on port %u and a stats\n"
               "service on port %u, reachable from ordinary host programs through the\n"
               "hybrid-vsock bridge ./%s. Options as for 'neoboot vsock-echo'.\n",
               DEFAULT_ECHO_PORT, DEFAULT_STATS_PORT, DEFAULT_UDS);
        return 0;
    }
    return serve_echo("demo", argc, argv, true);
}

int nb_cmd_vsock_echo(int argc, char **argv);
int nb_cmd_vsock_echo(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("usage: neoboot vsock-echo (--vsock-uds PATH | --vsock-dev SPEC) [OPTIONS]\n\n"
               "Serves vsock echo and stats until Ctrl-C.\n\n"
               "options:\n"
               "  --port P               echo port (default %u)\n"
               "  --stats-port P         stats port (default %u)\n%s",
               DEFAULT_ECHO_PORT, DEFAULT_STATS_PORT, nb_instance_options_help);
        return 0;
    }
    return serve_echo("vsock-echo", argc, argv, false);
}

/* --- nc --- */

struct nc_state {
    bool done;
    int err;
    uint64_t sent, received;
};

static void nc_done(void *arg, int err, uint64_t to_sock, uint64_t to_fd)
{
    struct nc_state *st = arg;
    st->done = true;
    st->err = err;
    st->sent = to_sock;
    st->received = to_fd;
}

static bool nc_finished(void *arg)
{
    return ((struct nc_state *)arg)->done;
}

/* UDP mode: every read from stdin is one datagram; every datagram
 * received is written to stdout. Ends NC_UDP_LINGER after stdin's end
 * once nothing more arrives (-q). */
struct unc {
    nb_sock *s;
    bool listen, have_peer;
    struct nb_addr peer;
    int in_fd;
    bool in_pollable, in_watched, in_ready, in_eof;
    bool sock_ready;
    uint64_t idle_since;
    uint64_t sent_d, sent_b, recv_d, recv_b, truncated;
};

static void unc_in_event(void *arg, int fd, uint32_t ev)
{
    struct unc *u = arg;
    (void)ev;
    u->in_ready = true;
    /* level-triggered: stop watching until we have read it */
    nb_hosted_unwatch(fd);
    u->in_watched = false;
}

static void unc_sock_notify(nb_sock *s, void *arg)
{
    (void)s;
    ((struct unc *)arg)->sock_ready = true;
}

static bool unc_wake(void *arg)
{
    struct unc *u = arg;
    return u->in_ready || u->sock_ready;
}

static int nc_udp(struct unc *u, size_t size, size_t recv_size, double linger_s, bool verbose)
{
    uint8_t *buf = malloc(size), *rbuf = malloc(recv_size ? recv_size : 1);
    if (!buf || !rbuf) {
        free(buf);
        free(rbuf);
        return NB_ENOMEM;
    }
    int err = 0;
    u->idle_since = nb_clock_ns();
    for (;;) {
        /* stdin -> datagrams (a listener waits for its first peer) */
        if (!u->in_eof && (u->in_ready || !u->in_pollable) && (!u->listen || u->have_peer)) {
            u->in_ready = false;
            ssize_t n = read(u->in_fd, buf, size);
            if (n > 0) {
                long m = u->listen ? nb_sendto(u->s, buf, (size_t)n, 0, &u->peer)
                                   : nb_send(u->s, buf, (size_t)n, 0);
                if (m < 0) {
                    fprintf(stderr, "neoboot nc: send of %zd bytes: %s\n", n, nb_strerror((int)m));
                    if (m != NB_EMSGSIZE && m != NB_ENOBUFS) {
                        err = (int)m;
                        break;
                    }
                } else {
                    u->sent_d++;
                    u->sent_b += (uint64_t)m;
                }
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                u->in_eof = true;
                u->idle_since = nb_clock_ns();
            }
        }
        if (!u->in_eof && u->in_pollable && !u->in_watched && !u->in_ready &&
            (!u->listen || u->have_peer)) {
            if (nb_hosted_watch(u->in_fd, EPOLLIN, unc_in_event, u) == 0)
                u->in_watched = true;
        }
        /* datagrams -> stdout */
        u->sock_ready = false;
        for (;;) {
            struct nb_addr from;
            long n = nb_recvfrom(u->s, rbuf, recv_size, NB_MSG_TRUNC | NB_MSG_DONTWAIT, &from);
            if (n == NB_EAGAIN)
                break;
            if (n < 0) {
                err = (int)n;
                break;
            }
            size_t got = (size_t)n > recv_size ? recv_size : (size_t)n;
            if ((size_t)n > recv_size) {
                u->truncated++;
                if (verbose)
                    fprintf(stderr, "neoboot nc: datagram of %ld bytes truncated to %zu\n", n,
                            recv_size);
            }
            if (u->listen && !u->have_peer) {
                u->peer = from;
                u->have_peer = true;
            }
            u->recv_d++;
            u->recv_b += got;
            u->idle_since = nb_clock_ns();
            for (size_t off = 0; off < got;) {
                ssize_t w = write(STDOUT_FILENO, rbuf + off, got - off);
                if (w <= 0) {
                    if (w < 0 && errno == EINTR)
                        continue;
                    err = NB_EPIPE;
                    break;
                }
                off += (size_t)w;
            }
        }
        if (err)
            break;
        uint64_t now = nb_clock_ns();
        uint64_t quiet_end = u->idle_since + (uint64_t)(linger_s * 1e9);
        if (u->in_eof && now >= quiet_end)
            break;
        uint64_t deadline = u->in_eof ? quiet_end : NB_FOREVER;
        if (!u->in_pollable && !u->in_eof && (!u->listen || u->have_peer))
            continue; /* a regular file is always readable */
        int rc = nb_loop_run_until(unc_wake, u, deadline);
        if (rc == NB_EINTR) {
            err = NB_EINTR;
            break;
        }
    }
    if (u->in_watched)
        nb_hosted_unwatch(u->in_fd);
    free(buf);
    free(rbuf);
    return err;
}

/* Can epoll watch fd? Not regular files, and not devices without poll
 * support such as /dev/null: those are always ready instead. */
static bool fd_pollable(int fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return false;
    struct epoll_event ev = {.events = EPOLLIN};
    bool ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
    close(ep);
    return ok;
}

int nb_cmd_nc(int argc, char **argv);
int nb_cmd_nc(int argc, char **argv)
{
    const char *cmd = "nc";
    if (wants_help(argc, argv)) {
        printf("usage: neoboot nc [OPTIONS] ADDRESS\n"
               "       neoboot nc [OPTIONS] -l ADDRESS\n\n"
               "Connects to ADDRESS (or, with -l, waits for one connection on it) through\n"
               "NeoBoot's own stack, then copies stdin to the connection and the\n"
               "connection to stdout until both directions end.\n"
               "ADDRESS: vsock CID:PORT (e.g. 2:9000 for the host, any:1234 with -l),\n"
               "IPv4 A.B.C.D:PORT (10.0.2.2:80 is the host under slirp), or IPv6\n"
               "[ADDR]:PORT, [fe80::1%%2]:PORT for a link-local peer on interface 2.\n\n"
               "options:\n"
               "  -l                     listen instead of connecting\n"
               "  -u                     UDP: each read from stdin is one datagram, each\n"
               "                         datagram received goes to stdout\n"
               "  -w SECONDS             connect / accept / network timeout (default 10)\n"
               "  -q SECONDS             UDP: after stdin ends, stop once nothing arrived\n"
               "                         for this long (default 1)\n"
               "  -s BYTES               UDP: largest datagram read from stdin (default\n"
               "                         65507)\n"
               "  --recv-size BYTES      UDP: receive buffer per datagram (default 65535);\n"
               "                         longer datagrams are truncated and counted\n"
               "  --rcvbuf BYTES         socket receive buffer (NB_SO_RCVBUF)\n"
               "  -v                     report bytes moved on stderr\n%s",
               nb_instance_options_help);
        return 0;
    }
    struct nb_instance_opts o;
    nb_instance_defaults(&o);
    bool listen_mode = false, verbose = false, udp = false;
    double wait_s = 10, linger_s = 1;
    long size = 65507, recv_size = 65535, rcvbuf = 0;
    const char *addr_text = NULL;
    for (int i = 1; i < argc; i++) {
        int r = nb_instance_option(&o, argc, argv, &i, cmd);
        if (r == 2)
            return 2;
        if (r == 1)
            continue;
        if (strcmp(argv[i], "-l") == 0)
            listen_mode = true;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "-u") == 0)
            udp = true;
        else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
            wait_s = atof(argv[++i]);
        else if (strcmp(argv[i], "-q") == 0 && i + 1 < argc)
            linger_s = atof(argv[++i]);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            size = atol(argv[++i]);
        else if (strcmp(argv[i], "--recv-size") == 0 && i + 1 < argc)
            recv_size = atol(argv[++i]);
        else if (strcmp(argv[i], "--rcvbuf") == 0 && i + 1 < argc)
            rcvbuf = atol(argv[++i]);
        else if (argv[i][0] != '-' && !addr_text)
            addr_text = argv[i];
        else
            return nb_cmd_usage_error(cmd, "unknown argument '%s'", argv[i]);
    }
    struct nb_addr addr;
    if (!addr_text || nb_addr_parse(addr_text, &addr) != 0)
        return nb_cmd_usage_error(cmd, "give an address such as 2:9000 (vsock), "
                                       "10.0.2.2:80 or [fd00::1]:80");
    if (wait_s <= 0)
        return nb_cmd_usage_error(cmd, "-w needs a positive number of seconds");
    if (size < 1 || size > 65527 || recv_size < 1 || recv_size > 65535 || linger_s < 0)
        return nb_cmd_usage_error(cmd, "-s, --recv-size need 1..65535 bytes, -q a time");
    if (udp && addr.family == NB_AF_VSOCK)
        return nb_cmd_usage_error(cmd, "-u needs an IP address (vsock has no datagrams here)");
    struct nb_instance in;
    if (nb_instance_start(&in, &o) != 0)
        return 1;
    int rc;
    int64_t wait_ns = (int64_t)(wait_s * 1e9);
    if (addr.family != NB_AF_VSOCK) {
        bool ll = addr.family == NB_AF_INET6 && addr.u.ip6[0] == 0xfe &&
                  (addr.u.ip6[1] & 0xc0) == 0x80;
        bool any = listen_mode;
        rc = nb_instance_wait_net(&in, addr.family, ll || any, (uint64_t)wait_ns);
        if (rc == NB_EINTR) {
            nb_instance_stop(&in);
            return 130;
        }
        if (rc == NB_ENETDOWN) {
            fprintf(stderr, "neoboot nc: no network (--net none)\n");
            nb_instance_stop(&in);
            return 1;
        }
    }
    nb_sock *s = NULL, *l = NULL;
    if (udp) {
        rc = nb_socket(in.st, addr.family, NB_SOCK_DGRAM, &s);
        if (rc == 0 && rcvbuf)
            nb_setopt(s, NB_SO_RCVBUF, rcvbuf);
        if (rc == 0)
            rc = listen_mode ? nb_bind(s, &addr) : nb_connect(s, &addr);
        if (rc == 0) {
            struct unc u = {.s = s, .listen = listen_mode, .in_fd = STDIN_FILENO};
            u.in_pollable = fd_pollable(STDIN_FILENO);
            nb_sock_set_notify(s, unc_sock_notify, &u);
            rc = nc_udp(&u, (size_t)size, (size_t)recv_size, linger_s, verbose);
            int64_t drops = 0;
            nb_getopt(s, NB_SO_RXDROPS, &drops);
            if (verbose)
                fprintf(stderr, "neoboot nc: sent %llu datagrams (%llu bytes), received %llu "
                                "datagrams (%llu bytes), %llu truncated, %lld dropped (queue full)\n",
                        (unsigned long long)u.sent_d, (unsigned long long)u.sent_b,
                        (unsigned long long)u.recv_d, (unsigned long long)u.recv_b,
                        (unsigned long long)u.truncated, (long long)drops);
            nb_close(s);
            nb_instance_stop(&in);
            if (rc == NB_EINTR)
                return 130;
            if (rc) {
                fprintf(stderr, "neoboot nc: %s\n", nb_strerror(rc));
                return 1;
            }
            return 0;
        }
        fprintf(stderr, "neoboot nc: %s %s: %s\n", listen_mode ? "bind" : "connect", addr_text,
                nb_strerror(rc));
        if (s)
            nb_close(s);
        nb_instance_stop(&in);
        return 1;
    }
    if (listen_mode) {
        rc = nb_socket(in.st, addr.family, NB_SOCK_STREAM, &l);
        if (rc == 0 && rcvbuf)
            nb_setopt(l, NB_SO_RCVBUF, rcvbuf);
        if (rc == 0) {
            nb_setopt(l, NB_SO_REUSEADDR, 1);
            rc = nb_bind(l, &addr);
        }
        if (rc == 0)
            rc = nb_listen(l, 1);
        if (rc == 0) {
            nb_setopt(l, NB_SO_RCVTIMEO, wait_ns);
            rc = nb_accept(l, &s, NULL);
        }
        if (l)
            nb_close(l);
    } else {
        rc = nb_socket(in.st, addr.family, NB_SOCK_STREAM, &s);
        if (rc == 0) {
            if (rcvbuf)
                nb_setopt(s, NB_SO_RCVBUF, rcvbuf);
            nb_setopt(s, NB_SO_CONNECT_TIMEOUT, wait_ns);
            rc = nb_connect(s, &addr);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "neoboot nc: %s %s: %s\n", listen_mode ? "accept on" : "connect to",
                addr_text, nb_strerror(rc));
        if (s)
            nb_close(s);
        nb_instance_stop(&in);
        return 1;
    }
    struct nc_state st = {0};
    int in_fd = dup(STDIN_FILENO), out_fd = dup(STDOUT_FILENO);
    if (!nb_relay_new(in_fd, out_fd, s, nc_done, &st)) {
        fprintf(stderr, "neoboot nc: out of memory\n");
        return 1;
    }
    rc = nb_loop_run_until(nc_finished, &st, NB_FOREVER);
    if (verbose)
        fprintf(stderr, "neoboot nc: sent %llu bytes, received %llu bytes%s%s\n",
                (unsigned long long)st.sent, (unsigned long long)st.received,
                st.err ? ": " : "", st.err ? nb_strerror(st.err) : "");
    nb_instance_stop(&in);
    if (rc == NB_EINTR)
        return 130;
    if (st.err) {
        fprintf(stderr, "neoboot nc: %s\n", nb_strerror(st.err));
        return 1;
    }
    return 0;
}

/* --- serve --- */

#define SERVE_MAX 32

struct serve_spec {
    const char *kind;   /* echo, stats, sink, source, http */
    const char *text;
    struct nb_addr addr;
    bool udp;
};

/* "tcp:PORT", "tcp6:PORT", "udp:PORT", "udp6:PORT", "vsock:PORT", or a
 * full address after the kind ("tcp:10.0.2.15:7", "udp:[::]:7"). */
static bool parse_spec(const char *text, struct serve_spec *sp)
{
    const char *colon = strchr(text, ':');
    if (!colon)
        return false;
    size_t kl = (size_t)(colon - text);
    const char *rest = colon + 1;
    bool v6 = false, vsock = false;
    if (kl == 3 && strncmp(text, "tcp", 3) == 0) {
    } else if (kl == 4 && strncmp(text, "tcp6", 4) == 0) {
        v6 = true;
    } else if (kl == 3 && strncmp(text, "udp", 3) == 0) {
        sp->udp = true;
    } else if (kl == 4 && strncmp(text, "udp6", 4) == 0) {
        sp->udp = true;
        v6 = true;
    } else if (kl == 5 && strncmp(text, "vsock", 5) == 0) {
        vsock = true;
    } else {
        return false;
    }
    sp->text = text;
    char *end;
    unsigned long port = strtoul(rest, &end, 10);
    if (*rest && !*end) {
        if (vsock) {
            sp->addr = nb_addr_vsock(NB_VMADDR_CID_ANY, (uint32_t)port);
            return port <= 0xFFFFFFFEul;
        }
        if (port > 65535)
            return false;
        uint8_t any[16] = {0};
        sp->addr = v6 ? nb_addr_ip6(any, (uint16_t)port, 0) : nb_addr_ip4(any, (uint16_t)port);
        return true;
    }
    if (nb_addr_parse(rest, &sp->addr) != 0)
        return false;
    return vsock ? sp->addr.family == NB_AF_VSOCK : sp->addr.family != NB_AF_VSOCK;
}

int nb_cmd_serve(int argc, char **argv);
int nb_cmd_serve(int argc, char **argv)
{
    const char *cmd = "serve";
    if (wants_help(argc, argv)) {
        printf("usage: neoboot serve [INSTANCE OPTIONS] SERVICE...\n\n"
               "Runs NeoBoot's built-in services on any mix of TCP, UDP and vsock\n"
               "addresses until Ctrl-C (a console reads commands when stdin is a tty).\n\n"
               "services (each may repeat):\n"
               "  --echo SPEC            sends back what it receives (tcp, udp, vsock)\n"
               "  --stats SPEC           writes the runtime's counters and closes\n"
               "  --sink SPEC            reads until end of input, answers the byte count\n"
               "  --source SPEC          sends --source-bytes of a test pattern, closes\n"
               "  --http SPEC            HTTP for curl: GET /bytes/N, POST /echo, POST /sink\n"
               "SPEC: tcp:PORT, tcp6:PORT, udp:PORT, udp6:PORT, vsock:PORT, or the kind\n"
               "with a full address: tcp:10.0.2.15:7, tcp:[fd00::2]:7, vsock:any:5000\n\n"
               "options:\n"
               "  --backlog N            listen backlog of stream services (default 128)\n"
               "  --source-bytes N       bytes per --source connection (default 16 MiB)\n"
               "%s"
               "\nexample: neoboot serve --net tap:tap0 --ip 192.168.7.2/24 \\\n"
               "             --echo tcp:7 --echo udp:7 --stats tcp:8 --echo vsock:5000 \\\n"
               "             --vsock-uds ./neoboot.vsock\n",
               nb_instance_options_help);
        return 0;
    }
    struct nb_instance_opts o;
    nb_instance_defaults(&o);
    struct serve_spec specs[SERVE_MAX];
    int nspecs = 0, backlog = -1;
    uint64_t source_bytes = 16ull << 20;
    for (int i = 1; i < argc; i++) {
        int r = nb_instance_option(&o, argc, argv, &i, cmd);
        if (r == 2)
            return 2;
        if (r == 1)
            continue;
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((strcmp(a, "--echo") == 0 || strcmp(a, "--stats") == 0 || strcmp(a, "--sink") == 0 ||
             strcmp(a, "--source") == 0 || strcmp(a, "--http") == 0) && v) {
            if (nspecs == SERVE_MAX)
                return nb_cmd_usage_error(cmd, "at most %d services", SERVE_MAX);
            struct serve_spec *sp = &specs[nspecs];
            memset(sp, 0, sizeof *sp);
            sp->kind = a + 2;
            if (!parse_spec(v, sp))
                return nb_cmd_usage_error(cmd, "bad service address '%s' (e.g. tcp:7, udp:7, "
                                               "vsock:5000, tcp:[::]:7)", v);
            if (sp->udp && strcmp(sp->kind, "echo") != 0)
                return nb_cmd_usage_error(cmd, "only echo works over udp");
            if (sp->addr.family == NB_AF_VSOCK && !o.vsock_uds && !o.vsock_dev) {
                /* checked again below, once all options are known */
            }
            nspecs++;
            i++;
        } else if (strcmp(a, "--backlog") == 0 && v) {
            backlog = atoi(v);
            i++;
        } else if (strcmp(a, "--source-bytes") == 0 && v) {
            source_bytes = strtoull(v, NULL, 10);
            i++;
        } else {
            return nb_cmd_usage_error(cmd, "unknown argument '%s'", a);
        }
    }
    if (!nspecs)
        return nb_cmd_usage_error(cmd, "give at least one service, e.g. --echo tcp:7");
    for (int k = 0; k < nspecs; k++)
        if (specs[k].addr.family == NB_AF_VSOCK && !o.vsock_uds && !o.vsock_dev)
            return nb_cmd_usage_error(cmd, "vsock services need --vsock-uds PATH or --vsock-dev SPEC");
    struct nb_instance in;
    if (nb_instance_start(&in, &o) != 0)
        return 1;
    struct nb_svc *svcs[SERVE_MAX] = {0};
    int rc = 0;
    for (int k = 0; k < nspecs && rc == 0; k++) {
        struct serve_spec *sp = &specs[k];
        if (sp->udp)
            svcs[k] = nb_svc_udp_echo_start(in.st, &sp->addr, &rc);
        else if (strcmp(sp->kind, "echo") == 0)
            svcs[k] = nb_svc_echo_start(in.st, &sp->addr, &rc);
        else if (strcmp(sp->kind, "stats") == 0)
            svcs[k] = nb_svc_stats_start(in.st, &sp->addr, &rc);
        else if (strcmp(sp->kind, "sink") == 0)
            svcs[k] = nb_svc_sink_start(in.st, &sp->addr, &rc);
        else if (strcmp(sp->kind, "source") == 0)
            svcs[k] = nb_svc_source_start(in.st, &sp->addr, source_bytes, &rc);
        else
            svcs[k] = nb_svc_http_start(in.st, &sp->addr, &rc);
        if (rc)
            fprintf(stderr, "neoboot serve: cannot start %s on %s: %s\n", sp->kind, sp->text,
                    nb_strerror(rc));
        else if (backlog > 0 && !sp->udp)
            nb_svc_set_backlog(svcs[k], backlog);
    }
    if (rc == 0) {
        printf("NeoBoot serve:");
        for (int k = 0; k < nspecs; k++)
            printf(" %s %s%s", specs[k].kind, specs[k].text, k + 1 < nspecs ? "," : "");
        printf("\n");
        fflush(stdout);
        nb_instance_serve(&in);
    }
    for (int k = nspecs; k-- > 0;)
        nb_svc_stop(svcs[k]);
    nb_instance_stop(&in);
    return rc ? 1 : 0;
}

/* --- stats (a host-side client of a running instance) --- */

int nb_cmd_stats(int argc, char **argv);
int nb_cmd_stats(int argc, char **argv)
{
    const char *cmd = "stats";
    const char *path = DEFAULT_UDS;
    uint32_t port = DEFAULT_STATS_PORT;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: neoboot stats [--vsock-uds PATH] [--port P]\n\n"
                   "Prints the interfaces, sockets and counters of a running NeoBoot\n"
                   "instance, asked through its hybrid-vsock bridge (default ./%s,\n"
                   "stats port %u). In a running instance's console, type 'stats'.\n",
                   DEFAULT_UDS, DEFAULT_STATS_PORT);
            return 0;
        } else if (strcmp(argv[i], "--vsock-uds") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            if (!parse_port(argv[++i], &port))
                return nb_cmd_usage_error(cmd, "--port needs a vsock port number");
        } else {
            return nb_cmd_usage_error(cmd, "unknown argument '%s'", argv[i]);
        }
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return nb_cmd_usage_error(cmd, "socket path too long");
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "neoboot stats: cannot reach %s: %s\n"
                        "(is an instance running? start one with 'neoboot demo')\n",
                path, strerror(errno));
        return 1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[32];
    int len = snprintf(req, sizeof req, "CONNECT %u\n", (unsigned)port);
    if (write(fd, req, (size_t)len) != len) {
        fprintf(stderr, "neoboot stats: write: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    /* the reply line "OK <port>\n", then the text until end of stream */
    char line[64];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        ssize_t r = read(fd, line + n, 1);
        if (r <= 0)
            break;
        if (line[n++] == '\n')
            break;
    }
    line[n] = 0;
    if (strncmp(line, "OK ", 3) != 0) {
        fprintf(stderr, "neoboot stats: the instance refused port %u "
                        "(started with another --stats-port?)\n", (unsigned)port);
        close(fd);
        return 1;
    }
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)r, stdout);
    close(fd);
    return r < 0 ? 1 : 0;
}

/* --- shell --- */

int nb_cmd_shell(int argc, char **argv);
int nb_cmd_shell(int argc, char **argv)
{
    const char *cmd = "shell";
    struct nb_instance_opts o;
    nb_instance_defaults(&o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: neoboot shell [OPTIONS]\n\n"
                   "Brings NeoBoot's network up and gives its console shell, as on a\n"
                   "machine's serial console: ifconfig, dhcp, ping, dns, wget, sha256,\n"
                   "files, boot, stats, log, help (docs/shell.md). Commands may also be\n"
                   "piped to stdin; the shell ends with them.\n\noptions:\n%s",
                   nb_instance_options_help);
            return 0;
        }
        int r = nb_instance_option(&o, argc, argv, &i, cmd);
        if (r == 2)
            return 2;
        if (r == 0)
            return nb_cmd_usage_error(cmd, "unknown argument '%s'", argv[i]);
    }
    struct nb_instance in;
    if (nb_instance_start(&in, &o) != 0)
        return 1;
    if (isatty(STDIN_FILENO))
        printf("NeoBoot shell (hosted). Type 'help' for commands, 'quit' or Ctrl-C to leave.\n");
    fflush(stdout);
    nb_instance_serve_console(&in, true);
    nb_instance_stop(&in);
    return 0;
}
