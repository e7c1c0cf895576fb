/*
 * The virtio-mmio transport, for QEMU's microvm (which has no PCI).
 *
 * Devices are found two ways. With ACPI (microvm's default), the DSDT
 * describes every transport as a device with _HID "LNRO0005" and a _CRS of
 * one Memory32Fixed and one extended Interrupt descriptor; these are found
 * by scanning the AML for that pattern (QEMU generates exactly this shape;
 * no AML interpreter needed). Without ACPI (microvm,acpi=off) QEMU instead
 * appends one `virtio_mmio.device=<size>@<base>:<irq>` per plugged device
 * to the kernel command line (Linux's syntax; sizes may carry K/M). Both
 * register layouts are driven: version 2 (VIRTIO 1.x, what QEMU gives with
 * -global virtio-mmio.force-legacy=false) and version 1 (legacy, QEMU's
 * default), which differs in queue setup (one page-aligned ring area given
 * by page frame number) and has no FEATURES_OK handshake. The interrupt is
 * an IOAPIC input, level-triggered: the handler reads InterruptStatus and
 * acknowledges it, which drops the line.
 */
#include "pc.h"
#include "virtio.h"

#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(virtio_mmio);

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_VENDOR 0x00c
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_GUEST_PAGE_SIZE 0x028 /* legacy */
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_ALIGN 0x03c     /* legacy */
#define R_QUEUE_PFN 0x040       /* legacy */
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC 0x080
#define R_QUEUE_DRIVER 0x090
#define R_QUEUE_DEVICE 0x0a0
#define R_CONFIG_GEN 0x0fc
#define R_CONFIG 0x100

#define MAGIC 0x74726976 /* "virt" */
#define MAX_MMIO_DEVS 8

struct vmmio {
    struct nb_virtio_dev vdev;
    uintptr_t base;
    unsigned gsi;
    unsigned nqueues;
    bool irq_ready;
};

static struct vmmio *to_vm(struct nb_virtio_dev *d) { return d->transport; }
static uint32_t rd(struct vmmio *vm, unsigned r) { return mmio_read32(vm->base + r); }
static void wr(struct vmmio *vm, unsigned r, uint32_t v) { mmio_write32(vm->base + r, v); }

static int vm_reset(struct nb_virtio_dev *d)
{
    struct vmmio *vm = to_vm(d);
    wr(vm, R_STATUS, 0);
    for (int i = 0; i < 10000; i++) {
        if (rd(vm, R_STATUS) == 0)
            return 0;
        nb_pc_udelay(100);
    }
    return NB_ETIMEDOUT;
}

static uint8_t vm_get_status(struct nb_virtio_dev *d)
{
    return (uint8_t)rd(to_vm(d), R_STATUS);
}

static void vm_set_status(struct nb_virtio_dev *d, uint8_t s)
{
    wr(to_vm(d), R_STATUS, s);
}

static uint64_t vm_get_features(struct nb_virtio_dev *d)
{
    struct vmmio *vm = to_vm(d);
    wr(vm, R_DEV_FEATURES_SEL, 0);
    uint64_t lo = rd(vm, R_DEV_FEATURES);
    wr(vm, R_DEV_FEATURES_SEL, 1);
    uint64_t hi = rd(vm, R_DEV_FEATURES);
    return hi << 32 | lo;
}

static void vm_set_features(struct nb_virtio_dev *d, uint64_t f)
{
    struct vmmio *vm = to_vm(d);
    wr(vm, R_DRV_FEATURES_SEL, 0);
    wr(vm, R_DRV_FEATURES, (uint32_t)f);
    wr(vm, R_DRV_FEATURES_SEL, 1);
    wr(vm, R_DRV_FEATURES, (uint32_t)(f >> 32));
}

static void vm_read_config(struct nb_virtio_dev *d, unsigned off, void *buf,
                           unsigned len)
{
    struct vmmio *vm = to_vm(d);
    uint8_t *out = buf;
    for (int tries = 0; tries < 100; tries++) {
        uint32_t gen = d->legacy ? 0 : rd(vm, R_CONFIG_GEN);
        for (unsigned i = 0; i < len; i++)
            out[i] = mmio_read8(vm->base + R_CONFIG + off + i);
        if (d->legacy || rd(vm, R_CONFIG_GEN) == gen)
            return;
    }
}

static unsigned vm_queue_max(struct nb_virtio_dev *d, unsigned idx)
{
    struct vmmio *vm = to_vm(d);
    wr(vm, R_QUEUE_SEL, idx);
    return rd(vm, R_QUEUE_NUM_MAX);
}

static int vm_queue_setup(struct nb_virtio_dev *d, struct nb_virtq *vq)
{
    struct vmmio *vm = to_vm(d);
    wr(vm, R_QUEUE_SEL, vq->index);
    wr(vm, R_QUEUE_NUM, vq->size);
    if (d->legacy) {
        wr(vm, R_GUEST_PAGE_SIZE, 4096);
        wr(vm, R_QUEUE_ALIGN, 4096);
        wr(vm, R_QUEUE_PFN, (uint32_t)((uintptr_t)vq->mem >> 12));
        return 0;
    }
    uint64_t a[3] = {(uintptr_t)vq->desc, (uintptr_t)vq->avail,
                     (uintptr_t)vq->used};
    unsigned regs[3] = {R_QUEUE_DESC, R_QUEUE_DRIVER, R_QUEUE_DEVICE};
    for (int i = 0; i < 3; i++) {
        wr(vm, regs[i], (uint32_t)a[i]);
        wr(vm, regs[i] + 4, (uint32_t)(a[i] >> 32));
    }
    wr(vm, R_QUEUE_READY, 1);
    return 0;
}

static void vm_notify(struct nb_virtio_dev *d, struct nb_virtq *vq)
{
    wr(to_vm(d), R_QUEUE_NOTIFY, vq->index);
}

static void vm_irq(void *arg)
{
    struct vmmio *vm = arg;
    struct nb_virtio_dev *d = &vm->vdev;
    uint32_t st = rd(vm, R_INT_STATUS);
    wr(vm, R_INT_ACK, st);
    if ((st & 2) && d->config_irq)
        d->config_irq(d);
    if ((st & 1) && d->queue_irq)
        for (unsigned q = 0; q < vm->nqueues; q++)
            d->queue_irq(d, q);
}

static int vm_irq_setup(struct nb_virtio_dev *d, unsigned nqueues)
{
    struct vmmio *vm = to_vm(d);
    vm->nqueues = nqueues;
    if (vm->irq_ready)
        return 0;
    int vec = nb_pc_irq_alloc(vm_irq, vm, d->name);
    if (vec < 0)
        return vec;
    int rc = nb_pc_irq_route_gsi(vm->gsi, vec, true, false);
    if (rc)
        return rc;
    vm->irq_ready = true;
    snprintf(d->irq_desc, sizeof d->irq_desc, "gsi %u level", vm->gsi);
    return 0;
}

static const struct nb_virtio_transport_ops vm_ops = {
    .reset = vm_reset,
    .get_status = vm_get_status,
    .set_status = vm_set_status,
    .get_features = vm_get_features,
    .set_features = vm_set_features,
    .read_config = vm_read_config,
    .queue_max = vm_queue_max,
    .queue_setup = vm_queue_setup,
    .notify = vm_notify,
    .irq_setup = vm_irq_setup,
};

static void probe_one(uint64_t base, uint64_t size, unsigned gsi)
{
    uintptr_t b = (uintptr_t)nb_pc_map_mmio(base, size);
    if (!b)
        return;
    if (mmio_read32(b + R_MAGIC) != MAGIC) {
        NB_WARN("no virtio-mmio device at %#llx", (unsigned long long)base);
        return;
    }
    uint32_t version = mmio_read32(b + R_VERSION);
    uint32_t id = mmio_read32(b + R_DEVICE_ID);
    if (id == 0)
        return; /* an empty slot */
    if (version != 1 && version != 2) {
        NB_WARN("virtio-mmio at %#llx: unknown version %u",
                (unsigned long long)base, version);
        return;
    }
    struct vmmio *vm = calloc(1, sizeof *vm);
    if (!vm)
        return;
    vm->base = b;
    vm->gsi = gsi;
    struct nb_virtio_dev *d = &vm->vdev;
    d->ops = &vm_ops;
    d->transport = vm;
    d->device_type = id;
    d->legacy = version == 1;
    snprintf(d->name, sizeof d->name, "mmio %#llx%s", (unsigned long long)base,
             d->legacy ? " (legacy)" : "");
    if (nb_virtio_probe(d) != 0) {
        vm_reset(d);
        free(vm);
    }
}

/* Parse "<size>[K|M]@<base>:<irq>[:<id>]". */
static bool parse_entry(const char *s, uint64_t *size, uint64_t *base,
                        unsigned *irq)
{
    char *end;
    *size = strtoull(s, &end, 0);
    if (*end == 'K' || *end == 'k') {
        *size <<= 10;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        *size <<= 20;
        end++;
    }
    if (*end != '@')
        return false;
    *base = strtoull(end + 1, &end, 0);
    if (*end != ':')
        return false;
    *irq = (unsigned)strtoul(end + 1, &end, 0);
    return *size && *base;
}

static uint64_t probed[MAX_MMIO_DEVS * 4];
static unsigned nprobed;

static void probe_once(uint64_t base, uint64_t size, unsigned gsi)
{
    for (unsigned i = 0; i < nprobed; i++)
        if (probed[i] == base)
            return;
    if (nprobed < sizeof probed / sizeof probed[0])
        probed[nprobed++] = base;
    probe_one(base, size, gsi);
}

/* Scan the DSDT for virtio-mmio transports (see the top of the file). */
static void scan_dsdt(void)
{
    const uint8_t *fadt = nb_pc_acpi_find("FACP");
    if (!fadt)
        return;
    uint32_t flen = *(const uint32_t *)(fadt + 4);
    uint64_t dsdt = *(const uint32_t *)(fadt + 40);
    if (flen >= 148 && *(const uint64_t *)(fadt + 140))
        dsdt = *(const uint64_t *)(fadt + 140);
    if (!dsdt)
        return;
    const uint8_t *t = (const uint8_t *)(uintptr_t)dsdt;
    if (memcmp(t, "DSDT", 4) != 0)
        return;
    uint32_t len = *(const uint32_t *)(t + 4);
    if (len > (1u << 20))
        return;
    for (uint32_t i = 36; i + 8 <= len; i++) {
        if (memcmp(t + i, "LNRO0005", 8) != 0)
            continue;
        uint64_t base = 0, size = 0;
        unsigned irq = 0;
        bool have_irq = false;
        uint32_t end = i + 96 < len ? i + 96 : len;
        for (uint32_t j = i + 8; j + 12 <= end; j++) {
            if (!base && t[j] == 0x86 && t[j + 1] == 9 && t[j + 2] == 0) {
                base = *(const uint32_t *)(t + j + 4);
                size = *(const uint32_t *)(t + j + 8);
                j += 11;
            } else if (!have_irq && t[j] == 0x89 && t[j + 2] == 0 &&
                       t[j + 4] >= 1) {
                irq = *(const uint32_t *)(t + j + 5);
                have_irq = true;
                j += 8;
            }
            if (base && have_irq)
                break;
        }
        if (base && size && have_irq)
            probe_once(base, size, irq);
    }
}

static void scan_cmdline(void)
{
    static const char key[] = "virtio_mmio.device=";
    const char *p = nb_pc_boot.cmdline;
    unsigned found = 0;
    while ((p = strstr(p, key)) && found < MAX_MMIO_DEVS) {
        if (p != nb_pc_boot.cmdline && p[-1] != ' ') {
            p += sizeof key - 1;
            continue;
        }
        p += sizeof key - 1;
        char entry[64];
        size_t n = strcspn(p, " ");
        if (n >= sizeof entry)
            continue;
        memcpy(entry, p, n);
        entry[n] = 0;
        uint64_t size, base;
        unsigned irq;
        if (parse_entry(entry, &size, &base, &irq)) {
            probe_once(base, size, irq);
            found++;
        } else {
            NB_WARN("bad virtio_mmio.device=%s", entry);
        }
    }
}

void nb_pc_virtio_mmio_init(void)
{
    scan_dsdt();
    scan_cmdline();
}
