/*
 * Network interfaces and the driver contract.
 *
 * A driver fills a struct nb_iface (name, link type, operations, private
 * pointer) and registers it. The registry is looked up by name; a stack
 * (nb_stack_attach) then owns the interface and sets where its packets go.
 *
 * Receive: the driver hands each received packet to nb_iface_rx(), which
 * appends it to the interface's bounded FIFO and posts work; the event loop
 * later drains the FIFO into the protocol. When the FIFO is full,
 * nb_iface_rx() returns NB_ENOBUFS and the packet is still the driver's:
 *   - a lossy link (Ethernet) frees it and counts a drop
 *     (nb_iface_rx_or_drop does both);
 *   - a lossless link (vsock, whose transport must not lose packets) keeps
 *     it, stops pulling from the device, and resumes when the core calls
 *     ops->rx_resume().
 *
 * Transmit: nb_iface_send() calls ops->send(). On success the driver owns
 * the packet and must nb_pkt_free() it once the device is done with it (on
 * completion, not before). When the device is full, send returns
 * NB_ENOBUFS, the caller keeps the packet, and the driver later calls
 * nb_iface_tx_ready() so the protocol retries.
 */
#ifndef NEOBOOT_IFACE_H
#define NEOBOOT_IFACE_H

#include <neoboot/loop.h>
#include <neoboot/pkt.h>

#include <stdbool.h>
#include <stdint.h>

struct nb_iface;
struct nb_stack;

enum nb_link {
    NB_LINK_ETHERNET = 1, /* frames start with an Ethernet header */
    NB_LINK_VSOCK = 2,    /* packets start with a 44-byte virtio-vsock header */
};

struct nb_iface_ops {
    /* Make the device ready to send and receive. 0 or NB_E*. */
    int (*start)(struct nb_iface *ifc);
    /* Transmit pkt. 0: the driver owns pkt and frees it on completion.
     * NB_ENOBUFS: device full, caller keeps pkt, nb_iface_tx_ready() follows.
     * Other NB_E*: caller keeps pkt. Never blocks. */
    int (*send)(struct nb_iface *ifc, struct nb_pkt *pkt);
    /* Recover from a device error: drop in-flight packets (freeing them)
     * and reinitialise. Optional. */
    int (*reset)(struct nb_iface *ifc);
    /* Quiesce: no more receive calls; free every packet the driver holds. */
    void (*stop)(struct nb_iface *ifc);
    /* The FIFO has room again after a refused nb_iface_rx(). Optional
     * (lossy drivers drop instead of waiting). */
    void (*rx_resume)(struct nb_iface *ifc);
};

struct nb_iface_stats {
    uint64_t rx_packets, rx_bytes;
    uint64_t rx_dropped;   /* FIFO full on a lossy link, or no stack attached */
    uint64_t rx_refused;   /* FIFO full on a lossless link (driver waited) */
    uint64_t rx_errors;    /* malformed, counted by the protocol */
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_busy;      /* send refused with NB_ENOBUFS */
    uint64_t tx_errors;
    uint32_t rxq_high;     /* deepest the FIFO has been */
};

/* Called for every packet crossing the interface (pcap capture). */
enum nb_dir { NB_DIR_RX = 0, NB_DIR_TX = 1 };
typedef void (*nb_capture_fn)(void *arg, struct nb_iface *ifc, enum nb_dir dir,
                              const struct nb_pkt *pkt);

/* Offloads a driver may declare in nb_iface.offload:
 * TX_TCP_CSUM: the driver fills in the checksum of every TCP segment it
 *   sends, so protocols may leave it zero (they still fill IP, UDP, ICMP).
 * RX_TCP_CSUM: every TCP segment the driver delivers has a checksum known
 *   to be good (verified by the driver or device, or never at risk, like
 *   the host kernel's own memory), so protocols need not check it. */
#define NB_IFACE_TX_TCP_CSUM 0x1u
#define NB_IFACE_RX_TCP_CSUM 0x2u

#define NB_IFNAMSIZ 16
#define NB_IFACE_RXQ_DEFAULT 512

struct nb_iface {
    /* --- set by the driver before nb_iface_register() --- */
    char name[NB_IFNAMSIZ];
    enum nb_link link;
    const struct nb_iface_ops *ops;
    void *priv;
    uint8_t mac[6];      /* Ethernet only */
    uint32_t mtu;        /* largest packet the device takes (without headroom) */
    uint32_t rxq_limit;  /* 0: NB_IFACE_RXQ_DEFAULT */
    uint64_t vsock_cid;  /* vsock only: this end's CID */
    uint32_t offload;    /* NB_IFACE_* offloads the device provides (Ethernet) */

    /* --- owned by the net core --- */
    int core;            /* dedicated CPU, -1 for any */
    bool up;
    bool rx_waiting;     /* driver was refused and waits for rx_resume */
    bool link_up;        /* carrier, reported by the driver */
    struct nb_pktq rxq;
    struct nb_work rx_work;
    struct nb_work txready_work;
    struct nb_stack *stack;
    /* Where received packets go; set by the family that owns the link.
     * Takes ownership of pkt. */
    void (*input)(struct nb_iface *ifc, struct nb_pkt *pkt);
    /* Told when a refused send may be retried; set by that family. */
    void (*tx_ready)(struct nb_iface *ifc);
    void *proto;         /* the owning family's per-interface state */
    nb_capture_fn capture;
    void *capture_arg;
    struct nb_iface_stats stats;
    struct nb_iface *next;
};

/* Add to the registry. NB_EEXIST if the name is taken, NB_EINVAL if the
 * description is incomplete. */
int nb_iface_register(struct nb_iface *ifc);
/* Stop (if up), detach from its stack, free queued packets, remove. */
void nb_iface_unregister(struct nb_iface *ifc);
struct nb_iface *nb_iface_find(const char *name);
/* First registered interface, and the next one; for iteration. */
struct nb_iface *nb_iface_first(void);

/* Dedicate to CPU `core` (-1: any). NB_EINVAL if the platform lacks it. */
int nb_iface_set_core(struct nb_iface *ifc, int core);

int nb_iface_start(struct nb_iface *ifc);
void nb_iface_stop(struct nb_iface *ifc);
int nb_iface_reset(struct nb_iface *ifc);

/* Protocol side: transmit (see the contract above). */
int nb_iface_send(struct nb_iface *ifc, struct nb_pkt *pkt);

/* Driver side: a packet arrived. 0 (core owns it) or NB_ENOBUFS (FIFO
 * full; the driver still owns it). */
int nb_iface_rx(struct nb_iface *ifc, struct nb_pkt *pkt);
/* Driver side, lossy links: deliver, or free and count a drop. */
void nb_iface_rx_or_drop(struct nb_iface *ifc, struct nb_pkt *pkt);
/* Driver side: transmit space is available again. */
void nb_iface_tx_ready(struct nb_iface *ifc);
/* Driver side: carrier changed. */
void nb_iface_set_link(struct nb_iface *ifc, bool up);

void nb_iface_set_capture(struct nb_iface *ifc, nb_capture_fn fn, void *arg);

#endif
