/*
 * Booting the next thing: a Linux kernel (x86 boot protocol) with an
 * initrd and a command line.
 *
 * Whoever fetches the pieces (the shell's `boot`, an app through the boot
 * ABI) stages them here, each with the sha256 it must have; nb_boot_exec()
 * checks sizes and digests, checks the kernel against the boot protocol,
 * and hands everything to the platform, which places the pieces, builds
 * boot_params with the memory map, quiesces its devices and jumps. On
 * success it does not return. Every failure comes back as an NB_E* code
 * with a sentence in nb_boot_last_error() saying which piece and why.
 */
#ifndef NEOBOOT_BOOT_H
#define NEOBOOT_BOOT_H

#include <neoboot/sha256.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- the x86 Linux boot protocol header (bzImage) --- */

struct nb_bzimage {
    uint16_t version;          /* boot protocol version, e.g. 0x020f */
    uint32_t setup_size;       /* real-mode part: (setup_sects + 1) * 512 */
    uint32_t kernel_size;      /* protected-mode part, from setup_size to the end */
    uint32_t init_size;        /* memory the kernel needs from its load address */
    uint32_t kernel_alignment; /* load address alignment (relocatable kernels) */
    uint64_t pref_address;     /* where it prefers to be loaded */
    uint32_t initrd_addr_max;  /* highest address for the initrd's last byte */
    uint32_t cmdline_size;     /* longest command line (without NUL) */
    uint16_t xloadflags;
    bool relocatable;
    bool initrd_above_4g;      /* XLF_CAN_BE_LOADED_ABOVE_4G */
};

#define NB_BZ_XLF_KERNEL_64 0x1
#define NB_BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x2

/*
 * Check img as a bzImage this loader can boot: boot flag and "HdrS"
 * magic, protocol 2.12 or newer, a 64-bit entry point, loaded high,
 * relocatable, sizes that fit the file. 0 and *out, or NB_ENOEXEC with
 * *why saying what is wrong ("not a Linux kernel (no HdrS magic)", ...).
 */
int nb_bzimage_parse(const uint8_t *img, size_t len, struct nb_bzimage *out,
                     const char **why);

/* --- staging --- */

enum nb_boot_item { NB_BOOT_KERNEL = 0, NB_BOOT_INITRD = 1, NB_BOOT_ITEMS = 2 };

#define NB_BOOT_KERNEL_MAX (128u << 20)
#define NB_BOOT_INITRD_MAX (1024u << 20)
#define NB_BOOT_CMDLINE_MAX 4096

/*
 * Start staging an item of exactly `size` bytes that must hash to
 * `digest`. Replaces anything staged for it before. 0, NB_EINVAL (size 0),
 * NB_EFBIG (over the item's limit), NB_ENOMEM.
 */
int nb_boot_begin(enum nb_boot_item item, uint64_t size,
                  const uint8_t digest[NB_SHA256_LEN]);
/* Append bytes; NB_EFBIG past the declared size, NB_ENOENT if not begun. */
int nb_boot_append(enum nb_boot_item item, const void *data, size_t len);
/* Set the kernel command line (printable text, < NB_BOOT_CMDLINE_MAX). */
int nb_boot_set_cmdline(const char *text, size_t len);
/* Stage a whole item at once from memory (copies). */
int nb_boot_stage(enum nb_boot_item item, const void *data, size_t len,
                  const uint8_t digest[NB_SHA256_LEN]);
/* Drop everything staged. */
void nb_boot_reset(void);

struct nb_boot_status {
    uint64_t size[NB_BOOT_ITEMS];   /* declared */
    uint64_t filled[NB_BOOT_ITEMS]; /* received so far */
    size_t cmdline_len;
};
void nb_boot_get_status(struct nb_boot_status *out);

/*
 * Verify and boot: every begun item complete, each digest equal, the
 * kernel a bootable bzImage, the command line within its limit; then the
 * platform boots it. Returns only on failure: NB_ENOENT (no kernel),
 * NB_EAGAIN (an item incomplete), NB_EBADMSG (a digest differs),
 * NB_ENOEXEC (not a bootable kernel), NB_E2BIG, NB_ENOSYS (the platform
 * cannot boot kernels), or the platform's error.
 */
int nb_boot_exec(void);
/* Why the last nb_boot_* call failed, as a sentence ("" if it did not). */
const char *nb_boot_last_error(void);

/* --- what the platform implements --- */

struct nb_boot_request {
    const uint8_t *kernel;      /* the whole bzImage */
    size_t kernel_len;
    struct nb_bzimage hdr;      /* parsed and checked */
    const uint8_t *initrd;      /* NULL: none */
    size_t initrd_len;
    const char *cmdline;        /* NUL-terminated */
};

/* Boot it. Does not return on success; otherwise NB_E* (NB_ENOSYS when
 * the platform cannot boot kernels) with *why set. */
int nb_platform_boot_linux(const struct nb_boot_request *req, const char **why);

#endif
