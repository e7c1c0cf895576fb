/*
 * The app runner: load a WebAssembly app from memory, give it WASI and the
 * "neoboot" imports under its capabilities, run it to its end on the event
 * loop, report how it ended, and free everything (so it can run again).
 * Hosted `neoboot run`, the pc boot flow (bundled apps) and the console
 * shell's `run` all go through here.
 *
 *     struct nb_run_opts o;
 *     nb_run_opts_defaults(&o);              // console stdio, default caps
 *     o.argc = 2; o.argv = (const char *[]){"fetch", url, NULL};
 *     struct nb_run_result r;
 *     int rc = nb_run_wasm(bytes, len, &o, &r);
 *     if (rc < 0)      ... could not start: r.msg says why ...
 *     else if (r.trap) ... stopped by a trap: r.msg ...
 *     else             ... exited with r.status ...
 *
 * For bundles (an app with its configuration, docs/image.md) or bytes that
 * may be either, nb_run_blob() verifies, applies the configuration and
 * runs. The runner never configures the network: the boot flow does that
 * (nb_netcfg_apply) before it runs the bundled app.
 *
 * One app runs at a time (the blocking calls of the running app are what
 * drive the event loop); a second nb_run_* while one runs gets NB_EBUSY.
 * While it runs, blocking calls and sleeps run the event loop, so the
 * network, timers and the console keep going; nb_run_interrupt() (Ctrl-C)
 * stops it at its next call or loop back-edge, wherever it is.
 */
#ifndef NEOBOOT_RUNNER_H
#define NEOBOOT_RUNNER_H

#include <neoboot/abi.h>
#include <neoboot/appcfg.h>
#include <neoboot/wasm.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The exit status reported for an app that trapped (as a crashed native
 * program's 128 + SIGABRT). */
#define NB_RUN_EXIT_TRAP 134

struct nb_run_io {
    /* fd 1/2 output: bytes written or NB_E*. NULL: the console. */
    long (*write)(void *io, int fd, const void *buf, size_t len);
    /* fd 0 input, may block by running the loop: bytes, 0 at end, NB_E*.
     * NULL: empty stdin. */
    long (*read)(void *io, void *buf, size_t len);
    /* is stdio fd a terminal (isatty)? NULL: yes, a console */
    int (*is_terminal)(void *io, int fd);
    void *io;
};

struct nb_run_opts {
    const char *name;              /* log label; NULL: argv[0] or "app" */
    int argc;                      /* argv[0] is the program name */
    const char *const *argv;       /* NULL: just the name */
    const char *const *envp;       /* "NAME=value", NULL-terminated; may be NULL */
    struct nb_app_config abi;      /* stack (NULL: default), capabilities */
    struct nb_wasm_config limits;  /* memory, value stack, call depth (0: defaults) */
    uint64_t fuel;                 /* NB_WASM_FUEL_UNLIMITED by default */
    uint64_t timeout_ns;           /* 0: no deadline */
    struct nb_run_io io;
};

struct nb_run_result {
    int status;       /* exit status: _start returning is 0; NB_RUN_EXIT_TRAP on a trap */
    int trap;         /* 0, or the enum nb_wasm_trap that stopped it */
    uint64_t run_ns;  /* from _start to its end */
    char msg[256];    /* why it could not start, or the trap message */
};

/* Console stdio, default capabilities (docs/abi.md), engine defaults. */
void nb_run_opts_defaults(struct nb_run_opts *o);
/* The engine value stack (8-byte slots) that nb_run_opts_defaults() and
 * nb_run_blob() give apps; 0 (the start) means the engine's default of
 * 1 Mi slots. A platform with little memory lowers it once at boot. */
void nb_run_set_stack_slots(uint32_t slots);
/* Take name, argv, envp, capabilities and limits from a configuration
 * (which must outlive the run: o points into it). */
void nb_run_opts_from_appcfg(struct nb_run_opts *o, const struct nb_appcfg *cfg);

/*
 * Run len bytes of a WebAssembly module (read only during the call; the
 * bytes are not referenced afterwards). Returns 0 when the app ran (how it
 * ended is in *res), or when it could not start: NB_EILSEQ/NB_EINVAL (not
 * a valid module), NB_ENOENT (an import NeoBoot lacks, or no _start),
 * NB_ENOMEM, NB_EBUSY (an app is already running), NB_ECANCELED (trapped
 * while instantiating); res->msg explains.
 */
int nb_run_wasm(const void *wasm, size_t len, const struct nb_run_opts *o,
                struct nb_run_result *res);

/*
 * Run a bundle or a bare module. A bundle is checked (nb_bundle_parse,
 * nb_bundle_verify: a digest mismatch is NB_EBADMSG and nothing runs), its
 * configuration parsed, and its app run with that configuration's name,
 * arguments, environment, capabilities and limits; a bare module runs with
 * the defaults. io may be NULL (console). Other errors as nb_run_wasm, and
 * NB_ENOEXEC for bytes that are neither.
 */
int nb_run_blob(const void *buf, size_t len, const struct nb_run_io *io,
                struct nb_run_result *res);

/* Stop the running app, if any (Ctrl-C). Safe from signal and interrupt
 * handlers. */
void nb_run_interrupt(void);
/* Is an app running now? */
bool nb_run_active(void);

/* Counters for `stats`: apps started, exited normally, trapped, refused. */
struct nb_run_stats {
    uint64_t started, exited, trapped, refused;
};
void nb_run_get_stats(struct nb_run_stats *out);

/*
 * Network setup for the boot flow: apply a net= configuration to ifc
 * (DHCP, a static address with gateway and DNS, or nothing). 0 or NB_E*.
 */
int nb_netcfg_apply(struct nb_iface *ifc, const struct nb_netcfg *n);

#endif
