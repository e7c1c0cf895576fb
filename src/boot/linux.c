/*
 * Linux kernels: checking a bzImage against the x86 boot protocol
 * (Documentation/x86/boot.rst) and staging kernel, initrd and command line
 * with the digests they must have, until nb_boot_exec() hands them to the
 * platform.
 *
 * The header is outside input (it came over the network): every field is
 * read with bounds checks and cross-checked against the file's size before
 * anything trusts it.
 */
#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/util.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(boot);

/* offsets in the setup header */
#define OFF_SETUP_SECTS 0x1f1
#define OFF_SYSSIZE 0x1f4
#define OFF_BOOT_FLAG 0x1fe
#define OFF_HEADER 0x202
#define OFF_VERSION 0x206
#define OFF_LOADFLAGS 0x211
#define OFF_INITRD_ADDR_MAX 0x22c
#define OFF_KERNEL_ALIGNMENT 0x230
#define OFF_RELOCATABLE 0x234
#define OFF_XLOADFLAGS 0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE 0x260
#define HEADER_END 0x268 /* through init_size, present from protocol 2.10 */

#define LOADED_HIGH 0x1
#define MIN_VERSION 0x020c /* 2.12: xloadflags, the 64-bit entry */

int nb_bzimage_parse(const uint8_t *img, size_t len, struct nb_bzimage *out,
                     const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    memset(out, 0, sizeof *out);
    if (len < HEADER_END) {
        *why = "too small to be a Linux kernel";
        return NB_ENOEXEC;
    }
    if (nb_le16(img + OFF_BOOT_FLAG) != 0xAA55 || memcmp(img + OFF_HEADER, "HdrS", 4) != 0) {
        *why = "not a Linux kernel (no boot flag or HdrS magic)";
        return NB_ENOEXEC;
    }
    out->version = nb_le16(img + OFF_VERSION);
    if (out->version < MIN_VERSION) {
        *why = "boot protocol older than 2.12 (no 64-bit entry point)";
        return NB_ENOEXEC;
    }
    unsigned setup_sects = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
    out->setup_size = (setup_sects + 1) * 512;
    if (out->setup_size >= len) {
        *why = "setup part longer than the file";
        return NB_ENOEXEC;
    }
    out->kernel_size = (uint32_t)(len - out->setup_size);
    uint64_t syssize = (uint64_t)nb_le32(img + OFF_SYSSIZE) * 16;
    if (syssize == 0 || syssize > out->kernel_size) {
        *why = "file shorter than the kernel it declares (truncated download?)";
        return NB_ENOEXEC;
    }
    if (!(img[OFF_LOADFLAGS] & LOADED_HIGH)) {
        *why = "kernel is not loaded high (zImage): unsupported";
        return NB_ENOEXEC;
    }
    out->xloadflags = nb_le16(img + OFF_XLOADFLAGS);
    if (!(out->xloadflags & NB_BZ_XLF_KERNEL_64)) {
        *why = "kernel has no 64-bit entry point";
        return NB_ENOEXEC;
    }
    out->relocatable = img[OFF_RELOCATABLE] != 0;
    if (!out->relocatable) {
        *why = "kernel is not relocatable";
        return NB_ENOEXEC;
    }
    out->initrd_above_4g = (out->xloadflags & NB_BZ_XLF_CAN_BE_LOADED_ABOVE_4G) != 0;
    out->initrd_addr_max = nb_le32(img + OFF_INITRD_ADDR_MAX);
    out->kernel_alignment = nb_le32(img + OFF_KERNEL_ALIGNMENT);
    if (out->kernel_alignment == 0 || (out->kernel_alignment & (out->kernel_alignment - 1)) ||
        out->kernel_alignment > (1u << 30)) {
        *why = "kernel alignment is not a power of two up to 1 GiB";
        return NB_ENOEXEC;
    }
    out->cmdline_size = nb_le32(img + OFF_CMDLINE_SIZE);
    out->pref_address = nb_le64(img + OFF_PREF_ADDRESS);
    out->init_size = nb_le32(img + OFF_INIT_SIZE);
    if (out->init_size < out->kernel_size || out->init_size > (1u << 30)) {
        *why = "kernel's init_size is smaller than the kernel or above 1 GiB";
        return NB_ENOEXEC;
    }
    *why = NULL;
    return 0;
}

/* --- staging --- */

struct staged {
    uint8_t *buf;
    uint64_t size, filled;
    uint8_t digest[NB_SHA256_LEN];
    bool begun;
};

static struct staged items[NB_BOOT_ITEMS];
static char cmdline[NB_BOOT_CMDLINE_MAX];
static size_t cmdline_len;
static char last_error[160];

static const char *const item_names[NB_BOOT_ITEMS] = {"kernel", "initrd"};
static const uint64_t item_max[NB_BOOT_ITEMS] = {NB_BOOT_KERNEL_MAX, NB_BOOT_INITRD_MAX};

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    NB_DEBUG("%s", last_error); /* callers show it: the shell, boot_error() */
    return code;
}

const char *nb_boot_last_error(void) { return last_error; }

static void drop(enum nb_boot_item item)
{
    free(items[item].buf);
    memset(&items[item], 0, sizeof items[item]);
}

int nb_boot_begin(enum nb_boot_item item, uint64_t size, const uint8_t digest[NB_SHA256_LEN])
{
    last_error[0] = 0;
    if ((unsigned)item >= NB_BOOT_ITEMS || !digest)
        return fail(NB_EINVAL, "boot: unknown item or no digest");
    drop(item);
    if (size == 0)
        return fail(NB_EINVAL, "boot: %s of size 0", item_names[item]);
    if (size > item_max[item])
        return fail(NB_EFBIG, "boot: %s of %llu bytes is over the %llu MiB limit",
                    item_names[item], (unsigned long long)size,
                    (unsigned long long)(item_max[item] >> 20));
    items[item].buf = malloc((size_t)size);
    if (!items[item].buf)
        return fail(NB_ENOMEM, "boot: no memory for a %llu MiB %s",
                    (unsigned long long)(size >> 20), item_names[item]);
    items[item].size = size;
    memcpy(items[item].digest, digest, NB_SHA256_LEN);
    items[item].begun = true;
    return 0;
}

int nb_boot_append(enum nb_boot_item item, const void *data, size_t len)
{
    if ((unsigned)item >= NB_BOOT_ITEMS)
        return fail(NB_EINVAL, "boot: unknown item");
    struct staged *s = &items[item];
    if (!s->begun)
        return fail(NB_ENOENT, "boot: %s not begun", item_names[item]);
    if (len > s->size - s->filled)
        return fail(NB_EFBIG, "boot: more %s bytes than declared (%llu)", item_names[item],
                    (unsigned long long)s->size);
    memcpy(s->buf + s->filled, data, len);
    s->filled += len;
    return 0;
}

int nb_boot_stage(enum nb_boot_item item, const void *data, size_t len,
                  const uint8_t digest[NB_SHA256_LEN])
{
    int rc = nb_boot_begin(item, len, digest);
    return rc ? rc : nb_boot_append(item, data, len);
}

int nb_boot_set_cmdline(const char *text, size_t len)
{
    if (len >= sizeof cmdline)
        return fail(NB_E2BIG, "boot: command line longer than %u bytes",
                    (unsigned)sizeof cmdline - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            return fail(NB_EINVAL, "boot: command line has a control character");
    memcpy(cmdline, text, len);
    cmdline[len] = 0;
    cmdline_len = len;
    return 0;
}

void nb_boot_reset(void)
{
    for (int i = 0; i < NB_BOOT_ITEMS; i++)
        drop((enum nb_boot_item)i);
    cmdline_len = 0;
    cmdline[0] = 0;
}

void nb_boot_get_status(struct nb_boot_status *out)
{
    for (int i = 0; i < NB_BOOT_ITEMS; i++) {
        out->size[i] = items[i].size;
        out->filled[i] = items[i].filled;
    }
    out->cmdline_len = cmdline_len;
}

int nb_boot_exec(void)
{
    last_error[0] = 0;
    if (!items[NB_BOOT_KERNEL].begun)
        return fail(NB_ENOENT, "boot: no kernel staged");
    for (int i = 0; i < NB_BOOT_ITEMS; i++) {
        struct staged *s = &items[i];
        if (!s->begun)
            continue;
        if (s->filled != s->size)
            return fail(NB_EAGAIN, "boot: %s incomplete: %llu of %llu bytes", item_names[i],
                        (unsigned long long)s->filled, (unsigned long long)s->size);
        uint8_t got[NB_SHA256_LEN];
        nb_sha256(s->buf, (size_t)s->size, got);
        if (memcmp(got, s->digest, NB_SHA256_LEN) != 0) {
            char want_hex[65], got_hex[65];
            nb_sha256_hex(s->digest, want_hex);
            nb_sha256_hex(got, got_hex);
            return fail(NB_EBADMSG, "boot: %s sha256 mismatch: expected %.16s..., got %.16s...",
                        item_names[i], want_hex, got_hex);
        }
    }
    struct nb_boot_request req = {
        .kernel = items[NB_BOOT_KERNEL].buf,
        .kernel_len = (size_t)items[NB_BOOT_KERNEL].size,
        .initrd = items[NB_BOOT_INITRD].begun ? items[NB_BOOT_INITRD].buf : NULL,
        .initrd_len = (size_t)items[NB_BOOT_INITRD].size,
        .cmdline = cmdline,
    };
    const char *why;
    if (nb_bzimage_parse(req.kernel, req.kernel_len, &req.hdr, &why) != 0)
        return fail(NB_ENOEXEC, "boot: kernel: %s", why);
    if (req.hdr.cmdline_size && cmdline_len > req.hdr.cmdline_size)
        return fail(NB_E2BIG, "boot: command line of %u bytes is longer than the kernel takes (%u)",
                    (unsigned)cmdline_len, (unsigned)req.hdr.cmdline_size);
    NB_INFO("booting Linux (protocol %u.%02u, %u KiB kernel, %u KiB initrd): %s",
            req.hdr.version >> 8, req.hdr.version & 0xff, (unsigned)(req.kernel_len >> 10),
            (unsigned)(req.initrd_len >> 10), cmdline);
    int rc = nb_platform_boot_linux(&req, &why);
    return fail(rc, "boot: %s", why ? why : nb_strerror(rc));
}
