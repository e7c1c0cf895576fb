/*
 * A relay moves bytes both ways between host file descriptors and a
 * NeoBoot socket until both directions have ended: in_fd -> socket and
 * socket -> out_fd (in_fd and out_fd may be the same socket fd, or stdin
 * and stdout). Used by the hybrid-vsock bridge and by `neoboot nc`.
 *
 * Bytes are held in one bounded buffer per direction until the other side
 * takes them, so nothing is lost and each side's backpressure reaches the
 * other. End of input on one side becomes a write shutdown on the other.
 * Regular files (which epoll cannot watch) are treated as always ready.
 */
#ifndef NEOBOOT_RELAY_H
#define NEOBOOT_RELAY_H

#include <neoboot/net.h>

#include <stdint.h>

struct nb_relay;

/* Called once when the relay has finished; `err` is 0 after a clean end in
 * both directions, or why it stopped. The relay is freed after it returns. */
typedef void (*nb_relay_done_fn)(void *arg, int err, uint64_t to_sock,
                                 uint64_t to_fd);

/* Takes ownership of the fds (closed at the end) and of s (closed too).
 * NULL if out of memory (nothing is taken then). */
struct nb_relay *nb_relay_new(int in_fd, int out_fd, nb_sock *s,
                              nb_relay_done_fn done, void *arg);
/* Stop now, closing everything; `done` is not called. */
void nb_relay_abort(struct nb_relay *r);

#endif
