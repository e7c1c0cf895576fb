/*
 * Capabilities: what the embedder lets a WebAssembly app do on the network.
 *
 * A capability set holds rules of two kinds, each "allow" only (anything
 * not allowed is refused with NB_EACCES):
 *
 *   listen  PROTO:PORTS               tcp:8080  udp:5353  vsock:5000-5010
 *   connect PROTO:HOST:PORTS          tcp:10.0.2.2:80  tcp:10.0.0.0/8:*
 *                                     tcp:[fd00::/8]:443  vsock:2:9000
 *                                     tcp:*:443  any
 *
 * PROTO is tcp, udp, vsock, or * (any of them). PORTS is a port, a range
 * A-B, or *. HOST is an IPv4/IPv6 address with optional /prefix, a vsock
 * CID, or *. The word `any` alone allows everything of that kind.
 * Text rules are parsed once with nb_caps_add(); checks are cheap.
 * docs/abi.md lists the defaults each embedder grants.
 */
#ifndef NEOBOOT_CAPS_H
#define NEOBOOT_CAPS_H

#include <neoboot/net.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_CAPS_MAX_RULES 64

enum nb_cap_kind { NB_CAP_LISTEN = 1, NB_CAP_CONNECT = 2 };
enum nb_cap_proto { NB_CAP_TCP = 1, NB_CAP_UDP = 2, NB_CAP_VSOCK = 4, NB_CAP_ANYPROTO = 7 };

struct nb_cap_rule {
    uint8_t kind;      /* enum nb_cap_kind */
    uint8_t protos;    /* enum nb_cap_proto bits */
    uint8_t family;    /* NB_AF_INET/INET6/VSOCK for a host match, 0 = any host */
    uint8_t prefix;    /* bits of addr that must match (inet) */
    uint8_t addr[16];  /* IPv4 in the first 4 bytes */
    uint32_t cid;      /* vsock */
    uint32_t port_lo, port_hi;
};

struct nb_caps {
    struct nb_cap_rule rules[NB_CAPS_MAX_RULES];
    size_t n;
    bool boot;         /* may stage and boot a kernel (network boot ABI) */
};

void nb_caps_init(struct nb_caps *c);
/* Parse and add one rule of `kind`. 0, NB_EINVAL (malformed: *why explains,
 * if non-NULL) or NB_ENOSPC. */
int nb_caps_add(struct nb_caps *c, enum nb_cap_kind kind, const char *text,
                const char **why);

/* May the app listen on (family, type, local port)? 0 or NB_EACCES. */
int nb_caps_check_listen(const struct nb_caps *c, int family, int type, uint32_t port);
/* May it connect (stream) or send datagrams (dgram) to addr? 0 or NB_EACCES. */
int nb_caps_check_connect(const struct nb_caps *c, int type, const struct nb_addr *addr);

/* The rules as text, one per line, for logs and `stats`. */
void nb_caps_print(const struct nb_caps *c, nb_print_fn print, void *arg);

#endif
