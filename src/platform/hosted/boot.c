/*
 * "Booting" a kernel on the hosted platform: a Linux process cannot hand
 * the machine to Linux, but it can show what it would have booted, or boot
 * it in a virtual machine:
 *
 * - with a boot directory (`neoboot run --boot-out DIR`) the verified
 *   kernel, initrd and command line are written there and the process
 *   exits with status 0, as a machine would leave NeoBoot;
 * - with `--boot-qemu ACCEL` they go to a private directory and the process
 *   becomes QEMU (exec) booting them, its console on this terminal: a boot
 *   program tried end to end without building an image.
 *
 * Without either, booting fails with NB_ENOSYS.
 */
#define _GNU_SOURCE
#include "hosted.h"

#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

NB_LOG_MODULE(boot);

static char boot_dir[512];
static char qemu_accel[8];

void nb_hosted_set_boot_dir(const char *dir)
{
    snprintf(boot_dir, sizeof boot_dir, "%s", dir ? dir : "");
}

int nb_hosted_set_boot_qemu(const char *accel)
{
    if (strcmp(accel, "tcg") != 0 && strcmp(accel, "kvm") != 0)
        return NB_EINVAL;
    snprintf(qemu_accel, sizeof qemu_accel, "%s", accel);
    return 0;
}

/* exec QEMU on what is in boot_dir; returns only on failure */
static void exec_qemu(const struct nb_boot_request *req)
{
    char kernel[600], initrd[600];
    snprintf(kernel, sizeof kernel, "%s/kernel", boot_dir);
    snprintf(initrd, sizeof initrd, "%s/initrd", boot_dir);
    const char *argv[24];
    int n = 0;
    argv[n++] = "qemu-system-x86_64";
    argv[n++] = "-accel";
    argv[n++] = qemu_accel;
    argv[n++] = "-M";
    argv[n++] = "q35";
    argv[n++] = "-cpu";
    argv[n++] = strcmp(qemu_accel, "kvm") == 0 ? "host" : "max";
    argv[n++] = "-m";
    argv[n++] = "512M";
    argv[n++] = "-nographic";
    argv[n++] = "-no-reboot";
    argv[n++] = "-kernel";
    argv[n++] = kernel;
    if (req->initrd) {
        argv[n++] = "-initrd";
        argv[n++] = initrd;
    }
    argv[n++] = "-append";
    argv[n++] = req->cmdline;
    argv[n] = NULL;
    NB_INFO("booting Linux %u.%02u in QEMU (%s): kernel, initrd and cmdline in %s",
            req->hdr.version >> 8, req->hdr.version & 0xff, qemu_accel, boot_dir);
    fflush(stdout);
    fflush(stderr);
    execvp(argv[0], (char *const *)argv);
    NB_ERROR("cannot run qemu-system-x86_64 (scripts/setup.sh installs qemu-system-x86)");
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
    if (!boot_dir[0] && qemu_accel[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(boot_dir, sizeof boot_dir, "%s/neoboot-boot.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(boot_dir)) {
            boot_dir[0] = 0;
            *why = "cannot make a directory for the kernel";
            return NB_EIO;
        }
    }
    if (!boot_dir[0]) {
        *why = "the hosted platform cannot boot a kernel (neoboot run --boot-out DIR "
               "saves what would boot; --boot-qemu tcg boots it in QEMU)";
        return NB_ENOSYS;
    }
    if (write_file("kernel", req->kernel, req->kernel_len) ||
        write_file("initrd", req->initrd, req->initrd ? req->initrd_len : 0) ||
        write_file("cmdline", req->cmdline, strlen(req->cmdline))) {
        *why = "cannot write to the boot directory";
        return NB_EIO;
    }
    if (qemu_accel[0]) {
        exec_qemu(req);
        *why = "cannot run qemu-system-x86_64";
        return NB_ENOSYS;
    }
    NB_INFO("would boot Linux %u.%02u: kernel, initrd and cmdline written to %s",
            req->hdr.version >> 8, req->hdr.version & 0xff, boot_dir);
    fflush(stdout);
    exit(0);
}
