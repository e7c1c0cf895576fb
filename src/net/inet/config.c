/*
 * Interface configuration and status (include/neoboot/inet.h): static
 * IPv4/IPv6 addresses, the default route, DHCP control, DNS servers, and
 * the status records behind `ifconfig` and the ABI's network status.
 */
#include "inet_priv.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include "lwip/dns.h"
#include "lwip/nd6.h"
#include "lwip/priv/nd6_priv.h"

#include <stdio.h>
#include <string.h>

NB_LOG_MODULE(inet);

static uint32_t config_generation;

void inet_config_changed(void)
{
    config_generation++;
}

const char *nb_ip6_state_name(int state)
{
    switch (state) {
    case NB_IP6_TENTATIVE: return "tentative";
    case NB_IP6_PREFERRED: return "preferred";
    case NB_IP6_DEPRECATED: return "deprecated";
    case NB_IP6_DUPLICATED: return "duplicated";
    default: return "?";
    }
}

static unsigned prefix_of(const ip4_addr_t *mask)
{
    uint32_t m = lwip_ntohl(ip4_addr_get_u32(mask));
    return (unsigned)__builtin_popcount(m);
}

int nb_inet_iface_status(struct nb_iface *ifc, struct nb_inet_ifstatus *out)
{
    memset(out, 0, sizeof *out);
    struct inet_if *ii = inet_if_of(ifc);
    if (!ii)
        return NB_ENODEV;
    struct netif *n = &ii->nif;
    snprintf(out->name, sizeof out->name, "%s", ifc->name);
    out->index = netif_get_index(n);
    memcpy(out->mac, n->hwaddr, 6);
    out->mtu = n->mtu;
    out->up = netif_is_up(n) && ifc->up;
    out->link_up = netif_is_link_up(n) && ifc->link_up;
    out->is_default = netif_default == n;

    const ip4_addr_t *a4 = netif_ip4_addr(n);
    if (!ip4_addr_isany(a4)) {
        out->has_ip4 = true;
        memcpy(out->ip4, &a4->addr, 4);
        out->prefix4 = (uint8_t)prefix_of(netif_ip4_netmask(n));
        memcpy(out->gw4, &netif_ip4_gw(n)->addr, 4);
    }
    out->static4 = ii->static4;

    for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && out->n_ip6 < NB_INET_MAX_IP6; i++) {
        u8_t st = netif_ip6_addr_state(n, i);
        if (ip6_addr_isinvalid(st))
            continue;
        struct nb_inet_ip6 *r = &out->ip6[out->n_ip6++];
        const ip6_addr_t *a6 = netif_ip6_addr(n, i);
        memcpy(r->addr, a6->addr, 16);
        r->prefix_len = 64;
        r->link_local = ip6_addr_islinklocal(a6);
        r->state = ip6_addr_istentative(st) ? NB_IP6_TENTATIVE
                   : ip6_addr_isduplicated(st) ? NB_IP6_DUPLICATED
                   : ip6_addr_isdeprecated(st) ? NB_IP6_DEPRECATED
                                                : NB_IP6_PREFERRED;
#if LWIP_IPV6_ADDRESS_LIFETIMES
        u32_t valid = netif_ip6_addr_valid_life(n, i);
        u32_t pref = netif_ip6_addr_pref_life(n, i);
        bool isstatic = ip6_addr_life_isstatic(valid);
        r->valid_s = isstatic || ip6_addr_life_isinfinite(valid) ? UINT32_MAX : valid;
        r->preferred_s = isstatic || ip6_addr_life_isinfinite(pref) ? UINT32_MAX : pref;
        r->origin = r->link_local ? NB_IP6_LINKLOCAL : isstatic ? NB_IP6_STATIC : NB_IP6_SLAAC;
#else
        r->valid_s = r->preferred_s = UINT32_MAX;
        r->origin = r->link_local ? NB_IP6_LINKLOCAL : NB_IP6_STATIC;
#endif
    }
    for (int i = 0; i < LWIP_ND6_NUM_ROUTERS; i++) {
        const struct nd6_router_list_entry *rt = &default_router_list[i];
        if (rt->neighbor_entry && rt->neighbor_entry->netif == n && rt->invalidation_timer > 0) {
            out->has_gw6 = true;
            memcpy(out->gw6, rt->neighbor_entry->next_hop_address.addr, 16);
            break;
        }
    }
    if (ii->dhcp)
        inet_dhcp4_status(ii->dhcp, out);
    return 0;
}

/* --- configuration --- */

static int need_if(struct nb_iface *ifc, struct inet_if **out)
{
    *out = inet_if_of(ifc);
    return *out ? 0 : NB_ENODEV;
}

int nb_inet_set_ip4(struct nb_iface *ifc, const uint8_t ip[4], unsigned prefix,
                    const uint8_t gw[4])
{
    struct inet_if *ii;
    int rc = need_if(ifc, &ii);
    if (rc)
        return rc;
    if (prefix > 32)
        return NB_EINVAL;
    if (ii->dhcp) {
        inet_dhcp4_free(ii->dhcp, false);
        ii->dhcp = NULL;
    }
    ip4_addr_t a, m, g;
    IP4_ADDR(&a, ip[0], ip[1], ip[2], ip[3]);
    ip4_addr_set_u32(&m, prefix ? lwip_htonl(0xFFFFFFFFu << (32 - prefix)) : 0);
    if (gw)
        IP4_ADDR(&g, gw[0], gw[1], gw[2], gw[3]);
    else
        ip4_addr_set_zero(&g);
    netif_set_addr(&ii->nif, &a, &m, &g);
    ii->static4 = true;
    NB_INFO("%s: IPv4 %u.%u.%u.%u/%u%s", ifc->name, ip[0], ip[1], ip[2], ip[3], prefix,
            gw ? " with gateway" : "");
    inet_config_changed();
    inet_leave();
    return 0;
}

int nb_inet_clear_ip4(struct nb_iface *ifc)
{
    struct inet_if *ii;
    int rc = need_if(ifc, &ii);
    if (rc)
        return rc;
    if (ii->dhcp) {
        inet_dhcp4_free(ii->dhcp, true);
        ii->dhcp = NULL;
    }
    netif_set_addr(&ii->nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
    ii->static4 = false;
    inet_config_changed();
    inet_leave();
    return 0;
}

int nb_inet_add_ip6(struct nb_iface *ifc, const uint8_t ip[16])
{
    struct inet_if *ii;
    int rc = need_if(ifc, &ii);
    if (rc)
        return rc;
    ip6_addr_t a;
    memcpy(a.addr, ip, 16);
    ip6_addr_clear_zone(&a);
    if (ip6_addr_islinklocal(&a))
        ip6_addr_assign_zone(&a, IP6_UNICAST, &ii->nif);
    s8_t idx = -1;
    err_t e = netif_add_ip6_address(&ii->nif, &a, &idx);
    if (e != ERR_OK)
        return e == ERR_BUF ? NB_ENOSPC : inet_err(e);
    inet_config_changed();
    inet_leave();
    return 0;
}

int nb_inet_set_default(struct nb_iface *ifc)
{
    struct inet_if *ii;
    int rc = need_if(ifc, &ii);
    if (rc)
        return rc;
    netif_set_default(&ii->nif);
    inet_config_changed();
    return 0;
}

int nb_inet_dhcp_start(struct nb_iface *ifc)
{
    struct inet_if *ii;
    int rc = need_if(ifc, &ii);
    if (rc)
        return rc;
    if (ii->dhcp)
        return 0;
    if (ii->static4) {
        netif_set_addr(&ii->nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
        ii->static4 = false;
    }
    ii->dhcp = inet_dhcp4_new(ii);
    inet_leave();
    return ii->dhcp ? 0 : NB_ENOBUFS;
}

int nb_inet_dhcp_stop(struct nb_iface *ifc, bool release)
{
    struct inet_if *ii;
    int rc = need_if(ifc, &ii);
    if (rc)
        return rc;
    if (!ii->dhcp)
        return NB_EINVAL;
    inet_dhcp4_free(ii->dhcp, release);
    ii->dhcp = NULL;
    inet_leave();
    return 0;
}

int nb_inet_dhcp_renew(struct nb_iface *ifc)
{
    struct inet_if *ii;
    int rc = need_if(ifc, &ii);
    if (rc)
        return rc;
    if (!ii->dhcp)
        return NB_EINVAL;
    rc = inet_dhcp4_renew(ii->dhcp);
    inet_leave();
    return rc;
}

bool nb_inet_ready(struct nb_iface *ifc, int family)
{
    struct inet_if *ii = inet_if_of(ifc);
    if (!ii)
        return false;
    struct netif *n = &ii->nif;
    if (family == NB_AF_INET)
        return !ip4_addr_isany(netif_ip4_addr(n));
    for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
        if (ip6_addr_ispreferred(netif_ip6_addr_state(n, i)) &&
            !ip6_addr_islinklocal(netif_ip6_addr(n, i)))
            return true;
    return false;
}

struct ready_ctx {
    struct nb_iface *ifc;
    int family;
};

static bool ready_cond(void *arg)
{
    struct ready_ctx *c = arg;
    return nb_inet_ready(c->ifc, c->family);
}

int nb_inet_wait_ready(struct nb_iface *ifc, int family, uint64_t timeout_ns)
{
    if (!inet_if_of(ifc))
        return NB_ENODEV;
    struct ready_ctx c = {ifc, family};
    uint64_t now = nb_clock_ns();
    uint64_t deadline = timeout_ns > NB_FOREVER - now ? NB_FOREVER : now + timeout_ns;
    return nb_loop_run_until(ready_cond, &c, deadline);
}

int nb_inet_dns_set(unsigned index, const struct nb_addr *server)
{
    if (index >= DNS_MAX_SERVERS || index >= NB_INET_MAX_DNS)
        return NB_EINVAL;
    if (!g_inet.lwip_ready)
        return NB_ENETDOWN;
    if (server && server->family != NB_AF_INET && server->family != NB_AF_INET6)
        return NB_EAFNOSUPPORT;
    ip_addr_t ip;
    if (server)
        inet_to_lwip(server, &ip);
    else
        ip_addr_set_zero(&ip);
    dns_setserver((u8_t)index, &ip);
    g_inet.dns_manual = true;
    inet_config_changed();
    return 0;
}

int nb_inet_dns_get(unsigned index, struct nb_addr *out)
{
    if (index >= DNS_MAX_SERVERS || !g_inet.lwip_ready)
        return NB_ENOENT;
    const ip_addr_t *ip = dns_getserver((u8_t)index);
    if (!ip || ip_addr_isany(ip))
        return NB_ENOENT;
    inet_from_lwip(ip, 53, out);
    return 0;
}
