/*
 * The screen: VGA text mode (80x25 at 0xB8000), the console a machine
 * with a monitor and no serial line shows. Everything written to the
 * console (nb_console_write, and the panic path) goes here as well as to
 * COM1.
 *
 * It is used only where text mode is known to be on: GRUB says so in its
 * Multiboot2 framebuffer tag (EGA text), or, under a PVH loader (SeaBIOS),
 * the BIOS data area reports mode 3 or 7 (a BIOS without a video ROM leaves
 * it 0). A graphics framebuffer (UEFI's GOP) is left alone: drawing there
 * needs a font renderer this console does not have. neoboot.vga=off turns
 * it off.
 *
 * The shell's line editor speaks a few ANSI sequences (erase to end of
 * line, cursor left/right, clear screen); they are interpreted here, other
 * sequences are swallowed so they never show as garbage.
 */
#include "pc.h"

#include <string.h>

#define ATTR 0x07 /* light grey on black */
#define CRTC_INDEX 0x3d4
#define CRTC_DATA 0x3d5

static volatile uint16_t *screen;
static unsigned cols = 80, rows = 25, col, row;
static int esc_state; /* 0 text, 1 after ESC, 2 in ESC [ ... */
static unsigned esc_par[2], esc_n;

static void cursor_update(void)
{
    unsigned pos = row * cols + col;
    outb(CRTC_INDEX, 0x0f);
    outb(CRTC_DATA, (uint8_t)pos);
    outb(CRTC_INDEX, 0x0e);
    outb(CRTC_DATA, (uint8_t)(pos >> 8));
}

static void clear_cells(unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        screen[i] = (uint16_t)(ATTR << 8 | ' ');
}

static void scroll(void)
{
    for (unsigned i = 0; i < (rows - 1) * cols; i++)
        screen[i] = screen[i + cols];
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
    screen[row * cols + col] = (uint16_t)(ATTR << 8 | (uint8_t)c);
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
    if (!screen)
        return;
    for (size_t i = 0; i < len; i++)
        feed(buf[i]);
    cursor_update();
}

bool nb_pc_vga_active(void)
{
    return screen != NULL;
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
