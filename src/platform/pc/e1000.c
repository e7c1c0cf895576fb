/*
 * Intel 8254x/8257x ("e1000") Ethernet: the NIC that QEMU (-device e1000,
 * e1000-82545em, e1000e), VirtualBox, VMware and many real machines of
 * that generation offer, so NeoBoot has a network where there is no
 * virtio. Registers and descriptors after Intel's "PCI/PCI-X Family of
 * Gigabit Ethernet Controllers Software Developer's Manual" (8254x) and the
 * 82574 datasheet; only what both share is used: legacy receive and
 * transmit descriptors, one queue each way, no offloads.
 *
 * Like virtio-net (virtio_net.c): a sent packet belongs to the driver until
 * the NIC reports it done (DD in its descriptor) and is freed then; a full
 * ring says NB_ENOBUFS and nb_iface_tx_ready() follows (transmit
 * completions do not interrupt, except while the ring is full: a download's
 * ACKs would otherwise cost an interrupt each; completed packets are freed
 * on the next send, each receive pass, or a timer at most 10 ms after a
 * send); received frames go
 * to the core with nb_iface_rx_or_drop() and each receive buffer is
 * replaced at once (when memory is short, the frame is dropped and its
 * buffer reused, so the ring never empties). Interrupts are INTx through
 * the IOAPIC (the 8254x has no MSI-X), or MSI when the function offers it;
 * reading ICR acknowledges them.
 */
#include "pc.h"
#include "pci.h"

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

NB_LOG_MODULE(e1000);

/* registers (byte offsets in BAR 0) */
#define R_CTRL 0x0000
#define R_STATUS 0x0008
#define R_EERD 0x0014
#define R_ICR 0x00c0
#define R_ITR 0x00c4
#define R_IMS 0x00d0
#define R_IMC 0x00d8
#define R_RCTL 0x0100
#define R_TCTL 0x0400
#define R_TIPG 0x0410
#define R_RDBAL 0x2800
#define R_RDBAH 0x2804
#define R_RDLEN 0x2808
#define R_RDH 0x2810
#define R_RDT 0x2818
#define R_RDTR 0x2820
#define R_TDBAL 0x3800
#define R_TDBAH 0x3804
#define R_TDLEN 0x3808
#define R_TDH 0x3810
#define R_TDT 0x3818
#define R_MTA 0x5200
#define R_RAL0 0x5400
#define R_RAH0 0x5404

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
#define STATUS_LU (1u << 1)
#define EERD_START 1u
#define RAH_AV (1u << 31)

#define RCTL_EN (1u << 1)
#define RCTL_BAM (1u << 15)
#define RCTL_SECRC (1u << 26) /* strip the FCS: frames arrive as the core wants them */
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)    /* pad short frames to 64 bytes */
#define TCTL_CT (0x10u << 4)
#define TCTL_COLD (0x40u << 12)
#define TIPG_DEFAULT 0x0060200au /* IPGT 10, IPGR1 8, IPGR2 6 (copper) */

#define ICR_TXDW (1u << 0)
#define ICR_LSC (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO (1u << 6)
#define ICR_RXT0 (1u << 7)
/* no TXDW: transmit completions are reclaimed lazily (as in virtio_net.c) */
#define IMS_WANT (ICR_LSC | ICR_RXDMT0 | ICR_RXO | ICR_RXT0)

#define DESC_DD 0x01
#define DESC_EOP 0x02
#define TXCMD_EOP 0x01
#define TXCMD_IFCS 0x02
#define TXCMD_RS 0x08

#define RX_RING 256           /* descriptors (multiples of 8: 128-byte ring length) */
#define TX_RING 256
#define RX_BUF 2048           /* RCTL.BSIZE 00 */
#define FRAME_MAX 1518
#define POLL_BUDGET 256
#define TX_WATCHDOG_NS (10 * NB_NS_PER_MS)
#define TX_RECLAIM_NS (10 * NB_NS_PER_MS)
#define MAX_NICS 8

struct rx_desc {
    uint64_t addr;
    uint16_t length, csum;
    uint8_t status, errors;
    uint16_t special;
};

struct tx_desc {
    uint64_t addr;
    uint16_t length;
    uint8_t cso, cmd, status, css;
    uint16_t special;
};

struct e1000_stats {
    uint64_t irqs, rx_errors, rx_nobuf, rx_overrun, tx_done, tx_watchdog, link_changes;
};

struct e1000 {
    struct nb_iface ifc;
    struct nb_pci_dev *pci;
    const char *model;
    uintptr_t regs;
    struct rx_desc *rx;
    struct tx_desc *tx;
    struct nb_pkt *rx_pkt[RX_RING];
    struct nb_pkt *tx_pkt[TX_RING];
    unsigned rx_next;            /* next descriptor the NIC fills */
    unsigned tx_tail, tx_clean;  /* next free slot; oldest in flight */
    bool running, tx_blocked, irq_ready, msi;
    bool discarding;             /* inside a frame that spans descriptors */
    int vector;
    struct nb_timer tx_timer;
    struct nb_work poll_work;
    struct e1000_stats st;
};

static struct e1000 *nics[MAX_NICS];
static unsigned nnics;

static uint32_t rd(const struct e1000 *e, unsigned r) { return mmio_read32(e->regs + r); }
static void wr(const struct e1000 *e, unsigned r, uint32_t v) { mmio_write32(e->regs + r, v); }

/* Descriptors are written with plain stores to write-back memory and the
 * NIC is told through an uncached register: keep the compiler from
 * reordering them (x86 keeps stores in order). */
static void barrier(void) { __asm__ volatile("" ::: "memory"); }

static const struct {
    uint16_t device;
    const char *model;
} models[] = {
    {0x100e, "82540EM"}, {0x100f, "82545EM"}, {0x1011, "82545EM (fiber)"},
    {0x1026, "82545GM"}, {0x1004, "82543GC"}, {0x1075, "82547GI"},
    {0x1076, "82541GI"}, {0x107c, "82541PI"}, {0x10d3, "82574L"},
};

static const char *model_of(const struct nb_pci_dev *d)
{
    if (d->vendor != 0x8086)
        return NULL;
    for (size_t i = 0; i < NB_ARRAY_SIZE(models); i++)
        if (models[i].device == d->device)
            return models[i].model;
    return NULL;
}

static bool e1000_match(const struct nb_pci_dev *d)
{
    return model_of(d) != NULL;
}

/* Reset the MAC; false if it never comes back. */
static bool hw_reset(struct e1000 *e)
{
    wr(e, R_IMC, 0xffffffffu);
    wr(e, R_RCTL, 0);
    wr(e, R_TCTL, 0);
    wr(e, R_CTRL, rd(e, R_CTRL) | CTRL_RST);
    nb_pc_udelay(1000); /* the manual: wait at least 1 us; reloading the EEPROM takes longer */
    for (int i = 0; i < 1000; i++) {
        if (!(rd(e, R_CTRL) & CTRL_RST))
            break;
        nb_pc_udelay(100);
    }
    wr(e, R_IMC, 0xffffffffu);
    (void)rd(e, R_ICR);
    return !(rd(e, R_CTRL) & CTRL_RST);
}

static uint16_t eeprom_word(struct e1000 *e, unsigned addr)
{
    wr(e, R_EERD, EERD_START | (addr << 8));
    for (int i = 0; i < 1000; i++) {
        uint32_t v = rd(e, R_EERD);
        if (v & (1u << 4)) /* DONE (8254x) */
            return (uint16_t)(v >> 16);
        nb_pc_udelay(10);
    }
    return 0xffff;
}

static void read_mac(struct e1000 *e, uint8_t mac[6])
{
    /* after reset the NIC loads its address from the EEPROM into RAL0/RAH0 */
    uint32_t lo = rd(e, R_RAL0), hi = rd(e, R_RAH0);
    if ((hi & RAH_AV) && (lo || (hi & 0xffff))) {
        for (int i = 0; i < 4; i++)
            mac[i] = (uint8_t)(lo >> (8 * i));
        mac[4] = (uint8_t)hi;
        mac[5] = (uint8_t)(hi >> 8);
        return;
    }
    for (unsigned w = 0; w < 3; w++) {
        uint16_t v = eeprom_word(e, w);
        mac[2 * w] = (uint8_t)v;
        mac[2 * w + 1] = (uint8_t)(v >> 8);
    }
    if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) ||
        (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff) {
        nb_platform_entropy(mac, 6); /* no usable address: a local random one */
        mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
    }
}

static void update_link(struct e1000 *e)
{
    bool up = rd(e, R_STATUS) & STATUS_LU;
    if (up != e->ifc.link_up)
        e->st.link_changes++;
    nb_iface_set_link(&e->ifc, up);
}

static bool reclaim_tx(struct e1000 *e)
{
    bool any = false;
    while (e->tx_clean != e->tx_tail && (e->tx[e->tx_clean].status & DESC_DD)) {
        nb_pkt_free(e->tx_pkt[e->tx_clean]);
        e->tx_pkt[e->tx_clean] = NULL;
        e->tx_clean = (e->tx_clean + 1) % TX_RING;
        e->st.tx_done++;
        any = true;
    }
    if (e->tx_blocked && (e->tx_tail + 1) % TX_RING != e->tx_clean) {
        e->tx_blocked = false;
        wr(e, R_IMC, ICR_TXDW);
        nb_iface_tx_ready(&e->ifc);
    }
    return any;
}

/* The lazy reclaim, and the watchdog while the ring is full. */
static void tx_timer_fn(struct nb_timer *t)
{
    struct e1000 *e = NB_CONTAINER_OF(t, struct e1000, tx_timer);
    if (!e->running)
        return;
    bool blocked = e->tx_blocked;
    if (reclaim_tx(e) && blocked)
        e->st.tx_watchdog++;
    if (e->tx_clean != e->tx_tail) /* still some in flight */
        nb_timer_arm_in(&e->tx_timer, e->tx_blocked ? TX_WATCHDOG_NS : TX_RECLAIM_NS);
}

static void rx_give(struct e1000 *e, unsigned i, struct nb_pkt *p)
{
    e->rx_pkt[i] = p;
    e->rx[i].addr = (uint64_t)(uintptr_t)p->data;
    e->rx[i].status = 0;
}

/* Handle finished descriptors; true if the budget ran out. */
static bool poll(struct e1000 *e)
{
    if (!e->running)
        return false;
    reclaim_tx(e);
    unsigned n = 0, last = RX_RING;
    while (n < POLL_BUDGET && (e->rx[e->rx_next].status & DESC_DD)) {
        unsigned i = e->rx_next;
        struct rx_desc d = e->rx[i];
        struct nb_pkt *p = e->rx_pkt[i];
        n++;
        bool eop = d.status & DESC_EOP;
        /* a frame longer than one buffer, or with errors: drop it whole,
         * keep the buffer */
        bool bad = d.errors || !eop || e->discarding || d.length < 14 || d.length > FRAME_MAX;
        if (bad) {
            e->st.rx_errors++;
            e->ifc.stats.rx_errors++;
            e->discarding = !eop;
            rx_give(e, i, p);
        } else {
            struct nb_pkt *fresh = nb_pkt_alloc(NB_PKT_HEADROOM, RX_BUF);
            if (!fresh) {
                e->st.rx_nobuf++; /* memory is short: drop, keep the ring full */
                e->ifc.stats.rx_dropped++;
                rx_give(e, i, p);
            } else {
                p->len = d.length;
                rx_give(e, i, fresh);
                nb_iface_rx_or_drop(&e->ifc, p);
            }
        }
        last = i;
        e->rx_next = (i + 1) % RX_RING;
    }
    if (last != RX_RING) {
        barrier();
        wr(e, R_RDT, last); /* everything up to `last` is the NIC's again */
    }
    return n == POLL_BUDGET;
}

static void poll_work_fn(struct nb_work *w)
{
    struct e1000 *e = NB_CONTAINER_OF(w, struct e1000, poll_work);
    if (poll(e))
        nb_work_post(&e->poll_work);
}

static void e1000_irq(void *arg)
{
    struct e1000 *e = arg;
    uint32_t icr = rd(e, R_ICR); /* reading acknowledges (and lowers INTx) */
    e->st.irqs++;
    if (!e->running)
        return;
    if (icr & ICR_RXO)
        e->st.rx_overrun++;
    if (icr & ICR_LSC)
        update_link(e);
    if (poll(e))
        nb_work_post(&e->poll_work);
}

static int irq_setup(struct e1000 *e)
{
    if (e->irq_ready)
        return 0;
    int vec = nb_pc_irq_alloc(e1000_irq, e, e->ifc.name);
    if (vec < 0)
        return vec;
    e->vector = vec;
    unsigned msi = nb_pci_find_cap(e->pci, 0x05, 0);
    if (msi) {
        /* MSI: message address/data, one vector, then enable */
        uint16_t ctl = nb_pci_read16(e->pci, msi + 2);
        nb_pci_write32(e->pci, msi + 4, (uint32_t)nb_pc_msi_address());
        if (ctl & (1u << 7)) { /* 64-bit address */
            nb_pci_write32(e->pci, msi + 8, 0);
            nb_pci_write16(e->pci, msi + 12, (uint16_t)nb_pc_msi_data(vec));
        } else {
            nb_pci_write16(e->pci, msi + 8, (uint16_t)nb_pc_msi_data(vec));
        }
        nb_pci_write16(e->pci, msi + 2, (uint16_t)((ctl & ~(7u << 4)) | 1u));
        e->msi = true;
    } else {
        if (!e->pci->irq_pin || e->pci->irq_line == 0xff)
            return NB_ENODEV;
        int rc = nb_pc_irq_route_gsi(e->pci->irq_line, vec, true, false);
        if (rc)
            return rc;
    }
    e->irq_ready = true;
    return 0;
}

static void drop_all(struct e1000 *e)
{
    for (unsigned i = 0; i < RX_RING; i++) {
        nb_pkt_free(e->rx_pkt[i]);
        e->rx_pkt[i] = NULL;
    }
    for (unsigned i = 0; i < TX_RING; i++) {
        nb_pkt_free(e->tx_pkt[i]);
        e->tx_pkt[i] = NULL;
    }
}

static void e1000_stop(struct nb_iface *ifc)
{
    struct e1000 *e = ifc->priv;
    e->running = false;
    hw_reset(e); /* no more DMA into the buffers freed below */
    nb_timer_cancel(&e->tx_timer);
    nb_work_cancel(&e->poll_work);
    drop_all(e);
    e->tx_blocked = false;
}

static int e1000_start(struct nb_iface *ifc)
{
    struct e1000 *e = ifc->priv;
    if (!hw_reset(e))
        return NB_EIO;
    int rc = irq_setup(e);
    if (rc)
        return rc;
    /* link: auto speed detection, set link up (copper PHY auto-negotiates) */
    wr(e, R_CTRL, (rd(e, R_CTRL) | CTRL_SLU | CTRL_ASDE));
    /* our address, no multicast filters (IPv6's solicited-node groups come
     * through the promiscuous-multicast bit below) */
    wr(e, R_RAL0, (uint32_t)ifc->mac[0] | (uint32_t)ifc->mac[1] << 8 |
                      (uint32_t)ifc->mac[2] << 16 | (uint32_t)ifc->mac[3] << 24);
    wr(e, R_RAH0, (uint32_t)ifc->mac[4] | (uint32_t)ifc->mac[5] << 8 | RAH_AV);
    for (unsigned i = 0; i < 128; i++)
        wr(e, R_MTA + 4 * i, 0);

    for (unsigned i = 0; i < RX_RING; i++) {
        struct nb_pkt *p = nb_pkt_alloc(NB_PKT_HEADROOM, RX_BUF);
        if (!p) {
            drop_all(e);
            return NB_ENOMEM;
        }
        memset(&e->rx[i], 0, sizeof e->rx[i]);
        rx_give(e, i, p);
    }
    memset(e->tx, 0, sizeof *e->tx * TX_RING);
    e->rx_next = e->tx_tail = e->tx_clean = 0;
    e->discarding = false;
    barrier();
    wr(e, R_RDBAL, (uint32_t)(uintptr_t)e->rx);
    wr(e, R_RDBAH, (uint32_t)((uint64_t)(uintptr_t)e->rx >> 32));
    wr(e, R_RDLEN, RX_RING * sizeof(struct rx_desc));
    wr(e, R_RDH, 0);
    wr(e, R_RDT, RX_RING - 1);
    wr(e, R_RDTR, 0);
    wr(e, R_TDBAL, (uint32_t)(uintptr_t)e->tx);
    wr(e, R_TDBAH, (uint32_t)((uint64_t)(uintptr_t)e->tx >> 32));
    wr(e, R_TDLEN, TX_RING * sizeof(struct tx_desc));
    wr(e, R_TDH, 0);
    wr(e, R_TDT, 0);
    wr(e, R_TIPG, TIPG_DEFAULT);
    wr(e, R_ITR, 0);
    e->running = true;
    /* multicast promiscuous (MPE): IPv6 needs its groups */
    wr(e, R_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC | (1u << 4));
    wr(e, R_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
    wr(e, R_IMS, IMS_WANT);
    update_link(e);
    NB_INFO("%s: e1000 %s on pci %02x:%02x.%x, %s, rx ring %u, tx ring %u", ifc->name,
            e->model, e->pci->bus, e->pci->dev, e->pci->fn,
            e->msi ? "msi" : "intx", RX_RING, TX_RING);
    return 0;
}

static int e1000_reset(struct nb_iface *ifc)
{
    e1000_stop(ifc);
    return e1000_start(ifc);
}

static int e1000_send(struct nb_iface *ifc, struct nb_pkt *pkt)
{
    struct e1000 *e = ifc->priv;
    if (!e->running)
        return NB_ENETDOWN;
    if (pkt->len < 14 || pkt->len > FRAME_MAX)
        return NB_EINVAL;
    unsigned next = (e->tx_tail + 1) % TX_RING;
    if (next == e->tx_clean)
        reclaim_tx(e);
    if (next == e->tx_clean) {
        /* full: completions interrupt until there is room; look once more
         * after asking, for one that completed in between */
        wr(e, R_IMS, ICR_TXDW);
        reclaim_tx(e);
        if (next == e->tx_clean) {
            e->tx_blocked = true;
            nb_timer_cancel(&e->tx_timer);
            nb_timer_arm_in(&e->tx_timer, TX_WATCHDOG_NS);
            return NB_ENOBUFS;
        }
        wr(e, R_IMC, ICR_TXDW);
    }
    struct tx_desc *d = &e->tx[e->tx_tail];
    d->addr = (uint64_t)(uintptr_t)pkt->data;
    d->length = (uint16_t)pkt->len;
    d->cso = d->css = 0;
    d->special = 0;
    d->status = 0;
    d->cmd = TXCMD_EOP | TXCMD_IFCS | TXCMD_RS;
    e->tx_pkt[e->tx_tail] = pkt;
    e->tx_tail = next;
    barrier();
    wr(e, R_TDT, next);
    if (!nb_timer_armed(&e->tx_timer))
        nb_timer_arm_in(&e->tx_timer, TX_RECLAIM_NS);
    return 0;
}

static const struct nb_iface_ops e1000_ops = {
    .start = e1000_start,
    .send = e1000_send,
    .reset = e1000_reset,
    .stop = e1000_stop,
};

static int e1000_probe(struct nb_pci_dev *d)
{
    if (nnics >= MAX_NICS)
        return NB_ENOSPC;
    void *bar = nb_pci_map_bar(d, 0);
    if (!bar)
        return NB_ENODEV;
    nb_pci_enable(d);
    struct e1000 *e = calloc(1, sizeof *e);
    if (!e)
        return NB_ENOMEM;
    e->rx = aligned_alloc(128, RX_RING * sizeof(struct rx_desc));
    e->tx = aligned_alloc(128, TX_RING * sizeof(struct tx_desc));
    if (!e->rx || !e->tx) {
        free(e->rx);
        free(e->tx);
        free(e);
        return NB_ENOMEM;
    }
    e->pci = d;
    e->model = model_of(d);
    e->regs = (uintptr_t)bar;
    nb_timer_init(&e->tx_timer, tx_timer_fn);
    nb_work_init(&e->poll_work, poll_work_fn);
    if (!hw_reset(e)) {
        NB_WARN("e1000 %s on pci %02x:%02x.%x: does not come out of reset", e->model, d->bus,
                d->dev, d->fn);
        free(e->rx);
        free(e->tx);
        free(e);
        return NB_EIO;
    }
    struct nb_iface *ifc = &e->ifc;
    snprintf(ifc->name, sizeof ifc->name, "eth%u", nb_pc_eth_index());
    ifc->link = NB_LINK_ETHERNET;
    ifc->ops = &e1000_ops;
    ifc->priv = e;
    ifc->mtu = 1514;
    read_mac(e, ifc->mac);
    int rc = nb_iface_register(ifc);
    if (rc) {
        free(e->rx);
        free(e->tx);
        free(e);
        return rc;
    }
    nics[nnics++] = e;
    NB_INFO("%s: e1000 %s on pci %02x:%02x.%x, MAC %02x:%02x:%02x:%02x:%02x:%02x", ifc->name,
            e->model, d->bus, d->dev, d->fn, ifc->mac[0], ifc->mac[1], ifc->mac[2], ifc->mac[3],
            ifc->mac[4], ifc->mac[5]);
    return 0;
}

void nb_pc_e1000_print(void (*print)(void *arg, const char *line), void *arg)
{
    char line[200];
    for (unsigned i = 0; i < nnics; i++) {
        struct e1000 *e = nics[i];
        if (e->running)
            reclaim_tx(e); /* completions as of now, not as of the lazy timer */
        unsigned busy = (e->tx_tail + TX_RING - e->tx_clean) % TX_RING;
        snprintf(line, sizeof line,
                 "%s: e1000 %s irqs %llu, tx done %llu (watchdog %llu), rx errors %llu, "
                 "no buffer %llu, overruns %llu, link changes %llu, tx ring %u/%u busy",
                 e->ifc.name, e->model, (unsigned long long)e->st.irqs,
                 (unsigned long long)e->st.tx_done, (unsigned long long)e->st.tx_watchdog,
                 (unsigned long long)e->st.rx_errors, (unsigned long long)e->st.rx_nobuf,
                 (unsigned long long)e->st.rx_overrun, (unsigned long long)e->st.link_changes,
                 busy, TX_RING);
        print(arg, line);
    }
}

uint64_t nb_pc_e1000_held(void)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < nnics; i++) {
        struct e1000 *e = nics[i];
        for (unsigned k = 0; k < RX_RING; k++)
            n += e->rx_pkt[k] != NULL;
        for (unsigned k = 0; k < TX_RING; k++)
            n += e->tx_pkt[k] != NULL;
    }
    return n;
}

NB_PCI_DRIVER(e1000_driver) = {
    .name = "e1000",
    .match = e1000_match,
    .probe = e1000_probe,
};
