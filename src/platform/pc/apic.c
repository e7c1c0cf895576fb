/*
 * Interrupt controllers: the legacy 8259 PICs (remapped and masked for
 * good), the local APIC of the boot CPU (xAPIC, memory-mapped), and the
 * IOAPICs that route legacy and INTx lines to vectors.
 *
 * Where the IOAPICs are, which GSIs they serve, and how ISA IRQs are wired
 * (the PIT's IRQ0 is usually GSI 2) come from the ACPI MADT found through
 * the RSDP the PVH start info gives. Without ACPI the PC defaults are used
 * (one IOAPIC at 0xfec00000, IRQ0 -> GSI 2, everything else identity).
 */
#include "pc.h"

#include <neoboot/err.h>
#include <neoboot/log.h>

#include <string.h>

NB_LOG_MODULE(apic);

#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370

#define MAX_IOAPICS 4

struct ioapic {
    uintptr_t base;
    unsigned gsi_base;
    unsigned pins;
};

static uintptr_t lapic;
static uint32_t lapic_id;
static struct ioapic ioapics[MAX_IOAPICS];
static unsigned nioapics;

/* ISA IRQ -> GSI, polarity/trigger (from MADT overrides) */
static struct {
    uint8_t gsi;
    bool level, low;
} isa_map[16];

uint32_t nb_pc_lapic_read(unsigned reg) { return mmio_read32(lapic + reg); }
void nb_pc_lapic_write(unsigned reg, uint32_t v) { mmio_write32(lapic + reg, v); }

void nb_pc_lapic_eoi(void) { mmio_write32(lapic + LAPIC_EOI, 0); }

static uint32_t ioapic_read(const struct ioapic *io, unsigned reg)
{
    mmio_write32(io->base, reg);
    return mmio_read32(io->base + 0x10);
}

static void ioapic_write(const struct ioapic *io, unsigned reg, uint32_t v)
{
    mmio_write32(io->base, reg);
    mmio_write32(io->base + 0x10, v);
}

static const struct ioapic *ioapic_for(unsigned gsi, unsigned *pin)
{
    for (unsigned i = 0; i < nioapics; i++) {
        if (gsi >= ioapics[i].gsi_base &&
            gsi < ioapics[i].gsi_base + ioapics[i].pins) {
            *pin = gsi - ioapics[i].gsi_base;
            return &ioapics[i];
        }
    }
    return NULL;
}

static void add_ioapic(uint64_t addr, unsigned gsi_base)
{
    if (nioapics >= MAX_IOAPICS)
        return;
    struct ioapic *io = &ioapics[nioapics];
    io->base = (uintptr_t)nb_pc_map_mmio(addr, 4096);
    if (!io->base)
        return;
    io->gsi_base = gsi_base;
    io->pins = ((ioapic_read(io, 1) >> 16) & 0xff) + 1;
    for (unsigned pin = 0; pin < io->pins; pin++) {
        ioapic_write(io, 0x10 + 2 * pin, 1u << 16); /* masked */
        ioapic_write(io, 0x11 + 2 * pin, 0);
    }
    nioapics++;
    NB_DEBUG("IOAPIC at %#llx: GSI %u-%u", (unsigned long long)addr, gsi_base,
             gsi_base + io->pins - 1);
}

/* ---- ACPI: just enough to read the MADT ---- */

static bool acpi_sum_ok(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s += p[i];
    return s == 0;
}

const uint8_t *nb_pc_acpi_find(const char sig[4])
{
    uint64_t rsdp = nb_pc_boot.rsdp;
    if (!rsdp)
        return NULL;
    const uint8_t *r = (const uint8_t *)(uintptr_t)rsdp;
    if (memcmp(r, "RSD PTR ", 8) != 0 || !acpi_sum_ok(r, 20))
        return NULL;
    uint64_t root;
    unsigned entsize;
    if (r[15] >= 2 && *(const uint64_t *)(r + 24)) {
        root = *(const uint64_t *)(r + 24); /* XSDT */
        entsize = 8;
    } else {
        root = *(const uint32_t *)(r + 16); /* RSDT */
        entsize = 4;
    }
    if (!root || root >= nb_pc_boot.ram_top + (4ull << 30))
        return NULL;
    const uint8_t *t = (const uint8_t *)(uintptr_t)root;
    uint32_t len = *(const uint32_t *)(t + 4);
    if (len < 36 || len > 65536 || !acpi_sum_ok(t, len))
        return NULL;
    for (uint32_t off = 36; off + entsize <= len; off += entsize) {
        uint64_t a = entsize == 8 ? *(const uint64_t *)(t + off)
                                  : *(const uint32_t *)(t + off);
        const uint8_t *h = (const uint8_t *)(uintptr_t)a;
        if (a && memcmp(h, sig, 4) == 0)
            return h;
    }
    return NULL;
}

static void parse_madt(void)
{
    const uint8_t *m = nb_pc_acpi_find("APIC");
    if (!m) {
        NB_DEBUG("no ACPI MADT: PC defaults");
        add_ioapic(0xfec00000, 0);
        isa_map[0].gsi = 2;
        return;
    }
    uint32_t len = *(const uint32_t *)(m + 4);
    for (uint32_t off = 44; off + 2 <= len;) {
        uint8_t type = m[off], elen = m[off + 1];
        if (elen < 2 || off + elen > len)
            break;
        const uint8_t *e = m + off;
        if (type == 1 && elen >= 12) { /* IOAPIC */
            add_ioapic(*(const uint32_t *)(e + 4), *(const uint32_t *)(e + 8));
        } else if (type == 2 && elen >= 10) { /* interrupt source override */
            uint8_t src = e[3];
            uint32_t gsi = *(const uint32_t *)(e + 4);
            uint16_t flags = *(const uint16_t *)(e + 8);
            if (src < 16) {
                isa_map[src].gsi = (uint8_t)gsi;
                isa_map[src].low = (flags & 3) == 3;
                isa_map[src].level = ((flags >> 2) & 3) == 3;
            }
        }
        off += elen;
    }
    if (!nioapics)
        add_ioapic(0xfec00000, 0);
}

unsigned nb_pc_isa_gsi(unsigned irq, bool *level, bool *low)
{
    *level = isa_map[irq & 15].level;
    *low = isa_map[irq & 15].low;
    return isa_map[irq & 15].gsi;
}

void nb_pc_ioapic_mask(unsigned gsi, bool masked)
{
    unsigned pin;
    const struct ioapic *io = ioapic_for(gsi, &pin);
    if (!io)
        return;
    uint32_t lo = ioapic_read(io, 0x10 + 2 * pin);
    lo = masked ? lo | (1u << 16) : lo & ~(1u << 16);
    ioapic_write(io, 0x10 + 2 * pin, lo);
}

int nb_pc_ioapic_route(unsigned gsi, int vector, bool level, bool low)
{
    unsigned pin;
    const struct ioapic *io = ioapic_for(gsi, &pin);
    if (!io)
        return NB_ENODEV;
    ioapic_write(io, 0x11 + 2 * pin, lapic_id << 24);
    ioapic_write(io, 0x10 + 2 * pin,
                 (uint32_t)vector | (low ? 1u << 13 : 0) | (level ? 1u << 15 : 0));
    return 0;
}

uint64_t nb_pc_msi_address(void)
{
    return 0xfee00000ull | (uint64_t)lapic_id << 12;
}

uint32_t nb_pc_msi_data(int vector)
{
    return (uint32_t)vector; /* fixed delivery, edge */
}

void nb_pc_apic_init(void)
{
    for (unsigned i = 0; i < 16; i++)
        isa_map[i].gsi = (uint8_t)i;

    /* 8259s: remap to 0x20-0x2f (so a spurious one cannot look like an
     * exception), then mask every line. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);

    uint64_t base = rdmsr(0x1b);
    wrmsr(0x1b, base | (1u << 11)); /* globally enabled, xAPIC mode */
    lapic = (uintptr_t)nb_pc_map_mmio(base & 0xffffff000ull, 4096);
    lapic_id = nb_pc_lapic_read(LAPIC_ID) >> 24;
    nb_pc_lapic_write(LAPIC_TPR, 0);
    nb_pc_lapic_write(LAPIC_LVT_LINT0, 1u << 16);
    nb_pc_lapic_write(LAPIC_LVT_LINT1, 4u << 8); /* NMI */
    nb_pc_lapic_write(LAPIC_LVT_ERROR, 1u << 16);
    nb_pc_lapic_write(LAPIC_SVR, 0x100 | NB_PC_VEC_SPURIOUS);

    parse_madt();
}
