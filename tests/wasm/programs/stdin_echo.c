/* Test program: reads stdin, reports per-line facts, exits with a status
 * computed from the input (checks fd_read, EOF and proc_exit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char line[256];
    int lines = 0;
    size_t bytes = 0;
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        bytes += n;
        if (n && line[n - 1] == '\n')
            line[--n] = 0;
        int vowels = 0;
        for (size_t i = 0; i < n; i++)
            vowels += strchr("aeiouAEIOU", line[i]) != NULL;
        printf("%3d: %-30s len=%zu vowels=%d\n", ++lines, line, n, vowels);
    }
    fprintf(stderr, "read %d lines\n", lines);
    printf("total %d lines, %zu bytes\n", lines, bytes);
    fflush(stdout);
    exit(lines % 256);
}
