/*
 * Memory: the final page tables and the heap's regions.
 *
 * Everything stays identity-mapped (virtual == physical), which keeps DMA
 * trivial: a buffer's address is what the device is told. The tables built
 * here replace boot.S's provisional ones:
 *   - the first 4 GiB and all RAM above, with 2 MiB pages;
 *   - RAM write-back, everything else (MMIO holes) uncached;
 *   - the 2 MiB chunks holding the image use 4 KiB pages so that page 0 is
 *     unmapped (NULL dereferences fault), .text is read-only+executable,
 *     .rodata read-only, and data/bss/heap/stacks are never executable
 *     (NX, when the CPU has it).
 * Page-table pages for the first 4 GiB come from a small static pool; those
 * for RAM or devices above 4 GiB come from the heap once it exists.
 *
 * The heap gets every RAM range of the memory map above 1 MiB, minus the
 * image itself and the ranges reserved before (nb_pc_reserve: boot modules
 * and the bundled app, which the boot loader placed in RAM). Low memory
 * (< 1 MiB) is left to firmware leftovers.
 */
#include "pc.h"

#include <neoboot/log.h>

#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(mm);

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define MB2 (2ull << 20)
#define GB4 (4ull << 30)

extern char __image_start[], __image_end[], __text_start[], __text_end[];
extern char __rodata_start[], __data_start[];

#define POOL_PAGES 12
static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned pool_used;
static bool heap_ready;
static uint64_t *pml4;
static uint64_t nx_bit;
static unsigned tables_from_heap;

static uint64_t *table_alloc(void)
{
    uint64_t *t = NULL;
    if (pool_used < POOL_PAGES)
        t = pool[pool_used++];
    else if (heap_ready) {
        t = aligned_alloc(4096, 4096);
        if (t)
            tables_from_heap++;
    }
    if (t)
        memset(t, 0, 4096);
    return t;
}

/* The table `parent[idx]` points to, made if missing. NULL if out of
 * pages, or if the entry is a large page (never split here). */
static uint64_t *table_at(uint64_t *parent, unsigned idx)
{
    uint64_t e = parent[idx];
    if (e & PTE_P)
        return (e & PTE_PS) ? NULL : (uint64_t *)(uintptr_t)(e & PTE_ADDR);
    uint64_t *t = table_alloc();
    if (!t)
        return NULL;
    parent[idx] = (uintptr_t)t | PTE_P | PTE_W;
    return t;
}

static uint64_t *pd_for(uint64_t addr)
{
    uint64_t *pdpt = table_at(pml4, (addr >> 39) & 511);
    return pdpt ? table_at(pdpt, (addr >> 30) & 511) : NULL;
}

static bool is_ram(uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < nb_pc_boot.nmem; i++) {
        const struct nb_pc_memrange *r = &nb_pc_boot.mem[i];
        if (r->type == 1 && r->addr < end && r->addr + r->size > start)
            return true;
    }
    return false;
}

bool nb_pc_is_ram(uint64_t addr, uint64_t size)
{
    if (addr + size < addr)
        return false;
    for (unsigned i = 0; i < nb_pc_boot.nmem; i++) {
        const struct nb_pc_memrange *r = &nb_pc_boot.mem[i];
        if (r->type == 1 && addr >= r->addr && addr + size <= r->addr + r->size)
            return true;
    }
    return false;
}

static uint64_t flags_for_2m(uint64_t addr)
{
    if (is_ram(addr, addr + MB2))
        return PTE_P | PTE_W | nx_bit;
    return PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx_bit;
}

/* 4 KiB-page attributes inside the image's chunks. */
static uint64_t flags_for_4k(uint64_t addr)
{
    uintptr_t a = (uintptr_t)addr;
    if (addr == 0)
        return 0; /* NULL page: not present */
    if (a >= (uintptr_t)__text_start && a < (uintptr_t)__text_end)
        return PTE_P;
    if (a >= (uintptr_t)__rodata_start && a < (uintptr_t)__data_start)
        return PTE_P | nx_bit;
    if (addr >= 0xa0000 && addr < 0x100000) /* VGA hole, option ROMs */
        return PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx_bit;
    return PTE_P | PTE_W | nx_bit;
}

static bool map_2m(uint64_t addr, uint64_t flags)
{
    uint64_t *pd = pd_for(addr);
    if (!pd)
        return false;
    unsigned i = (addr >> 21) & 511;
    if (!(pd[i] & PTE_P))
        pd[i] = addr | flags | PTE_PS;
    return true;
}

static void load_cr3(void)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"((uintptr_t)pml4) : "memory");
}

void *nb_pc_map_mmio(uint64_t phys, uint64_t size)
{
    uint64_t start = phys & ~(MB2 - 1), end = (phys + size + MB2 - 1) & ~(MB2 - 1);
    if (end <= GB4)
        return (void *)(uintptr_t)phys; /* mapped uncached at boot */
    for (uint64_t a = start; a < end; a += MB2) {
        if (a < GB4)
            continue;
        if (!map_2m(a, PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx_bit)) {
            NB_ERROR("no page-table memory to map MMIO at %#llx",
                     (unsigned long long)a);
            return NULL;
        }
    }
    load_cr3(); /* new entries only; a reload is the simple full flush */
    return (void *)(uintptr_t)phys;
}

/*
 * Write-combining for framebuffers: the console draws pixel by pixel, and
 * uncached stores cost a bus transaction each (a full-screen redraw on a
 * real machine took tens of milliseconds). PAT entry 1 (PWT=1, PCD=0;
 * write-through by default, which nothing here uses) becomes WC, and the
 * framebuffer's 2 MiB pages select it.
 */
#define MSR_PAT 0x277
#define PAT_WC 0x01

void *nb_pc_map_framebuffer(uint64_t phys, uint64_t size)
{
    void *p = nb_pc_map_mmio(phys, size);
    if (!p || !nb_pc_cpu.pat)
        return p;
    uint64_t pat = rdmsr(MSR_PAT);
    pat = (pat & ~(0xffull << 8)) | (uint64_t)PAT_WC << 8;
    wrmsr(MSR_PAT, pat);
    uint64_t start = phys & ~(MB2 - 1), end = (phys + size + MB2 - 1) & ~(MB2 - 1);
    for (uint64_t a = start; a < end; a += MB2) {
        uint64_t *pd = pd_for(a);
        unsigned i = (a >> 21) & 511;
        /* only whole 2 MiB device pages: never RAM, never a 4 KiB table */
        if (!pd || !(pd[i] & PTE_PS) || is_ram(a, a + MB2))
            continue;
        pd[i] = a | PTE_P | PTE_W | PTE_PWT | PTE_PS | nx_bit;
    }
    load_cr3();
    return p;
}

void nb_pc_reserve(uint64_t addr, uint64_t size)
{
    if (heap_ready)
        nb_pc_panic("nb_pc_reserve after the heap was set up");
    if (!size)
        return;
    if (nb_pc_boot.nreserved == NB_PC_MAX_RESERVED)
        nb_pc_panic("mm: more than %d reserved ranges", NB_PC_MAX_RESERVED);
    uint64_t lo = addr & ~4095ull, hi = (addr + size + 4095) & ~4095ull;
    nb_pc_boot.reserved[nb_pc_boot.nreserved].addr = lo;
    nb_pc_boot.reserved[nb_pc_boot.nreserved].size = hi - lo;
    nb_pc_boot.nreserved++;
}

/* RAM [lo, hi) minus the image and the reserved ranges (boot modules, the
 * bundled app) goes to the heap. */
static void add_ram_to_heap(uint64_t lo, uint64_t hi)
{
    struct nb_pc_memrange cut[NB_PC_MAX_RESERVED + 1];
    unsigned ncut = 0;
    cut[ncut].addr = (uintptr_t)__image_start;
    cut[ncut++].size = (uintptr_t)__image_end - (uintptr_t)__image_start;
    for (unsigned i = 0; i < nb_pc_boot.nreserved; i++)
        cut[ncut++] = nb_pc_boot.reserved[i];
    for (unsigned i = 1; i < ncut; i++) /* insertion sort by address */
        for (unsigned j = i; j > 0 && cut[j].addr < cut[j - 1].addr; j--) {
            struct nb_pc_memrange t = cut[j];
            cut[j] = cut[j - 1];
            cut[j - 1] = t;
        }
    for (unsigned i = 0; i < nb_pc_boot.nmem; i++) {
        const struct nb_pc_memrange *r = &nb_pc_boot.mem[i];
        if (r->type != 1)
            continue;
        uint64_t s = r->addr < lo ? lo : r->addr;
        uint64_t e = r->addr + r->size > hi ? hi : r->addr + r->size;
        if (s < 0x100000)
            s = 0x100000;
        for (unsigned k = 0; k < ncut && s < e; k++) {
            uint64_t cs = cut[k].addr, ce = cut[k].addr + cut[k].size;
            if (ce <= s || cs >= e)
                continue;
            if (cs > s)
                nb_pc_heap_add((void *)(uintptr_t)s, cs - s);
            s = ce;
        }
        if (e > s)
            nb_pc_heap_add((void *)(uintptr_t)s, e - s);
    }
}

void nb_pc_mm_init(void)
{
    /* The loader put the image there, but RAM may end before .bss does
     * (with -m too small, stores to it would vanish): say so and stop. */
    uint64_t img = (uintptr_t)__image_end - (uintptr_t)__image_start;
    if (!nb_pc_is_ram((uintptr_t)__image_start, img)) {
        for (unsigned i = 0; i < nb_pc_boot.nmem; i++)
            NB_ERROR("memory map: %#llx-%#llx type %u",
                     (unsigned long long)nb_pc_boot.mem[i].addr,
                     (unsigned long long)(nb_pc_boot.mem[i].addr + nb_pc_boot.mem[i].size - 1),
                     nb_pc_boot.mem[i].type);
        nb_pc_panic("the image needs %llu KiB of RAM at %llu MiB, and the memory map above "
                    "has none there (too little memory? give QEMU -m 32M or more)",
                    (unsigned long long)(img >> 10),
                    (unsigned long long)((uintptr_t)__image_start >> 20));
    }
    if (nb_pc_cpu.nx) {
        wrmsr(0xc0000080, rdmsr(0xc0000080) | (1ull << 11)); /* EFER.NXE */
        nx_bit = PTE_NX;
    }
    pml4 = table_alloc();

    /* With 4 KiB pages: the first 2 MiB (page 0 unmapped, the VGA hole)
     * and the image's 2 MiB chunks. */
    uint64_t img_start = (uintptr_t)__image_start & ~(MB2 - 1);
    uint64_t img_end = ((uintptr_t)__image_end + MB2 - 1) & ~(MB2 - 1);
    for (uint64_t chunk = 0; chunk < img_end; chunk += MB2) {
        if (chunk != 0 && chunk < img_start)
            continue;
        uint64_t *pd = pd_for(chunk);
        uint64_t *pt = pd ? table_at(pd, (chunk >> 21) & 511) : NULL;
        if (!pt)
            nb_pc_panic("mm: page-table pool too small for the image");
        for (unsigned i = 0; i < 512; i++) {
            uint64_t a = chunk + (uint64_t)i * 4096;
            uint64_t f = flags_for_4k(a);
            pt[i] = f ? a | f : 0;
        }
    }
    /* The rest of the first 4 GiB (map_2m skips chunks mapped above). */
    for (uint64_t a = MB2; a < GB4; a += MB2)
        if (!map_2m(a, flags_for_2m(a)))
            nb_pc_panic("mm: page-table pool too small for 4 GiB");
    load_cr3();

    add_ram_to_heap(0, GB4);
    heap_ready = true;

    /* RAM above 4 GiB: map it (tables from the heap), then hand it over. */
    if (nb_pc_boot.ram_top > GB4) {
        uint64_t mapped_to = GB4;
        for (uint64_t a = GB4; a < nb_pc_boot.ram_top; a += MB2) {
            if (!is_ram(a, a + MB2))
                continue;
            if (!map_2m(a, PTE_P | PTE_W | nx_bit)) {
                NB_WARN("RAM above %#llx left unmapped: no page-table memory",
                        (unsigned long long)a);
                break;
            }
            mapped_to = a + MB2;
        }
        load_cr3();
        add_ram_to_heap(GB4, mapped_to);
    }
    NB_DEBUG("page tables: %u static pages, %u from heap; NX %s", pool_used,
             tables_from_heap, nx_bit ? "on" : "unavailable");
}
