/*
 * `neoboot run APP.wasm [ARGS]`: run a networked WebAssembly app on the
 * hosted platform. The app gets WASI (stdio, args, clocks, randomness,
 * sleep) and the "neoboot" imports (sockets, DNS, status...) on the
 * instance's network, within the capabilities granted on the command line.
 *
 * While the app runs, the event loop runs inside its blocking calls and
 * sleeps, so the network (and the vsock bridge) keeps going. Ctrl-C stops
 * the guest through the engine's interrupt, wherever it is. Loading,
 * linking and running are the shared runner's (include/neoboot/runner.h),
 * the same code that runs bundled apps on bare metal; this file adds the
 * command line, the hosted network and the terminal.
 */
#define _GNU_SOURCE
#include "commands.h"
#include "hosted.h"
#include "instance.h"

#include <neoboot/abi.h>
#include <neoboot/caps.h>
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/runner.h>
#include <neoboot/wasm.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENV 64
#define DRAIN_NS (2 * NB_NS_PER_S)

static void on_signal(int sig)
{
    (void)sig;
    nb_run_interrupt(); /* async-signal-safe: sets flags */
    nb_loop_interrupt();
}

/* --- WASI stdio and sleeping on the event loop --- */

static long io_write(void *io, int fd, const void *buf, size_t len)
{
    (void)io;
    int out = fd == 2 ? STDERR_FILENO : STDOUT_FILENO;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(out, (const char *)buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                /* a non-blocking terminal or pipe: wait until it drains */
                fd_set w;
                FD_ZERO(&w);
                FD_SET(out, &w);
                select(out + 1, NULL, &w, NULL, NULL);
                continue;
            }
            return done ? (long)done : (errno == EPIPE ? NB_EPIPE : NB_EIO);
        }
        done += (size_t)n;
    }
    return (long)done;
}

static bool stdin_ready;

static void stdin_event(void *arg, int fd, uint32_t ev)
{
    (void)arg;
    (void)ev;
    stdin_ready = true;
    nb_hosted_unwatch(fd);
}

static bool stdin_cond(void *arg)
{
    (void)arg;
    return stdin_ready;
}

/* fd_read(0): wait in the event loop, so the network keeps running while
 * the guest waits for input. */
static long io_read(void *io, void *buf, size_t len)
{
    (void)io;
    struct stat st;
    bool pollable = fstat(STDIN_FILENO, &st) == 0 && !S_ISREG(st.st_mode);
    if (pollable) {
        stdin_ready = false;
        if (nb_hosted_watch(STDIN_FILENO, EPOLLIN, stdin_event, NULL) == 0) {
            int rc = nb_loop_run_until(stdin_cond, NULL, NB_FOREVER);
            if (!stdin_ready)
                nb_hosted_unwatch(STDIN_FILENO);
            if (rc == NB_EINTR)
                return NB_EINTR;
        }
    }
    ssize_t n = read(STDIN_FILENO, buf, len);
    if (n < 0)
        return errno == EAGAIN ? NB_EAGAIN : NB_EIO;
    return (long)n;
}

static int io_is_terminal(void *io, int fd)
{
    (void)io;
    return isatty(fd);
}

/* --- the command --- */

static void usage(void)
{
    printf("usage: neoboot run [OPTIONS] APP.wasm [ARGS...]\n\n"
           "Runs a WebAssembly app with WASI and the 'neoboot' network imports\n"
           "(docs/abi.md) on this instance's network. The exit status is the app's.\n\n"
           "capabilities (docs/abi.md#capabilities):\n"
           "  --allow-listen RULE    ports the app may listen on, e.g. tcp:8080,\n"
           "                         udp:5000-5010, vsock:5000, any. Repeatable; the\n"
           "                         first one replaces the default (ports >= 1024)\n"
           "  --allow-connect RULE   where the app may connect or send, e.g.\n"
           "                         tcp:10.0.2.2:80, tcp:10.0.0.0/8:*, vsock:2:9000,\n"
           "                         *:*:443, any. Repeatable; default: nowhere\n"
           "  --allow-boot           the app may stage and boot a kernel (docs/abi.md)\n"
           "  --boot-out DIR         hosted stand-in for booting: write the verified\n"
           "                         kernel, initrd and cmdline to DIR and exit 0\n"
           "  --boot-qemu tcg|kvm    hosted stand-in for booting: become QEMU booting\n"
           "                         the verified kernel (console on this terminal)\n"
           "limits:\n"
           "  --fuel N               stop the app after N calls and loop iterations\n"
           "  --timeout SECONDS      stop the app after this long\n"
           "  --max-memory BYTES     linear memory limit (default 1 GiB; K/M/G suffixes)\n"
           "  --env NAME=VALUE       environment for the app (repeatable)\n"
           "network:\n%s",
           nb_instance_options_help);
}

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return false;
    switch (*end) {
    case 'K': case 'k': v <<= 10; end++; break;
    case 'M': case 'm': v <<= 20; end++; break;
    case 'G': case 'g': v <<= 30; end++; break;
    default: break;
    }
    if (*end)
        return false;
    *out = v;
    return true;
}

struct drain_ctx {
    struct nb_stack *st;
};

static bool stack_idle(void *arg)
{
    struct drain_ctx *d = arg;
    return nb_stack_objects(d->st) == 0;
}

int nb_cmd_run(int argc, char **argv);
int nb_cmd_run(int argc, char **argv)
{
    const char *cmd = "run";
    struct nb_instance_opts o;
    nb_instance_defaults(&o);
    struct nb_app_config acfg;
    nb_app_config_defaults(&acfg);
    bool listen_given = false;
    uint64_t fuel = NB_WASM_FUEL_UNLIMITED, max_mem = 0;
    double timeout_s = 0;
    const char *env[MAX_ENV + 1];
    int nenv = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r = nb_instance_option(&o, argc, argv, &i, cmd);
        if (r == 2)
            return 2;
        if (r == 1)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(a, "--allow-boot") == 0) {
            acfg.caps.boot = true;
            continue;
        }
        if (!v)
            return nb_cmd_usage_error(cmd, "%s needs a value", a);
        const char *why = NULL;
        if (strcmp(a, "--allow-listen") == 0) {
            if (!listen_given) {
                /* the first rule given replaces the default */
                struct nb_caps keep = acfg.caps;
                nb_caps_init(&acfg.caps);
                for (size_t k = 0; k < keep.n; k++)
                    if (keep.rules[k].kind != NB_CAP_LISTEN)
                        acfg.caps.rules[acfg.caps.n++] = keep.rules[k];
                listen_given = true;
            }
            if (nb_caps_add(&acfg.caps, NB_CAP_LISTEN, v, &why) != 0)
                return nb_cmd_usage_error(cmd, "--allow-listen %s: %s", v, why);
        } else if (strcmp(a, "--allow-connect") == 0) {
            if (nb_caps_add(&acfg.caps, NB_CAP_CONNECT, v, &why) != 0)
                return nb_cmd_usage_error(cmd, "--allow-connect %s: %s", v, why);
        } else if (strcmp(a, "--fuel") == 0) {
            char *end;
            fuel = strtoull(v, &end, 10);
            if (*end || !*v)
                return nb_cmd_usage_error(cmd, "--fuel needs a number");
        } else if (strcmp(a, "--timeout") == 0) {
            timeout_s = atof(v);
            if (timeout_s <= 0)
                return nb_cmd_usage_error(cmd, "--timeout needs a positive number of seconds");
        } else if (strcmp(a, "--max-memory") == 0) {
            if (!parse_size(v, &max_mem) || max_mem < 65536)
                return nb_cmd_usage_error(cmd, "--max-memory needs a size of at least 64K");
        } else if (strcmp(a, "--boot-out") == 0) {
            nb_hosted_set_boot_dir(v);
        } else if (strcmp(a, "--boot-qemu") == 0) {
            if (nb_hosted_set_boot_qemu(v) != 0)
                return nb_cmd_usage_error(cmd, "--boot-qemu: tcg or kvm");
        } else if (strcmp(a, "--env") == 0) {
            if (!strchr(v, '=') || nenv == MAX_ENV)
                return nb_cmd_usage_error(cmd, "--env needs NAME=VALUE (at most %d)", MAX_ENV);
            env[nenv++] = v;
        } else {
            return nb_cmd_usage_error(cmd, "unknown option '%s'", a);
        }
        i++;
    }
    env[nenv] = NULL;
    if (i >= argc)
        return nb_cmd_usage_error(cmd, "give the app: neoboot run [OPTIONS] APP.wasm [ARGS]");
    const char *path = argv[i];

    size_t len;
    uint8_t *bytes = nb_cmd_read_file("run", path, 1u << 30, &len);
    if (!bytes)
        return 1;
    struct nb_instance in;
    if (nb_instance_start(&in, &o) != 0) {
        free(bytes);
        return 1;
    }
    nb_instance_catch_signals_to(on_signal); /* Ctrl-C also stops the app */

    /* The shared runner (src/boot/runner.c) does the rest, as on pc. */
    struct nb_run_opts ro;
    nb_run_opts_defaults(&ro);
    acfg.stack = in.st;
    ro.abi = acfg;
    ro.name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    ro.argc = argc - i;
    ro.argv = (const char *const *)argv + i;
    ro.envp = env;
    ro.limits.max_memory_bytes = max_mem;
    ro.fuel = fuel;
    ro.timeout_ns = timeout_s > 0 ? (uint64_t)(timeout_s * 1e9) : 0;
    ro.io.write = io_write;
    ro.io.read = io_read;
    ro.io.is_terminal = io_is_terminal;
    struct nb_run_result res;
    int rc = nb_run_wasm(bytes, len, &ro, &res);
    free(bytes);
    int status = res.status;
    if (rc == NB_ENOENT && strstr(res.msg, "_start")) {
        fprintf(stderr, "neoboot run: %s has no _start export (not a WASI command)\n", path);
        status = 1;
    } else if (rc) {
        fprintf(stderr, "neoboot run: %s: %s\n", path, res.msg);
        status = 1;
    } else if (res.trap) {
        fprintf(stderr, "neoboot run: %s stopped: %s\n", path, res.msg);
    }
    nb_loop_clear_interrupt();
    struct drain_ctx d = {in.st};
    nb_loop_run_until(stack_idle, &d, nb_clock_ns() + DRAIN_NS);
    nb_instance_stop(&in);
    return status;
}
