/*
 * The Multiboot2 boot information (GRUB on BIOS or UEFI machines), read
 * into the same nb_pc_boot as the PVH start info.
 *
 * Everything is copied out before the heap exists: after GRUB exits UEFI's
 * boot services, the information and the modules lie in memory the map
 * calls available. Modules stay in place and are reserved (app.c); the
 * RSDP arrives as a copy inside the information, so the original is
 * looked for where firmware keeps it (Linux, booted later, needs an
 * address that survives) and the copy kept in nb_pc_boot otherwise.
 */
#include "pc.h"

#include <stdio.h>
#include <string.h>

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
/* more than any real map; the information is untrusted input all the same */
#define MB2_MAX_BYTES (1u << 20)

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void copy_str(char *dst, size_t cap, const uint8_t *src, size_t avail)
{
    size_t n = strnlen((const char *)src, avail < cap - 1 ? avail : cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

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
    const uint8_t *mbi = (const uint8_t *)(uintptr_t)pa;
    if (!pa || (pa & 7))
        nb_pc_panic("bad Multiboot2 information address %#x", pa);
    uint32_t total = rd32(mbi);
    if (total < 16 || total > MB2_MAX_BYTES)
        nb_pc_panic("Multiboot2 information of %u bytes: not believable", total);
    snprintf(nb_pc_boot.loader, sizeof nb_pc_boot.loader, "Multiboot2");
    nb_pc_boot.fb_type = NB_PC_FB_OTHER; /* until a tag says text */
    const uint8_t *rsdp_tag = NULL;
    uint32_t rsdp_len = 0;
    bool have_mmap = false;
    for (uint32_t off = 8; off + 8 <= total;) {
        const uint8_t *t = mbi + off;
        uint32_t type = rd32(t), size = rd32(t + 4);
        if (type == MB2_TAG_END)
            break;
        if (size < 8 || size > total - off)
            nb_pc_panic("Multiboot2 tag %u at +%u has a bad size %u", type, off, size);
        const uint8_t *body = t + 8;
        uint32_t blen = size - 8;
        switch (type) {
        case MB2_TAG_CMDLINE:
            copy_str(nb_pc_boot.cmdline, sizeof nb_pc_boot.cmdline, body, blen);
            break;
        case MB2_TAG_LOADER:
            copy_str(nb_pc_boot.loader, sizeof nb_pc_boot.loader, body, blen);
            break;
        case MB2_TAG_MMAP: {
            if (blen < 8)
                break;
            uint32_t esize = rd32(body);
            if (esize < 24)
                break;
            for (uint32_t e = 8; e + esize <= blen; e += esize)
                nb_pc_mem_add(rd64(body + e), rd64(body + e + 8), rd32(body + e + 16));
            have_mmap = nb_pc_boot.nmem > 0;
            break;
        }
        case MB2_TAG_FRAMEBUFFER:
            /* addr u64, pitch u32, width u32, height u32, bpp u8, type u8 */
            if (blen >= 22 && body[21] == 2) {
                nb_pc_boot.fb_type = NB_PC_FB_TEXT;
                nb_pc_boot.fb_addr = rd64(body);
                nb_pc_boot.fb_width = rd32(body + 12);
                nb_pc_boot.fb_height = rd32(body + 16);
            }
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW:
            /* the new (ACPI 2.0+, XSDT) one wins */
            if (blen >= 20 && (!rsdp_tag || type == MB2_TAG_ACPI_NEW)) {
                rsdp_tag = body;
                rsdp_len = blen < sizeof nb_pc_boot.rsdp_copy ? blen
                                                              : sizeof nb_pc_boot.rsdp_copy;
            }
            break;
        default:
            break;
        }
        off += (size + 7) & ~7u;
    }
    if (!have_mmap)
        nb_pc_panic("Multiboot2 information has no memory map");
    /* Modules after the map, so that they are checked against RAM. */
    for (uint32_t off = 8; off + 8 <= total;) {
        const uint8_t *t = mbi + off;
        uint32_t type = rd32(t), size = rd32(t + 4);
        if (type == MB2_TAG_END || size < 8 || size > total - off)
            break;
        if (type == MB2_TAG_MODULE && size >= 16 && nb_pc_boot.nmods < NB_PC_MAX_MODULES) {
            uint32_t start = rd32(t + 8), end = rd32(t + 12);
            if (end > start && nb_pc_is_ram(start, end - start)) {
                struct nb_pc_module *mod = &nb_pc_boot.mods[nb_pc_boot.nmods++];
                mod->addr = start;
                mod->size = end - start;
                copy_str(mod->cmdline, sizeof mod->cmdline, t + 16, size - 16);
            }
        }
        off += (size + 7) & ~7u;
    }
    if (rsdp_tag) {
        memcpy(nb_pc_boot.rsdp_copy, rsdp_tag, rsdp_len);
        uint64_t orig = find_rsdp_original(rsdp_tag, 20);
        nb_pc_boot.rsdp = orig ? orig : (uint64_t)(uintptr_t)nb_pc_boot.rsdp_copy;
        nb_pc_boot.rsdp_is_copy = !orig;
    }
}
