/* Test app for chaining: takes some memory (a grown linear memory, so a
 * leaked instance would show in the host's heap), says it runs, then
 * sleeps until it is stopped or replaced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    size_t n = 1u << 20;
    unsigned char *p = malloc(n);
    if (!p)
        return 2;
    memset(p, 0xa5, n);
    printf("hold: %s running (%zu KiB taken)\n", argc ? argv[0] : "?", n >> 10);
    fflush(stdout);
    for (;;)
        sleep(3600);
}
