/* Test program: string handling and number parsing. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char text[] = "The quick brown fox, jumps over: the lazy dog; 42 times";
    char copy[sizeof text];
    strcpy(copy, text);
    int words = 0;
    for (char *t = strtok(copy, " ,:;"); t; t = strtok(NULL, " ,:;")) {
        words++;
        printf("[%s]", t);
    }
    printf("\nwords=%d len=%zu\n", words, strlen(text));
    printf("strstr: %s\n", strstr(text, "lazy"));
    printf("strchr: %s | strrchr: %s\n", strchr(text, 'o'), strrchr(text, 'o'));
    printf("strncmp: %d %d %d\n", strncmp("abc", "abd", 2) == 0, strcmp("a", "b") < 0,
           strcmp("b", "a") > 0);
    printf("spn: %zu %zu\n", strspn("aaabbbccc", "ab"), strcspn("hello world", " "));
    char buf[64];
    memset(buf, '.', sizeof buf);
    memcpy(buf, "0123456789", 10);
    memmove(buf + 2, buf, 8);
    buf[12] = 0;
    printf("memmove: %s\n", buf);
    for (char *p = text; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    printf("upper: %s\n", text);
    const char *nums[] = {"123", "-456", "0x1f", "077", "  +89xyz", "99999999999", "3.75e2",
                          "-0.001", "1e-310", "inf", "nan", "0x1.8p1"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char *end;
        long long l = strtoll(nums[i], &end, 0); /* long is 32-bit in wasm32 */
        double d = strtod(nums[i], NULL);
        printf("%-12s strtoll=%lld rest=\"%s\" strtod=%.17g atoi=%d\n", nums[i], l, end, d,
               atoi(nums[i]));
    }
    char line[128];
    int len = sprintf(line, "%s|%08.3f|%-6x|", "fmt", 3.14159, 0xabc);
    printf("sprintf(%d): %s\n", len, line);
    int a, b;
    char word[16];
    int got = sscanf("12 34 hello", "%d %d %15s", &a, &b, word);
    printf("sscanf: %d %d %d %s\n", got, a, b, word);
    return 0;
}
