/*
 * The slirp network (hosted): libslirp's user-mode TCP/IP as the other
 * end of a NeoBoot Ethernet interface. Needs no privileges: NeoBoot
 * gets 10.0.2.15 by DHCP from slirp, the host is 10.0.2.2 (connections
 * to it reach the host's 127.0.0.1), slirp's DNS proxy is 10.0.2.3, and
 * IPv6 uses fec0::/64 with router advertisements. Port forwards let host
 * programs reach NeoBoot's servers.
 */
#ifndef NEOBOOT_HOSTED_SLIRP_H
#define NEOBOOT_HOSTED_SLIRP_H

#include <neoboot/iface.h>

#include <stdbool.h>
#include <stdint.h>

/* Register interface `name` (not started) backed by a new slirp. */
struct nb_iface *nb_slirp_open(const char *name, int *err);
void nb_slirp_close(struct nb_iface *ifc);
/* Forward host_addr:host_port (TCP, or UDP) to the guest's guest_port.
 * host_addr NULL means 127.0.0.1. 0 or NB_E* (NB_EADDRINUSE typically). */
int nb_slirp_forward(struct nb_iface *ifc, bool udp, const char *host_addr,
                     uint16_t host_port, uint16_t guest_port);

#endif
