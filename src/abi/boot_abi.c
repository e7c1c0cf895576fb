/*
 * The boot imports of the "neoboot" module: an app with the boot
 * capability stages a kernel, an initrd and a command line from its own
 * buffers, each (kernel, initrd) with the sha256 it must have, then asks
 * to boot. Staging streams (an app appends as it downloads), so a kernel
 * never needs to fit in the app's memory at once; sizes and digests are
 * declared first and checked by core code (src/boot/linux.c) at the end.
 */
#include "abi_internal.h"

#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/log.h>

#include <string.h>

NB_LOG_MODULE(app);

static int need_boot(nb_wasm_hcall *hc, union nb_wasm_arg *r)
{
    struct nb_app *app = nb_wasm_hcall_ctx(hc);
    if (nb_abi_app_may_boot(app))
        return 0;
    NB_WARN("app: boot denied (the image or 'neoboot run --allow-boot' grants it)");
    r[0].i32 = NB_EACCES;
    return 1;
}

/* boot_begin(item, size:i64, sha256*) */
int nb_abi_boot_begin(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    if (need_boot(hc, r))
        return NB_WASM_OK;
    if (a[0].i32 != NB_BOOT_KERNEL && a[0].i32 != NB_BOOT_INITRD) {
        r[0].i32 = NB_EINVAL;
        return NB_WASM_OK;
    }
    if (a[1].i64 <= 0) {
        r[0].i32 = NB_EINVAL;
        return NB_WASM_OK;
    }
    r[0].i32 = nb_boot_begin((enum nb_boot_item)a[0].i32, (uint64_t)a[1].i64, a[2].mem.ptr);
    return NB_WASM_OK;
}

/* boot_append(item, buf, len) */
int nb_abi_boot_append(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    if (need_boot(hc, r))
        return NB_WASM_OK;
    if (a[0].i32 != NB_BOOT_KERNEL && a[0].i32 != NB_BOOT_INITRD) {
        r[0].i32 = NB_EINVAL;
        return NB_WASM_OK;
    }
    r[0].i32 = nb_boot_append((enum nb_boot_item)a[0].i32, a[1].mem.ptr, a[1].mem.len);
    return NB_WASM_OK;
}

/* boot_cmdline(text, len) */
int nb_abi_boot_cmdline(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    if (need_boot(hc, r))
        return NB_WASM_OK;
    r[0].i32 = nb_boot_set_cmdline((const char *)a[0].mem.ptr, a[0].mem.len);
    return NB_WASM_OK;
}

/* boot_exec(): returns only on failure */
int nb_abi_boot_exec(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    (void)a;
    if (need_boot(hc, r))
        return NB_WASM_OK;
    r[0].i32 = nb_boot_exec();
    return NB_WASM_OK;
}

/* boot_error(buf, len) -> length of the last failure's text (written up to len) */
int nb_abi_boot_error(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    (void)hc;
    const char *e = nb_boot_last_error();
    size_t n = strlen(e);
    if (a[0].mem.len) {
        size_t k = n < a[0].mem.len - 1 ? n : a[0].mem.len - 1;
        memcpy(a[0].mem.ptr, e, k);
        a[0].mem.ptr[k] = 0;
    }
    r[0].i32 = (int32_t)n;
    return NB_WASM_OK;
}
