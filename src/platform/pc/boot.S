/*
 * The first instructions NeoBoot runs on a PC.
 *
 * QEMU (-kernel) and other PVH loaders find the 32-bit entry point in the
 * XEN_ELFNOTE_PHYS32_ENTRY ELF note below and jump to it in flat 32-bit
 * protected mode, paging off, with %ebx holding the physical address of the
 * hvm_start_info structure (command line, memory map, ACPI RSDP). QEMU does
 * not load a 64-bit ELF as Multiboot, so this note is the way in on the pc,
 * q35 and microvm machines alike.
 *
 * GRUB (BIOS or UEFI: a real machine, or `neoboot image iso`) loads the
 * same ELF through the Multiboot2 header below and enters mb2_entry32 in
 * the same CPU state, with %eax = 0x36d76289 and %ebx = the Multiboot2
 * information. Both paths continue as one; nb_pc_start(info, protocol)
 * reads whichever structure it was given.
 *
 * From there: clear .bss, build boot page tables that identity-map the
 * first 4 GiB with 2 MiB pages, enable PAE + long mode + paging, load a
 * 64-bit GDT, enable the FPU and SSE (the C compiler uses SSE registers
 * everywhere), and call nb_pc_start(start_info) on the boot stack.
 * mm.c later replaces these page tables with the final ones (all RAM,
 * NX, an unmapped page 0, read-only text).
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

/*
 * The PVH note. QEMU reads the descriptor as a pointer-sized value located
 * after the name rounded up to the segment's alignment, so the segment is
 * 4-aligned (see linker.ld) and the descriptor is a full .quad, as Linux does.
 */
    .section .note.Xen, "a"
    .balign 4
    .long 4                          /* namesz: "Xen\0" */
    .long 8                          /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad pvh_entry32
    .balign 4

/*
 * The Multiboot2 header: first in .text, so within the file's first 32 KiB
 * as the specification requires. Tags: the entry point (GRUB would
 * otherwise take the ELF's), page-aligned modules, a framebuffer if there
 * is one (UEFI has no text mode: the console draws on it), and the end tag.
 */
#define MB2_MAGIC 0xe85250d6
#define MB2_BOOT_MAGIC 0x36d76289
    .section .text.boot, "ax"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long 0                          /* architecture: i386 (32-bit entry) */
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (MB2_MAGIC + (mb2_header_end - mb2_header))
    .balign 8
    .word 3, 0                       /* entry address tag */
    .long 12
    .long mb2_entry32
    .balign 8
    .word 6, 0                       /* module alignment tag */
    .long 8
    .balign 8
    .word 5, 1                       /* framebuffer tag, optional: any mode */
    .long 20
    .long 0, 0, 0                    /* width, height, depth: no preference */
    .balign 8
    .word 0, 0                       /* end tag */
    .long 8
mb2_header_end:

    .code32
    .globl mb2_entry32
mb2_entry32:
    cli
    cld
    cmp $MB2_BOOT_MAGIC, %eax
    jne 4f
    mov %ebx, %esi                   /* Multiboot2 information */
    mov $1, %ebp                     /* protocol: NB_PC_BOOT_MB2 */
    jmp common_entry32
4:  hlt                              /* not a Multiboot2 loader: nothing to go on */
    jmp 4b

    .globl pvh_entry32
pvh_entry32:
    cli
    cld
    mov %ebx, %esi                   /* start info: kept in esi */
    xor %ebp, %ebp                   /* protocol: NB_PC_BOOT_PVH */
common_entry32:

    /* Zero .bss (it holds the stack and page tables we are about to use). */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    mov $boot_stack_top, %esp

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..3; PDi[j] -> 2 MiB page. */
    mov $boot_pdpt, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov $boot_pdpt, %edi
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $4096, %eax
    add $8, %edi
    loop 1b
    /* 2048 entries of 2 MiB: physical address bits 32+ go in the high dword */
    mov $boot_pd, %edi
    xor %ecx, %ecx                   /* entry index */
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_PS), %eax
    mov %eax, (%edi, %ecx, 8)
    mov %ecx, %eax
    shr $11, %eax                    /* (index * 2 MiB) >> 32 */
    mov %eax, 4(%edi, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    and $~(CR0_EM | CR0_TS), %eax
    or $(CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0

    lgdt nb_pc_gdt_ptr
    ljmp $0x08, $long_entry

    .code64
long_entry:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lea boot_stack_top(%rip), %rsp
    fninit
    mov %esi, %edi                   /* zero-extends: start info address */
    mov %ebp, %esi                   /* boot protocol */
    xor %ebp, %ebp                   /* end of the frame-pointer chain */
    call nb_pc_start
3:  cli
    hlt
    jmp 3b

/*
 * The GDT: null, 64-bit code (0x08), data (0x10), and room for the 16-byte
 * TSS descriptor (0x18) that trap.c fills in. The 6-byte pointer is used
 * from 32-bit code above with a 32-bit base, which is all lgdt reads there.
 */
    .section .data
    .balign 16
    .globl nb_pc_gdt
nb_pc_gdt:
    .quad 0
    .quad 0x00af9a000000ffff         /* code: present, ring 0, L=1 */
    .quad 0x00cf92000000ffff         /* data: present, writable */
    .quad 0, 0                       /* TSS (set by trap.c) */
nb_pc_gdt_end:
    .balign 8
    .globl nb_pc_gdt_ptr
nb_pc_gdt_ptr:
    .word nb_pc_gdt_end - nb_pc_gdt - 1
    .quad nb_pc_gdt

    .section .bss
    .balign 4096
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4096 * 4
    .balign 16
    .globl nb_pc_boot_stack_bottom
nb_pc_boot_stack_bottom:
    .skip 65536
    .globl boot_stack_top
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
