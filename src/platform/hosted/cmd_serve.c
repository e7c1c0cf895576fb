/*
 * Commands that run a NeoBoot instance with built-in services, and the
 * clients that talk to one: `demo`, `vsock-echo`, `nc`, `stats`.
 */
#define _GNU_SOURCE
#include "commands.h"
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
#include <sys/socket.h>
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
               "ADDRESS: vsock CID:PORT (e.g. 2:9000 for the host, any:1234 with -l)\n\n"
               "options:\n"
               "  -l                     listen instead of connecting\n"
               "  -w SECONDS             connect / accept timeout (default 10)\n"
               "  -v                     report bytes moved on stderr\n%s",
               nb_instance_options_help);
        return 0;
    }
    struct nb_instance_opts o;
    nb_instance_defaults(&o);
    bool listen_mode = false, verbose = false;
    double wait_s = 10;
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
        else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
            wait_s = atof(argv[++i]);
        else if (argv[i][0] != '-' && !addr_text)
            addr_text = argv[i];
        else
            return nb_cmd_usage_error(cmd, "unknown argument '%s'", argv[i]);
    }
    struct nb_addr addr;
    if (!addr_text || nb_addr_parse(addr_text, &addr) != 0)
        return nb_cmd_usage_error(cmd, "give an address such as 2:9000 (vsock CID:PORT)");
    if (wait_s <= 0)
        return nb_cmd_usage_error(cmd, "-w needs a positive number of seconds");
    struct nb_instance in;
    if (nb_instance_start(&in, &o) != 0)
        return 1;
    int rc;
    nb_sock *s = NULL, *l = NULL;
    int64_t wait_ns = (int64_t)(wait_s * 1e9);
    if (listen_mode) {
        rc = nb_socket(in.st, addr.family, NB_SOCK_STREAM, &l);
        if (rc == 0)
            rc = nb_bind(l, &addr);
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
