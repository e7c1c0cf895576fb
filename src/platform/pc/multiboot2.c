/*
 * The Multiboot2 boot information (GRUB on BIOS or UEFI machines), read
 * into the same nb_pc_boot as the PVH start info.
 *
 * mb2.c parses (and is fuzzed on the host); this file applies the result.
 * Everything is copied out before the heap exists: after GRUB exits UEFI's
 * boot services, the information and the modules lie in memory the map
 * calls available. Modules stay in place and are reserved (app.c); the
 * RSDP arrives as a copy inside the information, so the original is
 * looked for where firmware keeps it (Linux, booted later, needs an
 * address that survives) and the copy kept in nb_pc_boot otherwise.
 */
#include "mb2.h"
#include "pc.h"

#include <stdio.h>
#include <string.h>

/* The firmware's own RSDP equal to the copy: 16-byte aligned in the BIOS
 * area or in ACPI memory (UEFI puts it there). 0 if not found. */
static uint64_t find_rsdp_original(const uint8_t *copy, size_t len)
{
    struct {
        uint64_t lo, hi;
    } areas[NB_PC_MAX_MEMRANGES + 2];
    unsigned n = 0;
    /* the BIOS data area's EBDA segment (at 0x40e; page 0 is still mapped
     * by the boot page tables; the asm hides the constant from gcc's
     * array-bounds check) */
    uintptr_t bda = 0x40e;
    __asm__("" : "+r"(bda));
    uint64_t ebda = (uint64_t)*(const volatile uint16_t *)bda << 4;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        areas[n].lo = ebda, areas[n++].hi = ebda + 1024;
    areas[n].lo = 0xe0000, areas[n++].hi = 0x100000;
    for (unsigned i = 0; i < nb_pc_boot.nmem; i++) {
        const struct nb_pc_memrange *r = &nb_pc_boot.mem[i];
        /* ACPI reclaim and NVS below 4 GiB (what the boot page tables map) */
        if ((r->type == 3 || r->type == 4) && r->addr + r->size <= (4ull << 30))
            areas[n].lo = r->addr, areas[n++].hi = r->addr + r->size;
    }
    for (unsigned a = 0; a < n; a++)
        for (uint64_t p = (areas[a].lo + 15) & ~15ull; p + len <= areas[a].hi; p += 16)
            if (memcmp((const void *)(uintptr_t)p, copy, len) == 0)
                return p;
    return 0;
}

void nb_pc_read_multiboot2(uint32_t pa)
{
    static struct nb_mb2_info mb; /* too big for the boot stack's comfort */
    const char *why;
    if (!pa || (pa & 7))
        nb_pc_panic("bad Multiboot2 information address %#x", pa);
    if (nb_mb2_parse((const uint8_t *)(uintptr_t)pa, NB_MB2_MAX_BYTES, &mb, &why) != 0)
        nb_pc_panic("Multiboot2 information at %#x: %s", pa, why);
    memcpy(nb_pc_boot.cmdline, mb.cmdline, sizeof nb_pc_boot.cmdline);
    nb_pc_boot.cmdline[sizeof nb_pc_boot.cmdline - 1] = 0;
    snprintf(nb_pc_boot.loader, sizeof nb_pc_boot.loader, "%s",
             mb.loader[0] ? mb.loader : "Multiboot2");
    for (unsigned i = 0; i < mb.nmmap; i++)
        nb_pc_mem_add(mb.mmap[i].addr, mb.mmap[i].size, mb.mmap[i].type);
    nb_pc_boot.mem_dropped += mb.mmap_dropped;
    nb_pc_boot.fb_type = mb.fb_text ? NB_PC_FB_TEXT : mb.fb_rgb ? NB_PC_FB_RGB : NB_PC_FB_OTHER;
    nb_pc_boot.fb_addr = mb.fb_addr;
    nb_pc_boot.fb_pitch = mb.fb_pitch;
    nb_pc_boot.fb_width = mb.fb_width;
    nb_pc_boot.fb_height = mb.fb_height;
    nb_pc_boot.fb_bpp = mb.fb_bpp;
    nb_pc_boot.fb_rgb_pos[0] = mb.fb_red_pos;
    nb_pc_boot.fb_rgb_pos[1] = mb.fb_green_pos;
    nb_pc_boot.fb_rgb_pos[2] = mb.fb_blue_pos;
    /* modules after the map, so that they are checked against RAM */
    for (unsigned i = 0; i < mb.nmods && nb_pc_boot.nmods < NB_PC_MAX_MODULES; i++) {
        if (!nb_pc_is_ram(mb.mods[i].start, mb.mods[i].end - mb.mods[i].start))
            continue;
        struct nb_pc_module *mod = &nb_pc_boot.mods[nb_pc_boot.nmods++];
        mod->addr = mb.mods[i].start;
        mod->size = mb.mods[i].end - mb.mods[i].start;
        snprintf(mod->cmdline, sizeof mod->cmdline, "%s", mb.mods[i].cmdline);
    }
    if (mb.rsdp_len) {
        memcpy(nb_pc_boot.rsdp_copy, mb.rsdp, mb.rsdp_len);
        uint64_t orig = find_rsdp_original(mb.rsdp, 20);
        nb_pc_boot.rsdp = orig ? orig : (uint64_t)(uintptr_t)nb_pc_boot.rsdp_copy;
        nb_pc_boot.rsdp_is_copy = !orig;
    }
}
