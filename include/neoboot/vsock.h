/*
 * The vsock address family (VIRTIO 1.2 "Socket Device", stream sockets).
 *
 * Applications use the ordinary socket API (net.h) with NB_AF_VSOCK. This
 * header adds what is vsock-specific: the wire header (for drivers, tests
 * and fuzzers), per-stack tunables, counters, and the "listen on any port"
 * hook the hybrid-vsock bridge uses to stand in for the host.
 */
#ifndef NEOBOOT_VSOCK_H
#define NEOBOOT_VSOCK_H

#include <neoboot/net.h>

#include <stdint.h>

#define NB_VSOCK_HDR_LEN 44
#define NB_VSOCK_MAX_PAYLOAD (64u * 1024)      /* largest RW we send or take */
#define NB_VSOCK_BUF_DEFAULT (256u * 1024)     /* default buf_alloc, as Linux */
#define NB_VSOCK_BUF_MAX (64u * 1024 * 1024)   /* cap on NB_SO_RCVBUF */

enum nb_vsock_op {
    NB_VSOCK_OP_INVALID = 0,
    NB_VSOCK_OP_REQUEST = 1,
    NB_VSOCK_OP_RESPONSE = 2,
    NB_VSOCK_OP_RST = 3,
    NB_VSOCK_OP_SHUTDOWN = 4,
    NB_VSOCK_OP_RW = 5,
    NB_VSOCK_OP_CREDIT_UPDATE = 6,
    NB_VSOCK_OP_CREDIT_REQUEST = 7,
};

#define NB_VSOCK_TYPE_STREAM 1
#define NB_VSOCK_TYPE_SEQPACKET 2
#define NB_VSOCK_SHUTDOWN_RCV 1u  /* sender will receive no more */
#define NB_VSOCK_SHUTDOWN_SEND 2u /* sender will send no more */

/* The 44-byte little-endian header, decoded. */
struct nb_vsock_hdr {
    uint64_t src_cid, dst_cid;
    uint32_t src_port, dst_port;
    uint32_t len;
    uint16_t type, op;
    uint32_t flags;
    uint32_t buf_alloc, fwd_cnt;
};

void nb_vsock_hdr_decode(const uint8_t *p, struct nb_vsock_hdr *h);
void nb_vsock_hdr_encode(uint8_t *p, const struct nb_vsock_hdr *h);

struct nb_vsock_tunables {
    uint64_t connect_timeout_ns; /* default for new sockets: 2 s */
    uint64_t close_timeout_ns;   /* wait for the peer's RST after our SHUTDOWN: 8 s */
    uint32_t eph_lo, eph_hi;     /* ephemeral port range (inclusive) */
};
int nb_vsock_get_tunables(struct nb_stack *st, struct nb_vsock_tunables *out);
int nb_vsock_set_tunables(struct nb_stack *st, const struct nb_vsock_tunables *t);

/* Counters; every anomaly the receive path sees has one. */
struct nb_vsock_stats {
    uint64_t rx_packets, tx_packets;
    uint64_t rx_short;         /* shorter than the header */
    uint64_t rx_len_mismatch;  /* hdr.len disagrees with the bytes received */
    uint64_t rx_oversize;      /* payload above NB_VSOCK_MAX_PAYLOAD */
    uint64_t rx_bad_type;      /* not STREAM */
    uint64_t rx_bad_op;        /* unknown op */
    uint64_t rx_wrong_cid;     /* dst_cid is not ours */
    uint64_t rx_no_socket;     /* nothing listens / no such connection */
    uint64_t rx_over_credit;   /* RW beyond the credit we granted: reset */
    uint64_t rx_bad_credit;    /* fwd_cnt beyond what we sent: ignored */
    uint64_t rx_unexpected;    /* op not valid in the connection's state */
    uint64_t rx_discarded;     /* payload bytes for a read-shut or closing socket */
    uint64_t backlog_full;     /* REQUEST refused: accept queue full */
    uint64_t no_resources;     /* REQUEST refused: socket limit or memory */
    uint64_t rst_sent, rst_received, rst_dropped; /* dropped: device full */
    uint64_t credit_updates_sent, credit_requests_sent;
    uint64_t connects, accepts, connect_timeouts, close_timeouts;
    uint64_t coalesced;        /* small payloads merged into one buffer */
};
int nb_vsock_get_stats(struct nb_stack *st, struct nb_vsock_stats *out);

/*
 * Make bound socket s (port NB_VMADDR_PORT_ANY) a listener for every port
 * that has no listener of its own. For each REQUEST, filter(arg, local,
 * peer, &cookie) decides: 0 accepts (the new socket's user pointer becomes
 * cookie), a negative code refuses with RST. Used by the hybrid bridge to
 * take guest connections to the host on any port.
 */
typedef int (*nb_vsock_request_fn)(void *arg, const struct nb_addr *local,
                                   const struct nb_addr *peer, void **cookie);
int nb_vsock_listen_any(nb_sock *s, int backlog, nb_vsock_request_fn filter,
                        void *arg);

#endif
