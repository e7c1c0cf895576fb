/*
 * Prototypes of the lwIP hooks NeoBoot installs (lwipopts.h names this
 * file as LWIP_HOOK_FILENAME; the functions live in port.c).
 */
#ifndef NB_LWIP_HOOKS_H
#define NB_LWIP_HOOKS_H

#include "lwip/arch.h"

#include <stddef.h>
#include <stdint.h>
#include "lwip/err.h"
#include "lwip/ip_addr.h"

struct tcp_pcb;
struct tcp_hdr;
struct pbuf;

/* RFC 6528 initial sequence numbers: a keyed hash of the connection's
 * addresses plus a clock, so sequence numbers cannot be predicted. */
u32_t nb_lwip_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
                      const ip_addr_t *remote_ip, u16_t remote_port);

/* Every TCP segment, before lwIP processes it for `pcb`; non-ERR_OK drops
 * it. NeoBoot uses it to keep listeners usable under a SYN flood. */
err_t nb_lwip_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr,
                           u16_t optlen, u16_t opt1len, u8_t *opt2,
                           struct pbuf *p);

/* A keyed hash for SYN cookies (port.c). */
uint32_t nb_lwip_cookie_hash(const void *data, size_t len);

#endif
