/*
 * IPv4 and IPv6: interface configuration, status, DNS and ping.
 *
 * TCP and UDP sockets are the ordinary socket API (net.h) with NB_AF_INET
 * or NB_AF_INET6; this header is everything else the inet family (lwIP
 * 2.1.3, docs/inet.md) offers: addresses (static, DHCPv4, SLAAC), the
 * default route, DNS servers and lookups, ICMP echo, and status for
 * `ifconfig` and the WebAssembly ABI's network status.
 *
 * lwIP is one stack per process: the inet family belongs to the first
 * NeoBoot stack that attaches an Ethernet interface (or opens an inet
 * socket). Functions taking a stack return NB_EAFNOSUPPORT for another.
 *
 * DNS and ping come in two forms. The non-blocking form starts an
 * operation and returns a handle; the caller polls it (NB_EAGAIN while
 * pending) or passes a callback that runs once, from the event loop, when
 * it finishes; freeing the handle cancels it. This is what a server of
 * many guests uses. The blocking form runs the event loop until the
 * answer (like socket calls; not from loop callbacks). Every operation
 * ends in bounded time.
 */
#ifndef NEOBOOT_INET_H
#define NEOBOOT_INET_H

#include <neoboot/net.h>

#include <stdbool.h>
#include <stdint.h>

struct nb_iface;

/* --- status --- */

enum nb_dhcp_state {
    NB_DHCP_OFF = 0,        /* not running */
    NB_DHCP_SELECTING = 1,  /* DISCOVER sent, waiting for offers */
    NB_DHCP_REQUESTING = 2, /* REQUEST sent for an offer */
    NB_DHCP_BOUND = 3,      /* lease held */
    NB_DHCP_RENEWING = 4,   /* past T1: asking our server to extend */
    NB_DHCP_REBINDING = 5,  /* past T2: asking any server */
};

enum nb_ip6_state {
    NB_IP6_TENTATIVE = 1,   /* duplicate address detection running */
    NB_IP6_PREFERRED = 2,   /* usable */
    NB_IP6_DEPRECATED = 3,  /* usable for existing connections only */
    NB_IP6_DUPLICATED = 4,  /* someone else has it: unusable */
};

enum nb_ip6_origin {
    NB_IP6_LINKLOCAL = 1,   /* fe80::/64 from the MAC (EUI-64) */
    NB_IP6_SLAAC = 2,       /* from a router advertisement's prefix */
    NB_IP6_STATIC = 3,      /* set by hand (implies an on-link /64) */
};

#define NB_INET_MAX_IP6 5
#define NB_INET_BOOT_FILE_MAX 128
#define NB_INET_MAX_DNS 3

struct nb_inet_ip6 {
    uint8_t addr[16];
    uint8_t state;          /* enum nb_ip6_state */
    uint8_t origin;         /* enum nb_ip6_origin */
    uint8_t prefix_len;     /* 64 */
    uint8_t link_local;     /* 1 for fe80::/10 (needs scope = index) */
    uint32_t valid_s;       /* lifetime left, UINT32_MAX = forever */
    uint32_t preferred_s;
};

struct nb_inet_ifstatus {
    char name[16];
    uint32_t index;         /* interface index: the scope id of link-local peers */
    uint8_t mac[6];
    uint32_t mtu;           /* IP MTU (frame size minus the Ethernet header) */
    bool up, link_up;
    bool is_default;        /* carries the default route */

    bool has_ip4;
    bool static4;           /* set by hand rather than by DHCP */
    uint8_t ip4[4];
    uint8_t prefix4;        /* 0..32 */
    uint8_t gw4[4];         /* 0.0.0.0: none */

    uint32_t n_ip6;
    struct nb_inet_ip6 ip6[NB_INET_MAX_IP6];
    bool has_gw6;
    uint8_t gw6[16];        /* default router (link-local) */

    /* DHCPv4 */
    uint8_t dhcp_state;     /* enum nb_dhcp_state */
    uint8_t dhcp_server[4];
    uint32_t lease_s, t1_s, t2_s; /* as granted by the last ACK */
    uint32_t lease_left_s;  /* until the lease expires (0 when not bound) */
    uint32_t dhcp_acks;     /* leases obtained or renewed so far */
    /* network boot (from the last ACK): BOOTP file name or option 67, and
     * the next server (siaddr); "" and 0.0.0.0 when the server gave none */
    char boot_file[NB_INET_BOOT_FILE_MAX];
    uint8_t next_server[4];
};

/* Status of an Ethernet interface of the inet stack: 0, NB_ENODEV if it
 * has none. */
int nb_inet_iface_status(struct nb_iface *ifc, struct nb_inet_ifstatus *out);
/* Human names. */
const char *nb_dhcp_state_name(int state);
const char *nb_ip6_state_name(int state);

/* --- configuration --- */

/* A static IPv4 address (stops DHCP on the interface). gw may be NULL.
 * prefix 0..32. */
int nb_inet_set_ip4(struct nb_iface *ifc, const uint8_t ip[4], unsigned prefix,
                    const uint8_t gw[4]);
/* Remove the IPv4 address (and stop DHCP). */
int nb_inet_clear_ip4(struct nb_iface *ifc);
/* Add a static IPv6 address (on-link /64, duplicate detection first).
 * NB_ENOSPC when the interface has no free address slot. */
int nb_inet_add_ip6(struct nb_iface *ifc, const uint8_t ip[16]);
/* Route traffic without a more specific route through ifc. */
int nb_inet_set_default(struct nb_iface *ifc);

/* DHCPv4: start (non-blocking; bound later), stop (release: tell the
 * server and drop the address), renew now. */
int nb_inet_dhcp_start(struct nb_iface *ifc);
int nb_inet_dhcp_stop(struct nb_iface *ifc, bool release);
int nb_inet_dhcp_renew(struct nb_iface *ifc);

/* Has ifc a usable address of this family (NB_AF_INET: an IPv4 address;
 * NB_AF_INET6: a preferred non-link-local IPv6 address)? */
bool nb_inet_ready(struct nb_iface *ifc, int family);
/* Blocking: run the loop until nb_inet_ready() or timeout_ns passes
 * (NB_ETIMEDOUT) or an interrupt (NB_EINTR). */
int nb_inet_wait_ready(struct nb_iface *ifc, int family, uint64_t timeout_ns);

/* DNS servers (index 0..NB_INET_MAX_DNS-1; port ignored). Setting one by
 * hand keeps DHCP from replacing them; server NULL clears the slot. */
int nb_inet_dns_set(unsigned index, const struct nb_addr *server);
/* 0, or NB_ENOENT for an empty slot. */
int nb_inet_dns_get(unsigned index, struct nb_addr *out);

/* --- DNS lookups --- */

#define NB_DNS_MAX_ADDRS 8
#define NB_DNS_TIMEOUT_DEFAULT (5ull * 1000000000ull)

struct nb_dns_result {
    uint32_t n;                              /* addresses found */
    struct nb_addr addrs[NB_DNS_MAX_ADDRS];  /* IPv4 first, port 0 */
};

struct nb_dns_query;
typedef void (*nb_dns_done_fn)(struct nb_dns_query *q, void *arg);

/*
 * Look name up: family NB_AF_INET (A), NB_AF_INET6 (AAAA) or 0 (both).
 * timeout_ns 0 means NB_DNS_TIMEOUT_DEFAULT. Returns 0 and *out, or
 * NB_EINVAL (bad name), NB_EAFNOSUPPORT, NB_ENOBUFS (too many lookups in
 * flight). done (optional) runs once from the loop when the answer is in.
 * IP address literals answer at once.
 */
int nb_dns_start(struct nb_stack *st, const char *name, int family,
                 uint64_t timeout_ns, nb_dns_done_fn done, void *arg,
                 struct nb_dns_query **out);
/* NB_EAGAIN while pending; then 0 (res filled), NB_ENOENT (no such name
 * or no address of that family), NB_ETIMEDOUT, NB_ENETUNREACH (no DNS
 * server). res may be NULL. */
int nb_dns_poll(struct nb_dns_query *q, struct nb_dns_result *res);
/* Forget the query, pending or not; its callback never runs afterwards. */
void nb_dns_free(struct nb_dns_query *q);
/* Blocking form. */
int nb_dns_resolve(struct nb_stack *st, const char *name, int family,
                   uint64_t timeout_ns, struct nb_dns_result *res);

/* --- ICMP echo (ping) --- */

struct nb_ping_result {
    uint64_t rtt_ns;
    uint32_t bytes;         /* ICMP payload bytes in the reply */
    uint8_t ttl;            /* IPv4 TTL / IPv6 hop limit of the reply */
    struct nb_addr from;
};

struct nb_ping;
typedef void (*nb_ping_done_fn)(struct nb_ping *p, void *arg);

/* Send one echo request with `payload` bytes (0..65000) and sequence
 * number seq to dst (IPv4 or IPv6; a link-local IPv6 address needs its
 * scope_id unless there is only one interface). timeout_ns 0: 1 s. */
int nb_ping_start(struct nb_stack *st, const struct nb_addr *dst, uint16_t seq,
                  size_t payload, uint64_t timeout_ns, nb_ping_done_fn done,
                  void *arg, struct nb_ping **out);
/* NB_EAGAIN while waiting; 0 with res filled on a reply; NB_ETIMEDOUT. */
int nb_ping_poll(struct nb_ping *p, struct nb_ping_result *res);
void nb_ping_free(struct nb_ping *p);
/* Blocking form. */
int nb_ping(struct nb_stack *st, const struct nb_addr *dst, uint16_t seq,
            size_t payload, uint64_t timeout_ns, struct nb_ping_result *res);

#endif
