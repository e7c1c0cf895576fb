/*
 * Internals of the pc platform (bare-metal x86_64), shared by its files and
 * by nothing else: CPU helpers (port I/O, MSRs, CPUID, MMIO), and the small
 * services each part of the platform offers the others -- boot information,
 * memory mapping, interrupts, timers, PCI. Core code never includes this; it
 * sees only include/neoboot/platform.h.
 *
 * Addresses: everything is identity-mapped (virtual == physical), so a
 * pointer handed to a device for DMA is its own bus address.
 */
#ifndef NEOBOOT_PC_H
#define NEOBOOT_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- CPU helpers ---- */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
                     "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}
static inline void irq_restore(uint64_t flags)
{
    if (flags & 0x200)
        __asm__ volatile("sti" : : : "memory");
}

static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t mmio_read16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void mmio_write16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void mmio_write64(uintptr_t a, uint64_t v)
{
    /* two halves: many devices (virtio-pci common cfg) take 32-bit accesses only */
    mmio_write32(a, (uint32_t)v);
    mmio_write32(a + 4, (uint32_t)(v >> 32));
}

#define NB_PC_NORETURN __attribute__((noreturn))

/* ---- boot information (main.c) ---- */

#define NB_PC_MAX_MEMRANGES 128 /* after merging; also Linux's e820 table size */
#define NB_PC_CMDLINE_MAX 1024
#define NB_PC_MAX_RESERVED 8
#define NB_PC_MAX_MODULES 4
#define NB_PC_MODULE_CMDLINE_MAX 128

struct nb_pc_memrange {
    uint64_t addr, size;
    uint32_t type; /* E820 type: 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 bad */
};

/* A boot module (PVH module list; QEMU -initrd), left where the loader put it. */
struct nb_pc_module {
    uint64_t addr, size;
    char cmdline[NB_PC_MODULE_CMDLINE_MAX];
};

struct nb_pc_bootinfo {
    char cmdline[NB_PC_CMDLINE_MAX];
    struct nb_pc_memrange mem[NB_PC_MAX_MEMRANGES];
    unsigned nmem;
    unsigned mem_dropped; /* ranges beyond NB_PC_MAX_MEMRANGES (logged) */
    uint64_t rsdp;        /* ACPI RSDP physical address, or 0 */
    uint8_t rsdp_copy[36]; /* Multiboot2 gives a copy; used when the original is not found */
    bool rsdp_is_copy;     /* rsdp points at rsdp_copy (inside the image) */
    char loader[48];       /* who started us: "PVH" or the Multiboot2 loader's name */
    int fb_type;           /* NB_PC_FB_*: what the loader said about the screen */
    uint64_t fb_addr;
    uint32_t fb_width, fb_height; /* characters for text, pixels otherwise */
    uint32_t fb_pitch;     /* bytes per line (RGB) */
    uint8_t fb_bpp;        /* bits per pixel (RGB: 32 or 24 used) */
    uint8_t fb_rgb_pos[3]; /* red, green, blue bit positions (8-bit fields) */
    uint8_t bios_video_mode; /* BIOS data area 0x449 (PVH boots) */
    uint64_t ram_bytes;   /* sum of RAM ranges */
    uint64_t ram_top;     /* highest RAM address + 1 */
    struct nb_pc_memrange reserved[NB_PC_MAX_RESERVED]; /* kept from the heap */
    unsigned nreserved;
    struct nb_pc_module mods[NB_PC_MAX_MODULES];
    unsigned nmods;
};
extern struct nb_pc_bootinfo nb_pc_boot;

/* The next Ethernet interface number (eth0, eth1, ... across drivers). */
unsigned nb_pc_eth_index(void);
/* e1000 driver counters and packets it holds (e1000.c). */
void nb_pc_e1000_print(void (*print)(void *arg, const char *line), void *arg);
uint64_t nb_pc_e1000_held(void);

#define NB_PC_FB_NONE_SAID 0 /* PVH: nothing said; the BIOS data area may tell */
#define NB_PC_FB_TEXT 1      /* Multiboot2: EGA text mode */
#define NB_PC_FB_OTHER 2     /* Multiboot2: none, or one we cannot draw on */
#define NB_PC_FB_RGB 3       /* Multiboot2: a direct-colour framebuffer (UEFI's GOP) */

/* The VGA text screen (vga.c): set up from nb_pc_boot; writes are ignored
 * when there is none. */
void nb_pc_vga_init(void);
/* The graphics framebuffer console (after mm: it needs the heap). */
void nb_pc_fbcon_init(void);
void nb_pc_vga_write(const char *buf, size_t len);
bool nb_pc_vga_active(void);
/* "VGA text screen", "framebuffer screen" or NULL, for the banner. */
const char *nb_pc_screen_kind(void);
/* The PS/2 keyboard (kbd.c): bytes typed, as a terminal would send them. */
void nb_pc_kbd_init(void);
int nb_pc_kbd_read(char *buf, size_t len);
bool nb_pc_kbd_present(void);
uint64_t nb_pc_kbd_dropped(void);
/* Run the console input handler (new keyboard bytes). */
void nb_pc_console_input_ready(void);

/* How boot.S was entered: the second argument of nb_pc_start(). */
#define NB_PC_BOOT_PVH 0
#define NB_PC_BOOT_MB2 1
/* Add a range to nb_pc_boot's memory map (sorted, touching ranges of one
 * type merged). */
void nb_pc_mem_add(uint64_t addr, uint64_t size, uint32_t type);
/* Fill nb_pc_boot from the Multiboot2 information at pa (multiboot2.c). */
void nb_pc_read_multiboot2(uint32_t pa);

/* Value of "key=value" on the kernel command line, copied into buf; NULL if
 * absent. A bare "key" yields "". */
const char *nb_pc_cmdline_get(const char *key, char *buf, size_t len);

/* ---- console (serial.c) ---- */

void nb_pc_serial_init(void);
/* Enable the receive interrupt (after interrupts are set up). */
void nb_pc_serial_irq_init(void);
/* Write straight to the UART, bypassing nothing; usable from trap context. */
void nb_pc_serial_write(const char *buf, size_t len);
/* printf to the serial port without the logger or the heap (for panics). */
void nb_pc_kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- memory (mm.c, malloc glue in libc/malloc.c) ---- */

/* Build the final page tables from nb_pc_boot.mem and hand free RAM to the
 * heap. */
void nb_pc_mm_init(void);
/* Make [phys, phys+size) accessible uncached (device registers). Returns
 * the address to use (== phys), or NULL if the page-table pool is empty. */
void *nb_pc_map_mmio(uint64_t phys, uint64_t size);
/* Map a framebuffer write-combining (PAT) when the CPU can, else as MMIO.
 * Returns its address, or NULL. */
void *nb_pc_map_framebuffer(uint64_t phys, uint64_t size);
/* Give RAM [base, base+size) to the heap (libc/malloc.c). */
void nb_pc_heap_add(void *base, size_t size);
/* Keep [addr, addr+size) (rounded out to pages) out of the heap; only
 * before nb_pc_mm_init. */
void nb_pc_reserve(uint64_t addr, uint64_t size);
/* Is [addr, addr+size) entirely inside one RAM range of the memory map? */
bool nb_pc_is_ram(uint64_t addr, uint64_t size);

/* ---- traps and panics (trap.c, symbols.c) ---- */

struct nb_pc_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void nb_pc_trap_init(void);
NB_PC_NORETURN void nb_pc_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Print a symbolized call trace starting at rip, following the rbp chain. */
void nb_pc_backtrace(uint64_t rip, uint64_t rbp);
/* The function containing addr: its name, and addr's offset into it. NULL
 * if unknown. */
const char *nb_pc_symbolize(uint64_t addr, uint64_t *offset);
/* Stop everything: what neoboot.panic= says (halt, reboot, poweroff). */
NB_PC_NORETURN void nb_pc_halt_forever(void);

/* ---- interrupts (irq.c, apic.c) ---- */

/*
 * Device interrupt handlers never run in interrupt context. The interrupt
 * stub only records that a vector fired (masking a level-triggered IOAPIC
 * pin until the handler has run, so the line cannot storm), and
 * nb_platform_wait() runs the handlers from the event loop, where they may
 * call anything a loop callback may (nb_iface_rx, nb_work_post, ...). This
 * is the pc twin of the hosted platform's epoll callbacks.
 */
typedef void (*nb_pc_irq_fn)(void *arg);

#define NB_PC_VEC_FIRST_DEVICE 0x30
#define NB_PC_VEC_LAST_DEVICE 0xdf
#define NB_PC_VEC_TIMER 0xef
#define NB_PC_VEC_SPURIOUS 0xff

/* A free vector whose handler is fn(arg); NB_ENOSPC when all are taken. */
int nb_pc_irq_alloc(nb_pc_irq_fn fn, void *arg, const char *name);
/* Route a GSI (IOAPIC input) to vector and unmask it. Level-triggered
 * inputs are masked while their handler is pending. 0 or NB_E*. */
int nb_pc_irq_route_gsi(unsigned gsi, int vector, bool level, bool active_low);
/* The GSI an ISA IRQ is wired to (MADT interrupt source overrides). */
unsigned nb_pc_isa_gsi(unsigned isa_irq, bool *level, bool *active_low);
/* Run handlers of vectors that fired; from nb_platform_wait only. */
void nb_pc_irq_dispatch(void);
bool nb_pc_irq_pending(void);
/* Called by the trap stub for vectors >= 32. */
void nb_pc_irq_entry(struct nb_pc_frame *f);
/* MSI / MSI-X message for vector (delivered to the boot CPU). */
uint64_t nb_pc_msi_address(void);
uint32_t nb_pc_msi_data(int vector);
/* Per-vector counts for `stats`. */
void nb_pc_irq_print(void (*print)(void *arg, const char *line), void *arg);

void nb_pc_apic_init(void);
/* An ACPI table by signature ("APIC", "FACP"), checksum verified; NULL if
 * there is no ACPI or no such table. */
const uint8_t *nb_pc_acpi_find(const char sig[4]);
uint32_t nb_pc_lapic_read(unsigned reg);
void nb_pc_lapic_write(unsigned reg, uint32_t v);   /* mask the 8259s, enable the LAPIC, find IOAPICs */
void nb_pc_lapic_eoi(void);
void nb_pc_ioapic_mask(unsigned gsi, bool masked);
/* Program the IOAPIC entry of gsi (masked until nb_pc_ioapic_mask). */
int nb_pc_ioapic_route(unsigned gsi, int vector, bool level, bool active_low);

/* ---- time (clock.c) ---- */

void nb_pc_clock_init(void);      /* calibrate the TSC */
void nb_pc_timer_init(void);      /* LAPIC timer (after apic init) */
/* Fire the timer vector at (or somewhat before) deadline_ns. */
void nb_pc_timer_arm(uint64_t deadline_ns);
uint64_t nb_pc_tsc_hz(void);
const char *nb_pc_clock_source(void);   /* how the TSC was calibrated */
const char *nb_pc_timer_mode(void);     /* "tsc-deadline" or "one-shot" */
/* Busy-wait for a bounded hardware handshake (us microseconds). */
void nb_pc_udelay(uint64_t us);

/* ---- CPU features (cpu.c) ---- */

struct nb_pc_cpu {
    char vendor[13];
    char brand[49];
    bool rdrand, rdseed, tsc_deadline, invariant_tsc, nx, pdpe1gb, x2apic, pat;
    bool hypervisor;
    char hv_vendor[13];
};
extern struct nb_pc_cpu nb_pc_cpu;
void nb_pc_cpu_init(void);
/* "sse2 sse3 ..." for the banner. */
void nb_pc_cpu_features(char *buf, size_t len);

/* ---- platform services (platform.c, serial.c, libc/malloc.c) ---- */

/* Where nb_platform_entropy's bytes come from, for the banner. */
const char *nb_pc_entropy_source(void);
/* Times nb_platform_wait halted the CPU. */
uint64_t nb_pc_halt_count(void);
/* Called from the event loop when the console has input. */
void nb_pc_console_set_handler(void (*fn)(void));
void nb_pc_heap_print(void (*print)(void *arg, const char *line), void *arg);

/* ---- network (virtio_net.c, l2test.c) ---- */

struct nb_iface;
void nb_pc_virtio_net_print(void (*print)(void *arg, const char *line), void *arg);
/* Packets the virtio-net drivers hold (posted or in flight). */
uint64_t nb_pc_virtio_net_held(void);
/* ifc's input becomes the ARP/ICMP echo test responder for ip. */
void nb_pc_l2test_attach(struct nb_iface *ifc, const uint8_t ip[4]);
/* ifc's input logs frames at debug level and drops them. */
void nb_pc_l2_log_attach(struct nb_iface *ifc);
void nb_pc_l2test_print(void (*print)(void *arg, const char *line), void *arg);
/* Register the `txburst` shell command. */
void nb_pc_l2test_register(void);

/* ---- apps (app.c) ---- */

/* Before nb_pc_mm_init: reserve the bundled app and the boot modules. */
void nb_pc_app_reserve(void);
/* Register the `app` console command. */
void nb_pc_app_register(void);
/* The boot flow after the devices are up: attach every Ethernet interface
 * to the inet stack, configure the network (the app's net= or
 * neoboot.net=), wait for it (bounded), then run the bundled app -- from
 * a boot module if there is one, else from the image -- under its
 * configuration. Returns when the app has ended and the console shell
 * should take over (also when there is no app or it was refused). */
void nb_pc_app_boot(void);
/* Console routing while an app runs: Ctrl-C stops it; typed bytes are its
 * stdin while it waits to read. true if the byte was taken. */
bool nb_pc_app_console_byte(char c);

/* ---- apps (app.c) ---- */

/* A console key arrived (before the bundled app starts: the shell is
 * wanted instead). */
void nb_pc_app_key_pressed(void);

/* ---- power (power.c) ---- */

NB_PC_NORETURN void nb_pc_reboot(void);
void nb_pc_poweroff(void);

#endif
