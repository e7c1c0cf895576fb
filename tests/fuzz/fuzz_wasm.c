/*
 * libFuzzer target for the wasm engine: decode + validate + translate any
 * input; if it loads, instantiate it in a store with small limits and call
 * every exported function with zero arguments under a fuel budget. Any
 * crash, sanitizer report, leak or hang (libFuzzer's -timeout) is a bug:
 * the engine's promise is that no module can do that to the host.
 *
 * Imports from module "env" are satisfied with a host function that
 * returns zeros, whatever their type, so that modules with imports run too.
 */
#include <neoboot/wasm.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUEL_PER_CALL 20000

static int h_zero(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    (void)hc;
    (void)a;
    (void)r;
    return 0; /* results are pre-zeroed by the engine */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nb_wasm_error err;
    nb_wasm_module *m = nb_wasm_module_load(data, size, &err);
    if (!m)
        return 0;
    struct nb_wasm_config cfg = {
        .max_memory_bytes = 16u << 20,
        .max_table_elems = 10000,
        .max_call_depth = 500,
        .stack_slots = 1u << 16,
        .max_instances = 4,
    };
    nb_wasm_store *s = nb_wasm_store_new(&cfg);
    /* A few common host signatures under "env". */
    nb_wasm_define_func(s, "env", "f", "()", h_zero, NULL);
    nb_wasm_define_func(s, "env", "g", "(i)i", h_zero, NULL);
    nb_wasm_define_func(s, "env", "h", "(b)i", h_zero, NULL);
    nb_wasm_instance *inst = nb_wasm_instantiate(s, m, "fuzz", &err);
    if (inst) {
        for (uint32_t i = 0; i < nb_wasm_export_count(inst) && i < 16; i++) {
            int kind;
            size_t len;
            const char *name = nb_wasm_export_name(inst, i, &len, &kind);
            if (kind != 0)
                continue;
            nb_wasm_func *f = nb_wasm_find_func_n(inst, name, len);
            uint32_t np, nr;
            const uint8_t *pt;
            nb_wasm_func_type(f, &np, &pt, &nr, NULL);
            nb_wasm_val args[16], res[16];
            if (np > 16 || nr > 16)
                continue;
            for (uint32_t k = 0; k < np; k++) {
                memset(&args[k], 0, sizeof args[k]);
                args[k].type = pt[k];
            }
            nb_wasm_store_set_fuel(s, FUEL_PER_CALL);
            nb_wasm_call(s, f, args, np, res, nr);
        }
    }
    nb_wasm_store_free(s);
    nb_wasm_module_free(m);
    return 0;
}
