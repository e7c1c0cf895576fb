/*
 * Binary decoding and module-level validation.
 *
 * nb_wasm_module_load() reads a WebAssembly 2.0 binary section by section,
 * checks everything the spec's validation rules ask of types, imports,
 * tables, memories, globals, exports, segments and the start function, and
 * hands each function body to translate.c, which validates and translates
 * it in one pass. Every count read from the module is checked against the
 * bytes that remain and against the limits in internal.h before anything is
 * allocated, so a hostile module cannot make the engine allocate without
 * bound. Errors carry the byte offset and a reason.
 */
#include "internal.h"

#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(wasm);

struct rd {
    const uint8_t *base, *p, *end;
    struct nb_wasm_error *err;
};

static int fail(struct rd *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rd *r, int code, const char *fmt, ...)
{
    if (r->err && r->err->code == 0) {
        va_list ap;
        r->err->code = code;
        r->err->offset = (size_t)(r->p - r->base);
        va_start(ap, fmt);
        vsnprintf(r->err->msg, sizeof r->err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

#define MALFORMED(r, ...) fail((r), NB_EILSEQ, __VA_ARGS__)
#define INVALID(r, ...) fail((r), NB_EINVAL, __VA_ARGS__)
#define TRY(x) do { int rc_ = (x); if (rc_) return rc_; } while (0)

static int rd_byte(struct rd *r, uint8_t *out)
{
    if (r->p >= r->end)
        return MALFORMED(r, "unexpected end");
    *out = *r->p++;
    return 0;
}

static int rd_u32(struct rd *r, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        uint8_t b;
        TRY(rd_byte(r, &b));
        if (i == 4 && (b & 0xf0))
            return MALFORMED(r, "integer too large");
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return MALFORMED(r, "integer representation too long");
}

static int rd_s32(struct rd *r, int32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        uint8_t b;
        TRY(rd_byte(r, &b));
        if (i == 4) {
            if (b & 0x80)
                return MALFORMED(r, "integer representation too long");
            uint8_t top = b & 0x78; /* bits 3..6 must extend bit 3 */
            if (top != 0 && top != 0x78)
                return MALFORMED(r, "integer too large");
        }
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i < 4 && (b & 0x40))
                v |= ~0u << (7 * (i + 1));
            *out = (int32_t)v;
            return 0;
        }
    }
    return MALFORMED(r, "integer representation too long");
}

static int rd_s64(struct rd *r, int64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t b;
        TRY(rd_byte(r, &b));
        if (i == 9) {
            if (b & 0x80)
                return MALFORMED(r, "integer representation too long");
            if (b != 0 && b != 0x7f)
                return MALFORMED(r, "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i < 9 && (b & 0x40))
                v |= ~0ull << (7 * (i + 1));
            *out = (int64_t)v;
            return 0;
        }
    }
    return MALFORMED(r, "integer representation too long");
}

static int rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
    if ((size_t)(r->end - r->p) < n)
        return MALFORMED(r, "unexpected end (length out of bounds)");
    *out = r->p;
    r->p += n;
    return 0;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static int rd_name_len(struct rd *r, char **out, uint32_t *len);

static int rd_name(struct rd *r, char **out)
{
    return rd_name_len(r, out, NULL);
}

static int rd_name_len(struct rd *r, char **out, uint32_t *len)
{
    uint32_t n;
    const uint8_t *s;
    TRY(rd_u32(r, &n));
    TRY(rd_bytes(r, n, &s));
    if (!utf8_valid(s, n))
        return MALFORMED(r, "malformed UTF-8 encoding");
    if (len)
        *len = n;
    if (out) {
        char *c = malloc((size_t)n + 1);
        if (!c)
            return fail(r, NB_ENOMEM, "out of memory");
        memcpy(c, s, n);
        c[n] = 0;
        *out = c;
    }
    return 0;
}

/* A vector count, bounded by the remaining bytes (each item takes at least
 * min_bytes) and by an implementation limit. */
static int rd_count(struct rd *r, uint32_t *n, uint32_t limit, size_t min_bytes)
{
    TRY(rd_u32(r, n));
    if (min_bytes && (uint64_t)*n * min_bytes > (uint64_t)(r->end - r->p))
        return MALFORMED(r, "unexpected end (count %u exceeds section)", *n);
    if (*n > limit)
        return fail(r, NB_ENOMEM, "too many items (%u, limit %u)", *n, limit);
    return 0;
}

static void *zalloc(struct rd *r, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        fail(r, NB_ENOMEM, "out of memory");
    return p;
}

static bool is_valtype(uint8_t t)
{
    return t == NB_WASM_I32 || t == NB_WASM_I64 || t == NB_WASM_F32 ||
           t == NB_WASM_F64 || t == NB_WASM_FUNCREF || t == NB_WASM_EXTERNREF;
}

static int rd_valtype(struct rd *r, uint8_t *t)
{
    TRY(rd_byte(r, t));
    if (!is_valtype(*t)) {
        r->p--;
        return MALFORMED(r, "malformed value type 0x%02x", *t);
    }
    return 0;
}

static int rd_reftype(struct rd *r, uint8_t *t)
{
    TRY(rd_byte(r, t));
    if (*t != NB_WASM_FUNCREF && *t != NB_WASM_EXTERNREF) {
        r->p--;
        return MALFORMED(r, "malformed reference type 0x%02x", *t);
    }
    return 0;
}

static int rd_limits(struct rd *r, struct nbw_limits *l, uint64_t bound, const char *what)
{
    uint8_t flag;
    uint32_t v;
    TRY(rd_byte(r, &flag));
    if (flag > 1)
        return MALFORMED(r, "integer too large (limits flag %u)", flag);
    TRY(rd_u32(r, &v));
    l->min = v;
    l->has_max = flag == 1;
    l->max = UINT32_MAX;
    if (l->has_max) {
        TRY(rd_u32(r, &v));
        l->max = v;
    }
    if (l->min > bound || (l->has_max && l->max > bound))
        return INVALID(r, "%s size must be at most %llu", what,
                       (unsigned long long)bound);
    if (l->has_max && l->min > l->max)
        return INVALID(r, "size minimum must not be greater than maximum");
    return 0;
}

static int global_type(const nb_wasm_module *m, uint32_t i, uint8_t *mut)
{
    *mut = m->globals[i].mut;
    return m->globals[i].type;
}

/*
 * A constant expression of type `want`. nglobals_visible limits global.get
 * (2.0: only imported globals, and they must be immutable).
 */
static int rd_const(struct rd *r, nb_wasm_module *m, uint8_t want,
                    uint32_t nglobals_visible, struct nbw_const *c)
{
    uint8_t op, t = 0;
    TRY(rd_byte(r, &op));
    c->op = op;
    c->bits = 0;
    c->index = 0;
    switch (op) {
    case 0x41: { int32_t v; TRY(rd_s32(r, &v)); c->bits = (uint32_t)v; t = NB_WASM_I32; break; }
    case 0x42: { int64_t v; TRY(rd_s64(r, &v)); c->bits = (uint64_t)v; t = NB_WASM_I64; break; }
    case 0x43: { const uint8_t *b; TRY(rd_bytes(r, 4, &b)); uint32_t v; memcpy(&v, b, 4); c->bits = v; t = NB_WASM_F32; break; }
    case 0x44: { const uint8_t *b; TRY(rd_bytes(r, 8, &b)); memcpy(&c->bits, b, 8); t = NB_WASM_F64; break; }
    case 0x23: {
        TRY(rd_u32(r, &c->index));
        if (c->index >= nglobals_visible)
            return INVALID(r, "unknown global %u", c->index);
        uint8_t mut;
        t = (uint8_t)global_type(m, c->index, &mut);
        if (mut)
            return INVALID(r, "constant expression required");
        break;
    }
    case 0xd0: TRY(rd_reftype(r, &t)); break;
    case 0xd2:
        TRY(rd_u32(r, &c->index));
        if (c->index >= m->nfuncs)
            return INVALID(r, "unknown function %u", c->index);
        m->func_refs[c->index / 8] |= (uint8_t)(1u << (c->index % 8));
        t = NB_WASM_FUNCREF;
        break;
    case 0x0b:
        return INVALID(r, "type mismatch (empty constant expression)");
    default:
        return INVALID(r, "constant expression required");
    }
    TRY(rd_byte(r, &op));
    if (op != 0x0b) {
        r->p--;
        /* Any further instruction makes the expression non-constant or
         * leaves extra values: both are invalid. */
        return INVALID(r, "constant expression required (type mismatch)");
    }
    if (t != want)
        return INVALID(r, "type mismatch in constant expression");
    return 0;
}

static uint32_t count_kind(const nb_wasm_module *m, uint8_t kind)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        n += m->imports[i].kind == kind;
    return n;
}

static int sec_type(struct rd *r, nb_wasm_module *m)
{
    TRY(rd_count(r, &m->ntypes, NBW_MAX_TYPES, 3));
    m->types = zalloc(r, m->ntypes, sizeof *m->types);
    if (!m->types)
        return NB_ENOMEM;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        struct nbw_functype *t = &m->types[i];
        uint8_t form;
        TRY(rd_byte(r, &form));
        if (form != 0x60)
            return MALFORMED(r, "integer representation too long (type form 0x%02x)", form);
        uint32_t np, nr;
        TRY(rd_count(r, &np, NBW_MAX_PARAMS, 1));
        const uint8_t *pp = r->p;
        r->p += np;
        TRY(rd_count(r, &nr, NBW_MAX_PARAMS, 1));
        r->p = pp;
        t->nparams = np;
        t->params = zalloc(r, (size_t)np + 1, 1);
        if (!t->params)
            return NB_ENOMEM;
        for (uint32_t k = 0; k < np; k++)
            TRY(rd_valtype(r, &t->params[k]));
        TRY(rd_u32(r, &nr));
        t->nresults = nr;
        t->results = zalloc(r, (size_t)nr + 1, 1);
        if (!t->results)
            return NB_ENOMEM;
        for (uint32_t k = 0; k < nr; k++)
            TRY(rd_valtype(r, &t->results[k]));
    }
    return 0;
}

static int sec_import(struct rd *r, nb_wasm_module *m)
{
    TRY(rd_count(r, &m->nimports, NBW_MAX_IMPORTS, 4));
    m->imports = zalloc(r, m->nimports, sizeof *m->imports);
    if (!m->imports)
        return NB_ENOMEM;
    for (uint32_t i = 0; i < m->nimports; i++) {
        struct nbw_import *im = &m->imports[i];
        TRY(rd_name(r, &im->module));
        TRY(rd_name(r, &im->name));
        TRY(rd_byte(r, &im->kind));
        switch (im->kind) {
        case NBW_EXT_FUNC:
            TRY(rd_u32(r, &im->index));
            if (im->index >= m->ntypes)
                return INVALID(r, "unknown type %u", im->index);
            break;
        case NBW_EXT_TABLE:
            TRY(rd_reftype(r, &im->table.elem));
            TRY(rd_limits(r, &im->table.lim, UINT32_MAX, "table"));
            break;
        case NBW_EXT_MEMORY:
            TRY(rd_limits(r, &im->mem, NBW_MAX_PAGES, "memory"));
            break;
        case NBW_EXT_GLOBAL:
            TRY(rd_valtype(r, &im->gtype));
            TRY(rd_byte(r, &im->gmut));
            if (im->gmut > 1)
                return MALFORMED(r, "malformed mutability");
            break;
        default:
            return MALFORMED(r, "malformed import kind %u", im->kind);
        }
    }
    m->nfunc_imports = count_kind(m, NBW_EXT_FUNC);
    m->ntable_imports = count_kind(m, NBW_EXT_TABLE);
    m->nmem_imports = count_kind(m, NBW_EXT_MEMORY);
    m->nglobal_imports = count_kind(m, NBW_EXT_GLOBAL);
    return 0;
}

static int sec_function(struct rd *r, nb_wasm_module *m, uint32_t *ndefined)
{
    TRY(rd_count(r, ndefined, NBW_MAX_FUNCS, 1));
    m->nfuncs = m->nfunc_imports + *ndefined;
    for (uint32_t i = 0; i < *ndefined; i++) {
        uint32_t t;
        TRY(rd_u32(r, &t));
        if (t >= m->ntypes)
            return INVALID(r, "unknown type %u", t);
        m->func_types[m->nfunc_imports + i] = t;
    }
    return 0;
}

static int sec_table(struct rd *r, nb_wasm_module *m)
{
    uint32_t n;
    TRY(rd_count(r, &n, NBW_MAX_TABLES, 3));
    m->ntables = m->ntable_imports + n;
    for (uint32_t i = 0; i < n; i++) {
        struct nbw_tabletype *t = &m->tables[m->ntable_imports + i];
        TRY(rd_reftype(r, &t->elem));
        TRY(rd_limits(r, &t->lim, UINT32_MAX, "table"));
    }
    return 0;
}

static int sec_memory(struct rd *r, nb_wasm_module *m)
{
    uint32_t n;
    TRY(rd_count(r, &n, 2, 2));
    m->nmems = m->nmem_imports + n;
    if (m->nmems > 1)
        return INVALID(r, "multiple memories");
    for (uint32_t i = 0; i < n; i++)
        TRY(rd_limits(r, &m->mems[m->nmem_imports + i], NBW_MAX_PAGES, "memory"));
    return 0;
}

static int sec_global(struct rd *r, nb_wasm_module *m)
{
    uint32_t n;
    TRY(rd_count(r, &n, NBW_MAX_GLOBALS, 4));
    m->nglobals = m->nglobal_imports + n;
    for (uint32_t i = 0; i < n; i++) {
        struct nbw_globaldef *g = &m->globals[m->nglobal_imports + i];
        TRY(rd_valtype(r, &g->type));
        TRY(rd_byte(r, &g->mut));
        if (g->mut > 1)
            return MALFORMED(r, "malformed mutability");
        TRY(rd_const(r, m, g->type, m->nglobal_imports, &g->init));
    }
    return 0;
}

static int sec_export(struct rd *r, nb_wasm_module *m)
{
    TRY(rd_count(r, &m->nexports, NBW_MAX_EXPORTS, 3));
    m->exports = zalloc(r, m->nexports, sizeof *m->exports);
    if (!m->exports)
        return NB_ENOMEM;
    for (uint32_t i = 0; i < m->nexports; i++) {
        struct nbw_export *e = &m->exports[i];
        TRY(rd_name_len(r, &e->name, &e->name_len));
        TRY(rd_byte(r, &e->kind));
        TRY(rd_u32(r, &e->index));
        uint32_t bound;
        switch (e->kind) {
        case NBW_EXT_FUNC: bound = m->nfuncs; break;
        case NBW_EXT_TABLE: bound = m->ntables; break;
        case NBW_EXT_MEMORY: bound = m->nmems; break;
        case NBW_EXT_GLOBAL: bound = m->nglobals; break;
        default: return MALFORMED(r, "malformed export kind %u", e->kind);
        }
        if (e->index >= bound)
            return INVALID(r, "unknown %s %u", e->kind == 0 ? "function" : e->kind == 1 ? "table" : e->kind == 2 ? "memory" : "global", e->index);
        if (e->kind == NBW_EXT_FUNC)
            m->func_refs[e->index / 8] |= (uint8_t)(1u << (e->index % 8));
        for (uint32_t j = 0; j < i; j++)
            if (m->exports[j].name_len == e->name_len &&
                memcmp(m->exports[j].name, e->name, e->name_len) == 0)
                return INVALID(r, "duplicate export name \"%s\"", e->name);
    }
    return 0;
}

static int sec_start(struct rd *r, nb_wasm_module *m)
{
    TRY(rd_u32(r, &m->start));
    if (m->start >= m->nfuncs)
        return INVALID(r, "unknown function %u", m->start);
    const struct nbw_functype *t = &m->types[m->func_types[m->start]];
    if (t->nparams || t->nresults)
        return INVALID(r, "start function must have type [] -> []");
    m->has_start = true;
    return 0;
}

static int sec_elem(struct rd *r, nb_wasm_module *m)
{
    TRY(rd_count(r, &m->nelems, NBW_MAX_SEGMENTS, 2));
    m->elems = zalloc(r, m->nelems, sizeof *m->elems);
    if (!m->elems)
        return NB_ENOMEM;
    for (uint32_t i = 0; i < m->nelems; i++) {
        struct nbw_elem *e = &m->elems[i];
        uint32_t flags;
        TRY(rd_u32(r, &flags));
        if (flags > 7)
            return MALFORMED(r, "malformed elements segment kind %u", flags);
        e->mode = (flags & 1) ? ((flags & 2) ? NBW_SEG_DECLARATIVE : NBW_SEG_PASSIVE)
                              : NBW_SEG_ACTIVE;
        e->table = 0;
        if (e->mode == NBW_SEG_ACTIVE) {
            if (flags & 2)
                TRY(rd_u32(r, &e->table));
            if (e->table >= m->ntables)
                return INVALID(r, "unknown table %u", e->table);
            TRY(rd_const(r, m, NB_WASM_I32, m->nglobal_imports, &e->offset));
        }
        bool exprs = flags & 4;
        e->type = NB_WASM_FUNCREF;
        if (flags & 3) {
            if (exprs) {
                TRY(rd_reftype(r, &e->type));
            } else {
                uint8_t kind;
                TRY(rd_byte(r, &kind));
                if (kind != 0)
                    return MALFORMED(r, "malformed element kind %u", kind);
            }
        }
        TRY(rd_count(r, &e->count, NBW_MAX_SEG_ITEMS, 1));
        e->items = zalloc(r, e->count, sizeof *e->items);
        if (!e->items)
            return NB_ENOMEM;
        for (uint32_t k = 0; k < e->count; k++) {
            if (exprs) {
                TRY(rd_const(r, m, e->type, m->nglobal_imports, &e->items[k]));
            } else {
                uint32_t f;
                TRY(rd_u32(r, &f));
                if (f >= m->nfuncs)
                    return INVALID(r, "unknown function %u", f);
                m->func_refs[f / 8] |= (uint8_t)(1u << (f % 8));
                e->items[k].op = 0xd2;
                e->items[k].index = f;
            }
        }
        if (e->mode == NBW_SEG_ACTIVE && m->tables[e->table].elem != e->type)
            return INVALID(r, "type mismatch (element segment type)");
    }
    return 0;
}

static int sec_data(struct rd *r, nb_wasm_module *m, bool counted, uint32_t datacount)
{
    uint32_t n;
    TRY(rd_count(r, &n, NBW_MAX_SEGMENTS, 1));
    if (counted && n != datacount)
        return MALFORMED(r, "data count and data section have inconsistent lengths");
    m->ndatas = n;
    m->datas = zalloc(r, n, sizeof *m->datas);
    if (!m->datas)
        return NB_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        struct nbw_data *d = &m->datas[i];
        uint32_t flags, mem = 0;
        TRY(rd_u32(r, &flags));
        if (flags > 2)
            return MALFORMED(r, "malformed data segment kind %u", flags);
        d->mode = flags == 1 ? NBW_SEG_PASSIVE : NBW_SEG_ACTIVE;
        if (flags == 2)
            TRY(rd_u32(r, &mem));
        if (d->mode == NBW_SEG_ACTIVE) {
            if (mem >= m->nmems)
                return INVALID(r, "unknown memory %u", mem);
            TRY(rd_const(r, m, NB_WASM_I32, m->nglobal_imports, &d->offset));
        }
        const uint8_t *b;
        TRY(rd_u32(r, &d->len));
        TRY(rd_bytes(r, d->len, &b));
        d->bytes = malloc(d->len ? d->len : 1);
        if (!d->bytes)
            return fail(r, NB_ENOMEM, "out of memory");
        memcpy(d->bytes, b, d->len);
    }
    return 0;
}

/* Function names from the "name" custom section. Best effort: a broken name
 * section is ignored, as the spec asks of custom sections. */
static void sec_names(nb_wasm_module *m, const uint8_t *p, const uint8_t *end)
{
    struct nb_wasm_error scratch = {0};
    struct rd r = {p, p, end, &scratch};
    while (r.p < r.end) {
        uint8_t id;
        uint32_t size;
        if (rd_byte(&r, &id) || rd_u32(&r, &size) || size > (size_t)(r.end - r.p))
            return;
        const uint8_t *next = r.p + size;
        if (id == 1 && m->nfuncs) {
            struct rd s = {p, r.p, next, &scratch};
            uint32_t n;
            if (rd_u32(&s, &n))
                return;
            if (!m->func_names)
                m->func_names = calloc(m->nfuncs, sizeof(char *));
            if (!m->func_names)
                return;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t idx;
                char *name = NULL;
                if (rd_u32(&s, &idx) || rd_name(&s, &name))
                    return;
                if (idx < m->nfuncs && !m->func_names[idx])
                    m->func_names[idx] = name;
                else
                    free(name);
            }
        }
        r.p = next;
    }
}

static int sec_code(struct rd *r, nb_wasm_module *m, uint32_t ndefined)
{
    uint32_t n;
    TRY(rd_count(r, &n, NBW_MAX_FUNCS, 1));
    if (n != ndefined)
        return MALFORMED(r, "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size;
        const uint8_t *body;
        TRY(rd_u32(r, &size));
        TRY(rd_bytes(r, size, &body));
        TRY(nbw_translate(m, i, r->base, body, body + size, r->err));
    }
    return 0;
}

bool nbw_types_equal(const struct nbw_functype *a, const struct nbw_functype *b)
{
    return a == b ||
           (a->nparams == b->nparams && a->nresults == b->nresults &&
            memcmp(a->params, b->params, a->nparams) == 0 &&
            memcmp(a->results, b->results, a->nresults) == 0);
}

void nbw_module_destroy(nb_wasm_module *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; m->types && i < m->ntypes; i++) {
        free(m->types[i].params);
        free(m->types[i].results);
    }
    free(m->types);
    for (uint32_t i = 0; m->imports && i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    free(m->func_types);
    if (m->codes)
        for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
            free(m->codes[i].code);
    free(m->codes);
    free(m->tables);
    free(m->mems);
    free(m->globals);
    for (uint32_t i = 0; m->exports && i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; m->elems && i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    for (uint32_t i = 0; m->datas && i < m->ndatas; i++)
        free(m->datas[i].bytes);
    free(m->datas);
    free(m->func_refs);
    if (m->func_names)
        for (uint32_t i = 0; i < m->nfuncs; i++)
            free(m->func_names[i]);
    free(m->func_names);
    free(m);
}

/* Once the import section is behind us (or absent), the index spaces start
 * with the imports: fill the arrays that later sections extend. */
static int finish_imports(struct rd *r, nb_wasm_module *m)
{
    if (m->nmem_imports > 1)
        return INVALID(r, "multiple memories");
    m->nfuncs = m->nfunc_imports;
    m->func_types = zalloc(r, m->nfuncs, sizeof *m->func_types);
    m->ntables = m->ntable_imports;
    m->tables = zalloc(r, m->ntables, sizeof *m->tables);
    m->nmems = m->nmem_imports;
    m->nglobals = m->nglobal_imports;
    m->globals = zalloc(r, m->nglobals, sizeof *m->globals);
    if (!m->func_types || !m->tables || !m->globals)
        return NB_ENOMEM;
    uint32_t f = 0, t = 0, g = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct nbw_import *im = &m->imports[i];
        switch (im->kind) {
        case NBW_EXT_FUNC: m->func_types[f++] = im->index; break;
        case NBW_EXT_TABLE: m->tables[t++] = im->table; break;
        case NBW_EXT_MEMORY: m->mems[0] = im->mem; break;
        case NBW_EXT_GLOBAL:
            m->globals[g].type = im->gtype;
            m->globals[g].mut = im->gmut;
            g++;
            break;
        }
    }
    return 0;
}

static int grow_array(struct rd *r, void **arr, size_t oldn, size_t newn, size_t size)
{
    void *p = zalloc(r, newn, size);
    if (!p)
        return NB_ENOMEM;
    if (oldn)
        memcpy(p, *arr, oldn * size);
    free(*arr);
    *arr = p;
    return 0;
}

static int load(struct rd *r, nb_wasm_module *m)
{
    static const uint8_t magic[4] = {0, 'a', 's', 'm'}, version[4] = {1, 0, 0, 0};
    if ((size_t)(r->end - r->p) < 4 || memcmp(r->p, magic, 4) != 0)
        return MALFORMED(r, "magic header not detected");
    r->p += 4;
    if ((size_t)(r->end - r->p) < 4)
        return MALFORMED(r, "unexpected end (no version)");
    if (memcmp(r->p, version, 4) != 0)
        return MALFORMED(r, "unknown binary version");
    r->p += 4;

    uint32_t ndefined = 0, datacount = 0;
    bool seen_code = false, seen_datacount = false, imports_done = false;
    int last = 0;
    /* Section ids in their required order: datacount (12) sits before code. */
    static const int order[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    while (r->p < r->end) {
        uint8_t id;
        uint32_t size;
        TRY(rd_byte(r, &id));
        TRY(rd_u32(r, &size));
        if (size > (size_t)(r->end - r->p))
            return MALFORMED(r, "section size out of bounds (unexpected end)");
        if (id > 12)
            return MALFORMED(r, "malformed section id %u", id);
        struct rd s = {r->base, r->p, r->p + size, r->err};
        if (id != 0) {
            if (order[id] <= last)
                return MALFORMED(r, "unexpected content after last section (section %u out of order)", id);
            last = order[id];
            if (id != 1 && id != 2 && !imports_done) {
                TRY(finish_imports(r, m));
                imports_done = true;
            }
        }
        switch (id) {
        case 0: {
            char *name = NULL;
            TRY(rd_name(&s, &name));
            if (strcmp(name, "name") == 0 && imports_done)
                sec_names(m, s.p, s.end);
            free(name);
            s.p = s.end;
            break;
        }
        case 1: TRY(sec_type(&s, m)); break;
        case 2: TRY(sec_import(&s, m)); break;
        case 3: {
            uint32_t n;
            struct rd t = s;
            TRY(rd_count(&t, &n, NBW_MAX_FUNCS, 1));
            TRY(grow_array(r, (void **)&m->func_types, m->nfunc_imports,
                           (size_t)m->nfunc_imports + n, sizeof *m->func_types));
            TRY(sec_function(&s, m, &ndefined));
            break;
        }
        case 4: {
            uint32_t n;
            struct rd t = s;
            TRY(rd_count(&t, &n, NBW_MAX_TABLES, 3));
            TRY(grow_array(r, (void **)&m->tables, m->ntable_imports,
                           (size_t)m->ntable_imports + n, sizeof *m->tables));
            TRY(sec_table(&s, m));
            break;
        }
        case 5: TRY(sec_memory(&s, m)); break;
        case 6: {
            uint32_t n;
            struct rd t = s;
            TRY(rd_count(&t, &n, NBW_MAX_GLOBALS, 4));
            TRY(grow_array(r, (void **)&m->globals, m->nglobal_imports,
                           (size_t)m->nglobal_imports + n, sizeof *m->globals));
            TRY(sec_global(&s, m));
            break;
        }
        case 7: TRY(sec_export(&s, m)); break;
        case 8: TRY(sec_start(&s, m)); break;
        case 9: TRY(sec_elem(&s, m)); break;
        case 12:
            TRY(rd_u32(&s, &datacount));
            if (datacount > NBW_MAX_SEGMENTS)
                return fail(&s, NB_ENOMEM, "too many data segments");
            seen_datacount = true;
            m->has_datacount = true;
            m->ndatas = datacount;
            break;
        case 10:
            seen_code = true;
            m->codes = zalloc(r, ndefined, sizeof *m->codes);
            if (!m->codes)
                return NB_ENOMEM;
            TRY(sec_code(&s, m, ndefined));
            break;
        case 11:
            TRY(sec_data(&s, m, seen_datacount, datacount));
            break;
        }
        if (s.p != s.end)
            return MALFORMED(&s, "section size mismatch");
        r->p = s.end;
    }
    if (!imports_done)
        TRY(finish_imports(r, m));
    if (ndefined && !seen_code)
        return MALFORMED(r, "function and code section have inconsistent lengths");
    if (seen_datacount && m->datas == NULL && datacount != 0)
        return MALFORMED(r, "data count and data section have inconsistent lengths");
    if (!m->datas)
        m->ndatas = 0;
    return 0;
}

nb_wasm_module *nb_wasm_module_load(const void *bytes, size_t len,
                                    struct nb_wasm_error *err)
{
    struct nb_wasm_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    struct rd r = {bytes, bytes, (const uint8_t *)bytes + len, err};
    nb_wasm_module *m = calloc(1, sizeof *m);
    if (!m) {
        fail(&r, NB_ENOMEM, "out of memory");
        return NULL;
    }
    m->refs = 1;
    /* Imported memories/tables/func_refs need arrays before their sections;
     * these are re-sized as the sections arrive. */
    m->mems = calloc(2, sizeof *m->mems);
    m->func_refs = calloc((NBW_MAX_FUNCS + NBW_MAX_IMPORTS) / 8 + 1, 1);
    if (!m->mems || !m->func_refs) {
        fail(&r, NB_ENOMEM, "out of memory");
        nbw_module_destroy(m);
        return NULL;
    }
    int rc = load(&r, m);
    if (rc) {
        if (err->code == 0)
            fail(&r, rc, "load failed");
        NB_DEBUG("module rejected at offset %zu: %s", err->offset, err->msg);
        nbw_module_destroy(m);
        return NULL;
    }
    return m;
}

void nb_wasm_module_free(nb_wasm_module *m)
{
    if (m && --m->refs == 0)
        nbw_module_destroy(m);
}
