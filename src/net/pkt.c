/*
 * Packet buffers: one allocation each (header + buffer), all counted
 * against a global byte limit so network input cannot exhaust memory.
 */
#include <neoboot/pkt.h>

#include <stdlib.h>
#include <string.h>

static struct nb_pkt_stats pkt_stats = {.limit_bytes = 64ull << 20};

struct nb_pkt *nb_pkt_alloc(size_t headroom, size_t len)
{
    size_t cap = headroom + len;
    if (cap < len || cap > UINT32_MAX - sizeof(struct nb_pkt)) {
        pkt_stats.alloc_fail++;
        return NULL;
    }
    if (pkt_stats.live_bytes + cap > pkt_stats.limit_bytes) {
        pkt_stats.alloc_fail++;
        return NULL;
    }
    struct nb_pkt *p = malloc(sizeof *p + cap);
    if (!p) {
        pkt_stats.alloc_fail++;
        return NULL;
    }
    p->next = NULL;
    p->cap = (uint32_t)cap;
    p->data = p->buf + headroom;
    p->len = (uint32_t)len;
    p->iface = NULL;
    p->stamp_ns = 0;
    pkt_stats.live++;
    pkt_stats.live_bytes += cap;
    if (pkt_stats.live_bytes > pkt_stats.peak_bytes)
        pkt_stats.peak_bytes = pkt_stats.live_bytes;
    return p;
}

void nb_pkt_free(struct nb_pkt *p)
{
    if (!p)
        return;
    pkt_stats.live--;
    pkt_stats.live_bytes -= p->cap;
    free(p);
}

struct nb_pkt *nb_pkt_clone(const struct nb_pkt *p)
{
    size_t head = (size_t)(p->data - p->buf);
    struct nb_pkt *c = nb_pkt_alloc(head, p->cap - head);
    if (!c)
        return NULL;
    memcpy(c->data, p->data, p->len);
    c->len = p->len;
    c->iface = p->iface;
    c->stamp_ns = p->stamp_ns;
    return c;
}

uint8_t *nb_pkt_push(struct nb_pkt *p, size_t n)
{
    if (n > (size_t)(p->data - p->buf))
        return NULL;
    p->data -= n;
    p->len += (uint32_t)n;
    return p->data;
}

uint8_t *nb_pkt_pull(struct nb_pkt *p, size_t n)
{
    if (n > p->len)
        return NULL;
    p->data += n;
    p->len -= (uint32_t)n;
    return p->data;
}

void nb_pkt_trim(struct nb_pkt *p, size_t len)
{
    if (len < p->len)
        p->len = (uint32_t)len;
}

void nb_pkt_get_stats(struct nb_pkt_stats *out)
{
    *out = pkt_stats;
}

void nb_pkt_set_limit(uint64_t bytes)
{
    pkt_stats.limit_bytes = bytes;
}

bool nb_pktq_push(struct nb_pktq *q, struct nb_pkt *p)
{
    if (nb_pktq_full(q))
        return false;
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    q->count++;
    q->bytes += p->len;
    return true;
}

void nb_pktq_push_front(struct nb_pktq *q, struct nb_pkt *p)
{
    p->next = q->head;
    q->head = p;
    if (!q->tail)
        q->tail = p;
    q->count++;
    q->bytes += p->len;
}

struct nb_pkt *nb_pktq_pop(struct nb_pktq *q)
{
    struct nb_pkt *p = q->head;
    if (!p)
        return NULL;
    q->head = p->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    q->bytes -= p->len;
    p->next = NULL;
    return p;
}

void nb_pktq_purge(struct nb_pktq *q)
{
    struct nb_pkt *p;
    while ((p = nb_pktq_pop(q)))
        nb_pkt_free(p);
}
