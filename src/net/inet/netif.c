/*
 * NeoBoot interfaces as lwIP netifs.
 *
 * Receive: the net core hands us each frame (an nb_pkt) from the
 * interface's FIFO; we copy it into a chain of pool pbufs (ETH_PAD_SIZE
 * bytes of padding first, so IP headers are aligned), free the packet and
 * give the chain to ethernet_input. The copy bounds what the network can
 * make us hold to lwIP's pbuf pool, whatever buffers drivers use. Large
 * frames with headroom to spare go to lwIP without a copy (rx_ref).
 *
 * Transmit: linkoutput copies the pbuf chain into one nb_pkt with
 * NB_PKT_HEADROOM and calls nb_iface_send. Ethernet is lossy: a frame the
 * driver refuses (NB_ENOBUFS) waits in a small bounded queue flushed on
 * tx_ready, and past that bound it is dropped and counted; TCP retransmits.
 *
 * Each netif comes up with an EUI-64 link-local address and SLAAC enabled;
 * IPv4 comes from DHCP (dhcp4.c) or by hand (config.c).
 */
#include "inet_priv.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/util.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "netif/ethernet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(inet);

/* Frames waiting for a busy driver. */
#define TXQ_LIMIT 256

static err_t if_linkoutput(struct netif *nif, struct pbuf *p)
{
    struct inet_if *ii = nif->state;
    struct inet_ns *ns = ii->ns;
    size_t len = p->tot_len > ETH_PAD_SIZE ? p->tot_len - ETH_PAD_SIZE : 0;
    struct nb_pkt *pkt = nb_pkt_alloc(NB_PKT_HEADROOM, len);
    if (!pkt) {
        ns->stats.tx_nomem++;
        LINK_STATS_INC(link.memerr);
        return ERR_OK; /* lossy link: dropped, counted */
    }
    pbuf_copy_partial(p, pkt->data, (u16_t)len, ETH_PAD_SIZE);
    LINK_STATS_INC(link.xmit);
    if (ii->txq.count) {
        /* Keep order behind frames already waiting. */
        if (nb_pktq_push(&ii->txq, pkt)) {
            ns->stats.tx_queued++;
        } else {
            ns->stats.tx_queue_dropped++;
            nb_pkt_free(pkt);
        }
        return ERR_OK;
    }
    int rc = nb_iface_send(ii->ifc, pkt);
    if (rc == NB_ENOBUFS) {
        if (nb_pktq_push(&ii->txq, pkt)) {
            ns->stats.tx_queued++;
        } else {
            ns->stats.tx_queue_dropped++;
            nb_pkt_free(pkt);
        }
    } else if (rc != 0) {
        nb_pkt_free(pkt); /* device down: the frame is lost, as on a wire */
        LINK_STATS_INC(link.drop);
    }
    return ERR_OK;
}

static void if_tx_ready(struct nb_iface *ifc)
{
    struct inet_if *ii = ifc->proto;
    if (!ii)
        return;
    struct nb_pkt *p;
    while ((p = nb_pktq_pop(&ii->txq))) {
        int rc = nb_iface_send(ifc, p);
        if (rc == NB_ENOBUFS) {
            nb_pktq_push_front(&ii->txq, p);
            break;
        }
        if (rc != 0)
            nb_pkt_free(p);
    }
}

/*
 * Zero-copy receive for large frames (TSO bursts from a TAP with offloads):
 * when the packet has headroom for it, a custom pbuf describing the
 * packet's own buffer goes to lwIP, and freeing that pbuf frees the packet.
 * The packet stays counted against packet memory while lwIP holds it; TCP
 * windows bound how much it can hold. Small frames are copied: a pool
 * buffer is cheaper than pinning a driver's buffer.
 */
#define RX_REF_MIN 4096

struct rx_ref {
    struct pbuf_custom pc;
    struct nb_pkt *pkt;
};

static void rx_ref_free(struct pbuf *p)
{
    struct rx_ref *r = (struct rx_ref *)(void *)p;
    nb_pkt_free(r->pkt);
}

static struct pbuf *rx_ref(struct nb_pkt *pkt)
{
    uintptr_t at = ((uintptr_t)pkt->buf + 7) & ~(uintptr_t)7;
    struct rx_ref *r = (struct rx_ref *)at;
    if (pkt->len < RX_REF_MIN || (uint8_t *)(r + 1) > pkt->data - ETH_PAD_SIZE)
        return NULL;
    r->pkt = pkt;
    r->pc.custom_free_function = rx_ref_free;
    u16_t len = (u16_t)(pkt->len + ETH_PAD_SIZE);
    return pbuf_alloced_custom(PBUF_RAW, len, PBUF_REF, &r->pc, pkt->data - ETH_PAD_SIZE, len);
}

static void if_input(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    struct inet_if *ii = ifc->proto;
    if (!ii || pkt->len > 0xFFFF - ETH_PAD_SIZE) {
        ifc->stats.rx_errors++;
        nb_pkt_free(pkt);
        return;
    }
    struct pbuf *zc = rx_ref(pkt);
    if (zc) {
        LINK_STATS_INC(link.recv);
        if (ii->nif.input(zc, &ii->nif) != ERR_OK)
            pbuf_free(zc);
        inet_leave();
        return;
    }
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(pkt->len + ETH_PAD_SIZE), PBUF_POOL);
    if (!p) {
        ii->ns->stats.rx_nobuf++;
        ifc->stats.rx_dropped++;
        LINK_STATS_INC(link.memerr);
        nb_pkt_free(pkt);
        inet_leave();
        return;
    }
    pbuf_take_at(p, pkt->data, (u16_t)pkt->len, ETH_PAD_SIZE);
    nb_pkt_free(pkt);
    LINK_STATS_INC(link.recv);
    if (ii->nif.input(p, &ii->nif) != ERR_OK)
        pbuf_free(p);
    inet_leave();
}

static err_t if_init(struct netif *nif)
{
    struct inet_if *ii = nif->state;
    struct nb_iface *ifc = ii->ifc;
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(nif->hwaddr, ifc->mac, ETH_HWADDR_LEN);
    nif->mtu = (u16_t)NB_MIN(ifc->mtu - 14u, 0xFFFFu); /* frame minus the Ethernet header */
    nif->mtu6 = nif->mtu;
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                 NETIF_FLAG_MLD6;
    u16_t csum = NETIF_CHECKSUM_ENABLE_ALL;
    if (ifc->offload & NB_IFACE_TX_TCP_CSUM)
        csum &= (u16_t)~NETIF_CHECKSUM_GEN_TCP;
    if (ifc->offload & NB_IFACE_RX_TCP_CSUM)
        csum &= (u16_t)~NETIF_CHECKSUM_CHECK_TCP;
    NETIF_SET_CHECKSUM_CTRL(nif, csum);
    nif->output = etharp_output;
    nif->output_ip6 = ethip6_output;
    nif->linkoutput = if_linkoutput;
    return ERR_OK;
}

static void ext_status(struct netif *nif, netif_nsc_reason_t reason,
                       const netif_ext_callback_args_t *args)
{
    if (reason & LWIP_NSC_IPV6_ADDR_STATE_CHANGED) {
        int i = args->ipv6_addr_state_changed.addr_index;
        if (i >= 0 && i < LWIP_IPV6_NUM_ADDRESSES &&
            ip6_addr_ispreferred(netif_ip6_addr_state(nif, i)) &&
            !ip6_addr_ispreferred(args->ipv6_addr_state_changed.old_state)) {
            char text[64];
            struct inet_if *ii = nif->state;
            ipaddr_ntoa_r(&nif->ip6_addr[i], text, sizeof text);
            for (char *c = text; *c; c++)
                if (*c >= 'A' && *c <= 'F')
                    *c = (char)(*c - 'A' + 'a'); /* as Linux prints them */
            NB_INFO("%s: IPv6 %s ready", ii ? ii->ifc->name : "lo", text);
        }
    }
    inet_config_changed();
}

int inet_if_attach(struct inet_ns *ns, struct nb_iface *ifc)
{
    static netif_ext_callback_t ext_cb;
    static bool ext_added;
    if (!ext_added) {
        netif_add_ext_callback(&ext_cb, ext_status);
        ext_added = true;
    }
    if (ifc->mtu < 14 + 576) {
        NB_ERROR("%s: MTU %u is too small for IP", ifc->name, (unsigned)ifc->mtu);
        return NB_EINVAL;
    }
    struct inet_if *ii = calloc(1, sizeof *ii);
    if (!ii)
        return NB_ENOMEM;
    ii->ifc = ifc;
    ii->ns = ns;
    nb_pktq_init(&ii->txq, TXQ_LIMIT);
    if (!netif_add(&ii->nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, ii, if_init,
                   ethernet_input)) {
        free(ii);
        return NB_ENOMEM;
    }
    ifc->proto = ii;
    ifc->input = if_input;
    ifc->tx_ready = if_tx_ready;
    /* append, so interfaces keep attach order */
    struct inet_if **pp = &ns->ifs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = ii;
    netif_create_ip6_linklocal_address(&ii->nif, 1);
    netif_set_ip6_autoconfig_enabled(&ii->nif, 1);
    netif_set_link_up(&ii->nif);
    netif_set_up(&ii->nif);
    if (!netif_default || netif_default == netif_find("lo0"))
        netif_set_default(&ii->nif);
    NB_INFO("%s: inet interface %c%c%u (index %u), MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u",
            ifc->name, ii->nif.name[0], ii->nif.name[1], (unsigned)ii->nif.num,
            (unsigned)netif_get_index(&ii->nif), ifc->mac[0], ifc->mac[1], ifc->mac[2],
            ifc->mac[3], ifc->mac[4], ifc->mac[5], (unsigned)ii->nif.mtu);
    return 0;
}

void inet_if_detach(struct inet_ns *ns, struct nb_iface *ifc)
{
    struct inet_if **pp = &ns->ifs;
    while (*pp && (*pp)->ifc != ifc)
        pp = &(*pp)->next;
    struct inet_if *ii = *pp;
    if (!ii)
        return;
    *pp = ii->next;
    if (ii->dhcp) {
        inet_dhcp4_free(ii->dhcp, false);
        ii->dhcp = NULL;
    }
    bool was_default = netif_default == &ii->nif;
    netif_set_down(&ii->nif);
    netif_remove(&ii->nif);
    if (was_default && ns->ifs)
        netif_set_default(&ns->ifs->nif);
    nb_pktq_purge(&ii->txq);
    ifc->proto = NULL;
    ifc->input = NULL;
    ifc->tx_ready = NULL;
    NB_INFO("%s: inet interface removed", ifc->name);
    free(ii);
    inet_config_changed();
}
