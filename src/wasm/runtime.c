/*
 * Stores, instances and linking: the public side of the engine.
 *
 * A store owns everything created in it (instances, functions, memories,
 * tables, globals) on singly linked lists and frees them together, so
 * references between instances (a funcref of one instance in another's
 * table, a failed instantiation's functions left in a shared table) stay
 * valid for the store's lifetime. Named externs (host definitions and
 * registered instances) are what imports resolve against.
 *
 * Host functions are called through nbw_call_host(), which turns the
 * signature string's b/aN/pN arguments into checked host pointers before
 * the function runs: a guest can never make a host function touch memory
 * outside its own linear memory.
 */
#include "internal.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(wasm);

/* Fuel is handed to the interpreter in chunks; a chunk is also how often
 * the deadline and interrupt flag are looked at. */
#define FUEL_CHUNK 16384u
#define MAX_EXTERNS 100000u
#define MAX_HOST_ARGS 32u

static const char *const trap_names[NB_WASM_TRAP_COUNT] = {
    [NB_WASM_OK] = "no trap",
    [NB_WASM_TRAP_UNREACHABLE] = "unreachable",
    [NB_WASM_TRAP_MEMORY_OOB] = "out of bounds memory access",
    [NB_WASM_TRAP_TABLE_OOB] = "out of bounds table access",
    [NB_WASM_TRAP_UNDEFINED_ELEM] = "undefined element",
    [NB_WASM_TRAP_UNINIT_ELEM] = "uninitialized element",
    [NB_WASM_TRAP_INDIRECT_TYPE] = "indirect call type mismatch",
    [NB_WASM_TRAP_DIV_ZERO] = "integer divide by zero",
    [NB_WASM_TRAP_INT_OVERFLOW] = "integer overflow",
    [NB_WASM_TRAP_BAD_CONVERSION] = "invalid conversion to integer",
    [NB_WASM_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
    [NB_WASM_TRAP_OUT_OF_FUEL] = "out of fuel",
    [NB_WASM_TRAP_DEADLINE] = "deadline exceeded",
    [NB_WASM_TRAP_INTERRUPTED] = "interrupted",
    [NB_WASM_TRAP_HOST_POINTER] = "host call argument out of bounds",
    [NB_WASM_TRAP_HOST] = "host function trapped",
    [NB_WASM_TRAP_EXIT] = "exit",
};

const char *nb_wasm_trap_name(int trap)
{
    if (trap < 0 || trap >= NB_WASM_TRAP_COUNT)
        return "unknown trap";
    return trap_names[trap];
}

/* ---- fuel ---------------------------------------------------------------- */

int nbw_refuel(nb_wasm_store *s, uint32_t *ticks)
{
    if (s->interrupt)
        return NB_WASM_TRAP_INTERRUPTED;
    if (s->deadline != NB_FOREVER && nb_clock_ns() >= s->deadline)
        return NB_WASM_TRAP_DEADLINE;
    uint64_t chunk = FUEL_CHUNK;
    if (s->fuel != NB_WASM_FUEL_UNLIMITED) {
        if (s->fuel == 0)
            return NB_WASM_TRAP_OUT_OF_FUEL;
        if (chunk > s->fuel)
            chunk = s->fuel;
        s->fuel -= chunk;
    }
    *ticks = (uint32_t)chunk - 1;
    return 0;
}

void nbw_return_fuel(nb_wasm_store *s, uint32_t ticks)
{
    if (s->fuel != NB_WASM_FUEL_UNLIMITED)
        s->fuel += ticks;
}

void nb_wasm_store_set_fuel(nb_wasm_store *s, uint64_t fuel) { s->fuel = fuel; }
uint64_t nb_wasm_store_fuel(const nb_wasm_store *s) { return s->fuel; }
void nb_wasm_store_set_deadline(nb_wasm_store *s, uint64_t deadline_ns) { s->deadline = deadline_ns; }
void nb_wasm_store_interrupt(nb_wasm_store *s) { s->interrupt = 1; }

/* ---- traps ----------------------------------------------------------------- */

static const char *func_name(const nb_wasm_module *m, uint32_t idx)
{
    if (m->func_names && idx < m->nfuncs && m->func_names[idx])
        return m->func_names[idx];
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == NBW_EXT_FUNC && m->exports[i].index == idx)
            return m->exports[i].name;
    return NULL;
}

int nbw_trap(nb_wasm_store *s, int trap, nb_wasm_instance *inst, const uint64_t *pc)
{
    s->trap = trap;
    const nb_wasm_module *m = inst ? inst->module : NULL;
    long fidx = -1;
    if (m && pc) {
        for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++) {
            const struct nbw_code *c = &m->codes[i];
            if (pc >= c->code && pc < c->code + c->ncode) {
                fidx = (long)(m->nfunc_imports + i);
                break;
            }
        }
    }
    const char *what = nb_wasm_trap_name(trap);
    if (fidx >= 0) {
        const char *fn = func_name(m, (uint32_t)fidx);
        snprintf(s->trap_msg, sizeof s->trap_msg, "%s (in function %ld%s%s%s%s%s)", what,
                 fidx, fn ? " \"" : "", fn ? fn : "", fn ? "\"" : "",
                 inst->name ? " of " : "", inst->name ? inst->name : "");
    } else {
        snprintf(s->trap_msg, sizeof s->trap_msg, "%s", what);
    }
    NB_DEBUG("trap: %s", s->trap_msg);
    return trap;
}

const char *nb_wasm_trap_message(const nb_wasm_store *s) { return s->trap_msg; }
int nb_wasm_trap_code(const nb_wasm_store *s) { return s->trap; }
int nb_wasm_exit_status(const nb_wasm_store *s) { return s->exit_status; }

/* ---- memories and tables ----------------------------------------------------- */

static struct nbw_mem *mem_new(nb_wasm_store *s, uint64_t min, uint64_t max, bool has_max)
{
    uint64_t limit_pages = s->cfg.max_memory_bytes / NBW_PAGE;
    if (min > limit_pages)
        return NULL;
    struct nbw_mem *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->pages = (uint32_t)min;
    m->size = min * NBW_PAGE;
    uint64_t mx = has_max ? max : NBW_MAX_PAGES;
    if (mx > limit_pages)
        mx = limit_pages;
    m->max_pages = (uint32_t)mx;
    m->data = calloc(m->size ? m->size : 1, 1);
    if (!m->data) {
        free(m);
        return NULL;
    }
    m->next = s->mems;
    s->mems = m;
    return m;
}

int32_t nbw_memory_grow(nb_wasm_store *s, struct nbw_mem *m, uint32_t delta)
{
    (void)s;
    uint32_t old = m->pages;
    if (delta == 0)
        return (int32_t)old;
    uint64_t pages = (uint64_t)old + delta;
    if (pages > m->max_pages)
        return -1;
    uint64_t size = pages * NBW_PAGE;
    if (size > SIZE_MAX)
        return -1;
    uint8_t *d = realloc(m->data, (size_t)size);
    if (!d) {
        NB_WARN("memory.grow to %llu pages: out of host memory", (unsigned long long)pages);
        return -1;
    }
    memset(d + m->size, 0, (size_t)(size - m->size));
    m->data = d;
    m->size = size;
    m->pages = (uint32_t)pages;
    return (int32_t)old;
}

static struct nbw_table *table_new(nb_wasm_store *s, uint8_t type, uint64_t min, uint64_t max,
                                   bool has_max)
{
    if (min > s->cfg.max_table_elems)
        return NULL;
    struct nbw_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->type = type;
    t->size = (uint32_t)min;
    uint64_t mx = has_max ? max : UINT32_MAX;
    if (mx > s->cfg.max_table_elems)
        mx = s->cfg.max_table_elems;
    t->max = (uint32_t)mx;
    t->elems = calloc(min ? min : 1, sizeof(void *));
    if (!t->elems) {
        free(t);
        return NULL;
    }
    t->next = s->tables;
    s->tables = t;
    return t;
}

int32_t nbw_table_grow(nb_wasm_store *s, struct nbw_table *t, uint32_t delta, void *init)
{
    (void)s;
    uint32_t old = t->size;
    uint64_t n = (uint64_t)old + delta;
    if (n > t->max)
        return -1;
    if (delta == 0)
        return (int32_t)old;
    void **e = realloc(t->elems, (size_t)n * sizeof(void *));
    if (!e)
        return -1;
    for (uint64_t i = old; i < n; i++)
        e[i] = init;
    t->elems = e;
    t->size = (uint32_t)n;
    return (int32_t)old;
}

static struct nbw_global *global_new(nb_wasm_store *s, uint8_t type, uint8_t mut)
{
    struct nbw_global *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->type = type;
    g->mut = mut;
    g->next = s->globals;
    s->globals = g;
    return g;
}

/* ---- stores ---------------------------------------------------------------- */

nb_wasm_store *nb_wasm_store_new(const struct nb_wasm_config *cfg)
{
    nb_wasm_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (cfg)
        s->cfg = *cfg;
    if (!s->cfg.max_memory_bytes)
        s->cfg.max_memory_bytes = 1ull << 30;
    if (s->cfg.max_memory_bytes > (uint64_t)NBW_MAX_PAGES * NBW_PAGE)
        s->cfg.max_memory_bytes = (uint64_t)NBW_MAX_PAGES * NBW_PAGE;
    if (!s->cfg.max_table_elems)
        s->cfg.max_table_elems = 1000000;
    if (!s->cfg.max_call_depth)
        s->cfg.max_call_depth = 10000;
    if (!s->cfg.stack_slots)
        s->cfg.stack_slots = 1u << 20;
    if (!s->cfg.max_instances)
        s->cfg.max_instances = 1000;
    if (!s->cfg.max_host_nesting)
        s->cfg.max_host_nesting = 16;
    s->fuel = NB_WASM_FUEL_UNLIMITED;
    s->deadline = NB_FOREVER;
    return s;
}

static void instance_destroy(nb_wasm_instance *i)
{
    if (!i)
        return;
    if (i->elem_items)
        for (uint32_t k = 0; k < i->module->nelems; k++)
            free(i->elem_items[k]);
    free(i->elem_items);
    free(i->elem_counts);
    free(i->data_dropped);
    free(i->funcs);
    free(i->tables);
    free(i->globals);
    free(i->own_funcs);
    free(i->name);
    nb_wasm_module_free(i->module);
    free(i);
}

void nb_wasm_store_free(nb_wasm_store *s)
{
    if (!s)
        return;
    while (s->instances) {
        nb_wasm_instance *i = s->instances;
        s->instances = i->next;
        instance_destroy(i);
    }
    while (s->host_funcs) {
        nb_wasm_func *f = s->host_funcs;
        s->host_funcs = f->next;
        free(f->own_type.params);
        free(f->own_type.results);
        free(f->hostargs);
        free(f);
    }
    while (s->mems) {
        struct nbw_mem *m = s->mems;
        s->mems = m->next;
        free(m->data);
        free(m);
    }
    while (s->tables) {
        struct nbw_table *t = s->tables;
        s->tables = t->next;
        free(t->elems);
        free(t);
    }
    while (s->globals) {
        struct nbw_global *g = s->globals;
        s->globals = g->next;
        free(g);
    }
    while (s->externs) {
        struct nbw_extern *e = s->externs;
        s->externs = e->next;
        free(e->module);
        free(e->name);
        free(e);
    }
    free(s->stack);
    free(s->frames);
    free(s);
}

static char *dup(const char *x)
{
    size_t n = strlen(x);
    char *c = malloc(n + 1);
    if (c)
        memcpy(c, x, n + 1);
    return c;
}

static struct nbw_extern *extern_find(nb_wasm_store *s, const char *module, const char *name)
{
    for (struct nbw_extern *e = s->externs; e; e = e->next)
        if (strcmp(e->module, module) == 0 && strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static int extern_add(nb_wasm_store *s, const char *module, const char *name, uint8_t kind,
                      void *obj)
{
    if (s->nexterns >= MAX_EXTERNS)
        return NB_ENOMEM;
    struct nbw_extern *e = calloc(1, sizeof *e);
    if (!e)
        return NB_ENOMEM;
    e->module = dup(module);
    e->name = dup(name);
    if (!e->module || !e->name) {
        free(e->module);
        free(e->name);
        free(e);
        return NB_ENOMEM;
    }
    e->kind = kind;
    e->obj = obj;
    e->next = s->externs; /* newest first: re-registering shadows */
    s->externs = e;
    s->nexterns++;
    return 0;
}

/* ---- host functions ----------------------------------------------------------- */

/* Parse "(params)results" into wasm types and host argument kinds. */
static int parse_sig(const char *sig, nb_wasm_func *f)
{
    uint8_t params[2 * MAX_HOST_ARGS], results[MAX_HOST_ARGS];
    struct nbw_hostarg hargs[MAX_HOST_ARGS];
    uint32_t np = 0, nr = 0, nh = 0;
    const char *p = sig;
    while (*p == ' ')
        p++;
    if (*p++ != '(')
        return NB_EINVAL;
    bool in_params = true;
    for (;;) {
        char c = *p++;
        if (c == ' ')
            continue;
        if (in_params && c == ')') {
            in_params = false;
            continue;
        }
        if (c == 0) {
            if (in_params)
                return NB_EINVAL;
            break;
        }
        uint8_t vt = 0, kind = 0;
        uint32_t size = 0;
        switch (c) {
        case 'i': vt = NB_WASM_I32; kind = NBW_HARG_I32; break;
        case 'I': vt = NB_WASM_I64; kind = NBW_HARG_I64; break;
        case 'f': vt = NB_WASM_F32; kind = NBW_HARG_F32; break;
        case 'F': vt = NB_WASM_F64; kind = NBW_HARG_F64; break;
        case 'e': vt = NB_WASM_EXTERNREF; kind = NBW_HARG_REF; break;
        case 'c': vt = NB_WASM_FUNCREF; kind = NBW_HARG_REF; break;
        case 'b': vt = NB_WASM_I32; kind = NBW_HARG_BUF; break;
        case 'a': case 'p': {
            if (*p < '1' || *p > '9')
                return NB_EINVAL;
            while (*p >= '0' && *p <= '9') {
                size = size * 10 + (uint32_t)(*p++ - '0');
                if (size > 65536)
                    return NB_EINVAL;
            }
            vt = NB_WASM_I32;
            kind = c == 'a' ? NBW_HARG_ARRAY : NBW_HARG_PTR;
            break;
        }
        default:
            return NB_EINVAL;
        }
        if (in_params) {
            if (nh >= MAX_HOST_ARGS)
                return NB_EINVAL;
            hargs[nh++] = (struct nbw_hostarg){kind, size};
            params[np++] = vt;
            if (kind == NBW_HARG_BUF || kind == NBW_HARG_ARRAY)
                params[np++] = NB_WASM_I32;
        } else {
            if (nr >= MAX_HOST_ARGS || kind >= NBW_HARG_BUF)
                return NB_EINVAL;
            results[nr++] = vt;
        }
    }
    f->own_type.nparams = np;
    f->own_type.nresults = nr;
    f->own_type.params = malloc(np + 1u);
    f->own_type.results = malloc(nr + 1u);
    f->hostargs = malloc((nh + 1u) * sizeof *f->hostargs);
    if (!f->own_type.params || !f->own_type.results || !f->hostargs)
        return NB_ENOMEM;
    memcpy(f->own_type.params, params, np);
    memcpy(f->own_type.results, results, nr);
    memcpy(f->hostargs, hargs, nh * sizeof *hargs);
    f->nhostargs = nh;
    f->type = &f->own_type;
    return 0;
}

int nb_wasm_define_func(nb_wasm_store *s, const char *module, const char *name,
                        const char *sig, nb_wasm_host_fn fn, void *ctx)
{
    if (!s || !module || !name || !sig || !fn)
        return NB_EINVAL;
    nb_wasm_func *f = calloc(1, sizeof *f);
    if (!f)
        return NB_ENOMEM;
    f->next = s->host_funcs;
    s->host_funcs = f;
    int rc = parse_sig(sig, f);
    if (rc) {
        NB_WARN("host function %s.%s: bad signature \"%s\"", module, name, sig);
        return rc;
    }
    f->host = fn;
    f->host_ctx = ctx;
    return extern_add(s, module, name, NBW_EXT_FUNC, f);
}

int nb_wasm_define_global(nb_wasm_store *s, const char *module, const char *name,
                          nb_wasm_val value, int mutable_)
{
    struct nbw_global *g = global_new(s, value.type, mutable_ ? 1 : 0);
    if (!g)
        return NB_ENOMEM;
    g->val.u64 = value.of.i64;
    if (value.type == NB_WASM_I32 || value.type == NB_WASM_F32)
        g->val.u64 = value.of.i32;
    if (value.type == NB_WASM_FUNCREF || value.type == NB_WASM_EXTERNREF)
        g->val.ref = value.of.ref;
    return extern_add(s, module, name, NBW_EXT_GLOBAL, g);
}

int nb_wasm_define_table(nb_wasm_store *s, const char *module, const char *name,
                         uint8_t elem_type, uint32_t min, uint32_t max)
{
    struct nbw_table *t = table_new(s, elem_type, min, max, true);
    if (!t)
        return NB_ENOMEM;
    return extern_add(s, module, name, NBW_EXT_TABLE, t);
}

int nb_wasm_define_memory(nb_wasm_store *s, const char *module, const char *name,
                          uint32_t min_pages, uint32_t max_pages)
{
    struct nbw_mem *m = mem_new(s, min_pages, max_pages, true);
    if (!m)
        return NB_ENOMEM;
    return extern_add(s, module, name, NBW_EXT_MEMORY, m);
}

int nbw_call_host(nb_wasm_store *s, nb_wasm_func *f, nb_wasm_instance *caller, nbw_slot *args)
{
    union nb_wasm_arg a[MAX_HOST_ARGS], r[MAX_HOST_ARGS];
    struct nbw_mem *mem = caller ? caller->mem : NULL;
    uint64_t msize = mem ? mem->size : 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < f->nhostargs; i++) {
        const struct nbw_hostarg *h = &f->hostargs[i];
        uint64_t addr, len;
        switch (h->kind) {
        case NBW_HARG_I32: a[i].i32 = args[k++].i32; continue;
        case NBW_HARG_I64: a[i].i64 = args[k++].i64; continue;
        case NBW_HARG_F32: a[i].f32 = args[k++].f32; continue;
        case NBW_HARG_F64: a[i].f64 = args[k++].f64; continue;
        case NBW_HARG_REF: a[i].ref = args[k++].ref; continue;
        case NBW_HARG_BUF:
            addr = args[k].u32;
            len = args[k + 1].u32;
            k += 2;
            break;
        case NBW_HARG_ARRAY:
            addr = args[k].u32;
            len = (uint64_t)args[k + 1].u32 * h->size; /* no wrap: 64-bit */
            k += 2;
            break;
        default: /* NBW_HARG_PTR */
            addr = args[k].u32;
            len = h->size;
            k += 1;
            break;
        }
        if (addr + len > msize || len > UINT32_MAX) {
            s->trap = NB_WASM_TRAP_HOST_POINTER;
            snprintf(s->trap_msg, sizeof s->trap_msg,
                     "host call argument out of bounds (argument %u: address %llu, "
                     "%llu bytes, memory %llu bytes)", i, (unsigned long long)addr,
                     (unsigned long long)len, (unsigned long long)msize);
            return NB_WASM_TRAP_HOST_POINTER;
        }
        a[i].mem.ptr = mem ? mem->data + addr : NULL;
        a[i].mem.addr = (uint32_t)addr;
        a[i].mem.len = (uint32_t)len;
    }
    struct nb_wasm_hcall hc = {s, caller, f};
    memset(r, 0, sizeof(r[0]) * f->type->nresults);
    int rc = f->host(&hc, a, r);
    if (rc) {
        if (rc < 0 || rc >= NB_WASM_TRAP_COUNT)
            rc = NB_WASM_TRAP_HOST;
        if (s->trap != rc) {
            s->trap = rc;
            snprintf(s->trap_msg, sizeof s->trap_msg, "%s", nb_wasm_trap_name(rc));
        }
        return rc;
    }
    for (uint32_t i = 0; i < f->type->nresults; i++) {
        switch (f->type->results[i]) {
        case NB_WASM_I32: args[i].u64 = (uint32_t)r[i].i32; break;
        case NB_WASM_I64: args[i].i64 = r[i].i64; break;
        case NB_WASM_F32: args[i].u64 = 0; args[i].f32 = r[i].f32; break;
        case NB_WASM_F64: args[i].f64 = r[i].f64; break;
        default: args[i].ref = r[i].ref; break;
        }
    }
    return 0;
}

void *nb_wasm_hcall_ctx(nb_wasm_hcall *hc) { return hc->func->host_ctx; }
nb_wasm_store *nb_wasm_hcall_store(nb_wasm_hcall *hc) { return hc->store; }
nb_wasm_instance *nb_wasm_hcall_instance(nb_wasm_hcall *hc) { return hc->inst; }
uint64_t nb_wasm_hcall_deadline(nb_wasm_hcall *hc) { return hc->store->deadline; }

int nb_wasm_hcall_should_stop(nb_wasm_hcall *hc)
{
    nb_wasm_store *s = hc->store;
    int trap = 0;
    if (s->interrupt)
        trap = NB_WASM_TRAP_INTERRUPTED;
    else if (s->deadline != NB_FOREVER && nb_clock_ns() >= s->deadline)
        trap = NB_WASM_TRAP_DEADLINE;
    if (trap) {
        s->trap = trap;
        snprintf(s->trap_msg, sizeof s->trap_msg, "%s (while blocked in a host function)",
                 nb_wasm_trap_name(trap));
    }
    return trap;
}

uint8_t *nb_wasm_hcall_mem(nb_wasm_hcall *hc, uint32_t addr, uint32_t len)
{
    struct nbw_mem *m = hc->inst ? hc->inst->mem : NULL;
    if (!m || (uint64_t)addr + len > m->size)
        return NULL;
    return m->data + addr;
}

int nb_wasm_hcall_read(nb_wasm_hcall *hc, uint32_t addr, void *buf, uint32_t len)
{
    uint8_t *p = nb_wasm_hcall_mem(hc, addr, len);
    if (!p)
        return NB_EFAULT;
    memcpy(buf, p, len);
    return 0;
}

int nb_wasm_hcall_write(nb_wasm_hcall *hc, uint32_t addr, const void *buf, uint32_t len)
{
    uint8_t *p = nb_wasm_hcall_mem(hc, addr, len);
    if (!p)
        return NB_EFAULT;
    memcpy(p, buf, len);
    return 0;
}

int nb_wasm_hcall_trap(nb_wasm_hcall *hc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hc->store->trap_msg, sizeof hc->store->trap_msg, fmt, ap);
    va_end(ap);
    hc->store->trap = NB_WASM_TRAP_HOST;
    return NB_WASM_TRAP_HOST;
}

int nb_wasm_hcall_exit(nb_wasm_hcall *hc, int status)
{
    hc->store->exit_status = status;
    hc->store->trap = NB_WASM_TRAP_EXIT;
    snprintf(hc->store->trap_msg, sizeof hc->store->trap_msg, "exit with status %d", status);
    return NB_WASM_TRAP_EXIT;
}

/* ---- calls ------------------------------------------------------------------ */

static int ensure_stack(nb_wasm_store *s)
{
    if (s->stack)
        return 0;
    s->stack = calloc(s->cfg.stack_slots, sizeof *s->stack);
    s->frames = calloc((size_t)s->cfg.max_call_depth + 1, sizeof *s->frames);
    if (!s->stack || !s->frames) {
        free(s->stack);
        free(s->frames);
        s->stack = NULL;
        s->frames = NULL;
        return NB_ENOMEM;
    }
    s->stack_end = s->stack + s->cfg.stack_slots;
    s->sp = s->stack;
    s->frames_end = s->frames + s->cfg.max_call_depth + 1;
    s->fsp = s->frames;
    return 0;
}

void nb_wasm_func_type(const nb_wasm_func *f, uint32_t *nparams, const uint8_t **params,
                       uint32_t *nresults, const uint8_t **results)
{
    if (nparams) *nparams = f->type->nparams;
    if (params) *params = f->type->params;
    if (nresults) *nresults = f->type->nresults;
    if (results) *results = f->type->results;
}

int nb_wasm_call(nb_wasm_store *s, nb_wasm_func *f, const nb_wasm_val *args, size_t nargs,
                 nb_wasm_val *results, size_t nresults)
{
    if (!s || !f)
        return NB_EINVAL;
    const struct nbw_functype *t = f->type;
    if (nargs != t->nparams || nresults != t->nresults)
        return NB_EINVAL;
    for (size_t i = 0; i < nargs; i++)
        if (args[i].type != t->params[i])
            return NB_EINVAL;
    if (s->nesting >= s->cfg.max_host_nesting)
        return NB_ELOOP;
    if (ensure_stack(s))
        return NB_ENOMEM;
    if (s->nesting == 0) {
        s->interrupt = 0;
        s->sp = s->stack;
        s->fsp = s->frames;
    }
    nbw_slot *base = s->sp;
    uint32_t need = t->nparams > t->nresults ? t->nparams : t->nresults;
    if (base + need > s->stack_end)
        return nbw_trap(s, NB_WASM_TRAP_STACK_EXHAUSTED, NULL, NULL);
    for (size_t i = 0; i < nargs; i++) {
        switch (t->params[i]) {
        case NB_WASM_I32: case NB_WASM_F32: base[i].u64 = args[i].of.i32; break;
        case NB_WASM_I64: case NB_WASM_F64: base[i].u64 = args[i].of.i64; break;
        default: base[i].ref = args[i].of.ref; break;
        }
    }
    s->trap = 0;
    s->trap_msg[0] = 0;
    s->nesting++;
    int r;
    if (f->code) {
        r = nbw_execute(s, f);
    } else {
        nbw_slot *save = s->sp;
        s->sp = base + need;
        r = nbw_call_host(s, f, NULL, base);
        s->sp = save;
    }
    s->nesting--;
    if (r)
        return r;
    for (size_t i = 0; i < nresults; i++) {
        results[i].type = t->results[i];
        switch (t->results[i]) {
        case NB_WASM_I32: case NB_WASM_F32: results[i].of.i64 = 0; results[i].of.i32 = base[i].u32; break;
        case NB_WASM_I64: case NB_WASM_F64: results[i].of.i64 = base[i].u64; break;
        default: results[i].of.ref = base[i].ref; break;
        }
    }
    return 0;
}

/* ---- instances ----------------------------------------------------------------- */

static int ierr(struct nb_wasm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ierr(struct nb_wasm_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->offset = 0;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

static nbw_slot const_eval(nb_wasm_instance *inst, const struct nbw_const *c)
{
    nbw_slot v;
    v.u64 = 0;
    switch (c->op) {
    case 0x23: v = inst->globals[c->index]->val; break;
    case 0xd0: v.ref = NULL; break;
    case 0xd2: v.ref = inst->funcs[c->index]; break;
    default: v.u64 = c->bits; break;
    }
    return v;
}

static bool limits_match(uint64_t have_min, uint64_t have_max, bool have_has_max,
                         const struct nbw_limits *want)
{
    if (have_min < want->min)
        return false;
    if (want->has_max && (!have_has_max || have_max > want->max))
        return false;
    return true;
}

static int resolve_imports(nb_wasm_store *s, nb_wasm_instance *inst, struct nb_wasm_error *err)
{
    nb_wasm_module *m = inst->module;
    uint32_t nf = 0, nt = 0, ng = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct nbw_import *im = &m->imports[i];
        struct nbw_extern *e = extern_find(s, im->module, im->name);
        if (!e)
            return ierr(err, NB_ENOENT, "unknown import \"%s\" \"%s\"", im->module, im->name);
        if (e->kind != im->kind)
            return ierr(err, NB_EPROTOTYPE, "incompatible import type for \"%s\" \"%s\"",
                        im->module, im->name);
        switch (im->kind) {
        case NBW_EXT_FUNC: {
            nb_wasm_func *f = e->obj;
            if (!nbw_types_equal(f->type, &m->types[im->index]))
                return ierr(err, NB_EPROTOTYPE, "incompatible import type for \"%s\" \"%s\" "
                            "(function signature)", im->module, im->name);
            inst->funcs[nf++] = f;
            break;
        }
        case NBW_EXT_TABLE: {
            struct nbw_table *t = e->obj;
            bool has_max = t->max != UINT32_MAX;
            if (t->type != im->table.elem ||
                !limits_match(t->size, t->max, has_max, &im->table.lim))
                return ierr(err, NB_EPROTOTYPE, "incompatible import type for \"%s\" \"%s\" "
                            "(table)", im->module, im->name);
            inst->tables[nt++] = t;
            break;
        }
        case NBW_EXT_MEMORY: {
            struct nbw_mem *mm = e->obj;
            bool has_max = mm->max_pages != NBW_MAX_PAGES;
            if (!limits_match(mm->pages, mm->max_pages, has_max, &im->mem))
                return ierr(err, NB_EPROTOTYPE, "incompatible import type for \"%s\" \"%s\" "
                            "(memory)", im->module, im->name);
            inst->mem = mm;
            break;
        }
        case NBW_EXT_GLOBAL: {
            struct nbw_global *g = e->obj;
            if (g->type != im->gtype || g->mut != im->gmut)
                return ierr(err, NB_EPROTOTYPE, "incompatible import type for \"%s\" \"%s\" "
                            "(global)", im->module, im->name);
            inst->globals[ng++] = g;
            break;
        }
        }
    }
    return 0;
}

nb_wasm_instance *nb_wasm_instantiate(nb_wasm_store *s, nb_wasm_module *m, const char *name,
                                      struct nb_wasm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (s->ninstances >= s->cfg.max_instances) {
        ierr(err, NB_ENOMEM, "too many instances in this store");
        return NULL;
    }
    nb_wasm_instance *inst = calloc(1, sizeof *inst);
    if (!inst) {
        ierr(err, NB_ENOMEM, "out of memory");
        return NULL;
    }
    inst->store = s;
    inst->module = m;
    m->refs++;
    inst->name = name ? dup(name) : NULL;
    uint32_t ndef = m->nfuncs - m->nfunc_imports;
    inst->funcs = calloc(m->nfuncs + 1u, sizeof *inst->funcs);
    inst->tables = calloc(m->ntables + 1u, sizeof *inst->tables);
    inst->globals = calloc(m->nglobals + 1u, sizeof *inst->globals);
    inst->own_funcs = calloc(ndef + 1u, sizeof *inst->own_funcs);
    inst->elem_items = calloc(m->nelems + 1u, sizeof *inst->elem_items);
    inst->elem_counts = calloc(m->nelems + 1u, sizeof *inst->elem_counts);
    inst->data_dropped = calloc(m->ndatas + 1u, 1);
    if (!inst->funcs || !inst->tables || !inst->globals || !inst->own_funcs ||
        !inst->elem_items || !inst->elem_counts || !inst->data_dropped ||
        (name && !inst->name)) {
        ierr(err, NB_ENOMEM, "out of memory");
        instance_destroy(inst);
        return NULL;
    }
    if (resolve_imports(s, inst, err)) {
        instance_destroy(inst);
        return NULL;
    }
    for (uint32_t i = 0; i < ndef; i++) {
        nb_wasm_func *f = &inst->own_funcs[i];
        f->type = &m->types[m->func_types[m->nfunc_imports + i]];
        f->inst = inst;
        f->code = &m->codes[i];
        f->index = m->nfunc_imports + i;
        inst->funcs[m->nfunc_imports + i] = f;
    }
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const struct nbw_tabletype *tt = &m->tables[i];
        inst->tables[i] = table_new(s, tt->elem, tt->lim.min, tt->lim.max, tt->lim.has_max);
        if (!inst->tables[i]) {
            ierr(err, NB_ENOMEM, "table %u too large (%llu elements, limit %u)", i,
                 (unsigned long long)tt->lim.min, s->cfg.max_table_elems);
            instance_destroy(inst);
            return NULL;
        }
    }
    if (m->nmems > m->nmem_imports) {
        const struct nbw_limits *l = &m->mems[0];
        inst->mem = mem_new(s, l->min, l->max, l->has_max);
        if (!inst->mem) {
            ierr(err, NB_ENOMEM, "memory too large (%llu pages, limit %llu bytes)",
                 (unsigned long long)l->min, (unsigned long long)s->cfg.max_memory_bytes);
            instance_destroy(inst);
            return NULL;
        }
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        inst->globals[i] = global_new(s, m->globals[i].type, m->globals[i].mut);
        if (!inst->globals[i]) {
            ierr(err, NB_ENOMEM, "out of memory");
            instance_destroy(inst);
            return NULL;
        }
        inst->globals[i]->val = const_eval(inst, &m->globals[i].init);
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct nbw_elem *e = &m->elems[i];
        inst->elem_items[i] = calloc(e->count + 1u, sizeof(void *));
        if (!inst->elem_items[i]) {
            ierr(err, NB_ENOMEM, "out of memory");
            instance_destroy(inst);
            return NULL;
        }
        for (uint32_t k = 0; k < e->count; k++)
            inst->elem_items[i][k] = const_eval(inst, &e->items[k]).ref;
        inst->elem_counts[i] = e->count;
    }
    /* From here on the instance is live: a trap leaves its effects. */
    inst->next = s->instances;
    s->instances = inst;
    s->ninstances++;

    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct nbw_elem *e = &m->elems[i];
        if (e->mode == NBW_SEG_ACTIVE) {
            struct nbw_table *t = inst->tables[e->table];
            uint64_t off = const_eval(inst, &e->offset).u32;
            if (off + e->count > t->size) {
                nbw_trap(s, NB_WASM_TRAP_TABLE_OOB, NULL, NULL);
                ierr(err, NB_ECANCELED, "out of bounds table access (element segment %u)", i);
                if (err) err->trap = NB_WASM_TRAP_TABLE_OOB;
                return NULL;
            }
            memcpy(t->elems + off, inst->elem_items[i], (size_t)e->count * sizeof(void *));
        }
        if (e->mode != NBW_SEG_PASSIVE)
            inst->elem_counts[i] = 0;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct nbw_data *d = &m->datas[i];
        if (d->mode != NBW_SEG_ACTIVE)
            continue;
        uint64_t off = const_eval(inst, &d->offset).u32;
        uint64_t size = inst->mem ? inst->mem->size : 0;
        if (off + d->len > size) {
            nbw_trap(s, NB_WASM_TRAP_MEMORY_OOB, NULL, NULL);
            ierr(err, NB_ECANCELED, "out of bounds memory access (data segment %u)", i);
            if (err) err->trap = NB_WASM_TRAP_MEMORY_OOB;
            return NULL;
        }
        if (d->len)
            memcpy(inst->mem->data + off, d->bytes, d->len);
        inst->data_dropped[i] = 1;
    }
    if (m->has_start) {
        int r = nb_wasm_call(s, inst->funcs[m->start], NULL, 0, NULL, 0);
        if (r) {
            ierr(err, NB_ECANCELED, "start function: %s", s->trap_msg);
            if (err) err->trap = r > 0 ? r : NB_WASM_TRAP_HOST;
            return NULL;
        }
    }
    return inst;
}

int nb_wasm_register(nb_wasm_store *s, const char *as, nb_wasm_instance *inst)
{
    nb_wasm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct nbw_export *e = &m->exports[i];
        void *obj = NULL;
        switch (e->kind) {
        case NBW_EXT_FUNC: obj = inst->funcs[e->index]; break;
        case NBW_EXT_TABLE: obj = inst->tables[e->index]; break;
        case NBW_EXT_MEMORY: obj = inst->mem; break;
        case NBW_EXT_GLOBAL: obj = inst->globals[e->index]; break;
        }
        int rc = extern_add(s, as, e->name, e->kind, obj);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct nbw_export *find_export(nb_wasm_instance *inst, const char *name,
                                            size_t len, uint8_t kind)
{
    const nb_wasm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == kind && m->exports[i].name_len == len &&
            memcmp(m->exports[i].name, name, len) == 0)
            return &m->exports[i];
    return NULL;
}

nb_wasm_func *nb_wasm_find_func_n(nb_wasm_instance *inst, const char *name, size_t len)
{
    const struct nbw_export *e = find_export(inst, name, len, NBW_EXT_FUNC);
    return e ? inst->funcs[e->index] : NULL;
}

nb_wasm_func *nb_wasm_find_func(nb_wasm_instance *inst, const char *name)
{
    return nb_wasm_find_func_n(inst, name, strlen(name));
}

int nb_wasm_get_global(nb_wasm_instance *inst, const char *name, nb_wasm_val *out)
{
    return nb_wasm_get_global_n(inst, name, strlen(name), out);
}

int nb_wasm_get_global_n(nb_wasm_instance *inst, const char *name, size_t len,
                         nb_wasm_val *out)
{
    const struct nbw_export *e = find_export(inst, name, len, NBW_EXT_GLOBAL);
    if (!e)
        return NB_ENOENT;
    struct nbw_global *g = inst->globals[e->index];
    out->type = g->type;
    out->of.i64 = g->val.u64;
    if (g->type == NB_WASM_I32 || g->type == NB_WASM_F32)
        out->of.i64 = g->val.u32;
    return 0;
}

uint8_t *nb_wasm_memory(nb_wasm_instance *inst, uint64_t *size)
{
    if (!inst->mem) {
        if (size)
            *size = 0;
        return NULL;
    }
    if (size)
        *size = inst->mem->size;
    return inst->mem->data;
}

uint32_t nb_wasm_export_count(const nb_wasm_instance *inst)
{
    return inst->module->nexports;
}

const char *nb_wasm_export_name(const nb_wasm_instance *inst, uint32_t i, size_t *len,
                                int *kind)
{
    if (i >= inst->module->nexports)
        return NULL;
    const struct nbw_export *e = &inst->module->exports[i];
    if (len)
        *len = e->name_len;
    if (kind)
        *kind = e->kind;
    return e->name;
}
