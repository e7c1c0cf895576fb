/*
 * WASI preview 1 ("wasi_snapshot_preview1") for NeoBoot guests: the subset
 * that C programs built with clang --target=wasm32-wasi and wasi-libc need
 * to run without a file system: arguments, environment, stdio, clocks,
 * randomness, sleeping (poll_oneoff on clocks) and proc_exit. Every other
 * preview 1 function is defined too and returns ENOSYS, so any wasi-libc
 * program links; nothing a guest passes can crash the host.
 *
 * The embedder provides stdio through callbacks, so the same code writes
 * to a serial console on bare metal and to the real stdout when hosted:
 *
 *     struct nb_wasi_config cfg = {.argc = n, .argv = args,
 *                                  .write = my_write, .read = my_read};
 *     nb_wasi_link(store, &cfg);             // before instantiating
 *     inst = nb_wasm_instantiate(store, m, "app", &err);
 *     int status, trap = nb_wasi_start(store, inst, &status);
 *
 * Errors returned to the guest are WASI errno values, which are NeoBoot's
 * NB_E* codes negated (include/neoboot/err.h).
 */
#ifndef NEOBOOT_WASI_H
#define NEOBOOT_WASI_H

#include <neoboot/wasm.h>

#include <stddef.h>
#include <stdint.h>

struct nb_wasi_config {
    int argc;
    const char *const *argv;   /* argv[0] is the program name */
    const char *const *envp;   /* "NAME=value" strings, NULL-terminated; may be NULL */
    /*
     * Output to fd 1 (stdout) and 2 (stderr): write len bytes, return the
     * count written (>= 0) or an NB_E* code. NULL discards output.
     */
    long (*write)(void *io, int fd, const void *buf, size_t len);
    /*
     * Input from fd 0: read up to len bytes; 0 at end of input, or an NB_E*
     * code. May block (the guest is blocked with it). NULL: empty stdin.
     */
    long (*read)(void *io, void *buf, size_t len);
    void *io;
    /*
     * How a sleeping guest waits until a monotonic deadline (poll_oneoff on
     * a clock). NULL: nb_platform_wait() in a loop until the deadline. An
     * embedder with an event loop sets this to "run the loop until the
     * deadline", so the network keeps going while the guest sleeps. The
     * hook may return early; it is called again until the deadline passes
     * or the guest's own deadline or an interrupt stops it.
     */
    void (*wait_until)(void *arg, uint64_t deadline_ns);
    void *wait_arg;
    /*
     * Is stdio fd (0-2) a terminal? wasi-libc's isatty() asks
     * fd_fdstat_get, and programs decide on progress bars and buffering
     * by it, so output redirected to a file must not look like a tty.
     * Returns 0 for "not a terminal" (reported as filetype unknown).
     * NULL: every stdio fd is a terminal (a console).
     */
    int (*is_terminal)(void *io, int fd);
};

/*
 * Define every wasi_snapshot_preview1 import in store s. cfg is kept by
 * reference and must outlive the store. 0 or an NB_E* code.
 */
int nb_wasi_link(nb_wasm_store *s, const struct nb_wasi_config *cfg);

/*
 * Run the command's "_start" export. Returns 0 with *status set (0 when
 * _start returns, the proc_exit code otherwise), a positive trap code
 * (message in nb_wasm_trap_message(s)), or NB_ENOENT if there is no _start.
 */
int nb_wasi_start(nb_wasm_store *s, nb_wasm_instance *inst, int *status);

#endif
