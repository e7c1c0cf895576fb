/*
 * "Booting" a kernel on the hosted platform: a Linux process cannot hand
 * the machine to Linux, but it can show what it would have booted. With a
 * boot directory set (`neoboot run --boot-out DIR`), the verified kernel,
 * initrd and command line are written there and the process exits with
 * status 0, as a machine would leave NeoBoot; tests use this to check boot
 * programs without a VM. Without one, booting fails with NB_ENOSYS.
 */
#define _GNU_SOURCE
#include "hosted.h"

#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(boot);

static char boot_dir[512];

void nb_hosted_set_boot_dir(const char *dir)
{
    snprintf(boot_dir, sizeof boot_dir, "%s", dir ? dir : "");
}

static int write_file(const char *name, const void *data, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", boot_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NB_EIO;
    size_t n = len ? fwrite(data, 1, len, f) : 0;
    int bad = fclose(f) != 0 || n != len;
    return bad ? NB_EIO : 0;
}

int nb_platform_boot_linux(const struct nb_boot_request *req, const char **why)
{
    if (!boot_dir[0]) {
        *why = "the hosted platform cannot boot a kernel (neoboot run --boot-out DIR "
               "saves what would boot)";
        return NB_ENOSYS;
    }
    if (write_file("kernel", req->kernel, req->kernel_len) ||
        write_file("initrd", req->initrd, req->initrd ? req->initrd_len : 0) ||
        write_file("cmdline", req->cmdline, strlen(req->cmdline))) {
        *why = "cannot write to the boot directory";
        return NB_EIO;
    }
    NB_INFO("would boot Linux %u.%02u: kernel, initrd and cmdline written to %s",
            req->hdr.version >> 8, req->hdr.version & 0xff, boot_dir);
    fflush(stdout);
    exit(0);
}
