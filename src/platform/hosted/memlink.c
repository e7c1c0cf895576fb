/*
 * memlink (see memlink.h). Each direction has a transit queue: a packet is
 * stamped with its delivery time and appended; delivery moves due packets
 * into the receiver's FIFO in order, stops when the receiver refuses
 * (resuming on rx_resume) and arms a timer for the next not-yet-due packet.
 */
#include "memlink.h"

#include <neoboot/err.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ml_dir {
    struct nb_memlink *ml;
    int from;                 /* sending side */
    struct nb_memlink_faults f;
    uint64_t rng;
    struct nb_pktq transit;
    uint64_t last_due;        /* keeps delays in order */
    struct nb_pkt *held;      /* reorder: waits behind the next packet */
    bool sender_waiting;
    struct nb_timer timer;
    struct nb_work work;
    struct nb_memlink_stats stats;
};

struct nb_memlink {
    struct nb_iface end[2];
    struct ml_dir dir[2];     /* dir[i]: from end i to end 1-i */
};

static uint64_t rng_next(struct ml_dir *d)
{
    /* xorshift64*: small, seedable, good enough for fault dice */
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static bool roll(struct ml_dir *d, uint32_t ppm)
{
    return ppm && rng_next(d) % 1000000u < ppm;
}

static void dir_deliver(struct ml_dir *d)
{
    struct nb_iface *to = &d->ml->end[1 - d->from];
    uint64_t now = nb_clock_ns();
    struct nb_pkt *p;
    while ((p = d->transit.head)) {
        if (p->stamp_ns > now) {
            nb_timer_arm(&d->timer, p->stamp_ns);
            break;
        }
        nb_pktq_pop(&d->transit);
        if (nb_iface_rx(to, p) == NB_ENOBUFS) {
            nb_pktq_push_front(&d->transit, p);
            break; /* rx_resume will call us again */
        }
        d->stats.delivered++;
    }
    if (d->sender_waiting && !nb_pktq_full(&d->transit)) {
        d->sender_waiting = false;
        nb_iface_tx_ready(&d->ml->end[d->from]);
    }
}

static void dir_timer(struct nb_timer *t)
{
    dir_deliver(NB_CONTAINER_OF(t, struct ml_dir, timer));
}

static void dir_work(struct nb_work *w)
{
    dir_deliver(NB_CONTAINER_OF(w, struct ml_dir, work));
}

static void dir_enqueue(struct ml_dir *d, struct nb_pkt *p)
{
    uint64_t due = 0;
    if (d->f.delay_ns || d->f.jitter_ns) {
        due = nb_clock_ns() + d->f.delay_ns;
        if (d->f.jitter_ns)
            due += rng_next(d) % d->f.jitter_ns;
        if (due < d->last_due)
            due = d->last_due;
        d->last_due = due;
    }
    p->stamp_ns = due;
    nb_pktq_push(&d->transit, p);
}

static int ml_send(struct nb_iface *ifc, struct nb_pkt *p)
{
    struct nb_memlink *ml = ifc->priv;
    int side = ifc == &ml->end[0] ? 0 : 1;
    struct ml_dir *d = &ml->dir[side];
    if (!ml->end[1 - side].up) {
        nb_pkt_free(p); /* no carrier: the wire eats it */
        return 0;
    }
    if (nb_pktq_full(&d->transit)) {
        d->sender_waiting = true;
        d->stats.sender_blocked++;
        return NB_ENOBUFS;
    }
    d->stats.sent++;
    if (roll(d, d->f.drop_ppm)) {
        d->stats.dropped++;
        nb_pkt_free(p);
        return 0;
    }
    if (p->len && roll(d, d->f.corrupt_ppm)) {
        uint64_t r = rng_next(d);
        p->data[r % p->len] ^= (uint8_t)(1u << (r >> 32) % 8);
        d->stats.corrupted++;
    }
    if (p->len > 1 && roll(d, d->f.truncate_ppm)) {
        nb_pkt_trim(p, rng_next(d) % p->len);
        d->stats.truncated++;
    }
    struct nb_pkt *dup = NULL;
    if (roll(d, d->f.duplicate_ppm)) {
        dup = nb_pkt_clone(p);
        if (dup)
            d->stats.duplicated++;
    }
    if (!d->held && roll(d, d->f.reorder_ppm)) {
        d->held = p;
        d->stats.reordered++;
    } else {
        dir_enqueue(d, p);
        if (d->held) {
            dir_enqueue(d, d->held);
            d->held = NULL;
        }
    }
    if (dup)
        dir_enqueue(d, dup);
    nb_work_post(&d->work);
    return 0;
}

static void ml_rx_resume(struct nb_iface *ifc)
{
    struct nb_memlink *ml = ifc->priv;
    int side = ifc == &ml->end[0] ? 0 : 1;
    nb_work_post(&ml->dir[1 - side].work);
}

static void ml_stop(struct nb_iface *ifc)
{
    struct nb_memlink *ml = ifc->priv;
    int side = ifc == &ml->end[0] ? 0 : 1;
    /* packets headed to a stopped end are lost with it */
    struct ml_dir *d = &ml->dir[1 - side];
    nb_pktq_purge(&d->transit);
    nb_timer_cancel(&d->timer);
}

static const struct nb_iface_ops ml_ops = {
    .send = ml_send,
    .stop = ml_stop,
    .rx_resume = ml_rx_resume,
};

struct nb_memlink *nb_memlink_new(const char *name_a, const char *name_b,
                                  enum nb_link link, uint64_t cid_a,
                                  uint64_t cid_b)
{
    struct nb_memlink *ml = calloc(1, sizeof *ml);
    if (!ml)
        return NULL;
    const char *names[2] = {name_a, name_b};
    uint64_t cids[2] = {cid_a, cid_b};
    for (int i = 0; i < 2; i++) {
        struct nb_iface *e = &ml->end[i];
        snprintf(e->name, sizeof e->name, "%s", names[i]);
        e->link = link;
        e->ops = &ml_ops;
        e->priv = ml;
        e->mtu = link == NB_LINK_VSOCK ? 44 + 64 * 1024 : 1514;
        e->vsock_cid = cids[i];
        /* locally administered MAC, distinct per end */
        uint8_t mac[6] = {0x02, 0x4e, 0x42, (uint8_t)(uintptr_t)ml, (uint8_t)((uintptr_t)ml >> 8), (uint8_t)i};
        memcpy(e->mac, mac, 6);
        struct ml_dir *d = &ml->dir[i];
        d->ml = ml;
        d->from = i;
        d->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)i;
        nb_pktq_init(&d->transit, 1024);
        nb_timer_init(&d->timer, dir_timer);
        nb_work_init(&d->work, dir_work);
    }
    if (nb_iface_register(&ml->end[0]) != 0) {
        free(ml);
        return NULL;
    }
    if (nb_iface_register(&ml->end[1]) != 0) {
        nb_iface_unregister(&ml->end[0]);
        free(ml);
        return NULL;
    }
    nb_iface_set_link(&ml->end[0], true);
    nb_iface_set_link(&ml->end[1], true);
    return ml;
}

void nb_memlink_free(struct nb_memlink *ml)
{
    if (!ml)
        return;
    for (int i = 0; i < 2; i++)
        nb_iface_unregister(&ml->end[i]);
    for (int i = 0; i < 2; i++) {
        struct ml_dir *d = &ml->dir[i];
        nb_pktq_purge(&d->transit);
        nb_pkt_free(d->held);
        nb_timer_cancel(&d->timer);
        nb_work_cancel(&d->work);
    }
    free(ml);
}

struct nb_iface *nb_memlink_end(struct nb_memlink *ml, int side)
{
    return &ml->end[side ? 1 : 0];
}

void nb_memlink_set_faults(struct nb_memlink *ml, int side,
                           const struct nb_memlink_faults *f)
{
    struct ml_dir *d = &ml->dir[side ? 1 : 0];
    d->f = *f;
    d->rng = f->seed ? f->seed : 0x9E3779B97F4A7C15ull ^ (uint64_t)side;
}

void nb_memlink_set_transit_limit(struct nb_memlink *ml, uint32_t packets)
{
    for (int i = 0; i < 2; i++)
        ml->dir[i].transit.limit = packets;
}

void nb_memlink_get_stats(struct nb_memlink *ml, int side,
                          struct nb_memlink_stats *out)
{
    *out = ml->dir[side ? 1 : 0].stats;
}
