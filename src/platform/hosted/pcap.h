/*
 * Packet capture to a classic pcap file (hosted), for tshark/Wireshark.
 * One file takes the frames of any number of Ethernet interfaces, both
 * directions, with wall-clock timestamps (LINKTYPE_ETHERNET). Writes are
 * buffered and bounded: past `max_bytes` capture stops (counted, logged
 * once) rather than filling the disk. The file is complete after
 * nb_pcap_close (which the instance calls on exit, Ctrl-C included).
 */
#ifndef NEOBOOT_HOSTED_PCAP_H
#define NEOBOOT_HOSTED_PCAP_H

#include <neoboot/iface.h>

#include <stdint.h>

struct nb_pcap;

/* Create path (truncating it). max_bytes 0: 1 GiB. NULL with *err. */
struct nb_pcap *nb_pcap_open(const char *path, uint64_t max_bytes, int *err);
/* Capture an Ethernet interface's traffic into the file. */
int nb_pcap_attach(struct nb_pcap *pc, struct nb_iface *ifc);
/* Stop capturing (detaching interfaces still attached), flush, close. */
void nb_pcap_close(struct nb_pcap *pc);

struct nb_pcap_stats {
    uint64_t frames, bytes, dropped;
};
void nb_pcap_get_stats(struct nb_pcap *pc, struct nb_pcap_stats *out);

#endif
