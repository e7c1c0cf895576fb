/*
 * CPU exceptions, the IDT and TSS, panics and stack traces.
 *
 * Every vector goes through isr.S into nb_pc_trap_entry(). Vectors >= 32
 * are interrupts (irq.c). An exception is always fatal here: NeoBoot runs
 * everything in ring 0 and a fault means a bug, so it prints the exception,
 * every register, and a call trace symbolized from the symbol table that
 * the build embeds in the image (symbols.c), then stops as neoboot.panic=
 * says. External interrupts run on their own stack (IST1), so they can
 * never overwrite anything below the interrupted stack pointer (such as
 * the red zone of libgcc helpers, which are not built with -mno-red-zone);
 * double faults, NMIs and machine checks get another (IST2) so even a
 * blown stack is reported.
 */
#include "pc.h"

#include <neoboot/platform.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct idt_entry {
    uint16_t off0;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off1;
    uint32_t off2;
    uint32_t zero;
} __attribute__((packed));

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap;
} __attribute__((packed));

extern const uint64_t nb_pc_isr_table[256];
extern uint64_t nb_pc_gdt[];
extern char nb_pc_boot_stack_bottom[], boot_stack_top[];
extern char __text_start[], __text_end[];

static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static uint8_t irq_stack[16384] __attribute__((aligned(16)));
static uint8_t fault_stack[16384] __attribute__((aligned(16)));
static int in_trap;

static const char *const exc_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow",
    "bound range", "invalid opcode", "device not available", "double fault",
    "coprocessor overrun", "invalid TSS", "segment not present",
    "stack fault", "general protection", "page fault", "reserved",
    "x87 floating point", "alignment check", "machine check",
    "SIMD floating point", "virtualization", "control protection",
};

static void set_gate(int vec, uint64_t handler, int ist)
{
    idt[vec].off0 = (uint16_t)handler;
    idt[vec].sel = 0x08;
    idt[vec].ist = (uint8_t)ist;
    idt[vec].type = 0x8e; /* present, ring 0, 64-bit interrupt gate */
    idt[vec].off1 = (uint16_t)(handler >> 16);
    idt[vec].off2 = (uint32_t)(handler >> 32);
    idt[vec].zero = 0;
}

void nb_pc_trap_init(void)
{
    tss.ist[0] = (uintptr_t)(irq_stack + sizeof irq_stack);
    tss.ist[1] = (uintptr_t)(fault_stack + sizeof fault_stack);
    tss.iomap = sizeof tss; /* no I/O permission bitmap */
    uint64_t base = (uintptr_t)&tss, limit = sizeof tss - 1;
    nb_pc_gdt[3] = (limit & 0xffff) | (base & 0xffffff) << 16 |
                   0x89ull << 40 /* present, 64-bit TSS available */ |
                   ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    nb_pc_gdt[4] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(0x18));

    for (int v = 0; v < 256; v++) {
        int ist = 0;
        if (v == 2 || v == 8 || v == 18)
            ist = 2;
        else if (v >= 32)
            ist = 1;
        set_gate(v, nb_pc_isr_table[v], ist);
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = {sizeof idt - 1, (uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Could addr be a frame on one of our stacks (or anywhere in RAM)? */
static bool frame_ok(uint64_t fp)
{
    if (fp < 4096 || fp & 7)
        return false;
    if (fp >= (uintptr_t)nb_pc_boot_stack_bottom && fp < (uintptr_t)boot_stack_top)
        return true;
    /* other stacks live in RAM: keep to mapped RAM below the top */
    return nb_pc_boot.ram_top ? fp + 16 <= nb_pc_boot.ram_top : false;
}

static void print_addr(uint64_t addr)
{
    uint64_t off;
    const char *name = nb_pc_symbolize(addr, &off);
    if (name)
        nb_pc_kprintf("  [<%016llx>] %s+0x%llx\n", (unsigned long long)addr,
                      name, (unsigned long long)off);
    else
        nb_pc_kprintf("  [<%016llx>] ?\n", (unsigned long long)addr);
}

static void print_ret(uint64_t ret)
{
    /* a return address points after the call: symbolize ret-1 */
    uint64_t off;
    const char *name = nb_pc_symbolize(ret - 1, &off);
    if (name)
        nb_pc_kprintf("  [<%016llx>] %s+0x%llx\n", (unsigned long long)ret,
                      name, (unsigned long long)off + 1);
    else
        nb_pc_kprintf("  [<%016llx>] ?\n", (unsigned long long)ret);
}

static bool in_text(uint64_t a)
{
    return a >= (uintptr_t)__text_start && a < (uintptr_t)__text_end;
}

/* Does a call instruction end right before ret? (call rel32 or call *reg) */
static bool after_call(uint64_t ret)
{
    const uint8_t *p = (const uint8_t *)(uintptr_t)ret;
    return in_text(ret - 5) && (p[-5] == 0xe8 || (p[-2] == 0xff && (p[-1] & 0x38) == 0x10) ||
                                (p[-3] == 0xff && (p[-2] & 0x38) == 0x10));
}

/*
 * The function at rip may not have a frame of its own: GCC 12 omits the
 * frame pointer in leaf functions that need no stack despite
 * -mno-omit-leaf-frame-pointer, and a fault can hit a prologue. Then the
 * rbp chain skips rip's caller, whose return address is still on top of the
 * stack. Detect the missing `push %rbp; mov %rsp,%rbp` and recover it.
 */
static uint64_t frameless_caller(uint64_t rip, uint64_t rsp)
{
    uint64_t off;
    if (!nb_pc_symbolize(rip, &off) || !frame_ok(rsp))
        return 0;
    const uint8_t *fn = (const uint8_t *)(uintptr_t)(rip - off);
    bool has_frame = fn[0] == 0x55 && fn[1] == 0x48 && fn[2] == 0x89 &&
                     fn[3] == 0xe5;
    if (has_frame && off >= 4)
        return 0;
    for (int i = 0; i < 4; i++) { /* a few pushes may sit above it */
        uint64_t w = ((const uint64_t *)(uintptr_t)rsp)[i];
        if (in_text(w) && after_call(w))
            return w;
    }
    return 0;
}

static void backtrace_exc(uint64_t rip, uint64_t rsp, uint64_t rbp);

void nb_pc_backtrace(uint64_t rip, uint64_t rbp)
{
    backtrace_exc(rip, 0, rbp);
}

static void backtrace_exc(uint64_t rip, uint64_t rsp, uint64_t rbp)
{
    nb_pc_kprintf("Call trace:\n");
    print_addr(rip);
    uint64_t leaf_ret = rsp ? frameless_caller(rip, rsp) : 0;
    if (leaf_ret)
        print_ret(leaf_ret);
    for (int depth = 0; depth < 32 && frame_ok(rbp); depth++) {
        const uint64_t *fp = (const uint64_t *)(uintptr_t)rbp;
        uint64_t ret = fp[1];
        if (ret == 0)
            break;
        if (ret != leaf_ret)
            print_ret(ret);
        leaf_ret = 0;
        if (fp[0] <= rbp) /* frames go up the stack; anything else is junk */
            break;
        rbp = fp[0];
    }
}

static void dump_frame(const struct nb_pc_frame *f)
{
    uint64_t cr0, cr2, cr3, cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    nb_pc_kprintf("RIP: %04llx:%016llx RFLAGS: %016llx ERR: %llx\n",
                  (unsigned long long)f->cs, (unsigned long long)f->rip,
                  (unsigned long long)f->rflags, (unsigned long long)f->error);
    nb_pc_kprintf("RAX: %016llx RBX: %016llx RCX: %016llx\n",
                  (unsigned long long)f->rax, (unsigned long long)f->rbx,
                  (unsigned long long)f->rcx);
    nb_pc_kprintf("RDX: %016llx RSI: %016llx RDI: %016llx\n",
                  (unsigned long long)f->rdx, (unsigned long long)f->rsi,
                  (unsigned long long)f->rdi);
    nb_pc_kprintf("RBP: %016llx RSP: %016llx  R8: %016llx\n",
                  (unsigned long long)f->rbp, (unsigned long long)f->rsp,
                  (unsigned long long)f->r8);
    nb_pc_kprintf(" R9: %016llx R10: %016llx R11: %016llx\n",
                  (unsigned long long)f->r9, (unsigned long long)f->r10,
                  (unsigned long long)f->r11);
    nb_pc_kprintf("R12: %016llx R13: %016llx R14: %016llx\n",
                  (unsigned long long)f->r12, (unsigned long long)f->r13,
                  (unsigned long long)f->r14);
    nb_pc_kprintf("R15: %016llx CR0: %016llx CR2: %016llx\n",
                  (unsigned long long)f->r15, (unsigned long long)cr0,
                  (unsigned long long)cr2);
    nb_pc_kprintf("CR3: %016llx CR4: %016llx  SS: %04llx\n",
                  (unsigned long long)cr3, (unsigned long long)cr4,
                  (unsigned long long)f->ss);
}

static void exception(struct nb_pc_frame *f)
{
    if (in_trap++) {
        nb_pc_kprintf("\n*** nested exception %llu at %016llx while handling "
                      "another; stopping\n",
                      (unsigned long long)f->vector, (unsigned long long)f->rip);
        nb_pc_halt_forever();
    }
    const char *name = f->vector < 32 && exc_names[f->vector]
                           ? exc_names[f->vector] : "reserved";
    nb_pc_kprintf("\n*** CPU exception %llu (%s)", (unsigned long long)f->vector,
                  name);
    if (f->vector == 14) {
        uint64_t cr2;
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        nb_pc_kprintf(": %s %s at %016llx%s", f->error & 16 ? "executing" :
                      f->error & 2 ? "writing" : "reading",
                      f->error & 1 ? "protected page" : "unmapped page",
                      (unsigned long long)cr2,
                      cr2 < 4096 ? " (NULL pointer)" : "");
    }
    uint64_t off;
    const char *fn = nb_pc_symbolize(f->rip, &off);
    nb_pc_kprintf(" in %s\n", fn ? fn : "?");
    dump_frame(f);
    backtrace_exc(f->rip, f->rsp, f->rbp);
    nb_pc_halt_forever();
}

void nb_pc_trap_entry(struct nb_pc_frame *f);
void nb_pc_trap_entry(struct nb_pc_frame *f)
{
    if (f->vector >= 32)
        nb_pc_irq_entry(f);
    else
        exception(f);
}

void nb_pc_panic(const char *fmt, ...)
{
    __asm__ volatile("cli");
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nb_pc_kprintf("\n*** PANIC: %s\n", msg);
    if (!in_trap++) {
        /* start in our caller: its return address and its saved frame */
        const uint64_t *fp = __builtin_frame_address(0);
        nb_pc_backtrace(fp[1], fp[0]);
    }
    nb_pc_halt_forever();
}

_Noreturn void abort(void);
void abort(void)
{
    nb_pc_panic("abort() called from %p", __builtin_return_address(0));
}

_Noreturn void __nb_assert_fail(const char *expr, const char *file, int line,
                                const char *func);
void __nb_assert_fail(const char *expr, const char *file, int line,
                      const char *func)
{
    nb_pc_panic("assertion failed: %s (%s:%d, %s)", expr, file, line, func);
}

void nb_pc_halt_forever(void)
{
    char how[16];
    if (nb_pc_cmdline_get("neoboot.panic", how, sizeof how)) {
        if (strcmp(how, "reboot") == 0)
            nb_pc_reboot();
        if (strcmp(how, "poweroff") == 0)
            nb_pc_poweroff();
    }
    nb_pc_kprintf("System halted.\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}
