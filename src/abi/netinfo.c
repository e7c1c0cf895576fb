/*
 * Network status and name lookup for guests: the netif record
 * (docs/abi.md has its layout) and resolve().
 */
#include "abi_internal.h"

#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/inet.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include <string.h>

int nb_abi_netif_fill(struct nb_stack *st, int32_t index, uint8_t *out)
{
    if (index < 0)
        return NB_EINVAL;
    int32_t k = 0;
    struct nb_iface *ifc = nb_iface_first();
    for (; ifc; ifc = ifc->next)
        if (ifc->stack == st && k++ == index)
            break;
    if (!ifc)
        return NB_ENOENT;
    memset(out, 0, NB_ABI_NETIF_SIZE);
    size_t nl = 0;
    while (nl < 15 && ifc->name[nl])
        nl++;
    memcpy(out, ifc->name, nl);
    nb_put_le32(out + 16, (uint32_t)index + 1);
    memcpy(out + 20, ifc->mac, 6);
    out[26] = ifc->link == NB_LINK_VSOCK ? 2 : 1;
    out[27] = (uint8_t)((ifc->up ? 1 : 0) | (ifc->link_up ? 2 : 0));
    nb_put_le32(out + 28, ifc->mtu);
    if (ifc->link == NB_LINK_VSOCK) {
        nb_put_le32(out + 32, (uint32_t)ifc->vsock_cid);
        return 0;
    }
    struct nb_inet_ifstatus st4;
    if (nb_inet_iface_status(ifc, &st4) != 0)
        return 0;
    nb_put_le32(out + 16, st4.index);
    out[27] |= (uint8_t)((st4.is_default ? 4 : 0) | (st4.static4 ? 8 : 0));
    nb_put_le32(out + 28, st4.mtu);
    if (st4.has_ip4) {
        memcpy(out + 36, st4.ip4, 4);
        out[40] = st4.prefix4;
        memcpy(out + 44, st4.gw4, 4);
    }
    out[41] = st4.dhcp_state;
    memcpy(out + 48, st4.dhcp_server, 4);
    nb_put_le32(out + 52, st4.lease_s);
    nb_put_le32(out + 56, st4.lease_left_s);
    for (unsigned d = 0; d < 3; d++) {
        struct nb_addr dns;
        if (nb_inet_dns_get(d, &dns) == 0 && dns.family == NB_AF_INET)
            memcpy(out + 60 + 4 * d, dns.u.ip4, 4);
    }
    uint32_t n6 = st4.n_ip6 < 4 ? st4.n_ip6 : 4;
    out[42] = (uint8_t)n6;
    for (uint32_t j = 0; j < n6; j++) {
        uint8_t *e = out + 72 + 20 * j;
        memcpy(e, st4.ip6[j].addr, 16);
        e[16] = st4.ip6[j].state;
        e[17] = st4.ip6[j].origin;
        e[18] = st4.ip6[j].prefix_len;
    }
    if (st4.has_gw6)
        memcpy(out + 152, st4.gw6, 16);
    memcpy(out + 168, st4.boot_file, strlen(st4.boot_file)); /* NUL-padded by the memset */
    memcpy(out + 296, st4.next_server, 4);
    return 0;
}

struct dns_wait {
    nb_wasm_hcall *hc;
    struct nb_dns_query *q;
    struct nb_dns_result res;
    int rc, trap;
};

static bool dns_done(void *arg)
{
    struct dns_wait *w = arg;
    w->rc = nb_dns_poll(w->q, &w->res);
    if (w->rc != NB_EAGAIN)
        return true;
    w->trap = nb_wasm_hcall_should_stop(w->hc);
    return w->trap != 0;
}

/* resolve(name, family, out[], timeout_ns) -> addresses written. The
 * lookup runs in the event loop (other guests' sockets keep moving) and
 * ends when the answer is in, its timeout passes, or the guest must stop. */
int nb_abi_resolve(nb_wasm_hcall *hc, struct nb_stack *st, const union nb_wasm_arg *a,
                   union nb_wasm_arg *r)
{
    char name[256];
    size_t len = a[0].mem.len;
    uint32_t max = a[2].mem.len / NB_ABI_ADDR_SIZE;
    int family = a[1].i32;
    if (len == 0 || len >= sizeof name || memchr(a[0].mem.ptr, 0, len) || max == 0 ||
        a[3].i64 < 0 || (family != 0 && family != NB_AF_INET && family != NB_AF_INET6)) {
        r[0].i32 = NB_EINVAL;
        return NB_WASM_OK;
    }
    memcpy(name, a[0].mem.ptr, len);
    name[len] = 0;
    struct dns_wait w = {.hc = hc};
    int rc = nb_dns_start(st, name, family, (uint64_t)a[3].i64, NULL, NULL, &w.q);
    if (rc) {
        r[0].i32 = rc;
        return NB_WASM_OK;
    }
    if (!dns_done(&w))
        nb_loop_run_until(dns_done, &w, nb_wasm_hcall_deadline(hc));
    if (!w.trap && w.rc == NB_EAGAIN)
        w.trap = nb_wasm_hcall_should_stop(hc);
    nb_dns_free(w.q);
    if (w.trap)
        return w.trap;
    if (w.rc == NB_EAGAIN) {
        r[0].i32 = NB_EINTR;
        return NB_WASM_OK;
    }
    if (w.rc) {
        r[0].i32 = w.rc;
        return NB_WASM_OK;
    }
    uint32_t n = w.res.n < max ? w.res.n : max;
    for (uint32_t k = 0; k < n; k++) {
        uint8_t *p = a[2].mem.ptr + k * NB_ABI_ADDR_SIZE;
        const struct nb_addr *ad = &w.res.addrs[k];
        memset(p, 0, NB_ABI_ADDR_SIZE);
        nb_put_le16(p, ad->family);
        memcpy(p + 8, ad->u.ip6, 16);
        nb_put_le32(p + 24, ad->scope_id);
    }
    r[0].i32 = (int32_t)n;
    return NB_WASM_OK;
}
