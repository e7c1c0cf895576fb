/*
 * Booting Linux on pc: the x86 64-bit boot protocol (boot.rst, "64-bit
 * BOOT PROTOCOL"), after core code has checked the image and every digest.
 *
 * Placement: everything lives in heap allocations, so nothing is copied
 * over memory still in use. The kernel goes to a block aligned to its
 * kernel_alignment, at or above pref_address (a relocatable kernel loaded
 * lower decompresses at pref_address anyway), with init_size bytes free
 * from there. boot_params, the command line and the initrd get blocks of
 * their own, outside that range, and boot_params tells the kernel where
 * they are (KASLR's decompressor avoids them too).
 *
 * The jump: devices are stopped first (a virtio device must not DMA into
 * memory Linux reuses), interrupts go off, and a small trampoline loads
 * fresh page tables (our heap is mapped no-execute, and the kernel runs
 * its first instructions from there), the GDT the protocol asks for
 * (__BOOT_CS 0x10, __BOOT_DS 0x18), and enters at load + 0x200 with %rsi
 * pointing at boot_params.
 */
#include "pc.h"

#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/util.h>

#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(linux);

/* struct boot_params offsets */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_HEADER 0x1f1
#define BP_VID_MODE 0x1fa
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_SETUP_DATA 0x250
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define BP_SIZE 4096

#define LOADFLAG_QUIET 0x20

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PS 0x80ull
#define GB (1ull << 30)
#define MB2 (2ull << 20)

static uint64_t boot_gdt[4] __attribute__((aligned(16))) = {
    0,
    0,
    0x00af9a000000ffffull, /* 0x10: 64-bit code, execute/read, flat */
    0x00cf92000000ffffull, /* 0x18: data, read/write, flat 4 GiB */
};

/*
 * Identity page tables covering [0, top) with no NX bit anywhere (so the
 * kernel may run from what was our heap): 1 GiB pages when the CPU has
 * them, else 2 MiB pages. NULL if out of memory.
 */
static uint64_t *build_page_tables(uint64_t top)
{
    uint64_t gbs = (top + GB - 1) / GB;
    if (gbs < 4)
        gbs = 4; /* the first 4 GiB: device registers included */
    if (gbs > 512)
        gbs = 512;
    uint64_t *pml4 = aligned_alloc(4096, 4096);
    uint64_t *pdpt = aligned_alloc(4096, 4096);
    if (!pml4 || !pdpt)
        return NULL;
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pml4[0] = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_W;
    for (uint64_t g = 0; g < gbs; g++) {
        if (nb_pc_cpu.pdpe1gb) {
            pdpt[g] = (g * GB) | PTE_P | PTE_W | PTE_PS;
            continue;
        }
        uint64_t *pd = aligned_alloc(4096, 4096);
        if (!pd)
            return NULL;
        for (uint64_t i = 0; i < 512; i++)
            pd[i] = (g * GB + i * MB2) | PTE_P | PTE_W | PTE_PS;
        pdpt[g] = (uint64_t)(uintptr_t)pd | PTE_P | PTE_W;
    }
    return pml4;
}

static NB_PC_NORETURN void jump_to_kernel(uint64_t cr3, uint64_t entry, void *boot_params)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr = {sizeof boot_gdt - 1, (uint64_t)(uintptr_t)boot_gdt};
    __asm__ volatile(
        "cli\n\t"
        "mov %0, %%cr3\n\t"          /* tables without NX: the kernel's code may run */
        "lgdt %1\n\t"
        "pushq $0x10\n\t"            /* __BOOT_CS */
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movl $0x18, %%eax\n\t"      /* __BOOT_DS */
        "movl %%eax, %%ds\n\t"
        "movl %%eax, %%es\n\t"
        "movl %%eax, %%ss\n\t"
        "movl %%eax, %%fs\n\t"
        "movl %%eax, %%gs\n\t"
        "xorl %%ebp, %%ebp\n\t"
        "jmp *%2\n"
        :
        : "r"(cr3), "m"(gdtr), "r"(entry), "S"(boot_params)
        : "rax", "memory");
    __builtin_unreachable();
}

/* Stop every device that could write to memory after the jump. */
static void quiesce(void)
{
    for (struct nb_iface *i = nb_iface_first(); i; i = i->next)
        nb_iface_stop(i);
    nb_pc_timer_arm(UINT64_MAX);
}

int nb_platform_boot_linux(const struct nb_boot_request *req, const char **why)
{
    const struct nb_bzimage *h = &req->hdr;
    size_t kernel_bytes = req->kernel_len - h->setup_size;
    uint64_t need = (uint64_t)h->init_size > kernel_bytes ? h->init_size : kernel_bytes;

    /* The kernel block: room for init_size at or above pref_address. */
    uint64_t span = need + h->pref_address + h->kernel_alignment;
    if (span > SIZE_MAX / 2) {
        *why = "kernel asks for an impossible amount of memory";
        return NB_ENOMEM;
    }
    uint8_t *block = aligned_alloc(h->kernel_alignment, (size_t)span);
    if (!block) {
        *why = "not enough memory to place the kernel (give the VM more: -m)";
        return NB_ENOMEM;
    }
    uint64_t load = (uint64_t)(uintptr_t)block;
    if (load < h->pref_address)
        load = h->pref_address; /* still inside block: span includes pref_address */
    load = (load + h->kernel_alignment - 1) & ~((uint64_t)h->kernel_alignment - 1);
    if (load + need > (uint64_t)(uintptr_t)block + span) {
        free(block);
        *why = "kernel placement does not fit its block";
        return NB_ENOMEM;
    }

    uint8_t *bp = aligned_alloc(4096, BP_SIZE);
    size_t cl_len = strlen(req->cmdline);
    char *cl = aligned_alloc(16, cl_len + 1);
    uint8_t *initrd = NULL;
    if (req->initrd_len) {
        initrd = aligned_alloc(4096, (req->initrd_len + 4095) & ~(size_t)4095);
        uint64_t end = (uint64_t)(uintptr_t)initrd + req->initrd_len - 1;
        if (initrd && !h->initrd_above_4g && end > h->initrd_addr_max) {
            free(initrd);
            initrd = NULL;
        }
    }
    uint64_t *cr3 = build_page_tables(nb_pc_boot.ram_top);
    if (!bp || !cl || (req->initrd_len && !initrd) || !cr3) {
        free(block);
        free(bp);
        free(cl);
        free(initrd);
        *why = "not enough memory for boot_params, command line, initrd or page tables";
        return NB_ENOMEM;
    }

    memset(bp, 0, BP_SIZE);
    /* the setup header runs from 0x1f1 to 0x202 + the byte at 0x201 */
    size_t hdr_end = 0x202 + req->kernel[0x201];
    if (hdr_end > 0x280)
        hdr_end = 0x280;
    memcpy(bp + BP_SETUP_HEADER, req->kernel + BP_SETUP_HEADER, hdr_end - BP_SETUP_HEADER);
    bp[BP_TYPE_OF_LOADER] = 0xff; /* undefined loader */
    bp[BP_LOADFLAGS] &= (uint8_t)~LOADFLAG_QUIET;
    nb_put_le16(bp + BP_VID_MODE, 0xffff); /* "normal" */
    memcpy(cl, req->cmdline, cl_len + 1);
    uint64_t clp = (uint64_t)(uintptr_t)cl;
    nb_put_le32(bp + BP_CMD_LINE_PTR, (uint32_t)clp);
    nb_put_le32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(clp >> 32));
    if (initrd) {
        memcpy(initrd, req->initrd, req->initrd_len);
        uint64_t ip = (uint64_t)(uintptr_t)initrd;
        nb_put_le32(bp + BP_RAMDISK_IMAGE, (uint32_t)ip);
        nb_put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(ip >> 32));
        nb_put_le32(bp + BP_RAMDISK_SIZE, (uint32_t)req->initrd_len);
        nb_put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)req->initrd_len >> 32));
    }
    uint64_t rsdp = nb_pc_boot.rsdp;
    if (rsdp && nb_pc_boot.rsdp_is_copy && h->version >= 0x0209) {
        /* Multiboot2 gave only a copy of the RSDP, kept in our image: memory
         * Linux takes for free. Hand it over in a setup_data node instead
         * (type SETUP_NONE), which Linux reserves, and KASLR avoids, before
         * it reads the ACPI tables. */
        uint8_t *sd = aligned_alloc(16, 16 + sizeof nb_pc_boot.rsdp_copy);
        if (sd) {
            memset(sd, 0, 16);
            nb_put_le32(sd + 12, (uint32_t)sizeof nb_pc_boot.rsdp_copy);
            memcpy(sd + 16, nb_pc_boot.rsdp_copy, sizeof nb_pc_boot.rsdp_copy);
            nb_put_le64(bp + BP_SETUP_DATA, (uint64_t)(uintptr_t)sd);
            rsdp = (uint64_t)(uintptr_t)(sd + 16);
        }
    }
    if (rsdp && h->version >= 0x020e)
        nb_put_le64(bp + BP_ACPI_RSDP, rsdp);
    unsigned n = nb_pc_boot.nmem < BP_E820_MAX ? nb_pc_boot.nmem : BP_E820_MAX;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        nb_put_le64(e, nb_pc_boot.mem[i].addr);
        nb_put_le64(e + 8, nb_pc_boot.mem[i].size);
        nb_put_le32(e + 16, nb_pc_boot.mem[i].type);
    }
    bp[BP_E820_ENTRIES] = (uint8_t)n;

    memcpy((void *)(uintptr_t)load, req->kernel + h->setup_size, kernel_bytes);
    NB_INFO("kernel at %#llx (%u KiB, needs %u KiB), initrd at %p, boot_params at %p",
            (unsigned long long)load, (unsigned)(kernel_bytes >> 10),
            (unsigned)(h->init_size >> 10), (void *)initrd, (void *)bp);
    NB_INFO("jumping to Linux");
    quiesce();
    jump_to_kernel((uint64_t)(uintptr_t)cr3, load + 0x200, bp);
}
