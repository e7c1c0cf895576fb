/*
 * Sockets: one API over every address family (vsock, IPv4, IPv6).
 *
 * A socket belongs to a stack. A stack is one network namespace: its
 * interfaces, its ports, its connections. A NeoBoot instance has one
 * (nb_stack_default); tests and the hybrid-vsock bridge create more so two
 * independent endpoints can run in one process over an in-process link.
 *
 * Calls are blocking by default: a blocking call runs the event loop until
 * it can proceed, its timeout passes (NB_ETIMEDOUT), or the loop is
 * interrupted (NB_EINTR). With NB_SO_NONBLOCK set, or NB_MSG_DONTWAIT given,
 * a call that cannot proceed at once returns NB_EAGAIN (NB_EINPROGRESS for
 * connect); nb_poll() tells when to retry. All errors are negative NB_E*.
 *
 * Blocking calls must not be made from loop callbacks (timers, work,
 * driver callbacks, socket notifications).
 */
#ifndef NEOBOOT_NET_H
#define NEOBOOT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nb_iface;
struct nb_stack;
typedef struct nb_sock nb_sock;

/* Address families and socket types (Linux's numbers). */
#define NB_AF_INET 2
#define NB_AF_INET6 10
#define NB_AF_VSOCK 40

#define NB_SOCK_STREAM 1
#define NB_SOCK_DGRAM 2
#define NB_SOCK_SEQPACKET 5

/* vsock well-known addresses. */
#define NB_VMADDR_CID_ANY 0xFFFFFFFFu
#define NB_VMADDR_CID_HYPERVISOR 0u
#define NB_VMADDR_CID_LOCAL 1u
#define NB_VMADDR_CID_HOST 2u
#define NB_VMADDR_PORT_ANY 0xFFFFFFFFu

/*
 * One address type for every family; also the guest ABI's layout
 * (32 bytes, little-endian, docs/abi.md). Ports are in host byte order.
 */
struct nb_addr {
    uint16_t family;   /* NB_AF_* */
    uint16_t reserved;
    uint32_t port;     /* TCP/UDP port (0..65535) or vsock port */
    union {
        uint8_t ip4[4];
        uint8_t ip6[16];
        uint32_t cid;  /* vsock context id */
    } u;
    uint32_t scope_id; /* IPv6 link-local: interface index */
    uint32_t reserved2;
};

/* Convenience constructors. */
struct nb_addr nb_addr_vsock(uint32_t cid, uint32_t port);
struct nb_addr nb_addr_ip4(const uint8_t ip[4], uint16_t port);
struct nb_addr nb_addr_ip6(const uint8_t ip[16], uint16_t port, uint32_t scope);
/* "3:1234", "10.0.2.2:80", "[fe80::1%2]:80". 0 or NB_EINVAL. */
int nb_addr_parse(const char *text, struct nb_addr *out);
/* Format into buf (always NUL-terminated); returns buf. */
char *nb_addr_format(const struct nb_addr *a, char *buf, size_t len);
bool nb_addr_equal(const struct nb_addr *a, const struct nb_addr *b);
/* Parse a bare IPv4 / IPv6 address of len chars. 0 or NB_EINVAL. */
int nb_parse_ip4(const char *s, size_t len, uint8_t out[4]);
int nb_parse_ip6(const char *s, size_t len, uint8_t out[16]);

/* --- stacks --- */

struct nb_stack *nb_stack_new(const char *name);
/* Close every socket (abortively) and free the stack; interfaces detach. */
void nb_stack_free(struct nb_stack *st);
/* The instance's stack, created on first use. */
struct nb_stack *nb_stack_default(void);
const char *nb_stack_name(const struct nb_stack *st);
/* Give an interface to a stack; the family for its link type takes its
 * packets. NB_EBUSY if attached elsewhere, NB_EAFNOSUPPORT if no family
 * handles the link, or the family's error. */
int nb_stack_attach(struct nb_stack *st, struct nb_iface *ifc);
void nb_stack_detach(struct nb_iface *ifc);
/* Sockets a stack may hold at once, including closing ones (default 4096). */
void nb_stack_set_max_sockets(struct nb_stack *st, uint32_t max);
/* Connection objects alive in the stack (open sockets plus closing ones). */
uint32_t nb_stack_objects(const struct nb_stack *st);

/* --- sockets --- */

int nb_socket(struct nb_stack *st, int family, int type, nb_sock **out);
int nb_bind(nb_sock *s, const struct nb_addr *addr);
int nb_listen(nb_sock *s, int backlog);
/* Take the oldest established connection (FIFO). peer may be NULL. */
int nb_accept(nb_sock *s, nb_sock **out, struct nb_addr *peer);
/* Blocking: waits up to the connect timeout (NB_SO_CONNECT_TIMEOUT). */
int nb_connect(nb_sock *s, const struct nb_addr *addr);

/* Flags for send/recv. */
#define NB_MSG_PEEK 0x2
#define NB_MSG_DONTWAIT 0x40
#define NB_MSG_WAITALL 0x100
#define NB_MSG_TRUNC 0x20 /* recvfrom: return the datagram's real length */

/* Bytes sent (possibly fewer than len on a non-blocking socket) or NB_E*.
 * A stream whose send side is shut, or whose peer stopped receiving, gives
 * NB_EPIPE. */
long nb_send(nb_sock *s, const void *buf, size_t len, int flags);
/* Bytes received, 0 at end of stream, or NB_E*. NB_MSG_PEEK leaves the
 * data queued. */
long nb_recv(nb_sock *s, void *buf, size_t len, int flags);
long nb_sendto(nb_sock *s, const void *buf, size_t len, int flags,
               const struct nb_addr *to);
long nb_recvfrom(nb_sock *s, void *buf, size_t len, int flags,
                 struct nb_addr *from);

#define NB_SHUT_RD 1
#define NB_SHUT_WR 2
#define NB_SHUT_RDWR 3
int nb_shutdown(nb_sock *s, int how);
/* Release the handle. A connected stream closes gracefully in the
 * background (the family keeps what it needs until the peer agrees or a
 * timeout passes); the handle is invalid at once. */
int nb_close(nb_sock *s);

int nb_getsockname(nb_sock *s, struct nb_addr *out);
int nb_getpeername(nb_sock *s, struct nb_addr *out);

/* Options: every value is a 64-bit integer. */
enum nb_sockopt {
    NB_SO_NONBLOCK = 1,        /* 0/1 */
    NB_SO_RCVTIMEO = 2,        /* ns; 0 = wait forever */
    NB_SO_SNDTIMEO = 3,        /* ns; 0 = wait forever */
    NB_SO_CONNECT_TIMEOUT = 4, /* ns; vsock default 2 s */
    NB_SO_RCVBUF = 5,          /* bytes; vsock: buf_alloc (default 256 KiB) */
    NB_SO_SNDBUF = 6,          /* bytes */
    NB_SO_ERROR = 7,           /* get: pending error (cleared), 0 or NB_E* */
    NB_SO_REUSEADDR = 8,       /* 0/1 */
    NB_SO_KEEPALIVE = 9,       /* 0/1 */
    NB_TCP_NODELAY = 10,       /* 0/1 */
    NB_SO_TYPE = 11,           /* get: NB_SOCK_* */
    NB_SO_FAMILY = 12,         /* get: NB_AF_* */
    NB_SO_RCVLOWAT = 13,       /* bytes */
    NB_SO_NREAD = 14,          /* get: bytes queued for reading (UDP: next datagram) */
    /* inet (docs/inet.md) */
    NB_SO_BROADCAST = 15,      /* 0/1: UDP may send to broadcast addresses */
    NB_TCP_KEEPIDLE = 16,      /* ns of idleness before keep-alive probes */
    NB_TCP_KEEPINTVL = 17,     /* ns between keep-alive probes */
    NB_TCP_KEEPCNT = 18,       /* unanswered probes before the connection drops */
    NB_SO_RXDROPS = 19,        /* get: datagrams dropped, receive queue full */
};
int nb_setopt(nb_sock *s, int opt, int64_t value);
int nb_getopt(nb_sock *s, int opt, int64_t *value);

/* Readiness (Linux's poll bits). */
#define NB_POLLIN 0x001    /* readable, or a connection to accept */
#define NB_POLLOUT 0x004   /* writable, or connect finished */
#define NB_POLLERR 0x008   /* error pending (see NB_SO_ERROR) */
#define NB_POLLHUP 0x010   /* both directions closed */
#define NB_POLLNVAL 0x020  /* not a valid socket */
#define NB_POLLRDHUP 0x2000 /* peer will send no more */

struct nb_pollfd {
    nb_sock *sock;
    uint32_t events;   /* what to wait for (ERR/HUP/NVAL always reported) */
    uint32_t revents;  /* what holds */
};

/* Wait until one socket is ready or timeout_ns passes (-1: forever, 0:
 * just look). Returns how many have revents, or NB_EINTR. */
int nb_poll(struct nb_pollfd *fds, size_t n, int64_t timeout_ns);
/* Current readiness of one socket (no waiting). */
uint32_t nb_sock_readiness(nb_sock *s);

/*
 * Readiness notification for event-driven users (bridges, the wasm ABI):
 * fn runs from the event loop whenever the socket's state may have changed.
 * It must not block or close the socket; post work instead.
 */
typedef void (*nb_sock_notify_fn)(nb_sock *s, void *arg);
void nb_sock_set_notify(nb_sock *s, nb_sock_notify_fn fn, void *arg);
/* An opaque pointer for the owner's use. */
void nb_sock_set_user(nb_sock *s, void *user);
void *nb_sock_user(nb_sock *s);
struct nb_stack *nb_sock_stack(nb_sock *s);

/* --- introspection --- */

/* A line sink for `stats` and friends. */
typedef void (*nb_print_fn)(void *arg, const char *line);
/* One formatted line (at most 319 characters) to a line sink. */
void nb_printf(nb_print_fn print, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Interfaces, stacks, sockets, packet memory, loop and family counters. */
void nb_net_print_stats(nb_print_fn print, void *arg);
/* The same figures as one JSON object, written into buf (always
 * NUL-terminated when len > 0). Returns the full length, which may exceed
 * len - 1, as snprintf does. */
size_t nb_net_stats_json(char *buf, size_t len);

#endif
