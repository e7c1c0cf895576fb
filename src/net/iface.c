/*
 * The interface registry and the receive/transmit paths between drivers
 * and protocols (contract in include/neoboot/iface.h).
 *
 * Receive is decoupled through a bounded FIFO drained by loop work, so a
 * driver callback never runs protocol code (and protocol code never
 * re-enters a driver from inside its own receive path). The drain takes a
 * bounded batch per iteration so one busy interface cannot starve timers.
 */
#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/net.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include <string.h>

NB_LOG_MODULE(iface);

#define RX_BATCH 64

static struct nb_iface *iface_list;

static void iface_rx_work(struct nb_work *w);
static void iface_txready_work(struct nb_work *w);

int nb_iface_register(struct nb_iface *ifc)
{
    if (!ifc->ops || !ifc->ops->send || !ifc->name[0] ||
        memchr(ifc->name, 0, sizeof ifc->name) == NULL ||
        (ifc->link != NB_LINK_ETHERNET && ifc->link != NB_LINK_VSOCK))
        return NB_EINVAL;
    if (nb_iface_find(ifc->name))
        return NB_EEXIST;
    nb_pktq_init(&ifc->rxq, ifc->rxq_limit ? ifc->rxq_limit : NB_IFACE_RXQ_DEFAULT);
    nb_work_init(&ifc->rx_work, iface_rx_work);
    nb_work_init(&ifc->txready_work, iface_txready_work);
    ifc->core = -1;
    ifc->up = false;
    ifc->rx_waiting = false;
    ifc->stack = NULL;
    ifc->input = NULL;
    ifc->tx_ready = NULL;
    ifc->proto = NULL;
    memset(&ifc->stats, 0, sizeof ifc->stats);
    /* append, so iteration order is registration order */
    ifc->next = NULL;
    struct nb_iface **pp = &iface_list;
    while (*pp)
        pp = &(*pp)->next;
    *pp = ifc;
    NB_DEBUG("registered %s (%s)", ifc->name,
             ifc->link == NB_LINK_VSOCK ? "vsock" : "ethernet");
    return 0;
}

void nb_iface_unregister(struct nb_iface *ifc)
{
    nb_iface_stop(ifc);
    if (ifc->stack)
        nb_stack_detach(ifc);
    nb_pktq_purge(&ifc->rxq);
    nb_work_cancel(&ifc->rx_work);
    nb_work_cancel(&ifc->txready_work);
    for (struct nb_iface **pp = &iface_list; *pp; pp = &(*pp)->next) {
        if (*pp == ifc) {
            *pp = ifc->next;
            break;
        }
    }
    ifc->next = NULL;
}

struct nb_iface *nb_iface_find(const char *name)
{
    for (struct nb_iface *i = iface_list; i; i = i->next)
        if (strcmp(i->name, name) == 0)
            return i;
    return NULL;
}

struct nb_iface *nb_iface_first(void) { return iface_list; }

int nb_iface_set_core(struct nb_iface *ifc, int core)
{
    /* Every platform so far runs the loop on one CPU: only "any" and 0
     * exist. The field is kept so drivers can be pinned when SMP lands. */
    if (core < -1 || core > 0)
        return NB_EINVAL;
    ifc->core = core;
    return 0;
}

int nb_iface_start(struct nb_iface *ifc)
{
    if (ifc->up)
        return 0;
    int rc = ifc->ops->start ? ifc->ops->start(ifc) : 0;
    if (rc == 0) {
        ifc->up = true;
        NB_INFO("%s up", ifc->name);
    } else {
        NB_ERROR("%s: start failed: %s", ifc->name, nb_strerror(rc));
    }
    return rc;
}

void nb_iface_stop(struct nb_iface *ifc)
{
    if (!ifc->up)
        return;
    ifc->up = false;
    if (ifc->ops->stop)
        ifc->ops->stop(ifc);
    nb_pktq_purge(&ifc->rxq);
    NB_INFO("%s down", ifc->name);
}

int nb_iface_reset(struct nb_iface *ifc)
{
    nb_pktq_purge(&ifc->rxq);
    ifc->rx_waiting = false;
    return ifc->ops->reset ? ifc->ops->reset(ifc) : NB_ENOTSUP;
}

int nb_iface_send(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    if (!ifc->up) {
        ifc->stats.tx_errors++;
        return NB_ENETDOWN;
    }
    if (pkt->len > ifc->mtu) {
        ifc->stats.tx_errors++;
        return NB_EMSGSIZE;
    }
    uint32_t len = pkt->len;
    if (ifc->capture)
        ifc->capture(ifc->capture_arg, ifc, NB_DIR_TX, pkt);
    int rc = ifc->ops->send(ifc, pkt);
    if (rc == 0) {
        ifc->stats.tx_packets++;
        ifc->stats.tx_bytes += len;
    } else if (rc == NB_ENOBUFS) {
        ifc->stats.tx_busy++;
    } else {
        ifc->stats.tx_errors++;
    }
    return rc;
}

int nb_iface_rx(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    if (!ifc->up || !ifc->input) {
        /* Nobody to give it to; accepting it would only queue it forever. */
        ifc->stats.rx_dropped++;
        nb_pkt_free(pkt);
        return 0;
    }
    if (nb_pktq_full(&ifc->rxq)) {
        ifc->rx_waiting = true;
        ifc->stats.rx_refused++;
        return NB_ENOBUFS;
    }
    pkt->iface = ifc;
    pkt->stamp_ns = nb_clock_ns();
    if (ifc->capture)
        ifc->capture(ifc->capture_arg, ifc, NB_DIR_RX, pkt);
    ifc->stats.rx_packets++;
    ifc->stats.rx_bytes += pkt->len;
    nb_pktq_push(&ifc->rxq, pkt);
    if (ifc->rxq.count > ifc->stats.rxq_high)
        ifc->stats.rxq_high = ifc->rxq.count;
    nb_work_post(&ifc->rx_work);
    return 0;
}

void nb_iface_rx_or_drop(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    if (nb_iface_rx(ifc, pkt) == NB_ENOBUFS) {
        ifc->rx_waiting = false;
        ifc->stats.rx_refused--;
        ifc->stats.rx_dropped++;
        nb_pkt_free(pkt);
    }
}

static void iface_rx_work(struct nb_work *w)
{
    struct nb_iface *ifc = NB_CONTAINER_OF(w, struct nb_iface, rx_work);
    for (int i = 0; i < RX_BATCH; i++) {
        struct nb_pkt *p = nb_pktq_pop(&ifc->rxq);
        if (!p)
            break;
        if (ifc->input) {
            ifc->input(ifc, p);
        } else {
            ifc->stats.rx_dropped++;
            nb_pkt_free(p);
        }
    }
    if (ifc->rxq.count)
        nb_work_post(&ifc->rx_work);
    if (ifc->rx_waiting && ifc->rxq.count <= ifc->rxq.limit / 2) {
        ifc->rx_waiting = false;
        if (ifc->ops->rx_resume)
            ifc->ops->rx_resume(ifc);
    }
}

void nb_iface_tx_ready(struct nb_iface *ifc)
{
    nb_work_post(&ifc->txready_work);
}

static void iface_txready_work(struct nb_work *w)
{
    struct nb_iface *ifc = NB_CONTAINER_OF(w, struct nb_iface, txready_work);
    if (ifc->tx_ready)
        ifc->tx_ready(ifc);
}

void nb_iface_set_link(struct nb_iface *ifc, bool up)
{
    if (ifc->link_up != up)
        NB_INFO("%s: link %s", ifc->name, up ? "up" : "down");
    ifc->link_up = up;
}

void nb_iface_set_capture(struct nb_iface *ifc, nb_capture_fn fn, void *arg)
{
    ifc->capture = fn;
    ifc->capture_arg = arg;
}
