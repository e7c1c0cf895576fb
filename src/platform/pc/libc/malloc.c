/*
 * NeoBoot pc libc: malloc and friends over one global TLSF heap
 * (libc/heap.c). mm.c hands it every usable RAM range from the memory map
 * at boot; the heap never grows past them, so its size is its bound.
 * nb_platform_memstats reports from here.
 */
#include "heap.h"

#include <neoboot/platform.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct nb_heap heap;
static bool heap_ready;

void nb_pc_heap_add(void *base, size_t size);
void nb_pc_heap_print(void (*print)(void *arg, const char *line), void *arg);

void nb_pc_heap_add(void *base, size_t size)
{
    if (!heap_ready) {
        nb_heap_init(&heap);
        heap_ready = true;
    }
    nb_heap_add_region(&heap, base, size);
}

void *malloc(size_t size)
{
    return nb_heap_alloc(&heap, size ? size : 1, 0);
}

void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *realloc(void *p, size_t size)
{
    return nb_heap_realloc(&heap, p, size);
}

void free(void *p)
{
    nb_heap_free(&heap, p);
}

void *aligned_alloc(size_t align, size_t size)
{
    return nb_heap_alloc(&heap, size ? size : 1, align);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return 22; /* EINVAL */
    void *p = aligned_alloc(align, size);
    if (!p)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

void nb_platform_memstats(struct nb_memstats *out)
{
    struct nb_heap_stats st;
    nb_heap_stats(&heap, &st);
    out->total = st.total;
    out->used = st.used;
    out->peak = st.peak;
    out->allocs = st.allocs;
}

void nb_pc_heap_print(void (*print)(void *arg, const char *line), void *arg)
{
    struct nb_heap_stats st;
    char line[160];
    nb_heap_stats(&heap, &st);
    snprintf(line, sizeof line,
             "heap: %llu KiB total, %llu KiB used (peak %llu KiB), %llu allocs, "
             "%llu free blocks, largest free %llu KiB, %llu failed, %llu bad frees",
             (unsigned long long)st.total >> 10, (unsigned long long)st.used >> 10,
             (unsigned long long)st.peak >> 10, (unsigned long long)st.allocs,
             (unsigned long long)st.free_blocks,
             (unsigned long long)st.largest_free >> 10,
             (unsigned long long)st.failed, (unsigned long long)st.bad_free);
    print(arg, line);
}
