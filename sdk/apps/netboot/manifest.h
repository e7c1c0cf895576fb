/*
 * The boot manifest netboot.wasm reads: JSON naming a kernel, an optional
 * initrd (each a URL and the sha256 it must have) and a command line.
 *
 *   {"kernel":  {"url": "http://10.0.2.2:8000/vmlinuz", "sha256": "…64 hex…"},
 *    "initrd":  {"url": "initrd.cpio.gz", "sha256": "…"},
 *    "cmdline": "console=ttyS0"}
 *
 * Relative URLs are relative to the manifest's own URL. Pure C with no
 * imports, so it is unit-tested and fuzzed natively.
 */
#ifndef NETBOOT_MANIFEST_H
#define NETBOOT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX (64 * 1024)
#define MANIFEST_URL_MAX 1024
#define MANIFEST_CMDLINE_MAX 4096

struct manifest_item {
    bool present;
    char url[MANIFEST_URL_MAX];
    uint8_t sha256[32];
};

struct manifest {
    struct manifest_item kernel, initrd;
    char cmdline[MANIFEST_CMDLINE_MAX];
};

/* Parse and validate text (len bytes). 0, or -1 with *why (static text)
 * saying what is wrong. base_url resolves relative URLs (may be NULL). */
int manifest_parse(const char *text, size_t len, const char *base_url, struct manifest *out,
                   const char **why);

#endif
