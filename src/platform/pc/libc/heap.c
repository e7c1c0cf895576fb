/*
 * The TLSF-style heap (see heap.h for what and why).
 *
 * Block layout: a 16-byte header {size|flags, prev_size} followed by the
 * payload. size counts the whole block (header included) and is a multiple
 * of 16; bit 0 says "in use". prev_size is the size of the physically
 * previous block (0 for the first block of a region), so both neighbours
 * are reachable in O(1) and a freed block merges with them at once. Each
 * region ends with a 16-byte in-use sentinel, so merging never runs off the
 * end. Free blocks keep their list links in the payload, hence the 32-byte
 * minimum block.
 *
 * Free blocks are filed by size class: first level = power of two, second
 * level = 16 linear steps inside it; two bitmaps find a non-empty class of
 * sufficient size with two bit scans (good fit, bounded waste).
 */
#include "heap.h"

#include <string.h>

#define USED 1ull
#define HDR 16u
#define MIN_BLOCK 32u
#define SL_COUNT (1u << NB_HEAP_SL_LOG2)
/* sizes below this go to first level 0, linearly in 16-byte steps */
#define SMALL (SL_COUNT * NB_HEAP_ALIGN)

struct nb_heap_block {
    uint64_t size_flags;
    uint64_t prev_size;
    /* payload; when free: */
    struct nb_heap_block *next_free, *prev_free;
};

static inline size_t bsize(const struct nb_heap_block *b)
{
    return (size_t)(b->size_flags & ~(uint64_t)(NB_HEAP_ALIGN - 1));
}
static inline bool bused(const struct nb_heap_block *b)
{
    return b->size_flags & USED;
}
static inline struct nb_heap_block *bnext(const struct nb_heap_block *b)
{
    return (struct nb_heap_block *)((char *)b + bsize(b));
}
static inline struct nb_heap_block *bprev(const struct nb_heap_block *b)
{
    return b->prev_size ? (struct nb_heap_block *)((char *)b - b->prev_size)
                        : NULL;
}
static inline void *payload(struct nb_heap_block *b) { return (char *)b + HDR; }
static inline struct nb_heap_block *from_payload(const void *p)
{
    return (struct nb_heap_block *)((char *)p - HDR);
}

static inline void set_size(struct nb_heap_block *b, size_t size, bool used)
{
    b->size_flags = (uint64_t)size | (used ? USED : 0);
    bnext(b)->prev_size = size;
}

static inline int fls64(uint64_t v) { return 63 - __builtin_clzll(v); }

static void mapping(size_t size, int *fl, int *sl)
{
    if (size < SMALL) {
        *fl = 0;
        *sl = (int)(size / NB_HEAP_ALIGN);
    } else {
        int f = fls64(size);
        *sl = (int)((size >> (f - NB_HEAP_SL_LOG2)) ^ SL_COUNT);
        *fl = f - (fls64(SMALL) - 1);
    }
}

/* Round a request up so that any block in its class is big enough. */
static size_t round_for_search(size_t size)
{
    if (size >= SMALL)
        size += ((size_t)1 << (fls64(size) - NB_HEAP_SL_LOG2)) - 1;
    return size;
}

static void list_insert(struct nb_heap *h, struct nb_heap_block *b)
{
    int fl, sl;
    mapping(bsize(b), &fl, &sl);
    struct nb_heap_block *head = h->lists[fl][sl];
    b->next_free = head;
    b->prev_free = NULL;
    if (head)
        head->prev_free = b;
    h->lists[fl][sl] = b;
    h->fl_bitmap |= 1ull << fl;
    h->sl_bitmap[fl] |= 1u << sl;
    h->st.free_blocks++;
}

static void list_remove(struct nb_heap *h, struct nb_heap_block *b)
{
    int fl, sl;
    mapping(bsize(b), &fl, &sl);
    if (b->prev_free)
        b->prev_free->next_free = b->next_free;
    else
        h->lists[fl][sl] = b->next_free;
    if (b->next_free)
        b->next_free->prev_free = b->prev_free;
    if (!h->lists[fl][sl]) {
        h->sl_bitmap[fl] &= ~(1u << sl);
        if (!h->sl_bitmap[fl])
            h->fl_bitmap &= ~(1ull << fl);
    }
    h->st.free_blocks--;
}

static struct nb_heap_block *find_free(struct nb_heap *h, size_t size)
{
    int fl, sl;
    size_t s = round_for_search(size);
    if (s < size)
        return NULL;
    mapping(s, &fl, &sl);
    if (fl >= NB_HEAP_FL_COUNT)
        return NULL;
    uint32_t slmap = h->sl_bitmap[fl] & (~0u << sl);
    if (!slmap) {
        uint64_t flmap = fl + 1 < 64 ? h->fl_bitmap & (~0ull << (fl + 1)) : 0;
        if (!flmap)
            return NULL;
        fl = __builtin_ctzll(flmap);
        slmap = h->sl_bitmap[fl];
    }
    sl = __builtin_ctz(slmap);
    return h->lists[fl][sl];
}

/* Free block b (not in a list) absorbs free neighbours, then is filed. */
static void release(struct nb_heap *h, struct nb_heap_block *b)
{
    struct nb_heap_block *n = bnext(b);
    if (!bused(n)) {
        list_remove(h, n);
        set_size(b, bsize(b) + bsize(n), false);
    }
    struct nb_heap_block *p = bprev(b);
    if (p && !bused(p)) {
        list_remove(h, p);
        set_size(p, bsize(p) + bsize(b), false);
        b = p;
    }
    set_size(b, bsize(b), false);
    list_insert(h, b);
}

/* Cut used block b down to size, releasing the tail if it can stand alone. */
static void trim(struct nb_heap *h, struct nb_heap_block *b, size_t size)
{
    size_t have = bsize(b);
    if (have - size < MIN_BLOCK)
        return;
    set_size(b, size, true);
    struct nb_heap_block *rest = bnext(b);
    rest->prev_size = size;
    set_size(rest, have - size, false);
    release(h, rest);
}

void nb_heap_init(struct nb_heap *h)
{
    memset(h, 0, sizeof *h);
}

int nb_heap_add_region(struct nb_heap *h, void *base, size_t size)
{
    uintptr_t start = ((uintptr_t)base + NB_HEAP_ALIGN - 1) &
                      ~(uintptr_t)(NB_HEAP_ALIGN - 1);
    uintptr_t end = ((uintptr_t)base + size) & ~(uintptr_t)(NB_HEAP_ALIGN - 1);
    if (h->nregions >= NB_HEAP_MAX_REGIONS || end <= start ||
        end - start < MIN_BLOCK + HDR)
        return -1;
    size_t len = end - start;
    struct nb_heap_block *first = (struct nb_heap_block *)start;
    struct nb_heap_block *sentinel = (struct nb_heap_block *)(end - HDR);
    first->prev_size = 0;
    sentinel->size_flags = USED; /* size 0: nothing follows */
    set_size(first, len - HDR, false);
    list_insert(h, first);
    h->regions[h->nregions].base = (void *)start;
    h->regions[h->nregions].size = len;
    h->nregions++;
    h->st.total += len;
    /* the sentinel header is permanent overhead */
    h->st.used += HDR;
    if (h->st.used > h->st.peak)
        h->st.peak = h->st.used;
    return 0;
}

static size_t block_size_for(size_t size)
{
    if (size > SIZE_MAX / 2)
        return 0;
    size_t s = (size + HDR + NB_HEAP_ALIGN - 1) & ~(size_t)(NB_HEAP_ALIGN - 1);
    return s < MIN_BLOCK ? MIN_BLOCK : s;
}

static void account_alloc(struct nb_heap *h, struct nb_heap_block *b)
{
    h->st.used += bsize(b);
    h->st.allocs++;
    if (h->st.used > h->st.peak)
        h->st.peak = h->st.used;
}

void *nb_heap_alloc(struct nb_heap *h, size_t size, size_t align)
{
    size_t need = block_size_for(size);
    if (!need || (align & (align - 1))) {
        h->st.failed++;
        return NULL;
    }
    if (align <= NB_HEAP_ALIGN) {
        struct nb_heap_block *b = find_free(h, need);
        if (!b) {
            h->st.failed++;
            return NULL;
        }
        list_remove(h, b);
        set_size(b, bsize(b), true);
        trim(h, b, need);
        account_alloc(h, b);
        return payload(b);
    }
    if (align > ((size_t)1 << 40)) {
        h->st.failed++;
        return NULL;
    }
    /* Over-allocate so an aligned payload with a free-standing lead block
     * (>= MIN_BLOCK) fits anywhere inside. */
    struct nb_heap_block *b = find_free(h, need + align + MIN_BLOCK);
    if (!b) {
        h->st.failed++;
        return NULL;
    }
    list_remove(h, b);
    uintptr_t pay = (uintptr_t)payload(b);
    uintptr_t aligned = (pay + align - 1) & ~(uintptr_t)(align - 1);
    while (aligned != pay && aligned - pay < MIN_BLOCK)
        aligned += align;
    size_t lead = aligned - pay;
    if (lead) {
        /* split off the lead as its own free block */
        size_t total = bsize(b);
        struct nb_heap_block *nb = (struct nb_heap_block *)((char *)b + lead);
        set_size(b, lead, false);
        nb->prev_size = lead;
        set_size(nb, total - lead, true);
        release(h, b);
        b = nb;
    } else {
        set_size(b, bsize(b), true);
    }
    trim(h, b, need);
    account_alloc(h, b);
    return payload(b);
}

void nb_heap_free(struct nb_heap *h, void *p)
{
    if (!p)
        return;
    struct nb_heap_block *b = from_payload(p);
    if (!bused(b)) { /* double free (or a wild pointer): never corrupt */
        h->st.bad_free++;
        return;
    }
    h->st.used -= bsize(b);
    h->st.allocs--;
    set_size(b, bsize(b), false);
    release(h, b);
}

size_t nb_heap_usable(const void *p)
{
    return bsize(from_payload(p)) - HDR;
}

void *nb_heap_realloc(struct nb_heap *h, void *p, size_t size)
{
    if (!p)
        return nb_heap_alloc(h, size, 0);
    if (size == 0) {
        nb_heap_free(h, p);
        return NULL;
    }
    size_t need = block_size_for(size);
    if (!need) {
        h->st.failed++;
        return NULL;
    }
    struct nb_heap_block *b = from_payload(p);
    size_t have = bsize(b);
    if (need <= have) {
        h->st.used -= have;
        trim(h, b, need);
        h->st.used += bsize(b);
        return p;
    }
    struct nb_heap_block *n = bnext(b);
    if (!bused(n) && have + bsize(n) >= need) {
        list_remove(h, n);
        h->st.used -= have;
        set_size(b, have + bsize(n), true);
        trim(h, b, need);
        h->st.used += bsize(b);
        if (h->st.used > h->st.peak)
            h->st.peak = h->st.used;
        return p;
    }
    void *q = nb_heap_alloc(h, size, 0);
    if (!q)
        return NULL;
    memcpy(q, p, have - HDR);
    nb_heap_free(h, p);
    return q;
}

void nb_heap_stats(const struct nb_heap *h, struct nb_heap_stats *out)
{
    *out = h->st;
    out->largest_free = 0;
    if (h->fl_bitmap) {
        int fl = fls64(h->fl_bitmap);
        int sl = fls64(h->sl_bitmap[fl]);
        for (const struct nb_heap_block *b = h->lists[fl][sl]; b; b = b->next_free)
            if (bsize(b) - HDR > out->largest_free)
                out->largest_free = bsize(b) - HDR;
    }
}

bool nb_heap_check(const struct nb_heap *h)
{
    uint64_t used = 0, free_blocks = 0, allocs = 0, total = 0;
    for (unsigned r = 0; r < h->nregions; r++) {
        const struct nb_heap_block *b = h->regions[r].base;
        const char *end = (const char *)h->regions[r].base + h->regions[r].size;
        total += h->regions[r].size;
        uint64_t prev = 0;
        bool prev_free = false;
        for (;;) {
            if ((uintptr_t)b % NB_HEAP_ALIGN || (const char *)b + HDR > end)
                return false;
            if (b->prev_size != prev)
                return false;
            size_t s = bsize(b);
            if (s == 0) { /* the sentinel */
                if ((const char *)b + HDR != end || !bused(b))
                    return false;
                used += HDR;
                break;
            }
            if (s < MIN_BLOCK || (const char *)b + s > end - HDR)
                return false;
            if (bused(b)) {
                used += s;
                allocs++;
                prev_free = false;
            } else {
                if (prev_free) /* two free neighbours: not coalesced */
                    return false;
                prev_free = true;
                free_blocks++;
                /* must be in the list of its class */
                int fl, sl;
                mapping(s, &fl, &sl);
                const struct nb_heap_block *f = h->lists[fl][sl];
                while (f && f != b)
                    f = f->next_free;
                if (!f)
                    return false;
            }
            prev = s;
            b = (const struct nb_heap_block *)((const char *)b + s);
        }
    }
    /* every listed block is free and the bitmaps match the lists */
    uint64_t listed = 0;
    for (int fl = 0; fl < NB_HEAP_FL_COUNT; fl++) {
        for (unsigned sl = 0; sl < SL_COUNT; sl++) {
            const struct nb_heap_block *f = h->lists[fl][sl];
            bool bit = (h->sl_bitmap[fl] >> sl) & 1;
            if (bit != (f != NULL))
                return false;
            for (const struct nb_heap_block *prevf = NULL; f; prevf = f, f = f->next_free) {
                if (bused(f) || f->prev_free != prevf)
                    return false;
                int a, c;
                mapping(bsize(f), &a, &c);
                if (a != fl || (unsigned)c != sl)
                    return false;
                listed++;
            }
        }
        if (((h->fl_bitmap >> fl) & 1) != (h->sl_bitmap[fl] != 0))
            return false;
    }
    return listed == free_blocks && free_blocks == h->st.free_blocks &&
           used == h->st.used && allocs == h->st.allocs && total == h->st.total;
}
