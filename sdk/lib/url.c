/*
 * URL parsing and reference resolution (RFC 3986) for http: URLs. Input is
 * outside data (command lines, Location headers), so every part is checked
 * against its buffer before it is copied, and anything odd (control bytes,
 * spaces, a port past 65535) is refused rather than guessed at.
 */
#include "nb_url.h"

#include <string.h>

#define E_INVAL (-28)
#define E_NAMETOOLONG (-37)

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static int copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        return E_NAMETOOLONG;
    memcpy(dst, src, n);
    dst[n] = 0;
    return 0;
}

static uint16_t default_port(const char *scheme)
{
    if (strcmp(scheme, "http") == 0)
        return 80;
    if (strcmp(scheme, "https") == 0)
        return 443;
    return 0;
}

/* Bytes allowed in a URL: printable ASCII except space; anything beyond
 * ASCII passes (it should be percent-encoded, but servers cope). */
static bool url_byte_ok(unsigned char c) { return c > 0x20 && c != 0x7f; }

/* Parse "host[:port]" (the authority without userinfo). */
static int parse_authority(const char *a, size_t n, struct nb_url *u)
{
    const char *host = a, *port = NULL;
    size_t hlen;
    u->ipv6 = false;
    if (n && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return E_INVAL;
        host = a + 1;
        hlen = (size_t)(close - host);
        u->ipv6 = true;
        size_t rest = n - (size_t)(close + 1 - a);
        if (rest) {
            if (close[1] != ':')
                return E_INVAL;
            port = close + 2;
        }
        for (size_t i = 0; i < hlen; i++)
            if (!(is_digit(host[i]) || (lower(host[i]) >= 'a' && lower(host[i]) <= 'f') ||
                  host[i] == ':' || host[i] == '.' || host[i] == '%'))
                return E_INVAL;
    } else {
        const char *colon = memchr(a, ':', n);
        hlen = colon ? (size_t)(colon - a) : n;
        if (colon)
            port = colon + 1;
        for (size_t i = 0; i < hlen; i++)
            if (host[i] == '[' || host[i] == ']' || host[i] == '@')
                return E_INVAL;
    }
    if (hlen == 0)
        return E_INVAL;
    int rc = copy(u->host, sizeof u->host, host, hlen);
    if (rc)
        return rc;
    for (char *p = u->host; *p; p++)
        *p = lower(*p);
    u->port_given = false;
    u->port = default_port(u->scheme);
    if (port) {
        size_t plen = n - (size_t)(port - a);
        if (plen == 0) /* "host:" means the default port (RFC 3986 3.2.3) */
            return 0;
        if (plen > 5)
            return E_INVAL;
        unsigned v = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!is_digit(port[i]))
                return E_INVAL;
            v = v * 10 + (unsigned)(port[i] - '0');
        }
        if (v == 0 || v > 65535)
            return E_INVAL;
        u->port = (uint16_t)v;
        u->port_given = true;
    }
    return 0;
}

/* Copy path+query (without fragment) into target, "/" when empty. */
static int set_target(struct nb_url *u, const char *p, size_t n)
{
    const char *hash = memchr(p, '#', n);
    if (hash)
        n = (size_t)(hash - p);
    if (n == 0)
        return copy(u->target, sizeof u->target, "/", 1);
    if (p[0] == '?') { /* "http://h?q" is "/?q" */
        if (n + 1 >= sizeof u->target)
            return E_NAMETOOLONG;
        u->target[0] = '/';
        memcpy(u->target + 1, p, n);
        u->target[n + 1] = 0;
        return 0;
    }
    return copy(u->target, sizeof u->target, p, n);
}

int nb_url_parse(const char *s, size_t len, struct nb_url *u)
{
    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < len; i++)
        if (!url_byte_ok((unsigned char)s[i]))
            return E_INVAL;
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    size_t i = 0;
    if (!len || !is_alpha(s[0]))
        return E_INVAL;
    while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i + 3 > len || s[i] != ':' || s[i + 1] != '/' || s[i + 2] != '/')
        return E_INVAL;
    if (i >= sizeof u->scheme)
        return E_NAMETOOLONG;
    for (size_t k = 0; k < i; k++)
        u->scheme[k] = lower(s[k]);
    const char *auth = s + i + 3;
    size_t rest = len - i - 3, alen = 0;
    while (alen < rest && auth[alen] != '/' && auth[alen] != '?' && auth[alen] != '#')
        alen++;
    /* drop userinfo: we never send credentials found in a URL */
    for (size_t k = alen; k > 0; k--)
        if (auth[k - 1] == '@') {
            auth += k;
            alen -= k;
            rest -= k;
            break;
        }
    int rc = parse_authority(auth, alen, u);
    if (rc)
        return rc;
    return set_target(u, auth + alen, rest - alen);
}

/* Remove "." and ".." segments from an absolute path (RFC 3986 5.2.4),
 * in place; the query (from '?') is left alone. */
static void remove_dots(char *t)
{
    char *q = strchr(t, '?');
    size_t plen = q ? (size_t)(q - t) : strlen(t);
    char out[NB_URL_TARGET_MAX];
    size_t o = 0, i = 0;
    while (i < plen) {
        /* t[i] is '/' at every step */
        size_t j = i + 1;
        while (j < plen && t[j] != '/')
            j++;
        size_t seg = j - i - 1;
        const char *sp = t + i + 1;
        if (seg == 1 && sp[0] == '.') {
            if (j == plen)
                out[o++] = '/';
        } else if (seg == 2 && sp[0] == '.' && sp[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            if (j == plen)
                out[o++] = '/';
        } else {
            memcpy(out + o, t + i, j - i);
            o += j - i;
        }
        i = j;
    }
    if (o == 0)
        out[o++] = '/';
    size_t qlen = q ? strlen(q) : 0;
    memcpy(out + o, q ? q : "", qlen); /* o <= plen, so it fits */
    out[o + qlen] = 0;
    memcpy(t, out, o + qlen + 1);
}

int nb_url_resolve(const struct nb_url *base, const char *ref, size_t len, struct nb_url *out)
{
    for (size_t i = 0; i < len; i++)
        if (!url_byte_ok((unsigned char)ref[i]))
            return E_INVAL;
    /* an absolute URL has a scheme before any '/', '?' or '#' */
    size_t i = 0;
    while (i < len && (is_alpha(ref[i]) || (i && (is_digit(ref[i]) || ref[i] == '+' ||
                                                  ref[i] == '-' || ref[i] == '.'))))
        i++;
    if (i > 0 && i < len && ref[i] == ':')
        return nb_url_parse(ref, len, out);
    struct nb_url u = *base;
    int rc;
    if (len >= 2 && ref[0] == '/' && ref[1] == '/') {
        char buf[NB_URL_HOST_MAX + NB_URL_TARGET_MAX + 32];
        size_t sl = strlen(base->scheme);
        if (sl + 1 + len >= sizeof buf)
            return E_NAMETOOLONG;
        memcpy(buf, base->scheme, sl);
        buf[sl] = ':';
        memcpy(buf + sl + 1, ref, len);
        return nb_url_parse(buf, sl + 1 + len, out);
    }
    if (len == 0) {
        rc = 0;
    } else if (ref[0] == '/') {
        rc = set_target(&u, ref, len);
    } else if (ref[0] == '?') {
        const char *q = strchr(base->target, '?');
        size_t plen = q ? (size_t)(q - base->target) : strlen(base->target);
        char buf[NB_URL_TARGET_MAX];
        if (plen + len >= sizeof buf)
            return E_NAMETOOLONG;
        memcpy(buf, base->target, plen);
        memcpy(buf + plen, ref, len);
        rc = set_target(&u, buf, plen + len);
    } else if (ref[0] == '#') {
        rc = 0;
    } else {
        /* merge: the base path up to its last '/', then ref */
        const char *q = strchr(base->target, '?');
        size_t plen = q ? (size_t)(q - base->target) : strlen(base->target);
        while (plen > 0 && base->target[plen - 1] != '/')
            plen--;
        char buf[NB_URL_TARGET_MAX];
        if (plen + len >= sizeof buf)
            return E_NAMETOOLONG;
        memcpy(buf, base->target, plen);
        memcpy(buf + plen, ref, len);
        rc = set_target(&u, buf, plen + len);
    }
    if (rc)
        return rc;
    if (u.target[0] != '/')
        return E_INVAL;
    remove_dots(u.target);
    *out = u;
    return 0;
}

int nb_url_authority(const struct nb_url *u, char *buf, size_t len)
{
    size_t hl = strlen(u->host), o = 0;
    char port[8];
    size_t pl = 0;
    if (u->port != default_port(u->scheme)) {
        unsigned p = u->port;
        char rev[6];
        size_t r = 0;
        do {
            rev[r++] = (char)('0' + p % 10);
            p /= 10;
        } while (p);
        port[pl++] = ':';
        while (r)
            port[pl++] = rev[--r];
    }
    size_t need = hl + (u->ipv6 ? 2 : 0) + pl;
    if (need >= len)
        return E_NAMETOOLONG;
    if (u->ipv6)
        buf[o++] = '[';
    memcpy(buf + o, u->host, hl);
    o += hl;
    if (u->ipv6)
        buf[o++] = ']';
    memcpy(buf + o, port, pl);
    o += pl;
    buf[o] = 0;
    return (int)o;
}

static int hexval(char c)
{
    if (is_digit(c))
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int nb_url_decode(char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            s[o++] = s[i];
            continue;
        }
        if (i + 2 >= len)
            return E_INVAL;
        int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
        if (h < 0 || l < 0 || (h == 0 && l == 0))
            return E_INVAL;
        s[o++] = (char)(h << 4 | l);
        i += 2;
    }
    return (int)o;
}
