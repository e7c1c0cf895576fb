/*
 * Unit tests of the wasm embedding API (include/neoboot/wasm.h): host
 * function linking and signature checks, engine-checked pointer arguments
 * (out of range and wrapping), traps and their messages, fuel, deadline and
 * interrupt, memory limits, linking between modules, and that the store is
 * usable after every kind of trap. Fixtures are the .wat files in tests/wasm/wat/,
 * assembled by wat2wasm at build time into NB_FIXTURES.
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

static nb_wasm_module *load_fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.wasm", NB_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct nb_wasm_error err;
    nb_wasm_module *m = nb_wasm_module_load(buf, n, &err);
    if (!m)
        fail_msg("%s: %s", name, err.msg);
    return m;
}

static nb_wasm_val i32v(uint32_t v)
{
    nb_wasm_val x;
    x.type = NB_WASM_I32;
    x.of.i64 = 0;
    x.of.i32 = v;
    return x;
}

/* ---- host functions used by api.wat ---- */

static int h_add(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    r[0].i32 = a[0].i32 + a[1].i32;
    return 0;
}

static int calls_ran;

static int h_sum(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    calls_ran++;
    int32_t s = 0;
    for (uint32_t i = 0; i < a[0].mem.len; i++)
        s += a[0].mem.ptr[i];
    r[0].i32 = s;
    return 0;
}

static int h_peek4(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    calls_ran++;
    memcpy(&r[0].i32, a[0].mem.ptr, 4);
    return 0;
}

static int h_fail(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return nb_wasm_hcall_trap(hc, "host says no (%d)", a[0].i32);
}

static int h_quit(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return nb_wasm_hcall_exit(hc, a[0].i32);
}

static int h_stop_me(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    /* What a signal handler or another thread would do. */
    nb_wasm_store_interrupt(nb_wasm_hcall_store(hc));
    return 0;
}

static int h_reenter(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    nb_wasm_func *dbl = nb_wasm_find_func(nb_wasm_hcall_instance(hc), "double");
    nb_wasm_val arg = i32v((uint32_t)a[0].i32), res;
    int rc = nb_wasm_call(nb_wasm_hcall_store(hc), dbl, &arg, 1, &res, 1);
    if (rc)
        return rc;
    /* Checked access to guest memory from inside a host function. */
    uint8_t b[2];
    if (nb_wasm_hcall_read(hc, 16, b, 2) || nb_wasm_hcall_read(hc, 65535, b, 2) != NB_EFAULT)
        return nb_wasm_hcall_trap(hc, "read checks wrong");
    r[0].i32 = (int32_t)res.of.i32 + b[0] + b[1];
    return 0;
}

struct env {
    nb_wasm_store *s;
    nb_wasm_module *m;
    nb_wasm_instance *inst;
};

static nb_wasm_store *api_store(const struct nb_wasm_config *cfg)
{
    nb_wasm_store *s = nb_wasm_store_new(cfg);
    assert_non_null(s);
    assert_int_equal(nb_wasm_define_func(s, "env", "add", "(ii)i", h_add, NULL), 0);
    assert_int_equal(nb_wasm_define_func(s, "env", "sum", "(b)i", h_sum, NULL), 0);
    assert_int_equal(nb_wasm_define_func(s, "env", "sum8", "(a8)i", h_sum, NULL), 0);
    assert_int_equal(nb_wasm_define_func(s, "env", "peek4", "(p4)i", h_peek4, NULL), 0);
    assert_int_equal(nb_wasm_define_func(s, "env", "fail", "(i)", h_fail, NULL), 0);
    assert_int_equal(nb_wasm_define_func(s, "env", "quit", "(i)", h_quit, NULL), 0);
    assert_int_equal(nb_wasm_define_func(s, "env", "stop_me", "()", h_stop_me, NULL), 0);
    assert_int_equal(nb_wasm_define_func(s, "env", "reenter", "(i)i", h_reenter, NULL), 0);
    return s;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    struct nb_wasm_config cfg = {.max_memory_bytes = 4 * 65536};
    e->s = api_store(&cfg);
    e->m = load_fixture("api");
    struct nb_wasm_error err;
    e->inst = nb_wasm_instantiate(e->s, e->m, "api", &err);
    if (!e->inst)
        fail_msg("instantiate: %s", err.msg);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    nb_wasm_store_free(e->s);
    nb_wasm_module_free(e->m);
    free(e);
    return 0;
}

/* Call export `name` with up to two i32 args; returns the trap code. */
static int call(struct env *e, const char *name, int nargs, uint32_t a, uint32_t b, uint32_t *out)
{
    nb_wasm_func *f = nb_wasm_find_func(e->inst, name);
    assert_non_null(f);
    nb_wasm_val args[2] = {i32v(a), i32v(b)}, res[1];
    uint32_t nr;
    nb_wasm_func_type(f, NULL, NULL, &nr, NULL);
    int rc = nb_wasm_call(e->s, f, args, (size_t)nargs, res, nr);
    if (rc == 0 && nr && out)
        *out = res[0].of.i32;
    return rc;
}

static void test_host_function_linking(void **state)
{
    struct env *e = *state;
    uint32_t r = 0;
    assert_int_equal(call(e, "add", 2, 40, 2, &r), 0);
    assert_int_equal(r, 42);
}

static void test_signature_strings(void **state)
{
    nb_wasm_store *s = nb_wasm_store_new(NULL);
    static const char *bad[] = {"", "ii", "(", "(x)", "(i", "(p)", "(a)", "(p0)", "(a0)i",
                                "(i)b", "(i)p4", "(i)x", "(p99999999)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(nb_wasm_define_func(s, "m", "f", bad[i], h_add, NULL), NB_EINVAL);
    assert_int_equal(nb_wasm_define_func(s, "m", "ok", "( i I f F e c b a16 p8 ) iIfFec", h_add, NULL), 0);
    /* Mismatched import type and unknown imports are link errors. */
    assert_int_equal(nb_wasm_define_func(s, "env", "add", "(ii)i", h_add, NULL), 0);
    nb_wasm_module *m = load_fixture("badsig");
    struct nb_wasm_error err;
    assert_null(nb_wasm_instantiate(s, m, NULL, &err));
    assert_int_equal(err.code, NB_EPROTOTYPE);
    nb_wasm_module_free(m);
    m = load_fixture("api");
    assert_null(nb_wasm_instantiate(s, m, NULL, &err));
    assert_int_equal(err.code, NB_ENOENT);
    assert_non_null(strstr(err.msg, "\"env\" \"sum\""));
    nb_wasm_module_free(m);
    nb_wasm_store_free(s);
}

static void test_pointer_args_checked(void **state)
{
    struct env *e = *state;
    uint32_t r = 0;
    /* In range: bytes 1..8 at 16. */
    assert_int_equal(call(e, "sum", 2, 16, 8, &r), 0);
    assert_int_equal(r, 36);
    /* Ends exactly at the end of memory; empty buffer at the end. */
    assert_int_equal(call(e, "sum", 2, 65536 - 4, 4, &r), 0);
    assert_int_equal(call(e, "sum", 2, 65536, 0, &r), 0);
    calls_ran = 0;
    /* One byte past the end, a wrapping pointer+length, huge lengths. */
    assert_int_equal(call(e, "sum", 2, 65536 - 4, 5, &r), NB_WASM_TRAP_HOST_POINTER);
    assert_int_equal(call(e, "sum", 2, 65537, 0, &r), NB_WASM_TRAP_HOST_POINTER);
    assert_int_equal(call(e, "sum", 2, 0xfffffff0u, 0x20, &r), NB_WASM_TRAP_HOST_POINTER);
    assert_int_equal(call(e, "sum", 2, 1, 0xffffffffu, &r), NB_WASM_TRAP_HOST_POINTER);
    assert_non_null(strstr(nb_wasm_trap_message(e->s), "out of bounds"));
    /* Arrays: count * 8 computed without wrapping (0x20000000 * 8 = 4 GiB). */
    assert_int_equal(call(e, "sum8", 2, 16, 1, &r), 0);
    calls_ran = 0;
    assert_int_equal(call(e, "sum8", 2, 0, 0x20000000u, &r), NB_WASM_TRAP_HOST_POINTER);
    assert_int_equal(call(e, "sum8", 2, 65536 - 8, 2, &r), NB_WASM_TRAP_HOST_POINTER);
    /* Fixed-size pointers. */
    assert_int_equal(call(e, "peek4", 1, 65532, 0, &r), 0);
    calls_ran = 0;
    assert_int_equal(call(e, "peek4", 1, 65533, 0, &r), NB_WASM_TRAP_HOST_POINTER);
    assert_int_equal(call(e, "peek4", 1, 0xffffffffu, 0, &r), NB_WASM_TRAP_HOST_POINTER);
    /* A rejected call never reaches the host function. */
    assert_int_equal(calls_ran, 0);
}

static void test_traps_and_recovery(void **state)
{
    struct env *e = *state;
    uint32_t r;
    assert_int_equal(call(e, "unreachable", 0, 0, 0, NULL), NB_WASM_TRAP_UNREACHABLE);
    assert_non_null(strstr(nb_wasm_trap_message(e->s), "unreachable"));
    assert_non_null(strstr(nb_wasm_trap_message(e->s), "\"unreachable\""));
    assert_int_equal(call(e, "div", 2, 1, 0, &r), NB_WASM_TRAP_DIV_ZERO);
    assert_string_equal(nb_wasm_trap_name(NB_WASM_TRAP_DIV_ZERO), "integer divide by zero");
    assert_non_null(strstr(nb_wasm_trap_message(e->s), "in function 15 \"div\""));
    assert_int_equal(call(e, "div", 2, 0x80000000u, 0xffffffffu, &r), NB_WASM_TRAP_INT_OVERFLOW);
    assert_int_equal(call(e, "oob", 0, 0, 0, &r), NB_WASM_TRAP_MEMORY_OOB);
    assert_int_equal(call(e, "recurse", 1, 0, 0, &r), NB_WASM_TRAP_STACK_EXHAUSTED);
    assert_int_equal(call(e, "fail", 0, 0, 0, NULL), NB_WASM_TRAP_HOST);
    assert_string_equal(nb_wasm_trap_message(e->s), "host says no (7)");
    assert_int_equal(call(e, "quit", 0, 0, 0, NULL), NB_WASM_TRAP_EXIT);
    assert_int_equal(nb_wasm_exit_status(e->s), 42);
    /* After all of that the store still works. */
    assert_int_equal(call(e, "div", 2, 84, 2, &r), 0);
    assert_int_equal(r, 42);
    /* Wrong argument counts or types are refused, not run. */
    nb_wasm_func *f = nb_wasm_find_func(e->inst, "div");
    nb_wasm_val bad[2] = {i32v(1), i32v(2)};
    bad[1].type = NB_WASM_I64;
    nb_wasm_val res;
    assert_int_equal(nb_wasm_call(e->s, f, bad, 2, &res, 1), NB_EINVAL);
    assert_int_equal(nb_wasm_call(e->s, f, bad, 1, &res, 1), NB_EINVAL);
}

static void test_fusion_regressions(void **state)
{
    struct env *e = *state;
    uint32_t r = 0;
    assert_int_equal(call(e, "cond_below", 1, 1, 0, &r), 0);
    assert_int_equal(r, 10);
    assert_int_equal(call(e, "cond_below", 1, 0, 0, &r), 0);
    assert_int_equal(r, 20);
    assert_int_equal(call(e, "cmp_below", 1, 1, 0, &r), 0);
    assert_int_equal(r, 1);
    assert_int_equal(call(e, "cmp_below", 1, 0, 0, &r), 0);
    assert_int_equal(r, 100);
}

static void test_reentry(void **state)
{
    struct env *e = *state;
    uint32_t r = 0;
    assert_int_equal(call(e, "reenter", 1, 20, 0, &r), 0);
    assert_int_equal(r, 40 + 1 + 2);
}

static void test_fuel_deadline_interrupt(void **state)
{
    struct env *e = *state;
    uint32_t r = 0;
    /* Fuel: one unit per back-edge and call. */
    nb_wasm_store_set_fuel(e->s, 1000);
    assert_int_equal(call(e, "count", 1, 100, 0, &r), 0);
    assert_int_equal(r, 100);
    uint64_t left = nb_wasm_store_fuel(e->s);
    assert_true(left < 1000 && left >= 1000 - 110);
    assert_int_equal(call(e, "spin", 0, 0, 0, NULL), NB_WASM_TRAP_OUT_OF_FUEL);
    assert_int_equal(nb_wasm_store_fuel(e->s), 0);
    assert_int_equal(call(e, "count", 1, 1, 0, &r), NB_WASM_TRAP_OUT_OF_FUEL);
    nb_wasm_store_set_fuel(e->s, NB_WASM_FUEL_UNLIMITED);
    /* A deadline stops an infinite loop. */
    uint64_t t0 = nb_clock_ns();
    nb_wasm_store_set_deadline(e->s, t0 + 50 * NB_NS_PER_MS);
    assert_int_equal(call(e, "spin", 0, 0, 0, NULL), NB_WASM_TRAP_DEADLINE);
    uint64_t took = nb_clock_ns() - t0;
    assert_true(took >= 50 * NB_NS_PER_MS && took < 2 * NB_NS_PER_S);
    nb_wasm_store_set_deadline(e->s, NB_FOREVER);
    /* An interrupt request stops it too. */
    assert_int_equal(call(e, "spin_interrupt", 0, 0, 0, NULL), NB_WASM_TRAP_INTERRUPTED);
    /* The host keeps running and so does the store. */
    assert_int_equal(call(e, "count", 1, 1000, 0, &r), 0);
    assert_int_equal(r, 1000);
}

static void test_memory_limit(void **state)
{
    struct env *e = *state; /* limit: 4 pages */
    uint32_t r = 0;
    assert_int_equal(call(e, "grow", 1, 1, 0, &r), 0);
    assert_int_equal(r, 1);
    assert_int_equal(call(e, "grow", 1, 100, 0, &r), 0);
    assert_int_equal(r, 0xffffffffu);
    assert_int_equal(call(e, "grow_all", 0, 0, 0, &r), 0);
    assert_int_equal(r, 4);
    uint64_t size;
    assert_non_null(nb_wasm_memory(e->inst, &size));
    assert_int_equal(size, 4 * 65536);
    /* A module that wants more than the limit at start is refused. */
    nb_wasm_module *m = load_fixture("bigmem");
    struct nb_wasm_error err;
    assert_null(nb_wasm_instantiate(e->s, m, NULL, &err));
    assert_int_equal(err.code, NB_ENOMEM);
    nb_wasm_module_free(m);
}

static void test_linking_modules(void **state)
{
    nb_wasm_store *s = nb_wasm_store_new(NULL);
    nb_wasm_module *lib = load_fixture("lib"), *client = load_fixture("client");
    struct nb_wasm_error err;
    nb_wasm_instance *li = nb_wasm_instantiate(s, lib, "lib", &err);
    assert_non_null(li);
    assert_int_equal(nb_wasm_register(s, "lib", li), 0);
    nb_wasm_instance *ci = nb_wasm_instantiate(s, client, "client", &err);
    if (!ci)
        fail_msg("%s", err.msg);
    nb_wasm_val res;
    assert_int_equal(nb_wasm_call(s, nb_wasm_find_func(ci, "run"), NULL, 0, &res, 1), 0);
    assert_int_equal(res.of.i32, 21);
    nb_wasm_val g;
    assert_int_equal(nb_wasm_get_global(li, "counter", &g), 0);
    assert_int_equal(g.of.i32, 111);
    uint64_t size;
    uint8_t *mem = nb_wasm_memory(li, &size);
    assert_int_equal(mem[8], 77);
    nb_wasm_store_free(s);
    nb_wasm_module_free(lib);
    nb_wasm_module_free(client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_host_function_linking, setup, teardown),
        cmocka_unit_test(test_signature_strings),
        cmocka_unit_test_setup_teardown(test_pointer_args_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traps_and_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reentry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fusion_regressions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuel_deadline_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_limit, setup, teardown),
        cmocka_unit_test(test_linking_modules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
