/*
 * PCI enumeration and helpers (see pci.h).
 *
 * Firmware (SeaBIOS on QEMU's pc and q35) has already assigned BARs, so
 * here BARs are only sized (write all-ones with decoding off, read back,
 * restore) and recorded; a memory BAR is mapped when a driver asks. The
 * scan is depth-first from bus 0 through PCI-PCI bridges (whose secondary
 * bus numbers firmware also set), so only existing buses are visited.
 * The number of functions kept is bounded (MAX_DEVS).
 */
#include "pci.h"

#include "pc.h"

#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdio.h>
#include <string.h>

NB_LOG_MODULE(pci);

#define MAX_DEVS 64
#define PCI_COMMAND 0x04
#define CMD_IO 0x1
#define CMD_MEM 0x2
#define CMD_MASTER 0x4
#define CMD_INTX_OFF 0x400
#define CAP_MSIX 0x11

extern const struct nb_pci_driver __nb_pci_drivers_start[], __nb_pci_drivers_end[];

static struct nb_pci_dev devs[MAX_DEVS];
static unsigned ndevs;
static bool present;
static const char *bound[MAX_DEVS];

static uint32_t cfg_addr(uint8_t bus, uint8_t dev, uint8_t fn, unsigned off)
{
    return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
           (uint32_t)fn << 8 | (off & 0xfc);
}

static uint32_t raw_read32(uint8_t bus, uint8_t dev, uint8_t fn, unsigned off)
{
    outl(0xcf8, cfg_addr(bus, dev, fn, off));
    return inl(0xcfc);
}

uint32_t nb_pci_read32(const struct nb_pci_dev *d, unsigned off)
{
    return raw_read32(d->bus, d->dev, d->fn, off);
}

uint16_t nb_pci_read16(const struct nb_pci_dev *d, unsigned off)
{
    return (uint16_t)(nb_pci_read32(d, off) >> ((off & 2) * 8));
}

uint8_t nb_pci_read8(const struct nb_pci_dev *d, unsigned off)
{
    return (uint8_t)(nb_pci_read32(d, off) >> ((off & 3) * 8));
}

void nb_pci_write32(const struct nb_pci_dev *d, unsigned off, uint32_t v)
{
    outl(0xcf8, cfg_addr(d->bus, d->dev, d->fn, off));
    outl(0xcfc, v);
}

void nb_pci_write16(const struct nb_pci_dev *d, unsigned off, uint16_t v)
{
    outl(0xcf8, cfg_addr(d->bus, d->dev, d->fn, off));
    outw((uint16_t)(0xcfc + (off & 2)), v);
}

void nb_pci_enable(const struct nb_pci_dev *d)
{
    uint16_t cmd = nb_pci_read16(d, PCI_COMMAND);
    nb_pci_write16(d, PCI_COMMAND, cmd | CMD_MEM | CMD_IO | CMD_MASTER);
}

unsigned nb_pci_find_cap(const struct nb_pci_dev *d, uint8_t id, unsigned from)
{
    if (!(nb_pci_read16(d, 0x06) & 0x10)) /* status: capability list */
        return 0;
    unsigned off = from ? nb_pci_read8(d, from + 1) : nb_pci_read8(d, 0x34);
    for (int guard = 0; off >= 0x40 && guard < 48; guard++) {
        off &= 0xfc;
        if (nb_pci_read8(d, off) == id)
            return off;
        off = nb_pci_read8(d, off + 1);
    }
    return 0;
}

void *nb_pci_map_bar(const struct nb_pci_dev *d, unsigned bar)
{
    if (bar >= NB_PCI_MAX_BARS || d->bar[bar].io || !d->bar[bar].addr ||
        !d->bar[bar].size)
        return NULL;
    return nb_pc_map_mmio(d->bar[bar].addr, d->bar[bar].size);
}

static void size_bars(struct nb_pci_dev *d)
{
    unsigned nbars = (d->header_type & 0x7f) == 0 ? 6 : 2;
    uint16_t cmd = nb_pci_read16(d, PCI_COMMAND);
    nb_pci_write16(d, PCI_COMMAND, cmd & ~(CMD_IO | CMD_MEM));
    for (unsigned i = 0; i < nbars; i++) {
        unsigned off = 0x10 + 4 * i;
        uint32_t orig = nb_pci_read32(d, off);
        nb_pci_write32(d, off, 0xffffffffu);
        uint32_t mask = nb_pci_read32(d, off);
        nb_pci_write32(d, off, orig);
        if (orig & 1) { /* I/O */
            d->bar[i].io = true;
            d->bar[i].addr = orig & ~3u;
            d->bar[i].size = mask ? (~(mask & ~3u) + 1) & 0xffff : 0;
            continue;
        }
        uint64_t addr = orig & ~0xfull, m = mask & ~0xfull;
        bool is64 = ((orig >> 1) & 3) == 2;
        d->bar[i].prefetch = orig & 8;
        if (is64 && i + 1 < nbars) {
            uint32_t orig_hi = nb_pci_read32(d, off + 4);
            nb_pci_write32(d, off + 4, 0xffffffffu);
            uint32_t mask_hi = nb_pci_read32(d, off + 4);
            nb_pci_write32(d, off + 4, orig_hi);
            addr |= (uint64_t)orig_hi << 32;
            m |= (uint64_t)mask_hi << 32;
            d->bar[i].is64 = true;
            d->bar[i].addr = addr;
            d->bar[i].size = m ? ~m + 1 : 0;
            i++; /* the upper half is not a BAR of its own */
            continue;
        }
        if (m)
            m |= 0xffffffff00000000ull;
        d->bar[i].addr = addr;
        d->bar[i].size = m ? ~m + 1 : 0;
    }
    nb_pci_write16(d, PCI_COMMAND, cmd);
}

static void scan_bus(uint8_t bus, int depth);

static void scan_fn(uint8_t bus, uint8_t dev, uint8_t fn, int depth)
{
    uint32_t id = raw_read32(bus, dev, fn, 0);
    if ((id & 0xffff) == 0xffff)
        return;
    present = true;
    if (ndevs >= MAX_DEVS) {
        NB_WARN("more than %d PCI functions; ignoring %02x:%02x.%x", MAX_DEVS,
                bus, dev, fn);
        return;
    }
    struct nb_pci_dev *d = &devs[ndevs++];
    memset(d, 0, sizeof *d);
    d->bus = bus;
    d->dev = dev;
    d->fn = fn;
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    uint32_t cls = raw_read32(bus, dev, fn, 8);
    d->class_code = (uint8_t)(cls >> 24);
    d->subclass = (uint8_t)(cls >> 16);
    d->prog_if = (uint8_t)(cls >> 8);
    d->header_type = nb_pci_read8(d, 0x0e);
    uint32_t intr = nb_pci_read32(d, 0x3c);
    d->irq_line = (uint8_t)intr;
    d->irq_pin = (uint8_t)(intr >> 8);
    size_bars(d);
    if ((d->header_type & 0x7f) == 1 && depth < 8) { /* PCI-PCI bridge */
        uint8_t secondary = (uint8_t)(nb_pci_read32(d, 0x18) >> 8);
        if (secondary > bus)
            scan_bus(secondary, depth + 1);
    }
}

static void scan_bus(uint8_t bus, int depth)
{
    for (uint8_t dev = 0; dev < 32; dev++) {
        uint32_t id = raw_read32(bus, dev, 0, 0);
        if ((id & 0xffff) == 0xffff)
            continue;
        uint8_t ht = (uint8_t)(raw_read32(bus, dev, 0, 0x0c) >> 16);
        unsigned nfn = (ht & 0x80) ? 8 : 1;
        for (uint8_t fn = 0; fn < nfn; fn++)
            scan_fn(bus, dev, fn, depth);
    }
}

bool nb_pc_pci_present(void) { return present; }

void nb_pc_pci_init(void)
{
    /* A host bridge answers at 00:00.0 on pc and q35; microvm has no PCI
     * and the ports read all-ones. */
    scan_bus(0, 0);
    for (unsigned i = 0; i < ndevs; i++) {
        for (const struct nb_pci_driver *drv = __nb_pci_drivers_start;
             drv < __nb_pci_drivers_end; drv++) {
            if (!drv->match(&devs[i]))
                continue;
            int rc = drv->probe(&devs[i]);
            if (rc == 0) {
                bound[i] = drv->name;
                break;
            }
            NB_WARN("%02x:%02x.%x: %s: %s", devs[i].bus, devs[i].dev,
                    devs[i].fn, drv->name, nb_strerror(rc));
        }
    }
}

void nb_pc_pci_print(void (*print)(void *arg, const char *line), void *arg)
{
    char line[128];
    for (unsigned i = 0; i < ndevs; i++) {
        const struct nb_pci_dev *d = &devs[i];
        snprintf(line, sizeof line, "pci %02x:%02x.%x %04x:%04x class %02x%02x%s%s",
                 d->bus, d->dev, d->fn, d->vendor, d->device, d->class_code,
                 d->subclass, bound[i] ? " -> " : "", bound[i] ? bound[i] : "");
        print(arg, line);
    }
}

/* ---- MSI-X ---- */

unsigned nb_pci_msix_count(const struct nb_pci_dev *d)
{
    unsigned cap = nb_pci_find_cap(d, CAP_MSIX, 0);
    return cap ? (nb_pci_read16(d, cap + 2) & 0x7ff) + 1u : 0;
}

void nb_pci_msix_enable(const struct nb_pci_dev *d, bool on)
{
    unsigned cap = nb_pci_find_cap(d, CAP_MSIX, 0);
    if (!cap)
        return;
    uint16_t ctl = nb_pci_read16(d, cap + 2);
    ctl &= (uint16_t)~0x4000; /* function mask off */
    ctl = on ? ctl | 0x8000 : ctl & (uint16_t)~0x8000;
    nb_pci_write16(d, cap + 2, ctl);
    uint16_t cmd = nb_pci_read16(d, PCI_COMMAND);
    nb_pci_write16(d, PCI_COMMAND, on ? cmd | CMD_INTX_OFF : cmd & ~CMD_INTX_OFF);
}

int nb_pci_msix_set(const struct nb_pci_dev *d, unsigned entry, int vector)
{
    unsigned cap = nb_pci_find_cap(d, CAP_MSIX, 0);
    if (!cap)
        return NB_ENOTSUP;
    if (entry >= nb_pci_msix_count(d))
        return NB_EINVAL;
    uint32_t tbl = nb_pci_read32(d, cap + 4);
    unsigned bir = tbl & 7;
    if (bir >= NB_PCI_MAX_BARS)
        return NB_EINVAL;
    uint8_t *base = nb_pci_map_bar(d, bir);
    if (!base)
        return NB_ENODEV;
    uintptr_t e = (uintptr_t)base + (tbl & ~7u) + 16u * entry;
    uint64_t addr = nb_pc_msi_address();
    mmio_write32(e + 12, 1); /* mask while changing */
    mmio_write32(e + 0, (uint32_t)addr);
    mmio_write32(e + 4, (uint32_t)(addr >> 32));
    mmio_write32(e + 8, nb_pc_msi_data(vector));
    mmio_write32(e + 12, 0);
    return 0;
}
