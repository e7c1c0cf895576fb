/*
 * Internals shared by the inet family's files (not a public header).
 *
 * lwIP is one process-global stack, so the inet family binds it to one
 * NeoBoot stack: the first that attaches an Ethernet interface or opens
 * an inet socket. That stack's `struct inet_ns` (g_inet.owner) holds the
 * interfaces and connections; other stacks get NB_EBUSY/NB_EAFNOSUPPORT
 * with a log line saying why.
 *
 * Every entry into lwIP from outside lwIP's own callbacks (socket calls,
 * received frames, timers, configuration) ends with inet_leave(), which
 * re-arms the one loop timer at sys_timeouts_sleeptime() and schedules
 * delivery of loopback packets. Nothing polls.
 */
#ifndef NB_INET_PRIV_H
#define NB_INET_PRIV_H

#include "../family.h"

#include <neoboot/inet.h>
#include <neoboot/loop.h>
#include <neoboot/pkt.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

struct inet_ns;
struct dhcp4;

/* Family counters beyond lwIP's own (lwip_stats). */
struct inet_stats {
    uint64_t tcp_connects, tcp_accepts, tcp_resets, tcp_aborts;
    uint64_t tcp_connect_timeouts, tcp_close_timeouts, tcp_closed_unread;
    uint64_t tcp_lingering_done, tcp_syn_evicted, tcp_syn_dropped;
    uint64_t tcp_syn_cookies_sent, tcp_syn_cookies_ok;
    uint64_t tcp_accept_nomem, tcp_rx_coalesced;
    uint64_t udp_rx, udp_rx_dropped, udp_rx_truncated, udp_tx, udp_tx_errors;
    uint64_t rx_nobuf;       /* frames dropped: no pbuf for them */
    uint64_t tx_nomem;       /* frames dropped: no nb_pkt for them */
    uint64_t tx_queued, tx_queue_dropped; /* driver refused a frame */
};

/* One Ethernet interface as lwIP sees it. */
struct inet_if {
    struct netif nif;
    struct nb_iface *ifc;
    struct inet_ns *ns;
    struct nb_pktq txq;      /* frames the driver refused; sent on tx_ready */
    struct dhcp4 *dhcp;      /* NULL when DHCP is off */
    bool static4;            /* address set by hand */
    struct inet_if *next;
};

struct itcp;
struct iudp;

struct inet_ns {
    struct nb_stack *st;
    struct inet_if *ifs;
    struct itcp *tcps;       /* every TCP object, lingering ones included */
    struct iudp *udps;
    struct inet_stats stats;
};

struct inet_global {
    struct inet_ns *owner;   /* the stack lwIP belongs to, or NULL */
    bool lwip_ready;
    struct nb_timer timer;   /* lwIP's timeouts */
    struct nb_work loop_work; /* deliver loopback packets */
    uint8_t tcp_ext_id;      /* our slot in tcp_pcb ext_args */
    bool dns_manual;         /* servers set by hand: DHCP leaves them */
};
extern struct inet_global g_inet;

/* inet.c */
void inet_leave(void);
int inet_claim(struct inet_ns *ns, const char *why);
struct inet_ns *inet_ns_of(struct nb_stack *st);
int inet_err(int lwip_err);
void inet_to_lwip(const struct nb_addr *a, ip_addr_t *ip);
void inet_from_lwip(const ip_addr_t *ip, uint16_t port, struct nb_addr *a);
struct inet_if *inet_if_of(struct nb_iface *ifc);
struct inet_if *inet_default_if(void);

/* netif.c */
int inet_if_attach(struct inet_ns *ns, struct nb_iface *ifc);
void inet_if_detach(struct inet_ns *ns, struct nb_iface *ifc);

/* tcp.c / udp.c: socket operations for each type */
int inet_tcp_create(nb_sock *s, struct inet_ns *ns);
void inet_tcp_fini(struct inet_ns *ns);
extern const struct nb_family inet_tcp_ops;
int inet_udp_create(nb_sock *s, struct inet_ns *ns);
void inet_udp_fini(struct inet_ns *ns);
extern const struct nb_family inet_udp_ops;
void inet_tcp_describe_pcbs(nb_print_fn print, void *arg);
/* Half-open connections before SYN cookies (tests and fuzzing: 0 = always). */
void inet_tcp_set_cookie_threshold(uint32_t half_open);

/* dhcp4.c */
struct dhcp4 *inet_dhcp4_new(struct inet_if *ii);
void inet_dhcp4_free(struct dhcp4 *d, bool release);
void inet_dhcp4_status(struct dhcp4 *d, struct nb_inet_ifstatus *out);
int inet_dhcp4_renew(struct dhcp4 *d);
bool inet_dhcp4_bound(struct dhcp4 *d);

/* dns.c / ping.c */
void inet_dns_fini(void);
void inet_ping_fini(void);

/* Stable "interface is configured" notification for waiters. */
void inet_config_changed(void);

#endif
