/*
 * Time: the TSC as the monotonic clock, the LAPIC timer for deadlines, and
 * the CMOS RTC for wall-clock time.
 *
 * TSC frequency, in order of trust: the hypervisor's timing leaf
 * (0x40000010, KVM/VMware), CPUID leaf 0x15 (crystal ratio), and otherwise
 * a measurement against the 8254 PIT. The PIT is read through channel 0's
 * latch command, which needs no port-0x61 gate and so also works on
 * microvm. The measurement (the median of three 20 ms runs) is the one
 * busy wait the platform allows itself, once at boot, and it is bounded:
 * if the PIT never moves we fall back to CPUID leaf 0x16 or a guess, and
 * say so.
 * Under TCG the TSC runs at the host's rate and the PIT in virtual time, so
 * the measurement is what makes the clock right there.
 *
 * The LAPIC timer: TSC-deadline mode when CPUID offers it (the deadline is
 * written in TSC ticks, no conversion error), else one-shot mode with the
 * APIC timer's rate calibrated against the TSC at boot. Either way, a
 * deadline further away than the timer can express fires early, which
 * nb_platform_wait() allows.
 */
#include "pc.h"

#include <neoboot/log.h>
#include <neoboot/platform.h>

NB_LOG_MODULE(clock);

#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define MSR_TSC_DEADLINE 0x6e0

#define PIT_HZ 1193182ull

static uint64_t tsc_hz;
static uint64_t tsc_base;
static uint64_t ns_mult;      /* ns = (ticks * ns_mult) >> 32 */
static uint64_t lapic_hz;     /* one-shot mode: timer ticks per second */
static bool use_deadline;
static const char *source = "uncalibrated";
static uint64_t wall_base_ns; /* wall clock at monotonic 0, or 0 */

static inline uint64_t ticks_to_ns(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> 32);
}

uint64_t nb_clock_ns(void)
{
    if (!ns_mult)
        return 0;
    return ticks_to_ns(rdtsc() - tsc_base);
}

uint64_t nb_pc_tsc_hz(void) { return tsc_hz; }
const char *nb_pc_clock_source(void) { return source; }
const char *nb_pc_timer_mode(void)
{
    return use_deadline ? "tsc-deadline" : "lapic one-shot";
}

static uint16_t pit_read(void)
{
    outb(0x43, 0x00); /* latch channel 0 */
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(hi << 8 | lo);
}

/*
 * TSC ticks per second over one PIT interval of `ticks` (< 65535), or 0 if
 * the PIT never moves. Channel 0 runs in mode 2 from 0xffff; each sample
 * pairs a latched count with the TSC read right after it.
 */
static uint64_t pit_measure_once(uint64_t ticks)
{
    outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 (rate generator) */
    outb(0x40, 0xff);
    outb(0x40, 0xff);
    uint16_t prev = pit_read(), cur;
    /* wait for the first tick edge, bounded by iterations */
    int spins = 0;
    while ((cur = pit_read()) == prev)
        if (++spins > 1000000)
            return 0;
    uint64_t t0 = rdtsc(), t1 = t0;
    prev = cur;
    uint64_t elapsed = 0;
    spins = 0;
    while (elapsed < ticks) {
        cur = pit_read();
        t1 = rdtsc();
        elapsed += prev >= cur ? (uint64_t)(prev - cur)
                               : (uint64_t)prev + 0xffff - cur;
        prev = cur;
        if (++spins > 50000000)
            return 0;
    }
    return (t1 - t0) * PIT_HZ / elapsed;
}

/* The median of three 20 ms measurements: under a hypervisor one of them
 * can be stretched by the host descheduling us between the two reads. */
static uint64_t pit_measure(void)
{
    uint64_t m[3];
    for (int i = 0; i < 3; i++)
        if (!(m[i] = pit_measure_once(PIT_HZ / 50)))
            return 0;
    /* stop the periodic IRQ0 source: mode 0 counts down once and stays */
    outb(0x43, 0x30);
    outb(0x40, 0x00);
    outb(0x40, 0x00);
    uint64_t lo = m[0] < m[1] ? m[0] : m[1], hi = m[0] < m[1] ? m[1] : m[0];
    return m[2] < lo ? lo : m[2] > hi ? hi : m[2];
}

static void set_freq(uint64_t hz, const char *how)
{
    tsc_hz = hz;
    source = how;
    ns_mult = (uint64_t)(((unsigned __int128)NB_NS_PER_S << 32) / hz);
}

static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(uint8_t v, bool is_bcd)
{
    return is_bcd ? (v & 15) + (v >> 4) * 10 : v;
}

/* Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void rtc_read(void)
{
    /* wait out an update in progress (at most ~2 ms) */
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
        ;
    uint8_t sec = cmos(0x00), min = cmos(0x02), hour = cmos(0x04);
    uint8_t day = cmos(0x07), mon = cmos(0x08), year = cmos(0x09);
    uint8_t cent = cmos(0x32), b = cmos(0x0b);
    if (sec == 0xff && mon == 0xff)
        return; /* no RTC */
    bool is_bcd = !(b & 0x04);
    unsigned h = bcd(hour & 0x7f, is_bcd);
    if (!(b & 0x02) && (hour & 0x80)) /* 12-hour clock, PM */
        h = (h % 12) + 12;
    unsigned y = bcd(year, is_bcd) + (cent ? bcd(cent, is_bcd) * 100 : 2000);
    unsigned m = bcd(mon, is_bcd), d = bcd(day, is_bcd);
    if (m < 1 || m > 12 || d < 1 || d > 31 || y < 2000)
        return;
    int64_t secs = days_from_civil(y, m, d) * 86400 + h * 3600 +
                   bcd(min, is_bcd) * 60 + bcd(sec, is_bcd);
    uint64_t now = nb_clock_ns();
    wall_base_ns = (uint64_t)secs * NB_NS_PER_S - now;
}

uint64_t nb_wallclock_ns(void)
{
    return wall_base_ns ? wall_base_ns + nb_clock_ns() : 0;
}

void nb_pc_clock_init(void)
{
    uint32_t r[4];
    tsc_base = rdtsc();
    if (nb_pc_cpu.hypervisor) {
        cpuid(0x40000000, 0, r);
        if (r[0] >= 0x40000010) {
            cpuid(0x40000010, 0, r);
            if (r[0]) {
                set_freq((uint64_t)r[0] * 1000, "hypervisor timing leaf");
                goto done;
            }
        }
    }
    cpuid(0, 0, r);
    uint32_t max = r[0];
    if (max >= 0x15) {
        cpuid(0x15, 0, r);
        if (r[0] && r[1] && r[2]) {
            set_freq((uint64_t)r[2] * r[1] / r[0], "CPUID 0x15");
            goto done;
        }
    }
    uint64_t hz = pit_measure();
    if (hz) {
        set_freq(hz, "PIT");
        goto done;
    }
    if (max >= 0x16) {
        cpuid(0x16, 0, r);
        if (r[0]) {
            set_freq((uint64_t)r[0] * 1000000, "CPUID 0x16 (no PIT)");
            goto done;
        }
    }
    set_freq(2000000000ull, "a 2 GHz guess (no PIT, no CPUID leaf)");
done:
    rtc_read();
}

void nb_pc_udelay(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
    while (rdtsc() < end)
        __asm__ volatile("pause");
}

void nb_pc_timer_init(void)
{
    use_deadline = nb_pc_cpu.tsc_deadline;
    if (use_deadline) {
        nb_pc_lapic_write(LAPIC_LVT_TIMER, NB_PC_VEC_TIMER | (2u << 17));
        return;
    }
    /* one-shot: measure the APIC timer against the TSC for 10 ms */
    nb_pc_lapic_write(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
    nb_pc_lapic_write(LAPIC_LVT_TIMER, NB_PC_VEC_TIMER | (1u << 16)); /* masked */
    nb_pc_lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
    nb_pc_udelay(10000);
    uint32_t left = nb_pc_lapic_read(LAPIC_TIMER_CUR);
    nb_pc_lapic_write(LAPIC_TIMER_INIT, 0);
    lapic_hz = (uint64_t)(0xffffffffu - left) * 100;
    if (!lapic_hz)
        lapic_hz = 1000000000ull / 16;
    nb_pc_lapic_write(LAPIC_LVT_TIMER, NB_PC_VEC_TIMER); /* one-shot, unmasked */
    NB_DEBUG("LAPIC timer: %llu Hz", (unsigned long long)lapic_hz);
}

void nb_pc_timer_arm(uint64_t deadline_ns)
{
    uint64_t now = nb_clock_ns();
    if (use_deadline) {
        if (deadline_ns == NB_FOREVER) {
            wrmsr(MSR_TSC_DEADLINE, 0);
            return;
        }
        uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
        uint64_t ticks = (uint64_t)((unsigned __int128)left * tsc_hz / NB_NS_PER_S);
        wrmsr(MSR_TSC_DEADLINE, rdtsc() + ticks + 1);
        return;
    }
    if (deadline_ns == NB_FOREVER) {
        nb_pc_lapic_write(LAPIC_TIMER_INIT, 0);
        return;
    }
    uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
    unsigned __int128 t = (unsigned __int128)left * lapic_hz / NB_NS_PER_S + 1;
    uint32_t count = t > 0xffffffffu ? 0xffffffffu : (uint32_t)t;
    nb_pc_lapic_write(LAPIC_TIMER_INIT, count);
}
