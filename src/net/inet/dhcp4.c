/*
 * The DHCPv4 client (RFC 2131), one per interface, on an lwIP UDP pcb
 * bound to port 68 on that netif.
 *
 * NeoBoot has its own client instead of lwIP's because lwIP counts lease
 * time in one-minute ticks: renewal could not happen before a minute, and
 * lease times could not be reported exactly. Here every deadline is an
 * nb_timer with nanosecond precision, so short leases (tests, netboot
 * labs) behave as granted.
 *
 *   SELECTING --OFFER--> REQUESTING --ACK--> BOUND --T1--> RENEWING
 *       ^                    |NAK/4 tries        ^   ACK    |T2
 *       +--------------------+--------------------+------ REBINDING
 *                         lease expiry / NAK          (broadcast)
 *
 * Retransmissions back off 1, 2, 4 ... 32 s in SELECTING/REQUESTING; while
 * renewing or rebinding, a request goes out at half the time left (at
 * least 1 s apart). Replies are checked (xid, our MAC, magic cookie,
 * option bounds) before anything is believed; the lease's DNS servers go
 * to lwIP's resolver unless servers were set by hand.
 */
#include "inet_priv.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include "lwip/dns.h"
#include "lwip/udp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(dhcp);

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define BOOTP_FIXED 236
#define MAGIC 0x63825363u
#define MSG_MAX 576

enum {
    DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE,
};

enum {
    OPT_PAD = 0, OPT_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_HOSTNAME = 12,
    OPT_REQ_IP = 50, OPT_LEASE = 51, OPT_OVERLOAD = 52, OPT_MSGTYPE = 53,
    OPT_SERVER_ID = 54, OPT_PARAMS = 55, OPT_MAXSIZE = 57, OPT_T1 = 58, OPT_T2 = 59,
    OPT_CLIENT_ID = 61, OPT_BOOTFILE = 67, OPT_END = 255,
};

struct dhcp4 {
    struct inet_if *ii;
    struct udp_pcb *pcb;
    uint8_t state;           /* enum nb_dhcp_state */
    uint32_t xid;
    unsigned tries;
    uint8_t offered[4], server[4];
    uint8_t ip[4], mask[4], gw[4];
    uint8_t dns[NB_INET_MAX_DNS][4];
    unsigned ndns;
    uint32_t lease_s, t1_s, t2_s;
    uint64_t sent_at;        /* when the current exchange started */
    uint64_t bound_at;       /* lease times count from here */
    uint32_t acks;
    /* network boot: where a boot program should look (BOOTP file / option
     * 67, and the next server, siaddr) */
    char boot_file[NB_INET_BOOT_FILE_MAX];
    uint8_t next_server[4];
    struct nb_timer timer;
};

/* What a reply said, once validated. */
struct reply {
    uint8_t type;
    uint8_t yiaddr[4];
    bool has_server, has_mask, has_router, has_lease, has_t1, has_t2;
    uint8_t server[4], mask[4], router[4];
    uint8_t dns[NB_INET_MAX_DNS][4];
    unsigned ndns;
    uint32_t lease, t1, t2;
    char boot_file[NB_INET_BOOT_FILE_MAX]; /* option 67, or the file field */
    bool has_bootfile_opt;
    uint8_t siaddr[4];
};

const char *nb_dhcp_state_name(int state)
{
    static const char *const names[] = {"off", "selecting", "requesting", "bound",
                                        "renewing", "rebinding"};
    return state >= 0 && state < (int)NB_ARRAY_SIZE(names) ? names[state] : "?";
}

static const char *ifname(const struct dhcp4 *d)
{
    return d->ii->ifc->name;
}

static char *ip4_text(const uint8_t ip[4], char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    return buf;
}

static void set_state(struct dhcp4 *d, uint8_t state)
{
    if (d->state != state)
        NB_DEBUG("%s: %s -> %s", ifname(d), nb_dhcp_state_name(d->state),
                 nb_dhcp_state_name(state));
    d->state = state;
    inet_config_changed();
}

/* --- sending --- */

static uint8_t *opt_put(uint8_t *o, const uint8_t *end, uint8_t code, const void *val,
                        uint8_t len)
{
    if (!o || o + 2 + len > end)
        return NULL;
    *o++ = code;
    *o++ = len;
    memcpy(o, val, len);
    return o + len;
}

static void dhcp_send(struct dhcp4 *d, uint8_t type)
{
    struct netif *nif = &d->ii->nif;
    uint8_t msg[MSG_MAX];
    memset(msg, 0, sizeof msg);
    msg[0] = 1; /* BOOTREQUEST */
    msg[1] = 1; /* Ethernet */
    msg[2] = 6;
    nb_put_be32(msg + 4, d->xid);
    uint64_t secs = (nb_clock_ns() - d->sent_at) / NB_NS_PER_S;
    nb_put_be16(msg + 8, (uint16_t)NB_MIN(secs, 0xFFFFu));
    bool have_ip = d->state == NB_DHCP_RENEWING || d->state == NB_DHCP_REBINDING ||
                   type == DHCPRELEASE;
    if (have_ip)
        memcpy(msg + 12, d->ip, 4); /* ciaddr */
    memcpy(msg + 28, nif->hwaddr, 6);
    nb_put_be32(msg + BOOTP_FIXED, MAGIC);
    uint8_t *o = msg + BOOTP_FIXED + 4, *end = msg + sizeof msg - 1;
    o = opt_put(o, end, OPT_MSGTYPE, &type, 1);
    uint8_t cid[7] = {1};
    memcpy(cid + 1, nif->hwaddr, 6);
    o = opt_put(o, end, OPT_CLIENT_ID, cid, sizeof cid);
    if (type == DHCPREQUEST && d->state == NB_DHCP_REQUESTING) {
        o = opt_put(o, end, OPT_REQ_IP, d->offered, 4);
        o = opt_put(o, end, OPT_SERVER_ID, d->server, 4);
    }
    if (type == DHCPRELEASE)
        o = opt_put(o, end, OPT_SERVER_ID, d->server, 4);
    if (type == DHCPDISCOVER || type == DHCPREQUEST) {
        static const uint8_t params[] = {OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE, OPT_T1, OPT_T2};
        o = opt_put(o, end, OPT_PARAMS, params, sizeof params);
        uint8_t maxsize[2];
        nb_put_be16(maxsize, MSG_MAX);
        o = opt_put(o, end, OPT_MAXSIZE, maxsize, 2);
        o = opt_put(o, end, OPT_HOSTNAME, "neoboot", 7);
    }
    if (!o)
        return;
    *o++ = OPT_END;
    size_t len = (size_t)(o - msg);
    if (len < 300)
        len = 300; /* BOOTP's minimum, for old relays */

    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p)
        return;
    pbuf_take(p, msg, (u16_t)len);
    ip_addr_t dst, src;
    bool unicast = (d->state == NB_DHCP_RENEWING || type == DHCPRELEASE);
    if (unicast)
        IP_ADDR4(&dst, d->server[0], d->server[1], d->server[2], d->server[3]);
    else
        ip_addr_set_ip4_u32_val(dst, IPADDR_BROADCAST);
    if (have_ip)
        IP_ADDR4(&src, d->ip[0], d->ip[1], d->ip[2], d->ip[3]);
    else
        ip_addr_set_zero_ip4(&src);
    err_t e = udp_sendto_if_src(d->pcb, p, &dst, DHCP_SERVER_PORT, nif, &src);
    pbuf_free(p);
    if (e != ERR_OK)
        NB_DEBUG("%s: send failed: %d", ifname(d), (int)e);
}

/* --- address --- */

static void apply_lease(struct dhcp4 *d)
{
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, d->ip[0], d->ip[1], d->ip[2], d->ip[3]);
    IP4_ADDR(&mask, d->mask[0], d->mask[1], d->mask[2], d->mask[3]);
    IP4_ADDR(&gw, d->gw[0], d->gw[1], d->gw[2], d->gw[3]);
    netif_set_addr(&d->ii->nif, &ip, &mask, &gw);
    if (!g_inet.dns_manual) {
        for (unsigned i = 0; i < DNS_MAX_SERVERS; i++) {
            ip_addr_t s;
            if (i < d->ndns)
                IP_ADDR4(&s, d->dns[i][0], d->dns[i][1], d->dns[i][2], d->dns[i][3]);
            else
                ip_addr_set_zero(&s);
            dns_setserver((u8_t)i, &s);
        }
    }
}

static void drop_lease(struct dhcp4 *d)
{
    if (d->ip[0] | d->ip[1] | d->ip[2] | d->ip[3]) {
        netif_set_addr(&d->ii->nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
        if (!g_inet.dns_manual)
            for (unsigned i = 0; i < DNS_MAX_SERVERS; i++)
                dns_setserver((u8_t)i, NULL);
    }
    memset(d->ip, 0, 4);
    memset(d->mask, 0, 4);
    memset(d->gw, 0, 4);
    d->ndns = 0;
    d->lease_s = d->t1_s = d->t2_s = 0;
}

/* --- timing --- */

static uint64_t jitter(void)
{
    return (uint64_t)(nb_lwip_rand() % 500) * NB_NS_PER_MS;
}

static void arm_backoff(struct dhcp4 *d)
{
    unsigned shift = NB_MIN(d->tries, 5u);
    nb_timer_arm_in(&d->timer, (NB_NS_PER_S << shift) + jitter());
    d->tries++;
}

static uint64_t at(const struct dhcp4 *d, uint32_t secs)
{
    return d->bound_at + (uint64_t)secs * NB_NS_PER_S;
}

/* While renewing/rebinding: next try at half the time left before
 * `limit`, at least a second apart, never past limit. */
static void arm_half(struct dhcp4 *d, uint64_t limit)
{
    uint64_t now = nb_clock_ns();
    uint64_t next = limit;
    if (limit > now) {
        uint64_t half = (limit - now) / 2;
        if (half < NB_NS_PER_S)
            half = NB_NS_PER_S;
        if (now + half < limit)
            next = now + half;
    }
    nb_timer_arm(&d->timer, next);
}

static void new_exchange(struct dhcp4 *d)
{
    d->xid = nb_lwip_rand();
    d->tries = 0;
    d->sent_at = nb_clock_ns();
}

static void start_selecting(struct dhcp4 *d)
{
    set_state(d, NB_DHCP_SELECTING);
    new_exchange(d);
    dhcp_send(d, DHCPDISCOVER);
    arm_backoff(d);
}

static void dhcp_timer(struct nb_timer *t)
{
    struct dhcp4 *d = NB_CONTAINER_OF(t, struct dhcp4, timer);
    uint64_t now = nb_clock_ns();
    switch (d->state) {
    case NB_DHCP_SELECTING:
        dhcp_send(d, DHCPDISCOVER);
        arm_backoff(d);
        break;
    case NB_DHCP_REQUESTING:
        if (d->tries >= 4) {
            NB_INFO("%s: no answer to our request; starting over", ifname(d));
            start_selecting(d);
            break;
        }
        dhcp_send(d, DHCPREQUEST);
        arm_backoff(d);
        break;
    case NB_DHCP_BOUND:
        set_state(d, NB_DHCP_RENEWING);
        new_exchange(d);
        dhcp_send(d, DHCPREQUEST);
        arm_half(d, at(d, d->t2_s));
        break;
    case NB_DHCP_RENEWING:
        if (now >= at(d, d->t2_s)) {
            set_state(d, NB_DHCP_REBINDING);
            new_exchange(d);
        }
        dhcp_send(d, DHCPREQUEST);
        arm_half(d, d->state == NB_DHCP_RENEWING ? at(d, d->t2_s) : at(d, d->lease_s));
        break;
    case NB_DHCP_REBINDING:
        if (now >= at(d, d->lease_s)) {
            char text[20];
            NB_WARN("%s: lease of %s expired", ifname(d), ip4_text(d->ip, text, sizeof text));
            drop_lease(d);
            start_selecting(d);
            break;
        }
        dhcp_send(d, DHCPREQUEST);
        arm_half(d, at(d, d->lease_s));
        break;
    default:
        break;
    }
    inet_leave();
}

/* --- receiving --- */

static bool parse_options(const uint8_t *o, size_t len, struct reply *r, uint8_t *overload)
{
    size_t i = 0;
    while (i < len) {
        uint8_t code = o[i++];
        if (code == OPT_PAD)
            continue;
        if (code == OPT_END)
            return true;
        if (i >= len)
            return false;
        uint8_t n = o[i++];
        if (n > len - i)
            return false;
        const uint8_t *v = o + i;
        switch (code) {
        case OPT_MSGTYPE:
            if (n == 1)
                r->type = v[0];
            break;
        case OPT_MASK:
            if (n == 4) {
                memcpy(r->mask, v, 4);
                r->has_mask = true;
            }
            break;
        case OPT_ROUTER:
            if (n >= 4) {
                memcpy(r->router, v, 4);
                r->has_router = true;
            }
            break;
        case OPT_DNS:
            for (unsigned k = 0; k + 4 <= n && r->ndns < NB_INET_MAX_DNS; k += 4)
                memcpy(r->dns[r->ndns++], v + k, 4);
            break;
        case OPT_SERVER_ID:
            if (n == 4) {
                memcpy(r->server, v, 4);
                r->has_server = true;
            }
            break;
        case OPT_LEASE:
            if (n == 4) {
                r->lease = nb_be32(v);
                r->has_lease = true;
            }
            break;
        case OPT_T1:
            if (n == 4) {
                r->t1 = nb_be32(v);
                r->has_t1 = true;
            }
            break;
        case OPT_T2:
            if (n == 4) {
                r->t2 = nb_be32(v);
                r->has_t2 = true;
            }
            break;
        case OPT_BOOTFILE:
            /* printable text only: it ends up in logs and a guest's hands */
            if (n > 0 && n < NB_INET_BOOT_FILE_MAX) {
                bool ok = true;
                for (unsigned k = 0; k < n; k++)
                    if ((v[k] < 0x20 || v[k] >= 0x7f) && !(v[k] == 0 && k == n - 1u))
                        ok = false; /* only a final NUL is allowed */
                if (ok) {
                    memcpy(r->boot_file, v, n);
                    r->boot_file[n] = 0;
                    r->has_bootfile_opt = true;
                }
            }
            break;
        case OPT_OVERLOAD:
            if (n == 1 && overload)
                *overload = v[0];
            break;
        default:
            break;
        }
        i += n;
    }
    return true; /* no END: tolerated, as many clients do */
}

static bool parse_reply(struct dhcp4 *d, const uint8_t *m, size_t len, struct reply *r)
{
    memset(r, 0, sizeof *r);
    if (len < BOOTP_FIXED + 4 || m[0] != 2 || m[1] != 1 || m[2] != 6)
        return false;
    if (nb_be32(m + 4) != d->xid || memcmp(m + 28, d->ii->nif.hwaddr, 6) != 0)
        return false;
    if (nb_be32(m + BOOTP_FIXED) != MAGIC)
        return false;
    memcpy(r->yiaddr, m + 16, 4);
    uint8_t overload = 0;
    if (!parse_options(m + BOOTP_FIXED + 4, len - BOOTP_FIXED - 4, r, &overload))
        return false;
    if (overload & 1)
        parse_options(m + 108, 128, r, NULL); /* file */
    if (overload & 2)
        parse_options(m + 44, 64, r, NULL);   /* sname */
    memcpy(r->siaddr, m + 20, 4);
    if (!(overload & 1) && !r->has_bootfile_opt && m[108]) {
        /* the BOOTP file field: NUL-terminated printable text */
        size_t k = 0;
        while (k < 128 && k + 1 < sizeof r->boot_file && m[108 + k] >= 0x20 && m[108 + k] < 0x7f)
            k++;
        if (k == 128 || m[108 + k] == 0) {
            memcpy(r->boot_file, m + 108, k);
            r->boot_file[k] = 0;
        }
    }
    return r->type != 0;
}

static void take_ack(struct dhcp4 *d, const struct reply *r)
{
    snprintf(d->boot_file, sizeof d->boot_file, "%s", r->boot_file);
    memcpy(d->next_server, r->siaddr, 4);
    bool renewal = d->state == NB_DHCP_RENEWING || d->state == NB_DHCP_REBINDING;
    bool changed = memcmp(d->ip, r->yiaddr, 4) != 0;
    memcpy(d->ip, r->yiaddr, 4);
    if (r->has_server)
        memcpy(d->server, r->server, 4);
    if (r->has_mask) {
        memcpy(d->mask, r->mask, 4);
    } else {
        /* classful default, as old servers expect */
        uint8_t c = d->ip[0];
        uint8_t m[4] = {255, c >= 128 ? 255 : 0, c >= 192 ? 255 : 0, 0};
        memcpy(d->mask, m, 4);
    }
    if (r->has_router)
        memcpy(d->gw, r->router, 4);
    else
        memset(d->gw, 0, 4);
    d->ndns = r->ndns;
    memcpy(d->dns, r->dns, sizeof d->dns);
    d->lease_s = r->has_lease ? r->lease : 3600;
    if (d->lease_s == 0)
        d->lease_s = 1;
    uint32_t infinite = 0xFFFFFFFFu;
    if (d->lease_s == infinite) {
        d->t1_s = d->t2_s = infinite;
    } else {
        d->t1_s = r->has_t1 ? r->t1 : d->lease_s / 2;
        d->t2_s = r->has_t2 ? r->t2 : (uint32_t)((uint64_t)d->lease_s * 7 / 8);
        if (d->t2_s > d->lease_s || d->t2_s == 0)
            d->t2_s = (uint32_t)((uint64_t)d->lease_s * 7 / 8);
        if (d->t1_s > d->t2_s || d->t1_s == 0)
            d->t1_s = d->t2_s / 2 ? d->t2_s / 2 : 1;
    }
    d->bound_at = d->sent_at;
    d->acks++;
    if (changed || !renewal)
        apply_lease(d);
    set_state(d, NB_DHCP_BOUND);
    nb_timer_cancel(&d->timer);
    if (d->lease_s != infinite)
        nb_timer_arm(&d->timer, at(d, d->t1_s));
    char a[20], g[20], s[20], n[20];
    unsigned prefix = 0;
    for (int i = 0; i < 4; i++)
        prefix += (unsigned)__builtin_popcount(d->mask[i]);
    NB_INFO("%s: DHCP %s %s/%u gw %s dns %s from %s, lease %u s (T1 %u s, T2 %u s)",
            ifname(d), renewal ? "renewed" : "bound", ip4_text(d->ip, a, sizeof a), prefix,
            ip4_text(d->gw, g, sizeof g),
            d->ndns ? ip4_text(d->dns[0], n, sizeof n) : "-",
            ip4_text(d->server, s, sizeof s), (unsigned)d->lease_s, (unsigned)d->t1_s,
            (unsigned)d->t2_s);
}

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                    u16_t port)
{
    struct dhcp4 *d = arg;
    (void)pcb;
    (void)addr;
    uint8_t msg[MSG_MAX * 2];
    size_t len = NB_MIN((size_t)p->tot_len, sizeof msg);
    pbuf_copy_partial(p, msg, (u16_t)len, 0);
    pbuf_free(p);
    struct reply r;
    if (port != DHCP_SERVER_PORT || !parse_reply(d, msg, len, &r))
        return;
    switch (d->state) {
    case NB_DHCP_SELECTING:
        if (r.type != DHCPOFFER || !r.has_server ||
            !(r.yiaddr[0] | r.yiaddr[1] | r.yiaddr[2] | r.yiaddr[3]))
            return;
        memcpy(d->offered, r.yiaddr, 4);
        memcpy(d->server, r.server, 4);
        set_state(d, NB_DHCP_REQUESTING);
        d->tries = 0;
        dhcp_send(d, DHCPREQUEST);
        arm_backoff(d);
        break;
    case NB_DHCP_REQUESTING:
    case NB_DHCP_RENEWING:
    case NB_DHCP_REBINDING:
        if (r.type == DHCPACK) {
            if (!(r.yiaddr[0] | r.yiaddr[1] | r.yiaddr[2] | r.yiaddr[3]))
                return;
            take_ack(d, &r);
        } else if (r.type == DHCPNAK) {
            NB_WARN("%s: DHCP server refused (NAK); starting over", ifname(d));
            drop_lease(d);
            nb_timer_cancel(&d->timer);
            start_selecting(d);
        }
        break;
    default:
        break;
    }
}

/* --- lifetime --- */

struct dhcp4 *inet_dhcp4_new(struct inet_if *ii)
{
    struct dhcp4 *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->ii = ii;
    d->pcb = udp_new_ip_type(IPADDR_TYPE_V4);
    if (!d->pcb) {
        free(d);
        return NULL;
    }
    ip_set_option(d->pcb, SOF_BROADCAST);
    ip_set_option(d->pcb, SOF_REUSEADDR);
    udp_bind_netif(d->pcb, &ii->nif);
    if (udp_bind(d->pcb, IP4_ADDR_ANY, DHCP_CLIENT_PORT) != ERR_OK) {
        udp_remove(d->pcb);
        free(d);
        return NULL;
    }
    udp_recv(d->pcb, on_recv, d);
    nb_timer_init(&d->timer, dhcp_timer);
    NB_INFO("%s: DHCP started", ii->ifc->name);
    start_selecting(d);
    return d;
}

void inet_dhcp4_free(struct dhcp4 *d, bool release)
{
    if (!d)
        return;
    if (release && (d->state == NB_DHCP_BOUND || d->state == NB_DHCP_RENEWING ||
                    d->state == NB_DHCP_REBINDING)) {
        char a[20];
        dhcp_send(d, DHCPRELEASE);
        NB_INFO("%s: DHCP lease of %s released", ifname(d), ip4_text(d->ip, a, sizeof a));
    }
    if (release)
        drop_lease(d);
    nb_timer_cancel(&d->timer);
    udp_remove(d->pcb);
    d->state = NB_DHCP_OFF;
    free(d);
    inet_config_changed();
}

int inet_dhcp4_renew(struct dhcp4 *d)
{
    if (d->state != NB_DHCP_BOUND && d->state != NB_DHCP_RENEWING)
        return NB_EINVAL;
    set_state(d, NB_DHCP_RENEWING);
    new_exchange(d);
    dhcp_send(d, DHCPREQUEST);
    arm_half(d, at(d, d->t2_s));
    return 0;
}

bool inet_dhcp4_bound(struct dhcp4 *d)
{
    return d && (d->state == NB_DHCP_BOUND || d->state == NB_DHCP_RENEWING ||
                 d->state == NB_DHCP_REBINDING);
}

void inet_dhcp4_status(struct dhcp4 *d, struct nb_inet_ifstatus *out)
{
    out->dhcp_state = d->state;
    memcpy(out->dhcp_server, d->server, 4);
    out->dhcp_acks = d->acks;
    snprintf(out->boot_file, sizeof out->boot_file, "%s", d->boot_file);
    memcpy(out->next_server, d->next_server, 4);
    if (inet_dhcp4_bound(d)) {
        out->lease_s = d->lease_s;
        out->t1_s = d->t1_s;
        out->t2_s = d->t2_s;
        if (d->lease_s == 0xFFFFFFFFu) {
            out->lease_left_s = 0xFFFFFFFFu;
        } else {
            uint64_t end = at(d, d->lease_s), now = nb_clock_ns();
            out->lease_left_s = end > now ? (uint32_t)((end - now) / NB_NS_PER_S) : 0;
        }
    }
}
