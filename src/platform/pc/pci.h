/*
 * PCI: configuration access, enumeration, BARs, capabilities, MSI-X.
 *
 * pci.c walks the bus tree once at boot (legacy 0xcf8/0xcfc configuration
 * mechanism, following PCI-PCI bridges) and offers each function to the
 * drivers in the linker table `nb_pci_drivers` (NB_PCI_DRIVER below), the
 * iPXE way: a driver file declares itself and nothing central lists it.
 */
#ifndef NEOBOOT_PC_PCI_H
#define NEOBOOT_PC_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define NB_PCI_MAX_BARS 6

struct nb_pci_dev {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if, header_type;
    uint8_t irq_line, irq_pin;
    struct {
        uint64_t addr;    /* bus address (== our address: identity map) */
        uint64_t size;
        bool io, is64, prefetch;
    } bar[NB_PCI_MAX_BARS];
};

struct nb_pci_driver {
    const char *name;
    /* True if the driver wants this function. */
    bool (*match)(const struct nb_pci_dev *d);
    /* Take the device. The nb_pci_dev lives for as long as NeoBoot does.
     * 0, or NB_E* (logged; the device is left alone). */
    int (*probe)(struct nb_pci_dev *d);
};

#define NB_PCI_DRIVER(var) \
    static const struct nb_pci_driver var \
        __attribute__((used, section("nb_pci_drivers"), aligned(8)))

uint8_t nb_pci_read8(const struct nb_pci_dev *d, unsigned off);
uint16_t nb_pci_read16(const struct nb_pci_dev *d, unsigned off);
uint32_t nb_pci_read32(const struct nb_pci_dev *d, unsigned off);
void nb_pci_write16(const struct nb_pci_dev *d, unsigned off, uint16_t v);
void nb_pci_write32(const struct nb_pci_dev *d, unsigned off, uint32_t v);

/* Enable memory/I-O decoding and bus mastering (DMA). */
void nb_pci_enable(const struct nb_pci_dev *d);
/* Offset of the first capability with this id after `from` (0: start). */
unsigned nb_pci_find_cap(const struct nb_pci_dev *d, uint8_t id, unsigned from);
/* Map a memory BAR; NULL if it is absent, an I/O BAR, or unmappable. */
void *nb_pci_map_bar(const struct nb_pci_dev *d, unsigned bar);

/* MSI-X: table entries available (0 if none). */
unsigned nb_pci_msix_count(const struct nb_pci_dev *d);
/* Point entry `entry` at `vector` and unmask it; enable MSI-X on first
 * use. 0 or NB_E*. */
int nb_pci_msix_set(const struct nb_pci_dev *d, unsigned entry, int vector);
/* Turn MSI-X on or off for the function (INTx is used when off). */
void nb_pci_msix_enable(const struct nb_pci_dev *d, bool on);

/* Scan the buses and probe drivers. */
void nb_pc_pci_init(void);
/* True if a PCI host bridge answered (false on microvm). */
bool nb_pc_pci_present(void);
/* One line per function found, for the banner and `stats`. */
void nb_pc_pci_print(void (*print)(void *arg, const char *line), void *arg);

#endif
