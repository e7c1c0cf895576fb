/*
 * The pc platform's side of include/neoboot/platform.h: waiting, waking,
 * entropy and the platform name (clock in clock.c, console in serial.c,
 * memory in libc/malloc.c, power in power.c).
 *
 * nb_platform_wait() is where an idle NeoBoot spends its time: with
 * interrupts off it checks for pending device work and wake requests, arms
 * the LAPIC timer for the deadline, and executes `sti; hlt` -- the sti
 * takes effect only after the hlt has begun, so an interrupt arriving
 * between the check and the halt still ends the halt instead of being
 * lost. Afterwards it runs the handlers of whatever fired (irq.c).
 */
#include "pc.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>

#include <string.h>

NB_LOG_MODULE(pc);

static volatile int wake_requested;
static uint64_t halts;

void nb_platform_wait(uint64_t deadline_ns)
{
    __asm__ volatile("cli" ::: "memory");
    if (!nb_pc_irq_pending() && !wake_requested) {
        if (deadline_ns == NB_FOREVER || deadline_ns > nb_clock_ns()) {
            nb_pc_timer_arm(deadline_ns);
            halts++;
            __asm__ volatile("sti; hlt" ::: "memory");
        }
    }
    __asm__ volatile("sti" ::: "memory");
    wake_requested = 0;
    nb_pc_irq_dispatch();
}

void nb_platform_wake(void)
{
    /* Interrupt handlers are the only other context on one CPU, and an
     * interrupt already ends the hlt; the flag covers the window before
     * nb_platform_wait disables interrupts. */
    wake_requested = 1;
}

uint64_t nb_pc_halt_count(void) { return halts; }

const char *nb_platform_name(void) { return "pc"; }

/* ---- entropy ---- */

static bool rdrand64(uint64_t *v)
{
    for (int i = 0; i < 10; i++) { /* Intel: retry up to 10 times */
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
    }
    return false;
}

static bool rdseed64(uint64_t *v)
{
    for (int i = 0; i < 100; i++) {
        unsigned char ok;
        __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
        __asm__ volatile("pause");
    }
    return false;
}

static uint64_t mix64(uint64_t z)
{
    /* splitmix64's finaliser: every input bit affects every output bit */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/*
 * Without RDRAND: accumulate the low bits of TSC differences across port
 * reads (whose latency varies with the host) and hash them. Weak, and the
 * boot log says so; better than a constant.
 */
static uint64_t jitter64(void)
{
    static uint64_t pool = 0x6a09e667f3bcc908ull;
    for (int i = 0; i < 64; i++) {
        uint64_t t0 = rdtsc();
        (void)inb(0x80 + 0x0); /* POST port read: an I/O exit under a VM */
        uint64_t t1 = rdtsc();
        pool = mix64(pool ^ (t1 - t0) ^ (t1 << 32));
    }
    return pool;
}

const char *nb_pc_entropy_source(void)
{
    if (nb_pc_cpu.rdseed)
        return "RDSEED";
    if (nb_pc_cpu.rdrand)
        return "RDRAND";
    return "TSC jitter (weak: no RDRAND/RDSEED on this CPU)";
}

int nb_platform_entropy(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t v;
        bool ok = false;
        if (nb_pc_cpu.rdseed)
            ok = rdseed64(&v);
        if (!ok && nb_pc_cpu.rdrand)
            ok = rdrand64(&v);
        if (!ok)
            v = jitter64();
        size_t n = len < 8 ? len : 8;
        memcpy(p, &v, n);
        p += n;
        len -= n;
    }
    return 0;
}
