/*
 * lwIP 2.1.3 configuration for NeoBoot (read by every lwIP source file and
 * by src/net/inet/). lwIP runs with NO_SYS=1 on its raw API, driven by the
 * NeoBoot event loop: no threads, no locks, no sockets layer of its own.
 *
 * Sizing is for throughput on gigabit links (and TAP, which is faster):
 * MSS 1460, 512 KiB windows with window scaling, 512 KiB send buffers, and
 * pools large enough to keep a few such connections full. Every pool is
 * static and bounded (MEMP_MEM_MALLOC=0), so network input can exhaust a
 * pool (and be dropped, counted in `stats`) but never grow memory; only
 * the lwIP heap (PBUF_RAM: TCP send segments, UDP/ICMP transmissions) uses
 * malloc, and it is bounded by MEMP_NUM_TCP_SEG and per-socket limits.
 *
 * Freestanding: nothing here or in arch/cc.h needs more than the
 * platform.h libc subset, so the pc build compiles the same lwIP sources.
 */
#ifndef NB_LWIPOPTS_H
#define NB_LWIPOPTS_H

/* --- system --- */
#define NO_SYS 1
#define LWIP_TIMERS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_NETIF_API 0
#define LWIP_CALLBACK_API 1
#define LWIP_EVENT_API 0

/* --- memory --- */
#define MEM_LIBC_MALLOC 1       /* the lwIP heap is malloc (platform subset) */
#define MEMP_MEM_MALLOC 0       /* pools are static arrays: hard bounds */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (4 * 1024 * 1024) /* unused with MEM_LIBC_MALLOC */

#define PBUF_POOL_SIZE 4096     /* receive buffers (~6 MiB) */
/* One 1514-byte frame per pool buffer, plus ETH_PAD_SIZE. */
#define PBUF_POOL_BUFSIZE 1536
#define ETH_PAD_SIZE 2          /* keeps IP headers 4-byte aligned */

#define MEMP_NUM_PBUF 1024      /* PBUF_REF/ROM headers (fragments, loopback) */
#define MEMP_NUM_RAW_PCB 8
#define MEMP_NUM_UDP_PCB 256
#define MEMP_NUM_TCP_PCB 2048   /* 512 half-open at most (tcp.c) + the rest */
#define MEMP_NUM_TCP_PCB_LISTEN 64
#define MEMP_NUM_TCP_SEG 8192   /* bounds all queued TCP segments */
#define MEMP_NUM_REASSDATA 32
#define MEMP_NUM_FRAG_PBUF 256
#define MEMP_NUM_ARP_QUEUE 128
#define MEMP_NUM_ND6_QUEUE 64
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)

/* --- link layer --- */
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ARP_TABLE_SIZE 64
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 8
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_LOOPBACK_MAX_PBUFS 512
#define LWIP_NETIF_LOOPBACK_MULTITHREADING 0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_EXT_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_SINGLE_NETIF 0
#define LWIP_NETIF_TX_SINGLE_PBUF 0
#define LWIP_NUM_NETIF_CLIENT_DATA 0

/* --- IPv4 --- */
#define LWIP_IPV4 1
#define IP_FORWARD 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define IP_REASS_MAX_PBUFS 256  /* a 64 KiB UDP datagram is 45 fragments */
#define IP_REASS_MAXAGE 15
#define IP_DEFAULT_TTL 64
#define IP_SOF_BROADCAST 1
#define IP_SOF_BROADCAST_RECV 1
#define LWIP_ICMP 1
#define LWIP_BROADCAST_PING 0
#define LWIP_MULTICAST_PING 0
#define LWIP_RAW 1
#define LWIP_DHCP 0             /* NeoBoot's own client: src/net/inet/dhcp4.c */
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
/* Accept DHCP replies addressed to an address we do not have yet. */
#define LWIP_IP_ACCEPT_UDP_PORT(port) ((port) == PP_NTOHS(68))

/* --- IPv6 --- */
#define LWIP_IPV6 1
#define LWIP_IPV6_NUM_ADDRESSES 5
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1
#define LWIP_IPV6_MLD 1
#define LWIP_IPV6_FRAG 1
#define LWIP_IPV6_REASS 1
#define IPV6_FRAG_COPYHEADER 1  /* 64-bit pointers do not fit the header */
#define LWIP_IPV6_DHCP6 0
#define LWIP_IPV6_SCOPES 1
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 1
#define LWIP_ND6_NUM_NEIGHBORS 32
#define LWIP_ND6_NUM_DESTINATIONS 64
#define LWIP_ND6_NUM_PREFIXES 8
#define LWIP_ND6_NUM_ROUTERS 4
#define LWIP_ND6_QUEUEING 1
#define LWIP_ND6_RDNSS_MAX_DNS_SERVERS 0
#define LWIP_ND6_ALLOW_RA_UPDATES 1
#define MEMP_NUM_MLD6_GROUP 16

/* --- UDP --- */
#define LWIP_UDP 1
#define LWIP_UDPLITE 0
#define LWIP_NETBUF_RECVINFO 0

/* --- TCP --- */
#define LWIP_TCP 1
#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 4         /* windows up to 1 MiB */
#define TCP_WND (512 * 1024)
#define TCP_SND_BUF (512 * 1024)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT (32 * 1024)
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
#define TCP_OVERSIZE TCP_MSS
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_BYTES TCP_WND
#define TCP_OOSEQ_MAX_PBUFS 512
#define LWIP_TCP_SACK_OUT 1
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 0xff
#define TCP_MAXRTX 12
#define TCP_SYNMAXRTX 6
/* lwIP's TCP timers tick at this (ms); the slow timer, which times
 * retransmissions, at twice it. 250 (lwIP's default) puts the floor of
 * the retransmission timeout near 1.5 s and delays ACKs up to 250 ms; at
 * 50 the floor is ~300 ms (Linux: 200) and delayed ACKs wait <= 50 ms.
 * The timer runs only while TCP connections exist. */
#define TCP_TMR_INTERVAL 50
#define TCP_MSL 30000UL         /* TIME_WAIT lasts 60 s, as on Linux */
#define TCP_CALCULATE_EFF_SEND_MSS 1
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_TCP_TIMESTAMPS 0
/* Announce a reopened window after 4 MSS (lwIP default); more would stall
 * peers without window scaling (64 KiB windows, e.g. slirp). */
#define TCP_WND_UPDATE_THRESHOLD (4 * TCP_MSS)
#define LWIP_TCP_PCB_NUM_EXT_ARGS 1  /* tells us when lwIP frees a pcb */
#define SO_REUSE 1
#define SO_REUSE_RXTOALL 0
#define LWIP_ALTCP 0

/* --- checksums --- */
/* Per-netif control: a driver with checksum offload (nb_iface.offload) has
 * lwIP skip TCP checksums. Summing while copying in tcp_write would be
 * wasted then, so checksums are computed at output, where the netif is
 * known. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define LWIP_CHECKSUM_ON_COPY 0
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_GEN_ICMP6 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1
#define CHECKSUM_CHECK_ICMP6 1

/* --- DNS --- */
#define LWIP_DNS 1
#define DNS_TABLE_SIZE 16       /* lookups in flight plus cached answers */
#define DNS_MAX_NAME_LENGTH 256
#define DNS_MAX_SERVERS 3
#define DNS_MAX_RETRIES 5       /* 1+1+2+3+4 = 11 s per server */
#define DNS_MAX_REQUESTS 8
#define DNS_DOES_NAME_CHECK 1
#define LWIP_DNS_SECURE 7       /* random xid, random source port, no merging */
#define DNS_MAX_SOURCE_PORTS 8
#define LWIP_DNS_SUPPORT_MDNS_QUERIES 0
#define DNS_LOCAL_HOSTLIST 0

/* --- statistics (shown by `stats`) --- */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define IPFRAG_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 0
#define IP6_STATS 1
#define IP6_FRAG_STATS 1
#define ICMP6_STATS 1
#define ND6_STATS 1
#define MLD6_STATS 1
#define IGMP_STATS 0
#define MIB2_STATS 0

/* --- hooks (src/net/inet/port.c) --- */
#define LWIP_HOOK_FILENAME "lwip_hooks.h"
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) \
    nb_lwip_tcp_isn(local_ip, local_port, remote_ip, remote_port)
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    nb_lwip_tcp_inpacket(pcb, hdr, optlen, opt1len, opt2, p)


#endif
