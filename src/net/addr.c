/*
 * Addresses: constructors, text parsing and formatting for every family.
 * Freestanding (no inet_pton), since it runs on bare metal too.
 *
 * Text forms: vsock "CID:PORT" (CID may be "any", "host"), IPv4
 * "A.B.C.D:PORT", IPv6 "[ADDR]:PORT" or "[ADDR%SCOPE]:PORT".
 */
#include <neoboot/err.h>
#include <neoboot/net.h>

#include <stdio.h>
#include <string.h>

struct nb_addr nb_addr_vsock(uint32_t cid, uint32_t port)
{
    struct nb_addr a;
    memset(&a, 0, sizeof a);
    a.family = NB_AF_VSOCK;
    a.u.cid = cid;
    a.port = port;
    return a;
}

struct nb_addr nb_addr_ip4(const uint8_t ip[4], uint16_t port)
{
    struct nb_addr a;
    memset(&a, 0, sizeof a);
    a.family = NB_AF_INET;
    memcpy(a.u.ip4, ip, 4);
    a.port = port;
    return a;
}

struct nb_addr nb_addr_ip6(const uint8_t ip[16], uint16_t port, uint32_t scope)
{
    struct nb_addr a;
    memset(&a, 0, sizeof a);
    a.family = NB_AF_INET6;
    memcpy(a.u.ip6, ip, 16);
    a.port = port;
    a.scope_id = scope;
    return a;
}

/* Parse a decimal number of at most `max`; returns chars used or 0. */
static size_t parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return 0;
        i++;
        if (i > 20)
            return 0;
    }
    *out = v;
    return i;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int nb_parse_ip4(const char *s, size_t len, uint8_t out[4])
{
    char buf[16];
    if (len == 0 || len >= sizeof buf)
        return NB_EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    const char *p = buf;
    for (int i = 0; i < 4; i++) {
        uint64_t v;
        size_t n = parse_uint(p, 255, &v);
        if (n == 0 || n > 3)
            return NB_EINVAL;
        out[i] = (uint8_t)v;
        p += n;
        if (i < 3) {
            if (*p != '.')
                return NB_EINVAL;
            p++;
        }
    }
    return *p ? NB_EINVAL : 0;
}

int nb_parse_ip6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t words[8];
    int n = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len >= 1 && s[0] == ':') {
        return NB_EINVAL;
    }
    while (i < len) {
        /* embedded IPv4 tail */
        size_t j = i;
        while (j < len && s[j] != ':' && s[j] != '.')
            j++;
        if (j < len && s[j] == '.') {
            uint8_t v4[4];
            if (n > 6 || nb_parse_ip4(s + i, len - i, v4) != 0)
                return NB_EINVAL;
            words[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
            words[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = len;
            break;
        }
        if (j == i || j - i > 4 || n == 8)
            return NB_EINVAL;
        unsigned v = 0;
        for (size_t k = i; k < j; k++) {
            int h = hexval(s[k]);
            if (h < 0)
                return NB_EINVAL;
            v = v << 4 | (unsigned)h;
        }
        words[n++] = (uint16_t)v;
        i = j;
        if (i < len) { /* at ':' */
            i++;
            if (i < len && s[i] == ':') {
                if (gap >= 0)
                    return NB_EINVAL;
                gap = n;
                i++;
            } else if (i == len) {
                return NB_EINVAL; /* trailing single ':' */
            }
        }
    }
    if (gap < 0 && n != 8)
        return NB_EINVAL;
    if (gap >= 0 && n == 8)
        return NB_EINVAL;
    int fill = 8 - n;
    int w = 0;
    for (int k = 0; k < n; k++) {
        if (k == gap)
            for (int z = 0; z < fill; z++)
                out[2 * w] = out[2 * w + 1] = 0, w++;
        out[2 * w] = (uint8_t)(words[k] >> 8);
        out[2 * w + 1] = (uint8_t)words[k];
        w++;
    }
    if (gap == n)
        for (int z = 0; z < fill; z++)
            out[2 * w] = out[2 * w + 1] = 0, w++;
    return 0;
}

int nb_addr_parse(const char *text, struct nb_addr *out)
{
    memset(out, 0, sizeof *out);
    const char *colon;
    uint64_t port;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return NB_EINVAL;
        const char *pct = memchr(text, '%', (size_t)(close - text));
        size_t alen = (size_t)((pct ? pct : close) - (text + 1));
        if (nb_parse_ip6(text + 1, alen, out->u.ip6) != 0)
            return NB_EINVAL;
        if (pct) {
            uint64_t scope;
            size_t n = parse_uint(pct + 1, UINT32_MAX, &scope);
            if (n == 0 || pct + 1 + n != close)
                return NB_EINVAL;
            out->scope_id = (uint32_t)scope;
        }
        size_t n = parse_uint(close + 2, 65535, &port);
        if (n == 0 || close[2 + n])
            return NB_EINVAL;
        out->family = NB_AF_INET6;
        out->port = (uint32_t)port;
        return 0;
    }
    colon = strrchr(text, ':');
    if (!colon || strchr(text, ':') != colon)
        return NB_EINVAL;
    size_t hlen = (size_t)(colon - text);
    if (memchr(text, '.', hlen)) {
        if (nb_parse_ip4(text, hlen, out->u.ip4) != 0)
            return NB_EINVAL;
        size_t n = parse_uint(colon + 1, 65535, &port);
        if (n == 0 || colon[1 + n])
            return NB_EINVAL;
        out->family = NB_AF_INET;
        out->port = (uint32_t)port;
        return 0;
    }
    uint64_t cid;
    if (hlen == 3 && memcmp(text, "any", 3) == 0) {
        cid = NB_VMADDR_CID_ANY;
    } else if (hlen == 4 && memcmp(text, "host", 4) == 0) {
        cid = NB_VMADDR_CID_HOST;
    } else {
        size_t n = parse_uint(text, UINT32_MAX, &cid);
        if (n == 0 || n != hlen)
            return NB_EINVAL;
    }
    size_t n = parse_uint(colon + 1, UINT32_MAX, &port);
    if (n == 0 || colon[1 + n])
        return NB_EINVAL;
    out->family = NB_AF_VSOCK;
    out->u.cid = (uint32_t)cid;
    out->port = (uint32_t)port;
    return 0;
}

static void format_ip6(const uint8_t ip[16], char *buf, size_t len)
{
    /* RFC 5952: compress the longest run (>= 2) of zero words. */
    int best = -1, bestlen = 0;
    for (int i = 0; i < 8;) {
        if (ip[2 * i] == 0 && ip[2 * i + 1] == 0) {
            int j = i;
            while (j < 8 && ip[2 * j] == 0 && ip[2 * j + 1] == 0)
                j++;
            if (j - i > bestlen && j - i >= 2) {
                best = i;
                bestlen = j - i;
            }
            i = j;
        } else {
            i++;
        }
    }
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < 8 && o < len; i++) {
        if (i == best) {
            o += (size_t)snprintf(buf + o, len - o, "::");
            i += bestlen - 1;
            continue;
        }
        if (o < len && i > 0 && buf[o - 1] != ':')
            o += (size_t)snprintf(buf + o, len - o, ":");
        if (o < len)
            o += (size_t)snprintf(buf + o, len - o, "%x",
                                  (unsigned)(ip[2 * i] << 8 | ip[2 * i + 1]));
    }
}

char *nb_addr_format(const struct nb_addr *a, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    switch (a->family) {
    case NB_AF_VSOCK:
        if (a->u.cid == NB_VMADDR_CID_ANY)
            snprintf(buf, len, "any:%u", (unsigned)a->port);
        else
            snprintf(buf, len, "%u:%u", (unsigned)a->u.cid, (unsigned)a->port);
        break;
    case NB_AF_INET:
        snprintf(buf, len, "%u.%u.%u.%u:%u", a->u.ip4[0], a->u.ip4[1],
                 a->u.ip4[2], a->u.ip4[3], (unsigned)a->port);
        break;
    case NB_AF_INET6: {
        char ip[48];
        format_ip6(a->u.ip6, ip, sizeof ip);
        if (a->scope_id)
            snprintf(buf, len, "[%s%%%u]:%u", ip, (unsigned)a->scope_id,
                     (unsigned)a->port);
        else
            snprintf(buf, len, "[%s]:%u", ip, (unsigned)a->port);
        break;
    }
    default:
        snprintf(buf, len, "(family %u)", (unsigned)a->family);
    }
    return buf;
}

bool nb_addr_equal(const struct nb_addr *a, const struct nb_addr *b)
{
    if (a->family != b->family || a->port != b->port)
        return false;
    switch (a->family) {
    case NB_AF_VSOCK: return a->u.cid == b->u.cid;
    case NB_AF_INET: return memcmp(a->u.ip4, b->u.ip4, 4) == 0;
    case NB_AF_INET6:
        return memcmp(a->u.ip6, b->u.ip6, 16) == 0 && a->scope_id == b->scope_id;
    default: return false;
    }
}
