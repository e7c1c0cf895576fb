/*
 * NeoBoot on a PC: from boot.S's nb_pc_start() to the event loop.
 *
 * Order matters: the serial console first (so everything after can talk),
 * the IDT (so a fault anywhere after is reported with a stack trace), the
 * PVH start info copied out (command line, memory map, RSDP) before the
 * memory it lives in is reused (boot modules and the bundled app are
 * reserved before the heap takes the rest), then page tables and heap,
 * interrupt controllers, the clock, and devices. Then app.c brings the
 * network up on the inet stack and runs the bundled app, and the console
 * shell takes over (nb_pc_shell_run) when it ends.
 *
 * Kernel command line (space-separated key=value):
 *   neoboot.log=SPEC      log levels, e.g. "info" or "debug,virtio_net=trace"
 *   neoboot.test=MODE     echo:  answer ARP and ICMP echo for neoboot.ip
 *                         fault: take a page fault in a known call chain
 *                         ud2:   execute an invalid instruction instead
 *                         idle:  bring nothing up; just wait (CPU-usage test)
 *   neoboot.ip=A.B.C.D    the address the echo responder answers for
 *                         (default 10.0.2.15)
 *   neoboot.net=SPEC      dhcp, none or static:IP/PREFIX[,gw=GW][,dns=DNS]
 *                         (over the bundled app's net=; docs/image.md)
 *   neoboot.app=none      do not run the bundled app or boot module
 *   neoboot.autoboot=S    wait S seconds for a key (the shell) before the app
 *   neoboot.panic=MODE    after a fatal error: halt (default), reboot, poweroff
 *   virtio_mmio.device=   virtio-mmio devices (QEMU microvm adds these)
 * The serial console runs the shell (src/shell): `help`, `stats`, `log`,
 * plus the platform's `pc` (driver/heap/irq counters and a packet leak
 * check), `app` (app.c), `poweroff` and `reboot`.
 */
#include "pc.h"
#include "pci.h"
#include "virtio.h"

#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/pkt.h>
#include <neoboot/platform.h>
#include <neoboot/shell.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(pc);

void nb_net_init(void);
void nb_pc_start(uint32_t start_info, uint32_t protocol);

struct nb_pc_bootinfo nb_pc_boot;

/* ---- PVH start info (Xen's public/arch-x86/hvm/start_info.h layout) ---- */

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;   /* version >= 1 */
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_modlist_entry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};

struct hvm_memmap_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};

unsigned nb_pc_eth_index(void)
{
    static unsigned next;
    return next++;
}

void nb_pc_mem_add(uint64_t addr, uint64_t size, uint32_t type)
{
    if (!size || addr + size < addr)
        return;
    if (type == 1) {
        nb_pc_boot.ram_bytes += size;
        if (addr + size > nb_pc_boot.ram_top)
            nb_pc_boot.ram_top = addr + size;
    }
    /* keep the map sorted; merge with a neighbour of the same type that
     * touches (UEFI maps come in many small pieces) */
    struct nb_pc_memrange *m = nb_pc_boot.mem;
    unsigned n = nb_pc_boot.nmem, i = 0;
    while (i < n && m[i].addr < addr)
        i++;
    if (i > 0 && m[i - 1].type == type && m[i - 1].addr + m[i - 1].size == addr) {
        m[i - 1].size += size;
        if (i < n && m[i].type == type && m[i - 1].addr + m[i - 1].size == m[i].addr) {
            m[i - 1].size += m[i].size;
            memmove(&m[i], &m[i + 1], (n - i - 1) * sizeof *m);
            nb_pc_boot.nmem--;
        }
        return;
    }
    if (i < n && m[i].type == type && addr + size == m[i].addr) {
        m[i].addr = addr;
        m[i].size += size;
        return;
    }
    if (n == NB_PC_MAX_MEMRANGES) {
        nb_pc_boot.mem_dropped++;
        return;
    }
    memmove(&m[i + 1], &m[i], (n - i) * sizeof *m);
    m[i] = (struct nb_pc_memrange){addr, size, type};
    nb_pc_boot.nmem++;
}

static void read_start_info(uint32_t pa)
{
    const struct hvm_start_info *si = (const void *)(uintptr_t)pa;
    if (!pa || si->magic != HVM_START_MAGIC)
        nb_pc_panic("no PVH start info (ebx=%#x): boot with a PVH loader "
                    "such as qemu -kernel", pa);
    if (si->cmdline_paddr) {
        const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
        size_t n = strnlen(c, NB_PC_CMDLINE_MAX - 1);
        memcpy(nb_pc_boot.cmdline, c, n);
        nb_pc_boot.cmdline[n] = 0;
    }
    nb_pc_boot.rsdp = si->rsdp_paddr;
    snprintf(nb_pc_boot.loader, sizeof nb_pc_boot.loader, "PVH");
    if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
        nb_pc_panic("PVH start info has no memory map (version %u)", si->version);
    const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
    for (uint32_t i = 0; i < si->memmap_entries; i++)
        nb_pc_mem_add(e[i].addr, e[i].size, e[i].type);
    /* Boot modules (QEMU -initrd): only where they are is copied; their
     * bytes stay in place and app.c reserves them from the heap. A module
     * outside RAM is ignored (the loader's word is checked, not trusted). */
    const struct hvm_modlist_entry *m = (const void *)(uintptr_t)si->modlist_paddr;
    for (uint32_t i = 0; m && i < si->nr_modules && nb_pc_boot.nmods < NB_PC_MAX_MODULES; i++) {
        if (!m[i].size || !nb_pc_is_ram(m[i].paddr, m[i].size))
            continue;
        struct nb_pc_module *mod = &nb_pc_boot.mods[nb_pc_boot.nmods++];
        mod->addr = m[i].paddr;
        mod->size = m[i].size;
        if (m[i].cmdline_paddr && nb_pc_is_ram(m[i].cmdline_paddr, 1)) {
            const char *c = (const char *)(uintptr_t)m[i].cmdline_paddr;
            size_t n = strnlen(c, sizeof mod->cmdline - 1);
            memcpy(mod->cmdline, c, n);
            mod->cmdline[n] = 0;
        }
    }
}

const char *nb_pc_cmdline_get(const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);
    const char *p = nb_pc_boot.cmdline;
    const char *found = NULL;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = p + strcspn(p, " ");
        if (strncmp(p, key, klen) == 0 && (p[klen] == '=' || p + klen == end))
            found = p; /* the last occurrence wins */
        p = end;
    }
    if (!found)
        return NULL;
    const char *v = found + klen;
    if (*v == '=')
        v++;
    size_t n = strcspn(v, " ");
    if (len == 0)
        return buf;
    if (n >= len)
        n = len - 1;
    memcpy(buf, v, n);
    buf[n] = 0;
    return buf;
}

/* ---- console commands ---- */

static void leak_check(nb_print_fn print, void *arg)
{
    /* Every live packet must be accounted for: posted receive buffers,
     * frames in flight to the device, or queued in an interface FIFO. */
    struct nb_pkt_stats ps;
    nb_pkt_get_stats(&ps);
    char line[160];
    uint64_t queued = 0;
    for (struct nb_iface *i = nb_iface_first(); i; i = i->next)
        queued += i->rxq.count;
    uint64_t held = nb_pc_virtio_net_held() + nb_pc_e1000_held();
    snprintf(line, sizeof line,
             "leak check: %llu live packets = %llu held by drivers + %llu queued: %s",
             (unsigned long long)ps.live, (unsigned long long)held,
             (unsigned long long)queued,
             ps.live == held + queued ? "ok" : "LEAK");
    print(arg, line);
}

static int cmd_pc(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc;
    (void)argv;
    nb_pc_virtio_net_print(print, arg);
    nb_pc_e1000_print(print, arg);
    nb_pc_l2test_print(print, arg);
    nb_pc_heap_print(print, arg);
    nb_pc_irq_print(print, arg);
    char line[96];
    snprintf(line, sizeof line, "cpu: %llu halts; console: keyboard %s, %llu keys dropped",
             (unsigned long long)nb_pc_halt_count(), nb_pc_kbd_present() ? "PS/2" : "none",
             (unsigned long long)nb_pc_kbd_dropped());
    print(arg, line);
    leak_check(print, arg);
    return 0;
}

static struct nb_shell_cmd pc_commands[] = {
    {"pc", "pc", "platform counters: NICs (virtio-net, e1000), heap, interrupts, packet leak check",
     cmd_pc, NULL},
};

static void serial_write(void *arg, const char *s, size_t n)
{
    (void)arg;
    nb_console_write(s, n);
}

/* Serial input: a running app's first (Ctrl-C, or its stdin), then the
 * console shell's line editor. Before the bundled app starts, any key
 * also means "give me the shell" (app.c). */
static void console_input(void)
{
    char buf[32];
    int n;
    while ((n = nb_console_read(buf, sizeof buf)) > 0) {
        for (int i = 0; i < n; i++) {
            char c = buf[i];
            if (nb_pc_app_console_byte(c))
                continue;
            nb_pc_app_key_pressed();
            nb_console_shell_input(&c, 1);
            if (nb_shell_quit_requested())
                nb_pc_poweroff(); /* nothing to go back to */
        }
    }
}

/*
 * Hook: the console shell takes over. Everything typed on the serial
 * console reaches the shell through console_input() from the event loop;
 * this just runs the loop forever. Called when the bundled app has ended
 * (on-exit=shell), when there is none or it was refused, and in the test
 * modes.
 */
NB_PC_NORETURN static void nb_pc_shell_run(void)
{
    NB_INFO("console: the shell is ready (type 'help')");
    nb_console_shell_reprompt();
    for (;;)
        nb_loop_run_once(NB_FOREVER);
}

/* ---- deliberate faults (neoboot.test=fault|ud2) ---- */

__attribute__((noinline)) void nb_pc_fault_inner(int how);
__attribute__((noinline)) void nb_pc_fault_outer(int how);

__attribute__((noinline)) void nb_pc_fault_inner(int how)
{
    if (how == 1)
        __asm__ volatile("ud2");
    uintptr_t addr = 8;
    __asm__("" : "+r"(addr)); /* hide the constant from the optimiser */
    *(volatile uint32_t *)addr = 0xdeadbeef;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void nb_pc_fault_outer(int how)
{
    nb_pc_fault_inner(how);
    __asm__ volatile("" ::: "memory"); /* not a tail call: keep the frame */
}

/* ---- boot ---- */

static void banner(void)
{
    char feats[200];
    nb_pc_cpu_features(feats, sizeof feats);
    struct nb_memstats ms;
    nb_platform_memstats(&ms);
    unsigned ranges = 0;
    for (unsigned i = 0; i < nb_pc_boot.nmem; i++)
        ranges += nb_pc_boot.mem[i].type == 1;
    NB_INFO("NeoBoot pc (x86_64), booted by %s%s", nb_pc_boot.loader,
            nb_pc_boot.rsdp_is_copy ? " (ACPI RSDP: the loader's copy)" : "");
    NB_INFO("console: serial COM1%s%s%s", nb_pc_vga_active() ? ", " : "",
            nb_pc_vga_active() ? nb_pc_screen_kind() : "",
            nb_pc_kbd_present() ? ", PS/2 keyboard" : "");
    struct nb_pkt_stats ps;
    nb_pkt_get_stats(&ps);
    NB_INFO("memory: %llu MiB RAM in %u ranges, heap %llu KiB, packets up to %llu KiB",
            (unsigned long long)(nb_pc_boot.ram_bytes >> 20), ranges,
            (unsigned long long)(ms.total >> 10),
            (unsigned long long)(ps.limit_bytes >> 10));
    if (nb_pc_boot.mem_dropped)
        NB_WARN("memory map: %u ranges beyond the first %u ignored", nb_pc_boot.mem_dropped,
                NB_PC_MAX_MEMRANGES);
    NB_INFO("cpu: %s \"%s\"%s%s", nb_pc_cpu.vendor, nb_pc_cpu.brand,
            nb_pc_cpu.hypervisor ? ", hypervisor " : "",
            nb_pc_cpu.hypervisor ? nb_pc_cpu.hv_vendor : "");
    NB_INFO("cpu features: %s", feats);
    uint64_t hz = nb_pc_tsc_hz();
    NB_INFO("clock: TSC %llu.%03llu MHz (calibrated by %s), timer %s",
            (unsigned long long)(hz / 1000000),
            (unsigned long long)(hz / 1000 % 1000), nb_pc_clock_source(),
            nb_pc_timer_mode());
    const char *ent = nb_pc_entropy_source();
    if (nb_pc_cpu.rdrand || nb_pc_cpu.rdseed)
        NB_INFO("entropy: %s", ent);
    else
        NB_WARN("entropy: %s", ent);
    if (nb_wallclock_ns()) {
        uint64_t s = nb_wallclock_ns() / NB_NS_PER_S;
        NB_INFO("wall clock: %llu s since the epoch (CMOS RTC)",
                (unsigned long long)s);
    }
    if (nb_pc_boot.cmdline[0])
        NB_INFO("command line: %s", nb_pc_boot.cmdline);
}

/*
 * Prove the deadline path once per boot: sleep 20 ms in the event loop (a
 * timer, nb_platform_wait arming the LAPIC timer, hlt, the timer vector)
 * and report how long it really took.
 */
static bool timer_fired;

static void selftest_timer_fn(struct nb_timer *t)
{
    (void)t;
    timer_fired = true;
}

static bool selftest_done(void *arg)
{
    (void)arg;
    return timer_fired;
}

static void timer_selftest(void)
{
    struct nb_timer t;
    nb_timer_init(&t, selftest_timer_fn);
    uint64_t halts0 = nb_pc_halt_count(), t0 = nb_clock_ns();
    nb_timer_arm(&t, t0 + 20 * NB_NS_PER_MS);
    int rc = nb_loop_run_until(selftest_done, NULL, t0 + NB_NS_PER_S);
    uint64_t dt = nb_clock_ns() - t0;
    if (rc == 0)
        NB_INFO("timer: a 20 ms sleep took %llu.%03llu ms (%llu halts)",
                (unsigned long long)(dt / NB_NS_PER_MS),
                (unsigned long long)(dt % NB_NS_PER_MS / 1000),
                (unsigned long long)(nb_pc_halt_count() - halts0));
    else
        NB_ERROR("timer: a 20 ms sleep did not end within 1 s (%s)", nb_strerror(rc));
    nb_timer_cancel(&t);
}

static void log_device(void *arg, const char *line)
{
    (void)arg;
    NB_INFO("%s", line);
}

void nb_pc_start(uint32_t start_info, uint32_t protocol)
{
    nb_pc_serial_init();
    nb_pc_cpu_init();
    nb_pc_trap_init();
    if (protocol == NB_PC_BOOT_MB2) {
        nb_pc_read_multiboot2(start_info);
    } else {
        read_start_info(start_info);
        /* BIOS data area: the video mode (page 0 is unmapped after mm) */
        uintptr_t bda = 0x449;
        __asm__("" : "+r"(bda)); /* hide the constant from -Warray-bounds */
        nb_pc_boot.bios_video_mode = *(const volatile uint8_t *)bda;
    }
    nb_pc_vga_init();
    nb_pc_app_reserve();
    nb_pc_mm_init();
    nb_pc_fbcon_init();
    /* Packet memory may take at most half the heap (and never more than
     * the core's default), so a flood cannot starve everything else. */
    struct nb_memstats ms;
    nb_platform_memstats(&ms);
    uint64_t pkt_limit = ms.total / 2 < (64ull << 20) ? ms.total / 2 : 64ull << 20;
    nb_pkt_set_limit(pkt_limit);

    char spec[128];
    if (nb_pc_cmdline_get("neoboot.log", spec, sizeof spec) &&
        nb_log_configure(spec) != 0)
        NB_WARN("bad neoboot.log=%s (keeping info)", spec);

    nb_pc_apic_init();
    nb_pc_clock_init();
    nb_pc_timer_init();
    __asm__ volatile("sti");
    nb_pc_serial_irq_init();
    nb_pc_kbd_init();
    for (size_t i = 0; i < sizeof pc_commands / sizeof pc_commands[0]; i++)
        nb_shell_register(&pc_commands[i]);
    nb_pc_l2test_register();
    nb_pc_app_register();
    nb_pc_console_set_handler(console_input);
    nb_console_shell_init(serial_write, NULL);
    banner();
    timer_selftest();

    char test[16] = "";
    nb_pc_cmdline_get("neoboot.test", test, sizeof test);
    if (strcmp(test, "fault") == 0 || strcmp(test, "ud2") == 0) {
        NB_INFO("test: deliberate %s", test);
        nb_pc_fault_outer(strcmp(test, "ud2") == 0);
    }

    nb_net_init();
    nb_pc_pci_init();
    nb_pc_virtio_mmio_init();
    nb_pc_pci_print(log_device, NULL);

    bool idle = strcmp(test, "idle") == 0;
    bool echo = strcmp(test, "echo") == 0;
    uint8_t ip[4] = {10, 0, 2, 15};
    char ipbuf[32];
    if (nb_pc_cmdline_get("neoboot.ip", ipbuf, sizeof ipbuf) &&
        nb_parse_ip4(ipbuf, strlen(ipbuf), ip) != 0)
        NB_WARN("bad neoboot.ip=%s", ipbuf);

    if (!idle && !echo) {
        /* The product: network up through the inet stack, then the
         * bundled app (app.c); back here when it has ended. */
        nb_pc_app_boot();
        nb_pc_shell_run();
    }

    /* Test modes: the driver alone, without the inet stack. */
    unsigned up = 0;
    for (struct nb_iface *ifc = nb_iface_first(); ifc && !idle; ifc = ifc->next) {
        if (ifc->link != NB_LINK_ETHERNET)
            continue;
        if (up == 0)
            nb_pc_l2test_attach(ifc, ip);
        else
            nb_pc_l2_log_attach(ifc);
        if (nb_iface_start(ifc) == 0) {
            NB_INFO("%s: up, MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s",
                    ifc->name, ifc->mac[0], ifc->mac[1], ifc->mac[2],
                    ifc->mac[3], ifc->mac[4], ifc->mac[5],
                    ifc->link_up ? "up" : "down");
            up++;
        }
    }
    uint64_t t = nb_clock_ns();
    NB_INFO("boot: ready after %llu.%03llu s (%u interfaces up%s)",
            (unsigned long long)(t / NB_NS_PER_S),
            (unsigned long long)(t % NB_NS_PER_S / NB_NS_PER_MS), up,
            idle ? ", idle test" : "");
    nb_pc_shell_run();
}
