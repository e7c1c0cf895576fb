/*
 * Symbolization for stack traces, from a table embedded in the image.
 *
 * The build links neoboot.elf twice: the first link uses symtab_empty.S;
 * gensyms.py then reads that link's function symbols with `nm` and writes
 * the sorted table (address, size, name offset) plus a string blob into the
 * .nbsyms section, and the second link replaces the empty table with it.
 * The section sits at the end of .rodata, after all code, so adding it
 * moves no function (gensyms.py --check verifies that on the final image).
 * No DWARF, no allocation: safe to use from an exception handler.
 */
#include "pc.h"

struct nb_pc_sym {
    uint64_t addr;
    uint32_t size;
    uint32_t name;   /* offset into nb_pc_symnames */
};

extern const uint64_t nb_pc_nsyms;
extern const struct nb_pc_sym nb_pc_syms[];
extern const char nb_pc_symnames[];

const char *nb_pc_symbolize(uint64_t addr, uint64_t *offset)
{
    uint64_t lo = 0, hi = nb_pc_nsyms;
    if (hi == 0 || addr < nb_pc_syms[0].addr)
        return NULL;
    /* last symbol with sym.addr <= addr */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (nb_pc_syms[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    const struct nb_pc_sym *s = &nb_pc_syms[lo];
    /* past the end of a sized symbol and of the text: not ours */
    if (s->size && addr >= s->addr + s->size && lo + 1 == nb_pc_nsyms)
        return NULL;
    *offset = addr - s->addr;
    return nb_pc_symnames + s->name;
}
