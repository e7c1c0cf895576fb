/*
 * Unit tests of the WASI layer (include/neoboot/wasi.h) against a module
 * that calls wasi_snapshot_preview1 directly: stdio through the config's
 * callbacks, bad iovecs and descriptors, sleeping through the wait hook
 * without spinning, args/environ sizes, ENOSYS for the rest, proc_exit.
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
#include <neoboot/wasi.h>
#include <neoboot/wasm.h>

static char out[256];
static size_t out_len;
static int hook_calls;

static long t_write(void *io, int fd, const void *buf, size_t len)
{
    (void)io;
    if (fd != 1 || out_len + len > sizeof out)
        return NB_EIO;
    memcpy(out + out_len, buf, len);
    out_len += len;
    return (long)len;
}

static long t_read(void *io, void *buf, size_t len)
{
    (void)io;
    const char *in = "typed";
    size_t n = strlen(in) < len ? strlen(in) : len;
    memcpy(buf, in, n);
    return (long)n;
}

/* The event loop stand-in: counts calls and waits as the platform would. */
static void t_wait(void *arg, uint64_t deadline)
{
    (void)arg;
    hook_calls++;
    nb_platform_wait(deadline);
}

static const char *const argv[] = {"prog", "a1", "bb2"};
static const char *const envp[] = {"K=V", NULL};
static struct nb_wasi_config cfg = {
    .argc = 3, .argv = argv, .envp = envp,
    .write = t_write, .read = t_read, .wait_until = t_wait,
};

struct env {
    nb_wasm_store *s;
    nb_wasm_module *m;
    nb_wasm_instance *inst;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    char path[512];
    snprintf(path, sizeof path, "%s/wasi.wasm", NB_FIXTURES);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct nb_wasm_error err;
    e->m = nb_wasm_module_load(buf, n, &err);
    assert_non_null(e->m);
    e->s = nb_wasm_store_new(NULL);
    assert_int_equal(nb_wasi_link(e->s, &cfg), 0);
    e->inst = nb_wasm_instantiate(e->s, e->m, "wasi", &err);
    if (!e->inst)
        fail_msg("%s", err.msg);
    out_len = 0;
    hook_calls = 0;
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

static int call_i32(struct env *e, const char *name, const nb_wasm_val *arg, uint32_t *r)
{
    nb_wasm_val res;
    int rc = nb_wasm_call(e->s, nb_wasm_find_func(e->inst, name), arg, arg ? 1 : 0, &res, 1);
    *r = res.of.i32;
    return rc;
}

static void test_stdio(void **state)
{
    struct env *e = *state;
    uint32_t r;
    assert_int_equal(call_i32(e, "write", NULL, &r), 0);
    assert_int_equal(r, 13);
    assert_int_equal(out_len, 13);
    assert_memory_equal(out, "hello, world\n", 13);
    assert_int_equal(call_i32(e, "write_bad_iovec", NULL, &r), 0);
    assert_int_equal(r, 21); /* EFAULT */
    assert_int_equal(call_i32(e, "write_bad_fd", NULL, &r), 0);
    assert_int_equal(r, 8); /* EBADF */
    assert_int_equal(out_len, 13);
    assert_int_equal(call_i32(e, "read", NULL, &r), 0);
    assert_int_equal(r, 5);
    uint64_t size;
    uint8_t *mem = nb_wasm_memory(e->inst, &size);
    assert_memory_equal(mem + 300, "typed", 5);
}

static void test_sleep_uses_hook(void **state)
{
    struct env *e = *state;
    nb_wasm_val ns = {.type = NB_WASM_I64, .of.i64 = 30 * NB_NS_PER_MS};
    uint32_t r;
    uint64_t t0 = nb_clock_ns();
    assert_int_equal(call_i32(e, "sleep", &ns, &r), 0);
    uint64_t took = nb_clock_ns() - t0;
    assert_int_equal(r, 1 + 77);
    assert_true(took >= 30 * NB_NS_PER_MS);
    assert_true(hook_calls >= 1 && hook_calls < 100); /* waited, did not spin */
    /* The guest's deadline cuts a long sleep short with a trap. */
    nb_wasm_store_set_deadline(e->s, nb_clock_ns() + 20 * NB_NS_PER_MS);
    ns.of.i64 = 10 * NB_NS_PER_S;
    t0 = nb_clock_ns();
    assert_int_equal(call_i32(e, "sleep", &ns, &r), NB_WASM_TRAP_DEADLINE);
    assert_true(nb_clock_ns() - t0 < 2 * NB_NS_PER_S);
}

static void test_args_environ_enosys_exit(void **state)
{
    struct env *e = *state;
    uint32_t r;
    assert_int_equal(call_i32(e, "sizes", NULL, &r), 0);
    /* argc 3 * 1000 + ("prog a1 bb2" with NULs = 12 bytes) * 10 + envc 1 */
    assert_int_equal(r, 3000 + 120 + 1);
    assert_int_equal(call_i32(e, "open", NULL, &r), 0);
    assert_int_equal(r, 52); /* ENOSYS */
    assert_int_equal(call_i32(e, "clock_and_random", NULL, &r), 0);
    assert_int_equal(r, 1);
    /* random_get's buffer is a checked (ptr, len) argument. */
    assert_int_equal(call_i32(e, "random_oob", NULL, &r), NB_WASM_TRAP_HOST_POINTER);
    int status = -1;
    assert_int_equal(nb_wasi_start(e->s, e->inst, &status), 0);
    assert_int_equal(status, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stdio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sleep_uses_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_args_environ_enosys_exit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
