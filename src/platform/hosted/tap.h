/*
 * A Linux TAP device as a NeoBoot Ethernet interface (hosted). The TAP
 * must exist (`ip tuntap add mode tap NAME`) or the process must be
 * allowed to create it (CAP_NET_ADMIN in its network namespace); the
 * Linux side of it is configured with `ip` as usual.
 */
#ifndef NEOBOOT_HOSTED_TAP_H
#define NEOBOOT_HOSTED_TAP_H

#include <neoboot/iface.h>

/* Open TAP `tapname` and register it as interface `name` (not started).
 * NULL with *err on failure (the reason is logged). */
struct nb_iface *nb_tap_open(const char *name, const char *tapname, int *err);
void nb_tap_close(struct nb_iface *ifc);

#endif
