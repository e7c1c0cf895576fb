/*
 * Multiboot2 boot information: the parser (mb2.c), kept free of anything
 * platform-specific so the host can fuzz it (tests/fuzz/fuzz_mb2.c). The
 * loader's data is checked, not trusted: every tag's size against the
 * whole, strings bounded, counts capped.
 */
#ifndef NEOBOOT_PC_MB2_H
#define NEOBOOT_PC_MB2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_MB2_MAX_BYTES (1u << 20)  /* more than any real information */
#define NB_MB2_MAX_MMAP 256
#define NB_MB2_MAX_MODS 4

struct nb_mb2_info {
    char cmdline[1024];
    char loader[48];
    struct {
        uint64_t addr, size;
        uint32_t type;
    } mmap[NB_MB2_MAX_MMAP];
    unsigned nmmap, mmap_dropped;
    struct {
        uint32_t start, end; /* end > start */
        char cmdline[128];
    } mods[NB_MB2_MAX_MODS];
    unsigned nmods;
    bool fb_text;            /* EGA text mode */
    bool fb_rgb;             /* a direct-colour (RGB) framebuffer */
    bool fb_present;         /* any framebuffer tag */
    uint64_t fb_addr;
    uint32_t fb_pitch, fb_width, fb_height; /* bytes per line; pixels (characters for text) */
    uint8_t fb_bpp;
    uint8_t fb_red_pos, fb_green_pos, fb_blue_pos; /* bit positions (8-bit fields) */
    uint8_t rsdp[36];        /* a copy of the ACPI RSDP (the 2.0 one if both) */
    uint32_t rsdp_len;       /* 0: none */
};

/* Parse the information at mbi, of which `avail` bytes may be read (its
 * own total size must fit). 0, or -1 with *why set. */
int nb_mb2_parse(const uint8_t *mbi, size_t avail, struct nb_mb2_info *out, const char **why);

#endif
