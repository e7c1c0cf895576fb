/* Test program: printf formatting of integers, floats, strings, widths. */
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("argc=%d argv1=%s\n", argc, argc > 1 ? argv[1] : "(none)");
    printf("[%d] [%5d] [%-5d] [%05d] [%+d] [% d]\n", 42, 42, 42, 42, 42, 42);
    printf("[%i] [%u] [%x] [%X] [%o] [%#x] [%#o]\n", -7, 3000000000u, 0xbeef, 0xbeef, 8, 255, 8);
    printf("[%ld] [%lld] [%llu]\n", (long)INT_MIN, LLONG_MAX, ULLONG_MAX); /* long: 32 bits in wasm32 */
    printf("[%" PRId64 "] [%" PRIu64 "] [%" PRIx64 "]\n", INT64_MIN, UINT64_MAX, (uint64_t)1 << 63);
    printf("[%hd] [%hhu] [%zu] [%td]\n", (short)-1234, (unsigned char)300, sizeof(long long), (ptrdiff_t)-5);
    printf("[%f] [%.2f] [%10.3f] [%-10.1f] [%e] [%.3E] [%g] [%G]\n", 3.14159265358979, 2.675,
           -1.5, 1e10, 123456.789, 0.000123, 1e-5, 1e20);
    printf("[%.17g] [%.17g] [%.17g] [%a]\n", 0.1, 1.0 / 3.0, 2.0 / 3.0, 1.0);
    printf("[%g] [%g] [%g] [%f]\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0 * 0.0, -0.0);
    printf("[%s] [%10s] [%-10s] [%.3s] [%c] [%%]\n", "hello", "right", "left", "truncate", 'Z');
    printf("[%*d] [%-*d] [%.*f]\n", 6, 12, 6, 12, 3, 1.23456);
    double sum = 0;
    for (int i = 1; i <= 1000; i++)
        sum += 1.0 / i;
    printf("harmonic(1000) = %.15f\n", sum);
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%s-%d-%.1f", "truncated output here", 123456, 7.25);
    printf("snprintf -> %d \"%s\"\n", n, buf);
    return 0;
}
