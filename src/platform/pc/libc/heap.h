/*
 * A TLSF-style heap (two-level segregated fit): O(1) malloc and free,
 * immediate coalescing of free neighbours through boundary tags, bounded
 * fragmentation, and exact accounting. It manages memory regions it is
 * given and never asks for more, so the heap's size is its bound.
 *
 * Used by libc/malloc.c on the pc platform (regions come from the e820
 * memory map) and by the host unit tests (regions are static arrays). Not
 * thread-safe: on pc there is one CPU and interrupt handlers never allocate.
 */
#ifndef NB_HEAP_H
#define NB_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_HEAP_ALIGN 16          /* every block and payload is 16-aligned */
#define NB_HEAP_SL_LOG2 4         /* 16 second-level lists per power of two */
#define NB_HEAP_FL_COUNT 48       /* first-level classes: up to 2^55 bytes */
#define NB_HEAP_MAX_REGIONS 16

struct nb_heap_block;

struct nb_heap_stats {
    uint64_t total;      /* bytes given to the heap (regions) */
    uint64_t used;       /* bytes in allocated blocks, headers included */
    uint64_t peak;       /* high-water mark of used */
    uint64_t allocs;     /* live allocations */
    uint64_t free_blocks;
    uint64_t largest_free; /* biggest allocatable payload right now */
    uint64_t failed;     /* requests that could not be met */
    uint64_t bad_free;   /* frees of blocks not in use (ignored) */
};

struct nb_heap {
    uint64_t fl_bitmap;
    uint32_t sl_bitmap[NB_HEAP_FL_COUNT];
    struct nb_heap_block *lists[NB_HEAP_FL_COUNT][1 << NB_HEAP_SL_LOG2];
    struct {
        void *base;
        size_t size;
    } regions[NB_HEAP_MAX_REGIONS];
    unsigned nregions;
    struct nb_heap_stats st;
};

void nb_heap_init(struct nb_heap *h);
/* Hand [base, base+size) to the heap. 0, or -1 if too small or too many. */
int nb_heap_add_region(struct nb_heap *h, void *base, size_t size);

/* align: 0 or a power of two (values <= 16 mean 16). NULL when out of
 * memory or for a bad alignment. */
void *nb_heap_alloc(struct nb_heap *h, size_t size, size_t align);
void nb_heap_free(struct nb_heap *h, void *p);
/* realloc semantics: grows in place when the next block is free. */
void *nb_heap_realloc(struct nb_heap *h, void *p, size_t size);
/* Usable bytes of an allocation (>= what was asked). */
size_t nb_heap_usable(const void *p);

void nb_heap_stats(const struct nb_heap *h, struct nb_heap_stats *out);
/* Walk every block and free list; true if all invariants hold (no two
 * adjacent free blocks, tags consistent, lists match, counts add up). */
bool nb_heap_check(const struct nb_heap *h);

#endif
