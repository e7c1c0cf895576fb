/*
 * ICMP echo (ping) for IPv4 and IPv6, as start/poll/free handles.
 *
 * One raw pcb per IP version serves every outstanding ping; each request
 * carries its own identifier, so replies find their handle and any number
 * of pings (from many guests) share two pcbs. Replies we did not ask for
 * go on to lwIP. Answering other hosts' pings is lwIP's own ICMP code.
 */
#include "inet_priv.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include "lwip/icmp.h"
#include "lwip/icmp6.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/icmp6.h"
#include "lwip/raw.h"

#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(ping);

#define PING_MAX_PAYLOAD 65000
#define PING_TIMEOUT_DEFAULT NB_NS_PER_S

struct nb_ping {
    int status;              /* NB_EAGAIN until answered or timed out */
    struct nb_ping_result res;
    struct nb_addr dst;
    uint16_t id, seq;
    uint64_t sent_at;
    nb_ping_done_fn done;
    void *arg;
    struct nb_timer timer;
    struct nb_work work;
    struct nb_ping *next, *prev;
};

static struct raw_pcb *pcb4, *pcb6;
static struct nb_ping *pings;
static uint16_t next_id;

static void ping_finish(struct nb_ping *p, int status)
{
    if (p->status != NB_EAGAIN)
        return;
    p->status = status;
    nb_timer_cancel(&p->timer);
    if (p->done)
        nb_work_post(&p->work);
}

static struct nb_ping *find(uint16_t id, uint16_t seq)
{
    for (struct nb_ping *p = pings; p; p = p->next)
        if (p->id == id && p->seq == seq && p->status == NB_EAGAIN)
            return p;
    return NULL;
}

static u8_t on_raw(void *arg, struct raw_pcb *pcb, struct pbuf *pb, const ip_addr_t *addr)
{
    (void)arg;
    uint8_t hdr[48 + 8];
    bool v6 = pcb == pcb6;
    size_t iphl;
    uint8_t ttl;
    if (!v6) {
        if (pb->tot_len < 20 + 8)
            return 0;
        pbuf_copy_partial(pb, hdr, 20, 0);
        iphl = (size_t)(hdr[0] & 0x0F) * 4;
        ttl = hdr[8];
    } else {
        if (pb->tot_len < 40 + 8)
            return 0;
        pbuf_copy_partial(pb, hdr, 40, 0);
        iphl = 40;
        ttl = hdr[7];
    }
    if (iphl < 20 || pb->tot_len < iphl + 8)
        return 0;
    uint8_t icmp[8];
    pbuf_copy_partial(pb, icmp, 8, (u16_t)iphl);
    uint8_t want = v6 ? ICMP6_TYPE_EREP : ICMP_ER;
    if (icmp[0] != want || icmp[1] != 0)
        return 0;
    struct nb_ping *p = find(nb_be16(icmp + 4), nb_be16(icmp + 6));
    if (!p)
        return 0; /* someone else's reply */
    p->res.rtt_ns = nb_clock_ns() - p->sent_at;
    p->res.bytes = (uint32_t)(pb->tot_len - iphl - 8);
    p->res.ttl = ttl;
    inet_from_lwip(addr, 0, &p->res.from);
    pbuf_free(pb);
    ping_finish(p, 0);
    return 1;
}

static void timeout_fired(struct nb_timer *t)
{
    ping_finish(NB_CONTAINER_OF(t, struct nb_ping, timer), NB_ETIMEDOUT);
}

static void notify_work(struct nb_work *w)
{
    struct nb_ping *p = NB_CONTAINER_OF(w, struct nb_ping, work);
    if (p->done)
        p->done(p, p->arg);
}

static struct raw_pcb *pcb_for(bool v6)
{
    struct raw_pcb **pp = v6 ? &pcb6 : &pcb4;
    if (!*pp) {
        struct raw_pcb *r = v6 ? raw_new_ip_type(IPADDR_TYPE_V6, IP6_NEXTH_ICMP6)
                               : raw_new_ip_type(IPADDR_TYPE_V4, IP_PROTO_ICMP);
        if (!r)
            return NULL;
        if (v6) {
            /* lwIP fills the ICMPv6 checksum (needs the pseudo-header). */
            r->chksum_reqd = 1;
            r->chksum_offset = 2;
        }
        raw_recv(r, on_raw, NULL);
        *pp = r;
    }
    return *pp;
}

int nb_ping_start(struct nb_stack *st, const struct nb_addr *dst, uint16_t seq,
                  size_t payload, uint64_t timeout_ns, nb_ping_done_fn done, void *arg,
                  struct nb_ping **out)
{
    *out = NULL;
    struct inet_ns *ns = inet_ns_of(st);
    if (!ns || inet_claim(ns, "ping") != 0)
        return NB_EAFNOSUPPORT;
    if (dst->family != NB_AF_INET && dst->family != NB_AF_INET6)
        return NB_EAFNOSUPPORT;
    if (payload > PING_MAX_PAYLOAD)
        return NB_EMSGSIZE;
    bool v6 = dst->family == NB_AF_INET6;
    struct raw_pcb *r = pcb_for(v6);
    if (!r)
        return NB_ENOBUFS;
    struct nb_ping *p = calloc(1, sizeof *p);
    if (!p)
        return NB_ENOMEM;
    p->status = NB_EAGAIN;
    p->dst = *dst;
    p->seq = seq;
    p->id = ++next_id;
    while (find(p->id, seq))
        p->id = ++next_id;
    p->done = done;
    p->arg = arg;
    nb_timer_init(&p->timer, timeout_fired);
    nb_work_init(&p->work, notify_work);

    struct pbuf *pb = pbuf_alloc(PBUF_IP, (u16_t)(8 + payload), PBUF_RAM);
    if (!pb) {
        free(p);
        return NB_ENOBUFS;
    }
    uint8_t icmp[8] = {v6 ? ICMP6_TYPE_EREQ : ICMP_ECHO, 0, 0, 0};
    nb_put_be16(icmp + 4, p->id);
    nb_put_be16(icmp + 6, seq);
    pbuf_take(pb, icmp, 8);
    for (size_t i = 0; i < payload; i++) {
        uint8_t b = (uint8_t)(i & 0xFF);
        pbuf_take_at(pb, &b, 1, (u16_t)(8 + i));
    }
    if (!v6) {
        /* ICMPv4 checksum over the whole message */
        u16_t sum = inet_chksum_pbuf(pb);
        uint8_t c[2];
        memcpy(c, &sum, 2);
        pbuf_take_at(pb, c, 2, 2);
    }
    ip_addr_t ip;
    inet_to_lwip(dst, &ip);
    p->sent_at = nb_clock_ns();
    err_t e = raw_sendto(r, pb, &ip);
    pbuf_free(pb);
    if (e != ERR_OK) {
        free(p);
        inet_leave();
        return inet_err(e);
    }
    p->next = pings;
    if (pings)
        pings->prev = p;
    pings = p;
    nb_timer_arm_in(&p->timer, timeout_ns ? timeout_ns : PING_TIMEOUT_DEFAULT);
    inet_leave();
    *out = p;
    return 0;
}

int nb_ping_poll(struct nb_ping *p, struct nb_ping_result *res)
{
    if (res && p->status == 0)
        *res = p->res;
    return p->status;
}

void nb_ping_free(struct nb_ping *p)
{
    if (!p)
        return;
    nb_timer_cancel(&p->timer);
    nb_work_cancel(&p->work);
    if (p->prev)
        p->prev->next = p->next;
    else
        pings = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
}

static bool ping_done(void *arg)
{
    return ((struct nb_ping *)arg)->status != NB_EAGAIN;
}

int nb_ping(struct nb_stack *st, const struct nb_addr *dst, uint16_t seq, size_t payload,
            uint64_t timeout_ns, struct nb_ping_result *res)
{
    struct nb_ping *p;
    int rc = nb_ping_start(st, dst, seq, payload, timeout_ns, NULL, NULL, &p);
    if (rc)
        return rc;
    rc = nb_loop_run_until(ping_done, p, NB_FOREVER);
    if (rc == 0)
        rc = nb_ping_poll(p, res);
    nb_ping_free(p);
    return rc;
}

void inet_ping_fini(void)
{
    while (pings)
        nb_ping_free(pings);
    if (pcb4)
        raw_remove(pcb4);
    if (pcb6)
        raw_remove(pcb6);
    pcb4 = pcb6 = NULL;
}
