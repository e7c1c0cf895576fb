/*
 * Interrupt vectors and deferred handling.
 *
 * The interrupt stub (isr.S -> trap.c) calls nb_pc_irq_entry() with
 * interrupts off. For a device vector it only sets the vector's pending
 * bit (masking a level-triggered IOAPIC input first, because the device
 * keeps the line asserted until its handler acknowledges it) and sends the
 * LAPIC EOI. The timer vector needs nothing at all: taking any interrupt
 * ends the `hlt` in nb_platform_wait(). nb_platform_wait() then calls
 * nb_pc_irq_dispatch(), which runs each pending handler in the event
 * loop's context and unmasks its input again. Handlers therefore never
 * race with the code they interrupted, and need no locks.
 */
#include "pc.h"

#include <neoboot/err.h>

#include <stdio.h>


struct vector {
    nb_pc_irq_fn fn;
    void *arg;
    const char *name;
    int gsi;      /* -1 unless routed through an IOAPIC */
    bool level;
    uint64_t count;
};

static struct vector vectors[256];
static volatile uint64_t pending[4];
static uint64_t timer_count, spurious_count;

int nb_pc_irq_alloc(nb_pc_irq_fn fn, void *arg, const char *name)
{
    for (int v = NB_PC_VEC_FIRST_DEVICE; v <= NB_PC_VEC_LAST_DEVICE; v++) {
        if (!vectors[v].fn) {
            vectors[v].fn = fn;
            vectors[v].arg = arg;
            vectors[v].name = name;
            vectors[v].gsi = -1;
            return v;
        }
    }
    return NB_ENOSPC;
}

int nb_pc_irq_route_gsi(unsigned gsi, int vector, bool level, bool active_low)
{
    if (vector < NB_PC_VEC_FIRST_DEVICE || vector > NB_PC_VEC_LAST_DEVICE)
        return NB_EINVAL;
    vectors[vector].gsi = (int)gsi;
    vectors[vector].level = level;
    return nb_pc_ioapic_route(gsi, vector, level, active_low);
}

void nb_pc_irq_entry(struct nb_pc_frame *f)
{
    unsigned v = (unsigned)f->vector;
    if (v == NB_PC_VEC_SPURIOUS || (v >= 0x20 && v < 0x30)) {
        spurious_count++; /* LAPIC or 8259 spurious: no EOI */
        return;
    }
    if (v == NB_PC_VEC_TIMER) {
        timer_count++;
        nb_pc_lapic_eoi();
        return;
    }
    struct vector *vec = &vectors[v];
    vec->count++;
    if (vec->level && vec->gsi >= 0)
        nb_pc_ioapic_mask((unsigned)vec->gsi, true);
    __atomic_or_fetch(&pending[v / 64], 1ull << (v % 64), __ATOMIC_SEQ_CST);
    nb_pc_lapic_eoi();
}

bool nb_pc_irq_pending(void)
{
    return (pending[0] | pending[1] | pending[2] | pending[3]) != 0;
}

void nb_pc_irq_dispatch(void)
{
    for (unsigned w = 0; w < 4; w++) {
        uint64_t bits = __atomic_exchange_n(&pending[w], 0, __ATOMIC_SEQ_CST);
        while (bits) {
            unsigned v = w * 64 + (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            struct vector *vec = &vectors[v];
            if (vec->fn)
                vec->fn(vec->arg);
            if (vec->level && vec->gsi >= 0)
                nb_pc_ioapic_mask((unsigned)vec->gsi, false);
        }
    }
}

void nb_pc_irq_print(void (*print)(void *arg, const char *line), void *arg)
{
    char line[96];
    snprintf(line, sizeof line, "irq: timer %llu, spurious %llu",
             (unsigned long long)timer_count, (unsigned long long)spurious_count);
    print(arg, line);
    for (int v = NB_PC_VEC_FIRST_DEVICE; v <= NB_PC_VEC_LAST_DEVICE; v++) {
        if (!vectors[v].fn)
            continue;
        if (vectors[v].gsi >= 0)
            snprintf(line, sizeof line, "irq: vector %#x gsi %d %s %s: %llu", v,
                     vectors[v].gsi, vectors[v].level ? "level" : "edge",
                     vectors[v].name, (unsigned long long)vectors[v].count);
        else
            snprintf(line, sizeof line, "irq: vector %#x msi %s: %llu", v,
                     vectors[v].name, (unsigned long long)vectors[v].count);
        print(arg, line);
    }
}
