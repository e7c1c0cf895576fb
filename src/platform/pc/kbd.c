/*
 * The PS/2 keyboard (i8042 controller, IRQ 1): the console's second input
 * beside COM1, so a machine with a screen and a keyboard can use the shell
 * (USB keyboards reach it through the firmware's legacy emulation).
 *
 * The controller translates to scancode set 1. Keys become the bytes a
 * terminal would send (US layout): letters and symbols with Shift and Caps
 * Lock, Ctrl+letter as control characters (Ctrl-C interrupts an app),
 * Enter as '\r', Backspace as DEL, arrows, Home, End and Delete as ANSI
 * escape sequences, so the line editor's history and cursor keys work.
 * The interrupt handler (from the event loop) drains the controller into a
 * small ring that nb_console_read() empties; when the ring is full, the
 * oldest keys are kept and new ones dropped (a person typing never fills
 * 256 bytes before the shell reads them).
 */
#include "pc.h"

#include <string.h>

#define KBD_DATA 0x60
#define KBD_STATUS 0x64
#define KBD_CMD 0x64
#define ST_OUT_FULL 0x01
#define ST_IN_FULL 0x02
#define ST_AUX 0x20
#define RING 256

static bool present;
static char ring[RING];
static unsigned head, tail; /* bytes in [tail, head) */
static bool shift_l, shift_r, ctrl, caps, extended;
static uint64_t dropped;

static const char normal[0x3a] = {
    0,    0x1b, '1', '2', '3',  '4', '5', '6', '7', '8', '9', '0',  '-', '=', 0x7f, '\t',
    'q',  'w',  'e', 'r', 't',  'y', 'u', 'i', 'o', 'p', '[', ']',  '\r', 0,  'a',  's',
    'd',  'f',  'g', 'h', 'j',  'k', 'l', ';', '\'', '`', 0,  '\\', 'z', 'x', 'c',  'v',
    'b',  'n',  'm', ',', '.',  '/', 0,   '*', 0,   ' ',
};
static const char shifted[0x3a] = {
    0,    0x1b, '!', '@', '#',  '$', '%', '^', '&', '*', '(', ')',  '_', '+', 0x7f, '\t',
    'Q',  'W',  'E', 'R', 'T',  'Y', 'U', 'I', 'O', 'P', '{', '}',  '\r', 0,  'A',  'S',
    'D',  'F',  'G', 'H', 'J',  'K', 'L', ':', '"', '~', 0,   '|',  'Z', 'X', 'C',  'V',
    'B',  'N',  'M', '<', '>',  '?', 0,   '*', 0,   ' ',
};

static void push(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (head - tail >= RING) {
            dropped++;
            return;
        }
        ring[head++ % RING] = s[i];
    }
}

static void scancode(uint8_t sc)
{
    if (sc == 0xe0) {
        extended = true;
        return;
    }
    bool up = sc & 0x80, ext = extended;
    uint8_t code = sc & 0x7f;
    extended = false;
    switch (code) {
    case 0x2a: shift_l = !up; return;
    case 0x36: shift_r = !up; return;
    case 0x1d: ctrl = !up; return; /* left, or right with 0xe0 */
    case 0x3a:
        if (!up)
            caps = !caps;
        return;
    default: break;
    }
    if (up)
        return;
    if (ext) {
        const char *seq = NULL;
        switch (code) {
        case 0x48: seq = "\x1b[A"; break;
        case 0x50: seq = "\x1b[B"; break;
        case 0x4d: seq = "\x1b[C"; break;
        case 0x4b: seq = "\x1b[D"; break;
        case 0x47: seq = "\x1b[H"; break;
        case 0x4f: seq = "\x1b[F"; break;
        case 0x53: seq = "\x1b[3~"; break;
        case 0x1c: seq = "\r"; break;  /* keypad Enter */
        case 0x35: seq = "/"; break;   /* keypad / */
        default: break;
        }
        if (seq)
            push(seq, strlen(seq));
        return;
    }
    if (code >= sizeof normal)
        return;
    bool sh = shift_l || shift_r;
    char c = sh ? shifted[code] : normal[code];
    if (!c)
        return;
    if (c >= 'a' && c <= 'z' && caps)
        c = (char)(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z' && caps)
        c = (char)(c - 'A' + 'a');
    if (ctrl && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        c = (char)(c & 0x1f);
    push(&c, 1);
}

static void kbd_irq(void *arg)
{
    (void)arg;
    /* bounded: the controller holds one byte at a time */
    for (int i = 0; i < 64 && (inb(KBD_STATUS) & ST_OUT_FULL); i++) {
        uint8_t st = inb(KBD_STATUS);
        uint8_t b = inb(KBD_DATA);
        if (!(st & ST_AUX)) /* mouse bytes are not ours */
            scancode(b);
    }
    if (head != tail)
        nb_pc_console_input_ready();
}

int nb_pc_kbd_read(char *buf, size_t len)
{
    size_t n = 0;
    while (n < len && tail != head)
        buf[n++] = ring[tail++ % RING];
    return (int)n;
}

static bool wait_input_empty(void)
{
    for (int i = 0; i < 10000; i++) {
        if (!(inb(KBD_STATUS) & ST_IN_FULL))
            return true;
        nb_pc_udelay(10);
    }
    return false;
}

void nb_pc_kbd_init(void)
{
    char v[8];
    if (nb_pc_cmdline_get("neoboot.kbd", v, sizeof v) && strcmp(v, "off") == 0)
        return;
    if (inb(KBD_STATUS) == 0xff)
        return; /* nothing decodes the port: no controller */
    /* drop what the firmware left, then make sure IRQ 1 and translation
     * to set 1 are on (UEFI firmware may have turned them off) */
    for (int i = 0; i < 32 && (inb(KBD_STATUS) & ST_OUT_FULL); i++)
        (void)inb(KBD_DATA);
    if (!wait_input_empty())
        return;
    outb(KBD_CMD, 0x20); /* read the configuration byte */
    uint8_t cfg = 0;
    bool got = false;
    for (int i = 0; i < 10000; i++) {
        if (inb(KBD_STATUS) & ST_OUT_FULL) {
            cfg = inb(KBD_DATA);
            got = true;
            break;
        }
        nb_pc_udelay(10);
    }
    if (!got)
        return;
    cfg = (uint8_t)((cfg | 0x01 | 0x40) & ~0x10); /* IRQ 1, translation, clock on */
    if (!wait_input_empty())
        return;
    outb(KBD_CMD, 0x60);
    if (!wait_input_empty())
        return;
    outb(KBD_DATA, cfg);
    int vec = nb_pc_irq_alloc(kbd_irq, NULL, "kbd");
    if (vec < 0)
        return;
    bool level, low;
    unsigned gsi = nb_pc_isa_gsi(1, &level, &low);
    if (nb_pc_irq_route_gsi(gsi, vec, level, low) != 0)
        return;
    present = true;
}

bool nb_pc_kbd_present(void)
{
    return present;
}

uint64_t nb_pc_kbd_dropped(void)
{
    return dropped;
}
