/*
 * libFuzzer target for the vsock receive path, stateful: the input is a
 * script of steps, each either a raw packet delivered to the stack from
 * its peer (header fields and payload taken from the input, so lengths,
 * ops, types, CIDs, ports and credit values are all attacker-chosen) or an
 * application action (listen, connect, accept, send, recv, peek, shutdown,
 * close, set buffer). Packets are steered towards live connections often
 * enough to reach deep states. After the script every socket is closed and
 * the stack must wind down to nothing: LeakSanitizer and the checks below
 * catch leaks, ASan/UBSan catch memory and arithmetic errors.
 */
#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/pkt.h>
#include <neoboot/platform.h>
#include <neoboot/vsock.h>

#include "memlink.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SOCKS 16
#define CID_US 3
#define CID_PEER 4

struct input {
    const uint8_t *p;
    size_t n;
};

static uint8_t take8(struct input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint32_t take32(struct input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | take8(in);
    return v;
}

static void drop_input(struct nb_iface *ifc, struct nb_pkt *p)
{
    (void)ifc;
    nb_pkt_free(p); /* what the stack sends is not needed */
}

static void run_loop_briefly(void)
{
    for (int i = 0; i < 8; i++)
        nb_loop_run_once(nb_clock_ns());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        nb_log_configure("off");
        init = true;
    }
    struct input in = {data, size};
    struct nb_memlink *ml = nb_memlink_new("fz0", "fz1", NB_LINK_VSOCK, CID_US, CID_PEER);
    struct nb_stack *st = nb_stack_new("fuzz");
    struct nb_iface *us = nb_memlink_end(ml, 0), *peer = nb_memlink_end(ml, 1);
    nb_stack_attach(st, us);
    nb_iface_start(us);
    nb_iface_start(peer);
    peer->input = drop_input;
    struct nb_vsock_tunables t;
    nb_vsock_get_tunables(st, &t);
    t.connect_timeout_ns = NB_NS_PER_MS;
    t.close_timeout_ns = NB_NS_PER_MS;
    t.eph_lo = 1000;
    t.eph_hi = 1007;
    nb_vsock_set_tunables(st, &t);
    nb_stack_set_max_sockets(st, 64);

    nb_sock *socks[MAX_SOCKS] = {0};
    static uint8_t buf[70000];
    for (int steps = 0; in.n && steps < 256; steps++) {
        uint8_t op = take8(&in);
        nb_sock **slot = &socks[take8(&in) % MAX_SOCKS];
        switch (op % 12) {
        case 0: case 1: case 2: case 3: { /* a packet from the peer */
            struct nb_vsock_hdr h;
            h.src_cid = take8(&in) < 240 ? CID_PEER : take32(&in);
            h.dst_cid = take8(&in) < 240 ? CID_US : take32(&in);
            h.src_port = 5000 + take8(&in) % 4;
            h.dst_port = take8(&in) < 200 ? 100 + take8(&in) % 4 : take32(&in);
            uint32_t plen = take8(&in);
            if (plen > 250)
                plen = take32(&in) % 70000;
            h.len = take8(&in) < 230 ? plen : take32(&in);
            h.type = take8(&in) < 240 ? NB_VSOCK_TYPE_STREAM : take8(&in);
            h.op = take8(&in) % 9;
            h.flags = take8(&in);
            h.buf_alloc = take8(&in) < 128 ? 65536 : take32(&in);
            h.fwd_cnt = take8(&in) < 128 ? 0 : take32(&in);
            size_t trunc = take8(&in) < 240 ? 0 : take8(&in);
            size_t total = NB_VSOCK_HDR_LEN + plen;
            total = trunc && trunc < total ? trunc : total;
            struct nb_pkt *p = nb_pkt_alloc(NB_PKT_HEADROOM, total);
            if (!p)
                break;
            uint8_t hdr[NB_VSOCK_HDR_LEN];
            nb_vsock_hdr_encode(hdr, &h);
            memcpy(p->data, hdr, total < sizeof hdr ? total : sizeof hdr);
            for (size_t i = sizeof hdr; i < total; i++)
                p->data[i] = (uint8_t)i;
            if (nb_iface_send(peer, p) != 0)
                nb_pkt_free(p);
            break;
        }
        case 4: /* listener */
            if (!*slot && nb_socket(st, NB_AF_VSOCK, NB_SOCK_STREAM, slot) == 0) {
                struct nb_addr a = nb_addr_vsock(NB_VMADDR_CID_ANY, 100 + take8(&in) % 4);
                nb_setopt(*slot, NB_SO_NONBLOCK, 1);
                if (nb_bind(*slot, &a) == 0)
                    nb_listen(*slot, take8(&in) % 4);
            }
            break;
        case 5: /* connect */
            if (!*slot && nb_socket(st, NB_AF_VSOCK, NB_SOCK_STREAM, slot) == 0) {
                nb_setopt(*slot, NB_SO_NONBLOCK, 1);
                struct nb_addr a = nb_addr_vsock(CID_PEER, 5000 + take8(&in) % 4);
                nb_connect(*slot, &a);
            }
            break;
        case 6: /* accept into a free slot */
            if (*slot) {
                nb_sock *n;
                for (int i = 0; i < MAX_SOCKS; i++)
                    if (!socks[i]) {
                        if (nb_accept(*slot, &n, NULL) == 0) {
                            nb_setopt(n, NB_SO_NONBLOCK, 1);
                            socks[i] = n;
                        }
                        break;
                    }
            }
            break;
        case 7: /* send */
            if (*slot)
                nb_send(*slot, buf, take32(&in) % sizeof buf, 0);
            break;
        case 8: /* recv or peek */
            if (*slot) {
                uint8_t f = take8(&in);
                nb_recv(*slot, buf, take32(&in) % sizeof buf, f & 1 ? NB_MSG_PEEK : 0);
            }
            break;
        case 9:
            if (*slot)
                nb_shutdown(*slot, 1 + take8(&in) % 3);
            break;
        case 10:
            if (*slot) {
                nb_close(*slot);
                *slot = NULL;
            }
            break;
        case 11:
            if (*slot)
                nb_setopt(*slot, NB_SO_RCVBUF, take32(&in) % 300000);
            break;
        }
        run_loop_briefly();
    }
    for (int i = 0; i < MAX_SOCKS; i++)
        if (socks[i])
            nb_close(socks[i]);
    /* closing connections wait for the peer's RST or the 1 ms timeout;
     * the bound is generous because a loaded machine may not run us for a
     * while, and a real leak never ends anyway */
    uint64_t end = nb_clock_ns() + 10 * NB_NS_PER_S;
    while (nb_stack_objects(st) && nb_clock_ns() < end)
        nb_loop_run_once(nb_clock_ns() + NB_NS_PER_MS);
    if (nb_stack_objects(st) != 0)
        abort(); /* something lingers forever: a leak in the making */
    nb_stack_free(st);
    nb_memlink_free(ml);
    struct nb_pkt_stats ps;
    nb_pkt_get_stats(&ps);
    if (ps.live != 0)
        abort();
    return 0;
}
