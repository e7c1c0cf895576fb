/*
 * The interpreter loop (the lvm.c of the wasm engine).
 *
 * Executes code produced by translate.c (format in opcodes.h) with threaded
 * dispatch: every handler ends by jumping straight to the next handler's
 * address, which is stored in the code itself. The hot state lives in
 * locals the compiler keeps in registers: pc, the frame pointer fp, the
 * memory base and size (for the bounds check of every load and store), and
 * the fuel tick counter.
 *
 * Calls between wasm functions never recurse in C: frames are pushed on the
 * store's frame array, so guest recursion cannot exhaust the native stack;
 * depth and value-stack size are checked at each call. Host functions are
 * called from here (runtime.c checks their pointer arguments).
 *
 * Fuel, the deadline and interrupt requests are all handled by one counter
 * decremented at calls and backward branches; when it reaches zero,
 * nbw_refuel() looks at the clock, the interrupt flag and the fuel left.
 */
#include "internal.h"

#include <string.h>

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Operand fields (see opcodes.h). */
#define A1 ((uint32_t)pc[1])
#define B1 ((uint32_t)(pc[1] >> 32))
#define A2 ((uint32_t)pc[2])
#define B2 ((uint32_t)(pc[2] >> 32))
#define A3 ((uint32_t)pc[3])
#define B3 ((uint32_t)(pc[3] >> 32))

static const void *const *handler_table;

static inline uint32_t popcnt32(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0fu;
    return (x * 0x01010101u) >> 24;
}

static inline uint64_t popcnt64(uint64_t x)
{
    return popcnt32((uint32_t)x) + popcnt32((uint32_t)(x >> 32));
}

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float f32_from(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint64_t f64_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
static inline double f64_from(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }

/* min/max with wasm semantics: NaN wins (quieted), -0 < +0. */
static inline float fmin32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return f32_from(f32_bits(a) | f32_bits(b));
    return a < b ? a : b;
}
static inline float fmax32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return f32_from(f32_bits(a) & f32_bits(b));
    return a > b ? a : b;
}
static inline double fmin64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return f64_from(f64_bits(a) | f64_bits(b));
    return a < b ? a : b;
}
static inline double fmax64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return f64_from(f64_bits(a) & f64_bits(b));
    return a > b ? a : b;
}

/* Saturating conversions (the range checks of the trapping ones are the
 * same bounds, spelled in the handlers). */
static inline int32_t sat_i32(double x)
{
    if (x != x) return 0;
    if (x <= -2147483649.0) return INT32_MIN;
    if (x >= 2147483648.0) return INT32_MAX;
    return (int32_t)x;
}
static inline uint32_t sat_u32(double x)
{
    if (x != x || x <= -1.0) return 0;
    if (x >= 4294967296.0) return UINT32_MAX;
    return (uint32_t)x;
}
static inline int64_t sat_i64(double x)
{
    if (x != x) return 0;
    if (x < -9223372036854775808.0) return INT64_MIN;
    if (x >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)x;
}
static inline uint64_t sat_u64(double x)
{
    if (x != x || x <= -1.0) return 0;
    if (x >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)x;
}

static struct nbw_mem no_memory;

/* Interpreter state that is not needed by every instruction. */
struct vmstate {
    nb_wasm_store *s;
    nb_wasm_instance *inst;
    struct nbw_frame *fsp;
    struct nbw_global **globals;
    struct nbw_mem *mo;
    uint32_t ticks;
};

static __attribute__((noinline)) int vm_refuel(struct vmstate *vm)
{
    return nbw_refuel(vm->s, &vm->ticks);
}

static int run(nb_wasm_store *s, nb_wasm_func *f)
{
    static const void *const labels[NBW_OP_COUNT] = {
#define X(n) [NBW_OP_##n] = &&L_##n,
        NBW_MISCOPS(X) NBW_NUMOPS(X) NBW_SATOPS(X)
#undef X
#define X(n) [NBW_OP_##n##_I] = &&L_##n##_I,
        NBW_IMMOPS(X)
#undef X
#define X(n) [NBW_OP_##n##_ADD] = &&L_##n##_ADD, [NBW_OP_##n##_ADDI] = &&L_##n##_ADDI, \
             [NBW_OP_##n##_SHL] = &&L_##n##_SHL,
        NBW_MEMOPS(X)
#undef X
#define X(c) [NBW_OP_BR_##c] = &&L_BR_##c, [NBW_OP_BR_##c##_BACK] = &&L_BR_##c##_BACK, \
             [NBW_OP_BR_##c##_I] = &&L_BR_##c##_I, [NBW_OP_BR_##c##_I_BACK] = &&L_BR_##c##_I_BACK,
        NBW_CMPS(X)
#undef X
    };
    if (!s) {
        handler_table = labels;
        return 0;
    }

    /* Only pc, fp and the memory base and size are hot in every handler;
     * the rest lives in `vm` (its address is taken, so it stays in memory
     * and leaves the registers to the hot four). */
    const uint64_t *pc;
    nbw_slot *fp = s->sp;
    uint8_t *mem;
    uint64_t msize;
    struct vmstate vm;
    vm.s = s;
    vm.inst = f->inst;
    vm.fsp = s->fsp;
    vm.ticks = 0;
    int trap = 0;
    const struct nbw_code *cc = f->code;
    nb_wasm_func *fn;
    nbw_slot *nfp;
    const uint64_t *retpc;

#define stack_end (s->stack_end)
#define frames_end (s->frames_end)
#define RELOAD_MEM() do { mem = vm.mo->data; msize = vm.mo->size; } while (0)
#define RELOAD() do { vm.mo = vm.inst->mem ? vm.inst->mem : &no_memory; RELOAD_MEM(); \
                      vm.globals = vm.inst->globals; } while (0)
#define NEXT() goto *(const void *)(uintptr_t)pc[0]
#define TRAP(code) do { trap = (code); goto trapped; } while (0)
#define TRAP_MEM() goto trap_mem
#define TICK() do { if (UNLIKELY(vm.ticks-- == 0)) { int r_ = vm_refuel(&vm); \
                       if (r_) { vm.ticks = 0; TRAP(r_); } } } while (0)

    RELOAD();
    pc = NULL;
    if (fp + cc->frame_slots > stack_end || vm.fsp >= frames_end)
        TRAP(NB_WASM_TRAP_STACK_EXHAUSTED);
    TICK();
    /* A sentinel frame: returning to it leaves the loop. */
    vm.fsp->pc = NULL;
    vm.fsp->fp = NULL;
    vm.fsp->inst = NULL;
    vm.fsp++;
    for (uint32_t i = cc->nparams, e = cc->nparams + cc->nlocals; i < e; i++)
        fp[i].u64 = 0;
    pc = cc->code;
    NEXT();

    /* ---- control ---- */
L_UNREACHABLE:
    TRAP(NB_WASM_TRAP_UNREACHABLE);
L_BR:
    pc += (int64_t)pc[1];
    NEXT();
L_BR_BACK:
    TICK();
    pc += (int64_t)pc[1];
    NEXT();
L_BR_IFZ:
    if (fp[A1].u32 == 0) { pc += (int64_t)pc[2]; NEXT(); }
    pc += 3; NEXT();
L_BR_IFNZ:
    if (fp[A1].u32 != 0) { pc += (int64_t)pc[2]; NEXT(); }
    pc += 3; NEXT();
L_BR_IFZ_BACK:
    if (fp[A1].u32 == 0) { TICK(); pc += (int64_t)pc[2]; NEXT(); }
    pc += 3; NEXT();
L_BR_IFNZ_BACK:
    if (fp[A1].u32 != 0) { TICK(); pc += (int64_t)pc[2]; NEXT(); }
    pc += 3; NEXT();
L_BR_TABLE: {
    uint32_t i = fp[A1].u32, n = B1;
    if (i > n)
        i = n;
    TICK();
    pc += (int64_t)pc[2 + i];
    NEXT();
}
L_BR_TABLE_FWD: {
    uint32_t i = fp[A1].u32, n = B1;
    if (i > n)
        i = n;
    pc += (int64_t)pc[2 + i];
    NEXT();
}
L_RETURN1:
    fp[0] = fp[A1];
L_RETURN:
    vm.fsp--;
    if (UNLIKELY(vm.fsp->pc == NULL))
        goto done;
    pc = vm.fsp->pc;
    fp = vm.fsp->fp;
    if (vm.fsp->inst != vm.inst) {
        vm.inst = vm.fsp->inst;
        RELOAD();
    } else {
        RELOAD_MEM();
    }
    NEXT();
L_CALL:
    cc = (const struct nbw_code *)(uintptr_t)pc[2];
    nfp = fp + A1;
    if (UNLIKELY(nfp + cc->frame_slots > stack_end || vm.fsp >= frames_end))
        TRAP(NB_WASM_TRAP_STACK_EXHAUSTED);
    TICK();
    vm.fsp->pc = pc + 3;
    vm.fsp->fp = fp;
    vm.fsp->inst = vm.inst;
    vm.fsp++;
    for (uint32_t i = cc->nparams, e = cc->nparams + cc->nlocals; i < e; i++)
        nfp[i].u64 = 0;
    fp = nfp;
    pc = cc->code;
    NEXT();
L_CALL_IMPORT:
    fn = vm.inst->funcs[B1];
    nfp = fp + A1;
    retpc = pc + 2;
    goto call_func;
L_CALL_INDIRECT: {
    struct nbw_table *tb = vm.inst->tables[B2];
    uint32_t i = fp[B1].u32;
    if (UNLIKELY(i >= tb->size))
        TRAP(NB_WASM_TRAP_UNDEFINED_ELEM);
    fn = tb->elems[i];
    if (UNLIKELY(!fn))
        TRAP(NB_WASM_TRAP_UNINIT_ELEM);
    const struct nbw_functype *want = &vm.inst->module->types[A2];
    if (UNLIKELY(fn->type != want) && !nbw_types_equal(fn->type, want))
        TRAP(NB_WASM_TRAP_INDIRECT_TYPE);
    nfp = fp + A1;
    retpc = pc + 3;
    goto call_func;
}
call_func:
    if (fn->code) {
        cc = fn->code;
        if (UNLIKELY(nfp + cc->frame_slots > stack_end || vm.fsp >= frames_end))
            TRAP(NB_WASM_TRAP_STACK_EXHAUSTED);
        TICK();
        vm.fsp->pc = retpc;
        vm.fsp->fp = fp;
        vm.fsp->inst = vm.inst;
        vm.fsp++;
        for (uint32_t i = cc->nparams, e = cc->nparams + cc->nlocals; i < e; i++)
            nfp[i].u64 = 0;
        fp = nfp;
        pc = cc->code;
        if (fn->inst != vm.inst) {
            vm.inst = fn->inst;
            RELOAD();
        }
        NEXT();
    } else {
        TICK();
        uint32_t np = fn->type->nparams, nr = fn->type->nresults;
        nbw_slot *save_sp = s->sp;
        struct nbw_frame *save_fsp = s->fsp;
        s->sp = nfp + (np > nr ? np : nr);
        s->fsp = vm.fsp;
        nbw_return_fuel(s, vm.ticks);
        vm.ticks = 0;
        int r = nbw_call_host(s, fn, vm.inst, nfp);
        s->sp = save_sp;
        s->fsp = save_fsp;
        if (r) {
            /* The host call already set the message. */
            vm.fsp = s->fsp;
            return r;
        }
        RELOAD_MEM();
        pc = retpc;
        NEXT();
    }

    /* ---- variables ---- */
L_COPY:
    fp[A1] = fp[B1];
    pc += 2; NEXT();
L_COPY2:
    fp[A1] = fp[B1];
    fp[A2] = fp[B2];
    pc += 3; NEXT();
L_CONST:
    fp[A1].u64 = pc[2];
    pc += 3; NEXT();
L_SELECT:
    fp[A1] = fp[B2].u32 ? fp[B1] : fp[A2];
    pc += 3; NEXT();
L_GLOBAL_GET:
    fp[A1] = vm.globals[B1]->val;
    pc += 2; NEXT();
L_GLOBAL_SET:
    vm.globals[A1]->val = fp[B1];
    pc += 2; NEXT();

    /* ---- memory ---- */
#define LOAD_AT(T, conv, ea_expr, len) { uint64_t ea = (ea_expr); \
        if (UNLIKELY(ea + sizeof(T) > msize)) TRAP_MEM(); \
        T v; memcpy(&v, mem + ea, sizeof v); fp[A1].u64 = (conv); pc += (len); NEXT(); }
#define LOADOP(name, T, conv) \
    L_##name: LOAD_AT(T, conv, (uint64_t)fp[B1].u32 + A2, 3) \
    L_##name##_ADD: LOAD_AT(T, conv, (uint64_t)(uint32_t)(fp[B1].u32 + fp[B2].u32) + A2, 3) \
    L_##name##_ADDI: LOAD_AT(T, conv, (uint64_t)(uint32_t)(fp[B1].u32 + B2) + A2, 3) \
    L_##name##_SHL: LOAD_AT(T, conv, \
        (uint64_t)(uint32_t)(fp[B1].u32 + (fp[B2].u32 << (A3 & 31))) + A2, 4)
    LOADOP(LOAD8S, int8_t, (uint64_t)(int64_t)v)
    LOADOP(LOAD8U, uint8_t, v)
    LOADOP(LOAD16S, int16_t, (uint64_t)(int64_t)v)
    LOADOP(LOAD16U, uint16_t, v)
    LOADOP(LOAD32S, int32_t, (uint64_t)(int64_t)v)
    LOADOP(LOAD32U, uint32_t, v)
    LOADOP(LOAD64, uint64_t, v)
#define STORE_AT(T, ea_expr, len) { uint64_t ea = (ea_expr); \
        if (UNLIKELY(ea + sizeof(T) > msize)) TRAP_MEM(); \
        T v = (T)fp[B1].u64; memcpy(mem + ea, &v, sizeof v); pc += (len); NEXT(); }
#define STOREOP(name, T) \
    L_##name: STORE_AT(T, (uint64_t)fp[A1].u32 + A2, 3) \
    L_##name##_ADD: STORE_AT(T, (uint64_t)(uint32_t)(fp[A1].u32 + fp[B2].u32) + A2, 3) \
    L_##name##_ADDI: STORE_AT(T, (uint64_t)(uint32_t)(fp[A1].u32 + B2) + A2, 3) \
    L_##name##_SHL: STORE_AT(T, \
        (uint64_t)(uint32_t)(fp[A1].u32 + (fp[B2].u32 << (A3 & 31))) + A2, 4)
    STOREOP(STORE8, uint8_t)
    STOREOP(STORE16, uint16_t)
    STOREOP(STORE32, uint32_t)
    STOREOP(STORE64, uint64_t)
L_I32_ADD_SHL:
    fp[A1].u64 = (uint32_t)(fp[B1].u32 + (fp[A2].u32 << (B2 & 31)));
    pc += 3; NEXT();
L_MEMORY_SIZE:
    fp[A1].u64 = vm.mo->pages;
    pc += 2; NEXT();
L_MEMORY_GROW:
    fp[A1].u64 = (uint32_t)nbw_memory_grow(s, vm.mo, fp[B1].u32);
    RELOAD_MEM();
    pc += 2; NEXT();
L_MEMORY_FILL: {
    uint64_t d = fp[A1].u32, n = fp[A2].u32;
    if (UNLIKELY(d + n > msize))
        TRAP(NB_WASM_TRAP_MEMORY_OOB);
    memset(mem + d, (int)fp[B1].u32 & 0xff, n);
    pc += 3; NEXT();
}
L_MEMORY_COPY: {
    uint64_t d = fp[A1].u32, sa = fp[B1].u32, n = fp[A2].u32;
    if (UNLIKELY(d + n > msize || sa + n > msize))
        TRAP(NB_WASM_TRAP_MEMORY_OOB);
    memmove(mem + d, mem + sa, n);
    pc += 3; NEXT();
}
L_MEMORY_INIT: {
    uint64_t d = fp[A1].u32, sa = fp[B1].u32, n = fp[A2].u32;
    const struct nbw_data *seg = &vm.inst->module->datas[B2];
    uint64_t len = vm.inst->data_dropped[B2] ? 0 : seg->len;
    if (UNLIKELY(d + n > msize || sa + n > len))
        TRAP(NB_WASM_TRAP_MEMORY_OOB);
    if (n)
        memcpy(mem + d, seg->bytes + sa, n);
    pc += 3; NEXT();
}
L_DATA_DROP:
    vm.inst->data_dropped[A1] = 1;
    pc += 2; NEXT();

    /* ---- tables ---- */
L_TABLE_GET: {
    struct nbw_table *tb = vm.inst->tables[A2];
    uint32_t i = fp[B1].u32;
    if (UNLIKELY(i >= tb->size))
        TRAP(NB_WASM_TRAP_TABLE_OOB);
    fp[A1].ref = tb->elems[i];
    pc += 3; NEXT();
}
L_TABLE_SET: {
    struct nbw_table *tb = vm.inst->tables[A2];
    uint32_t i = fp[A1].u32;
    if (UNLIKELY(i >= tb->size))
        TRAP(NB_WASM_TRAP_TABLE_OOB);
    tb->elems[i] = fp[B1].ref;
    pc += 3; NEXT();
}
L_TABLE_SIZE:
    fp[A1].u64 = vm.inst->tables[B1]->size;
    pc += 2; NEXT();
L_TABLE_GROW:
    fp[A1].u64 = (uint32_t)nbw_table_grow(s, vm.inst->tables[B2], fp[B1].u32, fp[A2].ref);
    pc += 3; NEXT();
L_TABLE_FILL: {
    struct nbw_table *tb = vm.inst->tables[B2];
    uint64_t i = fp[A1].u32, n = fp[A2].u32;
    if (UNLIKELY(i + n > tb->size))
        TRAP(NB_WASM_TRAP_TABLE_OOB);
    void *v = fp[B1].ref;
    for (uint64_t k = 0; k < n; k++)
        tb->elems[i + k] = v;
    pc += 3; NEXT();
}
L_TABLE_COPY: {
    struct nbw_table *td = vm.inst->tables[A3], *ts = vm.inst->tables[B3];
    uint64_t d = fp[A1].u32, sa = fp[B1].u32, n = fp[A2].u32;
    if (UNLIKELY(d + n > td->size || sa + n > ts->size))
        TRAP(NB_WASM_TRAP_TABLE_OOB);
    if (n)
        memmove(td->elems + d, ts->elems + sa, n * sizeof(void *));
    pc += 4; NEXT();
}
L_TABLE_INIT: {
    struct nbw_table *td = vm.inst->tables[A3];
    uint32_t seg = B3;
    uint64_t d = fp[A1].u32, sa = fp[B1].u32, n = fp[A2].u32;
    uint64_t len = vm.inst->elem_items[seg] ? vm.inst->elem_counts[seg] : 0;
    if (UNLIKELY(d + n > td->size || sa + n > len))
        TRAP(NB_WASM_TRAP_TABLE_OOB);
    if (n)
        memcpy(td->elems + d, vm.inst->elem_items[seg] + sa, n * sizeof(void *));
    pc += 4; NEXT();
}
L_ELEM_DROP:
    vm.inst->elem_counts[A1] = 0;
    pc += 2; NEXT();
L_REF_FUNC:
    fp[A1].ref = vm.inst->funcs[B1];
    pc += 2; NEXT();

    /* ---- numeric ---- */
#define U32(n, e) L_##n: { uint32_t x = fp[B1].u32; fp[A1].u64 = (uint32_t)(e); pc += 2; NEXT(); }
#define B32(n, e) L_##n: { uint32_t x = fp[B1].u32, y = fp[A2].u32; (void)y; \
                           fp[A1].u64 = (uint32_t)(e); pc += 3; NEXT(); }
#define U64(n, e) L_##n: { uint64_t x = fp[B1].u64; fp[A1].u64 = (uint64_t)(e); pc += 2; NEXT(); }
#define B64(n, e) L_##n: { uint64_t x = fp[B1].u64, y = fp[A2].u64; (void)y; \
                           fp[A1].u64 = (uint64_t)(e); pc += 3; NEXT(); }
#define C64(n, e) L_##n: { uint64_t x = fp[B1].u64, y = fp[A2].u64; \
                           fp[A1].u64 = (uint32_t)(e); pc += 3; NEXT(); }
#define CF32(n, e) L_##n: { float x = fp[B1].f32, y = fp[A2].f32; fp[A1].u64 = (e); pc += 3; NEXT(); }
#define CF64(n, e) L_##n: { double x = fp[B1].f64, y = fp[A2].f64; fp[A1].u64 = (e); pc += 3; NEXT(); }
#define UF32(n, e) L_##n: { float x = fp[B1].f32; fp[A1].f32 = (e); pc += 2; NEXT(); }
/* Arithmetic with a NaN result gives the positive canonical NaN: guests
 * see the same bits on every host (x86 would produce a negative one), as
 * binaryen's interpreter does; the spec allows either. */
#define BF32N(n, e) L_##n: { float x = fp[B1].f32, y = fp[A2].f32; float r_ = (e); \
                            if (UNLIKELY(r_ != r_)) fp[A1].u64 = 0x7fc00000u; else fp[A1].f32 = r_; \
                            pc += 3; NEXT(); }
#define BF64N(n, e) L_##n: { double x = fp[B1].f64, y = fp[A2].f64; double r_ = (e); \
                            if (UNLIKELY(r_ != r_)) fp[A1].u64 = 0x7ff8000000000000ull; \
                            else fp[A1].f64 = r_; pc += 3; NEXT(); }
#define UF64(n, e) L_##n: { double x = fp[B1].f64; fp[A1].f64 = (e); pc += 2; NEXT(); }
#define I32S(v) ((int32_t)(v))
#define I64S(v) ((int64_t)(v))

    U32(I32_EQZ, x == 0)
    B32(I32_EQ, x == y) B32(I32_NE, x != y)
    B32(I32_LT_S, I32S(x) < I32S(y)) B32(I32_LT_U, x < y)
    B32(I32_GT_S, I32S(x) > I32S(y)) B32(I32_GT_U, x > y)
    B32(I32_LE_S, I32S(x) <= I32S(y)) B32(I32_LE_U, x <= y)
    B32(I32_GE_S, I32S(x) >= I32S(y)) B32(I32_GE_U, x >= y)
L_I64_EQZ:
    fp[A1].u64 = fp[B1].u64 == 0;
    pc += 2; NEXT();
    C64(I64_EQ, x == y) C64(I64_NE, x != y)
    C64(I64_LT_S, I64S(x) < I64S(y)) C64(I64_LT_U, x < y)
    C64(I64_GT_S, I64S(x) > I64S(y)) C64(I64_GT_U, x > y)
    C64(I64_LE_S, I64S(x) <= I64S(y)) C64(I64_LE_U, x <= y)
    C64(I64_GE_S, I64S(x) >= I64S(y)) C64(I64_GE_U, x >= y)
    CF32(F32_EQ, x == y) CF32(F32_NE, x != y) CF32(F32_LT, x < y)
    CF32(F32_GT, x > y) CF32(F32_LE, x <= y) CF32(F32_GE, x >= y)
    CF64(F64_EQ, x == y) CF64(F64_NE, x != y) CF64(F64_LT, x < y)
    CF64(F64_GT, x > y) CF64(F64_LE, x <= y) CF64(F64_GE, x >= y)

    U32(I32_CLZ, x ? __builtin_clz(x) : 32)
    U32(I32_CTZ, x ? __builtin_ctz(x) : 32)
    U32(I32_POPCNT, popcnt32(x))
    B32(I32_ADD, x + y) B32(I32_SUB, x - y) B32(I32_MUL, x * y)
L_I32_DIV_S: {
    int32_t x = fp[B1].i32, y = fp[A2].i32;
    if (UNLIKELY(y == 0)) TRAP(NB_WASM_TRAP_DIV_ZERO);
    if (UNLIKELY(x == INT32_MIN && y == -1)) TRAP(NB_WASM_TRAP_INT_OVERFLOW);
    fp[A1].u64 = (uint32_t)(x / y);
    pc += 3; NEXT();
}
L_I32_DIV_U: {
    uint32_t x = fp[B1].u32, y = fp[A2].u32;
    if (UNLIKELY(y == 0)) TRAP(NB_WASM_TRAP_DIV_ZERO);
    fp[A1].u64 = x / y;
    pc += 3; NEXT();
}
L_I32_REM_S: {
    int32_t x = fp[B1].i32, y = fp[A2].i32;
    if (UNLIKELY(y == 0)) TRAP(NB_WASM_TRAP_DIV_ZERO);
    fp[A1].u64 = y == -1 ? 0 : (uint32_t)(x % y);
    pc += 3; NEXT();
}
L_I32_REM_U: {
    uint32_t x = fp[B1].u32, y = fp[A2].u32;
    if (UNLIKELY(y == 0)) TRAP(NB_WASM_TRAP_DIV_ZERO);
    fp[A1].u64 = x % y;
    pc += 3; NEXT();
}
    B32(I32_AND, x & y) B32(I32_OR, x | y) B32(I32_XOR, x ^ y)
    B32(I32_SHL, x << (y & 31))
    B32(I32_SHR_S, (uint32_t)(I32S(x) >> (y & 31)))
    B32(I32_SHR_U, x >> (y & 31))
    B32(I32_ROTL, (x << (y & 31)) | (x >> ((32 - (y & 31)) & 31)))
    B32(I32_ROTR, (x >> (y & 31)) | (x << ((32 - (y & 31)) & 31)))

    U64(I64_CLZ, x ? (uint64_t)__builtin_clzll(x) : 64)
    U64(I64_CTZ, x ? (uint64_t)__builtin_ctzll(x) : 64)
    U64(I64_POPCNT, popcnt64(x))
    B64(I64_ADD, x + y) B64(I64_SUB, x - y) B64(I64_MUL, x * y)
L_I64_DIV_S: {
    int64_t x = fp[B1].i64, y = fp[A2].i64;
    if (UNLIKELY(y == 0)) TRAP(NB_WASM_TRAP_DIV_ZERO);
    if (UNLIKELY(x == INT64_MIN && y == -1)) TRAP(NB_WASM_TRAP_INT_OVERFLOW);
    fp[A1].i64 = x / y;
    pc += 3; NEXT();
}
L_I64_DIV_U: {
    uint64_t x = fp[B1].u64, y = fp[A2].u64;
    if (UNLIKELY(y == 0)) TRAP(NB_WASM_TRAP_DIV_ZERO);
    fp[A1].u64 = x / y;
    pc += 3; NEXT();
}
L_I64_REM_S: {
    int64_t x = fp[B1].i64, y = fp[A2].i64;
    if (UNLIKELY(y == 0)) TRAP(NB_WASM_TRAP_DIV_ZERO);
    fp[A1].i64 = y == -1 ? 0 : x % y;
    pc += 3; NEXT();
}
L_I64_REM_U: {
    uint64_t x = fp[B1].u64, y = fp[A2].u64;
    if (UNLIKELY(y == 0)) TRAP(NB_WASM_TRAP_DIV_ZERO);
    fp[A1].u64 = x % y;
    pc += 3; NEXT();
}
    B64(I64_AND, x & y) B64(I64_OR, x | y) B64(I64_XOR, x ^ y)
    B64(I64_SHL, x << (y & 63))
    B64(I64_SHR_S, (uint64_t)(I64S(x) >> (y & 63)))
    B64(I64_SHR_U, x >> (y & 63))
    B64(I64_ROTL, (x << (y & 63)) | (x >> ((64 - (y & 63)) & 63)))
    B64(I64_ROTR, (x >> (y & 63)) | (x << ((64 - (y & 63)) & 63)))

L_F32_ABS:
    fp[A1].u64 = fp[B1].u32 & 0x7fffffffu;
    pc += 2; NEXT();
L_F32_NEG:
    fp[A1].u64 = fp[B1].u32 ^ 0x80000000u;
    pc += 2; NEXT();
    UF32(F32_CEIL, __builtin_ceilf(x))
    UF32(F32_FLOOR, __builtin_floorf(x))
    UF32(F32_TRUNC, __builtin_truncf(x))
    UF32(F32_NEAREST, __builtin_rintf(x))
    UF32(F32_SQRT, __builtin_sqrtf(x))
    BF32N(F32_ADD, x + y) BF32N(F32_SUB, x - y) BF32N(F32_MUL, x * y) BF32N(F32_DIV, x / y)
    BF32N(F32_MIN, fmin32(x, y)) BF32N(F32_MAX, fmax32(x, y))
L_F32_COPYSIGN:
    fp[A1].u64 = (fp[B1].u32 & 0x7fffffffu) | (fp[A2].u32 & 0x80000000u);
    pc += 3; NEXT();
L_F64_ABS:
    fp[A1].u64 = fp[B1].u64 & 0x7fffffffffffffffull;
    pc += 2; NEXT();
L_F64_NEG:
    fp[A1].u64 = fp[B1].u64 ^ 0x8000000000000000ull;
    pc += 2; NEXT();
    UF64(F64_CEIL, __builtin_ceil(x))
    UF64(F64_FLOOR, __builtin_floor(x))
    UF64(F64_TRUNC, __builtin_trunc(x))
    UF64(F64_NEAREST, __builtin_rint(x))
    UF64(F64_SQRT, __builtin_sqrt(x))
    BF64N(F64_ADD, x + y) BF64N(F64_SUB, x - y) BF64N(F64_MUL, x * y) BF64N(F64_DIV, x / y)
    BF64N(F64_MIN, fmin64(x, y)) BF64N(F64_MAX, fmax64(x, y))
L_F64_COPYSIGN:
    fp[A1].u64 = (fp[B1].u64 & 0x7fffffffffffffffull) | (fp[A2].u64 & 0x8000000000000000ull);
    pc += 3; NEXT();

L_I32_WRAP_I64:
    fp[A1].u64 = fp[B1].u32;
    pc += 2; NEXT();
#define TRUNC(n, FT, field, lo_ok, hi_ok, T, store) L_##n: { FT x = fp[B1].field; \
        if (UNLIKELY(x != x)) TRAP(NB_WASM_TRAP_BAD_CONVERSION); \
        if (UNLIKELY(!((lo_ok) && (hi_ok)))) TRAP(NB_WASM_TRAP_INT_OVERFLOW); \
        fp[A1].u64 = store((T)x); pc += 2; NEXT(); }
#define ST32(v) (uint32_t)(v)
#define ST64(v) (uint64_t)(v)
    TRUNC(I32_TRUNC_F32_S, float, f32, x >= -2147483648.0f, x < 2147483648.0f, int32_t, ST32)
    TRUNC(I32_TRUNC_F32_U, float, f32, x > -1.0f, x < 4294967296.0f, uint32_t, ST32)
    TRUNC(I32_TRUNC_F64_S, double, f64, x > -2147483649.0, x < 2147483648.0, int32_t, ST32)
    TRUNC(I32_TRUNC_F64_U, double, f64, x > -1.0, x < 4294967296.0, uint32_t, ST32)
L_I64_EXTEND_I32_S:
    fp[A1].i64 = fp[B1].i32;
    pc += 2; NEXT();
L_I64_EXTEND_I32_U:
    fp[A1].u64 = fp[B1].u32;
    pc += 2; NEXT();
    TRUNC(I64_TRUNC_F32_S, float, f32, x >= -9223372036854775808.0f, x < 9223372036854775808.0f, int64_t, ST64)
    TRUNC(I64_TRUNC_F32_U, float, f32, x > -1.0f, x < 18446744073709551616.0f, uint64_t, ST64)
    TRUNC(I64_TRUNC_F64_S, double, f64, x >= -9223372036854775808.0, x < 9223372036854775808.0, int64_t, ST64)
    TRUNC(I64_TRUNC_F64_U, double, f64, x > -1.0, x < 18446744073709551616.0, uint64_t, ST64)
L_F32_CONVERT_I32_S: fp[A1].f32 = (float)fp[B1].i32; pc += 2; NEXT();
L_F32_CONVERT_I32_U: fp[A1].f32 = (float)fp[B1].u32; pc += 2; NEXT();
L_F32_CONVERT_I64_S: fp[A1].f32 = (float)fp[B1].i64; pc += 2; NEXT();
L_F32_CONVERT_I64_U: fp[A1].f32 = (float)fp[B1].u64; pc += 2; NEXT();
L_F32_DEMOTE_F64: fp[A1].f32 = (float)fp[B1].f64; pc += 2; NEXT();
L_F64_CONVERT_I32_S: fp[A1].f64 = (double)fp[B1].i32; pc += 2; NEXT();
L_F64_CONVERT_I32_U: fp[A1].f64 = (double)fp[B1].u32; pc += 2; NEXT();
L_F64_CONVERT_I64_S: fp[A1].f64 = (double)fp[B1].i64; pc += 2; NEXT();
L_F64_CONVERT_I64_U: fp[A1].f64 = (double)fp[B1].u64; pc += 2; NEXT();
L_F64_PROMOTE_F32: fp[A1].f64 = (double)fp[B1].f32; pc += 2; NEXT();
L_I32_REINTERPRET_F32:
L_I64_REINTERPRET_F64:
L_F32_REINTERPRET_I32:
L_F64_REINTERPRET_I64:
    fp[A1] = fp[B1];
    pc += 2; NEXT();
L_I32_EXTEND8_S: fp[A1].u64 = (uint32_t)(int32_t)(int8_t)fp[B1].u32; pc += 2; NEXT();
L_I32_EXTEND16_S: fp[A1].u64 = (uint32_t)(int32_t)(int16_t)fp[B1].u32; pc += 2; NEXT();
L_I64_EXTEND8_S: fp[A1].i64 = (int8_t)fp[B1].u64; pc += 2; NEXT();
L_I64_EXTEND16_S: fp[A1].i64 = (int16_t)fp[B1].u64; pc += 2; NEXT();
L_I64_EXTEND32_S: fp[A1].i64 = (int32_t)fp[B1].u64; pc += 2; NEXT();

L_I32_TRUNC_SAT_F32_S: fp[A1].u64 = (uint32_t)sat_i32(fp[B1].f32); pc += 2; NEXT();
L_I32_TRUNC_SAT_F32_U: fp[A1].u64 = sat_u32(fp[B1].f32); pc += 2; NEXT();
L_I32_TRUNC_SAT_F64_S: fp[A1].u64 = (uint32_t)sat_i32(fp[B1].f64); pc += 2; NEXT();
L_I32_TRUNC_SAT_F64_U: fp[A1].u64 = sat_u32(fp[B1].f64); pc += 2; NEXT();
L_I64_TRUNC_SAT_F32_S: fp[A1].i64 = sat_i64(fp[B1].f32); pc += 2; NEXT();
L_I64_TRUNC_SAT_F32_U: fp[A1].u64 = sat_u64(fp[B1].f32); pc += 2; NEXT();
L_I64_TRUNC_SAT_F64_S: fp[A1].i64 = sat_i64(fp[B1].f64); pc += 2; NEXT();
L_I64_TRUNC_SAT_F64_U: fp[A1].u64 = sat_u64(fp[B1].f64); pc += 2; NEXT();

    /* ---- immediate forms ---- */
#define I32I(n, e) L_##n##_I: { uint32_t x = fp[B1].u32, y = A2; fp[A1].u64 = (uint32_t)(e); \
                                pc += 3; NEXT(); }
#define I64I(n, e) L_##n##_I: { uint64_t x = fp[B1].u64, y = (uint64_t)(int64_t)(int32_t)A2; \
                                fp[A1].u64 = (e); pc += 3; NEXT(); }
    I32I(I32_ADD, x + y) I32I(I32_MUL, x * y) I32I(I32_AND, x & y) I32I(I32_OR, x | y)
    I32I(I32_XOR, x ^ y) I32I(I32_SHL, x << (y & 31))
    I32I(I32_SHR_S, (uint32_t)(I32S(x) >> (y & 31))) I32I(I32_SHR_U, x >> (y & 31))
    I32I(I32_EQ, x == y) I32I(I32_NE, x != y)
    I32I(I32_LT_S, I32S(x) < I32S(y)) I32I(I32_LT_U, x < y)
    I32I(I32_GT_S, I32S(x) > I32S(y)) I32I(I32_GT_U, x > y)
    I32I(I32_LE_S, I32S(x) <= I32S(y)) I32I(I32_LE_U, x <= y)
    I32I(I32_GE_S, I32S(x) >= I32S(y)) I32I(I32_GE_U, x >= y)
    I32I(I32_ROTL, (x << (y & 31)) | (x >> ((32 - (y & 31)) & 31)))
    I32I(I32_ROTR, (x >> (y & 31)) | (x << ((32 - (y & 31)) & 31)))
    I32I(I32_DIV_U, x / y) I32I(I32_REM_U, x % y)
    I64I(I64_ROTL, (x << (y & 63)) | (x >> ((64 - (y & 63)) & 63)))
    I64I(I64_ROTR, (x >> (y & 63)) | (x << ((64 - (y & 63)) & 63)))
    I64I(I64_ADD, x + y) I64I(I64_MUL, x * y) I64I(I64_AND, x & y) I64I(I64_OR, x | y)
    I64I(I64_XOR, x ^ y) I64I(I64_SHL, x << (y & 63))
    I64I(I64_SHR_S, (uint64_t)(I64S(x) >> (y & 63))) I64I(I64_SHR_U, x >> (y & 63))

    /* ---- fused compare-and-branch ---- */
#define CMP_EQ(x, y) ((x) == (y))
#define CMP_NE(x, y) ((x) != (y))
#define CMP_LT_S(x, y) (I32S(x) < I32S(y))
#define CMP_LT_U(x, y) ((x) < (y))
#define CMP_GT_S(x, y) (I32S(x) > I32S(y))
#define CMP_GT_U(x, y) ((x) > (y))
#define CMP_LE_S(x, y) (I32S(x) <= I32S(y))
#define CMP_LE_U(x, y) ((x) <= (y))
#define CMP_GE_S(x, y) (I32S(x) >= I32S(y))
#define CMP_GE_U(x, y) ((x) >= (y))
#define BRCMP(c) \
    L_BR_##c: if (CMP_##c(fp[A1].u32, fp[B1].u32)) { pc += (int64_t)pc[2]; NEXT(); } \
              pc += 3; NEXT(); \
    L_BR_##c##_BACK: if (CMP_##c(fp[A1].u32, fp[B1].u32)) { TICK(); pc += (int64_t)pc[2]; NEXT(); } \
              pc += 3; NEXT(); \
    L_BR_##c##_I: if (CMP_##c(fp[A1].u32, B1)) { pc += (int64_t)pc[2]; NEXT(); } \
              pc += 3; NEXT(); \
    L_BR_##c##_I_BACK: if (CMP_##c(fp[A1].u32, B1)) { TICK(); pc += (int64_t)pc[2]; NEXT(); } \
              pc += 3; NEXT();
    NBW_CMPS(BRCMP)

trap_mem:
    trap = NB_WASM_TRAP_MEMORY_OOB;
trapped:
    s->fsp = vm.fsp;
    nbw_return_fuel(s, vm.ticks);
    nbw_trap(s, trap, vm.inst, pc);
    return trap;
done:
    s->fsp = vm.fsp;
    nbw_return_fuel(s, vm.ticks);
    return 0;
}

const void *const *nbw_handlers(void)
{
    if (!handler_table)
        run(NULL, NULL);
    return handler_table;
}

int nbw_execute(nb_wasm_store *s, nb_wasm_func *f)
{
    struct nbw_frame *entry = s->fsp;
    int r = run(s, f);
    s->fsp = entry;
    return r;
}
