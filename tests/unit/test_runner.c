/*
 * The app runner (src/boot/runner.c): exit statuses, traps, refusals
 * (bad bytes, unknown imports, no _start, damaged bundles), bundles whose
 * configuration sets the arguments, and that everything is freed so the
 * same app runs again. The modules are hand-assembled here so the test
 * needs no toolchain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <neoboot/bundle.h>
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/runner.h>
#include <neoboot/wasm.h>

#include <stdlib.h>
#include <string.h>

/* (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
 * (func (export "_start") BODY) */
static size_t module(uint8_t *out, const uint8_t *body, size_t body_len, const char *mod,
                     const char *name)
{
    size_t n = 0;
    static const uint8_t head[] = {0, 'a', 's', 'm', 1, 0, 0, 0,
                                   1, 8, 2, 0x60, 1, 0x7f, 0, 0x60, 0, 0};
    memcpy(out, head, sizeof head);
    n = sizeof head;
    size_t ml = strlen(mod), nl = strlen(name);
    out[n++] = 2;
    out[n++] = (uint8_t)(1 + 1 + ml + 1 + nl + 2);
    out[n++] = 1;
    out[n++] = (uint8_t)ml;
    memcpy(out + n, mod, ml);
    n += ml;
    out[n++] = (uint8_t)nl;
    memcpy(out + n, name, nl);
    n += nl;
    out[n++] = 0;
    out[n++] = 0;
    static const uint8_t funcs[] = {3, 2, 1, 1, 7, 10, 1, 6, '_', 's', 't', 'a', 'r', 't', 0, 1};
    memcpy(out + n, funcs, sizeof funcs);
    n += sizeof funcs;
    out[n++] = 10;
    out[n++] = (uint8_t)(body_len + 3);
    out[n++] = 1;
    out[n++] = (uint8_t)(body_len + 1);
    out[n++] = 0; /* no locals */
    memcpy(out + n, body, body_len);
    n += body_len;
    return n;
}

static const uint8_t exit3[] = {0x41, 3, 0x10, 0, 0x0b};   /* i32.const 3; call 0; end */
static const uint8_t trap[] = {0x00, 0x0b};                 /* unreachable; end */
static const uint8_t ret[] = {0x0b};                        /* end */

static void test_status_and_trap(void **state)
{
    (void)state;
    uint8_t m[256];
    struct nb_run_opts o;
    nb_run_opts_defaults(&o);
    struct nb_run_result r;
    size_t n = module(m, exit3, sizeof exit3, "wasi_snapshot_preview1", "proc_exit");
    for (int i = 0; i < 3; i++) { /* again and again: nothing left behind */
        assert_int_equal(nb_run_wasm(m, n, &o, &r), 0);
        assert_int_equal(r.status, 3);
        assert_int_equal(r.trap, 0);
    }
    n = module(m, ret, sizeof ret, "wasi_snapshot_preview1", "proc_exit");
    assert_int_equal(nb_run_wasm(m, n, &o, &r), 0);
    assert_int_equal(r.status, 0);
    n = module(m, trap, sizeof trap, "wasi_snapshot_preview1", "proc_exit");
    assert_int_equal(nb_run_wasm(m, n, &o, &r), 0);
    assert_int_equal(r.trap, NB_WASM_TRAP_UNREACHABLE);
    assert_int_equal(r.status, NB_RUN_EXIT_TRAP);
    assert_non_null(strstr(r.msg, "unreachable"));
    assert_false(nb_run_active());
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t m[256];
    struct nb_run_opts o;
    nb_run_opts_defaults(&o);
    struct nb_run_result r;
    size_t n = module(m, exit3, sizeof exit3, "wasi_snapshot_preview1", "no_such_call");
    assert_int_equal(nb_run_wasm(m, n, &o, &r), NB_ENOENT);
    assert_non_null(strstr(r.msg, "docs/abi.md"));
    n = module(m, exit3, sizeof exit3, "wasi_snapshot_preview1", "proc_exit");
    m[n - 3] = 0xff; /* a bad opcode */
    assert_true(nb_run_wasm(m, n, &o, &r) < 0);
    assert_non_null(strstr(r.msg, "module"));
    assert_int_equal(nb_run_blob("hello", 5, NULL, &r), NB_ENOEXEC);
    struct nb_run_stats st;
    nb_run_get_stats(&st);
    assert_true(st.refused >= 3);
}

static void test_blob(void **state)
{
    (void)state;
    uint8_t m[256];
    size_t n = module(m, exit3, sizeof exit3, "wasi_snapshot_preview1", "proc_exit");
    struct nb_run_result r;
    /* a bare module */
    assert_int_equal(nb_run_blob(m, n, NULL, &r), 0);
    assert_int_equal(r.status, 3);
    /* a bundle with a configuration */
    const char *cfg = "name=three\narg=x\nmax-memory=1M\n";
    size_t blen = nb_bundle_size(strlen(cfg), n);
    uint8_t *b = malloc(blen);
    assert_int_equal(nb_bundle_write(b, blen, cfg, strlen(cfg), m, n), 0);
    assert_int_equal(nb_run_blob(b, blen, NULL, &r), 0);
    assert_int_equal(r.status, 3);
    /* damaged: refused, nothing runs */
    b[blen - 2] ^= 1;
    assert_int_equal(nb_run_blob(b, blen, NULL, &r), NB_EBADMSG);
    assert_non_null(strstr(r.msg, "digest"));
    b[blen - 2] ^= 1;
    /* a bad configuration */
    const char *bad = "nmae=three\n";
    size_t blen2 = nb_bundle_size(strlen(bad), n);
    uint8_t *b2 = malloc(blen2);
    assert_int_equal(nb_bundle_write(b2, blen2, bad, strlen(bad), m, n), 0);
    assert_int_equal(nb_run_blob(b2, blen2, NULL, &r), NB_EINVAL);
    assert_non_null(strstr(r.msg, "unknown key"));
    free(b2);
    free(b);
}

int main(void)
{
    nb_log_configure("error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_and_trap),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_blob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
