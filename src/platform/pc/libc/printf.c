/*
 * NeoBoot pc libc: snprintf and friends.
 *
 * C99 conversions d i u o x X c s p % with flags '-' '+' ' ' '#' '0',
 * width and precision (also '*'), and length modifiers hh h l ll z j t;
 * plus f F e E g G for doubles. %n is deliberately unsupported (it is only
 * ever a vulnerability). Output is always NUL-terminated when size > 0 and
 * the return value is the length the full output would have had.
 *
 * Floating point: digits come from an 80-bit long double scaled by powers
 * of ten, so the first ~17 significant digits are right and later ones may
 * differ from glibc in the last place. That is plenty for logs and
 * statistics; nothing parses these numbers back.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct out {
    char *buf;
    size_t size;
    size_t pos;
};

static void put(struct out *o, char c)
{
    if (o->pos + 1 < o->size)
        o->buf[o->pos] = c;
    o->pos++;
}

static void put_n(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
}

static void pad(struct out *o, char c, int n)
{
    for (; n > 0; n--)
        put(o, c);
}

enum {
    F_MINUS = 1,
    F_PLUS = 2,
    F_SPACE = 4,
    F_HASH = 8,
    F_ZERO = 16,
};

/* Emit prefix (sign, 0x) and body with width padding; zeros go between. */
static void emit(struct out *o, int flags, int width, const char *prefix,
                 size_t plen, int zeros, const char *body, size_t blen)
{
    int total = (int)(plen + blen) + zeros;
    if (!(flags & F_MINUS) && !(flags & F_ZERO))
        pad(o, ' ', width - total);
    put_n(o, prefix, plen);
    if (!(flags & F_MINUS) && (flags & F_ZERO))
        pad(o, '0', width - total);
    pad(o, '0', zeros);
    put_n(o, body, blen);
    if (flags & F_MINUS)
        pad(o, ' ', width - total);
}

static void fmt_int(struct out *o, uint64_t v, bool neg, int base, bool upper,
                    int flags, int width, int prec)
{
    char digits[24];
    size_t n = 0;
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    while (v) {
        digits[sizeof digits - 1 - n++] = set[v % (unsigned)base];
        v /= (unsigned)base;
    }
    char prefix[3];
    size_t plen = 0;
    if (neg)
        prefix[plen++] = '-';
    else if (flags & F_PLUS)
        prefix[plen++] = '+';
    else if (flags & F_SPACE)
        prefix[plen++] = ' ';
    int zeros = 0;
    if (prec < 0)
        prec = 1;
    else
        flags &= ~F_ZERO; /* a precision overrides the 0 flag */
    if ((int)n < prec)
        zeros = prec - (int)n;
    if (flags & F_HASH) {
        if (base == 16 && n > 0) {
            prefix[plen++] = '0';
            prefix[plen++] = upper ? 'X' : 'x';
        } else if (base == 8 && zeros == 0) {
            zeros = 1; /* '#' with %o: the first digit must be 0 */
        }
    }
    emit(o, flags, width, prefix, plen, zeros, digits + sizeof digits - n, n);
}

/* ---- floating point ---- */

/* Decimal digits of |v| (finite, > 0): fills digits[0..ndig) and sets exp10
 * so that v ~= 0.d0d1d2... * 10^(exp10+1), i.e. d0 is the 10^exp10 digit.
 * Rounds at ndig digits (ndig <= 40; digits past the 19th are zeros). */
static void fp_digits(long double v, int ndig, char *digits, int *exp10)
{
    int e = 0;
    /* Normalise to [1, 10) with few multiplications. */
    static const long double big[] = {1e1L, 1e2L, 1e4L, 1e8L, 1e16L, 1e32L,
                                      1e64L, 1e128L, 1e256L};
    if (v >= 10.0L) {
        for (int i = 8; i >= 0; i--) {
            if (v >= big[i]) {
                v /= big[i];
                e += 1 << i;
            }
        }
    } else if (v < 1.0L) {
        for (int i = 8; i >= 0; i--) {
            if (v * big[i] < 10.0L) {
                v *= big[i];
                e -= 1 << i;
            }
        }
        if (v < 1.0L) {
            v *= 10.0L;
            e--;
        }
    }
    /* Extract 20 digits, then round the requested count from them. */
    char all[20];
    for (int i = 0; i < 20; i++) {
        int d = (int)v;
        if (d > 9)
            d = 9;
        all[i] = (char)d;
        v = (v - d) * 10.0L;
    }
    int keep = ndig < 19 ? ndig : 19;
    bool up = keep < 20 && all[keep] >= 5;
    if (up && all[keep] == 5) {
        /* an exact tie (nothing after the 5) rounds to even, as glibc does */
        bool tie = v == 0;
        for (int i = keep + 1; i < 20 && tie; i++)
            tie = all[i] == 0;
        if (tie)
            up = keep > 0 && (all[keep - 1] & 1);
    }
    for (int i = 0; i < ndig; i++)
        digits[i] = i < keep ? all[i] : 0;
    if (up) {
        int i = keep - 1;
        while (i >= 0 && digits[i] == 9)
            digits[i--] = 0;
        if (i >= 0) {
            digits[i]++;
        } else {
            /* 9.99 -> 10.0: shift */
            memmove(digits + 1, digits, (size_t)ndig - 1);
            digits[0] = 1;
            e++;
        }
    }
    *exp10 = e;
}

#define FP_MAXDIG 40

static void fmt_fp(struct out *o, double dv, char conv, int flags, int width,
                   int prec)
{
    char prefix[2];
    size_t plen = 0;
    bool upper = conv == 'F' || conv == 'E' || conv == 'G';
    if (__builtin_signbit(dv))
        prefix[plen++] = '-';
    else if (flags & F_PLUS)
        prefix[plen++] = '+';
    else if (flags & F_SPACE)
        prefix[plen++] = ' ';
    if (__builtin_isnan(dv) || __builtin_isinf(dv)) {
        const char *s = __builtin_isnan(dv) ? (upper ? "NAN" : "nan")
                                            : (upper ? "INF" : "inf");
        emit(o, flags & ~F_ZERO, width, prefix, plen, 0, s, 3);
        return;
    }
    long double v = dv < 0 ? -(long double)dv : (long double)dv;
    if (prec < 0)
        prec = 6;
    if (prec > FP_MAXDIG)
        prec = FP_MAXDIG;

    char c = conv | 32; /* f e g */
    bool strip = false;
    int e10 = 0;
    char dig[FP_MAXDIG + 2];
    if (c == 'g') {
        int p = prec ? prec : 1;
        if (v != 0)
            fp_digits(v, p, dig, &e10);
        if (e10 < -4 || e10 >= p) {
            c = 'e';
            prec = p - 1;
        } else {
            c = 'f';
            prec = p - 1 - e10;
        }
        strip = !(flags & F_HASH);
    }

    char body[FP_MAXDIG * 2 + 360];
    size_t n = 0;
    if (c == 'e') {
        int nd = prec + 1;
        if (v != 0)
            fp_digits(v, nd, dig, &e10);
        else {
            memset(dig, 0, (size_t)nd);
            e10 = 0;
        }
        body[n++] = (char)('0' + dig[0]);
        if (prec > 0 || (flags & F_HASH))
            body[n++] = '.';
        for (int i = 1; i < nd; i++)
            body[n++] = (char)('0' + dig[i]);
        if (strip && prec > 0) {
            while (body[n - 1] == '0')
                n--;
            if (body[n - 1] == '.')
                n--;
        }
        body[n++] = upper ? 'E' : 'e';
        body[n++] = e10 < 0 ? '-' : '+';
        int ae = e10 < 0 ? -e10 : e10;
        char eb[4];
        int en = 0;
        do {
            eb[en++] = (char)('0' + ae % 10);
            ae /= 10;
        } while (ae);
        if (en < 2)
            eb[en++] = '0';
        while (en)
            body[n++] = eb[--en];
    } else {
        /* %f: digits before the point = e10 + 1 (at least one "0") */
        int nd = 0;
        if (v != 0) {
            /* the exponent first (from unrounded digits), then exactly
             * the digits down to 10^-prec */
            fp_digits(v, 19, dig, &e10);
            nd = e10 + 1 + prec;
            if (nd > FP_MAXDIG) {
                /* huge numbers: digits beyond 19 are zeros anyway */
                nd = FP_MAXDIG;
            }
            if (nd > 0) {
                int e2;
                fp_digits(v, nd, dig, &e2);
                /* rounding carried into a new leading digit (9.99 -> 10.0):
                 * the digits are 1 and zeros, one place further left */
                e10 = e2;
            } else if (nd == 0) {
                /* value below the last shown digit: it may round up to it */
                long double unit = 1.0L;
                for (int i = 0; i < prec; i++)
                    unit /= 10.0L;
                if (v > unit / 2) {
                    dig[0] = 1;
                    nd = 1;
                    e10 = -prec;
                } else {
                    nd = 0;
                }
            }
        }
        int intdigits = e10 + 1;
        if (v == 0 || intdigits <= 0) {
            body[n++] = '0';
        } else {
            for (int i = 0; i < intdigits && n < sizeof body - FP_MAXDIG - 4; i++)
                body[n++] = (char)('0' + (i < nd ? dig[i] : 0));
        }
        if (prec > 0 || (flags & F_HASH))
            body[n++] = '.';
        for (int i = 0; i < prec; i++) {
            int idx = intdigits + i; /* index into dig */
            int d = (v != 0 && idx >= 0 && idx < nd) ? dig[idx] : 0;
            body[n++] = (char)('0' + d);
        }
        if (strip && prec > 0) {
            while (body[n - 1] == '0')
                n--;
            if (body[n - 1] == '.')
                n--;
        }
    }
    emit(o, flags, width, prefix, plen, 0, body, n);
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
              va_list ap)
{
    struct out o = {buf, size, 0};
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        const char *start = p++;
        int flags = 0;
        for (;; p++) {
            if (*p == '-') flags |= F_MINUS;
            else if (*p == '+') flags |= F_PLUS;
            else if (*p == ' ') flags |= F_SPACE;
            else if (*p == '#') flags |= F_HASH;
            else if (*p == '0') flags |= F_ZERO;
            else break;
        }
        int width = 0;
        if (*p == '*') {
            width = va_arg(args, int);
            if (width < 0) {
                flags |= F_MINUS;
                width = -width;
            }
            p++;
        } else {
            while (*p >= '0' && *p <= '9')
                width = width * 10 + (*p++ - '0');
        }
        int prec = -1;
        if (*p == '.') {
            p++;
            prec = 0;
            if (*p == '*') {
                prec = va_arg(args, int);
                if (prec < 0)
                    prec = -1;
                p++;
            } else {
                while (*p >= '0' && *p <= '9')
                    prec = prec * 10 + (*p++ - '0');
            }
        }
        if (flags & F_MINUS)
            flags &= ~F_ZERO;
        if (flags & F_PLUS)
            flags &= ~F_SPACE;
        /* length: 0 int, 1 char, 2 short, 3 long, 4 long long, 5 size_t,
         * 6 intmax_t, 7 ptrdiff_t */
        int len = 0;
        switch (*p) {
        case 'h':
            len = p[1] == 'h' ? 1 : 2;
            p += len == 1 ? 2 : 1;
            break;
        case 'l':
            len = p[1] == 'l' ? 4 : 3;
            p += len == 4 ? 2 : 1;
            break;
        case 'z': len = 5; p++; break;
        case 'j': len = 6; p++; break;
        case 't': len = 7; p++; break;
        case 'L': p++; break; /* long double: printed as double */
        }
        char conv = *p;
        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v;
            switch (len) {
            case 1: v = (signed char)va_arg(args, int); break;
            case 2: v = (short)va_arg(args, int); break;
            case 3: v = va_arg(args, long); break;
            case 4: v = va_arg(args, long long); break;
            case 5: v = va_arg(args, long); break; /* ssize_t */
            case 6: v = va_arg(args, int64_t); break;
            case 7: v = va_arg(args, ptrdiff_t); break;
            default: v = va_arg(args, int); break;
            }
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            fmt_int(&o, mag, v < 0, 10, false, flags, width, prec);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v;
            switch (len) {
            case 1: v = (unsigned char)va_arg(args, unsigned); break;
            case 2: v = (unsigned short)va_arg(args, unsigned); break;
            case 3: v = va_arg(args, unsigned long); break;
            case 4: v = va_arg(args, unsigned long long); break;
            case 5: v = va_arg(args, size_t); break;
            case 6: v = va_arg(args, uint64_t); break;
            case 7: v = (uint64_t)va_arg(args, ptrdiff_t); break;
            default: v = va_arg(args, unsigned); break;
            }
            int base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            fmt_int(&o, v, false, base, conv == 'X', flags & ~(F_PLUS | F_SPACE),
                    width, prec);
            break;
        }
        case 'p': {
            void *v = va_arg(args, void *);
            if (!v) {
                emit(&o, flags & ~F_ZERO, width, "", 0, 0, "(nil)", 5);
                break;
            }
            fmt_int(&o, (uintptr_t)v, false, 16, false, flags | F_HASH, width,
                    prec);
            break;
        }
        case 'c': {
            char c = (char)va_arg(args, int);
            emit(&o, flags & ~F_ZERO, width, "", 0, 0, &c, 1);
            break;
        }
        case 's': {
            const char *s = va_arg(args, const char *);
            if (!s)
                s = "(null)";
            size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            emit(&o, flags & ~F_ZERO, width, "", 0, 0, s, n);
            break;
        }
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
            fmt_fp(&o, va_arg(args, double), conv, flags, width, prec);
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            /* unknown (or %n): copy the directive literally */
            if (!conv)
                p--;
            put_n(&o, start, (size_t)(p - start + (conv ? 1 : 0)));
            break;
        }
    }
    va_end(args);
    if (size)
        buf[o.pos < size ? o.pos : size - 1] = 0;
    return o.pos > 0x7fffffff ? 0x7fffffff : (int)o.pos;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
{
    return vsnprintf(buf, (size_t)0x7fffffff, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, (size_t)0x7fffffff, fmt, ap);
    va_end(ap);
    return n;
}
