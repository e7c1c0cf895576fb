/*
 * Hostile modules: hand-made binaries that try to make the engine allocate
 * without bound, recurse, or run forever. Each must end in a load error or
 * a trap, quickly, with no crash or leak (the debug build runs this under
 * ASan). Modules are assembled here byte by byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <neoboot/err.h>
#include <neoboot/platform.h>
#include <neoboot/wasm.h>

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void byte(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void leb(struct buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        byte(b, c | (v ? 0x80 : 0));
    } while (v);
}
static void section(struct buf *m, uint8_t id, const struct buf *body)
{
    byte(m, id);
    leb(m, body->n);
    put(m, body->p, body->n);
}
static void header(struct buf *m) { put(m, "\0asm\1\0\0\0", 8); }

/* A module with one function of type [] -> [] (or -> i32) and body `code`. */
static struct buf one_func(const struct buf *code, int result_i32, int with_memory)
{
    struct buf m = {0}, s = {0};
    header(&m);
    const uint8_t type[] = {1, 0x60, 0, 1, 0x7f};
    const uint8_t type0[] = {1, 0x60, 0, 0};
    put(&s, result_i32 ? type : type0, result_i32 ? sizeof type : sizeof type0);
    section(&m, 1, &s);
    s.n = 0;
    put(&s, "\1\0", 2);
    section(&m, 3, &s);
    if (with_memory) {
        s.n = 0;
        put(&s, "\1\0\1", 3); /* one memory, min 1 page, no max */
        section(&m, 5, &s);
    }
    s.n = 0;
    put(&s, "\1\3run\0\0", 7); /* export "run" func 0 */
    section(&m, 7, &s);
    s.n = 0;
    struct buf body = {0};
    put(&body, code->p, code->n);
    leb(&s, 1);
    leb(&s, body.n);
    put(&s, body.p, body.n);
    section(&m, 10, &s);
    free(s.p);
    free(body.p);
    return m;
}

static int load_fails(const struct buf *m, int *code)
{
    struct nb_wasm_error err;
    nb_wasm_module *mod = nb_wasm_module_load(m->p, m->n, &err);
    if (mod) {
        nb_wasm_module_free(mod);
        return 0;
    }
    *code = err.code;
    return 1;
}

static int run(const struct buf *m, uint64_t fuel, const struct nb_wasm_config *cfg)
{
    struct nb_wasm_error err;
    nb_wasm_module *mod = nb_wasm_module_load(m->p, m->n, &err);
    if (!mod)
        fail_msg("load: %s at %zu", err.msg, err.offset);
    nb_wasm_store *s = nb_wasm_store_new(cfg);
    nb_wasm_instance *inst = nb_wasm_instantiate(s, mod, "hostile", &err);
    assert_non_null(inst);
    nb_wasm_store_set_fuel(s, fuel);
    nb_wasm_func *f = nb_wasm_find_func(inst, "run");
    uint32_t nr;
    nb_wasm_func_type(f, NULL, NULL, &nr, NULL);
    nb_wasm_val res;
    int rc = nb_wasm_call(s, f, NULL, 0, &res, nr);
    nb_wasm_store_free(s);
    nb_wasm_module_free(mod);
    return rc;
}

static void test_huge_counts(void **state)
{
    /* Sections that claim 2^32-1 entries in a few bytes. */
    static const uint8_t ids[] = {1, 2, 3, 4, 6, 7, 9, 10, 11};
    for (size_t i = 0; i < sizeof ids; i++) {
        struct buf m = {0}, s = {0};
        header(&m);
        leb(&s, 0xffffffffu);
        put(&s, "\x60\x00\x00", 3);
        section(&m, ids[i], &s);
        int code;
        assert_true(load_fails(&m, &code));
        free(m.p);
        free(s.p);
    }
    /* A function claiming 2^32-1 locals twice over. */
    struct buf code = {0};
    put(&code, "\x02\xff\xff\xff\xff\x0f\x7f\xff\xff\xff\xff\x0f\x7f\x0b", 14);
    struct buf m = one_func(&code, 0, 0);
    int err;
    assert_true(load_fails(&m, &err));
    assert_int_equal(err, NB_EILSEQ);
    free(m.p);
    free(code.p);
    /* br_table with 2^32-1 targets. */
    code = (struct buf){0};
    put(&code, "\x00\x41\x00\x0e\xff\xff\xff\xff\x0f\x00\x0b", 11);
    m = one_func(&code, 0, 0);
    assert_true(load_fails(&m, &err));
    free(m.p);
    free(code.p);
}

static void test_deep_nesting(void **state)
{
    /* 200,000 nested blocks: refused by the nesting limit, not a crash. */
    struct buf code = {0};
    byte(&code, 0);
    for (int i = 0; i < 200000; i++)
        put(&code, "\x02\x40", 2);
    for (int i = 0; i < 200000; i++)
        byte(&code, 0x0b);
    byte(&code, 0x0b);
    struct buf m = one_func(&code, 0, 0);
    int err;
    assert_true(load_fails(&m, &err));
    assert_int_equal(err, NB_ENOMEM);
    free(m.p);
    free(code.p);
    /* 1,000,000 values pushed: the operand stack limit. */
    code = (struct buf){0};
    byte(&code, 0);
    for (int i = 0; i < 1000000; i++)
        put(&code, "\x41\x01", 2);
    byte(&code, 0x0b);
    m = one_func(&code, 0, 0);
    assert_true(load_fails(&m, &err));
    free(m.p);
    free(code.p);
}

static void test_endless_recursion(void **state)
{
    struct buf code = {0};
    put(&code, "\x00\x10\x00\x0b", 4); /* call 0 */
    struct buf m = one_func(&code, 0, 0);
    assert_int_equal(run(&m, NB_WASM_FUEL_UNLIMITED, NULL), NB_WASM_TRAP_STACK_EXHAUSTED);
    /* A small value stack fills before the depth limit. */
    struct nb_wasm_config cfg = {.stack_slots = 1000};
    assert_int_equal(run(&m, NB_WASM_FUEL_UNLIMITED, &cfg), NB_WASM_TRAP_STACK_EXHAUSTED);
    free(m.p);
    free(code.p);
}

static void test_infinite_loop(void **state)
{
    struct buf code = {0};
    put(&code, "\x00\x03\x40\x0c\x00\x0b\x0b", 7); /* loop br 0 end */
    struct buf m = one_func(&code, 0, 0);
    assert_int_equal(run(&m, 1000000, NULL), NB_WASM_TRAP_OUT_OF_FUEL);
    free(m.p);
    free(code.p);
    /* The same through br_table and br_if. */
    code = (struct buf){0};
    put(&code, "\x00\x03\x40\x41\x00\x0e\x00\x00\x0b\x0b", 10);
    m = one_func(&code, 0, 0);
    assert_int_equal(run(&m, 1000000, NULL), NB_WASM_TRAP_OUT_OF_FUEL);
    free(m.p);
    free(code.p);
    code = (struct buf){0};
    put(&code, "\x00\x03\x40\x41\x01\x0d\x00\x0b\x0b", 9);
    m = one_func(&code, 0, 0);
    assert_int_equal(run(&m, 1000000, NULL), NB_WASM_TRAP_OUT_OF_FUEL);
    free(m.p);
    free(code.p);
}

static void test_memory_growth_to_limit(void **state)
{
    /* loop: br_if 0 (memory.grow 1 != -1); memory.size */
    struct buf code = {0};
    put(&code, "\x00\x03\x40\x41\x01\x40\x00\x41\x7f\x47\x0d\x00\x0b\x3f\x00\x0b", 16);
    struct buf m = one_func(&code, 1, 1);
    struct nb_wasm_config cfg = {.max_memory_bytes = 64 * 65536};
    struct nb_wasm_error err;
    nb_wasm_module *mod = nb_wasm_module_load(m.p, m.n, &err);
    assert_non_null(mod);
    nb_wasm_store *s = nb_wasm_store_new(&cfg);
    nb_wasm_instance *inst = nb_wasm_instantiate(s, mod, NULL, &err);
    nb_wasm_val res;
    assert_int_equal(nb_wasm_call(s, nb_wasm_find_func(inst, "run"), NULL, 0, &res, 1), 0);
    assert_int_equal(res.of.i32, 64);
    nb_wasm_store_free(s);
    nb_wasm_module_free(mod);
    free(m.p);
    free(code.p);
}

static void test_truncated_everywhere(void **state)
{
    /* Every prefix of a valid module loads (when it ends between
     * sections) or fails cleanly; any cut inside the code section, which
     * comes last, must fail. */
    struct buf code = {0};
    put(&code, "\x01\x01\x7f\x41\x05\x21\x00\x20\x00\x41\x02\x6c\x0b", 13);
    struct buf m = one_func(&code, 1, 1);
    size_t code_section = 1 + 1 + 1 + 1 + code.n; /* id, size, count, body size, body */
    for (size_t n = 0; n < m.n; n++) {
        struct buf p = {m.p, n, n};
        int err;
        int failed = load_fails(&p, &err);
        if (n > m.n - code_section)
            assert_true(failed);
    }
    free(m.p);
    free(code.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_endless_recursion),
        cmocka_unit_test(test_infinite_loop),
        cmocka_unit_test(test_memory_growth_to_limit),
        cmocka_unit_test(test_truncated_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
