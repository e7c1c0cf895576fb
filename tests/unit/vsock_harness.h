/*
 * Test harness for vsock: two stacks (CID 3 and CID 4) joined by a memlink,
 * or one stack facing a "raw peer" end driven by the test, which builds
 * packets by hand and sees everything the stack sends.
 */
#ifndef VSOCK_HARNESS_H
#define VSOCK_HARNESS_H

#include <neoboot/err.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/pkt.h>
#include <neoboot/platform.h>
#include <neoboot/vsock.h>

#include "memlink.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CID_A 3
#define CID_B 4

struct pair {
    struct nb_memlink *ml;
    struct nb_stack *a, *b;
};

static inline void pair_up(struct pair *p, bool raw_b)
{
    p->ml = nb_memlink_new("vsa", "vsb", NB_LINK_VSOCK, CID_A, CID_B);
    p->a = nb_stack_new("A");
    p->b = raw_b ? NULL : nb_stack_new("B");
    nb_stack_attach(p->a, nb_memlink_end(p->ml, 0));
    if (p->b)
        nb_stack_attach(p->b, nb_memlink_end(p->ml, 1));
    nb_iface_start(nb_memlink_end(p->ml, 0));
    nb_iface_start(nb_memlink_end(p->ml, 1));
}

static inline void pair_down(struct pair *p)
{
    nb_stack_free(p->a);
    if (p->b)
        nb_stack_free(p->b);
    nb_memlink_free(p->ml);
    struct nb_pkt_stats ps;
    nb_pkt_get_stats(&ps);
    /* every packet buffer came back */
    if (ps.live != 0) {
        fprintf(stderr, "pair_down: %llu packets (%llu bytes) still live\n",
                (unsigned long long)ps.live, (unsigned long long)ps.live_bytes);
        abort();
    }
}

/* Run the loop until cond holds or `ms` pass; true if cond held. */
static inline bool run_until(bool (*cond)(void *), void *arg, uint64_t ms)
{
    return nb_loop_run_until(cond, arg, nb_clock_ns() + ms * NB_NS_PER_MS) == 0;
}

/* Run everything already set in motion (so a loaded machine cannot make a
 * short wait end before the work ran), then keep running for `ms`. */
static inline void run_for(uint64_t ms)
{
    for (int i = 0; i < 1000000 && nb_loop_run_once(nb_clock_ns()) > 0; i++)
        ;
    nb_loop_run_until(NULL, NULL, nb_clock_ns() + ms * NB_NS_PER_MS);
}

static inline bool stacks_empty(void *arg)
{
    struct pair *p = arg;
    return nb_stack_objects(p->a) == 0 && (!p->b || nb_stack_objects(p->b) == 0);
}

/* Let close handshakes finish: true once both stacks hold nothing. */
static inline bool settle(struct pair *p)
{
    return run_until(stacks_empty, p, 10000);
}

/* --- raw peer --- */

#define RAW_MAX 4096
struct raw_peer {
    struct nb_iface *ifc;
    struct nb_pkt *got[RAW_MAX];
    int n;
};
static struct raw_peer raw;

static inline void raw_input(struct nb_iface *ifc, struct nb_pkt *p)
{
    (void)ifc;
    if (raw.n < RAW_MAX)
        raw.got[raw.n++] = p;
    else
        nb_pkt_free(p);
}

static inline void raw_attach(struct pair *p)
{
    memset(&raw, 0, sizeof raw);
    raw.ifc = nb_memlink_end(p->ml, 1);
    raw.ifc->input = raw_input;
}

static inline void raw_clear(void)
{
    for (int i = 0; i < raw.n; i++)
        nb_pkt_free(raw.got[i]);
    raw.n = 0;
}

static inline void raw_hdr(int i, struct nb_vsock_hdr *h)
{
    nb_vsock_hdr_decode(raw.got[i]->data, h);
}

/* Send a packet from the raw peer (CID_B) with an explicit header and
 * payload; hdr_len_override < 0 means hdr.len = payload length. */
static inline int raw_send_full(uint16_t op, uint16_t type, uint32_t src_port,
                                uint32_t dst_port, uint32_t flags,
                                uint32_t buf_alloc, uint32_t fwd_cnt,
                                const void *payload, uint32_t plen,
                                int64_t hdr_len_override, uint64_t dst_cid)
{
    struct nb_pkt *p = nb_pkt_alloc(NB_PKT_HEADROOM, NB_VSOCK_HDR_LEN + plen);
    struct nb_vsock_hdr h = {
        .src_cid = CID_B, .dst_cid = dst_cid,
        .src_port = src_port, .dst_port = dst_port,
        .len = hdr_len_override >= 0 ? (uint32_t)hdr_len_override : plen,
        .type = type, .op = op, .flags = flags,
        .buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt,
    };
    nb_vsock_hdr_encode(p->data, &h);
    if (plen)
        memcpy(p->data + NB_VSOCK_HDR_LEN, payload, plen);
    /* Respect the link's backpressure like a real device would. */
    for (int tries = 0; tries < 100000; tries++) {
        int rc = nb_iface_send(raw.ifc, p);
        if (rc != NB_ENOBUFS) {
            if (rc != 0)
                nb_pkt_free(p);
            return rc;
        }
        nb_loop_run_once(nb_clock_ns());
        if (raw.n > RAW_MAX / 2)
            raw_clear();
    }
    nb_pkt_free(p);
    return NB_ENOBUFS;
}

static inline int raw_send(uint16_t op, uint32_t src_port, uint32_t dst_port,
                           uint32_t flags, uint32_t buf_alloc, uint32_t fwd_cnt,
                           const void *payload, uint32_t plen)
{
    return raw_send_full(op, NB_VSOCK_TYPE_STREAM, src_port, dst_port, flags,
                         buf_alloc, fwd_cnt, payload, plen, -1, CID_A);
}

/* Count packets the stack sent with op (since the last raw_clear). */
static inline int raw_count(uint16_t op)
{
    int k = 0;
    for (int i = 0; i < raw.n; i++) {
        struct nb_vsock_hdr h;
        raw_hdr(i, &h);
        if (h.op == op)
            k++;
    }
    return k;
}

static inline int raw_find(uint16_t op, struct nb_vsock_hdr *out)
{
    for (int i = 0; i < raw.n; i++) {
        raw_hdr(i, out);
        if (out->op == op)
            return i;
    }
    return -1;
}

static inline bool raw_has_op(void *arg)
{
    return raw_count((uint16_t)(uintptr_t)arg) > 0;
}

#endif
