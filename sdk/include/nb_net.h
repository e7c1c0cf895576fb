/*
 * nb_net.h: BSD-style helpers over the "neoboot" socket imports, for apps
 * compiled to WebAssembly: connect to host:port (DNS, IPv4, IPv6 or vsock),
 * listen, send and receive whole buffers, timeouts, and a poll set that
 * lets one guest wait on thousands of sockets at once.
 *
 *     int h = nb_tcp_connect("example.org", 80, 5 * NB_SEC);
 *     if (h < 0) fprintf(stderr, "connect: %s\n", nb_strerror(h));
 *     nb_send_all(h, "GET / HTTP/1.0\r\n\r\n", 18);
 *
 * Every function returns a negative NB_E* code on error (nb_strerror()
 * says it in words). Blocking calls block inside the runtime, which keeps
 * the network running meanwhile: an app never needs to spin.
 */
#ifndef NB_SDK_NET_H
#define NB_SDK_NET_H

#include "nb_err.h"
#include "neoboot.h"

#include <stdbool.h>

#define NB_MSEC 1000000LL
#define NB_SEC 1000000000LL

/* Monotonic time in nanoseconds. */
static inline int64_t nb_now(void) { return nb_clock(NB_CLOCK_MONOTONIC); }

/* --- the network --- */

/* Has an IP interface an address yet (IPv4, or a preferred global IPv6)? */
bool nb_net_ready(void);
/* nb_net_wait() (an import, neoboot.h) waits for the same thing: with
 * DHCP, an app that starts at boot is often faster than its lease.
 * nb_tcp_connect() calls it by itself. */

/* --- addresses --- */

/* Parse a numeric address: "10.0.2.2", "fe80::1", "[::1]" or "vsock:CID"
 * (port left 0). 0 or NB_EINVAL. */
int nb_addr_parse(const char *s, struct nb_addr *out);
/* Format "a.b.c.d:port", "[v6]:port" or "vsock:cid:port"; returns buf. */
char *nb_addr_format(const struct nb_addr *a, char *buf, size_t len);
/* Resolve host (a name, or a numeric address as above) to at most max
 * addresses, each with port set. Returns the count (> 0) or NB_E*. */
int nb_lookup(const char *host, uint16_t port, struct nb_addr *out, int max, int64_t timeout_ns);

/* --- stream sockets --- */

/* Connect to host:port (tries each address the name resolves to, IPv4
 * first). timeout_ns bounds each attempt (0: the runtime's default).
 * Returns a blocking handle or NB_E*. */
int nb_tcp_connect(const char *host, uint16_t port, int64_t timeout_ns);
/* Connect to a vsock CID:port (NB_VMADDR_CID_HOST for the host). */
int nb_vsock_connect(uint32_t cid, uint32_t port, int64_t timeout_ns);
/* Connect to an address already known. */
int nb_connect_addr(const struct nb_addr *a, int64_t timeout_ns);

/* A listening TCP socket on every IPv4 address, port port (SO_REUSEADDR). */
int nb_tcp_listen(uint16_t port, int backlog);
/* A listening vsock socket on port port (any CID). */
int nb_vsock_listen(uint32_t port, int backlog);

/* Send all len bytes (blocking handle: waits; non-blocking: as much as
 * fits, then NB_EAGAIN if nothing went). Returns len, or NB_E*; on an
 * error after a partial send, the error. */
long nb_send_all(int h, const void *buf, size_t len);
/* Receive until len bytes or end of stream; returns the count (short
 * only at end of stream) or NB_E*. */
long nb_recv_all(int h, void *buf, size_t len);

int nb_set_nonblock(int h, bool on);
/* 0 means wait forever. */
int nb_set_timeouts(int h, int64_t recv_ns, int64_t send_ns);

/* --- poll sets --- */

/*
 * A set of handles to wait on, with a user pointer each. Slots are dense:
 * deleting a slot moves the last entry into it, and nb_pollset_del()
 * returns that entry's user pointer so its owner can note its new slot.
 * To handle events, walk the slots backwards, so that deleting the
 * current slot never skips one:
 *
 *     int n = nb_pollset_wait(&ps, timeout);
 *     for (int i = (int)ps.n - 1; n > 0 && i >= 0; i--) {
 *         uint32_t ev = ps.fds[i].revents;
 *         if (!ev) continue;
 *         n--;
 *         struct conn *c = ps.user[i];
 *         ...
 *     }
 */
struct nb_pollset {
    struct nb_pollfd *fds;
    void **user;
    uint32_t n, cap;
};

/* cap bounds the set (the runtime allows 4096 in one poll by default). */
int nb_pollset_init(struct nb_pollset *ps, uint32_t cap);
void nb_pollset_free(struct nb_pollset *ps);
/* Returns the slot, or NB_ENOBUFS when full. */
int nb_pollset_add(struct nb_pollset *ps, int handle, uint32_t events, void *user);
/* Delete slot; returns the user pointer now at slot (moved from the end),
 * or NULL if none moved. */
void *nb_pollset_del(struct nb_pollset *ps, uint32_t slot);
static inline void nb_pollset_events(struct nb_pollset *ps, uint32_t slot, uint32_t events)
{
    ps->fds[slot].events = events;
}
/* Wait up to timeout_ns (< 0: forever, 0: just look). Returns how many
 * slots have events (revents), or NB_E* (NB_EINTR when interrupted). */
int nb_pollset_wait(struct nb_pollset *ps, int64_t timeout_ns);

#endif
