/* Test program: malloc/realloc/free, qsort, bsearch, a linked list. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    int v;
    struct node *next;
};

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    uint32_t x = 2463534242u;
    int n = 50000;
    int *a = malloc(sizeof *a * 10);
    for (int i = 0, cap = 10; i < n; i++) {
        if (i == cap) {
            cap *= 2;
            a = realloc(a, sizeof *a * cap);
        }
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        a[i] = (int)(x % 100000) - 50000;
    }
    qsort(a, n, sizeof *a, cmp_int);
    long long sum = 0;
    for (int i = 0; i < n; i++)
        sum += (long long)a[i] * (i % 7);
    printf("sorted: min %d max %d median %d weighted %lld\n", a[0], a[n - 1], a[n / 2], sum);
    int key = a[1234];
    int *hit = bsearch(&key, a, n, sizeof *a, cmp_int);
    printf("bsearch %d: %s\n", key, hit && *hit == key ? "found" : "missing");
    free(a);

    struct node *head = NULL;
    for (int i = 0; i < 1000; i++) {
        struct node *nd = malloc(sizeof *nd);
        nd->v = i * i;
        nd->next = head;
        head = nd;
    }
    long total = 0;
    while (head) {
        struct node *nx = head->next;
        total += head->v;
        free(head);
        head = nx;
    }
    printf("list total %ld\n", total);

    const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "date", "elderberry"};
    char *copy[7];
    for (int i = 0; i < 7; i++)
        copy[i] = strdup(words[i]);
    qsort(copy, 7, sizeof copy[0], cmp_str);
    for (int i = 0; i < 7; i++) {
        printf("%s%s", i ? " " : "", copy[i]);
        free(copy[i]);
    }
    printf("\n");
    /* Many small and large allocations. */
    void *blocks[256];
    size_t bytes = 0;
    for (int r = 0; r < 20; r++) {
        for (int i = 0; i < 256; i++) {
            size_t sz = (size_t)((i * 37 + r * 101) % 5000) + 1;
            blocks[i] = calloc(1, sz);
            ((char *)blocks[i])[sz - 1] = (char)i;
            bytes += sz;
        }
        for (int i = 0; i < 256; i++)
            free(blocks[i]);
    }
    printf("allocated %zu bytes in total\n", bytes);
    return 0;
}
