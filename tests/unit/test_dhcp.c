/*
 * The DHCPv4 client against a scripted server on the other end of a
 * memlink: the normal exchange, renewal at T1 (unicast), rebinding at T2
 * (broadcast) when the server stops answering, expiry back to SELECTING,
 * a NAK, release, and replies that must be ignored (wrong xid, wrong MAC,
 * no magic cookie). Leases are a few seconds long so the whole life of one
 * fits in a test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <neoboot/err.h>
#include <neoboot/inet.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/pkt.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include "inet_csum.h"
#include "memlink.h"

#include <stdio.h>
#include <string.h>

static const uint8_t SRV_IP[4] = {10, 9, 0, 1};
static const uint8_t SRV_MAC[6] = {0x02, 0xaa, 0, 0, 0, 1};
static const uint8_t LEASED[4] = {10, 9, 0, 77};

static struct nb_memlink *ml;
static struct nb_stack *st;
static struct nb_iface *client;

/* what the server saw */
static struct {
    int discovers, requests, releases;
    int unicast_requests, broadcast_requests;
    uint32_t xid;
    uint8_t mac[6];
    bool answer;       /* reply at all */
    bool nak;          /* NAK the next REQUEST */
    uint32_t lease, t1, t2;
} srv;

/* A DHCP reply of `type`, with a chosen xid and MAC (to test filtering). */
static void reply(uint8_t type, uint32_t xid, const uint8_t mac[6], bool cookie)
{
    uint8_t d[300] = {0};
    d[0] = 2, d[1] = 1, d[2] = 6;
    nb_put_be32(d + 4, xid);
    if (type != 6)
        memcpy(d + 16, LEASED, 4);
    memcpy(d + 28, mac, 6);
    if (cookie)
        d[236] = 99, d[237] = 130, d[238] = 83, d[239] = 99;
    uint8_t *o = d + 240;
    uint8_t opts[] = {53, 1, type, 54, 4, SRV_IP[0], SRV_IP[1], SRV_IP[2], SRV_IP[3],
                      1, 4, 255, 255, 255, 0, 3, 4, SRV_IP[0], SRV_IP[1], SRV_IP[2], SRV_IP[3],
                      6, 4, SRV_IP[0], SRV_IP[1], SRV_IP[2], SRV_IP[3]};
    memcpy(o, opts, sizeof opts);
    o += sizeof opts;
    uint32_t v[3] = {srv.lease, srv.t1, srv.t2};
    uint8_t codes[3] = {51, 58, 59};
    for (int i = 0; i < 3; i++) {
        *o++ = codes[i];
        *o++ = 4;
        nb_put_be32(o, v[i]);
        o += 4;
    }
    *o++ = 255;
    size_t dlen = sizeof d;

    struct nb_pkt *p = nb_pkt_alloc(NB_PKT_HEADROOM, 14 + 20 + 8 + dlen);
    uint8_t *f = p->data;
    memset(f, 0xff, 6); /* broadcast */
    memcpy(f + 6, SRV_MAC, 6);
    f[12] = 0x08, f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    nb_put_be16(ip + 2, (uint16_t)(20 + 8 + dlen));
    ip[8] = 64, ip[9] = 17;
    memcpy(ip + 12, SRV_IP, 4);
    memset(ip + 16, 0xff, 4);
    nb_put_be16(ip + 10, fold(sum16(ip, 20, 0)));
    uint8_t *u = ip + 20;
    nb_put_be16(u, 67);
    nb_put_be16(u + 2, 68);
    nb_put_be16(u + 4, (uint16_t)(8 + dlen));
    u[6] = u[7] = 0; /* no UDP checksum: allowed over IPv4 */
    memcpy(u + 8, d, dlen);
    nb_iface_rx_or_drop(client, p);
}

/* The server's side of the wire. */
static void server_input(struct nb_iface *ifc, struct nb_pkt *p)
{
    (void)ifc;
    const uint8_t *f = p->data;
    if (p->len >= 14 + 28 && f[12] == 0x08 && f[13] == 0x06) {
        /* ARP for the server: answer it (renewals are unicast) */
        uint8_t r[42];
        memcpy(r, f + 6, 6);
        memcpy(r + 6, SRV_MAC, 6);
        r[12] = 0x08, r[13] = 0x06;
        uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 2};
        memcpy(arp + 8, SRV_MAC, 6);
        memcpy(arp + 14, SRV_IP, 4);
        memcpy(arp + 18, f + 14 + 8, 6);
        memcpy(arp + 24, f + 14 + 14, 4);
        memcpy(r + 14, arp, 28);
        if (memcmp(f + 14 + 24, SRV_IP, 4) == 0) {
            struct nb_pkt *q = nb_pkt_alloc(NB_PKT_HEADROOM, sizeof r);
            memcpy(q->data, r, sizeof r);
            nb_iface_rx_or_drop(client, q);
        }
    } else if (p->len >= 14 + 20 + 8 + 240 && f[12] == 0x08 && f[14 + 9] == 17 &&
               nb_be16(f + 14 + 20 + 2) == 67) {
        const uint8_t *d = f + 14 + 20 + 8;
        bool unicast = f[14 + 16] != 255;
        srv.xid = nb_be32(d + 4);
        memcpy(srv.mac, d + 28, 6);
        uint8_t type = 0;
        for (size_t i = 240; i + 2 < p->len - 42; i += (size_t)2 + d[i + 1]) {
            if (d[i] == 255)
                break;
            if (d[i] == 53)
                type = d[i + 2];
        }
        if (type == 1) {
            srv.discovers++;
            if (srv.answer)
                reply(2, srv.xid, srv.mac, true);
        } else if (type == 3) {
            srv.requests++;
            if (unicast)
                srv.unicast_requests++;
            else
                srv.broadcast_requests++;
            if (srv.answer) {
                reply(srv.nak ? 6 : 5, srv.xid, srv.mac, true);
                srv.nak = false;
            }
        } else if (type == 7) {
            srv.releases++;
        }
    }
    nb_pkt_free(p);
}

static int setup(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof srv);
    srv.answer = true;
    srv.lease = 3;
    srv.t1 = 1;
    srv.t2 = 2;
    ml = nb_memlink_new("dh0", "dh1", NB_LINK_ETHERNET, 0, 0);
    st = nb_stack_new("dhcp-test");
    client = nb_memlink_end(ml, 0);
    struct nb_iface *wire = nb_memlink_end(ml, 1);
    nb_stack_attach(st, client);
    nb_iface_start(client);
    nb_iface_start(wire);
    wire->input = server_input;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nb_stack_free(st);
    nb_memlink_free(ml);
    return 0;
}

static void run_ms(uint64_t ms)
{
    nb_loop_run_until(NULL, NULL, nb_clock_ns() + ms * NB_NS_PER_MS);
}

static uint8_t dstate(void)
{
    struct nb_inet_ifstatus s;
    nb_inet_iface_status(client, &s);
    return s.dhcp_state;
}

static void test_bound_renew_release(void **state)
{
    (void)state;
    assert_int_equal(nb_inet_dhcp_start(client), 0);
    assert_int_equal(nb_inet_wait_ready(client, NB_AF_INET, 3 * NB_NS_PER_S), 0);
    struct nb_inet_ifstatus s;
    nb_inet_iface_status(client, &s);
    assert_int_equal(s.dhcp_state, NB_DHCP_BOUND);
    assert_memory_equal(s.ip4, LEASED, 4);
    assert_int_equal(s.prefix4, 24);
    assert_memory_equal(s.gw4, SRV_IP, 4);
    assert_int_equal(s.lease_s, 3);
    assert_int_equal(s.t1_s, 1);
    assert_int_equal(s.t2_s, 2);
    struct nb_addr dns;
    assert_int_equal(nb_inet_dns_get(0, &dns), 0);
    assert_memory_equal(dns.u.ip4, SRV_IP, 4);
    /* T1 = 1 s: a unicast renewal, answered */
    run_ms(1500);
    assert_true(srv.unicast_requests >= 1);
    nb_inet_iface_status(client, &s);
    assert_int_equal(s.dhcp_state, NB_DHCP_BOUND);
    assert_true(s.dhcp_acks >= 2);
    assert_int_equal(nb_inet_dhcp_stop(client, true), 0);
    run_ms(50);
    assert_int_equal(srv.releases, 1);
    assert_false(nb_inet_ready(client, NB_AF_INET));
}

static void test_rebind_and_expiry(void **state)
{
    (void)state;
    assert_int_equal(nb_inet_dhcp_start(client), 0);
    assert_int_equal(nb_inet_wait_ready(client, NB_AF_INET, 3 * NB_NS_PER_S), 0);
    srv.answer = false; /* the server goes quiet */
    run_ms(1300);
    assert_int_equal(dstate(), NB_DHCP_RENEWING);
    run_ms(1000);
    assert_int_equal(dstate(), NB_DHCP_REBINDING);
    assert_true(srv.broadcast_requests >= 1);
    assert_true(nb_inet_ready(client, NB_AF_INET)); /* still leased */
    run_ms(1200);
    /* past 3 s: the lease is gone and discovery starts over */
    assert_int_equal(dstate(), NB_DHCP_SELECTING);
    assert_false(nb_inet_ready(client, NB_AF_INET));
    srv.answer = true;
    assert_int_equal(nb_inet_wait_ready(client, NB_AF_INET, 5 * NB_NS_PER_S), 0);
}

static void test_nak(void **state)
{
    (void)state;
    assert_int_equal(nb_inet_dhcp_start(client), 0);
    assert_int_equal(nb_inet_wait_ready(client, NB_AF_INET, 3 * NB_NS_PER_S), 0);
    srv.nak = true;
    int before = srv.discovers;
    assert_int_equal(nb_inet_dhcp_renew(client), 0);
    run_ms(100);
    /* NAK: address dropped, DISCOVER again, then bound again */
    assert_true(srv.discovers > before);
    assert_int_equal(nb_inet_wait_ready(client, NB_AF_INET, 3 * NB_NS_PER_S), 0);
    assert_int_equal(dstate(), NB_DHCP_BOUND);
}

static void test_ignores_strangers(void **state)
{
    (void)state;
    srv.answer = false;
    assert_int_equal(nb_inet_dhcp_start(client), 0);
    run_ms(100);
    assert_int_equal(srv.discovers, 1);
    uint8_t other[6] = {2, 0, 0, 0, 0, 9};
    reply(2, srv.xid + 1, srv.mac, true);   /* wrong transaction */
    reply(2, srv.xid, other, true);         /* someone else's MAC */
    reply(2, srv.xid, srv.mac, false);      /* no magic cookie */
    reply(5, srv.xid, srv.mac, true);       /* an ACK while selecting */
    run_ms(100);
    assert_int_equal(dstate(), NB_DHCP_SELECTING);
    assert_int_equal(srv.requests, 0);
    reply(2, srv.xid, srv.mac, true);       /* the real offer */
    run_ms(100);
    assert_int_equal(srv.requests, 1);
    assert_int_equal(dstate(), NB_DHCP_REQUESTING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bound_renew_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebind_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ignores_strangers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
