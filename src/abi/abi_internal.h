/*
 * Pieces of the "neoboot" import module kept apart from the socket calls
 * (internal to src/abi).
 */
#ifndef NEOBOOT_ABI_INTERNAL_H
#define NEOBOOT_ABI_INTERNAL_H

#include <neoboot/abi.h>

/* Fill the 320-byte guest netif record for the index-th interface of st
 * (0-based, registration order). 0, or NB_ENOENT past the last. */
int nb_abi_netif_fill(struct nb_stack *st, int32_t index, uint8_t *out);

/* resolve(name, family, out[], timeout_ns): host function body. */
int nb_abi_resolve(nb_wasm_hcall *hc, struct nb_stack *st, const union nb_wasm_arg *a,
                   union nb_wasm_arg *r);

/* The boot imports (boot_abi.c). */
bool nb_abi_app_may_boot(const struct nb_app *app);
int nb_abi_boot_begin(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r);
int nb_abi_boot_append(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r);
int nb_abi_boot_cmdline(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r);
int nb_abi_boot_exec(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r);
int nb_abi_boot_error(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r);

#endif
