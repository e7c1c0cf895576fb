/*
 * NeoBoot pc libc: <stdio.h>. Formatting into memory only: there are no
 * files or streams on bare metal, and console output goes through the
 * logger (neoboot/log.h) or nb_console_write().
 */
#ifndef _NB_LIBC_STDIO_H
#define _NB_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
              va_list ap) __attribute__((format(printf, 3, 0)));
int sprintf(char *restrict buf, const char *restrict fmt, ...)
    __attribute__((format(printf, 2, 3)));
int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
