/*
 * VIRTIO: the transport abstraction, split virtqueues, and the device
 * driver table.
 *
 * A transport (virtio_pci.c: modern virtio-pci with MSI-X or INTx;
 * virtio_mmio.c: virtio-mmio, modern or legacy, on an IOAPIC line) finds a
 * device, fills a struct nb_virtio_dev with its operations and calls
 * nb_virtio_probe(), which hands it to the driver registered for its device
 * type (NB_VIRTIO_DRIVER). Drivers (virtio_net.c) use only the operations
 * and the virtqueue calls here, so they do not know which transport they
 * sit on.
 *
 * Interrupts reach drivers through dev->queue_irq / dev->config_irq, which
 * run from the event loop (deferred, see pc.h), never in interrupt context.
 */
#ifndef NEOBOOT_PC_VIRTIO_H
#define NEOBOOT_PC_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Transport-independent feature bits */
#define VIRTIO_F_ANY_LAYOUT 27
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_VSOCK 19

struct nb_virtio_dev;
struct nb_virtq;

struct nb_virtio_transport_ops {
    /* Write 0 to status and wait (bounded) until the device reads back 0.
     * 0 or NB_ETIMEDOUT. Afterwards the device uses no driver memory. */
    int (*reset)(struct nb_virtio_dev *d);
    uint8_t (*get_status)(struct nb_virtio_dev *d);
    void (*set_status)(struct nb_virtio_dev *d, uint8_t status);
    /* All feature bits the device offers. */
    uint64_t (*get_features)(struct nb_virtio_dev *d);
    /* Tell the device which features the driver accepts. */
    void (*set_features)(struct nb_virtio_dev *d, uint64_t features);
    /* Copy device-specific configuration [off, off+len) into buf; retried
     * until the device's config generation is stable. */
    void (*read_config)(struct nb_virtio_dev *d, unsigned off, void *buf,
                        unsigned len);
    /* Largest size the device allows for queue idx; 0 if it has no such
     * queue. */
    unsigned (*queue_max)(struct nb_virtio_dev *d, unsigned idx);
    /* Give the device vq's size and ring addresses, route its interrupt,
     * and enable it. The rings stay the driver's memory; the device may use
     * them until the next reset. 0 or NB_E*. */
    int (*queue_setup)(struct nb_virtio_dev *d, struct nb_virtq *vq);
    /* Tell the device that vq has new available buffers. */
    void (*notify)(struct nb_virtio_dev *d, struct nb_virtq *vq);
    /* Allocate and route interrupts for nqueues queues plus config
     * changes. Called once per device, before the first queue_setup. */
    int (*irq_setup)(struct nb_virtio_dev *d, unsigned nqueues);
};

struct nb_virtio_dev {
    const struct nb_virtio_transport_ops *ops;
    void *transport;        /* the transport's own state */
    uint32_t device_type;   /* VIRTIO_ID_* */
    uint64_t features;      /* negotiated */
    bool legacy;            /* pre-1.0 device (virtio-mmio version 1) */
    char name[32];          /* "pci 00:03.0", "mmio 0xfeb00e00" */
    char irq_desc[32];      /* "msi-x", "gsi 16 level", ... */
    /* Set by the driver: queue q may have used buffers; config changed.
     * Called from the event loop. Spurious calls are allowed. */
    void (*queue_irq)(struct nb_virtio_dev *d, unsigned q);
    void (*config_irq)(struct nb_virtio_dev *d);
    void *driver_priv;
};

struct nb_virtio_driver {
    const char *name;
    uint32_t device_type;
    /* Take the device (it has been reset). 0 or NB_E*. */
    int (*probe)(struct nb_virtio_dev *d);
};

#define NB_VIRTIO_DRIVER(var) \
    static const struct nb_virtio_driver var \
        __attribute__((used, section("nb_virtio_drivers"), aligned(8)))

/* Find the driver for d->device_type and probe. 0, NB_ENODEV, or the
 * driver's error. */
int nb_virtio_probe(struct nb_virtio_dev *d);

/*
 * Reset, acknowledge, and agree on features: the device's offer AND
 * `wanted`. A modern device must accept VIRTIO_F_VERSION_1 (always added
 * to wanted here); on success the FEATURES_OK handshake has completed and
 * d->features holds the result. 0, NB_ENOTSUP or NB_EIO (status FAILED set).
 */
int nb_virtio_negotiate(struct nb_virtio_dev *d, uint64_t wanted);
void nb_virtio_driver_ok(struct nb_virtio_dev *d);
static inline bool nb_virtio_has(const struct nb_virtio_dev *d, unsigned bit)
{
    return (d->features >> bit) & 1;
}

/* ---- split virtqueues ---- */

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2

struct vring_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_used_elem {
    uint32_t id;
    uint32_t len;
};
struct vring_used {
    uint16_t flags;
    uint16_t idx;
    struct vring_used_elem ring[];
};
#define VRING_USED_F_NO_NOTIFY 1

struct nb_virtq {
    struct nb_virtio_dev *dev;
    unsigned index;
    uint16_t size;
    uint16_t num_free;
    uint16_t free_head;
    uint16_t last_used;      /* next used entry to consume */
    uint16_t avail_shadow;   /* our avail->idx before publishing */
    uint16_t pending_kick;   /* buffers added since the last kick */
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    void *mem;               /* one allocation: desc, avail, used */
    size_t mem_size;
    void **cookie;           /* per descriptor: what the driver gave */
    /* transport's per-queue data (notify address, MSI-X entry) */
    uintptr_t notify_addr;
    uint16_t msix_entry;
};

/*
 * Allocate rings for queue idx (size = min(device max, want), a power of
 * two) in the layout legacy devices require (used ring on its own 4 KiB
 * page), which modern devices accept too; then hand them to the device.
 * 0 or NB_E* (NB_ENOENT: no such queue).
 */
int nb_virtq_init(struct nb_virtio_dev *d, struct nb_virtq *vq, unsigned idx,
                  unsigned want);
/* Free the rings (after a device reset). Cookies are not touched. */
void nb_virtq_fini(struct nb_virtq *vq);
/* Ask the device for used-buffer interrupts on vq, or not
 * (VRING_AVAIL_F_NO_INTERRUPT: a hint the device may ignore). */
void nb_virtq_irq(struct nb_virtq *vq, bool on);

/* Queue one buffer (one descriptor); the device reads it, or writes it if
 * device_writes. cookie comes back from nb_virtq_get. 0 or NB_ENOSPC.
 * Not visible to the device until nb_virtq_kick. */
int nb_virtq_add(struct nb_virtq *vq, void *buf, uint32_t len,
                 bool device_writes, void *cookie);
/* Publish added buffers and notify the device unless it asked not to. */
void nb_virtq_kick(struct nb_virtq *vq);
/* Next buffer the device is done with: its cookie and the length it
 * wrote; NULL if none. */
void *nb_virtq_get(struct nb_virtq *vq, uint32_t *len);
/* Take back every buffer still queued (after a reset): returns cookies one
 * by one, NULL when none are left. */
void *nb_virtq_detach(struct nb_virtq *vq);

/* ---- transports ---- */

/* Find virtio-mmio devices from the kernel command line (microvm). */
void nb_pc_virtio_mmio_init(void);

#endif
