/*
 * VIRTIO common code: feature negotiation, the driver table, and split
 * virtqueues (see virtio.h).
 *
 * Virtqueue memory is ordinary heap memory; with the identity map its
 * address is its bus address. Each buffer is one descriptor, taken from a
 * free list threaded through the descriptors' `next` fields. Ordering: the
 * descriptor and avail ring entry are written before avail->idx (a
 * compiler barrier suffices on x86, whose stores are not reordered with
 * each other), and avail->idx is published before used->flags is read to
 * decide whether to notify (that store->load order needs a full fence).
 */
#include "virtio.h"

#include "pc.h"

#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(virtio);

extern const struct nb_virtio_driver __nb_virtio_drivers_start[],
    __nb_virtio_drivers_end[];

#define MAX_QUEUE_SIZE 1024

int nb_virtio_probe(struct nb_virtio_dev *d)
{
    for (const struct nb_virtio_driver *drv = __nb_virtio_drivers_start;
         drv < __nb_virtio_drivers_end; drv++) {
        if (drv->device_type == d->device_type)
            return drv->probe(d);
    }
    NB_INFO("%s: virtio device type %u: no driver", d->name, d->device_type);
    return NB_ENODEV;
}

int nb_virtio_negotiate(struct nb_virtio_dev *d, uint64_t wanted)
{
    int rc = d->ops->reset(d);
    if (rc)
        return rc;
    d->ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
    d->ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    uint64_t offered = d->ops->get_features(d);
    if (!d->legacy) {
        if (!(offered & (1ull << VIRTIO_F_VERSION_1))) {
            NB_ERROR("%s: device does not offer VIRTIO_F_VERSION_1", d->name);
            d->ops->set_status(d, VIRTIO_STATUS_FAILED);
            return NB_ENOTSUP;
        }
        wanted |= 1ull << VIRTIO_F_VERSION_1;
    } else {
        wanted &= 0xffffffffull; /* legacy: 32 feature bits */
    }
    d->features = offered & wanted;
    d->ops->set_features(d, d->features);
    if (d->legacy)
        return 0; /* legacy devices have no FEATURES_OK handshake */
    d->ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                              VIRTIO_STATUS_FEATURES_OK);
    if (!(d->ops->get_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
        NB_ERROR("%s: device refused features %#llx", d->name,
                 (unsigned long long)d->features);
        d->ops->set_status(d, VIRTIO_STATUS_FAILED);
        return NB_EIO;
    }
    return 0;
}

void nb_virtio_driver_ok(struct nb_virtio_dev *d)
{
    uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                VIRTIO_STATUS_DRIVER_OK;
    if (!d->legacy)
        s |= VIRTIO_STATUS_FEATURES_OK;
    d->ops->set_status(d, s);
}

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

int nb_virtq_init(struct nb_virtio_dev *d, struct nb_virtq *vq, unsigned idx,
                  unsigned want)
{
    unsigned max = d->ops->queue_max(d, idx);
    if (!max)
        return NB_ENOENT;
    unsigned size = 1;
    while (size * 2 <= max && size * 2 <= want && size * 2 <= MAX_QUEUE_SIZE)
        size *= 2;
    memset(vq, 0, sizeof *vq);
    vq->dev = d;
    vq->index = idx;
    vq->size = (uint16_t)size;
    size_t desc_sz = 16 * size;
    size_t avail_sz = 6 + 2 * size;
    size_t used_off = align_up(desc_sz + avail_sz, 4096);
    size_t used_sz = 6 + 8 * size;
    vq->mem_size = align_up(used_off + used_sz, 4096);
    vq->mem = aligned_alloc(4096, vq->mem_size);
    vq->cookie = calloc(size, sizeof *vq->cookie);
    if (!vq->mem || !vq->cookie) {
        free(vq->mem);
        free(vq->cookie);
        return NB_ENOMEM;
    }
    memset(vq->mem, 0, vq->mem_size);
    vq->desc = vq->mem;
    vq->avail = (struct vring_avail *)((char *)vq->mem + desc_sz);
    vq->used = (struct vring_used *)((char *)vq->mem + used_off);
    for (unsigned i = 0; i < size; i++)
        vq->desc[i].next = (uint16_t)(i + 1);
    vq->free_head = 0;
    vq->num_free = (uint16_t)size;
    int rc = d->ops->queue_setup(d, vq);
    if (rc) {
        nb_virtq_fini(vq);
        return rc;
    }
    return 0;
}

void nb_virtq_fini(struct nb_virtq *vq)
{
    free(vq->mem);
    free(vq->cookie);
    vq->mem = NULL;
    vq->cookie = NULL;
    vq->size = 0;
    vq->num_free = 0;
}

int nb_virtq_add(struct nb_virtq *vq, void *buf, uint32_t len,
                 bool device_writes, void *cookie)
{
    if (!vq->num_free)
        return NB_ENOSPC;
    uint16_t id = vq->free_head;
    struct vring_desc *dsc = &vq->desc[id];
    vq->free_head = dsc->next;
    vq->num_free--;
    dsc->addr = (uintptr_t)buf;
    dsc->len = len;
    dsc->flags = device_writes ? VRING_DESC_F_WRITE : 0;
    dsc->next = 0;
    vq->cookie[id] = cookie;
    vq->avail->ring[vq->avail_shadow % vq->size] = id;
    vq->avail_shadow++;
    vq->pending_kick++;
    return 0;
}

void nb_virtq_irq(struct nb_virtq *vq, bool on)
{
    *(volatile uint16_t *)&vq->avail->flags = on ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void nb_virtq_kick(struct nb_virtq *vq)
{
    if (!vq->pending_kick)
        return;
    __asm__ volatile("" ::: "memory");
    *(volatile uint16_t *)&vq->avail->idx = vq->avail_shadow;
    vq->pending_kick = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!(*(volatile uint16_t *)&vq->used->flags & VRING_USED_F_NO_NOTIFY))
        vq->dev->ops->notify(vq->dev, vq);
}

void *nb_virtq_get(struct nb_virtq *vq, uint32_t *len)
{
    uint16_t used_idx = *(volatile uint16_t *)&vq->used->idx;
    if (vq->last_used == used_idx)
        return NULL;
    __asm__ volatile("" ::: "memory"); /* read the entry after the index */
    struct vring_used_elem *e = &vq->used->ring[vq->last_used % vq->size];
    uint32_t id = e->id;
    if (len)
        *len = e->len;
    vq->last_used++;
    if (id >= vq->size)
        return NULL; /* a broken device; never index out of bounds */
    void *cookie = vq->cookie[id];
    vq->cookie[id] = NULL;
    vq->desc[id].next = vq->free_head;
    vq->free_head = (uint16_t)id;
    vq->num_free++;
    return cookie;
}

void *nb_virtq_detach(struct nb_virtq *vq)
{
    for (unsigned i = 0; i < vq->size; i++) {
        if (vq->cookie[i]) {
            void *c = vq->cookie[i];
            vq->cookie[i] = NULL;
            return c;
        }
    }
    return NULL;
}
