/*
 * memlink: two interfaces joined back to back inside one process, for tests
 * and benchmarks. What one end sends, the other receives, optionally through
 * seeded fault injection (drop, duplicate, reorder, delay, corrupt,
 * truncate), so every run with the same seed misbehaves the same way.
 *
 * A memlink is lossless unless told to drop: packets the receiver cannot
 * take yet wait in a bounded transit queue, and when that is full the
 * sender gets NB_ENOBUFS and a tx-ready callback later, as with a real
 * device whose ring is full.
 */
#ifndef NEOBOOT_MEMLINK_H
#define NEOBOOT_MEMLINK_H

#include <neoboot/iface.h>

#include <stdint.h>

/* Probabilities are in parts per million. */
struct nb_memlink_faults {
    uint64_t seed;
    uint32_t drop_ppm;
    uint32_t duplicate_ppm;
    uint32_t reorder_ppm;   /* hold a packet back behind the next one */
    uint32_t corrupt_ppm;   /* flip one random bit */
    uint32_t truncate_ppm;  /* cut to a random shorter length */
    uint64_t delay_ns;      /* added to every packet, order kept */
    uint64_t jitter_ns;     /* up to this much more, order kept */
};

struct nb_memlink_stats {
    uint64_t sent, delivered, dropped, duplicated, reordered, corrupted, truncated;
    uint64_t sender_blocked; /* NB_ENOBUFS returned to the sender */
};

struct nb_memlink;

/* Two interfaces named name_a and name_b, registered (not started). For
 * NB_LINK_VSOCK give each end's CID; for Ethernet, MACs are derived. */
struct nb_memlink *nb_memlink_new(const char *name_a, const char *name_b,
                                  enum nb_link link, uint64_t cid_a,
                                  uint64_t cid_b);
/* Unregisters both ends and frees packets in transit. */
void nb_memlink_free(struct nb_memlink *ml);
/* side 0 = a, 1 = b */
struct nb_iface *nb_memlink_end(struct nb_memlink *ml, int side);
/* Faults applied to what `side` sends. */
void nb_memlink_set_faults(struct nb_memlink *ml, int side,
                           const struct nb_memlink_faults *f);
/* Transit queue bound per direction (default 1024 packets). */
void nb_memlink_set_transit_limit(struct nb_memlink *ml, uint32_t packets);
void nb_memlink_get_stats(struct nb_memlink *ml, int side,
                          struct nb_memlink_stats *out);

#endif
