/*
 * libFuzzer target: arbitrary Ethernet frames into the inet family while it
 * is busy being a client and a server.
 *
 * Each input builds a fresh stack on one end of a memlink (the other end is
 * the fuzzer's wire), puts it in motion, then delivers frames decoded from
 * the input. Random bytes rarely pass lwIP's checksums, so most records
 * are templates: the fuzzer supplies the interesting part and we wrap it
 * in valid Ethernet/IP/UDP/TCP headers with correct checksums, addressed to
 * what the stack is waiting for (its DHCP transaction id, its DNS query's
 * port and id, its TCP connection's sequence numbers).
 *
 * Input: a mode byte (bit 0 clear: static address with a TCP listener, a
 * TCP connect, a UDP socket, a DNS lookup and a ping in flight; set: a DHCP
 * client in SELECTING; bit 1: the listener answers with SYN cookies), then
 * records [kind u8][len u16le][bytes].
 */
#include <neoboot/err.h>
#include <neoboot/inet.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/pkt.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include "../unit/inet_csum.h"
#include "memlink.h"
#include "net/inet/inet_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t OUR_IP[4] = {10, 0, 0, 2};
static const uint8_t PEER_IP[4] = {10, 0, 0, 1};
static const uint8_t PEER_MAC[6] = {0x02, 0xfe, 0x00, 0x00, 0x00, 0x01};

/* What the stack sent, learned from its frames on the wire. */
static struct {
    uint8_t our_mac[6];
    uint32_t dhcp_xid;
    uint16_t dns_port, dns_id;
    uint16_t tcp_port;
    uint32_t tcp_seq;
    uint16_t ping_id;
    uint32_t listener_isn; /* our SYN-ACK's (a cookie, in cookie mode) */
} seen;

static void wire_input(struct nb_iface *ifc, struct nb_pkt *p)
{
    (void)ifc;
    const uint8_t *f = p->data;
    if (p->len >= 14)
        memcpy(seen.our_mac, f + 6, 6);
    if (p->len >= 14 + 20 && f[12] == 0x08 && f[13] == 0x00) {
        const uint8_t *ip = f + 14;
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        if (ihl >= 20 && p->len >= 14 + ihl + 8) {
            const uint8_t *l4 = ip + ihl;
            if (ip[9] == 17) {
                uint16_t sport = nb_be16(l4), dport = nb_be16(l4 + 2);
                if (dport == 67 && p->len >= 14 + ihl + 8 + 8)
                    seen.dhcp_xid = nb_be32(l4 + 8 + 4);
                if (dport == 53 && p->len >= 14 + ihl + 8 + 2) {
                    seen.dns_port = sport;
                    seen.dns_id = nb_be16(l4 + 8);
                }
            } else if (ip[9] == 6 && p->len >= 14 + ihl + 20) {
                if ((l4[13] & 0x12) == 0x02) { /* our SYN */
                    seen.tcp_port = nb_be16(l4);
                    seen.tcp_seq = nb_be32(l4 + 4);
                } else if ((l4[13] & 0x12) == 0x12 && nb_be16(l4) == 80) {
                    seen.listener_isn = nb_be32(l4 + 4);
                }
            } else if (ip[9] == 1 && l4[0] == 8) {
                seen.ping_id = nb_be16(l4 + 4);
            }
        }
    }
    nb_pkt_free(p);
}

static struct nb_iface *stack_end;

static void deliver(const uint8_t *frame, size_t len)
{
    struct nb_pkt *p = nb_pkt_alloc(NB_PKT_HEADROOM, len);
    if (!p)
        return;
    memcpy(p->data, frame, len);
    nb_iface_rx_or_drop(stack_end, p);
}

/* Ethernet + IPv4 + (UDP|TCP|ICMP) around payload, checksums right. */
static void send_ip4(uint8_t proto, const uint8_t *l4, size_t l4len, const uint8_t dst[4])
{
    static uint8_t f[14 + 20 + 65535];
    if (l4len > 1400)
        l4len = 1400;
    memcpy(f, seen.our_mac, 6);
    memcpy(f + 6, PEER_MAC, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    nb_put_be16(ip + 2, (uint16_t)(20 + l4len));
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, PEER_IP, 4);
    memcpy(ip + 16, dst, 4);
    nb_put_be16(ip + 10, fold(sum16(ip, 20, 0)));
    memcpy(ip + 20, l4, l4len);
    uint8_t *t = ip + 20;
    if (proto == 17 || proto == 6) {
        int off = proto == 17 ? 6 : 16;
        if ((size_t)off + 2 <= l4len) {
            t[off] = t[off + 1] = 0;
            uint8_t pseudo[12];
            memcpy(pseudo, ip + 12, 8);
            pseudo[8] = 0;
            pseudo[9] = proto;
            nb_put_be16(pseudo + 10, (uint16_t)l4len);
            uint16_t c = fold(sum16(t, l4len, sum16(pseudo, 12, 0)));
            nb_put_be16(t + off, c ? c : 0xFFFF);
        }
    } else if (proto == 1 && l4len >= 4) {
        t[2] = t[3] = 0;
        nb_put_be16(t + 2, fold(sum16(t, l4len, 0)));
    }
    deliver(f, 14 + 20 + l4len);
}

static void udp(uint16_t sport, uint16_t dport, const uint8_t *payload, size_t n,
                const uint8_t dst[4])
{
    uint8_t seg[1408];
    if (n > sizeof seg - 8)
        n = sizeof seg - 8;
    nb_put_be16(seg, sport);
    nb_put_be16(seg + 2, dport);
    nb_put_be16(seg + 4, (uint16_t)(8 + n));
    memcpy(seg + 8, payload, n);
    send_ip4(17, seg, 8 + n, dst);
}

static void record(uint8_t kind, const uint8_t *b, size_t n)
{
    uint8_t buf[1400] = {0};
    size_t m = n < sizeof buf ? n : sizeof buf;
    memcpy(buf, b, m);
    static const uint8_t bcast[4] = {255, 255, 255, 255};
    switch (kind % 8) {
    case 0: /* a raw frame, as is */
        deliver(b, n);
        break;
    case 1: { /* DHCP reply for our transaction */
        uint8_t d[576] = {0};
        size_t k = m < sizeof d ? m : sizeof d;
        memcpy(d, buf, k);
        if (k < 240)
            k = 240 + (k & 63);
        d[0] = 2;
        d[1] = 1;
        d[2] = 6;
        nb_put_be32(d + 4, seen.dhcp_xid);
        memcpy(d + 28, seen.our_mac, 6);
        d[236] = 99, d[237] = 130, d[238] = 83, d[239] = 99;
        udp(67, 68, d, k, (k & 2) ? bcast : OUR_IP);
        break;
    }
    case 2: { /* DNS answer to our query */
        if (m < 12)
            m = 12;
        nb_put_be16(buf, seen.dns_id);
        buf[2] |= 0x80; /* a response */
        udp(53, seen.dns_port, buf, m, OUR_IP);
        break;
    }
    case 3: { /* TCP to our connection or our listener */
        uint8_t seg[1400];
        size_t k = m < 20 ? 20 : m;
        memcpy(seg, buf, m);
        if (m < 20)
            memset(seg + m, 0, 20 - m);
        bool to_listener = (k & 1) != 0;
        nb_put_be16(seg, 1234);
        nb_put_be16(seg + 2, to_listener ? 80 : seen.tcp_port);
        if (!to_listener)
            nb_put_be32(seg + 8, seen.tcp_seq + 1 + (uint32_t)(buf[0] & 3));
        else if (buf[0] & 1)
            nb_put_be32(seg + 8, seen.listener_isn + 1); /* ACK our SYN-ACK / cookie */
        uint8_t hl = (uint8_t)(seg[12] >> 4);
        if (hl < 5 || (size_t)hl * 4 > k)
            seg[12] = (uint8_t)(5 << 4 | (seg[12] & 15));
        send_ip4(6, seg, k, OUR_IP);
        break;
    }
    case 4: { /* ICMP: an echo reply to our ping, or anything */
        if (m < 8)
            m = 8;
        if (buf[0] & 1) {
            buf[0] = 0;
            buf[1] = 0;
            nb_put_be16(buf + 4, seen.ping_id);
            nb_put_be16(buf + 6, 1);
        }
        send_ip4(1, buf, m, OUR_IP);
        break;
    }
    case 5: { /* ARP reply: the peer's MAC */
        uint8_t f[42];
        memcpy(f, seen.our_mac, 6);
        memcpy(f + 6, PEER_MAC, 6);
        f[12] = 0x08, f[13] = 0x06;
        uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 2};
        memcpy(arp + 8, PEER_MAC, 6);
        memcpy(arp + 14, PEER_IP, 4);
        memcpy(arp + 18, seen.our_mac, 6);
        memcpy(arp + 24, OUR_IP, 4);
        if (m >= 1 && (buf[0] & 1))
            arp[7] = 1; /* a request instead */
        memcpy(f + 14, arp, 28);
        deliver(f, sizeof f);
        break;
    }
    case 6: /* UDP to our bound socket */
        udp(9, 5000, buf, m, OUR_IP);
        break;
    default: { /* an IPv6 frame with the fuzzer's next header and payload */
        uint8_t f[14 + 40 + 1400];
        memcpy(f, seen.our_mac, 6);
        memcpy(f + 6, PEER_MAC, 6);
        f[12] = 0x86, f[13] = 0xdd;
        uint8_t *ip6 = f + 14;
        memset(ip6, 0, 40);
        ip6[0] = 0x60;
        size_t pl = m > 1 ? m - 1 : 0;
        nb_put_be16(ip6 + 4, (uint16_t)pl);
        ip6[6] = m ? buf[0] : 58;
        ip6[7] = 255;
        ip6[8] = 0xfe, ip6[9] = 0x80, ip6[23] = 1; /* fe80::1 */
        ip6[24] = 0xff, ip6[25] = 0x02, ip6[39] = 1; /* ff02::1 */
        memcpy(ip6 + 40, buf + (m ? 1 : 0), pl);
        if (ip6[6] == 58 && pl >= 4) { /* ICMPv6: a correct checksum */
            uint8_t *icmp = ip6 + 40;
            icmp[2] = icmp[3] = 0;
            uint32_t s = sum16(ip6 + 8, 32, 0);
            s += (uint32_t)pl + 58;
            nb_put_be16(icmp + 2, fold(sum16(icmp, pl, s)));
        }
        deliver(f, 14 + 40 + pl);
        break;
    }
    }
}

/* Run what is due without waiting: posted work and expired timers. */
static void settle(void)
{
    for (int i = 0; i < 64; i++)
        if (nb_loop_run_once(nb_clock_ns()) == 0)
            break;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        nb_log_configure("off");
        quiet = true;
    }
    if (size < 1)
        return 0;
    memset(&seen, 0, sizeof seen);
    struct nb_memlink *ml = nb_memlink_new("fz0", "fz1", NB_LINK_ETHERNET, 0, 0);
    struct nb_stack *st = nb_stack_new("fuzz");
    stack_end = nb_memlink_end(ml, 0);
    struct nb_iface *wire = nb_memlink_end(ml, 1);
    nb_stack_attach(st, stack_end);
    nb_iface_start(stack_end);
    nb_iface_start(wire);
    wire->input = wire_input;
    memcpy(seen.our_mac, stack_end->mac, 6);

    nb_sock *l = NULL, *c = NULL, *u = NULL;
    struct nb_dns_query *q = NULL;
    struct nb_ping *pg = NULL;
    inet_tcp_set_cookie_threshold((data[0] & 2) ? 0 : 256);
    if (data[0] & 1) {
        nb_inet_dhcp_start(stack_end);
    } else {
        nb_inet_set_ip4(stack_end, OUR_IP, 24, PEER_IP);
        struct nb_addr dns = nb_addr_ip4(PEER_IP, 53);
        nb_inet_dns_set(0, &dns);
        const uint8_t any[4] = {0};
        struct nb_addr la = nb_addr_ip4(any, 80), ua = nb_addr_ip4(any, 5000);
        struct nb_addr peer = nb_addr_ip4(PEER_IP, 1234);
        if (nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &l) == 0) {
            nb_setopt(l, NB_SO_NONBLOCK, 1);
            nb_bind(l, &la);
            nb_listen(l, 2);
        }
        if (nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &c) == 0) {
            nb_setopt(c, NB_SO_NONBLOCK, 1);
            nb_connect(c, &peer);
        }
        if (nb_socket(st, NB_AF_INET, NB_SOCK_DGRAM, &u) == 0) {
            nb_setopt(u, NB_SO_NONBLOCK, 1);
            nb_bind(u, &ua);
        }
        nb_dns_start(st, "fuzz.test", 0, NB_NS_PER_S, NULL, NULL, &q);
        nb_ping_start(st, &peer, 1, 32, NB_NS_PER_S, NULL, NULL, &pg);
    }
    settle();

    size_t i = 1;
    while (i + 3 <= size) {
        uint8_t kind = data[i];
        size_t n = nb_le16(data + i + 1);
        i += 3;
        if (n > size - i)
            n = size - i;
        record(kind, data + i, n);
        i += n;
        settle();
        /* the application side reads what it can, as a server would */
        char buf[2048];
        nb_sock *a;
        if (l && nb_accept(l, &a, NULL) == 0) {
            nb_recv(a, buf, sizeof buf, NB_MSG_DONTWAIT);
            nb_send(a, "ok", 2, NB_MSG_DONTWAIT);
            nb_close(a);
        }
        if (c) {
            nb_recv(c, buf, sizeof buf, NB_MSG_DONTWAIT);
            nb_send(c, "hello", 5, NB_MSG_DONTWAIT);
        }
        if (u) {
            struct nb_addr from;
            nb_recvfrom(u, buf, 16, NB_MSG_DONTWAIT | NB_MSG_TRUNC, &from);
        }
        if (q)
            nb_dns_poll(q, NULL);
        settle();
    }
    nb_dns_free(q);
    nb_ping_free(pg);
    if (c)
        nb_close(c);
    if (u)
        nb_close(u);
    if (l)
        nb_close(l);
    nb_stack_free(st);
    nb_memlink_free(ml);
    struct nb_pkt_stats ps;
    nb_pkt_get_stats(&ps);
    if (ps.live) {
        fprintf(stderr, "fuzz_inet: %llu packets leaked\n", (unsigned long long)ps.live);
        abort();
    }
    return 0;
}
