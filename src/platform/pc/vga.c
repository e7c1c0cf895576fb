/*
 * The screen, the console a machine with a monitor and no serial line
 * shows. Everything written to the console (nb_console_write, and the
 * panic path) goes here as well as to COM1. Two kinds:
 *
 * - VGA text mode (80x25 at 0xB8000), used where text mode is known to be
 *   on: GRUB says so in its Multiboot2 framebuffer tag (EGA text), or,
 *   under a PVH loader (SeaBIOS), the BIOS data area reports mode 3 or 7
 *   (a BIOS without a video ROM leaves it 0).
 * - A direct-colour framebuffer (UEFI's GOP, or VBE, through GRUB's
 *   Multiboot2 tag): characters are drawn from an 8x16 font made at build
 *   time from GRUB's own (mkfont.py); a copy of the text is kept so that
 *   scrolling redraws instead of reading the framebuffer back; it is
 *   mapped write-combining (mm.c) so drawing does not pay a bus
 *   transaction per pixel.
 *
 * neoboot.vga=off turns both off.
 *
 * The shell's line editor speaks a few ANSI sequences (erase to end of
 * line, cursor left/right, clear screen); they are interpreted here, other
 * sequences are swallowed so they never show as garbage.
 */
#include "pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTR 0x07 /* light grey on black */
#define CRTC_INDEX 0x3d4
#define CRTC_DATA 0x3d5

extern const unsigned nb_pc_font_glyphs;
extern const uint8_t nb_pc_font8x16[][16];

static volatile uint16_t *screen; /* text mode */
static volatile uint8_t *fb;      /* framebuffer */
static uint32_t fb_pitch, fb_bytespp, fb_fg, fb_bg;
static char *shadow;              /* the framebuffer's text */
static unsigned cursor_at = ~0u;  /* cell drawn as the cursor */
static unsigned cols = 80, rows = 25, col, row;
static int esc_state; /* 0 text, 1 after ESC, 2 in ESC [ ... */
static unsigned esc_par[2], esc_n;

static void draw(unsigned idx, char c, bool inverse)
{
    unsigned g = (unsigned char)c - 0x20u;
    const uint8_t *glyph = g < nb_pc_font_glyphs ? nb_pc_font8x16[g] : nb_pc_font8x16[0];
    uint32_t fg = inverse ? fb_bg : fb_fg, bg = inverse ? fb_fg : fb_bg;
    volatile uint8_t *p = fb + (size_t)(idx / cols) * 16 * fb_pitch +
                          (size_t)(idx % cols) * 8 * fb_bytespp;
    for (unsigned y = 0; y < 16; y++, p += fb_pitch) {
        for (unsigned x = 0; x < 8; x++) {
            uint32_t v = glyph[y] & (0x80 >> x) ? fg : bg;
            volatile uint8_t *q = p + x * fb_bytespp;
            if (fb_bytespp == 4) {
                *(volatile uint32_t *)q = v;
            } else {
                q[0] = (uint8_t)v;
                q[1] = (uint8_t)(v >> 8);
                q[2] = (uint8_t)(v >> 16);
            }
        }
    }
}

static void cell(unsigned idx, char c)
{
    if (screen) {
        screen[idx] = (uint16_t)(ATTR << 8 | (uint8_t)c);
    } else if (shadow[idx] != c) {
        shadow[idx] = c;
        draw(idx, c, idx == cursor_at);
    }
}

static void cursor_update(void)
{
    unsigned pos = row * cols + (col < cols ? col : cols - 1);
    if (screen) {
        outb(CRTC_INDEX, 0x0f);
        outb(CRTC_DATA, (uint8_t)pos);
        outb(CRTC_INDEX, 0x0e);
        outb(CRTC_DATA, (uint8_t)(pos >> 8));
        return;
    }
    if (pos == cursor_at)
        return;
    if (cursor_at < rows * cols)
        draw(cursor_at, shadow[cursor_at], false);
    cursor_at = pos;
    draw(pos, shadow[pos], true);
}

static void clear_cells(unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        cell(i, ' ');
}

static void scroll(void)
{
    if (screen) {
        for (unsigned i = 0; i < (rows - 1) * cols; i++)
            screen[i] = screen[i + cols];
    } else {
        /* redraw from the text copy: reading the framebuffer back is slow */
        for (unsigned i = 0; i < (rows - 1) * cols; i++)
            cell(i, shadow[i + cols]);
    }
    clear_cells((rows - 1) * cols, rows * cols);
    row = rows - 1;
}

static void newline(void)
{
    col = 0;
    if (++row >= rows)
        scroll();
}

static void put(char c)
{
    if (col >= cols)
        newline();
    cell(row * cols + col, c);
    col++;
}

static void csi(char final)
{
    unsigned n = esc_par[0] ? esc_par[0] : 1;
    switch (final) {
    case 'A': row = row > n ? row - n : 0; break;
    case 'B': row = row + n < rows ? row + n : rows - 1; break;
    case 'C': col = col + n < cols ? col + n : cols - 1; break;
    case 'D': col = col > n ? col - n : 0; break;
    case 'H':
        row = esc_par[0] ? (esc_par[0] <= rows ? esc_par[0] - 1 : rows - 1) : 0;
        col = esc_par[1] ? (esc_par[1] <= cols ? esc_par[1] - 1 : cols - 1) : 0;
        break;
    case 'J':
        if (esc_par[0] == 2)
            clear_cells(0, rows * cols);
        else
            clear_cells(row * cols + col, rows * cols);
        break;
    case 'K': clear_cells(row * cols + col, (row + 1) * cols); break;
    default: break; /* colours and the rest: ignored */
    }
}

static void feed(char c)
{
    if (esc_state == 1) {
        esc_state = c == '[' ? 2 : 0;
        esc_par[0] = esc_par[1] = 0;
        esc_n = 0;
        return;
    }
    if (esc_state == 2) {
        if (c >= '0' && c <= '9') {
            if (esc_par[esc_n] < 1000)
                esc_par[esc_n] = esc_par[esc_n] * 10 + (unsigned)(c - '0');
        } else if (c == ';') {
            esc_n = 1;
        } else if (c >= 0x40 && c <= 0x7e) {
            csi(c);
            esc_state = 0;
        } else if (c != '?') {
            esc_state = 0;
        }
        return;
    }
    switch (c) {
    case '\x1b': esc_state = 1; break;
    case '\n': newline(); break;
    case '\r': col = 0; break;
    case '\b':
        if (col)
            col--;
        break;
    case '\t':
        do
            put(' ');
        while (col % 8 && col < cols);
        break;
    default:
        if ((unsigned char)c >= 0x20 && c != 0x7f)
            put(c);
        break;
    }
}

void nb_pc_vga_write(const char *buf, size_t len)
{
    if (!screen && !fb)
        return;
    for (size_t i = 0; i < len; i++)
        feed(buf[i]);
    cursor_update();
}

bool nb_pc_vga_active(void)
{
    return screen != NULL || fb != NULL;
}

static char fb_desc[64];

const char *nb_pc_screen_kind(void)
{
    return screen ? "VGA text screen" : fb ? fb_desc : NULL;
}

void nb_pc_fbcon_init(void)
{
    char v[8];
    if (nb_pc_cmdline_get("neoboot.vga", v, sizeof v) && strcmp(v, "off") == 0)
        return;
    const struct nb_pc_bootinfo *b = &nb_pc_boot;
    if (screen || b->fb_type != NB_PC_FB_RGB || !nb_pc_font_glyphs ||
        (b->fb_bpp != 32 && b->fb_bpp != 24) || b->fb_width < 320 || b->fb_height < 200 ||
        b->fb_width > 8192 || b->fb_height > 8192 ||
        b->fb_pitch < b->fb_width * (b->fb_bpp / 8u))
        return;
    uint64_t size = (uint64_t)b->fb_pitch * b->fb_height;
    void *p = nb_pc_map_framebuffer(b->fb_addr, size);
    unsigned c = b->fb_width / 8, r = b->fb_height / 16;
    char *text = malloc((size_t)c * r);
    if (!p || !text) {
        free(text);
        return;
    }
    memset(text, ' ', (size_t)c * r);
    fb_bytespp = b->fb_bpp / 8u;
    fb_pitch = b->fb_pitch;
    /* light grey on black, whatever the channel order */
    fb_fg = 0xaau << b->fb_rgb_pos[0] | 0xaau << b->fb_rgb_pos[1] | 0xaau << b->fb_rgb_pos[2];
    fb_bg = 0;
    cols = c;
    rows = r;
    col = row = 0;
    shadow = text;
    fb = p;
    snprintf(fb_desc, sizeof fb_desc, "framebuffer screen %ux%ux%u%s", b->fb_width,
             b->fb_height, b->fb_bpp, nb_pc_cpu.pat ? " (write-combining)" : "");
    for (unsigned i = 0; i < cols * rows; i++)
        draw(i, ' ', false);
    cursor_update();
}

void nb_pc_vga_init(void)
{
    char v[8];
    if (nb_pc_cmdline_get("neoboot.vga", v, sizeof v) && strcmp(v, "off") == 0)
        return;
    uint64_t addr = 0;
    if (nb_pc_boot.fb_type == NB_PC_FB_TEXT) {
        addr = nb_pc_boot.fb_addr;
        if (nb_pc_boot.fb_width >= 40 && nb_pc_boot.fb_width <= 200)
            cols = nb_pc_boot.fb_width;
        if (nb_pc_boot.fb_height >= 20 && nb_pc_boot.fb_height <= 100)
            rows = nb_pc_boot.fb_height;
    } else if (nb_pc_boot.fb_type == NB_PC_FB_NONE_SAID) {
        /* the BIOS data area's video mode, read at boot (main.c) */
        if (nb_pc_boot.bios_video_mode == 3)
            addr = 0xb8000;
        else if (nb_pc_boot.bios_video_mode == 7)
            addr = 0xb0000;
    }
    if (addr != 0xb8000 && addr != 0xb0000)
        return; /* a graphics framebuffer, or nothing known */
    screen = (volatile uint16_t *)(uintptr_t)addr;
    /* continue below what the firmware or GRUB left: the cursor says where */
    outb(CRTC_INDEX, 0x0e);
    unsigned pos = (unsigned)inb(CRTC_DATA) << 8;
    outb(CRTC_INDEX, 0x0f);
    pos |= inb(CRTC_DATA);
    if (pos >= cols * rows)
        pos = 0;
    row = pos / cols;
    col = 0;
    if (pos % cols)
        newline();
    cursor_update();
}
