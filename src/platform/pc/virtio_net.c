/*
 * The virtio-net driver: Ethernet interfaces eth0, eth1, ... on any virtio
 * transport (virtio-pci on pc/q35, virtio-mmio on microvm).
 *
 * Features: MAC (else a random locally administered address), STATUS (link
 * state and its change interrupt), ANY_LAYOUT for legacy devices. No
 * offloads and no mergeable buffers: every receive buffer holds a whole
 * frame, which keeps the driver small and obviously correct.
 *
 * Packets carry the virtio-net header in their headroom: on transmit it is
 * pushed in front of the frame (12 bytes with VIRTIO_F_VERSION_1, 10 for a
 * legacy device) so header and frame go out as one descriptor; on receive
 * the buffer handed to the device starts that many bytes before pkt->data,
 * so the frame lands exactly at pkt->data.
 *
 * Ownership (include/neoboot/iface.h): a sent packet belongs to the driver
 * until the device returns it in the used ring, and is freed then. When the
 * transmit ring is full send() says NB_ENOBUFS, and nb_iface_tx_ready()
 * follows once completions free a slot. Received frames go to the core with
 * nb_iface_rx_or_drop() (Ethernet is lossy); each consumed receive buffer is
 * replaced at once so the ring stays full, and if memory runs out a timer
 * retries the refill.
 *
 * Transmit completions do not interrupt: a TCP download sends an ACK for
 * every two segments, and an interrupt per completed ACK (34,707 for a
 * 128 MiB download) cost the guest more than the ACKs themselves.
 * Completed packets are freed on the next send, on every receive pass,
 * and by a timer at most TX_RECLAIM_NS after a send. Only a full ring
 * turns the interrupt back on, and a 10 ms watchdog then also looks, so a
 * lost interrupt cannot stall sending.
 */
#include "pc.h"
#include "virtio.h"

#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/pkt.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(virtio_net);

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define RX_QUEUE 0
#define TX_QUEUE 1
#define RING_WANT 256
#define FRAME_MAX 1518        /* 1514 + an 802.1Q tag */
#define POLL_BUDGET 256       /* used entries handled per pass */
#define REFILL_RETRY_NS (20 * NB_NS_PER_MS)
/* While the transmit ring is full, look for completions this often even
 * without an interrupt: a lost or late interrupt then costs a few ms, not
 * a stalled interface (the counter shows if it ever mattered). */
#define TX_WATCHDOG_NS (10 * NB_NS_PER_MS)
#define TX_RECLAIM_NS (10 * NB_NS_PER_MS)
#define MAX_NICS 8

struct vnet_stats {
    uint64_t irqs, config_irqs;
    uint64_t rx_short, refill_fail, tx_done;
    uint64_t tx_watchdog;   /* completions found by the watchdog, not an irq */
};

struct vnet {
    struct nb_iface ifc;
    struct nb_virtio_dev *dev;
    struct nb_virtq rxq, txq;
    unsigned hdr_len;
    bool running;
    bool tx_blocked;
    bool has_status;
    struct nb_timer refill_timer;
    struct nb_timer tx_timer;
    struct nb_work poll_work;
    struct vnet_stats st;
};

static struct vnet *nics[MAX_NICS];
static unsigned nnics;

static void refill(struct vnet *vn)
{
    unsigned added = 0;
    while (vn->rxq.num_free) {
        struct nb_pkt *p = nb_pkt_alloc(NB_PKT_HEADROOM, FRAME_MAX);
        if (!p) {
            vn->st.refill_fail++;
            if (!nb_timer_armed(&vn->refill_timer))
                nb_timer_arm_in(&vn->refill_timer, REFILL_RETRY_NS);
            break;
        }
        nb_virtq_add(&vn->rxq, p->data - vn->hdr_len, vn->hdr_len + FRAME_MAX,
                     true, p);
        added++;
    }
    if (added)
        nb_virtq_kick(&vn->rxq);
}

static void refill_timer_fn(struct nb_timer *t)
{
    struct vnet *vn = NB_CONTAINER_OF(t, struct vnet, refill_timer);
    if (vn->running)
        refill(vn);
}

/* Free completed transmissions; true if any were found. */
static bool reclaim_tx(struct vnet *vn)
{
    struct nb_pkt *p;
    bool any = false;
    while ((p = nb_virtq_get(&vn->txq, NULL))) {
        nb_pkt_free(p);
        vn->st.tx_done++;
        any = true;
    }
    if (vn->tx_blocked && vn->txq.num_free) {
        vn->tx_blocked = false;
        nb_virtq_irq(&vn->txq, false);
        nb_iface_tx_ready(&vn->ifc);
    }
    return any;
}

/* The lazy reclaim, and the watchdog while the ring is full. */
static void tx_timer_fn(struct nb_timer *t)
{
    struct vnet *vn = NB_CONTAINER_OF(t, struct vnet, tx_timer);
    if (!vn->running)
        return;
    bool blocked = vn->tx_blocked;
    if (reclaim_tx(vn) && blocked)
        vn->st.tx_watchdog++;
    if (vn->txq.num_free < vn->txq.size) /* still some in flight */
        nb_timer_arm_in(&vn->tx_timer, vn->tx_blocked ? TX_WATCHDOG_NS : TX_RECLAIM_NS);
}

/* Handle what the device has finished; true if the budget ran out. */
static bool poll(struct vnet *vn)
{
    if (!vn->running)
        return false;
    reclaim_tx(vn);
    unsigned n = 0;
    struct nb_pkt *p;
    uint32_t len;
    while (n < POLL_BUDGET && (p = nb_virtq_get(&vn->rxq, &len))) {
        n++;
        if (len < vn->hdr_len + 14 || len > vn->hdr_len + FRAME_MAX) {
            vn->st.rx_short++;
            vn->ifc.stats.rx_errors++;
            nb_pkt_free(p);
            continue;
        }
        p->len = len - vn->hdr_len;
        nb_iface_rx_or_drop(&vn->ifc, p);
    }
    refill(vn);
    return n == POLL_BUDGET;
}

static void poll_work_fn(struct nb_work *w)
{
    struct vnet *vn = NB_CONTAINER_OF(w, struct vnet, poll_work);
    if (poll(vn))
        nb_work_post(&vn->poll_work);
}

static void queue_irq(struct nb_virtio_dev *d, unsigned q)
{
    struct vnet *vn = d->driver_priv;
    (void)q;
    vn->st.irqs++;
    if (poll(vn))
        nb_work_post(&vn->poll_work);
}

static void update_link(struct vnet *vn)
{
    bool up = true;
    if (vn->has_status) {
        uint8_t s[2];
        vn->dev->ops->read_config(vn->dev, 6, s, 2);
        up = nb_le16(s) & VIRTIO_NET_S_LINK_UP;
    }
    nb_iface_set_link(&vn->ifc, up);
}

static void config_irq(struct nb_virtio_dev *d)
{
    struct vnet *vn = d->driver_priv;
    vn->st.config_irqs++;
    update_link(vn);
}

static uint64_t wanted_features(void)
{
    return 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
           1ull << VIRTIO_F_ANY_LAYOUT;
}

static void drop_all(struct vnet *vn)
{
    void *c;
    if (vn->rxq.cookie)
        while ((c = nb_virtq_detach(&vn->rxq)))
            nb_pkt_free(c);
    if (vn->txq.cookie)
        while ((c = nb_virtq_detach(&vn->txq)))
            nb_pkt_free(c);
    nb_virtq_fini(&vn->rxq);
    nb_virtq_fini(&vn->txq);
}

static void vnet_stop(struct nb_iface *ifc)
{
    struct vnet *vn = ifc->priv;
    vn->running = false;
    vn->dev->ops->reset(vn->dev); /* the device lets go of every buffer */
    nb_timer_cancel(&vn->refill_timer);
    nb_timer_cancel(&vn->tx_timer);
    nb_work_cancel(&vn->poll_work);
    drop_all(vn);
    vn->tx_blocked = false;
}

static int vnet_start(struct nb_iface *ifc)
{
    struct vnet *vn = ifc->priv;
    struct nb_virtio_dev *d = vn->dev;
    int rc = nb_virtio_negotiate(d, wanted_features());
    if (rc)
        return rc;
    vn->hdr_len = nb_virtio_has(d, VIRTIO_F_VERSION_1) ? 12 : 10;
    vn->has_status = nb_virtio_has(d, VIRTIO_NET_F_STATUS);
    rc = d->ops->irq_setup(d, 2);
    if (rc == 0)
        rc = nb_virtq_init(d, &vn->rxq, RX_QUEUE, RING_WANT);
    if (rc == 0)
        rc = nb_virtq_init(d, &vn->txq, TX_QUEUE, RING_WANT);
    if (rc == 0)
        nb_virtq_irq(&vn->txq, false); /* see the top of this file */
    if (rc) {
        d->ops->set_status(d, VIRTIO_STATUS_FAILED);
        d->ops->reset(d);
        drop_all(vn);
        return rc;
    }
    vn->running = true;
    refill(vn);
    nb_virtio_driver_ok(d);
    update_link(vn);
    NB_INFO("%s: %s, %s, rx ring %u, tx ring %u, header %u bytes", ifc->name,
            d->name, d->irq_desc, vn->rxq.size, vn->txq.size, vn->hdr_len);
    return 0;
}

static int vnet_reset(struct nb_iface *ifc)
{
    vnet_stop(ifc);
    return vnet_start(ifc);
}

static int vnet_send(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    struct vnet *vn = ifc->priv;
    if (!vn->running)
        return NB_ENETDOWN;
    if (!vn->txq.num_free)
        reclaim_tx(vn);
    if (!vn->txq.num_free) {
        /* full: completions interrupt until there is room; look once more
         * after asking, for one that completed in between */
        nb_virtq_irq(&vn->txq, true);
        reclaim_tx(vn);
        if (!vn->txq.num_free) {
            vn->tx_blocked = true;
            nb_timer_cancel(&vn->tx_timer);
            nb_timer_arm_in(&vn->tx_timer, TX_WATCHDOG_NS);
            return NB_ENOBUFS;
        }
        nb_virtq_irq(&vn->txq, false);
    }
    uint8_t *hdr = nb_pkt_push(pkt, vn->hdr_len);
    if (!hdr)
        return NB_EINVAL; /* no headroom: the caller keeps pkt unchanged */
    memset(hdr, 0, vn->hdr_len);
    nb_virtq_add(&vn->txq, pkt->data, pkt->len, false, pkt);
    nb_virtq_kick(&vn->txq);
    if (!nb_timer_armed(&vn->tx_timer))
        nb_timer_arm_in(&vn->tx_timer, TX_RECLAIM_NS);
    return 0;
}

static const struct nb_iface_ops vnet_ops = {
    .start = vnet_start,
    .send = vnet_send,
    .reset = vnet_reset,
    .stop = vnet_stop,
};

static int vnet_probe(struct nb_virtio_dev *d)
{
    if (nnics >= MAX_NICS)
        return NB_ENOSPC;
    int rc = nb_virtio_negotiate(d, wanted_features());
    if (rc)
        return rc;
    struct vnet *vn = calloc(1, sizeof *vn);
    if (!vn)
        return NB_ENOMEM;
    vn->dev = d;
    d->driver_priv = vn;
    d->queue_irq = queue_irq;
    d->config_irq = config_irq;
    nb_timer_init(&vn->refill_timer, refill_timer_fn);
    nb_timer_init(&vn->tx_timer, tx_timer_fn);
    nb_work_init(&vn->poll_work, poll_work_fn);

    struct nb_iface *ifc = &vn->ifc;
    snprintf(ifc->name, sizeof ifc->name, "eth%u", nb_pc_eth_index());
    ifc->link = NB_LINK_ETHERNET;
    ifc->ops = &vnet_ops;
    ifc->priv = vn;
    ifc->mtu = 1514; /* whole frames, without the FCS */
    if (nb_virtio_has(d, VIRTIO_NET_F_MAC)) {
        d->ops->read_config(d, 0, ifc->mac, 6);
    } else {
        nb_platform_entropy(ifc->mac, 6);
        ifc->mac[0] = (uint8_t)((ifc->mac[0] & 0xfe) | 0x02);
    }
    d->ops->reset(d); /* idle until nb_iface_start */
    rc = nb_iface_register(ifc);
    if (rc) {
        free(vn);
        return rc;
    }
    nics[nnics++] = vn;
    NB_INFO("%s: virtio-net on %s, MAC %02x:%02x:%02x:%02x:%02x:%02x", ifc->name,
            d->name, ifc->mac[0], ifc->mac[1], ifc->mac[2], ifc->mac[3],
            ifc->mac[4], ifc->mac[5]);
    return 0;
}

void nb_pc_virtio_net_print(void (*print)(void *arg, const char *line), void *arg)
{
    char line[200];
    for (unsigned i = 0; i < nnics; i++) {
        struct vnet *vn = nics[i];
        if (vn->running)
            reclaim_tx(vn); /* completions as of now, not as of the lazy timer */
        snprintf(line, sizeof line,
                 "%s: virtio-net irqs %llu config %llu, tx done %llu (watchdog %llu), "
                 "rx bad %llu, refill failures %llu, rx ring %u/%u posted, "
                 "tx ring %u/%u busy",
                 vn->ifc.name, (unsigned long long)vn->st.irqs,
                 (unsigned long long)vn->st.config_irqs,
                 (unsigned long long)vn->st.tx_done,
                 (unsigned long long)vn->st.tx_watchdog,
                 (unsigned long long)vn->st.rx_short,
                 (unsigned long long)vn->st.refill_fail,
                 vn->rxq.size - vn->rxq.num_free, vn->rxq.size,
                 vn->txq.size - vn->txq.num_free, vn->txq.size);
        print(arg, line);
    }
}

uint64_t nb_pc_virtio_net_held(void)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < nnics; i++) {
        struct vnet *vn = nics[i];
        if (vn->rxq.cookie)
            n += (uint64_t)(vn->rxq.size - vn->rxq.num_free);
        if (vn->txq.cookie)
            n += (uint64_t)(vn->txq.size - vn->txq.num_free);
    }
    return n;
}

NB_VIRTIO_DRIVER(virtio_net_driver) = {
    .name = "virtio-net",
    .device_type = VIRTIO_ID_NET,
    .probe = vnet_probe,
};
