/*
 * The app ABI: the "neoboot" import module that gives WebAssembly apps
 * sockets (inet and vsock through one API), DNS, network status, clocks,
 * sleep, logging and randomness. docs/abi.md documents every function for
 * app authors; sdk/include/neoboot.h declares them for C.
 *
 * An embedder makes one nb_app per guest instance, links it into the
 * instance's store before instantiating, and frees it after the guest has
 * ended, which closes whatever the guest left open:
 *
 *     struct nb_app_config cfg;
 *     nb_app_config_defaults(&cfg);          // stack, capabilities, limits
 *     nb_caps_add(&cfg.caps, NB_CAP_CONNECT, "tcp:10.0.2.2:80", NULL);
 *     struct nb_app *app = nb_app_new(&cfg, "fetch");
 *     nb_app_link(app, store);
 *     ... instantiate, run ...
 *     nb_app_free(app);
 *
 * Guests see small handles, never host pointers; the engine checks every
 * (pointer, length) before a host function runs; errors are negative NB_E*
 * numbers (WASI's errno values). Blocking calls run the event loop until
 * they can proceed, their timeout passes, or the guest must stop (its
 * deadline, fuel, or an interrupt), so a blocked guest costs no CPU and
 * can always be stopped.
 */
#ifndef NEOBOOT_ABI_H
#define NEOBOOT_ABI_H

#include <neoboot/caps.h>
#include <neoboot/net.h>
#include <neoboot/wasm.h>

#include <stdint.h>

struct nb_app_config {
    struct nb_stack *stack;   /* default: nb_stack_default() */
    struct nb_caps caps;      /* default: listen on ports >= 1024, no connect */
    uint32_t max_handles;     /* open sockets and queries; default 4096 */
    uint32_t max_poll;        /* entries in one poll call; default 4096 */
};

void nb_app_config_defaults(struct nb_app_config *cfg);

struct nb_app;

/* name labels the app's log lines. NULL if out of memory. */
struct nb_app *nb_app_new(const struct nb_app_config *cfg, const char *name);
/* Define the "neoboot" imports in store s, bound to app. 0 or NB_E*. */
int nb_app_link(struct nb_app *app, nb_wasm_store *s);
/* Close every handle the app still holds (sockets close gracefully in the
 * background) and free it. */
void nb_app_free(struct nb_app *app);

struct nb_app_stats {
    uint32_t handles;          /* open now */
    uint64_t calls;            /* host calls made */
    uint64_t denied;           /* refused by a capability (NB_EACCES) */
    uint64_t bad_handles;      /* NB_EBADF answers */
};
void nb_app_get_stats(const struct nb_app *app, struct nb_app_stats *out);

/* Layout sizes of the structures the ABI exchanges with guests. */
#define NB_ABI_ADDR_SIZE 32     /* struct nb_addr */
#define NB_ABI_POLLFD_SIZE 12   /* {i32 handle, u32 events, u32 revents} */
#define NB_ABI_NETIF_SIZE 320   /* see docs/abi.md */

/* digest_begin() algorithms */
#define NB_DIGEST_SHA256 1

#endif
