/*
 * TAP interfaces (see tap.h): /dev/net/tun with IFF_TAP|IFF_NO_PI, so each
 * read or write is exactly one Ethernet frame. The fd is non-blocking and
 * sits in the event loop's epoll set (nb_hosted_watch).
 *
 * Receive: on EPOLLIN we read up to RX_BATCH frames straight into packet
 * buffers and hand each to the net core (lossy: a full FIFO drops and
 * counts). If packet memory is exhausted the frame is read into scratch
 * and dropped, so a level-triggered fd never spins.
 *
 * Transmit: one write per frame; the kernel copies it, so the packet is
 * freed at once. EAGAIN means the kernel's queue is full: the caller keeps
 * the packet (NB_ENOBUFS) and we report tx-ready on EPOLLOUT.
 */
#define _GNU_SOURCE
#include "tap.h"

#include "hosted.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/pkt.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

NB_LOG_MODULE(tap);

#define RX_BATCH 64
#define FRAME_MAX (65535 + 14)

struct tap_dev {
    struct nb_iface ifc;
    int fd;
    bool want_out;
    uint32_t frame_max;
    uint64_t rx_nomem;
    uint8_t scratch[FRAME_MAX];
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

static void tap_watch(struct tap_dev *d)
{
    nb_hosted_rewatch(d->fd, EPOLLIN | (d->want_out ? EPOLLOUT : 0));
}

static void tap_event(void *arg, int fd, uint32_t ev)
{
    struct tap_dev *d = arg;
    if (ev & EPOLLOUT) {
        d->want_out = false;
        tap_watch(d);
        nb_iface_tx_ready(&d->ifc);
    }
    if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    for (int i = 0; i < RX_BATCH; i++) {
        struct nb_pkt *p = nb_pkt_alloc(0, d->frame_max);
        uint8_t *buf = p ? p->data : d->scratch;
        ssize_t n = read(fd, buf, p ? d->frame_max : sizeof d->scratch);
        if (n <= 0) {
            nb_pkt_free(p);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                NB_DEBUG("%s: read: %s", d->ifc.name, strerror(errno));
            return;
        }
        if (!p) {
            d->rx_nomem++;
            d->ifc.stats.rx_dropped++;
            continue;
        }
        nb_pkt_trim(p, (size_t)n);
        nb_iface_rx_or_drop(&d->ifc, p);
    }
}

static int tap_start(struct nb_iface *ifc)
{
    struct tap_dev *d = ifc->priv;
    int rc = nb_hosted_watch(d->fd, EPOLLIN, tap_event, d);
    if (rc)
        return rc;
    nb_iface_set_link(ifc, true);
    return 0;
}

static int tap_send(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    struct tap_dev *d = ifc->priv;
    ssize_t n = write(d->fd, pkt->data, pkt->len);
    if (n == (ssize_t)pkt->len) {
        nb_pkt_free(pkt);
        return 0;
    }
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

static void tap_stop(struct nb_iface *ifc)
{
    struct tap_dev *d = ifc->priv;
    nb_hosted_unwatch(d->fd);
    nb_iface_set_link(ifc, false);
}

static const struct nb_iface_ops tap_ops = {
    .start = tap_start,
    .send = tap_send,
    .stop = tap_stop,
};

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
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", tapname);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        *err = err_of(errno);
        NB_ERROR("TAP %s: %s%s", tapname, strerror(errno),
                 errno == EPERM ? " (create it with 'ip tuntap add mode tap NAME', "
                                  "or run in a namespace you administer)" : "");
        close(fd);
        return NULL;
    }
    struct tap_dev *d = calloc(1, sizeof *d);
    if (!d) {
        close(fd);
        *err = NB_ENOMEM;
        return NULL;
    }
    d->fd = fd;
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
    d->frame_max = mtu + 14 + 4; /* room for a VLAN tag we will drop */
    snprintf(d->ifc.name, sizeof d->ifc.name, "%s", name);
    d->ifc.link = NB_LINK_ETHERNET;
    d->ifc.ops = &tap_ops;
    d->ifc.priv = d;
    d->ifc.mtu = mtu + 14;
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
        free(d);
        *err = rc;
        return NULL;
    }
    NB_INFO("%s: TAP %s, MTU %u", name, tapname, (unsigned)mtu);
    return &d->ifc;
}

void nb_tap_close(struct nb_iface *ifc)
{
    if (!ifc)
        return;
    struct tap_dev *d = ifc->priv;
    nb_iface_unregister(ifc);
    close(d->fd);
    free(d);
}
