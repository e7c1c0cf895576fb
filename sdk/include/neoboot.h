/*
 * neoboot.h: the NeoBoot app ABI for C programs compiled to WebAssembly
 * (clang --target=wasm32-wasi). Declares the "neoboot" imports exactly as
 * the runtime provides them (docs/abi.md), their constants and the layouts
 * of the structures they exchange. Every function returns a negative NB_E*
 * code on error; those are WASI errno values, so `errno = -ret` works with
 * wasi-libc's strerror().
 *
 * The SDK library (libneoboot) builds BSD-style helpers, a URL parser and
 * HTTP/1.1 client and server on top of this; apps may also use it alone.
 */
#ifndef NEOBOOT_SDK_H
#define NEOBOOT_SDK_H

#include <stddef.h>
#include <stdint.h>

#define NB_IMPORT(name) __attribute__((import_module("neoboot"), import_name(#name)))

/* --- errors (negated WASI errno) --- */
#define NB_EACCES (-2)
#define NB_EADDRINUSE (-3)
#define NB_EADDRNOTAVAIL (-4)
#define NB_EAFNOSUPPORT (-5)
#define NB_EAGAIN (-6)
#define NB_EALREADY (-7)
#define NB_EBADF (-8)
#define NB_ECONNABORTED (-13)
#define NB_ECONNREFUSED (-14)
#define NB_ECONNRESET (-15)
#define NB_EDESTADDRREQ (-17)
#define NB_EFAULT (-21)
#define NB_EHOSTUNREACH (-23)
#define NB_EINPROGRESS (-26)
#define NB_EINTR (-27)
#define NB_EINVAL (-28)
#define NB_EIO (-29)
#define NB_EISCONN (-30)
#define NB_EMFILE (-33)
#define NB_EMSGSIZE (-35)
#define NB_ENETDOWN (-38)
#define NB_ENETUNREACH (-40)
#define NB_ENFILE (-41)
#define NB_ENOBUFS (-42)
#define NB_ENOENT (-44)
#define NB_ENOMEM (-48)
#define NB_ENOPROTOOPT (-50)
#define NB_ENOSYS (-52)
#define NB_ENOTCONN (-53)
#define NB_ENOTSUP (-58)
#define NB_EPIPE (-64)
#define NB_EPROTO (-65)
#define NB_EPROTONOSUPPORT (-66)
#define NB_ETIMEDOUT (-73)
/* The rest of the runtime's codes (include/neoboot/err.h; NB_E2BIG, which
 * random() returns, and the boot codes are with the boot imports below);
 * the SDK uses NB_ELOOP (redirects), NB_ENAMETOOLONG and others. */
#define NB_EBUSY (-10)
#define NB_ECANCELED (-11)
#define NB_EEXIST (-20)
#define NB_EILSEQ (-25)
#define NB_ELOOP (-32)
#define NB_ENAMETOOLONG (-37)
#define NB_ENETRESET (-39)
#define NB_ENODEV (-43)
#define NB_ENOSPC (-51)
#define NB_ENOTSOCK (-57)
#define NB_EOVERFLOW (-61)
#define NB_EPERM (-63)
#define NB_EPROTOTYPE (-67)
#define NB_ERANGE (-68)
#define NB_ENOTCAPABLE (-76)

/* --- families, types, flags, options --- */
#define NB_AF_INET 2
#define NB_AF_INET6 10
#define NB_AF_VSOCK 40
#define NB_SOCK_STREAM 1
#define NB_SOCK_DGRAM 2
#define NB_SOCK_SEQPACKET 5

#define NB_VMADDR_CID_ANY 0xFFFFFFFFu
#define NB_VMADDR_CID_HOST 2u
#define NB_VMADDR_PORT_ANY 0xFFFFFFFFu

#define NB_MSG_PEEK 0x2
#define NB_MSG_TRUNC 0x20
#define NB_MSG_DONTWAIT 0x40
#define NB_MSG_WAITALL 0x100

#define NB_SHUT_RD 1
#define NB_SHUT_WR 2
#define NB_SHUT_RDWR 3

#define NB_SO_NONBLOCK 1
#define NB_SO_RCVTIMEO 2        /* ns, 0 = forever */
#define NB_SO_SNDTIMEO 3        /* ns, 0 = forever */
#define NB_SO_CONNECT_TIMEOUT 4 /* ns */
#define NB_SO_RCVBUF 5
#define NB_SO_SNDBUF 6
#define NB_SO_ERROR 7
#define NB_SO_REUSEADDR 8
#define NB_SO_KEEPALIVE 9
#define NB_TCP_NODELAY 10
#define NB_SO_TYPE 11
#define NB_SO_FAMILY 12
#define NB_SO_RCVLOWAT 13
#define NB_SO_NREAD 14
#define NB_SO_BROADCAST 15
#define NB_TCP_KEEPIDLE 16      /* ns */
#define NB_TCP_KEEPINTVL 17     /* ns */
#define NB_TCP_KEEPCNT 18
#define NB_SO_RXDROPS 19

#define NB_POLLIN 0x001
#define NB_POLLOUT 0x004
#define NB_POLLERR 0x008
#define NB_POLLHUP 0x010
#define NB_POLLNVAL 0x020
#define NB_POLLRDHUP 0x2000

#define NB_LOG_ERROR 1
#define NB_LOG_WARN 2
#define NB_LOG_INFO 3
#define NB_LOG_DEBUG 4
#define NB_LOG_TRACE 5

#define NB_CLOCK_MONOTONIC 0
#define NB_CLOCK_REALTIME 1

/* --- structures (little-endian, as wasm32 is) --- */

/* An address of any family: 32 bytes. Ports in host byte order. */
struct nb_addr {
    uint16_t family;
    uint16_t reserved;
    uint32_t port;
    union {
        uint8_t ip4[4];
        uint8_t ip6[16];
        uint32_t cid;
    } u;
    uint32_t scope_id;
    uint32_t reserved2;
};
_Static_assert(sizeof(struct nb_addr) == 32, "nb_addr is 32 bytes");

struct nb_pollfd {
    int32_t handle;   /* negative: ignored */
    uint32_t events;
    uint32_t revents;
};
_Static_assert(sizeof(struct nb_pollfd) == 12, "nb_pollfd is 12 bytes");

/* One network interface (nb_netif): 320 bytes. */
struct nb_netif {
    char name[16];
    uint32_t index;           /* 1-based; scope id for link-local IPv6 */
    uint8_t mac[6];
    uint8_t link;             /* 1 Ethernet, 2 vsock */
    uint8_t flags;            /* NB_NETIF_* */
    uint32_t mtu;
    uint32_t vsock_cid;       /* vsock links */
    uint8_t ip4[4];
    uint8_t prefix4;
    uint8_t dhcp_state;       /* 0 off, 1 selecting, 2 requesting, 3 bound, 4 renewing, 5 rebinding */
    uint8_t n_ip6;
    uint8_t reserved0;
    uint8_t gw4[4];
    uint8_t dhcp_server[4];
    uint32_t lease_s;
    uint32_t lease_left_s;
    uint8_t dns4[3][4];       /* 0.0.0.0: none */
    struct {
        uint8_t addr[16];
        uint8_t state;        /* 1 tentative, 2 preferred, 3 deprecated, 4 duplicated */
        uint8_t origin;       /* 1 link-local, 2 SLAAC, 3 static */
        uint8_t prefix;
        uint8_t reserved;
    } ip6[4];
    uint8_t gw6[16];
    char boot_file[128];      /* DHCP boot file name (option 67 / file), if any */
    uint8_t next_server[4];   /* DHCP next server (siaddr) */
    uint8_t reserved[20];
};
_Static_assert(sizeof(struct nb_netif) == 320, "nb_netif is 320 bytes");

#define NB_NETIF_UP 1
#define NB_NETIF_CARRIER 2
#define NB_NETIF_DEFAULT 4
#define NB_NETIF_STATIC4 8

/* --- the imports --- */

NB_IMPORT(socket) int32_t nb_socket(int32_t family, int32_t type);
NB_IMPORT(bind) int32_t nb_bind(int32_t h, const struct nb_addr *addr);
NB_IMPORT(listen) int32_t nb_listen(int32_t h, int32_t backlog);
NB_IMPORT(accept) int32_t nb_accept(int32_t h, struct nb_addr *peer);
NB_IMPORT(connect) int32_t nb_connect(int32_t h, const struct nb_addr *addr);
NB_IMPORT(send) int32_t nb_send(int32_t h, const void *buf, size_t len, int32_t flags);
NB_IMPORT(recv) int32_t nb_recv(int32_t h, void *buf, size_t len, int32_t flags);
NB_IMPORT(sendto) int32_t nb_sendto(int32_t h, const void *buf, size_t len, int32_t flags,
                                    const struct nb_addr *to);
NB_IMPORT(recvfrom) int32_t nb_recvfrom(int32_t h, void *buf, size_t len, int32_t flags,
                                        struct nb_addr *from);
NB_IMPORT(shutdown) int32_t nb_shutdown(int32_t h, int32_t how);
NB_IMPORT(close) int32_t nb_close(int32_t h);
NB_IMPORT(setopt) int32_t nb_setopt(int32_t h, int32_t opt, int64_t value);
NB_IMPORT(getopt) int32_t nb_getopt(int32_t h, int32_t opt, int64_t *value);
NB_IMPORT(sockname) int32_t nb_sockname(int32_t h, struct nb_addr *out);
NB_IMPORT(peername) int32_t nb_peername(int32_t h, struct nb_addr *out);
NB_IMPORT(poll) int32_t nb_poll(struct nb_pollfd *fds, size_t n, int64_t timeout_ns);
NB_IMPORT(resolve) int32_t nb_resolve(const char *name, size_t len, int32_t family,
                                      struct nb_addr *out, size_t max, int64_t timeout_ns);
NB_IMPORT(netif) int32_t nb_netif(int32_t index, struct nb_netif *out);
NB_IMPORT(stats) int32_t nb_stats(char *buf, size_t len);
NB_IMPORT(clock) int64_t nb_clock(int32_t id);
NB_IMPORT(sleep) int32_t nb_sleep(int64_t ns);
NB_IMPORT(log) int32_t nb_log(int32_t level, const char *msg, size_t len);
NB_IMPORT(random) int32_t nb_random(void *buf, size_t len);
/* Wait until an IP interface has an address (IPv4, or a preferred global
 * IPv6): 0, NB_ETIMEDOUT, or NB_ENETDOWN with no IP interface at all. The
 * runtime's loop (DHCP included) runs meanwhile; no polling. */
NB_IMPORT(net_wait) int32_t nb_net_wait(int64_t timeout_ns);

/* --- digests, computed by the runtime (natively) --- */
#define NB_DIGEST_SHA256 1
/* A new digest: a handle, NB_EINVAL (unknown algorithm) or NB_EMFILE. */
NB_IMPORT(digest_begin) int32_t nb_digest_begin(int32_t alg);
/* Hash len more bytes (at most 16 MiB per call: NB_E2BIG beyond). */
NB_IMPORT(digest_update) int32_t nb_digest_update(int32_t h, const void *buf, size_t len);
/* The digest into out (len >= 32, else NB_EINVAL and the handle stays):
 * returns its length and frees the handle. close(h) abandons one. */
NB_IMPORT(digest_end) int32_t nb_digest_end(int32_t h, void *out, size_t len);

/* --- network boot (needs the boot capability) --- */
#define NB_BOOT_KERNEL 0
#define NB_BOOT_INITRD 1
#define NB_EBADMSG (-9)
#define NB_ENOEXEC (-45)
#define NB_EFBIG (-22)
#define NB_E2BIG (-1)

/* Stage `item` (kernel or initrd) of exactly `size` bytes that must hash
 * to the 32-byte `sha256`; then append its bytes in any pieces. */
NB_IMPORT(boot_begin) int32_t nb_boot_begin(int32_t item, int64_t size,
                                            const uint8_t sha256[32]);
NB_IMPORT(boot_append) int32_t nb_boot_append(int32_t item, const void *buf, size_t len);
NB_IMPORT(boot_cmdline) int32_t nb_boot_cmdline(const char *text, size_t len);
/* Verify everything and boot; returns only on failure (see boot_error). */
NB_IMPORT(boot_exec) int32_t nb_boot_exec(void);
/* The last boot failure as text; returns its full length. */
NB_IMPORT(boot_error) int32_t nb_boot_error(char *buf, size_t len);

#endif
