/*
 * Built-in network services: small, event-driven, for diagnostics and
 * demos (the real applications are WebAssembly). A service listens on an
 * address of any family and serves each connection from loop work, so
 * many services and thousands of connections share one thread with no
 * blocking.
 *
 *   echo  - sends back what it receives; end of input ends the reply.
 *   stats - writes the runtime's `stats` text and closes.
 */
#ifndef NEOBOOT_SVC_H
#define NEOBOOT_SVC_H

#include <neoboot/net.h>

struct nb_svc;

struct nb_svc *nb_svc_echo_start(struct nb_stack *st, const struct nb_addr *addr,
                                 int *err);
struct nb_svc *nb_svc_stats_start(struct nb_stack *st, const struct nb_addr *addr,
                                  int *err);
void nb_svc_stop(struct nb_svc *svc);

struct nb_svc_stats {
    uint64_t accepted, active, bytes_in, bytes_out, errors;
};
void nb_svc_get_stats(struct nb_svc *svc, struct nb_svc_stats *out);

#endif
