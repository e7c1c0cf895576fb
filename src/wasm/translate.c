/*
 * Function bodies: validation and translation in one pass.
 *
 * The validator is the spec's algorithm (an operand type stack and a
 * control stack with "unreachable" marking). Alongside each operand it keeps
 * where the value lives, so that the emitted code (opcodes.h) addresses
 * frame slots directly instead of pushing and popping:
 *
 *  - every stack height h has a fixed home slot (locals + h);
 *  - local.get and constants are not copied when pushed: the stack entry
 *    remembers "this is local x" / "this is constant k" and the consumer
 *    reads the local's slot (or gets an immediate form) directly;
 *  - an instruction's result followed by local.set is retargeted to write
 *    the local directly;
 *  - an i32 comparison followed by br_if or if becomes one fused
 *    compare-and-branch.
 * Lazy entries are made real ("materialised") where control flow merges
 * (block boundaries, branches) and before a local they name is overwritten.
 *
 * Branch targets are resolved here; backward branches (to loops) use
 * opcodes that charge fuel, so every loop is interruptible.
 */
#include "internal.h"

#include <neoboot/err.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { V_SLOT, V_LOCAL, V_CONST };

struct vent {
    uint8_t type; /* 0: unknown (unreachable code) */
    uint8_t kind;
    uint32_t idx;
    uint64_t k;
};

struct ctl {
    uint8_t op;          /* 0x02 block, 0x03 loop, 0x04 if, 0x05 else, 0 function */
    bool unreachable;
    uint32_t height;
    uint32_t np, nr;
    const uint8_t *params, *results;
    size_t loop_pos;     /* loop: label position */
    size_t patches;      /* chain of forward branch words (+1), 0 = none */
    size_t else_patch;   /* if: the jump to else (+1) */
};

enum { LAST_NONE, LAST_PRODUCER, LAST_CMP, LAST_EQZ, LAST_COPY };

struct tr {
    nb_wasm_module *m;
    const uint8_t *base, *p, *end;
    struct nb_wasm_error *err;
    const void *const *h;
    uint64_t *code;
    size_t n, cap, limit;
    uint32_t nparams, nlocals;     /* nlocals: params + declared */
    uint8_t *ltypes;
    uint32_t *lref;                /* pending lazy references per local */
    struct vent *vs;
    uint32_t vh, vcap, max_h, lazy_floor;
    struct ctl *cs;
    uint32_t ch, ccap;
    /* peephole state about the last emitted instruction */
    int last;
    size_t last_start;
    uint32_t last_dst;
    int last_op;                   /* the producer's op (for fusing), or -1 */
    uint32_t last_a, last_b, last_k; /* and its operands (slot or immediate) */
    int cmp;                       /* index in NBW_CMPS */
    bool cmp_imm;
    uint32_t cmp_a, cmp_b;
};

#define TRY(x) do { int rc_ = (x); if (rc_) return rc_; } while (0)

static int tfail(struct tr *t, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int tfail(struct tr *t, int code, const char *fmt, ...)
{
    if (t->err && t->err->code == 0) {
        va_list ap;
        t->err->code = code;
        t->err->offset = (size_t)(t->p - t->base);
        va_start(ap, fmt);
        vsnprintf(t->err->msg, sizeof t->err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
#define MALFORMED(t, ...) tfail((t), NB_EILSEQ, __VA_ARGS__)
#define INVALID(t, ...) tfail((t), NB_EINVAL, __VA_ARGS__)

/* ---- reading ---------------------------------------------------------- */

static int rd_byte(struct tr *t, uint8_t *b)
{
    if (t->p >= t->end)
        return MALFORMED(t, "unexpected end of function body");
    *b = *t->p++;
    return 0;
}

static int rd_u32(struct tr *t, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        uint8_t b;
        TRY(rd_byte(t, &b));
        if (i == 4 && (b & 0xf0))
            return MALFORMED(t, "integer too large");
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return MALFORMED(t, "integer representation too long");
}

static int rd_sleb(struct tr *t, int bits, int64_t *out)
{
    uint64_t v = 0;
    int maxb = (bits + 6) / 7;
    for (int i = 0; i < maxb; i++) {
        uint8_t b;
        TRY(rd_byte(t, &b));
        if (i == maxb - 1) {
            if (b & 0x80)
                return MALFORMED(t, "integer representation too long");
            /* Unused bits of the last byte must all equal the sign bit. */
            int used = bits - 7 * i;          /* value bits in this byte */
            uint8_t mask = (uint8_t)(0x7f & ~((1u << (used - 1)) - 1)); /* sign + unused */
            if ((b & mask) != 0 && (b & mask) != mask)
                return MALFORMED(t, "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (7 * (i + 1) < 64 && (b & 0x40))
                v |= ~0ull << (7 * (i + 1));
            *out = (int64_t)v;
            return 0;
        }
    }
    return MALFORMED(t, "integer representation too long");
}

/* ---- emitting ----------------------------------------------------------- */

#define PACK(a, b) ((uint64_t)(uint32_t)(a) | (uint64_t)(uint32_t)(b) << 32)

static int reserve(struct tr *t, size_t words)
{
    if (t->n + words <= t->cap)
        return 0;
    if (t->n + words > t->limit)
        return tfail(t, NB_ENOMEM, "function too large after translation");
    size_t cap = t->cap ? t->cap * 2 : 256;
    while (cap < t->n + words)
        cap *= 2;
    uint64_t *c = realloc(t->code, cap * sizeof *c);
    if (!c)
        return tfail(t, NB_ENOMEM, "out of memory");
    t->code = c;
    t->cap = cap;
    return 0;
}

static bool dead(const struct tr *t)
{
    return t->cs[t->ch - 1].unreachable;
}

/* Emit an instruction of 1..4 words; returns its position or -1 (dead code
 * or failure; failure is recorded in t->err). */
static long emit(struct tr *t, enum nbw_op op, int words, uint64_t w1, uint64_t w2, uint64_t w3)
{
    if (dead(t))
        return -1;
    if (op == NBW_OP_COPY && t->last == LAST_COPY && t->n == t->last_start + 2) {
        /* Two moves in a row (a rotation of locals, branch values): one
         * COPY2, which performs them in order. */
        if (reserve(t, 1))
            return -1;
        size_t at = t->last_start;
        t->code[at] = (uint64_t)(uintptr_t)t->h[NBW_OP_COPY2];
        t->code[at + 2] = w1;
        t->n = at + 3;
        t->last = LAST_NONE;
        return (long)at;
    }
    if (reserve(t, (size_t)words))
        return -1;
    size_t at = t->n;
    t->code[at] = (uint64_t)(uintptr_t)t->h[op];
    if (words > 1) t->code[at + 1] = w1;
    if (words > 2) t->code[at + 2] = w2;
    if (words > 3) t->code[at + 3] = w3;
    t->n += (size_t)words;
    t->last = op == NBW_OP_COPY ? LAST_COPY : LAST_NONE;
    t->last_start = at;
    return (long)at;
}

static int err_pending(const struct tr *t)
{
    return t->err && t->err->code ? t->err->code : 0;
}

static uint32_t home(const struct tr *t, uint32_t i) { return t->nlocals + i; }

/* Put entry i into its home slot. */
static void materialize(struct tr *t, uint32_t i)
{
    struct vent *e = &t->vs[i];
    if (e->kind == V_LOCAL) {
        emit(t, NBW_OP_COPY, 2, PACK(home(t, i), e->idx), 0, 0);
        t->lref[e->idx]--;
    } else if (e->kind == V_CONST) {
        emit(t, NBW_OP_CONST, 3, PACK(home(t, i), 0), e->k, 0);
    }
    e->kind = V_SLOT;
}

static void materialize_all(struct tr *t)
{
    for (uint32_t i = t->lazy_floor; i < t->vh; i++)
        materialize(t, i);
    t->lazy_floor = t->vh;
}

/* A slot from which entry i can be read. */
static uint32_t opnd(struct tr *t, uint32_t i)
{
    if (dead(t) || i >= t->vh + 1)
        return home(t, i);
    struct vent *e = &t->vs[i];
    if (e->kind == V_LOCAL)
        return e->idx;
    if (e->kind == V_CONST)
        materialize(t, i);
    return home(t, i);
}

/* ---- the operand stack -------------------------------------------------- */

static int push(struct tr *t, uint8_t type, uint8_t kind, uint32_t idx, uint64_t k)
{
    if (t->vh >= t->vcap) {
        if (t->vcap >= NBW_MAX_STACK)
            return tfail(t, NB_ENOMEM, "operand stack too deep");
        uint32_t cap = t->vcap ? t->vcap * 2 : 64;
        struct vent *v = realloc(t->vs, cap * sizeof *v);
        if (!v)
            return tfail(t, NB_ENOMEM, "out of memory");
        t->vs = v;
        t->vcap = cap;
    }
    if (dead(t) && kind != V_SLOT)
        kind = V_SLOT; /* nothing is emitted: no lazy state to track */
    t->vs[t->vh] = (struct vent){type, kind, idx, k};
    if (kind == V_LOCAL)
        t->lref[idx]++;
    t->vh++;
    if (t->vh > t->max_h)
        t->max_h = t->vh;
    return 0;
}

/* Push a result computed into its home slot; returns that slot. */
static uint32_t push_result(struct tr *t, uint8_t type)
{
    uint32_t slot = home(t, t->vh);
    if (push(t, type, V_SLOT, 0, 0))
        return slot;
    return slot;
}

/* Pop one operand of type want (0: any). *at gets its index (its home). */
static int pop(struct tr *t, uint8_t want, struct vent *out, uint32_t *at)
{
    struct ctl *c = &t->cs[t->ch - 1];
    if (t->vh == c->height) {
        if (!c->unreachable)
            return INVALID(t, "type mismatch (operand stack empty)");
        if (out) *out = (struct vent){0, V_SLOT, 0, 0};
        if (at) *at = t->vh;
        return 0;
    }
    struct vent e = t->vs[--t->vh];
    if (want && e.type && e.type != want)
        return INVALID(t, "type mismatch");
    if (e.kind == V_LOCAL)
        t->lref[e.idx]--;
    if (t->lazy_floor > t->vh)
        t->lazy_floor = t->vh;
    if (out) *out = e;
    if (at) *at = t->vh;
    return 0;
}

/* Pop and give a readable slot. The entry's kind is consulted before the
 * pop so a lazy local reference is read in place. */
static int pop_slot(struct tr *t, uint8_t want, uint32_t *slot)
{
    struct ctl *c = &t->cs[t->ch - 1];
    if (t->vh > c->height)
        *slot = opnd(t, t->vh - 1);
    else
        *slot = home(t, t->vh);
    return pop(t, want, NULL, NULL);
}

/* ---- control ------------------------------------------------------------ */

static int push_ctl(struct tr *t, uint8_t op, uint32_t np, const uint8_t *params,
                    uint32_t nr, const uint8_t *results)
{
    if (t->ch >= t->ccap) {
        if (t->ccap >= NBW_MAX_NESTING)
            return tfail(t, NB_ENOMEM, "blocks nested too deeply");
        uint32_t cap = t->ccap ? t->ccap * 2 : 16;
        struct ctl *c = realloc(t->cs, cap * sizeof *c);
        if (!c)
            return tfail(t, NB_ENOMEM, "out of memory");
        t->cs = c;
        t->ccap = cap;
    }
    struct ctl *c = &t->cs[t->ch++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->np = np;
    c->nr = nr;
    c->params = params;
    c->results = results;
    c->height = t->vh - np;
    c->unreachable = false; /* a new block is reachable until proven not */
    return 0;
}

static void set_unreachable(struct tr *t)
{
    struct ctl *c = &t->cs[t->ch - 1];
    while (t->vh > c->height)
        pop(t, 0, NULL, NULL);
    c->unreachable = true;
    t->lazy_floor = t->vh;
}

static uint32_t arity(const struct ctl *c) { return c->op == 0x03 ? c->np : c->nr; }
static const uint8_t *label_types(const struct ctl *c) { return c->op == 0x03 ? c->params : c->results; }

/* Record a forward branch word at `word` of the instruction at `start`. */
static void add_patch(struct tr *t, struct ctl *c, long start, size_t word)
{
    if (start < 0)
        return;
    t->code[word] = PACK(c->patches, word - (size_t)start);
    c->patches = word + 1;
}

static void bind_patches(struct tr *t, size_t chain, size_t target)
{
    while (chain) {
        size_t word = chain - 1;
        uint64_t v = t->code[word];
        size_t next = (uint32_t)v;
        size_t start = word - (size_t)(v >> 32);
        t->code[word] = (uint64_t)((int64_t)target - (int64_t)start);
        chain = next;
    }
}

/* Check that the top of the stack matches the label's types. */
static int check_label_types(struct tr *t, const struct ctl *L)
{
    uint32_t n = arity(L);
    const uint8_t *ty = label_types(L);
    const struct ctl *c = &t->cs[t->ch - 1];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t depth = n - 1 - i; /* from the top */
        if (t->vh - c->height <= depth) {
            if (!c->unreachable)
                return INVALID(t, "type mismatch (branch arity)");
            continue;
        }
        uint8_t have = t->vs[t->vh - 1 - depth].type;
        if (have && have != ty[i])
            return INVALID(t, "type mismatch (branch value)");
    }
    return 0;
}

/* Moves that put the branch values where label L expects them; *needed
 * tells whether any move is required. emit_it = false only checks. */
static void branch_moves(struct tr *t, const struct ctl *L, bool emit_it, bool *needed)
{
    uint32_t n = arity(L);
    *needed = false;
    if (dead(t))
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t src_i = t->vh - n + i;
        uint32_t dst = home(t, L->height + i);
        struct vent *e = &t->vs[src_i];
        if (e->kind == V_SLOT && home(t, src_i) == dst)
            continue;
        *needed = true;
        if (!emit_it)
            continue;
        if (e->kind == V_CONST)
            emit(t, NBW_OP_CONST, 3, PACK(dst, 0), e->k, 0);
        else
            emit(t, NBW_OP_COPY, 2, PACK(dst, e->kind == V_LOCAL ? e->idx : home(t, src_i)), 0, 0);
    }
}

/* An unconditional jump to label L (after branch_moves). */
static void emit_jump(struct tr *t, struct ctl *L)
{
    if (L->op == 0x03) {
        long at = emit(t, NBW_OP_BR_BACK, 2, 0, 0, 0);
        if (at >= 0)
            t->code[at + 1] = (uint64_t)((int64_t)L->loop_pos - at);
    } else {
        long at = emit(t, NBW_OP_BR, 2, 0, 0, 0);
        add_patch(t, L, at, (size_t)at + 1);
    }
}

/* Conditional jump with already-built op (fused or plain); word 2 holds the
 * offset in all conditional forms. */
static void emit_cond_jump(struct tr *t, struct ctl *L, enum nbw_op fwd, enum nbw_op back,
                           uint64_t w1)
{
    if (L->op == 0x03) {
        long at = emit(t, back, 3, w1, 0, 0);
        if (at >= 0)
            t->code[at + 2] = (uint64_t)((int64_t)L->loop_pos - at);
    } else {
        long at = emit(t, fwd, 3, w1, 0, 0);
        add_patch(t, L, at, (size_t)at + 2);
    }
}

static const enum nbw_op cmp_rr[] = {
#define X(c) NBW_OP_BR_##c,
    NBW_CMPS(X)
#undef X
};
static const enum nbw_op cmp_ri[] = {
#define X(c) NBW_OP_BR_##c##_I,
    NBW_CMPS(X)
#undef X
};
/* Negations, for "if": EQ<->NE, LT_S<->GE_S, LT_U<->GE_U, GT_S<->LE_S, GT_U<->LE_U */
static const int cmp_not[] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};
/* Operand swaps (a OP b == b OP' a). */
static const int cmp_swap[] = {0, 1, 4, 5, 2, 3, 8, 9, 6, 7};

/* Branch to L if cond: uses the fused form when the condition was just
 * computed by an i32 comparison. negate: branch when false (for if). */
static void emit_branch_if(struct tr *t, struct ctl *L, uint32_t cond_slot, bool negate)
{
    /* Fuse only if the condition is the value that comparison produced
     * (a compare deeper in the stack with another condition on top must
     * stay as it is). */
    if (t->last == LAST_CMP && t->n == t->last_start + 3 && t->last_dst == cond_slot) {
        int c = negate ? cmp_not[t->cmp] : t->cmp;
        t->n = t->last_start;
        t->last = LAST_NONE;
        enum nbw_op f = t->cmp_imm ? cmp_ri[c] : cmp_rr[c];
        emit_cond_jump(t, L, f, (enum nbw_op)(f + 1), PACK(t->cmp_a, t->cmp_b));
        return;
    }
    if (t->last == LAST_EQZ && t->n == t->last_start + 2 && t->last_dst == cond_slot) {
        t->n = t->last_start;
        t->last = LAST_NONE;
        uint32_t a = t->cmp_a;
        if (negate)
            emit_cond_jump(t, L, NBW_OP_BR_IFNZ, NBW_OP_BR_IFNZ_BACK, PACK(a, 0));
        else
            emit_cond_jump(t, L, NBW_OP_BR_IFZ, NBW_OP_BR_IFZ_BACK, PACK(a, 0));
        return;
    }
    if (negate)
        emit_cond_jump(t, L, NBW_OP_BR_IFZ, NBW_OP_BR_IFZ_BACK, PACK(cond_slot, 0));
    else
        emit_cond_jump(t, L, NBW_OP_BR_IFNZ, NBW_OP_BR_IFNZ_BACK, PACK(cond_slot, 0));
}

static void bind_label(struct tr *t)
{
    t->last = LAST_NONE;
}

/* ---- block types -------------------------------------------------------- */

static int rd_blocktype(struct tr *t, struct ctl *tmp)
{
    if (t->p >= t->end)
        return MALFORMED(t, "unexpected end");
    uint8_t b = *t->p;
    tmp->np = tmp->nr = 0;
    tmp->params = tmp->results = NULL;
    if (b == 0x40) {
        t->p++;
        return 0;
    }
    if (b == NB_WASM_I32 || b == NB_WASM_I64 || b == NB_WASM_F32 || b == NB_WASM_F64 ||
        b == NB_WASM_FUNCREF || b == NB_WASM_EXTERNREF) {
        /* Point at static storage: ctl entries move when the stack grows. */
        static const uint8_t vts[] = {NB_WASM_I32, NB_WASM_I64, NB_WASM_F32, NB_WASM_F64,
                                      NB_WASM_FUNCREF, NB_WASM_EXTERNREF};
        t->p++;
        tmp->results = memchr(vts, b, sizeof vts);
        tmp->nr = 1;
        return 0;
    }
    int64_t idx;
    TRY(rd_sleb(t, 33, &idx));
    if (idx < 0)
        return MALFORMED(t, "malformed block type");
    if ((uint64_t)idx >= t->m->ntypes)
        return INVALID(t, "unknown type %lld", (long long)idx);
    const struct nbw_functype *ft = &t->m->types[idx];
    tmp->np = ft->nparams;
    tmp->params = ft->params;
    tmp->nr = ft->nresults;
    tmp->results = ft->results;
    return 0;
}

/* Pop block params (checked) and open the block. */
static int open_block(struct tr *t, uint8_t op, struct ctl *bt)
{
    for (uint32_t i = bt->np; i-- > 0;) {
        struct ctl *c = &t->cs[t->ch - 1];
        if (t->vh - c->height <= bt->np - 1 - i) {
            if (!c->unreachable)
                return INVALID(t, "type mismatch (block parameters)");
            continue;
        }
        uint8_t have = t->vs[t->vh - bt->np + i].type;
        if (have && have != bt->params[i])
            return INVALID(t, "type mismatch (block parameter)");
    }
    if (t->vh - t->cs[t->ch - 1].height < bt->np) {
        /* Unreachable parent (checked above): the polymorphic stack
         * supplies the missing parameters as values of unknown type. */
        uint32_t missing = bt->np - (t->vh - t->cs[t->ch - 1].height);
        for (uint32_t i = 0; i < missing; i++)
            TRY(push(t, 0, V_SLOT, 0, 0));
    }
    materialize_all(t);
    TRY(push_ctl(t, op, bt->np, bt->params, bt->nr, bt->results));
    struct ctl *c = &t->cs[t->ch - 1];
    c->unreachable = false;
    /* A block inside unreachable code validates as usual; its code is
     * emitted but can never run (nothing branches into it). */
    return 0;
}

/* ---- memory access -------------------------------------------------------- */

static int rd_memarg(struct tr *t, uint32_t natural_log2, uint32_t *offset)
{
    uint32_t align;
    TRY(rd_u32(t, &align));
    TRY(rd_u32(t, offset));
    if (align >= 32)
        return MALFORMED(t, "malformed memop flags");
    if (align > natural_log2)
        return INVALID(t, "alignment must not be larger than natural");
    if (t->m->nmems == 0)
        return INVALID(t, "unknown memory 0");
    return 0;
}

/* ---- numeric operators ------------------------------------------------------ */

struct numinfo {
    uint8_t nargs, in, out;
};

static struct numinfo num_info(uint8_t op)
{
    const uint8_t I = NB_WASM_I32, L = NB_WASM_I64, F = NB_WASM_F32, D = NB_WASM_F64;
    if (op == 0x45) return (struct numinfo){1, I, I};
    if (op <= 0x4f) return (struct numinfo){2, I, I};
    if (op == 0x50) return (struct numinfo){1, L, I};
    if (op <= 0x5a) return (struct numinfo){2, L, I};
    if (op <= 0x60) return (struct numinfo){2, F, I};
    if (op <= 0x66) return (struct numinfo){2, D, I};
    if (op <= 0x69) return (struct numinfo){1, I, I};
    if (op <= 0x78) return (struct numinfo){2, I, I};
    if (op <= 0x7b) return (struct numinfo){1, L, L};
    if (op <= 0x8a) return (struct numinfo){2, L, L};
    if (op <= 0x91) return (struct numinfo){1, F, F};
    if (op <= 0x98) return (struct numinfo){2, F, F};
    if (op <= 0x9f) return (struct numinfo){1, D, D};
    if (op <= 0xa6) return (struct numinfo){2, D, D};
    switch (op) {
    case 0xa7: return (struct numinfo){1, L, I};
    case 0xa8: case 0xa9: return (struct numinfo){1, F, I};
    case 0xaa: case 0xab: return (struct numinfo){1, D, I};
    case 0xac: case 0xad: return (struct numinfo){1, I, L};
    case 0xae: case 0xaf: return (struct numinfo){1, F, L};
    case 0xb0: case 0xb1: return (struct numinfo){1, D, L};
    case 0xb2: case 0xb3: return (struct numinfo){1, I, F};
    case 0xb4: case 0xb5: return (struct numinfo){1, L, F};
    case 0xb6: return (struct numinfo){1, D, F};
    case 0xb7: case 0xb8: return (struct numinfo){1, I, D};
    case 0xb9: case 0xba: return (struct numinfo){1, L, D};
    case 0xbb: return (struct numinfo){1, F, D};
    case 0xbc: return (struct numinfo){1, F, I};
    case 0xbd: return (struct numinfo){1, D, L};
    case 0xbe: return (struct numinfo){1, I, F};
    case 0xbf: return (struct numinfo){1, L, D};
    case 0xc0: case 0xc1: return (struct numinfo){1, I, I};
    default: return (struct numinfo){1, L, L}; /* 0xc2..0xc4 */
    }
}

/* The immediate form of a wasm binary op, or -1. */
static int imm_form(uint8_t op)
{
    switch (op) {
    case 0x6a: return NBW_OP_I32_ADD_I;
    case 0x6c: return NBW_OP_I32_MUL_I;
    case 0x71: return NBW_OP_I32_AND_I;
    case 0x72: return NBW_OP_I32_OR_I;
    case 0x73: return NBW_OP_I32_XOR_I;
    case 0x74: return NBW_OP_I32_SHL_I;
    case 0x75: return NBW_OP_I32_SHR_S_I;
    case 0x76: return NBW_OP_I32_SHR_U_I;
    case 0x46: return NBW_OP_I32_EQ_I;
    case 0x47: return NBW_OP_I32_NE_I;
    case 0x48: return NBW_OP_I32_LT_S_I;
    case 0x49: return NBW_OP_I32_LT_U_I;
    case 0x4a: return NBW_OP_I32_GT_S_I;
    case 0x4b: return NBW_OP_I32_GT_U_I;
    case 0x4c: return NBW_OP_I32_LE_S_I;
    case 0x4d: return NBW_OP_I32_LE_U_I;
    case 0x4e: return NBW_OP_I32_GE_S_I;
    case 0x4f: return NBW_OP_I32_GE_U_I;
    case 0x77: return NBW_OP_I32_ROTL_I;
    case 0x78: return NBW_OP_I32_ROTR_I;
    case 0x6e: return NBW_OP_I32_DIV_U_I;
    case 0x70: return NBW_OP_I32_REM_U_I;
    case 0x89: return NBW_OP_I64_ROTL_I;
    case 0x8a: return NBW_OP_I64_ROTR_I;
    case 0x7c: return NBW_OP_I64_ADD_I;
    case 0x7e: return NBW_OP_I64_MUL_I;
    case 0x83: return NBW_OP_I64_AND_I;
    case 0x84: return NBW_OP_I64_OR_I;
    case 0x85: return NBW_OP_I64_XOR_I;
    case 0x86: return NBW_OP_I64_SHL_I;
    case 0x87: return NBW_OP_I64_SHR_S_I;
    case 0x88: return NBW_OP_I64_SHR_U_I;
    default: return -1;
    }
}

static bool commutative(uint8_t op)
{
    switch (op) {
    case 0x46: case 0x47: case 0x6a: case 0x6c: case 0x71: case 0x72: case 0x73:
    case 0x7c: case 0x7e: case 0x83: case 0x84: case 0x85:
        return true;
    default:
        return false;
    }
}

static void note_producer_op(struct tr *t, long at, uint32_t dst, int op, uint32_t a, uint32_t b)
{
    if (at < 0)
        return;
    t->last = LAST_PRODUCER;
    t->last_start = (size_t)at;
    t->last_dst = dst;
    t->last_op = op;
    t->last_a = a;
    t->last_b = b;
}

static void note_producer(struct tr *t, long at, uint32_t dst)
{
    note_producer_op(t, at, dst, -1, 0, 0);
}

/* If the instruction just emitted is an i32 add whose result (in `slot`)
 * is only an address about to be used, remove it and say how to fold it:
 * 1: a + b (slots), 2: a + imm, 3: a + (b << *k). */
static int take_address_add(struct tr *t, uint32_t slot, uint32_t *a, uint32_t *b, uint32_t *k)
{
    if (t->last != LAST_PRODUCER || t->n != t->last_start + 3 || t->last_dst != slot)
        return 0;
    int kind = t->last_op == NBW_OP_I32_ADD ? 1 : t->last_op == NBW_OP_I32_ADD_I ? 2
             : t->last_op == NBW_OP_I32_ADD_SHL ? 3 : 0;
    if (!kind)
        return 0;
    *a = t->last_a;
    *b = t->last_b;
    *k = t->last_k;
    t->n = t->last_start;
    t->last = LAST_NONE;
    return kind;
}

/* Emit load or store `op` for data slot `v` (a load's result, a store's
 * value) at the address folded by take_address_add() (base x), or plainly
 * at slot `a`. Loads pack (v|address), stores (address|v). */
static long emit_mem(struct tr *t, enum nbw_op op, int fold, uint32_t v, uint32_t a,
                     uint32_t off, uint32_t x, uint32_t y, uint32_t k)
{
    bool store = op >= NBW_OP_STORE8 && op <= NBW_OP_STORE64;
    uint32_t base = fold ? x : a;
    uint64_t w1 = store ? PACK(base, v) : PACK(v, base);
    if (!fold)
        return emit(t, op, 3, w1, off, 0);
    enum nbw_op f = (enum nbw_op)(NBW_OP_LOAD8S_ADD + 3 * (op - NBW_OP_LOAD8S) + (fold - 1));
    if (fold == 3)
        return emit(t, f, 4, w1, PACK(off, y), k);
    return emit(t, f, 3, w1, PACK(off, y), 0);
}

static int do_numeric(struct tr *t, uint8_t op)
{
    struct numinfo ni = num_info(op);
    /* Reinterpretations and wrap leave the bits alone: only the type of
     * the stack entry changes (i32 readers ignore the upper half). */
    if (op == 0xa7 || (op >= 0xbc && op <= 0xbf)) {
        struct ctl *c = &t->cs[t->ch - 1];
        if (t->vh == c->height) {
            TRY(pop(t, ni.in, NULL, NULL));
            push(t, ni.out, V_SLOT, 0, 0);
            return err_pending(t);
        }
        struct vent *e = &t->vs[t->vh - 1];
        if (e->type && e->type != ni.in)
            return INVALID(t, "type mismatch");
        e->type = ni.out;
        if (e->kind == V_CONST && op == 0xa7)
            e->k = (uint32_t)e->k;
        return 0;
    }
    if (ni.nargs == 1) {
        uint32_t a;
        TRY(pop_slot(t, ni.in, &a));
        uint32_t d = push_result(t, ni.out);
        long at = emit(t, NBW_OP_FROM_WASM(op), 2, PACK(d, a), 0, 0);
        if (op == 0x45 && at >= 0) {
            t->last = LAST_EQZ;
            t->last_start = (size_t)at;
            t->last_dst = d;
            t->cmp_a = a;
        } else {
            note_producer(t, at, d);
        }
        return err_pending(t);
    }
    /* Binary. Look at the operands before popping for immediate forms. */
    struct ctl *c = &t->cs[t->ch - 1];
    int imm = imm_form(op);
    bool is_cmp = op >= 0x46 && op <= 0x4f;
    if (!dead(t) && t->vh >= c->height + 2) {
        struct vent *ea = &t->vs[t->vh - 2], *eb = &t->vs[t->vh - 1];
        if (ea->type == ni.in && eb->type == ni.in) {
            bool i64 = ni.in == NB_WASM_I64;
            uint64_t k = 0;
            int which = 0; /* 2: b is const, 1: a is const (commutative) */
            if (eb->kind == V_CONST && ea->kind != V_CONST)
                which = 2, k = eb->k;
            else if (ea->kind == V_CONST && eb->kind != V_CONST && (commutative(op) || is_cmp))
                which = 1, k = ea->k;
            bool fits = !i64 || (int64_t)k == (int64_t)(int32_t)k;
            uint8_t wop = op;
            int cmpi = is_cmp ? op - 0x46 : -1;
            if (which == 1 && is_cmp) {
                cmpi = cmp_swap[cmpi];
                wop = (uint8_t)(0x46 + cmpi);
            }
            if (which == 2 && (op == 0x6b || op == 0x7d)) { /* sub k -> add -k */
                wop = op == 0x6b ? 0x6a : 0x7c;
                k = (uint64_t)(-(int64_t)k);
                if (!i64)
                    k = (uint32_t)k;
                fits = !i64 || (int64_t)k == (int64_t)(int32_t)k;
            }
            imm = imm_form(wop);
            if ((wop == 0x6e || wop == 0x70) && (which != 2 || (uint32_t)k == 0))
                imm = -1; /* x / 0 must trap: the generic form does */
            if (which && imm >= 0 && fits) {
                uint32_t a = opnd(t, t->vh - (which == 2 ? 2 : 1));
                pop(t, ni.in, NULL, NULL);
                pop(t, ni.in, NULL, NULL);
                uint32_t d = push_result(t, ni.out);
                long at = emit(t, (enum nbw_op)imm, 3, PACK(d, a), (uint32_t)k, 0);
                if (!is_cmp) {
                    note_producer_op(t, at, d, imm, a, (uint32_t)k);
                    return err_pending(t);
                }
                if (is_cmp && at >= 0) {
                    t->last = LAST_CMP;
                    t->last_start = (size_t)at;
                    t->last_dst = d;
                    t->cmp = cmpi;
                    t->cmp_imm = true;
                    t->cmp_a = a;
                    t->cmp_b = (uint32_t)k;
                } else {
                    note_producer(t, at, d);
                }
                return err_pending(t);
            }
        }
    }
    uint32_t b, a;
    TRY(pop_slot(t, ni.in, &b));
    TRY(pop_slot(t, ni.in, &a));
    uint32_t d = push_result(t, ni.out);
    /* base + (i << k): one instruction when the shift was just computed
     * into one of the operands. */
    if (op == 0x6a && t->last == LAST_PRODUCER && t->last_op == NBW_OP_I32_SHL_I &&
        t->n == t->last_start + 3 && (t->last_dst == a || t->last_dst == b) && a != b) {
        uint32_t base = t->last_dst == a ? b : a, idx = t->last_a, k = t->last_b & 31;
        t->n = t->last_start;
        t->last = LAST_NONE;
        long at = emit(t, NBW_OP_I32_ADD_SHL, 3, PACK(d, base), PACK(idx, k), 0);
        note_producer_op(t, at, d, NBW_OP_I32_ADD_SHL, base, idx);
        t->last_k = k;
        return err_pending(t);
    }
    long at = emit(t, NBW_OP_FROM_WASM(op), 3, PACK(d, a), b, 0);
    if (!is_cmp) {
        note_producer_op(t, at, d, NBW_OP_FROM_WASM(op), a, b);
        return err_pending(t);
    }
    if (is_cmp && at >= 0) {
        t->last = LAST_CMP;
        t->last_start = (size_t)at;
        t->last_dst = d;
        t->cmp = op - 0x46;
        t->cmp_imm = false;
        t->cmp_a = a;
        t->cmp_b = b;
    } else {
        note_producer(t, at, d);
    }
    return err_pending(t);
}

/* ---- locals ---------------------------------------------------------------- */

/* Before local x changes, entries still naming it get their own copy. */
static void flush_local_refs(struct tr *t, uint32_t x)
{
    for (uint32_t i = t->vh; i-- > t->lazy_floor && t->lref[x] > 0;)
        if (t->vs[i].kind == V_LOCAL && t->vs[i].idx == x)
            materialize(t, i);
}

/* Store the entry at index i into local x (the entry stays as it is). */
static void store_local(struct tr *t, uint32_t i, uint32_t x)
{
    if (dead(t))
        return;
    struct vent e = t->vs[i];
    size_t before = t->n;
    if (t->lref[x] > 0)
        flush_local_refs(t, x);
    e = t->vs[i];
    if (e.kind == V_SLOT && (t->last == LAST_PRODUCER || t->last == LAST_CMP ||
                             t->last == LAST_EQZ) && t->n == before &&
        t->last_dst == home(t, i) && before > t->last_start) {
        /* Retarget the producer: it writes the local directly. */
        uint64_t *w = &t->code[t->last_start + 1];
        *w = (*w & 0xffffffff00000000ull) | x;
        t->last = LAST_NONE;
        /* The entry itself is now "local x". */
        t->vs[i].kind = V_LOCAL;
        t->vs[i].idx = x;
        t->lref[x]++;
        if (t->lazy_floor > i)
            t->lazy_floor = i;
        return;
    }
    if (e.kind == V_LOCAL) {
        if (e.idx != x)
            emit(t, NBW_OP_COPY, 2, PACK(x, e.idx), 0, 0);
    } else if (e.kind == V_CONST) {
        emit(t, NBW_OP_CONST, 3, PACK(x, 0), e.k, 0);
    } else {
        emit(t, NBW_OP_COPY, 2, PACK(x, home(t, i)), 0, 0);
    }
}

/* ---- the function body ------------------------------------------------------- */

static int end_block(struct tr *t)
{
    struct ctl *c = &t->cs[t->ch - 1];
    /* Exactly the results remain (fewer if unreachable: the polymorphic
     * stack supplies the rest), with the block's result types. */
    if (t->vh - c->height != c->nr && !(c->unreachable && t->vh - c->height < c->nr))
        return INVALID(t, "type mismatch (block results)");
    for (uint32_t i = 0; i < t->vh - c->height; i++) {
        uint8_t have = t->vs[c->height + i].type;
        uint32_t ri = c->nr - (t->vh - c->height) + i;
        if (have && have != c->results[ri])
            return INVALID(t, "type mismatch (block result)");
    }
    return 0;
}

static int do_end(struct tr *t)
{
    struct ctl *c = &t->cs[t->ch - 1];
    TRY(end_block(t));
    if (c->op == 0x04 && !(c->np == c->nr && (c->np == 0 || memcmp(c->params, c->results, c->np) == 0)))
        return INVALID(t, "type mismatch (if without else)");
    if (!c->unreachable)
        materialize_all(t);
    if (c->op == 0) {
        /* Function end: results to slots 0.., then return. */
        return 0;
    }
    /* Pop the block and push its results as real slots. */
    uint32_t height = c->height, nr = c->nr;
    const uint8_t *res = c->results;
    size_t patches = c->patches, elsep = c->else_patch;
    t->ch--;
    while (t->vh > height)
        pop(t, 0, NULL, NULL);
    for (uint32_t i = 0; i < nr; i++)
        TRY(push(t, res[i], V_SLOT, 0, 0));
    t->lazy_floor = t->vh;
    bind_patches(t, patches, t->n);
    bind_patches(t, elsep, t->n);
    bind_label(t);
    return 0;
}

static void emit_return(struct tr *t, uint32_t nr)
{
    if (dead(t))
        return;
    if (nr == 1) {
        struct vent *e = &t->vs[t->vh - 1];
        if (e->kind == V_CONST) {
            emit(t, NBW_OP_CONST, 3, PACK(0, 0), e->k, 0);
        } else {
            uint32_t s = e->kind == V_LOCAL ? e->idx : home(t, t->vh - 1);
            emit(t, NBW_OP_RETURN1, 2, PACK(s, 0), 0, 0);
            return;
        }
    } else {
        /* Values go home first (slots 0.. may be locals that other values
         * still name). This path ends in a return, and may be conditional
         * (br_if, br_table): the translator's stack state is left alone. */
        for (uint32_t i = t->vh - nr; i < t->vh; i++) {
            const struct vent *e = &t->vs[i];
            if (e->kind == V_LOCAL)
                emit(t, NBW_OP_COPY, 2, PACK(home(t, i), e->idx), 0, 0);
            else if (e->kind == V_CONST)
                emit(t, NBW_OP_CONST, 3, PACK(home(t, i), 0), e->k, 0);
        }
        for (uint32_t i = 0; i < nr; i++) {
            uint32_t s = home(t, t->vh - nr + i);
            if (s != i)
                emit(t, NBW_OP_COPY, 2, PACK(i, s), 0, 0);
        }
    }
    emit(t, NBW_OP_RETURN, 1, 0, 0, 0);
}

static int check_table(struct tr *t, uint32_t x)
{
    if (x >= t->m->ntables)
        return INVALID(t, "unknown table %u", x);
    return 0;
}

static int do_call(struct tr *t, const struct nbw_functype *ft, enum nbw_op op,
                   uint64_t w1b, uint64_t w2, uint32_t idx_slot, int words)
{
    for (uint32_t i = ft->nparams; i-- > 0;) {
        struct ctl *c = &t->cs[t->ch - 1];
        uint32_t depth = ft->nparams - 1 - i;
        if (t->vh - c->height <= depth) {
            if (!c->unreachable)
                return INVALID(t, "type mismatch (call arguments)");
            continue;
        }
        uint8_t have = t->vs[t->vh - 1 - depth].type;
        if (have && have != ft->params[i])
            return INVALID(t, "type mismatch (call argument)");
    }
    uint32_t base;
    if (t->vh - t->cs[t->ch - 1].height < ft->nparams) {
        base = t->cs[t->ch - 1].height;
    } else {
        base = t->vh - ft->nparams;
        for (uint32_t i = base; i < t->vh; i++)
            materialize(t, i);
    }
    uint32_t argbase = home(t, base);
    if (op == NBW_OP_CALL_INDIRECT)
        emit(t, op, words, PACK(argbase, idx_slot), w2, 0);
    else
        emit(t, op, words, PACK(argbase, w1b), w2, 0);
    for (uint32_t i = 0; i < ft->nparams; i++)
        TRY(pop(t, 0, NULL, NULL));
    for (uint32_t i = 0; i < ft->nresults; i++)
        TRY(push(t, ft->results[i], V_SLOT, 0, 0));
    /* Results may need room beyond the arguments. */
    if (base + ft->nresults > t->max_h)
        t->max_h = base + ft->nresults;
    if (base + ft->nparams > t->max_h)
        t->max_h = base + ft->nparams;
    t->lazy_floor = t->vh < t->lazy_floor ? t->vh : t->lazy_floor;
    return err_pending(t);
}

static int body(struct tr *t)
{
    nb_wasm_module *m = t->m;
    for (;;) {
        if (err_pending(t))
            return err_pending(t);
        uint8_t op;
        TRY(rd_byte(t, &op));
        switch (op) {
        case 0x00: /* unreachable */
            emit(t, NBW_OP_UNREACHABLE, 1, 0, 0, 0);
            set_unreachable(t);
            break;
        case 0x01: /* nop */
            break;
        case 0x02: case 0x03: { /* block, loop */
            struct ctl bt = {0};
            TRY(rd_blocktype(t, &bt));
            TRY(open_block(t, op, &bt));
            struct ctl *c = &t->cs[t->ch - 1];
            if (op == 0x03) {
                c->loop_pos = t->n;
                bind_label(t);
            }
            c->unreachable = false;
            break;
        }
        case 0x04: { /* if */
            struct ctl bt = {0};
            TRY(rd_blocktype(t, &bt));
            uint32_t cond;
            TRY(pop_slot(t, NB_WASM_I32, &cond));
            /* The condition's compare may be fused only if opening the
             * block emits nothing in between: check lazies first. */
            bool lazies = false;
            for (uint32_t i = t->lazy_floor; i < t->vh; i++)
                if (t->vs[i].kind != V_SLOT)
                    lazies = true;
            if (lazies)
                t->last = LAST_NONE;
            TRY(open_block(t, op, &bt));
            struct ctl *c = &t->cs[t->ch - 1];
            bool was_dead = t->ch >= 2 && t->cs[t->ch - 2].unreachable;
            if (!was_dead) {
                /* Jump to else/end when false. Patches chain in else_patch. */
                size_t save = c->patches;
                c->patches = 0;
                emit_branch_if(t, c, cond, true);
                c->else_patch = c->patches;
                c->patches = save;
            }
            break;
        }
        case 0x05: { /* else */
            struct ctl *c = &t->cs[t->ch - 1];
            if (c->op != 0x04)
                return INVALID(t, "else without if");
            TRY(end_block(t));
            if (!c->unreachable) {
                materialize_all(t);
                long at = emit(t, NBW_OP_BR, 2, 0, 0, 0);
                add_patch(t, c, at, (size_t)at + 1);
            }
            while (t->vh > c->height)
                pop(t, 0, NULL, NULL);
            bool parent_dead = t->ch >= 2 && t->cs[t->ch - 2].unreachable;
            c->op = 0x05;
            c->unreachable = false;
            if (!parent_dead) {
                bind_patches(t, c->else_patch, t->n);
            }
            c->else_patch = 0;
            if (parent_dead)
                c->unreachable = false;
            for (uint32_t i = 0; i < c->np; i++)
                TRY(push(t, c->params[i], V_SLOT, 0, 0));
            t->lazy_floor = t->vh;
            bind_label(t);
            break;
        }
        case 0x0b: { /* end */
            if (t->ch == 1) {
                TRY(end_block(t));
                struct ctl *c = &t->cs[0];
                if (!c->unreachable)
                    emit_return(t, c->nr);
                /* Branches to the function label land on a return. */
                if (c->patches) {
                    c->unreachable = false;
                    bind_patches(t, c->patches, t->n);
                    emit(t, NBW_OP_RETURN, 1, 0, 0, 0);
                }
                t->ch = 0;
                return err_pending(t);
            }
            TRY(do_end(t));
            break;
        }
        case 0x0c: case 0x0d: { /* br, br_if */
            uint32_t l;
            TRY(rd_u32(t, &l));
            if (l >= t->ch)
                return INVALID(t, "unknown label %u", l);
            uint32_t cond = 0;
            if (op == 0x0d)
                TRY(pop_slot(t, NB_WASM_I32, &cond));
            struct ctl *L = &t->cs[t->ch - 1 - l];
            TRY(check_label_types(t, L));
            if (L->op == 0 && !dead(t)) {
                /* Branch to the function's label is a return. */
                uint32_t nr = L->nr;
                if (op == 0x0c) {
                    emit_return(t, nr);
                } else {
                    long at = emit(t, NBW_OP_BR_IFZ, 3, PACK(cond, 0), 0, 0);
                    emit_return(t, nr);
                    if (at >= 0)
                        t->code[at + 2] = (uint64_t)((int64_t)t->n - at);
                    bind_label(t);
                }
            } else if (op == 0x0c) {
                bool needed;
                branch_moves(t, L, true, &needed);
                emit_jump(t, L);
            } else {
                bool needed;
                branch_moves(t, L, false, &needed);
                if (!needed) {
                    emit_branch_if(t, L, cond, false);
                } else {
                    long at = emit(t, NBW_OP_BR_IFZ, 3, PACK(cond, 0), 0, 0);
                    branch_moves(t, L, true, &needed);
                    emit_jump(t, L);
                    if (at >= 0)
                        t->code[at + 2] = (uint64_t)((int64_t)t->n - at);
                    bind_label(t);
                }
            }
            if (op == 0x0c) {
                set_unreachable(t);
            } else {
                /* br_if leaves the label's values typed as the label's. */
                uint32_t n = arity(L);
                const uint8_t *ty = label_types(L);
                struct ctl *c = &t->cs[t->ch - 1];
                for (uint32_t i = 0; i < n; i++) {
                    uint32_t idx = t->vh - n + i;
                    if (t->vh >= n && idx >= c->height && t->vs[idx].type == 0)
                        t->vs[idx].type = ty[i];
                }
                if (c->unreachable && t->vh - c->height < n) {
                    /* Re-push the label types onto an empty polymorphic stack. */
                    while (t->vh > c->height)
                        pop(t, 0, NULL, NULL);
                    for (uint32_t i = 0; i < n; i++)
                        TRY(push(t, ty[i], V_SLOT, 0, 0));
                }
            }
            break;
        }
        case 0x0e: { /* br_table */
            uint32_t n;
            TRY(rd_u32(t, &n));
            if (n > NBW_MAX_BR_TABLE || n > (size_t)(t->end - t->p))
                return MALFORMED(t, "br_table too large");
            uint32_t *labels = malloc(((size_t)n + 1) * sizeof *labels);
            if (!labels)
                return tfail(t, NB_ENOMEM, "out of memory");
            int rc = 0;
            for (uint32_t i = 0; i <= n && !rc; i++) {
                rc = rd_u32(t, &labels[i]);
                if (!rc && labels[i] >= t->ch)
                    rc = INVALID(t, "unknown label %u", labels[i]);
            }
            uint32_t idx = 0;
            if (!rc)
                rc = pop_slot(t, NB_WASM_I32, &idx);
            /* All targets need the same arity, and values must match each. */
            uint32_t ar = rc ? 0 : arity(&t->cs[t->ch - 1 - labels[n]]);
            for (uint32_t i = 0; i <= n && !rc; i++) {
                struct ctl *L = &t->cs[t->ch - 1 - labels[i]];
                if (arity(L) != ar)
                    rc = INVALID(t, "type mismatch (br_table arity)");
                else
                    rc = check_label_types(t, L);
            }
            if (!rc && !dead(t)) {
                /* Backward targets (loops) reached straight from the table
                 * need the fuel charge; stubs charge their own. */
                bool back = false;
                for (uint32_t i = 0; i <= n; i++) {
                    struct ctl *L = &t->cs[t->ch - 1 - labels[i]];
                    bool needed;
                    branch_moves(t, L, false, &needed);
                    if (L->op == 0x03 && !needed)
                        back = true;
                }
                long at = emit(t, back ? NBW_OP_BR_TABLE : NBW_OP_BR_TABLE_FWD, 2,
                               PACK(idx, n), 0, 0);
                if (at >= 0 && !reserve(t, (size_t)n + 1)) {
                    size_t tab = t->n;
                    t->n += (size_t)n + 1;
                    for (uint32_t i = 0; i <= n; i++) {
                        struct ctl *L = &t->cs[t->ch - 1 - labels[i]];
                        bool needed;
                        branch_moves(t, L, false, &needed);
                        if (L->op == 0 || needed) {
                            /* A stub with the moves (or the return). */
                            t->code[tab + i] = (uint64_t)((int64_t)t->n - at);
                            if (L->op == 0)
                                emit_return(t, L->nr);
                            else {
                                branch_moves(t, L, true, &needed);
                                emit_jump(t, L);
                            }
                        } else if (L->op == 0x03) {
                            t->code[tab + i] = (uint64_t)((int64_t)L->loop_pos - at);
                        } else {
                            add_patch(t, L, at, tab + i);
                        }
                    }
                }
            }
            free(labels);
            if (rc)
                return rc;
            set_unreachable(t);
            break;
        }
        case 0x0f: { /* return */
            struct ctl *F = &t->cs[0];
            struct ctl tmp = *F;
            tmp.op = 0x02;
            TRY(check_label_types(t, &tmp));
            emit_return(t, F->nr);
            set_unreachable(t);
            break;
        }
        case 0x10: { /* call */
            uint32_t f;
            TRY(rd_u32(t, &f));
            if (f >= m->nfuncs)
                return INVALID(t, "unknown function %u", f);
            const struct nbw_functype *ft = &m->types[m->func_types[f]];
            if (f < m->nfunc_imports)
                TRY(do_call(t, ft, NBW_OP_CALL_IMPORT, f, 0, 0, 2));
            else
                TRY(do_call(t, ft, NBW_OP_CALL, f,
                            (uint64_t)(uintptr_t)&m->codes[f - m->nfunc_imports], 0, 3));
            break;
        }
        case 0x11: { /* call_indirect */
            uint32_t ti, tab;
            TRY(rd_u32(t, &ti));
            TRY(rd_u32(t, &tab));
            if (ti >= m->ntypes)
                return INVALID(t, "unknown type %u", ti);
            TRY(check_table(t, tab));
            if (m->tables[tab].elem != NB_WASM_FUNCREF)
                return INVALID(t, "type mismatch (call_indirect needs a funcref table)");
            uint32_t idx;
            TRY(pop_slot(t, NB_WASM_I32, &idx));
            /* The index slot sits above the arguments; keep it safe from
             * argument materialisation by reading it first (it is a home
             * slot above them or a local). */
            TRY(do_call(t, &m->types[ti], NBW_OP_CALL_INDIRECT, 0, PACK(ti, tab), idx, 3));
            break;
        }
        case 0x1a: /* drop */
            TRY(pop(t, 0, NULL, NULL));
            break;
        case 0x1b: case 0x1c: { /* select */
            uint8_t want = 0;
            if (op == 0x1c) {
                uint32_t n;
                TRY(rd_u32(t, &n));
                if (n != 1)
                    return INVALID(t, "invalid result arity");
                if (t->p >= t->end)
                    return MALFORMED(t, "unexpected end");
                want = *t->p++;
                if (want != NB_WASM_I32 && want != NB_WASM_I64 && want != NB_WASM_F32 &&
                    want != NB_WASM_F64 && want != NB_WASM_FUNCREF && want != NB_WASM_EXTERNREF)
                    return MALFORMED(t, "malformed value type");
            }
            uint32_t cs, bs, as;
            struct vent eb, ea;
            TRY(pop_slot(t, NB_WASM_I32, &cs));
            bs = t->vh > t->cs[t->ch - 1].height ? opnd(t, t->vh - 1) : home(t, t->vh);
            TRY(pop(t, want, &eb, NULL));
            as = t->vh > t->cs[t->ch - 1].height ? opnd(t, t->vh - 1) : home(t, t->vh);
            TRY(pop(t, want, &ea, NULL));
            uint8_t ty = want;
            if (!want) {
                if (ea.type && eb.type && ea.type != eb.type)
                    return INVALID(t, "type mismatch (select operands)");
                ty = ea.type ? ea.type : eb.type;
                if (ty == NB_WASM_FUNCREF || ty == NB_WASM_EXTERNREF)
                    return INVALID(t, "type mismatch (select needs a type for references)");
            }
            uint32_t d = push_result(t, ty);
            long at = emit(t, NBW_OP_SELECT, 3, PACK(d, as), PACK(bs, cs), 0);
            note_producer(t, at, d);
            break;
        }
        case 0x20: { /* local.get */
            uint32_t x;
            TRY(rd_u32(t, &x));
            if (x >= t->nlocals)
                return INVALID(t, "unknown local %u", x);
            TRY(push(t, t->ltypes[x], V_LOCAL, x, 0));
            break;
        }
        case 0x21: case 0x22: { /* local.set, local.tee */
            uint32_t x;
            TRY(rd_u32(t, &x));
            if (x >= t->nlocals)
                return INVALID(t, "unknown local %u", x);
            struct ctl *c = &t->cs[t->ch - 1];
            if (t->vh == c->height) {
                if (!c->unreachable)
                    return INVALID(t, "type mismatch (local.set of nothing)");
                if (op == 0x22)
                    TRY(push(t, t->ltypes[x], V_SLOT, 0, 0));
                break;
            }
            struct vent *e = &t->vs[t->vh - 1];
            if (e->type && e->type != t->ltypes[x])
                return INVALID(t, "type mismatch (local type)");
            store_local(t, t->vh - 1, x);
            if (op == 0x21) {
                TRY(pop(t, 0, NULL, NULL));
            } else if (!dead(t)) {
                /* The value now lives in the local: name it. */
                struct vent *top = &t->vs[t->vh - 1];
                if (top->kind == V_LOCAL)
                    t->lref[top->idx]--;
                top->kind = V_LOCAL;
                top->idx = x;
                top->type = t->ltypes[x];
                t->lref[x]++;
                if (t->lazy_floor > t->vh - 1)
                    t->lazy_floor = t->vh - 1;
            }
            break;
        }
        case 0x23: { /* global.get */
            uint32_t g;
            TRY(rd_u32(t, &g));
            if (g >= m->nglobals)
                return INVALID(t, "unknown global %u", g);
            uint32_t d = push_result(t, m->globals[g].type);
            long at = emit(t, NBW_OP_GLOBAL_GET, 2, PACK(d, g), 0, 0);
            note_producer(t, at, d);
            break;
        }
        case 0x24: { /* global.set */
            uint32_t g, a;
            TRY(rd_u32(t, &g));
            if (g >= m->nglobals)
                return INVALID(t, "unknown global %u", g);
            if (!m->globals[g].mut)
                return INVALID(t, "global is immutable");
            TRY(pop_slot(t, m->globals[g].type, &a));
            emit(t, NBW_OP_GLOBAL_SET, 2, PACK(g, a), 0, 0);
            break;
        }
        case 0x25: case 0x26: { /* table.get, table.set */
            uint32_t x, i, v;
            TRY(rd_u32(t, &x));
            TRY(check_table(t, x));
            uint8_t et = m->tables[x].elem;
            if (op == 0x25) {
                TRY(pop_slot(t, NB_WASM_I32, &i));
                uint32_t d = push_result(t, et);
                emit(t, NBW_OP_TABLE_GET, 3, PACK(d, i), x, 0);
            } else {
                TRY(pop_slot(t, et, &v));
                TRY(pop_slot(t, NB_WASM_I32, &i));
                emit(t, NBW_OP_TABLE_SET, 3, PACK(i, v), x, 0);
            }
            break;
        }
        case 0x28: case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e:
        case 0x2f: case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: {
            static const uint8_t nat[] = {2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2};
            static const uint8_t rty[] = {0x7f, 0x7e, 0x7d, 0x7c, 0x7f, 0x7f, 0x7f, 0x7f,
                                          0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e};
            static const enum nbw_op lop[] = {
                NBW_OP_LOAD32U, NBW_OP_LOAD64, NBW_OP_LOAD32U, NBW_OP_LOAD64,
                NBW_OP_LOAD8S, NBW_OP_LOAD8U, NBW_OP_LOAD16S, NBW_OP_LOAD16U,
                NBW_OP_LOAD8S, NBW_OP_LOAD8U, NBW_OP_LOAD16S, NBW_OP_LOAD16U,
                NBW_OP_LOAD32S, NBW_OP_LOAD32U};
            uint32_t off, a, x = 0, y = 0, k = 0;
            TRY(rd_memarg(t, nat[op - 0x28], &off));
            TRY(pop_slot(t, NB_WASM_I32, &a));
            uint32_t d = push_result(t, rty[op - 0x28]);
            int fold = dead(t) ? 0 : take_address_add(t, a, &x, &y, &k);
            long at = emit_mem(t, lop[op - 0x28], fold, d, a, off, x, y, k);
            note_producer(t, at, d);
            break;
        }
        case 0x36: case 0x37: case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3c:
        case 0x3d: case 0x3e: {
            static const uint8_t nat[] = {2, 3, 2, 3, 0, 1, 0, 1, 2};
            static const uint8_t vty[] = {0x7f, 0x7e, 0x7d, 0x7c, 0x7f, 0x7f, 0x7e, 0x7e, 0x7e};
            static const enum nbw_op sop[] = {
                NBW_OP_STORE32, NBW_OP_STORE64, NBW_OP_STORE32, NBW_OP_STORE64,
                NBW_OP_STORE8, NBW_OP_STORE16, NBW_OP_STORE8, NBW_OP_STORE16, NBW_OP_STORE32};
            uint32_t off, a, v, x = 0, y = 0, k = 0;
            TRY(rd_memarg(t, nat[op - 0x36], &off));
            TRY(pop_slot(t, vty[op - 0x36], &v));
            TRY(pop_slot(t, NB_WASM_I32, &a));
            /* The address add must be the last instruction and the value
             * must not live in the add's result slot. */
            int fold = dead(t) || v == a ? 0 : take_address_add(t, a, &x, &y, &k);
            emit_mem(t, sop[op - 0x36], fold, v, a, off, x, y, k);
            break;
        }
        case 0x3f: case 0x40: { /* memory.size, memory.grow */
            uint8_t zero;
            TRY(rd_byte(t, &zero));
            if (zero != 0)
                return MALFORMED(t, "zero byte expected");
            if (m->nmems == 0)
                return INVALID(t, "unknown memory 0");
            if (op == 0x3f) {
                uint32_t d = push_result(t, NB_WASM_I32);
                emit(t, NBW_OP_MEMORY_SIZE, 2, PACK(d, 0), 0, 0);
            } else {
                uint32_t a;
                TRY(pop_slot(t, NB_WASM_I32, &a));
                uint32_t d = push_result(t, NB_WASM_I32);
                emit(t, NBW_OP_MEMORY_GROW, 2, PACK(d, a), 0, 0);
            }
            break;
        }
        case 0x41: { int64_t v; TRY(rd_sleb(t, 32, &v)); TRY(push(t, NB_WASM_I32, V_CONST, 0, (uint32_t)v)); break; }
        case 0x42: { int64_t v; TRY(rd_sleb(t, 64, &v)); TRY(push(t, NB_WASM_I64, V_CONST, 0, (uint64_t)v)); break; }
        case 0x43: {
            if (t->end - t->p < 4) return MALFORMED(t, "unexpected end");
            uint32_t v; memcpy(&v, t->p, 4); t->p += 4;
            TRY(push(t, NB_WASM_F32, V_CONST, 0, v));
            break;
        }
        case 0x44: {
            if (t->end - t->p < 8) return MALFORMED(t, "unexpected end");
            uint64_t v; memcpy(&v, t->p, 8); t->p += 8;
            TRY(push(t, NB_WASM_F64, V_CONST, 0, v));
            break;
        }
        case 0xd0: { /* ref.null */
            uint8_t rt;
            TRY(rd_byte(t, &rt));
            if (rt != NB_WASM_FUNCREF && rt != NB_WASM_EXTERNREF)
                return MALFORMED(t, "malformed reference type");
            TRY(push(t, rt, V_CONST, 0, 0));
            break;
        }
        case 0xd1: { /* ref.is_null */
            struct vent e;
            uint32_t a = t->vh > t->cs[t->ch - 1].height ? opnd(t, t->vh - 1) : home(t, t->vh);
            TRY(pop(t, 0, &e, NULL));
            if (e.type && e.type != NB_WASM_FUNCREF && e.type != NB_WASM_EXTERNREF)
                return INVALID(t, "type mismatch (ref.is_null)");
            uint32_t d = push_result(t, NB_WASM_I32);
            long at = emit(t, NBW_OP_I64_EQZ, 2, PACK(d, a), 0, 0);
            note_producer(t, at, d);
            break;
        }
        case 0xd2: { /* ref.func */
            uint32_t f;
            TRY(rd_u32(t, &f));
            if (f >= m->nfuncs)
                return INVALID(t, "unknown function %u", f);
            if (!(m->func_refs[f / 8] & (1u << (f % 8))))
                return INVALID(t, "undeclared function reference");
            uint32_t d = push_result(t, NB_WASM_FUNCREF);
            emit(t, NBW_OP_REF_FUNC, 2, PACK(d, f), 0, 0);
            break;
        }
        case 0xfc: {
            uint32_t sub;
            TRY(rd_u32(t, &sub));
            if (sub <= 7) {
                static const uint8_t in[] = {0x7d, 0x7d, 0x7c, 0x7c, 0x7d, 0x7d, 0x7c, 0x7c};
                uint32_t a;
                TRY(pop_slot(t, in[sub], &a));
                uint32_t d = push_result(t, sub < 4 ? NB_WASM_I32 : NB_WASM_I64);
                long at = emit(t, (enum nbw_op)(NBW_OP_I32_TRUNC_SAT_F32_S + sub), 2, PACK(d, a), 0, 0);
                note_producer(t, at, d);
                break;
            }
            switch (sub) {
            case 8: { /* memory.init */
                uint32_t seg, n, s, d;
                uint8_t zero;
                TRY(rd_u32(t, &seg));
                TRY(rd_byte(t, &zero));
                if (zero != 0)
                    return MALFORMED(t, "zero byte expected");
                if (m->nmems == 0)
                    return INVALID(t, "unknown memory 0");
                if (!m->has_datacount)
                    return MALFORMED(t, "data count section required");
                if (seg >= m->ndatas)
                    return INVALID(t, "unknown data segment %u", seg);
                TRY(pop_slot(t, NB_WASM_I32, &n));
                TRY(pop_slot(t, NB_WASM_I32, &s));
                TRY(pop_slot(t, NB_WASM_I32, &d));
                emit(t, NBW_OP_MEMORY_INIT, 3, PACK(d, s), PACK(n, seg), 0);
                break;
            }
            case 9: { /* data.drop */
                uint32_t seg;
                TRY(rd_u32(t, &seg));
                if (!m->has_datacount)
                    return MALFORMED(t, "data count section required");
                if (seg >= m->ndatas)
                    return INVALID(t, "unknown data segment %u", seg);
                emit(t, NBW_OP_DATA_DROP, 2, PACK(seg, 0), 0, 0);
                break;
            }
            case 10: case 11: { /* memory.copy, memory.fill */
                uint8_t zero;
                TRY(rd_byte(t, &zero));
                if (zero != 0)
                    return MALFORMED(t, "zero byte expected");
                if (sub == 10) {
                    TRY(rd_byte(t, &zero));
                    if (zero != 0)
                        return MALFORMED(t, "zero byte expected");
                }
                if (m->nmems == 0)
                    return INVALID(t, "unknown memory 0");
                uint32_t n, s, d;
                TRY(pop_slot(t, NB_WASM_I32, &n));
                TRY(pop_slot(t, NB_WASM_I32, &s));
                TRY(pop_slot(t, NB_WASM_I32, &d));
                emit(t, sub == 10 ? NBW_OP_MEMORY_COPY : NBW_OP_MEMORY_FILL, 3,
                     PACK(d, s), PACK(n, 0), 0);
                break;
            }
            case 12: { /* table.init */
                uint32_t seg, x, n, s, d;
                TRY(rd_u32(t, &seg));
                TRY(rd_u32(t, &x));
                if (seg >= m->nelems)
                    return INVALID(t, "unknown elem segment %u", seg);
                TRY(check_table(t, x));
                if (m->elems[seg].type != m->tables[x].elem)
                    return INVALID(t, "type mismatch (table.init)");
                TRY(pop_slot(t, NB_WASM_I32, &n));
                TRY(pop_slot(t, NB_WASM_I32, &s));
                TRY(pop_slot(t, NB_WASM_I32, &d));
                emit(t, NBW_OP_TABLE_INIT, 4, PACK(d, s), PACK(n, 0), PACK(x, seg));
                break;
            }
            case 13: { /* elem.drop */
                uint32_t seg;
                TRY(rd_u32(t, &seg));
                if (seg >= m->nelems)
                    return INVALID(t, "unknown elem segment %u", seg);
                emit(t, NBW_OP_ELEM_DROP, 2, PACK(seg, 0), 0, 0);
                break;
            }
            case 14: { /* table.copy */
                uint32_t dx, sx, n, s, d;
                TRY(rd_u32(t, &dx));
                TRY(rd_u32(t, &sx));
                TRY(check_table(t, dx));
                TRY(check_table(t, sx));
                if (m->tables[dx].elem != m->tables[sx].elem)
                    return INVALID(t, "type mismatch (table.copy)");
                TRY(pop_slot(t, NB_WASM_I32, &n));
                TRY(pop_slot(t, NB_WASM_I32, &s));
                TRY(pop_slot(t, NB_WASM_I32, &d));
                emit(t, NBW_OP_TABLE_COPY, 4, PACK(d, s), PACK(n, 0), PACK(dx, sx));
                break;
            }
            case 15: { /* table.grow */
                uint32_t x, n, v;
                TRY(rd_u32(t, &x));
                TRY(check_table(t, x));
                TRY(pop_slot(t, NB_WASM_I32, &n));
                TRY(pop_slot(t, m->tables[x].elem, &v));
                uint32_t d = push_result(t, NB_WASM_I32);
                emit(t, NBW_OP_TABLE_GROW, 3, PACK(d, n), PACK(v, x), 0);
                break;
            }
            case 16: { /* table.size */
                uint32_t x;
                TRY(rd_u32(t, &x));
                TRY(check_table(t, x));
                uint32_t d = push_result(t, NB_WASM_I32);
                emit(t, NBW_OP_TABLE_SIZE, 2, PACK(d, x), 0, 0);
                break;
            }
            case 17: { /* table.fill */
                uint32_t x, n, v, i;
                TRY(rd_u32(t, &x));
                TRY(check_table(t, x));
                TRY(pop_slot(t, NB_WASM_I32, &n));
                TRY(pop_slot(t, m->tables[x].elem, &v));
                TRY(pop_slot(t, NB_WASM_I32, &i));
                emit(t, NBW_OP_TABLE_FILL, 3, PACK(i, v), PACK(n, x), 0);
                break;
            }
            default:
                return MALFORMED(t, "illegal opcode 0xfc %u", sub);
            }
            break;
        }
        default:
            if (op >= 0x45 && op <= 0xc4) {
                TRY(do_numeric(t, op));
                break;
            }
            t->p--;
            return MALFORMED(t, "illegal opcode 0x%02x", op);
        }
    }
}

int nbw_translate(nb_wasm_module *m, uint32_t i, const uint8_t *base,
                  const uint8_t *p, const uint8_t *end, struct nb_wasm_error *err)
{
    struct tr t;
    memset(&t, 0, sizeof t);
    t.m = m;
    t.base = base;
    t.p = p;
    t.end = end;
    t.err = err;
    t.h = nbw_handlers();
    /* Translated code is 1-3 words per body byte in practice; the cap
     * stops pathological expansion (branch moves in br_table stubs). */
    t.limit = (size_t)(end - p) * 16 + 4096;
    uint32_t fi = m->nfunc_imports + i;
    const struct nbw_functype *ft = &m->types[m->func_types[fi]];
    struct nbw_code *code = &m->codes[i];
    code->type = m->func_types[fi];
    code->nparams = ft->nparams;
    code->nresults = ft->nresults;
    code->body_offset = (uint32_t)(p - base);

    /* Locals: count first (bounded), then types. */
    uint32_t ngroups;
    int rc = rd_u32(&t, &ngroups);
    uint64_t total = ft->nparams;
    const uint8_t *groups = t.p;
    for (uint32_t g = 0; g < ngroups && !rc; g++) {
        uint32_t cnt;
        uint8_t ty;
        rc = rd_u32(&t, &cnt);
        if (!rc)
            rc = rd_byte(&t, &ty);
        if (!rc && ty != NB_WASM_I32 && ty != NB_WASM_I64 && ty != NB_WASM_F32 &&
            ty != NB_WASM_F64 && ty != NB_WASM_FUNCREF && ty != NB_WASM_EXTERNREF)
            rc = MALFORMED(&t, "malformed value type");
        total += cnt;
        if (!rc && total > NBW_MAX_LOCALS + ft->nparams)
            rc = MALFORMED(&t, "too many locals");
    }
    if (!rc) {
        t.nparams = ft->nparams;
        t.nlocals = (uint32_t)total;
        t.ltypes = malloc(total + 1);
        t.lref = calloc(total + 1, sizeof *t.lref);
        if (!t.ltypes || !t.lref)
            rc = tfail(&t, NB_ENOMEM, "out of memory");
    }
    if (!rc) {
        memcpy(t.ltypes, ft->params, ft->nparams);
        const uint8_t *save = t.p;
        t.p = groups;
        uint32_t k = ft->nparams;
        for (uint32_t g = 0; g < ngroups; g++) {
            uint32_t cnt;
            uint8_t ty;
            rd_u32(&t, &cnt);
            rd_byte(&t, &ty);
            memset(t.ltypes + k, ty, cnt);
            k += cnt;
        }
        t.p = save;
        code->nlocals = t.nlocals - ft->nparams;
        rc = push_ctl(&t, 0, 0, NULL, ft->nresults, ft->results);
    }
    if (!rc) {
        t.cs[0].height = 0;
        rc = body(&t);
    }
    if (!rc && t.p != t.end)
        rc = MALFORMED(&t, "section size mismatch (code after function end)");
    if (!rc && t.ch != 0)
        rc = MALFORMED(&t, "unexpected end of function body");
    if (!rc) {
        uint64_t slots = (uint64_t)t.nlocals + t.max_h + 1;
        if (slots < ft->nresults + 1u)
            slots = ft->nresults + 1u;
        code->frame_slots = (uint32_t)slots;
        code->code = t.code;
        code->ncode = (uint32_t)t.n;
        t.code = NULL;
    }
    free(t.code);
    free(t.ltypes);
    free(t.lref);
    free(t.vs);
    free(t.cs);
    return rc;
}
