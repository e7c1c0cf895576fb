/*
 * Guest handles (see handles.h). The process-wide slot array grows on
 * demand up to NB_HANDLES_TOTAL; a handle is (generation << 16 | index)
 * with a 15-bit generation that is never 0, so handles are positive and
 * small forged numbers (< 65536) are never live.
 */
#include "handles.h"

#include <neoboot/err.h>
#include <neoboot/platform.h>

#include <stdlib.h>
#include <string.h>

struct slot {
    const struct nb_handles *owner; /* NULL: free */
    void *obj;
    uint16_t gen;
    uint8_t kind;
};

static struct slot *slots;
static uint32_t nslots, nused, hint;

void nb_handles_init(struct nb_handles *t, uint32_t limit)
{
    t->used = 0;
    t->limit = limit && limit <= NB_HANDLES_TOTAL ? limit : NB_HANDLES_TOTAL;
}

void nb_handles_fini(struct nb_handles *t)
{
    for (uint32_t i = 0; i < nslots && t->used; i++)
        if (slots[i].owner == t) {
            slots[i].owner = NULL;
            slots[i].obj = NULL;
            slots[i].kind = NB_H_FREE;
            t->used--;
            nused--;
        }
    t->used = 0;
}

static int32_t make(uint32_t idx, uint16_t gen)
{
    return (int32_t)((uint32_t)gen << NB_HANDLE_IDX_BITS | idx);
}

int32_t nb_handles_add(struct nb_handles *t, uint8_t kind, void *obj)
{
    if (t->used >= t->limit)
        return NB_EMFILE;
    if (nused == nslots) {
        if (nslots == NB_HANDLES_TOTAL)
            return NB_ENFILE;
        uint32_t n = nslots ? nslots * 2 : 64;
        if (n > NB_HANDLES_TOTAL)
            n = NB_HANDLES_TOTAL;
        struct slot *s = realloc(slots, n * sizeof *s);
        if (!s)
            return NB_ENOMEM;
        uint16_t seed = 0;
        nb_platform_entropy(&seed, sizeof seed);
        for (uint32_t i = nslots; i < n; i++) {
            s[i].owner = NULL;
            s[i].obj = NULL;
            s[i].kind = NB_H_FREE;
            s[i].gen = (uint16_t)((seed + i * 7919u) & 0x7FFF);
        }
        slots = s;
        nslots = n;
    }
    for (uint32_t k = 0; k < nslots; k++) {
        uint32_t i = (hint + k) % nslots;
        struct slot *s = &slots[i];
        if (s->owner)
            continue;
        s->gen = (uint16_t)((s->gen + 1) & 0x7FFF);
        if (s->gen == 0)
            s->gen = 1;
        s->owner = t;
        s->obj = obj;
        s->kind = kind;
        t->used++;
        nused++;
        hint = i + 1;
        return make(i, s->gen);
    }
    return NB_ENFILE;
}

static struct slot *lookup(const struct nb_handles *t, int32_t h, uint8_t kind)
{
    if (h <= 0)
        return NULL;
    uint32_t idx = (uint32_t)h & (NB_HANDLES_TOTAL - 1);
    uint32_t gen = (uint32_t)h >> NB_HANDLE_IDX_BITS;
    if (idx >= nslots)
        return NULL;
    struct slot *s = &slots[idx];
    if (s->owner != t || s->gen != gen || (kind && s->kind != kind))
        return NULL;
    return s;
}

void *nb_handles_get(const struct nb_handles *t, int32_t h, uint8_t kind)
{
    struct slot *s = lookup(t, h, kind);
    return s ? s->obj : NULL;
}

void *nb_handles_remove(struct nb_handles *t, int32_t h, uint8_t kind)
{
    struct slot *s = lookup(t, h, kind);
    if (!s)
        return NULL;
    void *obj = s->obj;
    s->owner = NULL;
    s->obj = NULL;
    s->kind = NB_H_FREE;
    t->used--;
    nused--;
    return obj;
}

void nb_handles_foreach(struct nb_handles *t,
                        void (*fn)(void *arg, int32_t h, uint8_t kind, void *obj),
                        void *arg)
{
    for (uint32_t i = 0; i < nslots; i++)
        if (slots[i].owner == t)
            fn(arg, make(i, slots[i].gen), slots[i].kind, slots[i].obj);
}
