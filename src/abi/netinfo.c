/*
 * Network status and name lookup for guests: the netif record
 * (docs/abi.md has its layout) and resolve().
 */
#include "abi_internal.h"

#include <neoboot/err.h>
#include <neoboot/iface.h>
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
    if (ifc->link == NB_LINK_VSOCK)
        nb_put_le32(out + 32, (uint32_t)ifc->vsock_cid);
    return 0;
}

int nb_abi_resolve(nb_wasm_hcall *hc, struct nb_stack *st, const union nb_wasm_arg *a,
                   union nb_wasm_arg *r)
{
    (void)hc;
    (void)st;
    /* Address literals need no server. */
    char name[256];
    size_t len = a[0].mem.len;
    if (len == 0 || len >= sizeof name) {
        r[0].i32 = NB_EINVAL;
        return NB_WASM_OK;
    }
    memcpy(name, a[0].mem.ptr, len);
    name[len] = 0;
    uint32_t max = a[2].mem.len / NB_ABI_ADDR_SIZE;
    struct nb_addr addr;
    memset(&addr, 0, sizeof addr);
    if (nb_parse_ip4(name, len, addr.u.ip4) == 0)
        addr.family = NB_AF_INET;
    else if (nb_parse_ip6(name, len, addr.u.ip6) == 0)
        addr.family = NB_AF_INET6;
    if (!addr.family) {
        r[0].i32 = NB_ENOSYS; /* no resolver on this build */
        return NB_WASM_OK;
    }
    if ((a[1].i32 && a[1].i32 != addr.family) || max == 0) {
        r[0].i32 = max == 0 ? NB_EINVAL : NB_ENOENT;
        return NB_WASM_OK;
    }
    uint8_t *p = a[2].mem.ptr;
    memset(p, 0, NB_ABI_ADDR_SIZE);
    nb_put_le16(p, addr.family);
    memcpy(p + 8, addr.u.ip6, 16);
    r[0].i32 = 1;
    return NB_WASM_OK;
}
