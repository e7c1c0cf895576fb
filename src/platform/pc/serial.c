/*
 * The console: a 16550 UART at COM1 (I/O port 0x3f8), 115200 8N1.
 *
 * Output is written synchronously (the transmit-holding register is polled
 * with a bounded wait, so a missing UART cannot hang us). Input arrives by
 * interrupt: the receive interrupt only wakes nb_platform_wait(), and the
 * bytes are read without blocking by nb_console_read(). nb_pc_kprintf
 * formats into a stack buffer and writes directly, for the panic path where
 * the heap and logger may be broken.
 */
#include "pc.h"

#include <neoboot/err.h>
#include <neoboot/platform.h>

#include <stdarg.h>
#include <stdio.h>

#define COM1 0x3f8
#define UART_DATA 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

static bool uart_present;
static void (*input_handler)(void);

void nb_pc_console_set_handler(void (*fn)(void)) { input_handler = fn; }

void nb_pc_serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);   /* no interrupts yet */
    outb(COM1 + UART_LCR, 0x80);   /* DLAB: set the divisor */
    outb(COM1 + UART_DATA, 0x01);  /* 115200 baud */
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, 0x03);   /* 8N1 */
    outb(COM1 + UART_FCR, 0xc7);   /* FIFOs on, cleared, 14-byte trigger */
    outb(COM1 + UART_MCR, 0x0b);   /* DTR, RTS, OUT2 (gates the IRQ line) */
    /* A floating bus reads 0xff: no UART there. */
    uart_present = inb(COM1 + UART_LSR) != 0xff;
}

static void serial_irq(void *arg)
{
    (void)arg;
    /* Runs from the event loop (deferred). Reading IIR acknowledges a
     * THR-empty/line-status cause; the receive cause clears as the
     * handler drains the FIFO through nb_console_read. */
    (void)inb(COM1 + UART_FCR);
    if (input_handler)
        input_handler();
}

void nb_pc_serial_irq_init(void)
{
    if (!uart_present)
        return;
    int vec = nb_pc_irq_alloc(serial_irq, NULL, "com1");
    if (vec < 0)
        return;
    bool level, low;
    unsigned gsi = nb_pc_isa_gsi(4, &level, &low);
    if (nb_pc_irq_route_gsi(gsi, vec, level, low) == 0)
        outb(COM1 + UART_IER, 0x01); /* received-data interrupt */
}

static void putc_raw(char c)
{
    /* ~1 ms at 115200 baud per FIFO byte; bound the wait generously */
    for (int i = 0; i < 100000; i++)
        if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
            break;
    outb(COM1 + UART_DATA, (uint8_t)c);
}

void nb_pc_serial_write(const char *buf, size_t len)
{
    if (!uart_present)
        return;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            putc_raw('\r');
        putc_raw(buf[i]);
    }
}

void nb_console_write(const char *buf, size_t len)
{
    uint64_t f = irq_save(); /* keep lines whole if a panic interrupts */
    nb_pc_serial_write(buf, len);
    nb_pc_vga_write(buf, len);
    irq_restore(f);
}

int nb_console_read(char *buf, size_t len)
{
    size_t n = 0;
    while (uart_present && n < len && (inb(COM1 + UART_LSR) & LSR_DATA_READY))
        buf[n++] = (char)inb(COM1 + UART_DATA);
    if (n < len) {
        int k = nb_pc_kbd_read(buf + n, len - n); /* the keyboard, as a second input */
        if (k > 0)
            n += (size_t)k;
    }
    return n ? (int)n : NB_EAGAIN;
}

/* The keyboard driver's bytes arrive like the UART's. */
void nb_pc_console_input_ready(void)
{
    if (input_handler)
        input_handler();
}

void nb_pc_kprintf(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    nb_pc_serial_write(line, len);
    nb_pc_vga_write(line, len); /* a panic shows on the screen too */
}
