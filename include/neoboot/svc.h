/*
 * Built-in network services: small, event-driven, for diagnostics and
 * demos (the real applications are WebAssembly). A service listens on an
 * address of any family and serves each connection from loop work, so
 * many services and thousands of connections share one thread with no
 * blocking.
 *
 *   echo   - sends back what it receives; end of input ends the reply.
 *   stats  - writes the runtime's `stats` text and closes.
 *   sink   - reads until end of input, then writes the byte count ("N\n").
 *   source - writes N bytes of a fixed pattern (nb_svc_pattern_byte), closes.
 *   http   - one HTTP/1.1 request per connection (for curl): GET /bytes/N
 *            (pattern), POST|PUT /echo (body back), POST|PUT /sink (count).
 *   udp echo - every datagram back to its sender.
 */
#ifndef NEOBOOT_SVC_H
#define NEOBOOT_SVC_H

#include <neoboot/net.h>

struct nb_svc;

struct nb_svc *nb_svc_echo_start(struct nb_stack *st, const struct nb_addr *addr,
                                 int *err);
struct nb_svc *nb_svc_stats_start(struct nb_stack *st, const struct nb_addr *addr,
                                  int *err);
struct nb_svc *nb_svc_sink_start(struct nb_stack *st, const struct nb_addr *addr,
                                 int *err);
struct nb_svc *nb_svc_source_start(struct nb_stack *st, const struct nb_addr *addr,
                                   uint64_t bytes, int *err);
struct nb_svc *nb_svc_http_start(struct nb_stack *st, const struct nb_addr *addr,
                                 int *err);
struct nb_svc *nb_svc_udp_echo_start(struct nb_stack *st, const struct nb_addr *addr,
                                     int *err);
void nb_svc_stop(struct nb_svc *svc);
/* Listen backlog of a stream service (default 128). */
int nb_svc_set_backlog(struct nb_svc *svc, int backlog);
/* Byte i of the source/http pattern: ((i mod 65536) * 2654435761) >> 13. */
uint8_t nb_svc_pattern_byte(uint64_t i);

struct nb_svc_stats {
    uint64_t accepted, active, bytes_in, bytes_out, errors;
};
void nb_svc_get_stats(struct nb_svc *svc, struct nb_svc_stats *out);

#endif
