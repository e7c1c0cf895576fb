/*
 * The NeoBoot WebAssembly engine: embedding API.
 *
 * NeoBoot runs guest programs as WebAssembly 2.0 modules (without SIMD).
 * The engine is small and self-contained: it needs only the platform layer
 * and a freestanding libc subset, so the same code runs hosted and on bare
 * metal. The embedding follows the shape of Lua's API:
 *
 *     struct nb_wasm_error err;
 *     nb_wasm_module *m = nb_wasm_module_load(bytes, len, &err);  // decode,
 *                                       // validate, translate once
 *     nb_wasm_store *s = nb_wasm_store_new(NULL);                 // limits
 *     nb_wasm_define_func(s, "env", "log", "(b)", my_log, ctx);   // host fns
 *     nb_wasm_instance *i = nb_wasm_instantiate(s, m, "main", &err);
 *     nb_wasm_func *f = nb_wasm_find_func(i, "run");
 *     int trap = nb_wasm_call(s, f, args, 1, results, 1);
 *     if (trap) puts(nb_wasm_trap_message(s));
 *     nb_wasm_store_free(s); nb_wasm_module_free(m);
 *
 * A store owns every instance, memory, table, global and function created in
 * it and frees them together (references between instances are ordinary
 * pointers, as in the WebAssembly store model). One store runs one guest
 * call at a time; host functions may call back into the store.
 *
 * Sandbox: every memory and table access is bounds-checked; traps end the
 * call with a trap code and a message, never a crash; call depth, value
 * stack, memory and table sizes are bounded by nb_wasm_config; fuel and a
 * deadline are checked at every call and loop back-edge, and
 * nb_wasm_store_interrupt() stops a running guest from a signal handler or
 * another thread. After any trap the store stays usable.
 *
 * Host functions are declared with a signature string (see docs/wasm.md):
 *
 *     "(" params ")" results      e.g. "(ib)i", "(ia8p4)i", "(I)", "()F"
 *
 *   i  i32          I  i64          f  f32          F  f64
 *   e  externref    c  funcref
 *   b  a (ptr, len) byte buffer: two i32 in wasm, checked by the engine so
 *      that [ptr, ptr+len) lies in the caller's memory (no wrap-around)
 *   aN an (ptr, count) array of N-byte elements: two i32 in wasm, checked
 *      for count*N bytes (computed in 64 bits)
 *   pN a pointer to N bytes: one i32 in wasm, checked for N bytes
 *
 * For b, aN and pN the host receives arg.mem.ptr (a host pointer into
 * guest memory, valid until the host function calls back into the guest),
 * arg.mem.addr (the guest address) and arg.mem.len (bytes). A failed check
 * traps before the host function runs.
 */
#ifndef NEOBOOT_WASM_H
#define NEOBOOT_WASM_H

#include <stddef.h>
#include <stdint.h>

typedef struct nb_wasm_module nb_wasm_module;
typedef struct nb_wasm_store nb_wasm_store;
typedef struct nb_wasm_instance nb_wasm_instance;
typedef struct nb_wasm_func nb_wasm_func;
typedef struct nb_wasm_hcall nb_wasm_hcall;

/* Value types, numbered as in the binary format. */
enum nb_wasm_type {
    NB_WASM_I32 = 0x7f,
    NB_WASM_I64 = 0x7e,
    NB_WASM_F32 = 0x7d,
    NB_WASM_F64 = 0x7c,
    NB_WASM_FUNCREF = 0x70,
    NB_WASM_EXTERNREF = 0x6f,
};

/* A typed value. Floats are carried as bits so NaN payloads survive. */
typedef struct nb_wasm_val {
    uint8_t type; /* enum nb_wasm_type */
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32; /* IEEE-754 bits */
        uint64_t f64; /* IEEE-754 bits */
        void *ref;    /* funcref: nb_wasm_func *, externref: opaque; NULL = null */
    } of;
} nb_wasm_val;

/*
 * Why a call stopped. 0 is success; everything else is a trap. The spec's
 * traps come first, then the engine's sandbox limits, then host requests.
 */
enum nb_wasm_trap {
    NB_WASM_OK = 0,
    NB_WASM_TRAP_UNREACHABLE,      /* "unreachable" */
    NB_WASM_TRAP_MEMORY_OOB,       /* "out of bounds memory access" */
    NB_WASM_TRAP_TABLE_OOB,        /* "out of bounds table access" */
    NB_WASM_TRAP_UNDEFINED_ELEM,   /* "undefined element" (call_indirect) */
    NB_WASM_TRAP_UNINIT_ELEM,      /* "uninitialized element" */
    NB_WASM_TRAP_INDIRECT_TYPE,    /* "indirect call type mismatch" */
    NB_WASM_TRAP_DIV_ZERO,         /* "integer divide by zero" */
    NB_WASM_TRAP_INT_OVERFLOW,     /* "integer overflow" */
    NB_WASM_TRAP_BAD_CONVERSION,   /* "invalid conversion to integer" */
    NB_WASM_TRAP_STACK_EXHAUSTED,  /* "call stack exhausted" (depth or slots) */
    NB_WASM_TRAP_OUT_OF_FUEL,      /* fuel ran out */
    NB_WASM_TRAP_DEADLINE,         /* the deadline passed */
    NB_WASM_TRAP_INTERRUPTED,      /* nb_wasm_store_interrupt() */
    NB_WASM_TRAP_HOST_POINTER,     /* a b/aN/pN argument outside memory */
    NB_WASM_TRAP_HOST,             /* a host function raised a trap */
    NB_WASM_TRAP_EXIT,             /* a host function asked to exit (proc_exit) */
    NB_WASM_TRAP_COUNT
};

/* The spec's message for a trap code ("out of bounds memory access"). */
const char *nb_wasm_trap_name(int trap);

/* Resource limits of a store. Zero fields take the defaults shown. */
struct nb_wasm_config {
    uint64_t max_memory_bytes;  /* per memory; default 1 GiB, cap 4 GiB */
    uint32_t max_table_elems;   /* per table; default 1,000,000 */
    uint32_t max_call_depth;    /* wasm frames; default 10,000 */
    uint32_t stack_slots;       /* value stack, 8 bytes each; default 1 Mi */
    uint32_t max_instances;     /* per store; default 1,000 */
    uint32_t max_host_nesting;  /* host->guest re-entry depth; default 16 */
};

/* Where and why loading or instantiation failed. */
struct nb_wasm_error {
    int code;          /* NB_EILSEQ malformed, NB_EINVAL invalid, NB_ENOENT
                          unknown import, NB_EPROTOTYPE incompatible import,
                          NB_ENOMEM limit, NB_ECANCELED trap while starting */
    int trap;          /* for NB_ECANCELED: the enum nb_wasm_trap */
    size_t offset;     /* byte offset in the module (load errors) */
    char msg[200];
};

/* ---- modules ---------------------------------------------------------- */

/*
 * Decode, fully validate and translate a binary module. The bytes are not
 * referenced after return. NULL on error, with *err filled (if non-NULL).
 */
nb_wasm_module *nb_wasm_module_load(const void *bytes, size_t len,
                                    struct nb_wasm_error *err);
/* Drop the caller's reference; instances keep their own. */
void nb_wasm_module_free(nb_wasm_module *m);

/* ---- stores and linking ----------------------------------------------- */

/* A new store with the given limits (NULL: defaults). NULL if out of memory. */
nb_wasm_store *nb_wasm_store_new(const struct nb_wasm_config *cfg);
/* Free the store and everything created in it. Not during a call. */
void nb_wasm_store_free(nb_wasm_store *s);

union nb_wasm_arg {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    void *ref;
    struct {
        uint8_t *ptr;  /* host view of guest memory, checked */
        uint32_t addr; /* guest address */
        uint32_t len;  /* bytes */
    } mem;
};

/*
 * A host function. args follow the signature string, one entry per letter
 * (b and aN are one entry each); results are written by the function (one
 * per result letter; ref results in .ref, floats in .f32/.f64). Return
 * NB_WASM_OK, or the value of nb_wasm_hcall_trap()/nb_wasm_hcall_exit().
 */
typedef int (*nb_wasm_host_fn)(nb_wasm_hcall *hc, const union nb_wasm_arg *args,
                               union nb_wasm_arg *results);

/*
 * Make a host function importable as module.name. sig is parsed now (see
 * top of file); ctx is handed back through nb_wasm_hcall_ctx(). Returns 0,
 * NB_EINVAL (bad signature), NB_EEXIST, NB_ENOMEM.
 */
int nb_wasm_define_func(nb_wasm_store *s, const char *module, const char *name,
                        const char *sig, nb_wasm_host_fn fn, void *ctx);
/* Host globals, tables and memories (the spec tests' "spectest" module). */
int nb_wasm_define_global(nb_wasm_store *s, const char *module, const char *name,
                          nb_wasm_val value, int mutable_);
int nb_wasm_define_table(nb_wasm_store *s, const char *module, const char *name,
                         uint8_t elem_type, uint32_t min, uint32_t max);
int nb_wasm_define_memory(nb_wasm_store *s, const char *module, const char *name,
                          uint32_t min_pages, uint32_t max_pages);

/* Make every export of inst importable under the module name `as`. */
int nb_wasm_register(nb_wasm_store *s, const char *as, nb_wasm_instance *inst);

/*
 * Instantiate m in s: resolve imports, initialise globals, tables and
 * memory, run the start function. name (may be NULL) labels trap messages.
 * NULL on failure with *err set. A trap while starting leaves side effects
 * on imported tables and memories, as the spec requires.
 */
nb_wasm_instance *nb_wasm_instantiate(nb_wasm_store *s, nb_wasm_module *m,
                                      const char *name, struct nb_wasm_error *err);

/* ---- calling ------------------------------------------------------------ */

/* An exported function, or NULL. The _n form takes names as byte strings
 * (wasm names may contain NUL). */
nb_wasm_func *nb_wasm_find_func(nb_wasm_instance *inst, const char *name);
nb_wasm_func *nb_wasm_find_func_n(nb_wasm_instance *inst, const char *name, size_t len);
/* Exports in module order: count, and the i-th name (a NUL-terminated
 * copy; *len gets the full length) and kind (0 func, 1 table, 2 memory,
 * 3 global). NULL if i is out of range. */
uint32_t nb_wasm_export_count(const nb_wasm_instance *inst);
const char *nb_wasm_export_name(const nb_wasm_instance *inst, uint32_t i, size_t *len,
                                int *kind);
/* Parameter and result counts and types of f (types may be NULL). */
void nb_wasm_func_type(const nb_wasm_func *f, uint32_t *nparams,
                       const uint8_t **params, uint32_t *nresults,
                       const uint8_t **results);

/*
 * Call f with nargs arguments; on success writes nresults results.
 * Returns NB_WASM_OK, a positive enum nb_wasm_trap, or a negative NB_E*
 * code for a call that does not match f's type (NB_EINVAL) or that would
 * nest too deeply in host functions (NB_ELOOP).
 */
int nb_wasm_call(nb_wasm_store *s, nb_wasm_func *f, const nb_wasm_val *args,
                 size_t nargs, nb_wasm_val *results, size_t nresults);

/* The last trap: its message (with function index and name), code, and the
 * exit status given to nb_wasm_hcall_exit(). */
const char *nb_wasm_trap_message(const nb_wasm_store *s);
int nb_wasm_trap_code(const nb_wasm_store *s);
int nb_wasm_exit_status(const nb_wasm_store *s);

/* Read an exported global. 0 or NB_ENOENT. */
int nb_wasm_get_global(nb_wasm_instance *inst, const char *name, nb_wasm_val *out);
int nb_wasm_get_global_n(nb_wasm_instance *inst, const char *name, size_t len,
                         nb_wasm_val *out);
/* The instance's memory 0: base and size in bytes (NULL/0 if none). The
 * pointer moves when the memory grows. */
uint8_t *nb_wasm_memory(nb_wasm_instance *inst, uint64_t *size);

/* ---- running budgets ------------------------------------------------------ */

/* Fuel: one unit per call and per loop back-edge. NB_WASM_FUEL_UNLIMITED
 * (the default) disables it. */
#define NB_WASM_FUEL_UNLIMITED UINT64_MAX
void nb_wasm_store_set_fuel(nb_wasm_store *s, uint64_t fuel);
uint64_t nb_wasm_store_fuel(const nb_wasm_store *s);
/* Monotonic deadline (nb_clock_ns()); NB_FOREVER disables it. */
void nb_wasm_store_set_deadline(nb_wasm_store *s, uint64_t deadline_ns);
/* Ask the running guest to stop with NB_WASM_TRAP_INTERRUPTED at its next
 * call or back-edge. Async-signal-safe; the request is cleared when a call
 * from the embedder (nb_wasm_call at nesting level 0) begins. */
void nb_wasm_store_interrupt(nb_wasm_store *s);

/* ---- inside host functions ------------------------------------------------ */

void *nb_wasm_hcall_ctx(nb_wasm_hcall *hc);
nb_wasm_store *nb_wasm_hcall_store(nb_wasm_hcall *hc);
/* The calling instance (whose memory 0 pointer arguments refer to). */
nb_wasm_instance *nb_wasm_hcall_instance(nb_wasm_hcall *hc);
/* A checked host pointer for guest [addr, addr+len), or NULL if any byte
 * lies outside the caller's memory. */
uint8_t *nb_wasm_hcall_mem(nb_wasm_hcall *hc, uint32_t addr, uint32_t len);
/* Checked copies; 0 or NB_EFAULT. */
int nb_wasm_hcall_read(nb_wasm_hcall *hc, uint32_t addr, void *buf, uint32_t len);
int nb_wasm_hcall_write(nb_wasm_hcall *hc, uint32_t addr, const void *buf, uint32_t len);
/* The guest's current deadline (for host functions that block). */
uint64_t nb_wasm_hcall_deadline(nb_wasm_hcall *hc);
/* For host functions that block: a trap code if the guest has been
 * interrupted or its deadline has passed (return it), else 0. */
int nb_wasm_hcall_should_stop(nb_wasm_hcall *hc);
/* Raise a trap with a message: `return nb_wasm_hcall_trap(hc, "...")`. */
int nb_wasm_hcall_trap(nb_wasm_hcall *hc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* End the guest with an exit status: `return nb_wasm_hcall_exit(hc, 3)`. */
int nb_wasm_hcall_exit(nb_wasm_hcall *hc, int status);

#endif
