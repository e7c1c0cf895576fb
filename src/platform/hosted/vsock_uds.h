/*
 * A vsock device between two NeoBoot processes over a UNIX SOCK_SEQPACKET
 * socket: each message is one virtio-vsock packet (44-byte header plus
 * payload), as a virtqueue would carry it. One side listens on a path, the
 * other connects; either may start first (sends wait until the peer is
 * there, like a device whose queue is not yet kicked).
 */
#ifndef NEOBOOT_VSOCK_UDS_H
#define NEOBOOT_VSOCK_UDS_H

#include <neoboot/iface.h>

/* spec: "listen:PATH" or "connect:PATH". Registers and returns an
 * NB_LINK_VSOCK interface named `name` with CID `cid`, or NULL with *err. */
struct nb_iface *nb_vsock_uds_open(const char *name, const char *spec,
                                   uint64_t cid, int *err);
void nb_vsock_uds_close(struct nb_iface *ifc);

#endif
