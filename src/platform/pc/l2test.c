/*
 * The built-in L2 test responder (`neoboot.test=echo`), for proving the
 * virtio-net driver end to end against Linux's IP stack before the real
 * TCP/IP stack (lwIP, integrated separately) lands on pc. It answers ARP
 * requests for one configured IPv4 address and ICMP echo requests sent to
 * it, and ignores everything else. Test mode only: lwIP replaces it.
 *
 * It takes the interface's receive path the way a protocol family would
 * (ifc->input) and answers in place: the request's packet is rewritten
 * into the reply and sent, so a flood costs no allocation. Without test
 * mode, nb_pc_l2_log_attach() installs an input that only logs frames at
 * debug level and frees them.
 *
 * The `txburst N` shell command sends N broadcast frames of the local
 * experimental EtherType 0x88b5 as fast as the driver takes them: when the
 * transmit ring is full (NB_ENOBUFS) it keeps the refused frame and resumes
 * from ifc->tx_ready, so a host counting the frames sees every one. This
 * exercises the driver's back-pressure and completion path.
 */
#include "pc.h"

#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/shell.h>
#include <neoboot/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(l2test);

static uint8_t my_ip[4];
static struct {
    uint64_t arp_replies, echo_replies, ignored, bad, tx_fail;
} st;

static uint16_t csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void reply(struct nb_iface *ifc, struct nb_pkt *p, uint64_t *counter)
{
    uint8_t *eth = p->data;
    memcpy(eth, eth + 6, 6);
    memcpy(eth + 6, ifc->mac, 6);
    int rc = nb_iface_send(ifc, p);
    if (rc == 0) {
        (*counter)++;
    } else {
        st.tx_fail++; /* a test responder may drop, as a NIC would */
        nb_pkt_free(p);
    }
}

static void handle_arp(struct nb_iface *ifc, struct nb_pkt *p)
{
    uint8_t *a = p->data + 14;
    if (p->len < 42 || nb_be16(a) != 1 || nb_be16(a + 2) != 0x0800 ||
        a[4] != 6 || a[5] != 4 || nb_be16(a + 6) != 1 ||
        memcmp(a + 24, my_ip, 4) != 0) {
        st.ignored++;
        nb_pkt_free(p);
        return;
    }
    nb_put_be16(a + 6, 2);            /* reply */
    memcpy(a + 18, a + 8, 10);        /* target = requester (mac, ip) */
    memcpy(a + 8, ifc->mac, 6);       /* sender = us */
    memcpy(a + 14, my_ip, 4);
    nb_pkt_trim(p, 42);
    reply(ifc, p, &st.arp_replies);
}

static void handle_ipv4(struct nb_iface *ifc, struct nb_pkt *p)
{
    uint8_t *ip = p->data + 14;
    size_t avail = p->len - 14;
    if (avail < 20 || (ip[0] >> 4) != 4) {
        st.bad++;
        nb_pkt_free(p);
        return;
    }
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = nb_be16(ip + 2);
    if (ihl < 20 || total < ihl + 8 || total > avail || csum(ip, ihl) != 0) {
        st.bad++;
        nb_pkt_free(p);
        return;
    }
    uint8_t *icmp = ip + ihl;
    size_t ilen = total - ihl;
    if (memcmp(ip + 16, my_ip, 4) != 0 || ip[9] != 1 ||
        (nb_be16(ip + 6) & 0x3fff) != 0 /* fragment */ || icmp[0] != 8 ||
        icmp[1] != 0 || csum(icmp, ilen) != 0) {
        st.ignored++;
        nb_pkt_free(p);
        return;
    }
    icmp[0] = 0; /* echo reply */
    nb_put_be16(icmp + 2, 0);
    nb_put_be16(icmp + 2, csum(icmp, ilen));
    uint8_t tmp[4];
    memcpy(tmp, ip + 12, 4);
    memcpy(ip + 12, ip + 16, 4);
    memcpy(ip + 16, tmp, 4);
    ip[8] = 64;
    nb_put_be16(ip + 10, 0);
    nb_put_be16(ip + 10, csum(ip, ihl));
    nb_pkt_trim(p, 14 + total);
    reply(ifc, p, &st.echo_replies);
}

static void echo_input(struct nb_iface *ifc, struct nb_pkt *p)
{
    if (p->len < 14) {
        st.bad++;
        nb_pkt_free(p);
        return;
    }
    uint16_t type = nb_be16(p->data + 12);
    if (type == 0x0806)
        handle_arp(ifc, p);
    else if (type == 0x0800)
        handle_ipv4(ifc, p);
    else {
        st.ignored++;
        nb_pkt_free(p);
    }
}

void nb_pc_l2test_attach(struct nb_iface *ifc, const uint8_t ip[4])
{
    memcpy(my_ip, ip, 4);
    ifc->input = echo_input;
    NB_INFO("%s: test responder for %u.%u.%u.%u (ARP, ICMP echo)", ifc->name,
            ip[0], ip[1], ip[2], ip[3]);
}

static void log_input(struct nb_iface *ifc, struct nb_pkt *p)
{
    const uint8_t *d = p->data;
    if (p->len >= 14)
        NB_DEBUG("%s: rx %u bytes %02x:%02x:%02x:%02x:%02x:%02x -> "
                 "%02x:%02x:%02x:%02x:%02x:%02x type %04x",
                 ifc->name, p->len, d[6], d[7], d[8], d[9], d[10], d[11], d[0],
                 d[1], d[2], d[3], d[4], d[5], nb_be16(d + 12));
    nb_pkt_free(p);
}

void nb_pc_l2_log_attach(struct nb_iface *ifc)
{
    ifc->input = log_input;
}

#define BURST_TYPE 0x88b5
#define BURST_LEN 1000

static struct {
    struct nb_iface *ifc;
    struct nb_pkt *held;   /* refused by the full ring, sent first next time */
    uint32_t left, sent, busy, resumed;
    uint64_t t0;
} burst;

static void burst_pump(struct nb_iface *ifc)
{
    while (burst.left) {
        struct nb_pkt *p = burst.held;
        burst.held = NULL;
        if (!p) {
            p = nb_pkt_alloc(NB_PKT_HEADROOM, BURST_LEN);
            if (!p) {
                NB_WARN("txburst: out of packet memory");
                burst.left = 0;
                break;
            }
            memset(p->data, 0xff, 6);
            memcpy(p->data + 6, ifc->mac, 6);
            nb_put_be16(p->data + 12, BURST_TYPE);
            nb_put_be32(p->data + 14, burst.sent);
            memset(p->data + 18, 0x5a, BURST_LEN - 18);
        }
        int rc = nb_iface_send(ifc, p);
        if (rc == NB_ENOBUFS) {
            burst.held = p; /* ours still; tx_ready brings us back */
            burst.busy++;
            return;
        }
        if (rc != 0) {
            NB_WARN("txburst: send failed: %s", nb_strerror(rc));
            nb_pkt_free(p);
            burst.left = 0;
            break;
        }
        burst.sent++;
        burst.left--;
    }
    uint64_t dt = nb_clock_ns() - burst.t0;
    NB_INFO("txburst: done, %u frames sent in %llu ms, ring full %u times, "
            "resumed %u times", burst.sent,
            (unsigned long long)(dt / 1000000), burst.busy, burst.resumed);
    ifc->tx_ready = NULL;
}

static void burst_tx_ready(struct nb_iface *ifc)
{
    burst.resumed++;
    burst_pump(ifc);
}

static int cmd_txburst(int argc, char **argv, nb_print_fn print, void *arg)
{
    struct nb_iface *ifc = nb_iface_find("eth0");
    if (argc != 2 || !ifc || !ifc->up) {
        print(arg, "usage: txburst N (eth0 must be up)");
        return NB_EINVAL;
    }
    if (burst.left)
        return NB_EBUSY;
    burst.left = (uint32_t)strtoul(argv[1], NULL, 0);
    burst.sent = burst.busy = burst.resumed = 0;
    burst.t0 = nb_clock_ns();
    ifc->tx_ready = burst_tx_ready;
    burst_pump(ifc);
    return 0;
}

static struct nb_shell_cmd txburst_cmd = {
    "txburst", "txburst N",
    "send N broadcast test frames on eth0 as fast as the ring takes them",
    cmd_txburst, NULL};

void nb_pc_l2test_register(void)
{
    nb_shell_register(&txburst_cmd);
}

void nb_pc_l2test_print(void (*print)(void *arg, const char *line), void *arg)
{
    char line[160];
    snprintf(line, sizeof line,
             "l2test: %llu ARP replies, %llu echo replies, %llu ignored, "
             "%llu malformed, %llu send failures",
             (unsigned long long)st.arp_replies,
             (unsigned long long)st.echo_replies, (unsigned long long)st.ignored,
             (unsigned long long)st.bad, (unsigned long long)st.tx_fail);
    print(arg, line);
}
