/*
 * libFuzzer target: the pc platform's Multiboot2 information parser
 * (src/platform/pc/mb2.c) on arbitrary bytes, as a buggy or hostile boot
 * loader could hand them over. The parser must stay inside the buffer
 * (ASan), and what it accepts must hold together.
 */
#include "mb2.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the loader's information is 8-aligned; an exact-size heap copy lets
     * ASan see any read past the end */
    uint8_t *mbi = malloc(size ? size : 1);
    if (!mbi)
        return 0;
    memcpy(mbi, data, size);
    static struct nb_mb2_info out;
    const char *why = NULL;
    if (nb_mb2_parse(mbi, size, &out, &why) == 0) {
        if (out.nmmap == 0 || out.nmmap > NB_MB2_MAX_MMAP || out.nmods > NB_MB2_MAX_MODS ||
            out.rsdp_len > sizeof out.rsdp || memchr(out.cmdline, 0, sizeof out.cmdline) == NULL ||
            memchr(out.loader, 0, sizeof out.loader) == NULL)
            abort();
        for (unsigned i = 0; i < out.nmods; i++)
            if (out.mods[i].end <= out.mods[i].start)
                abort();
    } else if (!why || !*why) {
        abort(); /* a refusal always says why */
    }
    free(mbi);
    return 0;
}
