/*
 * The app runner (include/neoboot/runner.h): one place that turns bytes of
 * WebAssembly into a running, networked, sandboxed app and back into a
 * status, for every embedder -- hosted `neoboot run`, the pc boot flow's
 * bundled app, and the console shell's `run`.
 *
 * The order matters and is the same for all of them: load (decode,
 * validate, translate), make the ABI state and the store with its limits,
 * link WASI and the "neoboot" imports, set fuel and deadline, instantiate,
 * call _start with the event loop running inside every blocking call and
 * sleep, then free in reverse. Everything the app held is released on
 * every path (sockets close gracefully in the background), so the same
 * app can run again straight away.
 */
#include <neoboot/bundle.h>
#include <neoboot/err.h>
#include <neoboot/inet.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/runner.h>
#include <neoboot/wasi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(run);

static nb_wasm_store *volatile running;
static uint32_t default_stack_slots; /* 0: the engine's default */
static volatile bool interrupt_pending;
static struct nb_run_stats stats;

void nb_run_set_stack_slots(uint32_t slots)
{
    default_stack_slots = slots;
}

void nb_run_opts_defaults(struct nb_run_opts *o)
{
    memset(o, 0, sizeof *o);
    nb_app_config_defaults(&o->abi);
    o->limits.stack_slots = default_stack_slots;
    o->fuel = NB_WASM_FUEL_UNLIMITED;
}

void nb_run_opts_from_appcfg(struct nb_run_opts *o, const struct nb_appcfg *cfg)
{
    o->name = cfg->name;
    o->argc = cfg->argc;
    o->argv = cfg->argv;
    o->envp = cfg->envp;
    o->abi.caps = cfg->caps;
    o->limits.max_memory_bytes = cfg->max_memory;
    o->fuel = cfg->fuel ? cfg->fuel : NB_WASM_FUEL_UNLIMITED;
    o->timeout_ns = cfg->timeout_s * NB_NS_PER_S;
}

void nb_run_interrupt(void)
{
    nb_wasm_store *s = running;
    if (s) {
        interrupt_pending = true;
        nb_wasm_store_interrupt(s);
        nb_loop_interrupt(); /* a blocked call returns NB_EINTR at once */
    }
}

bool nb_run_active(void)
{
    return running != NULL;
}

void nb_run_get_stats(struct nb_run_stats *out)
{
    *out = stats;
}

static long console_write(void *io, int fd, const void *buf, size_t len)
{
    (void)io;
    (void)fd;
    nb_console_write(buf, len);
    return (long)len;
}

/* A sleeping guest runs the loop, so the network keeps going. */
static void loop_wait(void *arg, uint64_t deadline)
{
    (void)arg;
    nb_loop_run_until(NULL, NULL, deadline);
}

static int refuse(struct nb_run_result *res, int rc)
{
    stats.refused++;
    return rc;
}

int nb_run_wasm(const void *wasm, size_t len, const struct nb_run_opts *o,
                struct nb_run_result *res)
{
    memset(res, 0, sizeof *res);
    if (running) {
        snprintf(res->msg, sizeof res->msg, "another app is running");
        return NB_EBUSY;
    }
    const char *name = o->name ? o->name : o->argv && o->argc > 0 ? o->argv[0] : "app";
    const char *const default_argv[] = {name, NULL};

    struct nb_wasm_error err;
    nb_wasm_module *m = nb_wasm_module_load(wasm, len, &err);
    if (!m) {
        snprintf(res->msg, sizeof res->msg, "%s at byte %zu: %s",
                 err.code == NB_EILSEQ ? "malformed module" : "invalid module", err.offset,
                 err.msg);
        NB_WARN("%s: %s", name, res->msg);
        return refuse(res, err.code ? err.code : NB_EINVAL);
    }
    int rc = 0;
    struct nb_app *app = nb_app_new(&o->abi, name);
    nb_wasm_store *s = nb_wasm_store_new(&o->limits);
    struct nb_wasi_config wasi = {
        .argc = o->argv ? o->argc : 1,
        .argv = o->argv ? o->argv : default_argv,
        .envp = o->envp,
        .write = o->io.write ? o->io.write : console_write,
        .read = o->io.read,
        .is_terminal = o->io.is_terminal,
        .io = o->io.io,
        .wait_until = loop_wait,
    };
    if (!app || !s || nb_wasi_link(s, &wasi) != 0 || nb_app_link(app, s) != 0) {
        snprintf(res->msg, sizeof res->msg, "out of memory");
        rc = refuse(res, NB_ENOMEM);
        goto out;
    }
    nb_wasm_store_set_fuel(s, o->fuel);
    if (o->timeout_ns)
        nb_wasm_store_set_deadline(s, nb_clock_ns() + o->timeout_ns);
    nb_wasm_instance *inst = nb_wasm_instantiate(s, m, name, &err);
    if (!inst) {
        snprintf(res->msg, sizeof res->msg, "%s%s", err.msg,
                 err.code == NB_ENOENT ? " (the app imports something NeoBoot does not "
                                         "provide; see docs/abi.md)" : "");
        NB_WARN("%s: cannot start: %s", name, res->msg);
        rc = refuse(res, err.code ? err.code : NB_EINVAL);
        goto out;
    }
    stats.started++;
    interrupt_pending = false;
    running = s;
    NB_INFO("%s: running (%zu bytes of WebAssembly)", name, len);
    uint64_t t0 = nb_clock_ns();
    int status = 0;
    int trap = nb_wasi_start(s, inst, &status);
    running = NULL;
    res->run_ns = nb_clock_ns() - t0;
    if (trap == NB_ENOENT) {
        snprintf(res->msg, sizeof res->msg, "no _start export (not a WASI command)");
        NB_WARN("%s: %s", name, res->msg);
        stats.started--;
        rc = refuse(res, NB_ENOENT);
    } else if (trap < 0) {
        /* the call itself could not be made (e.g. no memory for the
         * engine's value stack): not a trap of the app's */
        snprintf(res->msg, sizeof res->msg, "cannot call _start: %s", nb_strerror(trap));
        NB_WARN("%s: %s", name, res->msg);
        stats.started--;
        rc = refuse(res, trap);
    } else if (trap) {
        res->trap = trap;
        res->status = NB_RUN_EXIT_TRAP;
        snprintf(res->msg, sizeof res->msg, "%s", nb_wasm_trap_message(s));
        stats.trapped++;
        NB_WARN("%s: stopped after %llu ms: %s", name,
                (unsigned long long)(res->run_ns / NB_NS_PER_MS), res->msg);
    } else {
        res->status = status;
        stats.exited++;
        NB_INFO("%s: exited with status %d after %llu ms", name, status,
                (unsigned long long)(res->run_ns / NB_NS_PER_MS));
    }
out:
    nb_app_free(app); /* closes what the app left open */
    if (s)
        nb_wasm_store_free(s);
    nb_wasm_module_free(m);
    if (interrupt_pending) {
        /* our Ctrl-C must not cut the caller's next wait short */
        interrupt_pending = false;
        nb_loop_clear_interrupt();
    }
    return rc;
}

int nb_run_blob(const void *buf, size_t len, const struct nb_run_io *io,
                struct nb_run_result *res)
{
    memset(res, 0, sizeof *res);
    struct nb_run_opts o;
    nb_run_opts_defaults(&o);
    if (io)
        o.io = *io;
    if (nb_bundle_is_wasm(buf, len))
        return nb_run_wasm(buf, len, &o, res);
    struct nb_bundle b;
    const char *why;
    int rc = nb_bundle_parse(buf, len, &b, &why);
    if (rc == NB_ENOENT) {
        snprintf(res->msg, sizeof res->msg,
                 "neither a WebAssembly module nor a NeoBoot bundle");
        return refuse(res, NB_ENOEXEC);
    }
    if (rc) {
        snprintf(res->msg, sizeof res->msg, "bad bundle: %s", why);
        return refuse(res, rc);
    }
    if (b.app_len == 0) {
        snprintf(res->msg, sizeof res->msg, "the bundle is empty (no app)");
        return refuse(res, NB_ENOENT);
    }
    if (nb_bundle_verify(&b, &why) != 0) {
        snprintf(res->msg, sizeof res->msg, "refusing to run: %s", why);
        return refuse(res, NB_EBADMSG);
    }
    struct nb_appcfg *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        snprintf(res->msg, sizeof res->msg, "out of memory");
        return refuse(res, NB_ENOMEM);
    }
    char text[160];
    rc = nb_appcfg_parse(cfg, (const char *)b.config, b.config_len, text, sizeof text);
    if (rc) {
        snprintf(res->msg, sizeof res->msg, "bad configuration: %s", text);
        free(cfg);
        return refuse(res, rc);
    }
    nb_run_opts_from_appcfg(&o, cfg);
    rc = nb_run_wasm(b.app, b.app_len, &o, res);
    free(cfg);
    return rc;
}

int nb_netcfg_apply(struct nb_iface *ifc, const struct nb_netcfg *n)
{
    switch (n->mode) {
    case NB_NET_DHCP:
        return nb_inet_dhcp_start(ifc);
    case NB_NET_STATIC: {
        int rc = nb_inet_set_ip4(ifc, n->ip4, n->prefix, n->has_gw ? n->gw4 : NULL);
        if (rc == 0 && n->has_gw)
            rc = nb_inet_set_default(ifc);
        if (rc == 0 && n->has_dns)
            rc = nb_inet_dns_set(0, &n->dns);
        return rc;
    }
    default:
        return 0;
    }
}
