/*
 * The hybrid-vsock bridge: ordinary host programs reach a NeoBoot
 * instance's vsock services through UNIX sockets, with Firecracker's
 * convention (also vhost-device-vsock's):
 *
 *   host -> guest: connect to PATH, write "CONNECT <port>\n", read
 *                  "OK <hostport>\n", then the stream is the vsock stream;
 *   guest -> host: a guest connection to CID 2 port P is carried to the
 *                  UNIX socket PATH_P (which a host program listens on).
 *
 * Inside, the bridge is a second stack with CID 2 (the host) joined to
 * the instance's stack by a memlink, so the instance speaks real vsock to
 * it; the bridge relays bytes between host-stack vsock sockets and UNIX
 * sockets, with bounded buffers and backpressure both ways.
 */
#ifndef NEOBOOT_HVBRIDGE_H
#define NEOBOOT_HVBRIDGE_H

#include <neoboot/net.h>

#include <stdint.h>

struct nb_hvbridge;

/* Attach a vsock interface with guest_cid to `guest` and listen on path.
 * NULL with *err on failure (path in use, too long, guest has vsock...). */
struct nb_hvbridge *nb_hvbridge_new(struct nb_stack *guest, const char *path,
                                    uint32_t guest_cid, int *err);
void nb_hvbridge_free(struct nb_hvbridge *br);

struct nb_hvbridge_stats {
    uint64_t host_connects;    /* CONNECT requests accepted */
    uint64_t host_refused;     /* bad handshake or no guest listener */
    uint64_t guest_connects;   /* guest connections carried to PATH_P */
    uint64_t guest_refused;    /* PATH_P absent or refusing */
    uint64_t bytes_to_guest, bytes_to_host;
    uint32_t active;
};
void nb_hvbridge_get_stats(struct nb_hvbridge *br, struct nb_hvbridge_stats *out);

#endif
