/*
 * TAP interfaces (see tap.h): /dev/net/tun with IFF_TAP|IFF_NO_PI, in the
 * event loop's epoll set (nb_hosted_watch), non-blocking.
 *
 * Offloads. Every frame through a TAP costs a system call and, on the
 * Linux side, a full trip through its TCP stack, run in our thread; at
 * 1500 bytes a frame that is most of the cost of TCP. So, like QEMU's
 * virtio-net, we open the TAP with IFF_VNET_HDR (each frame carries a
 * virtio_net_hdr) and offer TSO and checksum offload (TUNSETOFFLOAD):
 *
 *   receive: Linux hands us whole TSO bursts (up to 64 KiB) with the TCP
 *   checksum left partial (the data never left its memory) and we pass
 *   the frame up as one large TCP segment (lwIP takes segments larger
 *   than the MTU), so one read and one pass through lwIP carry 44
 *   segments. TCP checksums of other frames are verified here.
 *
 *   transmit: lwIP sends MSS-sized segments in bursts. Consecutive
 *   segments of one TCP flow are merged here into one frame marked for
 *   GSO (gso_size = MSS) and written once, flushed from loop work after
 *   the burst; Linux takes it as one packet (it segments only if it must
 *   forward it). Anything else goes out as it came.
 *
 * TCP checksums are the driver's job both ways (nb_iface.offload): lwIP
 * neither computes nor checks them on this interface, we mark segments for
 * Linux to complete, and a capture shows them unfinished, as on Linux with
 * offloads. NEOBOOT_TAP_OFFLOAD=0 in the environment turns offloads off (for
 * comparisons); they are also off if the kernel refuses them.
 *
 * Receive reads straight into a spare maximum-size packet; small frames are
 * copied into a right-sized one so the FIFO does not hold 64 KiB per ACK.
 * If packet memory is exhausted the frame is read into scratch and dropped,
 * so a level-triggered fd never spins. Transmit: the kernel copies what we
 * write, so packets are freed at once; EAGAIN means its queue is full: we
 * say NB_ENOBUFS and report tx-ready on EPOLLOUT.
 */
#define _GNU_SOURCE
#include "tap.h"

#include "hosted.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/pkt.h>
#include <neoboot/util.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

NB_LOG_MODULE(tap);

#define RX_BATCH 64
#define VNET 10                               /* sizeof(struct virtio_net_hdr) */
#define RX_MAX (VNET + 14 + 4 + 65535)        /* a GSO frame, VLAN tag room */
#define COPY_BELOW 16384                       /* smaller frames get their own buffer */
/* Headroom of receive buffers: inet builds its zero-copy pbuf there, and
 * 64 + VNET puts IP headers on 16-byte boundaries. */
#define RX_HEADROOM 64
#define CO_MAX (14 + 65535)                    /* one IP packet's worth */

struct tap_dev {
    struct nb_iface ifc;
    int fd;
    bool want_out;
    bool vnet;             /* frames carry a virtio_net_hdr */
    bool gso;              /* TSO/checksum offload both ways */
    struct nb_pkt *spare;  /* receive buffer of RX_MAX */

    /* transmit coalescing: one frame being built from a TCP burst */
    uint8_t *co;           /* VNET header room, then the frame */
    size_t co_len;         /* frame bytes */
    unsigned co_segs;
    bool co_short;         /* a short segment ended the run */
    bool co_v6;
    size_t co_l4, co_hdrs; /* TCP header offset, payload offset */
    uint16_t co_mss;
    uint32_t co_next_seq;
    struct nb_work flush_work;

    uint64_t gso_rx, gso_tx, gso_tx_segs, csum_done, csum_bad, rx_nomem;
    uint8_t scratch[RX_MAX];
};

static int err_of(int e)
{
    switch (e) {
    case EPERM:
    case EACCES: return NB_EPERM;
    case ENOENT:
    case ENODEV: return NB_ENODEV;
    case EBUSY: return NB_EBUSY;
    case EINVAL: return NB_EINVAL;
    default: return NB_EIO;
    }
}

/* --- checksums --- */

/* One's-complement sum of n bytes at p (even offset from the start of the
 * checksummed area), folded to 16 bits in network order. Native-order
 * loads: the sum is the byte swap of the network-order sum. */
static uint16_t csum16(const uint8_t *p, size_t n, uint32_t start)
{
    uint64_t s = 0;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        s += (v & 0xFFFFFFFFu) + (v >> 32);
        p += 8;
        n -= 8;
    }
    while (n >= 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        s += v;
        p += 2;
        n -= 2;
    }
    if (n)
        s += *p; /* the high byte of a big-endian word, low of a native one */
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    uint16_t be = (uint16_t)((s >> 8 | s << 8) & 0xFFFF);
    uint32_t t = (uint32_t)be + start;
    while (t >> 16)
        t = (t & 0xFFFF) + (t >> 16);
    return (uint16_t)t;
}

/* Where the TCP header of a frame starts, for checksum offload: IPv4 (any
 * header length, not a fragment) or IPv6 (hop-by-hop, routing and
 * destination options headers skipped; not a fragment). 0: not TCP, or
 * TCP we cannot take apart (*odd is set then). */
static size_t tcp_l4(const uint8_t *f, size_t len, bool *v6, bool *odd)
{
    *odd = false;
    if (len < 14 + 20)
        return 0;
    uint16_t type = nb_be16(f + 12);
    if (type == 0x0800) {
        const uint8_t *ip = f + 14;
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20)
            return 0;
        if ((nb_be16(ip + 6) & 0x3FFF) || 14 + ihl + 20 > len) {
            *odd = true; /* a fragment of TCP, or too short */
            return 0;
        }
        *v6 = false;
        return 14 + ihl;
    }
    if (type != 0x86DD || len < 14 + 40)
        return 0;
    uint8_t next = f[14 + 6];
    size_t off = 14 + 40;
    for (int hops = 0; hops < 8 && (next == 0 || next == 43 || next == 60); hops++) {
        if (off + 8 > len)
            return 0;
        next = f[off];
        off += ((size_t)f[off + 1] + 1) * 8;
    }
    if (next == 44) {
        /* a fragment: if it carries TCP, its checksum spans all of them */
        if (off + 8 <= len && f[off] == 6)
            *odd = true;
        return 0;
    }
    if (next != 6)
        return 0;
    if (off + 20 > len) {
        *odd = true;
        return 0;
    }
    *v6 = true;
    return off;
}

/* The TCP pseudo-header's sum (16 bits, network order, not complemented). */
static uint16_t tcp_pseudo(const uint8_t *f, bool v6, size_t tcplen)
{
    return v6 ? csum16(f + 14 + 8, 32, 6 + (uint32_t)tcplen)
              : csum16(f + 14 + 12, 8, 6 + (uint32_t)tcplen);
}

/* --- transmit --- */

static void tap_watch(struct tap_dev *d)
{
    nb_hosted_rewatch(d->fd, EPOLLIN | (d->want_out ? EPOLLOUT : 0));
}

static int write_frame(struct tap_dev *d, const uint8_t *hdr, const uint8_t *frame, size_t len)
{
    static const uint8_t zero[VNET];
    struct iovec iov[2] = {{(void *)(hdr ? hdr : zero), VNET}, {(void *)frame, len}};
    ssize_t n = d->vnet ? writev(d->fd, iov, 2) : write(d->fd, frame, len);
    size_t want = len + (d->vnet ? VNET : 0);
    if (n == (ssize_t)want)
        return 0;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!d->want_out) {
            d->want_out = true;
            tap_watch(d);
        }
        return NB_ENOBUFS;
    }
    /* EIO: the Linux side is down; the frame is lost, as on a cable. */
    return NB_EIO;
}

/* Send what the coalescing buffer holds. */
static int co_flush(struct tap_dev *d)
{
    if (!d->co_len)
        return 0;
    uint8_t *f = d->co + VNET;
    uint8_t hdr[VNET] = {0};
    size_t l3 = 14, tcplen = d->co_len - d->co_l4;
    if (d->co_segs > 1) {
        if (!d->co_v6) {
            nb_put_be16(f + l3 + 2, (uint16_t)(d->co_len - l3));
            f[l3 + 10] = f[l3 + 11] = 0;
            nb_put_be16(f + l3 + 10, (uint16_t)~csum16(f + l3, 20, 0));
        } else {
            nb_put_be16(f + l3 + 4, (uint16_t)(d->co_len - l3 - 40));
        }
        hdr[1] = d->co_v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
        nb_put_le16(hdr + 2, (uint16_t)d->co_hdrs);
        nb_put_le16(hdr + 4, d->co_mss);
    }
    /* partial checksum: the pseudo-header's sum, completed by Linux (lwIP
     * leaves TCP checksums to us: NB_IFACE_TX_TCP_CSUM) */
    nb_put_be16(f + d->co_l4 + 16, tcp_pseudo(f, d->co_v6, tcplen));
    hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    nb_put_le16(hdr + 6, (uint16_t)d->co_l4);
    nb_put_le16(hdr + 8, 16);
    int rc = write_frame(d, hdr, f, d->co_len);
    if (rc == NB_ENOBUFS)
        return rc; /* kept; EPOLLOUT retries */
    if (rc == 0 && d->co_segs > 1) {
        d->gso_tx++;
        d->gso_tx_segs += d->co_segs;
    }
    d->co_len = 0;
    d->co_segs = 0;
    return rc;
}

static void flush_work(struct nb_work *w)
{
    struct tap_dev *d = NB_CONTAINER_OF(w, struct tap_dev, flush_work);
    co_flush(d);
}

/* A TCP segment that may be merged with its neighbours: plain IPv4
 * (no options, not a fragment) or IPv6 without extension headers, data,
 * ACK set and no SYN/FIN/RST/URG. Fills the offsets. */
static bool tcp_data_segment(const uint8_t *f, size_t len, bool *v6, size_t *l4,
                             size_t *hdrs)
{
    if (len < 14 + 20 + 20)
        return false;
    uint16_t type = nb_be16(f + 12);
    if (type == 0x0800) {
        const uint8_t *ip = f + 14;
        if (ip[0] != 0x45 || ip[9] != 6 || (nb_be16(ip + 6) & 0x3FFF) ||
            nb_be16(ip + 2) != len - 14)
            return false;
        *v6 = false;
        *l4 = 14 + 20;
    } else if (type == 0x86DD) {
        const uint8_t *ip = f + 14;
        if (len < 14 + 40 + 20 || (ip[0] >> 4) != 6 || ip[6] != 6 ||
            nb_be16(ip + 4) != len - 14 - 40)
            return false;
        *v6 = true;
        *l4 = 14 + 40;
    } else {
        return false;
    }
    const uint8_t *t = f + *l4;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    uint8_t flags = t[13];
    if (thl < 20 || *l4 + thl >= len || !(flags & 0x10) || (flags & 0x27))
        return false; /* needs ACK and data; no FIN(1) SYN(2) RST(4) URG(0x20) */
    *hdrs = *l4 + thl;
    return true;
}

static bool co_merge(struct tap_dev *d, const uint8_t *f, size_t len)
{
    bool v6;
    size_t l4, hdrs;
    if (!d->co_len || d->co_short || !tcp_data_segment(f, len, &v6, &l4, &hdrs))
        return false;
    const uint8_t *c = d->co + VNET;
    size_t payload = len - hdrs;
    if (v6 != d->co_v6 || l4 != d->co_l4 || hdrs != d->co_hdrs || payload > d->co_mss ||
        d->co_len + payload > CO_MAX)
        return false;
    if (memcmp(f, c, 14) != 0)                            /* Ethernet */
        return false;
    if (!v6 ? memcmp(f + 14 + 12, c + 14 + 12, 8) != 0     /* addresses */
            : memcmp(f + 14 + 8, c + 14 + 8, 32) != 0)
        return false;
    if (memcmp(f + l4, c + l4, 4) != 0 ||                  /* ports */
        nb_be32(f + l4 + 4) != d->co_next_seq ||
        memcmp(f + l4 + 8, c + l4 + 8, 4) != 0 ||          /* ack */
        memcmp(f + l4 + 14, c + l4 + 14, 2) != 0 ||        /* window */
        memcmp(f + l4 + 20, c + l4 + 20, hdrs - l4 - 20) != 0) /* options */
        return false;
    memcpy(d->co + VNET + d->co_len, f + hdrs, payload);
    d->co_len += payload;
    d->co_segs++;
    d->co_next_seq += (uint32_t)payload;
    d->co[VNET + l4 + 13] |= f[l4 + 13] & 0x08; /* PSH */
    if (payload < d->co_mss)
        d->co_short = true;
    return true;
}

static void co_start(struct tap_dev *d, const uint8_t *f, size_t len)
{
    bool v6;
    size_t l4, hdrs;
    tcp_data_segment(f, len, &v6, &l4, &hdrs);
    memcpy(d->co + VNET, f, len);
    d->co_len = len;
    d->co_segs = 1;
    d->co_short = false;
    d->co_v6 = v6;
    d->co_l4 = l4;
    d->co_hdrs = hdrs;
    d->co_mss = (uint16_t)(len - hdrs);
    d->co_next_seq = nb_be32(f + l4 + 4) + (uint32_t)(len - hdrs);
    nb_work_post(&d->flush_work);
}

static int tap_send(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    struct tap_dev *d = ifc->priv;
    if (d->gso) {
        if (co_merge(d, pkt->data, pkt->len)) {
            nb_pkt_free(pkt);
            return 0;
        }
        int rc = co_flush(d); /* keep the order of frames */
        if (rc == NB_ENOBUFS)
            return rc;
        bool v6;
        size_t l4, hdrs;
        if (tcp_data_segment(pkt->data, pkt->len, &v6, &l4, &hdrs)) {
            co_start(d, pkt->data, pkt->len);
            nb_pkt_free(pkt);
            return 0;
        }
    }
    uint8_t hdr[VNET] = {0};
    bool v6, odd;
    size_t l4 = d->gso ? tcp_l4(pkt->data, pkt->len, &v6, &odd) : 0;
    if (l4) {
        /* any other TCP segment (SYN, FIN, pure ACK...): lwIP left its
         * checksum to us as well */
        nb_put_be16(pkt->data + l4 + 16, tcp_pseudo(pkt->data, v6, pkt->len - l4));
        hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        nb_put_le16(hdr + 6, (uint16_t)l4);
        nb_put_le16(hdr + 8, 16);
    }
    int rc = write_frame(d, hdr, pkt->data, pkt->len);
    if (rc == 0)
        nb_pkt_free(pkt);
    return rc;
}

/* --- receive --- */

/* Complete a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) that lwIP will
 * check (UDP, ICMP): the field holds the pseudo-header's sum; add the rest
 * and store its complement. */
static bool finish_csum(uint8_t *f, size_t len, const uint8_t *hdr)
{
    size_t start = nb_le16(hdr + 6), off = nb_le16(hdr + 8);
    if (start + off + 2 > len || (start & 1))
        return false;
    uint16_t sum = csum16(f + start, len - start, 0);
    nb_put_be16(f + start + off, (uint16_t)~sum);
    return true;
}

/*
 * Receive checksums (we declare NB_IFACE_RX_TCP_CSUM, so lwIP does not look
 * at TCP checksums): frames marked NEEDS_CSUM come from the host kernel's
 * own memory and never had a checksum to go wrong, DATA_VALID ones were
 * verified by Linux or a NIC; for the rest we verify TCP here, and drop
 * TCP we cannot take apart (fragments, odd headers: never sent by Linux
 * to a TAP, and not to be let through unchecked).
 */
static bool rx_tcp_ok(struct tap_dev *d, const uint8_t *f, size_t len)
{
    bool v6, odd;
    size_t l4 = tcp_l4(f, len, &v6, &odd);
    if (odd) {
        d->csum_bad++;
        return false;
    }
    if (!l4)
        return true; /* not TCP: lwIP checks it */
    size_t tcplen = len - l4;
    if (!v6) {
        size_t iplen = nb_be16(f + 14 + 2);
        if (iplen < l4 - 14 || iplen > len - 14)
            return false;
        tcplen = iplen - (l4 - 14);
    }
    uint16_t sum = csum16(f + l4, tcplen, tcp_pseudo(f, v6, tcplen));
    if (sum != 0xFFFF) {
        d->csum_bad++;
        return false;
    }
    d->csum_done++;
    return true;
}

static void tap_event(void *arg, int fd, uint32_t ev)
{
    struct tap_dev *d = arg;
    if (ev & EPOLLOUT) {
        d->want_out = false;
        tap_watch(d);
        if (co_flush(d) != NB_ENOBUFS)
            nb_iface_tx_ready(&d->ifc);
    }
    if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    for (int i = 0; i < RX_BATCH; i++) {
        if (!d->spare)
            d->spare = nb_pkt_alloc(RX_HEADROOM, RX_MAX);
        struct nb_pkt *p = d->spare;
        uint8_t *buf = p ? p->data : d->scratch;
        ssize_t n = read(fd, buf, RX_MAX);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                NB_DEBUG("%s: read: %s", d->ifc.name, strerror(errno));
            return;
        }
        if (!p) {
            d->rx_nomem++;
            d->ifc.stats.rx_dropped++;
            continue;
        }
        size_t off = d->vnet ? VNET : 0;
        if ((size_t)n <= off) {
            d->ifc.stats.rx_errors++;
            continue;
        }
        uint8_t *frame = buf + off;
        size_t len = (size_t)n - off;
        if (d->gso) {
            if (buf[1] != VIRTIO_NET_HDR_GSO_NONE)
                d->gso_rx++;
            if (buf[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
                /* partial: TCP goes up as it is; anything else (UDP)
                 * gets its checksum finished for lwIP to check */
                bool v6, odd;
                size_t l4 = tcp_l4(frame, len, &v6, &odd);
                if (l4 != nb_le16(buf + 6))
                    finish_csum(frame, len, buf);
            } else if (!(buf[0] & VIRTIO_NET_HDR_F_DATA_VALID) && !rx_tcp_ok(d, frame, len)) {
                d->ifc.stats.rx_errors++;
                continue;
            }
        }
        struct nb_pkt *q;
        if (len < COPY_BELOW) {
            q = nb_pkt_alloc(0, len);
            if (!q) {
                d->rx_nomem++;
                d->ifc.stats.rx_dropped++;
                continue;
            }
            memcpy(q->data, frame, len);
        } else {
            q = p;
            d->spare = NULL;
            nb_pkt_pull(q, off);
            nb_pkt_trim(q, len);
        }
        nb_iface_rx_or_drop(&d->ifc, q);
    }
}

/* --- lifecycle --- */

static int tap_start(struct nb_iface *ifc)
{
    struct tap_dev *d = ifc->priv;
    int rc = nb_hosted_watch(d->fd, EPOLLIN, tap_event, d);
    if (rc)
        return rc;
    nb_iface_set_link(ifc, true);
    return 0;
}

static void tap_stop(struct nb_iface *ifc)
{
    struct tap_dev *d = ifc->priv;
    co_flush(d);
    d->co_len = 0;
    nb_work_cancel(&d->flush_work);
    nb_hosted_unwatch(d->fd);
    nb_iface_set_link(ifc, false);
}

static const struct nb_iface_ops tap_ops = {
    .start = tap_start,
    .send = tap_send,
    .stop = tap_stop,
};

static bool offload_wanted(void)
{
    const char *e = getenv("NEOBOOT_TAP_OFFLOAD");
    return !e || strcmp(e, "0") != 0;
}

struct nb_iface *nb_tap_open(const char *name, const char *tapname, int *err)
{
    if (strlen(tapname) >= IFNAMSIZ) {
        *err = NB_ENAMETOOLONG;
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *err = err_of(errno);
        NB_ERROR("cannot open /dev/net/tun: %s", strerror(errno));
        return NULL;
    }
    bool vnet = offload_wanted();
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", tapname);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        *err = err_of(errno);
        NB_ERROR("TAP %s: %s%s", tapname, strerror(errno),
                 errno == EPERM ? " (create it with 'ip tuntap add mode tap NAME', "
                                  "or run in a namespace you administer)" : "");
        close(fd);
        return NULL;
    }
    bool gso = false;
    if (!vnet) {
        /* offloads stay set on the device after an earlier user: clear
         * them, or Linux sends us TSO bursts with partial checksums */
        ioctl(fd, TUNSETOFFLOAD, 0u);
    } else {
        /* 64 KiB receive buffers come and go at line rate: keep freed heap
         * memory for reuse instead of returning and faulting it in again. */
        mallopt(M_MMAP_THRESHOLD, 1 << 20);
        mallopt(M_TRIM_THRESHOLD, 64 << 20);
        int sz = VNET;
        unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        if (ioctl(fd, TUNSETVNETHDRSZ, &sz) == 0 && ioctl(fd, TUNSETOFFLOAD, off) == 0)
            gso = true;
        else
            NB_WARN("TAP %s: no offloads (%s); one frame per packet", tapname, strerror(errno));
    }
    struct tap_dev *d = calloc(1, sizeof *d);
    uint8_t *co = gso ? malloc(VNET + CO_MAX) : NULL;
    if (!d || (gso && !co)) {
        free(d);
        free(co);
        close(fd);
        *err = NB_ENOMEM;
        return NULL;
    }
    d->fd = fd;
    d->vnet = vnet;
    d->gso = gso;
    d->co = co;
    nb_work_init(&d->flush_work, flush_work);
    uint32_t mtu = 1500;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s >= 0) {
        struct ifreq q;
        memset(&q, 0, sizeof q);
        snprintf(q.ifr_name, sizeof q.ifr_name, "%s", tapname);
        if (ioctl(s, SIOCGIFMTU, &q) == 0 && q.ifr_mtu >= 576 && q.ifr_mtu <= 65535)
            mtu = (uint32_t)q.ifr_mtu;
        close(s);
    }
    snprintf(d->ifc.name, sizeof d->ifc.name, "%s", name);
    d->ifc.link = NB_LINK_ETHERNET;
    d->ifc.ops = &tap_ops;
    d->ifc.priv = d;
    d->ifc.mtu = mtu + 14;
    if (gso)
        d->ifc.offload = NB_IFACE_TX_TCP_CSUM | NB_IFACE_RX_TCP_CSUM;
    /* A stable, locally administered MAC derived from the TAP's name, so
     * link-local addresses are the same from run to run. */
    uint32_t h = 2166136261u;
    for (const char *c = tapname; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    uint8_t mac[6] = {0x02, 0x4e, 0x42, (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h};
    memcpy(d->ifc.mac, mac, 6);
    int rc = nb_iface_register(&d->ifc);
    if (rc) {
        close(fd);
        free(d->co);
        free(d);
        *err = rc;
        return NULL;
    }
    NB_INFO("%s: TAP %s, MTU %u%s", name, tapname, (unsigned)mtu,
            gso ? ", TSO and checksum offload" : "");
    return &d->ifc;
}

void nb_tap_close(struct nb_iface *ifc)
{
    if (!ifc)
        return;
    struct tap_dev *d = ifc->priv;
    nb_iface_unregister(ifc);
    NB_DEBUG("%s: GSO frames in %llu, out %llu (%llu segments), TCP checksums verified %llu, "
             "bad %llu", ifc->name, (unsigned long long)d->gso_rx, (unsigned long long)d->gso_tx,
             (unsigned long long)d->gso_tx_segs, (unsigned long long)d->csum_done,
             (unsigned long long)d->csum_bad);
    nb_pkt_free(d->spare);
    close(d->fd);
    free(d->co);
    free(d);
}
