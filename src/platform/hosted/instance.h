/*
 * A hosted NeoBoot instance: the default stack with the devices the
 * command line asked for (vsock through the hybrid bridge or a two-process
 * UNIX device; networks once they exist), Ctrl-C handling, and an optional
 * console reading shell commands from stdin. Commands that run services
 * share this setup and its option parsing.
 */
#ifndef NEOBOOT_INSTANCE_H
#define NEOBOOT_INSTANCE_H

#include <neoboot/net.h>

#include <stdbool.h>
#include <stdint.h>

#define NB_INSTANCE_MAX_FORWARDS 16

struct nb_instance_opts {
    uint32_t cid;            /* --cid N: this instance's vsock CID (default 3) */
    const char *vsock_uds;   /* --vsock-uds PATH: hybrid-vsock bridge */
    const char *vsock_dev;   /* --vsock-dev listen:PATH|connect:PATH */
    /* network (docs/inet.md) */
    const char *net;         /* --net slirp|tap:NAME|none (default slirp) */
    const char *forwards[NB_INSTANCE_MAX_FORWARDS]; /* -p [udp:][ADDR:]HOST:GUEST */
    unsigned nforwards;
    const char *ip4;         /* --ip A.B.C.D/P */
    const char *ip6;         /* --ip X::Y (static IPv6, in addition to SLAAC) */
    const char *gw;          /* --gw ADDR */
    const char *dns;         /* --dns ADDR */
    int dhcp;                /* --dhcp 1, --no-dhcp 0, default -1: on unless --ip */
    const char *pcap;        /* --pcap FILE */
};

struct nb_pcap;

struct nb_instance {
    struct nb_stack *st;
    struct nb_hvbridge *bridge;
    struct nb_iface *vsdev;
    struct nb_iface *eth;    /* the network interface, NULL with --net none */
    int net_kind;            /* 0 none, 1 slirp, 2 tap */
    struct nb_pcap *pcap;
};

void nb_instance_defaults(struct nb_instance_opts *o);
/* If argv[*i] is an instance option, consume it (and its value) and
 * return 1; 0 if it is not one; 2 after printing a usage error. */
int nb_instance_option(struct nb_instance_opts *o, int argc, char **argv,
                       int *i, const char *cmd);
/* Help lines for the instance options. */
extern const char nb_instance_options_help[];

/* Bring the instance up; prints what went wrong and returns NB_E*. */
int nb_instance_start(struct nb_instance *in, const struct nb_instance_opts *o);
void nb_instance_stop(struct nb_instance *in);
/* Wait (running the loop) until the network can reach addresses of this
 * family (NB_AF_INET, NB_AF_INET6; link_local: an IPv6 link-local address
 * suffices) or timeout_ns. 0, NB_ETIMEDOUT, NB_EINTR, NB_ENETDOWN (no
 * network). Prints nothing. */
int nb_instance_wait_net(struct nb_instance *in, int family, bool link_local,
                         uint64_t timeout_ns);

/* Serve until Ctrl-C/SIGTERM or the console's `quit`. A terminal on stdin
 * gets the console shell. */
void nb_instance_serve(struct nb_instance *in);
/* The same; with always, the shell also reads commands piped to stdin
 * (and ends at their end). */
void nb_instance_serve_console(struct nb_instance *in, bool always);

/* Ctrl-C interrupts blocking calls (nb_loop_interrupt). */
void nb_instance_catch_signals(void);
/* The same with another handler for SIGINT and SIGTERM (SIGPIPE ignored). */
void nb_instance_catch_signals_to(void (*handler)(int));

#endif
