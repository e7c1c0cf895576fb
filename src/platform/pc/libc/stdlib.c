/*
 * NeoBoot pc libc: number parsing, sorting and searching, abs.
 *
 * qsort is a heapsort: O(n log n) in the worst case, no recursion and no
 * allocation, which matters more on a fixed boot stack than the constant
 * factor does. The same file is compiled for the host, with names
 * prefixed, by the libc unit tests.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

int errno;

static int digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 32;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    return 99;
}

/*
 * The shared parser: magnitude in *mag (saturated at limit, with ERANGE),
 * sign in *neg. Returns false when no digits were found (end = s).
 */
static bool parse(const char *s, char **end, int base, unsigned long long limit,
                  unsigned long long *mag, bool *neg, bool *over_out)
{
    const char *p = s;
    while (*p == ' ' || (unsigned)*p - '\t' < 5)
        p++;
    *neg = false;
    if (*p == '+' || *p == '-')
        *neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' &&
        digit_value((unsigned char)p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    *over_out = false;
    if (base < 2 || base > 36) {
        errno = EINVAL;
        if (end)
            *end = (char *)s;
        *mag = 0;
        return false;
    }
    unsigned long long v = 0;
    bool any = false, over = false;
    for (;; p++) {
        int d = digit_value((unsigned char)*p);
        if (d >= base)
            break;
        any = true;
        if (!over) {
            if (v > (limit - (unsigned)d) / (unsigned)base) {
                over = true;
                v = limit;
            } else {
                v = v * (unsigned)base + (unsigned)d;
            }
        }
    }
    if (end)
        *end = (char *)(any ? p : s);
    if (over)
        errno = ERANGE;
    *over_out = over;
    *mag = any ? v : 0;
    return any;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
    unsigned long long mag;
    bool neg, over;
    parse(s, end, base, ULLONG_MAX, &mag, &neg, &over);
    if (over)
        return ULLONG_MAX;
    return neg ? 0 - mag : mag;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
    return strtoull(s, end, base);
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
    unsigned long long mag;
    bool neg, over;
    parse(s, end, base, ULLONG_MAX, &mag, &neg, &over);
    if (neg) {
        if (over || mag > (unsigned long long)LLONG_MAX + 1) {
            errno = ERANGE;
            return LLONG_MIN;
        }
        return (long long)(0 - mag);
    }
    if (over || mag > (unsigned long long)LLONG_MAX) {
        errno = ERANGE;
        return LLONG_MAX;
    }
    return (long long)mag;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
    return strtoll(s, end, base);
}

int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
long atol(const char *s) { return strtol(s, NULL, 10); }

int abs(int v) { return v < 0 ? -v : v; }
long labs(long v) { return v < 0 ? -v : v; }
long long llabs(long long v) { return v < 0 ? -v : v; }

static void swap_bytes(unsigned char *a, unsigned char *b, size_t n)
{
    while (n--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void sift_down(unsigned char *base, size_t size, size_t root, size_t n,
                      int (*cmp)(const void *, const void *))
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n &&
            cmp(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (cmp(base + root * size, base + child * size) >= 0)
            return;
        swap_bytes(base + root * size, base + child * size, size);
        root = child;
    }
}

void qsort(void *base, size_t n, size_t size,
           int (*cmp)(const void *, const void *))
{
    unsigned char *b = base;
    if (n < 2 || size == 0)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(b, size, i, n, cmp);
    for (size_t end = n - 1; end > 0; end--) {
        swap_bytes(b, b + end * size, size);
        sift_down(b, size, 0, end, cmp);
    }
}

void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *))
{
    const unsigned char *b = base;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp(key, b + mid * size);
        if (c == 0)
            return (void *)(b + mid * size);
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
