/*
 * Reboot and power-off without an ACPI interpreter, using what QEMU (and
 * most PCs) answer to:
 *
 * reboot:   the reset control register at port 0xcf9 (PIIX3 on `pc`,
 *           ICH9 on `q35`), then the keyboard controller's pulse-reset
 *           command (0xfe to port 0x64), then microvm's ACPI GED reset
 *           register (MMIO 0xfea00202 <- 0x42, only when there is no PCI,
 *           i.e. on microvm), and finally a triple fault (an empty IDT and
 *           an exception), which resets any x86.
 * poweroff: PM1a control at port 0x604 with SLP_EN and sleep type 0 (where
 *           SeaBIOS puts the PIIX4/ICH9 ACPI PM block on pc and q35), then
 *           microvm's GED sleep control (MMIO 0xfea00200 <- SLP_EN|S5),
 *           then QEMU's isa-debug-exit device at its default port 0x501 if
 *           one was added (QEMU exits with status 1). If all fail it
 *           returns, and the caller halts.
 */
#include "pc.h"
#include "pci.h"

#include <neoboot/platform.h>

#define GED_REGS 0xfea00200ull

void nb_pc_reboot(void)
{
    __asm__ volatile("cli");
    outb(0xcf9, 0x02);
    outb(0xcf9, 0x06); /* full reset */
    nb_pc_udelay(10000);
    for (int i = 0; i < 10000 && (inb(0x64) & 0x02); i++)
        ;
    outb(0x64, 0xfe);
    nb_pc_udelay(10000);
    if (!nb_pc_pci_present()) {
        mmio_write8((uintptr_t)nb_pc_map_mmio(GED_REGS, 4) + 2, 0x42);
        nb_pc_udelay(10000);
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) none = {0, 0};
    __asm__ volatile("lidt %0; int3" : : "m"(none));
    for (;;)
        __asm__ volatile("hlt");
}

void nb_pc_poweroff(void)
{
    __asm__ volatile("cli");
    outw(0x604, 0x2000);
    nb_pc_udelay(10000);
    if (!nb_pc_pci_present()) {
        mmio_write8((uintptr_t)nb_pc_map_mmio(GED_REGS, 4), (5 << 2) | 0x20);
        nb_pc_udelay(10000);
    }
    outb(0x501, 0x00);
    nb_pc_udelay(10000);
}

void nb_platform_reboot(void) { nb_pc_reboot(); }
void nb_platform_poweroff(void) { nb_pc_poweroff(); }
