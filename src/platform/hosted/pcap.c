/*
 * pcap capture (see pcap.h). Format: the classic libpcap file, version 2.4,
 * microsecond timestamps, snap length 65535, LINKTYPE_ETHERNET (1).
 */
#define _GNU_SOURCE
#include "pcap.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(pcap);

#define SNAPLEN 65535
#define LINKTYPE_ETHERNET 1
#define MAX_IFACES 8
#define DEFAULT_MAX (1ull << 30)

struct nb_pcap {
    FILE *f;
    char *path;
    uint64_t max_bytes, written;
    struct nb_iface *ifs[MAX_IFACES];
    unsigned nifs;
    struct nb_pcap_stats stats;
    bool full_logged;
};

static void capture(void *arg, struct nb_iface *ifc, enum nb_dir dir, const struct nb_pkt *pkt)
{
    struct nb_pcap *pc = arg;
    (void)ifc;
    (void)dir;
    uint32_t caplen = NB_MIN(pkt->len, (uint32_t)SNAPLEN);
    if (pc->written + 16 + caplen > pc->max_bytes) {
        pc->stats.dropped++;
        if (!pc->full_logged) {
            NB_WARN("%s reached its size limit (%llu bytes); capture stopped", pc->path,
                    (unsigned long long)pc->max_bytes);
            pc->full_logged = true;
        }
        return;
    }
    uint64_t t = nb_wallclock_ns();
    uint8_t rec[16];
    nb_put_le32(rec, (uint32_t)(t / NB_NS_PER_S));
    nb_put_le32(rec + 4, (uint32_t)(t % NB_NS_PER_S / 1000));
    nb_put_le32(rec + 8, caplen);
    nb_put_le32(rec + 12, pkt->len);
    if (fwrite(rec, sizeof rec, 1, pc->f) != 1 || fwrite(pkt->data, caplen, 1, pc->f) != 1) {
        pc->stats.dropped++;
        return;
    }
    pc->written += 16 + caplen;
    pc->stats.frames++;
    pc->stats.bytes += caplen;
}

struct nb_pcap *nb_pcap_open(const char *path, uint64_t max_bytes, int *err)
{
    struct nb_pcap *pc = calloc(1, sizeof *pc);
    if (!pc) {
        *err = NB_ENOMEM;
        return NULL;
    }
    pc->f = fopen(path, "wbe");
    if (!pc->f) {
        NB_ERROR("cannot create %s: %s", path, strerror(errno));
        *err = errno == EACCES ? NB_EACCES : errno == ENOENT ? NB_ENOENT : NB_EIO;
        free(pc);
        return NULL;
    }
    setvbuf(pc->f, NULL, _IOFBF, 256 * 1024);
    pc->path = strdup(path);
    pc->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX;
    uint8_t hdr[24];
    nb_put_le32(hdr, 0xa1b2c3d4u);
    nb_put_le16(hdr + 4, 2);
    nb_put_le16(hdr + 6, 4);
    nb_put_le32(hdr + 8, 0);  /* thiszone */
    nb_put_le32(hdr + 12, 0); /* sigfigs */
    nb_put_le32(hdr + 16, SNAPLEN);
    nb_put_le32(hdr + 20, LINKTYPE_ETHERNET);
    fwrite(hdr, sizeof hdr, 1, pc->f);
    pc->written = sizeof hdr;
    return pc;
}

int nb_pcap_attach(struct nb_pcap *pc, struct nb_iface *ifc)
{
    if (ifc->link != NB_LINK_ETHERNET)
        return NB_ENOTSUP; /* one link type per classic pcap file */
    if (pc->nifs == MAX_IFACES)
        return NB_ENOSPC;
    pc->ifs[pc->nifs++] = ifc;
    nb_iface_set_capture(ifc, capture, pc);
    NB_INFO("capturing %s into %s", ifc->name, pc->path);
    return 0;
}

void nb_pcap_close(struct nb_pcap *pc)
{
    if (!pc)
        return;
    for (unsigned i = 0; i < pc->nifs; i++)
        if (pc->ifs[i]->capture_arg == pc)
            nb_iface_set_capture(pc->ifs[i], NULL, NULL);
    fclose(pc->f);
    NB_INFO("%s: %llu frames%s", pc->path, (unsigned long long)pc->stats.frames,
            pc->stats.dropped ? " (some dropped: size limit)" : "");
    free(pc->path);
    free(pc);
}

void nb_pcap_get_stats(struct nb_pcap *pc, struct nb_pcap_stats *out)
{
    *out = pc->stats;
}
