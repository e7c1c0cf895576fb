/*
 * Internal structures of the wasm engine, shared by its files:
 *   decode.c     binary decoding and module-level validation
 *   translate.c  function body validation and translation (opcodes.h)
 *   interp.c     the interpreter loop
 *   runtime.c    stores, instances, linking, host calls, the public API
 * Nothing here is visible to embedders (include/neoboot/wasm.h is).
 */
#ifndef NB_WASM_INTERNAL_H
#define NB_WASM_INTERNAL_H

#include <neoboot/wasm.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opcodes.h"

#define NBW_PAGE 65536u
#define NBW_MAX_PAGES 65536u
/* Implementation limits on what a module may declare (bounds on what guest
 * input can make the engine allocate before it runs). */
#define NBW_MAX_TYPES 100000u
#define NBW_MAX_FUNCS 100000u
#define NBW_MAX_IMPORTS 100000u
#define NBW_MAX_EXPORTS 100000u
#define NBW_MAX_GLOBALS 100000u
#define NBW_MAX_TABLES 100000u
#define NBW_MAX_SEGMENTS 100000u
#define NBW_MAX_PARAMS 1000u
#define NBW_MAX_LOCALS 50000u
#define NBW_MAX_BR_TABLE 100000u
#define NBW_MAX_NESTING 10000u  /* open blocks in one function */
#define NBW_MAX_STACK 100000u   /* operand stack height in one function */
#define NBW_MAX_SEG_ITEMS 10000000u

enum { NBW_EXT_FUNC = 0, NBW_EXT_TABLE = 1, NBW_EXT_MEMORY = 2, NBW_EXT_GLOBAL = 3 };

/* One 8-byte value slot; i32/f32 live in the low half. */
typedef union nbw_slot {
    uint64_t u64;
    int64_t i64;
    uint32_t u32;
    int32_t i32;
    float f32;
    double f64;
    void *ref;
} nbw_slot;

struct nbw_functype {
    uint32_t nparams, nresults;
    uint8_t *params, *results;
};

struct nbw_limits {
    uint64_t min, max;
    bool has_max;
};

struct nbw_tabletype {
    uint8_t elem;
    struct nbw_limits lim;
};

/* A constant expression (initialisers and offsets). */
struct nbw_const {
    uint8_t op;      /* 0x41 i32, 0x42 i64, 0x43 f32, 0x44 f64, 0x23 global.get,
                        0xd0 ref.null, 0xd2 ref.func */
    uint32_t index;
    uint64_t bits;
};

struct nbw_import {
    char *module, *name;
    uint8_t kind;
    uint32_t index; /* func: type index */
    struct nbw_tabletype table;
    struct nbw_limits mem;
    uint8_t gtype, gmut;
};

struct nbw_export {
    char *name;
    uint32_t name_len;  /* names may contain NUL */
    uint8_t kind;
    uint32_t index;
};

struct nbw_globaldef {
    uint8_t type, mut;
    struct nbw_const init;
};

enum { NBW_SEG_ACTIVE, NBW_SEG_PASSIVE, NBW_SEG_DECLARATIVE };

struct nbw_elem {
    uint8_t mode, type;
    uint32_t table;
    struct nbw_const offset;
    uint32_t count;
    struct nbw_const *items;
};

struct nbw_data {
    uint8_t mode;
    struct nbw_const offset;
    uint32_t len;
    uint8_t *bytes;
};

/* A translated function body. */
struct nbw_code {
    uint64_t *code;
    uint32_t ncode;        /* words */
    uint32_t type;         /* index into module types */
    uint32_t nparams, nresults;
    uint32_t nlocals;      /* declared locals after the parameters */
    uint32_t frame_slots;  /* parameters + locals + max operand stack */
    uint32_t body_offset;  /* where the body starts in the binary */
};

struct nb_wasm_module {
    int refs;
    uint32_t ntypes;
    struct nbw_functype *types;
    uint32_t nimports;
    struct nbw_import *imports;
    uint32_t nfuncs, nfunc_imports;
    uint32_t *func_types;   /* nfuncs entries, imports first */
    struct nbw_code *codes; /* nfuncs - nfunc_imports entries */
    uint32_t ntables, ntable_imports;
    struct nbw_tabletype *tables;
    uint32_t nmems, nmem_imports;
    struct nbw_limits *mems;
    uint32_t nglobals, nglobal_imports;
    struct nbw_globaldef *globals;
    uint32_t nexports;
    struct nbw_export *exports;
    bool has_start;
    uint32_t start;
    uint32_t nelems;
    struct nbw_elem *elems;
    uint32_t ndatas;
    bool has_datacount;
    struct nbw_data *datas;
    uint8_t *func_refs;     /* bitmap: functions declared referenceable */
    char **func_names;      /* from the "name" section, entries may be NULL */
};

/* ---- runtime objects (all owned by a store) -------------------------- */

struct nbw_mem {
    uint8_t *data;
    uint64_t size;       /* bytes */
    uint32_t pages, max_pages;
    struct nbw_mem *next;
};

struct nbw_table {
    void **elems;
    uint32_t size, max;
    uint8_t type;
    struct nbw_table *next;
};

struct nbw_global {
    nbw_slot val;
    uint8_t type, mut;
    struct nbw_global *next;
};

enum { NBW_HARG_I32, NBW_HARG_I64, NBW_HARG_F32, NBW_HARG_F64, NBW_HARG_REF,
       NBW_HARG_BUF, NBW_HARG_ARRAY, NBW_HARG_PTR };

struct nbw_hostarg {
    uint8_t kind;
    uint32_t size; /* element size for ARRAY, byte count for PTR */
};

struct nb_wasm_func {
    const struct nbw_functype *type;
    struct nb_wasm_instance *inst;  /* wasm functions: the owning instance */
    const struct nbw_code *code;    /* NULL for host functions */
    uint32_t index;                 /* in its module */
    nb_wasm_host_fn host;
    void *host_ctx;
    uint32_t nhostargs;
    struct nbw_hostarg *hostargs;
    struct nbw_functype own_type;   /* host functions own their type */
    struct nb_wasm_func *next;
};

struct nb_wasm_instance {
    nb_wasm_store *store;
    nb_wasm_module *module;
    char *name;
    nb_wasm_func **funcs;
    struct nbw_table **tables;
    struct nbw_mem *mem;            /* memory 0 or NULL */
    struct nbw_global **globals;
    void ***elem_items;             /* per element segment; NULL when dropped */
    uint32_t *elem_counts;
    uint8_t *data_dropped;
    nb_wasm_func *own_funcs;        /* array of the defined functions */
    struct nb_wasm_instance *next;
};

struct nbw_extern {
    char *module, *name;
    uint8_t kind;
    void *obj; /* nb_wasm_func, nbw_table, nbw_mem, nbw_global */
    struct nbw_extern *next;
};

struct nbw_frame {
    const uint64_t *pc;
    nbw_slot *fp;
    nb_wasm_instance *inst;
};

struct nb_wasm_store {
    struct nb_wasm_config cfg;
    nbw_slot *stack, *stack_end, *sp;    /* sp: first free slot */
    struct nbw_frame *frames, *frames_end, *fsp;
    uint32_t nesting;
    uint32_t ninstances;
    uint64_t fuel;          /* remaining, minus the chunk being spent */
    uint64_t deadline;
    volatile int interrupt;
    int trap;
    int exit_status;
    char trap_msg[256];
    nb_wasm_instance *instances;
    nb_wasm_func *host_funcs;
    struct nbw_mem *mems;
    struct nbw_table *tables;
    struct nbw_global *globals;
    struct nbw_extern *externs;
    uint32_t nexterns;
    nb_wasm_module **modules;
    uint32_t nmodules, modules_cap;
};

struct nb_wasm_hcall {
    nb_wasm_store *store;
    nb_wasm_instance *inst;
    nb_wasm_func *func;
};

/* decode.c */
void nbw_module_destroy(nb_wasm_module *m);
bool nbw_types_equal(const struct nbw_functype *a, const struct nbw_functype *b);

/* translate.c: validate and translate body `i` of m from [p, end). */
int nbw_translate(nb_wasm_module *m, uint32_t i, const uint8_t *base,
                  const uint8_t *p, const uint8_t *end, struct nb_wasm_error *err);

/* interp.c */
/* Run f with its arguments in s->sp[0..]; results replace them. Returns 0
 * or a trap code (message in s->trap_msg). */
int nbw_execute(nb_wasm_store *s, nb_wasm_func *f);
/* The handler address of each op (for finishing translated code). */
const void *const *nbw_handlers(void);

/* runtime.c, called by the interpreter */
int nbw_call_host(nb_wasm_store *s, nb_wasm_func *f, nb_wasm_instance *caller,
                  nbw_slot *args);
int nbw_refuel(nb_wasm_store *s, uint32_t *ticks);
void nbw_return_fuel(nb_wasm_store *s, uint32_t ticks);
int nbw_trap(nb_wasm_store *s, int trap, nb_wasm_instance *inst, const uint64_t *pc);
int32_t nbw_memory_grow(nb_wasm_store *s, struct nbw_mem *m, uint32_t delta);
int32_t nbw_table_grow(nb_wasm_store *s, struct nbw_table *t, uint32_t delta, void *init);

#endif
