/* Benchmark kernel: string building (formatting numbers, copying,
 * searching): the work of a text protocol or a log formatter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t fmt_u(char *p, uint32_t v)
{
    char t[16];
    size_t n = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (size_t i = 0; i < n; i++) p[i] = t[n - 1 - i];
    return n;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 400;
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    uint64_t h = 0;
    for (int r = 0; r < rounds; r++) {
        size_t len = 0;
        for (uint32_t i = 0; len + 64 < cap; i++) {
            memcpy(buf + len, "key", 3); len += 3;
            len += fmt_u(buf + len, i * 2654435761u + (uint32_t)r);
            buf[len++] = '=';
            len += fmt_u(buf + len, i ^ (uint32_t)r);
            memcpy(buf + len, "; ", 2); len += 2;
        }
        buf[len] = 0;
        size_t count = 0;
        for (char *p = strchr(buf, '='); p; p = strchr(p + 1, '='))
            count++;
        for (size_t i = 0; i < len; i++)
            h = h * 131 + (unsigned char)buf[i];
        h += count;
        char line[64];
        snprintf(line, sizeof line, "%d:%zu", r, count);
        h += strlen(line);
    }
    printf("strbuild: %016llx\n", (unsigned long long)h);
    free(buf);
    return 0;
}
