/*
 * Packet buffers.
 *
 * A packet is one contiguous allocation: the nb_pkt header followed by its
 * buffer. `data` points into the buffer after some headroom, so protocols
 * prepend headers with nb_pkt_push() without copying, and strip them on
 * receive with nb_pkt_pull().
 *
 * Ownership: exactly one party owns a packet at a time and only the owner
 * may touch or free it. nb_iface_send() passes ownership to the driver on
 * success; nb_iface_rx() passes it to the net core on success. Queues
 * (nb_pktq) link packets through `next`, which belongs to the current owner.
 *
 * All packet memory is counted against one global limit
 * (nb_pkt_set_limit), so no amount of network input can make NeoBoot
 * allocate without bound: past the limit nb_pkt_alloc() returns NULL and
 * the caller drops or backs off, and the failure is counted.
 */
#ifndef NEOBOOT_PKT_H
#define NEOBOOT_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nb_iface;

struct nb_pkt {
    struct nb_pkt *next;    /* queue link, for the current owner */
    uint8_t *data;          /* first valid byte */
    uint32_t len;           /* valid bytes from data */
    uint32_t cap;           /* buffer size (headroom + room for data) */
    struct nb_iface *iface; /* interface it arrived on, if any */
    uint64_t stamp_ns;      /* arrival time (monotonic) */
    uint8_t buf[];          /* headroom, then data */
};

/* Headroom enough for every header NeoBoot prepends (virtio-net, Ethernet,
 * IPv6, TCP with options, vsock). */
#define NB_PKT_HEADROOM 128

/* A packet with `headroom` bytes before data and room for `len` bytes;
 * data->len is set to len (contents undefined). NULL if out of memory or
 * over the global limit. */
struct nb_pkt *nb_pkt_alloc(size_t headroom, size_t len);
void nb_pkt_free(struct nb_pkt *p);
/* A deep copy (same headroom), or NULL. */
struct nb_pkt *nb_pkt_clone(const struct nb_pkt *p);

/* Grow data backwards by n bytes into the headroom; NULL if not enough. */
uint8_t *nb_pkt_push(struct nb_pkt *p, size_t n);
/* Drop n bytes from the front; NULL if shorter than n. Returns new data. */
uint8_t *nb_pkt_pull(struct nb_pkt *p, size_t n);
/* Cut the packet to len bytes (no-op if already shorter). */
void nb_pkt_trim(struct nb_pkt *p, size_t len);
static inline size_t nb_pkt_headroom(const struct nb_pkt *p)
{
    return (size_t)(p->data - p->buf);
}

struct nb_pkt_stats {
    uint64_t live;         /* packets allocated and not freed */
    uint64_t live_bytes;   /* their buffer bytes */
    uint64_t peak_bytes;
    uint64_t alloc_fail;   /* refused: out of memory or over the limit */
    uint64_t limit_bytes;
};
void nb_pkt_get_stats(struct nb_pkt_stats *out);
/* Set the cap on total packet buffer bytes (default 64 MiB). */
void nb_pkt_set_limit(uint64_t bytes);

/* A bounded FIFO of packets. */
struct nb_pktq {
    struct nb_pkt *head, *tail;
    uint32_t count;
    uint32_t limit;   /* 0: unbounded (only for queues bounded elsewhere) */
    uint64_t bytes;   /* sum of len */
};

static inline void nb_pktq_init(struct nb_pktq *q, uint32_t limit)
{
    q->head = q->tail = NULL;
    q->count = 0;
    q->limit = limit;
    q->bytes = 0;
}
static inline bool nb_pktq_full(const struct nb_pktq *q)
{
    return q->limit && q->count >= q->limit;
}
/* Append; false (packet still the caller's) when full. */
bool nb_pktq_push(struct nb_pktq *q, struct nb_pkt *p);
/* Put back at the front (e.g. after a refused send); ignores the limit. */
void nb_pktq_push_front(struct nb_pktq *q, struct nb_pkt *p);
struct nb_pkt *nb_pktq_pop(struct nb_pktq *q);
/* Free every packet in the queue. */
void nb_pktq_purge(struct nb_pktq *q);

#endif
