/*
 * App bundles: a WebAssembly app and its configuration text in one
 * self-checking blob, the unit NeoBoot boots with.
 *
 * A bundle travels inside a pc image (the image's last PT_LOAD segment,
 * written by `neoboot image build`), or on its own as a boot module
 * (QEMU -initrd, written by `neoboot image bundle`). Either way it is
 * outside input until verified: every field is bounds-checked before use
 * and two SHA-256 digests cover every byte (docs/image.md has the layout):
 *
 *     offset size
 *        0    8  magic "NBBUNDLE"
 *        8    4  version (1)
 *       12    4  header size (128)
 *       16    4  config_len: bytes of configuration text (<= 16 KiB)
 *       20    4  app_offset: where the app starts, from the header's start
 *                (header + config rounded up to 16; the gap is zeros)
 *       24    8  app_len: bytes of the app (<= 256 MiB; 0: an empty bundle)
 *       32   32  app_sha256: SHA-256 of the app bytes (what sha256sum says)
 *       64   32  sha256: SHA-256 of header bytes [0, 64) then the config,
 *                so lengths, the app's digest and the config are covered
 *       96   32  reserved, zero
 *
 * All integers little-endian. An empty bundle (app_len 0, config_len 0,
 * digests zero) is the placeholder a freshly built image carries.
 */
#ifndef NEOBOOT_BUNDLE_H
#define NEOBOOT_BUNDLE_H

#include <neoboot/sha256.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_BUNDLE_MAGIC "NBBUNDLE"
#define NB_BUNDLE_VERSION 1
#define NB_BUNDLE_HEADER_SIZE 128
#define NB_BUNDLE_ALIGN 16
#define NB_BUNDLE_CONFIG_MAX (16u * 1024)
#define NB_BUNDLE_APP_MAX (256u << 20)
/* The largest total a valid header can claim. */
#define NB_BUNDLE_TOTAL_MAX \
    (NB_BUNDLE_HEADER_SIZE + NB_BUNDLE_CONFIG_MAX + NB_BUNDLE_ALIGN + NB_BUNDLE_APP_MAX)

struct nb_bundle {
    const uint8_t *config;    /* configuration text (not NUL-terminated) */
    size_t config_len;
    const uint8_t *app;       /* the WebAssembly module */
    size_t app_len;           /* 0: an empty bundle (nothing to run) */
    size_t total;             /* bytes from the header's start to the app's end */
    uint8_t app_sha256[NB_SHA256_LEN];  /* as recorded in the header */
    uint8_t sha256[NB_SHA256_LEN];
};

/*
 * Check a header alone (len >= NB_BUNDLE_HEADER_SIZE bytes at buf): magic,
 * version, sizes within the limits, offsets consistent. Sets *total (the
 * bytes the bundle claims, header included). NB_ENOENT: no magic (not a
 * bundle); NB_ENOTSUP: another version; NB_EINVAL: malformed. *why (if
 * non-NULL) explains a failure with a static string.
 */
int nb_bundle_header(const void *buf, size_t len, size_t *total, const char **why);

/*
 * Parse a whole bundle of len bytes (trailing bytes beyond its total are
 * ignored): the header checks, then the padding between config and app.
 * Pointers in *out point into buf. Digests are not checked here.
 */
int nb_bundle_parse(const void *buf, size_t len, struct nb_bundle *out, const char **why);

/* Recompute both digests: 0, or NB_EBADMSG with *why naming which differs. */
int nb_bundle_verify(const struct nb_bundle *b, const char **why);

/* Bytes a bundle of these sizes takes. */
size_t nb_bundle_size(size_t config_len, size_t app_len);

/*
 * Write a bundle into out (out_len >= nb_bundle_size(...)): header with
 * both digests, config, zero padding, app. 0, NB_E2BIG (over a limit) or
 * NB_ENOSPC (out too small).
 */
int nb_bundle_write(void *out, size_t out_len, const void *config, size_t config_len,
                    const void *app, size_t app_len);

/* Does buf start like a WebAssembly binary module ("\0asm", version 1)? */
bool nb_bundle_is_wasm(const void *buf, size_t len);

#endif
