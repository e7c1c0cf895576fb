/* Benchmark kernel: quicksort of pseudo-random integers (compares,
 * swaps, recursion). Our own sort, so native and wasm do the same work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void isort(int32_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void qs(int32_t *a, int n)
{
    while (n > 16) {
        int32_t p = a[n / 2];
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i >= j) break;
            int32_t t = a[i]; a[i] = a[j]; a[j] = t;
            i++; j--;
        }
        qs(a, j + 1);
        a += j + 1;
        n -= j + 1;
    }
    isort(a, n);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000000;
    int32_t *a = malloc(sizeof(int32_t) * n);
    uint32_t x = 1;
    for (int i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        a[i] = (int32_t)(x % 1000000007u);
    }
    qs(a, n);
    uint64_t h = 0;
    for (int i = 0; i < n; i++) {
        if (i && a[i - 1] > a[i]) { printf("not sorted\n"); return 1; }
        h = h * 31 + (uint32_t)a[i];
    }
    printf("sort(%d): %016llx\n", n, (unsigned long long)h);
    return 0;
}
