/*
 * The Multiboot2 information parser (mb2.h).
 */
#include "mb2.h"

#include <string.h>

#define TAG_END 0
#define TAG_CMDLINE 1
#define TAG_LOADER 2
#define TAG_MODULE 3
#define TAG_MMAP 6
#define TAG_FRAMEBUFFER 8
#define TAG_ACPI_OLD 14
#define TAG_ACPI_NEW 15

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* A string of at most `avail` bytes (NUL-terminated or not) into dst. */
static void copy_str(char *dst, size_t cap, const uint8_t *src, size_t avail)
{
    size_t n = 0;
    while (n < avail && n < cap - 1 && src[n])
        n++;
    memcpy(dst, src, n);
    dst[n] = 0;
}

int nb_mb2_parse(const uint8_t *mbi, size_t avail, struct nb_mb2_info *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (avail < 8) {
        *why = "shorter than its header";
        return -1;
    }
    uint32_t total = rd32(mbi);
    if (total < 16 || total > NB_MB2_MAX_BYTES || total > avail) {
        *why = "total size not believable";
        return -1;
    }
    bool ended = false;
    for (uint32_t off = 8; off + 8 <= total;) {
        const uint8_t *t = mbi + off;
        uint32_t type = rd32(t), size = rd32(t + 4);
        if (type == TAG_END) {
            ended = true;
            break;
        }
        if (size < 8 || size > total - off) {
            *why = "a tag's size runs past the end";
            return -1;
        }
        const uint8_t *body = t + 8;
        uint32_t blen = size - 8;
        switch (type) {
        case TAG_CMDLINE:
            copy_str(out->cmdline, sizeof out->cmdline, body, blen);
            break;
        case TAG_LOADER:
            copy_str(out->loader, sizeof out->loader, body, blen);
            break;
        case TAG_MODULE:
            if (blen >= 8 && out->nmods < NB_MB2_MAX_MODS) {
                uint32_t start = rd32(body), end = rd32(body + 4);
                if (end > start) {
                    out->mods[out->nmods].start = start;
                    out->mods[out->nmods].end = end;
                    copy_str(out->mods[out->nmods].cmdline, sizeof out->mods[0].cmdline,
                             body + 8, blen - 8);
                    out->nmods++;
                }
            }
            break;
        case TAG_MMAP: {
            if (blen < 8)
                break;
            uint32_t esize = rd32(body);
            if (esize < 24 || esize > blen)
                break;
            for (uint32_t e = 8; e + esize <= blen; e += esize) {
                if (out->nmmap == NB_MB2_MAX_MMAP) {
                    out->mmap_dropped++;
                    continue;
                }
                out->mmap[out->nmmap].addr = rd64(body + e);
                out->mmap[out->nmmap].size = rd64(body + e + 8);
                out->mmap[out->nmmap].type = rd32(body + e + 16);
                out->nmmap++;
            }
            break;
        }
        case TAG_FRAMEBUFFER:
            /* addr u64, pitch u32, width u32, height u32, bpp u8, type u8 */
            if (blen >= 22) {
                out->fb_present = true;
                out->fb_text = body[21] == 2;
                out->fb_addr = rd64(body);
                out->fb_pitch = rd32(body + 8);
                out->fb_width = rd32(body + 12);
                out->fb_height = rd32(body + 16);
                out->fb_bpp = body[20];
                /* RGB: red, green, blue field positions and sizes follow */
                if (body[21] == 1 && blen >= 30 && body[25] == 8 && body[27] == 8 &&
                    body[29] == 8) {
                    out->fb_rgb = true;
                    out->fb_red_pos = body[24];
                    out->fb_green_pos = body[26];
                    out->fb_blue_pos = body[28];
                }
            }
            break;
        case TAG_ACPI_OLD:
        case TAG_ACPI_NEW:
            if (blen >= 20 && (!out->rsdp_len || type == TAG_ACPI_NEW)) {
                out->rsdp_len = blen < sizeof out->rsdp ? blen : (uint32_t)sizeof out->rsdp;
                memcpy(out->rsdp, body, out->rsdp_len);
            }
            break;
        default:
            break;
        }
        off += (size + 7) & ~7u;
    }
    if (!ended) {
        *why = "no end tag";
        return -1;
    }
    if (!out->nmmap) {
        *why = "no memory map";
        return -1;
    }
    return 0;
}
