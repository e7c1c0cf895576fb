/*
 * DNS lookups over lwIP's resolver (lwip/dns.c: random ids and source
 * ports, retries with back-off, failover between up to three servers, a
 * TTL cache), wrapped into NeoBoot's start/poll/free handles.
 *
 * lwIP answers one address per family and holds our callback argument
 * until it answers or gives up (~11 s per server), with no way to cancel.
 * So a query object outlives its handle while lwIP still references it:
 * nb_dns_free() marks it, the last lwIP callback frees it. Our own
 * deadline (default 5 s) decides NB_ETIMEDOUT, so the caller's wait is
 * bounded by what it asked for, not by lwIP's schedule. lwIP reports
 * NXDOMAIN and "no such record" as a NULL address before its own
 * timeout: that is NB_ENOENT.
 *
 * Completion callbacks run from loop work, never inside lwIP or inside
 * nb_dns_start.
 */
#include "inet_priv.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include "lwip/dns.h"

#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(dns);

/* lwIP gives up on a server after 1+1+2+3+4 s (DNS_MAX_RETRIES 5). */
#define LWIP_DNS_GIVEUP_NS (10 * NB_NS_PER_S)

struct lookup {
    struct nb_dns_query *q;
    bool pending;      /* lwIP holds a pointer to this */
    bool done;
    int status;
    struct nb_addr addr;
};

struct nb_dns_query {
    int status;        /* NB_EAGAIN until finished */
    bool finished, freed;
    struct lookup lk[2]; /* [0] A, [1] AAAA */
    unsigned nlk;
    nb_dns_done_fn done;
    void *arg;
    uint64_t started;
    struct nb_timer timer;
    struct nb_work work;
    struct nb_dns_query *next, *prev; /* all live queries */
    char name[DNS_MAX_NAME_LENGTH];
};

static struct nb_dns_query *queries;

static void query_unlink_free(struct nb_dns_query *q)
{
    nb_timer_cancel(&q->timer);
    nb_work_cancel(&q->work);
    if (q->prev)
        q->prev->next = q->next;
    else
        queries = q->next;
    if (q->next)
        q->next->prev = q->prev;
    free(q);
}

static bool lwip_holds(const struct nb_dns_query *q)
{
    return q->lk[0].pending || q->lk[1].pending;
}

static void notify_work(struct nb_work *w)
{
    struct nb_dns_query *q = NB_CONTAINER_OF(w, struct nb_dns_query, work);
    if (q->done && !q->freed)
        q->done(q, q->arg);
}

static void finish(struct nb_dns_query *q, int status)
{
    if (q->finished)
        return;
    q->finished = true;
    q->status = status;
    nb_timer_cancel(&q->timer);
    if (q->done && !q->freed)
        nb_work_post(&q->work);
}

/* Decide once every lookup is done, or on the deadline. */
static void evaluate(struct nb_dns_query *q, bool deadline)
{
    if (q->finished)
        return;
    int found = 0, timedout = 0, other = 0;
    unsigned done = 0;
    for (unsigned i = 0; i < q->nlk; i++) {
        const struct lookup *l = &q->lk[i];
        if (!l->done)
            continue;
        done++;
        if (l->status == 0)
            found++;
        else if (l->status == NB_ETIMEDOUT)
            timedout++;
        else
            other = l->status;
    }
    if (done < q->nlk && !deadline)
        return;
    if (found)
        finish(q, 0);
    else if (deadline || timedout)
        finish(q, NB_ETIMEDOUT);
    else
        finish(q, other ? other : NB_ENOENT);
}

static void on_found(const char *name, const ip_addr_t *ip, void *arg)
{
    struct lookup *l = arg;
    struct nb_dns_query *q = l->q;
    (void)name;
    l->pending = false;
    if (q->freed && !lwip_holds(q)) {
        query_unlink_free(q);
        return;
    }
    if (l->done)
        return;
    l->done = true;
    if (ip) {
        l->status = 0;
        inet_from_lwip(ip, 0, &l->addr);
    } else {
        /* lwIP's NULL means "no answer": NXDOMAIN or no such record if it
         * came early, its own give-up if it came late. */
        uint64_t elapsed = nb_clock_ns() - q->started;
        l->status = elapsed >= LWIP_DNS_GIVEUP_NS ? NB_ETIMEDOUT : NB_ENOENT;
    }
    NB_DEBUG("%s (%s): %s", q->name, l == &q->lk[0] && q->nlk == 2 ? "A" : "lookup",
             l->status ? nb_strerror(l->status) : "found");
    evaluate(q, false);
}

static void deadline_fired(struct nb_timer *t)
{
    struct nb_dns_query *q = NB_CONTAINER_OF(t, struct nb_dns_query, timer);
    NB_DEBUG("%s: no answer in time", q->name);
    evaluate(q, true);
}

static int start_lookup(struct nb_dns_query *q, struct lookup *l, u8_t type)
{
    ip_addr_t ip;
    l->q = q;
    l->pending = true;
    err_t e = dns_gethostbyname_addrtype(q->name, &ip, on_found, l, type);
    if (e == ERR_INPROGRESS)
        return 0; /* answered later (possibly already, synchronously) */
    l->pending = false;
    if (e == ERR_OK) {
        l->done = true;
        l->status = 0;
        inet_from_lwip(&ip, 0, &l->addr);
        return 0;
    }
    l->done = true;
    l->status = e == ERR_VAL ? NB_ENETUNREACH : e == ERR_MEM ? NB_ENOBUFS : NB_EINVAL;
    return l->status;
}

int nb_dns_start(struct nb_stack *st, const char *name, int family, uint64_t timeout_ns,
                 nb_dns_done_fn done, void *arg, struct nb_dns_query **out)
{
    *out = NULL;
    struct inet_ns *ns = inet_ns_of(st);
    if (!ns || inet_claim(ns, "DNS lookup") != 0)
        return NB_EAFNOSUPPORT;
    if (family != 0 && family != NB_AF_INET && family != NB_AF_INET6)
        return NB_EAFNOSUPPORT;
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len >= DNS_MAX_NAME_LENGTH)
        return NB_EINVAL;
    struct nb_dns_query *q = calloc(1, sizeof *q);
    if (!q)
        return NB_ENOMEM;
    memcpy(q->name, name, len + 1);
    q->status = NB_EAGAIN;
    q->done = done;
    q->arg = arg;
    q->started = nb_clock_ns();
    nb_timer_init(&q->timer, deadline_fired);
    nb_work_init(&q->work, notify_work);
    q->next = queries;
    if (queries)
        queries->prev = q;
    queries = q;
    nb_timer_arm_in(&q->timer, timeout_ns ? timeout_ns : NB_DNS_TIMEOUT_DEFAULT);

    int rc4 = 0, rc6 = 0;
    q->nlk = family == 0 ? 2 : 1;
    if (family == NB_AF_INET || family == 0)
        rc4 = start_lookup(q, &q->lk[0], LWIP_DNS_ADDRTYPE_IPV4);
    if (family == NB_AF_INET6)
        rc6 = start_lookup(q, &q->lk[0], LWIP_DNS_ADDRTYPE_IPV6);
    else if (family == 0)
        rc6 = start_lookup(q, &q->lk[1], LWIP_DNS_ADDRTYPE_IPV6);
    int rc = rc4 ? rc4 : rc6;
    if (rc == NB_ENOBUFS || rc == NB_EINVAL) {
        /* Refused outright: no handle. */
        if (lwip_holds(q)) {
            q->freed = true;
            nb_timer_cancel(&q->timer);
        } else {
            query_unlink_free(q);
        }
        inet_leave();
        return rc;
    }
    evaluate(q, false);
    inet_leave();
    *out = q;
    return 0;
}

int nb_dns_poll(struct nb_dns_query *q, struct nb_dns_result *res)
{
    if (!q->finished)
        return NB_EAGAIN;
    if (res) {
        memset(res, 0, sizeof *res);
        for (unsigned i = 0; i < q->nlk; i++)
            if (q->lk[i].done && q->lk[i].status == 0 && res->n < NB_DNS_MAX_ADDRS)
                res->addrs[res->n++] = q->lk[i].addr;
    }
    return q->status;
}

void nb_dns_free(struct nb_dns_query *q)
{
    if (!q)
        return;
    q->freed = true;
    nb_timer_cancel(&q->timer);
    nb_work_cancel(&q->work);
    if (!lwip_holds(q))
        query_unlink_free(q);
}

static bool query_done(void *arg)
{
    return ((struct nb_dns_query *)arg)->finished;
}

int nb_dns_resolve(struct nb_stack *st, const char *name, int family, uint64_t timeout_ns,
                   struct nb_dns_result *res)
{
    struct nb_dns_query *q;
    int rc = nb_dns_start(st, name, family, timeout_ns, NULL, NULL, &q);
    if (rc)
        return rc;
    rc = nb_loop_run_until(query_done, q, NB_FOREVER);
    if (rc == 0)
        rc = nb_dns_poll(q, res);
    nb_dns_free(q);
    return rc;
}

void inet_dns_fini(void)
{
    /* Queries lwIP still references stay (freed by its last callback,
     * which needs no stack); the rest go. Handles are invalid now. */
    struct nb_dns_query *q = queries;
    while (q) {
        struct nb_dns_query *next = q->next;
        q->freed = true;
        q->done = NULL;
        nb_timer_cancel(&q->timer);
        nb_work_cancel(&q->work);
        if (!lwip_holds(q))
            query_unlink_free(q);
        q = next;
    }
}
