/* The hosted `neoboot` command. */
#include <neoboot/log.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: neoboot COMMAND [ARGS]\n");
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "neoboot: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
