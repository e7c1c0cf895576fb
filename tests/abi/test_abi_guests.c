/*
 * Hostile guests against the "neoboot" imports, run in-process: each
 * attack in tests/abi/hostile.wat gets its error code or is stopped, the
 * runtime keeps serving (an echo service on the same stack answers a host
 * client after every attack), and nothing leaks (handles, sockets,
 * packets).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <neoboot/abi.h>
#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/platform.h>
#include <neoboot/svc.h>
#include <neoboot/wasm.h>

#include "memlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct nb_memlink *ml;
static struct nb_stack *guest_st, *host_st;
static struct nb_svc *echo;
static nb_wasm_module *mod;
static uint32_t baseline_objects;

struct guest {
    struct nb_app *app;
    nb_wasm_store *s;
    nb_wasm_instance *inst;
};

static nb_wasm_module *boot_mod;

static void guest_up_with(struct guest *g, nb_wasm_module *m, uint32_t max_handles, bool boot)
{
    struct nb_app_config cfg;
    nb_app_config_defaults(&cfg);
    cfg.stack = guest_st;
    cfg.caps.boot = boot;
    if (max_handles)
        cfg.max_handles = max_handles;
    g->app = nb_app_new(&cfg, "hostile");
    g->s = nb_wasm_store_new(NULL);
    assert_non_null(g->app);
    assert_non_null(g->s);
    assert_int_equal(nb_app_link(g->app, g->s), 0);
    struct nb_wasm_error err;
    g->inst = nb_wasm_instantiate(g->s, m, "hostile", &err);
    if (!g->inst)
        fail_msg("instantiate: %s", err.msg);
}

static void guest_up(struct guest *g, uint32_t max_handles)
{
    guest_up_with(g, mod, max_handles, false);
}

static void guest_down(struct guest *g)
{
    nb_app_free(g->app);
    nb_wasm_store_free(g->s);
}

/* Call export `name` with up to one i32 argument; returns the trap code
 * (0 when it returned) and the result in *out. */
static int call(struct guest *g, const char *name, int nargs, int32_t arg, int32_t *out)
{
    nb_wasm_func *f = nb_wasm_find_func(g->inst, name);
    assert_non_null(f);
    nb_wasm_val a = {.type = NB_WASM_I32, .of.i32 = (uint32_t)arg};
    nb_wasm_val r = {0};
    int trap = nb_wasm_call(g->s, f, &a, (size_t)nargs, &r, 1);
    if (out)
        *out = (int32_t)r.of.i32;
    return trap;
}

static int32_t ok_call(struct guest *g, const char *name, int nargs, int32_t arg)
{
    int32_t v;
    int trap = call(g, name, nargs, arg, &v);
    if (trap)
        fail_msg("%s trapped: %s", name, nb_wasm_trap_message(g->s));
    return v;
}

/* The runtime still serves: a host client gets its bytes echoed. */
static void assert_still_serving(void)
{
    nb_sock *c;
    assert_int_equal(nb_socket(host_st, NB_AF_VSOCK, NB_SOCK_STREAM, &c), 0);
    nb_setopt(c, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    struct nb_addr to = nb_addr_vsock(3, 5000);
    assert_int_equal(nb_connect(c, &to), 0);
    assert_int_equal(nb_send(c, "still here", 10, 0), 10);
    char buf[16];
    assert_int_equal(nb_recv(c, buf, sizeof buf, NB_MSG_WAITALL), 10);
    assert_memory_equal(buf, "still here", 10);
    nb_close(c);
}

static bool settled(void *arg)
{
    (void)arg;
    return nb_stack_objects(guest_st) == baseline_objects && nb_stack_objects(host_st) == 0;
}

static void assert_nothing_leaked(void)
{
    assert_true(nb_loop_run_until(settled, NULL, nb_clock_ns() + 5 * NB_NS_PER_S) == 0);
}

static nb_wasm_module *load_module(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t bytes[1 << 16];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    struct nb_wasm_error werr;
    nb_wasm_module *m = nb_wasm_module_load(bytes, n, &werr);
    if (!m)
        fail_msg("load %s: %s", path, werr.msg);
    return m;
}

static int setup(void **state)
{
    (void)state;
    nb_log_configure("error");
    ml = nb_memlink_new("gv", "hv", NB_LINK_VSOCK, 3, 2);
    guest_st = nb_stack_new("guest");
    host_st = nb_stack_new("host");
    nb_stack_attach(guest_st, nb_memlink_end(ml, 0));
    nb_stack_attach(host_st, nb_memlink_end(ml, 1));
    nb_iface_start(nb_memlink_end(ml, 0));
    nb_iface_start(nb_memlink_end(ml, 1));
    int err;
    struct nb_addr ea = nb_addr_vsock(NB_VMADDR_CID_ANY, 5000);
    echo = nb_svc_echo_start(guest_st, &ea, &err);
    assert_non_null(echo);
    baseline_objects = nb_stack_objects(guest_st);

    mod = load_module(HOSTILE_WASM);
    boot_mod = load_module(BOOT_WASM);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nb_wasm_module_free(mod);
    nb_wasm_module_free(boot_mod);
    nb_svc_stop(echo);
    nb_stack_free(guest_st);
    nb_stack_free(host_st);
    nb_memlink_free(ml);
    struct nb_pkt_stats ps;
    nb_pkt_get_stats(&ps);
    assert_int_equal(ps.live, 0);
    return 0;
}

static void test_bad_pointers_stop_the_guest(void **state)
{
    (void)state;
    struct guest g;
    guest_up(&g, 0);
    int32_t h = ok_call(&g, "new_socket", 0, 0);
    assert_true(h > 0);
    static const char *attacks[] = {"send_oob", "recv_wrap", "bind_oob"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(call(&g, attacks[i], 1, h, NULL), NB_WASM_TRAP_HOST_POINTER);
        assert_still_serving();
    }
    assert_int_equal(call(&g, "poll_oob", 0, 0, NULL), NB_WASM_TRAP_HOST_POINTER);
    /* the store is still usable after the traps */
    assert_true(ok_call(&g, "new_socket", 0, 0) > 0);
    guest_down(&g);
    assert_nothing_leaked();
}

static void test_forged_closed_and_foreign_handles(void **state)
{
    (void)state;
    struct guest a, b;
    guest_up(&a, 0);
    guest_up(&b, 0);
    assert_int_equal(ok_call(&a, "close_forged", 1, 12345), NB_EBADF);
    assert_int_equal(ok_call(&a, "close_forged", 1, -1), NB_EBADF);
    assert_int_equal(ok_call(&a, "close_forged", 1, 0), NB_EBADF);
    assert_int_equal(ok_call(&a, "send_forged", 1, 0x7fffffff), NB_EBADF);
    int32_t ha = ok_call(&a, "new_socket", 0, 0);
    int32_t hb = ok_call(&b, "new_socket", 0, 0);
    /* another instance's handle is refused, and stays intact for its owner */
    assert_int_equal(ok_call(&b, "close_forged", 1, ha), NB_EBADF);
    assert_int_equal(ok_call(&a, "close_forged", 1, hb), NB_EBADF);
    assert_int_equal(ok_call(&a, "setopt_bad", 1, ha), NB_ENOPROTOOPT);
    /* a closed handle is dead */
    assert_int_equal(ok_call(&a, "close_forged", 1, ha), 0);
    assert_int_equal(ok_call(&a, "close_forged", 1, ha), NB_EBADF);
    assert_int_equal(ok_call(&a, "send_forged", 1, ha), NB_EBADF);
    struct nb_app_stats st;
    nb_app_get_stats(a.app, &st);
    assert_true(st.bad_handles >= 6);
    assert_still_serving();
    guest_down(&a);
    guest_down(&b);
    assert_nothing_leaked();
}

static void test_capabilities(void **state)
{
    (void)state;
    struct guest g;
    guest_up(&g, 0);
    /* defaults: listen on ports >= 1024 only, connect nowhere */
    assert_int_equal(ok_call(&g, "listen_privileged", 0, 0), NB_EACCES);
    assert_int_equal(ok_call(&g, "listen_allowed", 0, 0), 0);
    assert_int_equal(ok_call(&g, "connect_host", 0, 0), NB_EACCES);
    struct nb_app_stats st;
    nb_app_get_stats(g.app, &st);
    assert_int_equal(st.denied, 2);
    assert_still_serving();
    guest_down(&g);
    assert_nothing_leaked();
}

static void test_runaway_guests_are_stopped(void **state)
{
    (void)state;
    struct guest g;
    guest_up(&g, 0);
    /* blocked forever in accept: the deadline ends it, on time */
    assert_int_equal(ok_call(&g, "listen_allowed", 0, 0), 0);
    uint64_t t0 = nb_clock_ns();
    nb_wasm_store_set_deadline(g.s, t0 + 300 * NB_NS_PER_MS);
    assert_int_equal(call(&g, "accept_forever", 0, 0, NULL), NB_WASM_TRAP_DEADLINE);
    uint64_t took = (nb_clock_ns() - t0) / NB_NS_PER_MS;
    assert_true(took >= 290 && took < 2000);
    /* a loop with no end: deadline, then fuel */
    nb_wasm_store_set_deadline(g.s, nb_clock_ns() + 200 * NB_NS_PER_MS);
    assert_int_equal(call(&g, "spin", 0, 0, NULL), NB_WASM_TRAP_DEADLINE);
    nb_wasm_store_set_deadline(g.s, NB_FOREVER);
    nb_wasm_store_set_fuel(g.s, 1000000);
    assert_int_equal(call(&g, "spin", 0, 0, NULL), NB_WASM_TRAP_OUT_OF_FUEL);
    nb_wasm_store_set_fuel(g.s, NB_WASM_FUEL_UNLIMITED);
    assert_still_serving();
    guest_down(&g);
    assert_nothing_leaked();
}

static void test_exhaustion_is_bounded_and_freed(void **state)
{
    (void)state;
    struct guest g;
    guest_up(&g, 64);
    assert_int_equal(ok_call(&g, "exhaust", 0, 0), NB_EMFILE);
    struct nb_app_stats st;
    nb_app_get_stats(g.app, &st);
    assert_int_equal(st.handles, 64);
    assert_int_equal(nb_stack_objects(guest_st), baseline_objects + 64);
    assert_still_serving();
    guest_down(&g);
    assert_nothing_leaked();
}

static char last_log[512];
static void log_sink(int level, const char *line, size_t len)
{
    (void)level;
    snprintf(last_log, sizeof last_log, "%.*s", (int)len, line);
}

static void test_odd_requests_get_errors(void **state)
{
    (void)state;
    struct guest g;
    guest_up(&g, 0);
    int32_t h = ok_call(&g, "new_socket", 0, 0);
    assert_int_equal(ok_call(&g, "poll_bad", 0, 0), 1);
    assert_int_equal(ok_call(&g, "poll_revents", 0, 0), NB_POLLNVAL);
    assert_int_equal(ok_call(&g, "poll_too_many", 0, 0), NB_EINVAL);
    assert_int_equal(ok_call(&g, "random_huge", 0, 0), NB_E2BIG);
    assert_int_equal(ok_call(&g, "log_bad_level", 0, 0), NB_EINVAL);
    assert_int_equal(ok_call(&g, "bad_flags", 1, h), NB_EINVAL);
    assert_int_equal(ok_call(&g, "sleep_negative", 0, 0), NB_EINVAL);
    /* guest text reaches the log without control characters */
    nb_log_configure("info");
    nb_log_set_sink(log_sink);
    assert_int_equal(ok_call(&g, "log_escape", 0, 0), 0);
    nb_log_set_sink(NULL);
    nb_log_configure("error");
    assert_non_null(strstr(last_log, "hostile: evil ?[2J text"));
    assert_null(strchr(last_log, '\x1b'));
    assert_still_serving();
    guest_down(&g);
    assert_nothing_leaked();
}

static void test_digest_and_net_wait_imports(void **state)
{
    (void)state;
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    struct guest g;
    guest_up(&g, 0);
    assert_int_equal(ok_call(&g, "digest_abc", 0, 0), 32);
    uint64_t size;
    uint8_t *mem = nb_wasm_memory(g.inst, &size);
    assert_memory_equal(mem + 0x700, abc, 32);
    assert_int_equal(ok_call(&g, "digest_bad_alg", 0, 0), NB_EINVAL);
    assert_int_equal(ok_call(&g, "digest_small_out", 0, 0), 32);
    assert_int_equal(ok_call(&g, "digest_after_end", 0, 0), NB_EBADF);
    int32_t h = ok_call(&g, "new_socket", 0, 0);
    assert_int_equal(ok_call(&g, "digest_on_socket", 1, h), NB_EBADF);
    assert_int_equal(call(&g, "digest_end_oob", 0, 0, NULL), NB_WASM_TRAP_HOST_POINTER);
    assert_int_equal(ok_call(&g, "digest_close", 0, 0), 0);
    for (int i = 0; i < 10; i++)
        assert_true(ok_call(&g, "digest_abandon", 0, 0) > 0);
    struct nb_app_stats st;
    nb_app_get_stats(g.app, &st);
    /* the socket, the digest left by the trap and the ten abandoned ones */
    assert_int_equal(st.handles, 12);
    assert_true(st.bad_handles >= 2);
    /* only vsock here: nothing to wait for, said at once */
    uint64_t t0 = nb_clock_ns();
    assert_int_equal(ok_call(&g, "net_wait_novsock", 0, 0), NB_ENETDOWN);
    assert_true(nb_clock_ns() - t0 < 500 * NB_NS_PER_MS);
    assert_int_equal(ok_call(&g, "net_wait_negative", 0, 0), NB_EINVAL);
    assert_still_serving();
    guest_down(&g); /* frees the abandoned digests: LSan would see them */
    assert_nothing_leaked();
}

static void test_boot_imports(void **state)
{
    (void)state;
    struct guest g;
    /* without the capability */
    guest_up_with(&g, boot_mod, 0, false);
    assert_int_equal(ok_call(&g, "begin_kernel", 0, 0), NB_EACCES);
    assert_int_equal(ok_call(&g, "exec", 0, 0), NB_EACCES);
    guest_down(&g);
    /* with it: misuse gets errors, a wrong digest is caught at exec */
    guest_up_with(&g, boot_mod, 0, true);
    assert_int_equal(ok_call(&g, "begin_bad_item", 0, 0), NB_EINVAL);
    assert_int_equal(ok_call(&g, "begin_negative", 0, 0), NB_EINVAL);
    assert_int_equal(ok_call(&g, "begin_kernel", 0, 0), 0);
    assert_int_equal(ok_call(&g, "append32", 0, 0), 0);
    assert_int_equal(ok_call(&g, "exec", 0, 0), NB_EAGAIN); /* half staged */
    assert_int_equal(ok_call(&g, "append32", 0, 0), 0);
    assert_int_equal(ok_call(&g, "append32", 0, 0), NB_EFBIG);
    assert_int_equal(ok_call(&g, "cmdline_ok", 0, 0), 0);
    assert_int_equal(ok_call(&g, "cmdline_control", 0, 0), NB_EINVAL);
    assert_int_equal(ok_call(&g, "exec", 0, 0), NB_EBADMSG);
    int32_t len = ok_call(&g, "error_len", 0, 0);
    assert_true(len > 0);
    uint64_t size;
    uint8_t *mem = nb_wasm_memory(g.inst, &size);
    assert_non_null(strstr((char *)mem + 0x1000, "kernel sha256 mismatch"));
    guest_down(&g);
    nb_boot_reset();
    assert_nothing_leaked();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_pointers_stop_the_guest),
        cmocka_unit_test(test_forged_closed_and_foreign_handles),
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_runaway_guests_are_stopped),
        cmocka_unit_test(test_exhaustion_is_bounded_and_freed),
        cmocka_unit_test(test_odd_requests_get_errors),
        cmocka_unit_test(test_digest_and_net_wait_imports),
        cmocka_unit_test(test_boot_imports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
