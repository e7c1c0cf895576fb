/*
 * The modern (VIRTIO 1.x) virtio-pci transport.
 *
 * The device describes where its register blocks live with vendor-specific
 * PCI capabilities: common configuration (features, status, queue setup),
 * notification (one doorbell per queue: base + queue_notify_off *
 * notify_off_multiplier), the ISR status byte, and device-specific
 * configuration. All are memory BARs, mapped uncached.
 *
 * Interrupts: MSI-X when the function has at least two table entries --
 * entry 0 for configuration changes, then one entry per queue (or all
 * queues sharing entry 1 if the table is small). Without MSI-X the shared
 * INTx line is routed through the IOAPIC (level-triggered, so irq.c masks
 * it until the ISR byte has been read, which deasserts it).
 *
 * Transitional devices (QEMU's default, PCI device id 0x1000 + n) are
 * driven through their modern interface; legacy-only devices are refused.
 */
#include "pc.h"
#include "pci.h"
#include "virtio.h"

#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(virtio_pci);

#define CAP_VENDOR 0x09
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_ISR 3
#define CFG_DEVICE 4

/* common configuration registers */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX 0x10
#define C_NUMQ 0x12
#define C_STATUS 0x14
#define C_CFGGEN 0x15
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_AVAIL 0x28
#define C_Q_USED 0x30

#define NO_VECTOR 0xffff
#define MAX_IRQS 9 /* config + 8 queues */

struct vpci;

struct vpci_irq {
    struct vpci *vp;
    int what; /* -1 config, -2 everything (INTx), else queue index */
};

struct vpci {
    struct nb_virtio_dev vdev;
    struct nb_pci_dev *pci;
    uintptr_t common, notify, isr, device;
    uint32_t notify_mult;
    unsigned nqueues;
    bool msix;
    bool irqs_ready;         /* vectors allocated (once per device) */
    bool shared_queue_vector;
    struct vpci_irq irqs[MAX_IRQS];
};

static struct vpci *to_vpci(struct nb_virtio_dev *d) { return d->transport; }

static int vp_reset(struct nb_virtio_dev *d)
{
    struct vpci *vp = to_vpci(d);
    mmio_write8(vp->common + C_STATUS, 0);
    for (int i = 0; i < 10000; i++) { /* up to ~1 s */
        if (mmio_read8(vp->common + C_STATUS) == 0)
            return 0;
        nb_pc_udelay(100);
    }
    return NB_ETIMEDOUT;
}

static uint8_t vp_get_status(struct nb_virtio_dev *d)
{
    return mmio_read8(to_vpci(d)->common + C_STATUS);
}

static void vp_set_status(struct nb_virtio_dev *d, uint8_t s)
{
    mmio_write8(to_vpci(d)->common + C_STATUS, s);
}

static uint64_t vp_get_features(struct nb_virtio_dev *d)
{
    struct vpci *vp = to_vpci(d);
    mmio_write32(vp->common + C_DFSELECT, 0);
    uint64_t lo = mmio_read32(vp->common + C_DF);
    mmio_write32(vp->common + C_DFSELECT, 1);
    uint64_t hi = mmio_read32(vp->common + C_DF);
    return hi << 32 | lo;
}

static void vp_set_features(struct nb_virtio_dev *d, uint64_t f)
{
    struct vpci *vp = to_vpci(d);
    mmio_write32(vp->common + C_GFSELECT, 0);
    mmio_write32(vp->common + C_GF, (uint32_t)f);
    mmio_write32(vp->common + C_GFSELECT, 1);
    mmio_write32(vp->common + C_GF, (uint32_t)(f >> 32));
}

static void vp_read_config(struct nb_virtio_dev *d, unsigned off, void *buf,
                           unsigned len)
{
    struct vpci *vp = to_vpci(d);
    uint8_t *out = buf;
    for (int tries = 0; tries < 100; tries++) {
        uint8_t gen = mmio_read8(vp->common + C_CFGGEN);
        for (unsigned i = 0; i < len; i++)
            out[i] = mmio_read8(vp->device + off + i);
        if (mmio_read8(vp->common + C_CFGGEN) == gen)
            return;
    }
}

static unsigned vp_queue_max(struct nb_virtio_dev *d, unsigned idx)
{
    struct vpci *vp = to_vpci(d);
    if (idx >= mmio_read16(vp->common + C_NUMQ))
        return 0;
    mmio_write16(vp->common + C_Q_SELECT, (uint16_t)idx);
    return mmio_read16(vp->common + C_Q_SIZE);
}

static int vp_queue_setup(struct nb_virtio_dev *d, struct nb_virtq *vq)
{
    struct vpci *vp = to_vpci(d);
    mmio_write16(vp->common + C_Q_SELECT, (uint16_t)vq->index);
    mmio_write16(vp->common + C_Q_SIZE, vq->size);
    if (vp->msix) {
        uint16_t entry = vp->shared_queue_vector ? 1 : (uint16_t)(1 + vq->index);
        mmio_write16(vp->common + C_Q_MSIX, entry);
        if (mmio_read16(vp->common + C_Q_MSIX) != entry)
            return NB_EIO;
    }
    mmio_write64(vp->common + C_Q_DESC, (uintptr_t)vq->desc);
    mmio_write64(vp->common + C_Q_AVAIL, (uintptr_t)vq->avail);
    mmio_write64(vp->common + C_Q_USED, (uintptr_t)vq->used);
    uint16_t noff = mmio_read16(vp->common + C_Q_NOFF);
    vq->notify_addr = vp->notify + (uintptr_t)noff * vp->notify_mult;
    mmio_write16(vp->common + C_Q_ENABLE, 1);
    return 0;
}

static void vp_notify(struct nb_virtio_dev *d, struct nb_virtq *vq)
{
    (void)d;
    mmio_write16(vq->notify_addr, (uint16_t)vq->index);
}

static void vp_irq(void *arg)
{
    struct vpci_irq *irq = arg;
    struct vpci *vp = irq->vp;
    struct nb_virtio_dev *d = &vp->vdev;
    int what = irq->what;
    if (what == -2) {
        /* INTx: reading the ISR byte tells why and deasserts the line */
        uint8_t isr = mmio_read8(vp->isr);
        if ((isr & 2) && d->config_irq)
            d->config_irq(d);
        if (isr & 1)
            what = -3;
        else
            return;
    }
    if (what == -1) {
        if (d->config_irq)
            d->config_irq(d);
    } else if (what == -3 || vp->shared_queue_vector) {
        for (unsigned q = 0; q < vp->nqueues; q++)
            if (d->queue_irq)
                d->queue_irq(d, q);
    } else if (d->queue_irq) {
        d->queue_irq(d, (unsigned)what);
    }
}

static int vp_irq_setup(struct nb_virtio_dev *d, unsigned nqueues)
{
    struct vpci *vp = to_vpci(d);
    if (vp->irqs_ready) {
        /* a device reset forgot the config vector; the rest persists */
        if (vp->msix) {
            mmio_write16(vp->common + C_MSIX, 0);
            if (mmio_read16(vp->common + C_MSIX) != 0)
                return NB_EIO;
        }
        return 0;
    }
    vp->nqueues = nqueues;
    unsigned entries = nb_pci_msix_count(vp->pci);
    if (entries >= 2) {
        unsigned want = nqueues + 1;
        if (want > MAX_IRQS)
            want = MAX_IRQS;
        vp->shared_queue_vector = entries < want;
        unsigned use = vp->shared_queue_vector ? 2 : want;
        for (unsigned i = 0; i < use; i++) {
            vp->irqs[i].vp = vp;
            vp->irqs[i].what = i == 0 ? -1 : (int)(i - 1);
            int vec = nb_pc_irq_alloc(vp_irq, &vp->irqs[i], d->name);
            if (vec < 0)
                return vec;
            int rc = nb_pci_msix_set(vp->pci, i, vec);
            if (rc)
                return rc;
        }
        nb_pci_msix_enable(vp->pci, true);
        mmio_write16(vp->common + C_MSIX, 0);
        if (mmio_read16(vp->common + C_MSIX) != 0)
            return NB_EIO;
        vp->msix = true;
        vp->irqs_ready = true;
        snprintf(d->irq_desc, sizeof d->irq_desc, "msi-x x%u", use);
        return 0;
    }
    /* INTx through the IOAPIC */
    nb_pci_msix_enable(vp->pci, false);
    if (!vp->pci->irq_pin || vp->pci->irq_line == 0xff)
        return NB_ENODEV;
    vp->irqs[0].vp = vp;
    vp->irqs[0].what = -2;
    int vec = nb_pc_irq_alloc(vp_irq, &vp->irqs[0], d->name);
    if (vec < 0)
        return vec;
    int rc = nb_pc_irq_route_gsi(vp->pci->irq_line, vec, true, false);
    if (rc)
        return rc;
    vp->irqs_ready = true;
    snprintf(d->irq_desc, sizeof d->irq_desc, "intx gsi %u", vp->pci->irq_line);
    return 0;
}

static const struct nb_virtio_transport_ops vp_ops = {
    .reset = vp_reset,
    .get_status = vp_get_status,
    .set_status = vp_set_status,
    .get_features = vp_get_features,
    .set_features = vp_set_features,
    .read_config = vp_read_config,
    .queue_max = vp_queue_max,
    .queue_setup = vp_queue_setup,
    .notify = vp_notify,
    .irq_setup = vp_irq_setup,
};

static bool vp_match(const struct nb_pci_dev *d)
{
    return d->vendor == 0x1af4 && d->device >= 0x1000 && d->device <= 0x107f;
}

static int vp_probe(struct nb_pci_dev *pci)
{
    struct vpci *vp = calloc(1, sizeof *vp);
    if (!vp)
        return NB_ENOMEM;
    vp->pci = pci;
    for (unsigned cap = nb_pci_find_cap(pci, CAP_VENDOR, 0); cap;
         cap = nb_pci_find_cap(pci, CAP_VENDOR, cap)) {
        uint8_t type = nb_pci_read8(pci, cap + 3);
        uint8_t bar = nb_pci_read8(pci, cap + 4);
        uint32_t off = nb_pci_read32(pci, cap + 8);
        if (bar >= NB_PCI_MAX_BARS)
            continue;
        uint8_t *base = nb_pci_map_bar(pci, bar);
        if (!base)
            continue;
        uintptr_t a = (uintptr_t)base + off;
        switch (type) {
        case CFG_COMMON: if (!vp->common) vp->common = a; break;
        case CFG_NOTIFY:
            if (!vp->notify) {
                vp->notify = a;
                vp->notify_mult = nb_pci_read32(pci, cap + 16);
            }
            break;
        case CFG_ISR: if (!vp->isr) vp->isr = a; break;
        case CFG_DEVICE: if (!vp->device) vp->device = a; break;
        }
    }
    if (!vp->common || !vp->notify || !vp->isr) {
        free(vp);
        return NB_ENOTSUP; /* legacy-only device */
    }
    nb_pci_enable(pci);
    struct nb_virtio_dev *d = &vp->vdev;
    d->ops = &vp_ops;
    d->transport = vp;
    d->device_type = pci->device >= 0x1040 ? pci->device - 0x1040u
                                           : nb_pci_read16(pci, 0x2e);
    snprintf(d->name, sizeof d->name, "pci %02x:%02x.%x", pci->bus, pci->dev,
             pci->fn);
    int rc = nb_virtio_probe(d);
    if (rc) {
        vp_reset(d);
        free(vp);
    }
    return rc;
}

NB_PCI_DRIVER(virtio_pci_driver) = {
    .name = "virtio-pci",
    .match = vp_match,
    .probe = vp_probe,
};
