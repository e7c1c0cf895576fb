/*
 * CPU identification: vendor, brand, and the features the platform acts on
 * (RDRAND/RDSEED for entropy, TSC-deadline for the timer, invariant TSC,
 * NX for page tables, hypervisor leaves for the TSC frequency). Read once
 * at boot; the banner prints a summary.
 */
#include "pc.h"

#include <stdio.h>
#include <string.h>

struct nb_pc_cpu nb_pc_cpu;

static uint32_t leaf1_ecx, leaf1_edx, leaf7_ebx, ext1_ecx, ext1_edx;

void nb_pc_cpu_init(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max = r[0];
    memcpy(nb_pc_cpu.vendor, &r[1], 4);
    memcpy(nb_pc_cpu.vendor + 4, &r[3], 4);
    memcpy(nb_pc_cpu.vendor + 8, &r[2], 4);
    cpuid(1, 0, r);
    leaf1_ecx = r[2];
    leaf1_edx = r[3];
    if (max >= 7) {
        cpuid(7, 0, r);
        leaf7_ebx = r[1];
    }
    cpuid(0x80000000, 0, r);
    uint32_t emax = r[0];
    if (emax >= 0x80000001) {
        cpuid(0x80000001, 0, r);
        ext1_ecx = r[2];
        ext1_edx = r[3];
    }
    if (emax >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            cpuid(0x80000002 + i, 0, r);
            memcpy(nb_pc_cpu.brand + 16 * i, r, 16);
        }
        /* trim leading blanks */
        char *b = nb_pc_cpu.brand;
        while (*b == ' ')
            b++;
        memmove(nb_pc_cpu.brand, b, strlen(b) + 1);
    }
    if (emax >= 0x80000007) {
        cpuid(0x80000007, 0, r);
        nb_pc_cpu.invariant_tsc = r[3] & (1u << 8);
    }
    nb_pc_cpu.rdrand = leaf1_ecx & (1u << 30);
    nb_pc_cpu.rdseed = leaf7_ebx & (1u << 18);
    nb_pc_cpu.tsc_deadline = leaf1_ecx & (1u << 24);
    nb_pc_cpu.x2apic = leaf1_ecx & (1u << 21);
    nb_pc_cpu.pat = leaf1_edx & (1u << 16);
    nb_pc_cpu.hypervisor = leaf1_ecx & (1u << 31);
    nb_pc_cpu.nx = ext1_edx & (1u << 20);
    nb_pc_cpu.pdpe1gb = ext1_edx & (1u << 26);
    if (nb_pc_cpu.hypervisor) {
        cpuid(0x40000000, 0, r);
        memcpy(nb_pc_cpu.hv_vendor, &r[1], 4);
        memcpy(nb_pc_cpu.hv_vendor + 4, &r[2], 4);
        memcpy(nb_pc_cpu.hv_vendor + 8, &r[3], 4);
    }
}

void nb_pc_cpu_features(char *buf, size_t len)
{
    static const struct {
        const char *name;
        const uint32_t *reg;
        int bit;
    } feats[] = {
        {"sse2", &leaf1_edx, 26},   {"sse3", &leaf1_ecx, 0},
        {"ssse3", &leaf1_ecx, 9},   {"sse4.1", &leaf1_ecx, 19},
        {"sse4.2", &leaf1_ecx, 20}, {"popcnt", &leaf1_ecx, 23},
        {"avx", &leaf1_ecx, 28},    {"x2apic", &leaf1_ecx, 21},
        {"tsc-deadline", &leaf1_ecx, 24}, {"rdrand", &leaf1_ecx, 30},
        {"rdseed", &leaf7_ebx, 18}, {"nx", &ext1_edx, 20},
        {"1g-pages", &ext1_edx, 26}, {"lzcnt", &ext1_ecx, 5},
        {"bmi1", &leaf7_ebx, 3},   {"bmi2", &leaf7_ebx, 8},
    };
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof feats / sizeof feats[0]; i++) {
        if (!((*feats[i].reg >> feats[i].bit) & 1))
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? " " : "", feats[i].name);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    if (nb_pc_cpu.invariant_tsc && n + 15 < len)
        snprintf(buf + n, len - n, "%sinvariant-tsc", n ? " " : "");
}
