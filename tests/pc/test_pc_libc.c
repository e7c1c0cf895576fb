/*
 * Unit tests for the pc platform's freestanding libc, compiled for the host
 * (names prefixed nbl_, see libc_rename.h) and checked against the host's
 * glibc as the reference: string functions, snprintf formatting, number
 * parsing, sorting, the libm subset (bit-exact, including signed zeros and
 * NaN quieting), and the TLSF heap under random alloc/free/realloc
 * sequences with overlap, content and coalescing checks.
 */
#define _GNU_SOURCE
#include "libc_host.h"

#include <errno.h>
#include <limits.h>
#include <sys/types.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/platform/pc/libc/heap.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int sign(int v) { return (v > 0) - (v < 0); }

/* ---- strings ---- */

static void test_mem(void **state)
{
    (void)state;
    uint8_t a[300], b[300], c[300];
    for (int iter = 0; iter < 2000; iter++) {
        for (size_t i = 0; i < sizeof a; i++)
            a[i] = b[i] = (uint8_t)rnd();
        size_t n = rnd() % 120, s = rnd() % 150, d = rnd() % 150;
        memmove(a + d, a + s, n);
        nbl_memmove(b + d, b + s, n);
        assert_memory_equal(a, b, sizeof a);
        memcpy(c, a, sizeof c);
        nbl_memcpy(c + (rnd() % 10), a + 150, n);
        memcpy(b, a, sizeof b);
        memcpy(b + (c - c), c, 0);
        int v = (int)(rnd() & 0xff);
        size_t off = rnd() % 100;
        memset(a + off, v, n);
        nbl_memset(b + off, v, n);
        assert_memory_equal(a + off, b + off, n);
    }
    const char x[] = "abcdef\0ghi", y[] = "abcdeg\0ghi";
    assert_int_equal(sign(nbl_memcmp(x, y, 6)), sign(memcmp(x, y, 6)));
    assert_int_equal(nbl_memcmp(x, y, 5), 0);
    assert_ptr_equal(nbl_memchr(x, 'd', 10), x + 3);
    assert_null(nbl_memchr(x, 'z', 10));
    assert_ptr_equal(nbl_memrchr("abcabc", 'b', 6), (const char *)"abcabc" + 4);
}

static void test_str(void **state)
{
    (void)state;
    const char *words[] = {"", "a", "ab", "abc", "abd", "b", "ABC", "abc\xff",
                           "hello world", "hello"};
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(nbl_strlen(words[i]), strlen(words[i]));
        for (size_t j = 0; j < 10; j++) {
            assert_int_equal(sign(nbl_strcmp(words[i], words[j])),
                             sign(strcmp(words[i], words[j])));
            for (size_t n = 0; n < 5; n++)
                assert_int_equal(sign(nbl_strncmp(words[i], words[j], n)),
                                 sign(strncmp(words[i], words[j], n)));
            assert_int_equal(sign(nbl_strcasecmp(words[i], words[j])),
                             sign(strcasecmp(words[i], words[j])));
            assert_ptr_equal(nbl_strstr(words[i], words[j]),
                             strstr(words[i], words[j]));
        }
    }
    const char *s = "key=value;x=y";
    assert_ptr_equal(nbl_strchr(s, '='), strchr(s, '='));
    assert_ptr_equal(nbl_strrchr(s, '='), strrchr(s, '='));
    assert_ptr_equal(nbl_strchr(s, 0), s + strlen(s));
    assert_null(nbl_strchr(s, '#'));
    assert_int_equal(nbl_strspn(s, "ekyv"), strspn(s, "ekyv"));
    assert_int_equal(nbl_strcspn(s, ";="), strcspn(s, ";="));
    assert_ptr_equal(nbl_strpbrk(s, ";="), strpbrk(s, ";="));
    assert_int_equal(nbl_strnlen(s, 4), 4);

    char buf[32];
    assert_int_equal(nbl_strlcpy(buf, "truncate me", 6), 11);
    assert_string_equal(buf, "trunc");
    nbl_strcpy(buf, "ab");
    nbl_strcat(buf, "cd");
    nbl_strncat(buf, "efgh", 2);
    assert_string_equal(buf, "abcdef");
    memset(buf, 'x', sizeof buf);
    nbl_strncpy(buf, "ab", 5);
    assert_memory_equal(buf, "ab\0\0\0x", 6);

    char tok[] = "  a,b,,c  ";
    char *save, *t;
    const char *want[] = {"a", "b", "c"};
    int n = 0;
    for (t = nbl_strtok_r(tok, " ,", &save); t; t = nbl_strtok_r(NULL, " ,", &save))
        assert_string_equal(t, want[n++]);
    assert_int_equal(n, 3);
    char *d = nbl_strdup("dup");
    assert_string_equal(d, "dup");
    free(d);
}

/* ---- printf ---- */

/* The cases below pass ints for %hh/%h and the like on purpose (that is
 * what the default promotions do); the compiler's format check would
 * reject the test, not the code. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"

#define CHECK_FMT(...)                                                     \
    do {                                                                   \
        char ours[256], ref[256];                                          \
        int n1 = nbl_snprintf(ours, sizeof ours, __VA_ARGS__);             \
        int n2 = snprintf(ref, sizeof ref, __VA_ARGS__);                   \
        if (n1 != n2 || strcmp(ours, ref) != 0)                            \
            fail_msg("format %s: got '%s' (%d), want '%s' (%d)", #__VA_ARGS__, \
                     ours, n1, ref, n2);                                   \
    } while (0)

static void test_printf_ints(void **state)
{
    (void)state;
    CHECK_FMT("%d %i %u", 0, -1, 4000000000u);
    CHECK_FMT("%d %d", INT32_MIN, INT32_MAX);
    CHECK_FMT("%ld %lu %lld %llu", LONG_MIN, ULONG_MAX, LLONG_MIN, ULLONG_MAX);
    CHECK_FMT("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
    CHECK_FMT("%zu %zd %jd %ju %td", (size_t)123, (ssize_t)-5, (intmax_t)-7,
              (uintmax_t)8, (ptrdiff_t)-9);
    CHECK_FMT("%x %X %o %#x %#X %#o %#o", 0xbeefu, 0xbeefu, 8u, 255u, 255u, 8u, 0u);
    CHECK_FMT("[%5d] [%-5d] [%05d] [%+d] [% d] [%+5d] [%-+5d]", 42, 42, 42, 42, 42, 42, 42);
    CHECK_FMT("[%.3d] [%8.3d] [%-8.3d] [%08.3d] [%.0d] [%.0x]", 7, 7, 7, 7, 0, 0u);
    CHECK_FMT("[%#.3o] [%#8x] [%#08x] [%-#8x]", 8u, 255u, 255u, 255u);
    CHECK_FMT("[%*d] [%-*d] [%.*d] [%*.*d]", 6, 1, 6, 1, 4, 1, 8, 3, -5);
    CHECK_FMT("[%05d] [%05d] [% 05d]", -42, 42, 42);
    CHECK_FMT("%c%c%c [%3c] [%-3c]", 'a', 'b', 'c', 'x', 'y');
    CHECK_FMT("%%d %% %5%");
}

static void test_printf_strings(void **state)
{
    (void)state;
    CHECK_FMT("[%s] [%10s] [%-10s] [%.2s] [%10.2s] [%-10.2s]", "hello", "hello",
              "hello", "hello", "hello", "hello");
    CHECK_FMT("[%s]", "");
    CHECK_FMT("%p %p", (void *)0x1234, (void *)&rng_state);
    CHECK_FMT("[%20p] [%-20p]", (void *)0xabcdef, (void *)0xabcdef);
    CHECK_FMT("%p", (void *)0);
    CHECK_FMT("%s", (char *)NULL);
    /* truncation keeps the full length in the return value */
    char small[6];
    assert_int_equal(nbl_snprintf(small, sizeof small, "%s-%d", "abcdef", 12345), 12);
    assert_string_equal(small, "abcde");
    assert_int_equal(nbl_snprintf(NULL, 0, "%d", 123456), 6);
    assert_int_equal(nbl_snprintf(small, 1, "xyz"), 3);
    assert_string_equal(small, "");
}

static void test_printf_floats(void **state)
{
    (void)state;
    CHECK_FMT("%f %f %f %f", 0.0, 1.0, -1.5, 3.14159265358979);
    CHECK_FMT("%.0f %.1f %.2f %.3f %.10f", 2.5, 0.05, 1.005, 123.4564, 1.0 / 3);
    CHECK_FMT("%e %E %.3e %.0e", 12345.678, 0.000123, 6.02214076e23, 5e-324);
    CHECK_FMT("%g %g %g %g %g %g", 0.0001, 123456.0, 1234567.0, 1e-5, 100.0, 0.5);
    CHECK_FMT("%G %.3g %#g %.10g", 1e-10, 3.14159, 1.0, 1.0 / 7);
    CHECK_FMT("[%10.3f] [%-10.3f] [%010.3f] [%+f] [% f]", 3.14159, 3.14159,
              -3.14159, 1.0, 1.0);
    CHECK_FMT("%f %f %e %g", INFINITY, -INFINITY, NAN, -0.0);
    CHECK_FMT("%F %E %G", INFINITY, NAN, -INFINITY);
    CHECK_FMT("%.3f %.6f %f", 999.9996, 0.0000005, 1e15);
    CHECK_FMT("%.2f %.1f", 0.004, 0.96);
    CHECK_FMT("%f", 123456789012.345);
    CHECK_FMT("%g %g", 1e100, 1.5e-300);
}

/* ---- numbers ---- */

static void test_strtol(void **state)
{
    (void)state;
    const char *in[] = {"0", "42", "-42", "+7", "  \t12abc", "0x1F", "0X1f", "017",
                        "0b1", "z", "", "-", "0x", "9223372036854775807",
                        "9223372036854775808", "-9223372036854775808",
                        "-9223372036854775809", "18446744073709551615",
                        "18446744073709551616", "-1", "123456789012345678901234"};
    int bases[] = {0, 10, 16, 8, 2, 36};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
            char *e1, *e2;
            errno = 0;
            nbl_errno = 0;
            long long v1 = nbl_strtoll(in[i], &e1, bases[b]);
            long long v2 = strtoll(in[i], &e2, bases[b]);
            assert_int_equal(v1, v2);
            assert_ptr_equal(e1, e2);
            assert_int_equal(nbl_errno == ERANGE, errno == ERANGE);
            errno = 0;
            nbl_errno = 0;
            unsigned long long u1 = nbl_strtoull(in[i], &e1, bases[b]);
            unsigned long long u2 = strtoull(in[i], &e2, bases[b]);
            assert_true(u1 == u2);
            assert_ptr_equal(e1, e2);
            assert_int_equal(nbl_errno == ERANGE, errno == ERANGE);
            assert_int_equal(nbl_strtol(in[i], NULL, bases[b]), strtol(in[i], NULL, bases[b]));
            assert_true(nbl_strtoul(in[i], NULL, bases[b]) == strtoul(in[i], NULL, bases[b]));
        }
    }
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void test_qsort(void **state)
{
    (void)state;
    for (int iter = 0; iter < 200; iter++) {
        size_t n = rnd() % 300;
        int v[300], w[300];
        for (size_t i = 0; i < n; i++)
            v[i] = w[i] = (int)(rnd() % 50) - 25;
        nbl_qsort(v, n, sizeof v[0], cmp_int);
        qsort(w, n, sizeof w[0], cmp_int);
        assert_memory_equal(v, w, n * sizeof v[0]);
        if (n) {
            int key = v[rnd() % n];
            int *hit = nbl_bsearch(&key, v, n, sizeof v[0], cmp_int);
            assert_non_null(hit);
            assert_int_equal(*hit, key);
        }
        int missing = 1000;
        assert_null(nbl_bsearch(&missing, v, n, sizeof v[0], cmp_int));
    }
}

/* ---- math: bit-exact against glibc ---- */

static uint64_t dbits(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static uint32_t fbits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }

static void same_d(const char *what, double x, double got, double want)
{
    if (isnan(want)) {
        if (!isnan(got) || !(dbits(got) & (1ull << 51)))
            fail_msg("%s(%a): got %a, want a quiet NaN", what, x, got);
        return;
    }
    if (dbits(got) != dbits(want))
        fail_msg("%s(%a): got %a, want %a", what, x, got, want);
}

static void same_f(const char *what, float x, float got, float want)
{
    if (isnan(want)) {
        if (!isnan(got) || !(fbits(got) & (1u << 22)))
            fail_msg("%s(%a): got %a, want a quiet NaN", what, (double)x, (double)got);
        return;
    }
    if (fbits(got) != fbits(want))
        fail_msg("%s(%a): got %a, want %a", what, (double)x, (double)got, (double)want);
}

/* fabs and copysign are bit operations: NaN payloads pass unchanged */
static void bits_d(const char *what, double x, double got, double want)
{
    if (dbits(got) != dbits(want))
        fail_msg("%s(%a): got %a, want %a", what, x, got, want);
}

static void bits_f(const char *what, float x, float got, float want)
{
    if (fbits(got) != fbits(want))
        fail_msg("%s(%a): got %a, want %a", what, (double)x, (double)got, (double)want);
}

static double rand_double(void)
{
    static const double special[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5,
                                     0.49999999999999994, 4503599627370495.5,
                                     4503599627370496.0, 9007199254740993.0,
                                     1e300, -1e-300, 5e-324, INFINITY, -INFINITY, NAN};
    uint64_t r = rnd();
    if (r % 4 == 0)
        return special[rnd() % (sizeof special / sizeof special[0])];
    if (r % 4 == 1) { /* values near integers */
        return (double)((int64_t)(rnd() % 2000) - 1000) / 4.0;
    }
    double d;
    uint64_t u = rnd();
    memcpy(&d, &u, 8);
    return d;
}

static void test_math(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        double x = rand_double(), y = rand_double();
        same_d("trunc", x, nbl_trunc(x), trunc(x));
        same_d("floor", x, nbl_floor(x), floor(x));
        same_d("ceil", x, nbl_ceil(x), ceil(x));
        same_d("rint", x, nbl_rint(x), rint(x));
        same_d("nearbyint", x, nbl_nearbyint(x), nearbyint(x));
        same_d("round", x, nbl_round(x), round(x));
        same_d("sqrt", x, nbl_sqrt(x), sqrt(x));
        bits_d("fabs", x, nbl_fabs(x), fabs(x));
        /* glibc's choice between -0 and +0 in fmin/fmax is arbitrary;
         * ours follows IEEE 754-2019 (-0 < +0), checked below */
        bool zeros = x == 0 && y == 0;
        if (!isnan(x) && !isnan(y)) {
            bits_d("copysign", x, nbl_copysign(x, y), copysign(x, y));
            if (!zeros) {
                same_d("fmin", x, nbl_fmin(x, y), fmin(x, y));
                same_d("fmax", x, nbl_fmax(x, y), fmax(x, y));
            }
        }
        assert_true(isnan(nbl_fmin(NAN, NAN)));
        same_d("fmin-nan", x, nbl_fmin(NAN, x), fmin(NAN, x));
        float f = (float)x, g = (float)y;
        uint32_t fu = (uint32_t)rnd();
        if (i % 3 == 0)
            memcpy(&f, &fu, 4);
        same_f("truncf", f, nbl_truncf(f), truncf(f));
        same_f("floorf", f, nbl_floorf(f), floorf(f));
        same_f("ceilf", f, nbl_ceilf(f), ceilf(f));
        same_f("rintf", f, nbl_rintf(f), rintf(f));
        same_f("nearbyintf", f, nbl_nearbyintf(f), nearbyintf(f));
        same_f("roundf", f, nbl_roundf(f), roundf(f));
        same_f("sqrtf", f, nbl_sqrtf(f), sqrtf(f));
        bits_f("fabsf", f, nbl_fabsf(f), fabsf(f));
        if (!isnan(f) && !isnan(g)) {
            bits_f("copysignf", f, nbl_copysignf(f, g), copysignf(f, g));
            if (!(f == 0 && g == 0)) {
                same_f("fminf", f, nbl_fminf(f, g), fminf(f, g));
                same_f("fmaxf", f, nbl_fmaxf(f, g), fmaxf(f, g));
            }
        }
        if (isfinite(x)) {
            int e1, e2;
            same_d("frexp", x, nbl_frexp(x, &e1), frexp(x, &e2));
            if (x != 0)
                assert_int_equal(e1, e2);
            int e = (int)(rnd() % 200) - 100;
            same_d("ldexp", x, nbl_ldexp(x, e), ldexp(x, e));
        }
    }
    /* the signed-zero cases wasm cares about, spelled out */
    same_d("fmin", -0.0, nbl_fmin(-0.0, 0.0), -0.0);
    same_d("fmin", 0.0, nbl_fmin(0.0, -0.0), -0.0);
    same_d("fmax", -0.0, nbl_fmax(-0.0, 0.0), 0.0);
    same_d("fmax", 0.0, nbl_fmax(0.0, -0.0), 0.0);
    same_f("fminf", 0.0f, nbl_fminf(0.0f, -0.0f), -0.0f);
    same_f("fmaxf", -0.0f, nbl_fmaxf(-0.0f, 0.0f), 0.0f);
    same_d("ceil", -0.5, nbl_ceil(-0.5), -0.0);
    same_d("rint", -0.5, nbl_rint(-0.5), -0.0);
    same_d("trunc", -0.9, nbl_trunc(-0.9), -0.0);
}

/* ---- the heap ---- */

#define ARENA (1u << 20)
#define SLOTS 512

struct live {
    uint8_t *p;
    size_t size;
    uint8_t fill;
};

static bool overlaps(const struct live *a, const struct live *b)
{
    return a->p < b->p + b->size && b->p < a->p + a->size;
}

static void check_fill(const struct live *l)
{
    for (size_t i = 0; i < l->size; i++)
        if (l->p[i] != l->fill)
            fail_msg("block %p (%zu bytes) corrupted at %zu", (void *)l->p, l->size, i);
}

static void test_heap_random(void **state)
{
    (void)state;
    static uint8_t arena_a[ARENA] __attribute__((aligned(16)));
    static uint8_t arena_b[ARENA / 4] __attribute__((aligned(16)));
    struct nb_heap h;
    nb_heap_init(&h);
    /* deliberately misaligned region starts */
    assert_int_equal(nb_heap_add_region(&h, arena_a + 3, sizeof arena_a - 3), 0);
    assert_int_equal(nb_heap_add_region(&h, arena_b + 8, sizeof arena_b - 8), 0);
    assert_true(nb_heap_check(&h));
    struct nb_heap_stats st0;
    nb_heap_stats(&h, &st0);

    struct live slots[SLOTS] = {{0}};
    unsigned ops = 0, fails = 0;
    for (int iter = 0; iter < 60000; iter++) {
        unsigned k = (unsigned)(rnd() % SLOTS);
        struct live *l = &slots[k];
        unsigned what = (unsigned)(rnd() % 10);
        if (l->p) {
            check_fill(l);
            if (what < 5) {
                nb_heap_free(&h, l->p);
                l->p = NULL;
            } else {
                size_t ns = rnd() % 4 ? rnd() % 512 + 1 : rnd() % 20000 + 1;
                uint8_t *q = nb_heap_realloc(&h, l->p, ns);
                if (!q) {
                    fails++;
                    check_fill(l); /* the old block is intact */
                    continue;
                }
                size_t keep = ns < l->size ? ns : l->size;
                for (size_t i = 0; i < keep; i++)
                    assert_int_equal(q[i], l->fill);
                l->p = q;
                l->size = ns;
                memset(q, l->fill, ns);
            }
        } else {
            size_t sz = rnd() % 8 ? rnd() % 256 + 1 : rnd() % 30000 + 1;
            size_t align = what == 0 ? (size_t)1 << (rnd() % 13) : 0;
            uint8_t *p = nb_heap_alloc(&h, sz, align);
            if (!p) {
                fails++;
                continue;
            }
            assert_int_equal((uintptr_t)p % 16, 0);
            if (align)
                assert_int_equal((uintptr_t)p % align, 0);
            assert_true(nb_heap_usable(p) >= sz);
            l->p = p;
            l->size = sz;
            l->fill = (uint8_t)rnd();
            memset(p, l->fill, sz);
            for (unsigned j = 0; j < SLOTS; j++)
                if (j != k && slots[j].p && overlaps(l, &slots[j]))
                    fail_msg("blocks %u and %u overlap", k, j);
        }
        ops++;
        if (iter % 97 == 0)
            assert_true(nb_heap_check(&h));
    }
    assert_true(nb_heap_check(&h));
    for (unsigned k = 0; k < SLOTS; k++) {
        if (slots[k].p) {
            check_fill(&slots[k]);
            nb_heap_free(&h, slots[k].p);
        }
    }
    /* everything freed: each region is one free block again (coalescing),
     * and the accounting is back where it started */
    struct nb_heap_stats st;
    nb_heap_stats(&h, &st);
    assert_true(nb_heap_check(&h));
    assert_int_equal(st.allocs, 0);
    assert_int_equal(st.used, st0.used);
    assert_int_equal(st.free_blocks, 2);
    assert_true(st.peak > st0.used);
    assert_true(ops > 50000);
    (void)fails;
}

static void test_heap_limits(void **state)
{
    (void)state;
    static uint8_t arena[64 * 1024] __attribute__((aligned(16)));
    struct nb_heap h;
    nb_heap_init(&h);
    assert_int_equal(nb_heap_add_region(&h, arena, 8), -1); /* too small */
    assert_int_equal(nb_heap_add_region(&h, arena, sizeof arena), 0);
    /* bounded: the heap never hands out more than it was given */
    assert_null(nb_heap_alloc(&h, sizeof arena, 0));
    assert_null(nb_heap_alloc(&h, SIZE_MAX, 0));
    assert_null(nb_heap_alloc(&h, 16, 3)); /* not a power of two */
    void *ps[4096];
    size_t n = 0;
    while (n < 4096 && (ps[n] = nb_heap_alloc(&h, 100, 0)))
        n++;
    assert_true(n > 400 && n < 4096);
    struct nb_heap_stats st;
    nb_heap_stats(&h, &st);
    assert_true(st.used <= st.total);
    assert_true(st.failed >= 3);
    /* free every other block: no coalescing possible, then the rest: one */
    for (size_t i = 0; i < n; i += 2)
        nb_heap_free(&h, ps[i]);
    assert_true(nb_heap_check(&h));
    nb_heap_stats(&h, &st);
    assert_true(st.free_blocks >= n / 2);
    for (size_t i = 1; i < n; i += 2)
        nb_heap_free(&h, ps[i]);
    nb_heap_stats(&h, &st);
    assert_int_equal(st.free_blocks, 1);
    assert_true(nb_heap_check(&h));
    /* a double free is refused and counted, never corrupts */
    void *p = nb_heap_alloc(&h, 64, 0);
    nb_heap_free(&h, p);
    nb_heap_free(&h, p);
    nb_heap_stats(&h, &st);
    assert_int_equal(st.bad_free, 1);
    assert_true(nb_heap_check(&h));
    /* realloc grows in place into a free neighbour */
    void *a = nb_heap_alloc(&h, 64, 0);
    void *b = nb_heap_realloc(&h, a, 4000);
    assert_ptr_equal(a, b);
    assert_null(nb_heap_realloc(&h, b, 0));
    assert_true(nb_heap_check(&h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem),
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_printf_ints),
        cmocka_unit_test(test_printf_strings),
        cmocka_unit_test(test_printf_floats),
        cmocka_unit_test(test_strtol),
        cmocka_unit_test(test_qsort),
        cmocka_unit_test(test_math),
        cmocka_unit_test(test_heap_random),
        cmocka_unit_test(test_heap_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
