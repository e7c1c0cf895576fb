/*
 * The runtime's own HTTP/1.1 GET client (include/neoboot/http.h).
 *
 * Everything read from the network passes through the three parsers at
 * the top (URL, response head, chunked framing), which are pure, bounded
 * and fuzzed; the fetch loop below only moves bytes between a socket, a
 * fixed buffer and the caller's sink. Requests always say
 * "Connection: close": a bootloader fetches a few large files, and a
 * close-delimited exchange is the least state to get wrong.
 */
#include <neoboot/err.h>
#include <neoboot/http.h>
#include <neoboot/inet.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(http);

#define BUF_SIZE (64 * 1024)

/* --- URL --- */

static bool ci_prefix(const char *s, const char *p)
{
    for (; *p; s++, p++) {
        char a = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        if (a != *p)
            return false;
    }
    return true;
}

int nb_url_parse(const char *text, struct nb_url *out)
{
    memset(out, 0, sizeof *out);
    if (ci_prefix(text, "https://"))
        return NB_ENOTSUP;
    if (!ci_prefix(text, "http://"))
        return NB_EINVAL;
    const char *p = text + 7;
    const char *host_end;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close)
            return NB_EINVAL;
        size_t n = (size_t)(close - p - 1);
        if (n == 0 || n >= sizeof out->host)
            return NB_EINVAL;
        memcpy(out->host, p + 1, n);
        host_end = close + 1;
    } else {
        host_end = p;
        while (*host_end && *host_end != ':' && *host_end != '/' && *host_end != '?')
            host_end++;
        size_t n = (size_t)(host_end - p);
        if (n == 0 || n >= sizeof out->host)
            return NB_EINVAL;
        memcpy(out->host, p, n);
        for (size_t i = 0; i < n; i++) {
            char c = out->host[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_'))
                return NB_EINVAL;
        }
    }
    out->port = 80;
    p = host_end;
    if (*p == ':') {
        p++;
        unsigned long port = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) {
            port = port * 10 + (unsigned long)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || port == 0 || port > 65535)
            return NB_EINVAL;
        out->port = (uint16_t)port;
    }
    if (*p && *p != '/' && *p != '?')
        return NB_EINVAL;
    size_t plen = strlen(p);
    if (plen + 2 > sizeof out->path)
        return NB_EINVAL;
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f || p[i] == '#')
            return NB_EINVAL; /* a fragment, spaces or controls: not for the wire */
    if (*p == '?')
        out->path[0] = '/';
    strcat(out->path, plen ? p : "/");
    return 0;
}

/* --- response head --- */

static const char *find_blank_line(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

static bool header_is(const char *name, size_t nlen, const char *want)
{
    return strlen(want) == nlen && ci_prefix(name, want);
}

/* does a comma-separated header value contain token (case-insensitive)? */
static bool has_token(const char *v, size_t vlen, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i + tl <= vlen; i++) {
        if (ci_prefix(v + i, token) && (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
            (i + tl == vlen || v[i + tl] == ',' || v[i + tl] == ' '))
            return true;
    }
    return false;
}

int nb_http_parse_head(const char *buf, size_t len, struct nb_http_head *out)
{
    memset(out, 0, sizeof *out);
    const char *end = find_blank_line(buf, len);
    if (!end)
        return len >= NB_HTTP_HEAD_MAX ? NB_EMSGSIZE : NB_EAGAIN;
    size_t head_len = (size_t)(end - buf) + 4;
    if (head_len > NB_HTTP_HEAD_MAX)
        return NB_EMSGSIZE;
    /* status line: HTTP/1.x SP ddd [SP reason] CRLF */
    if (head_len < 14 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
        buf[8] != ' ')
        return NB_EBADMSG;
    bool http11 = buf[7] == '1';
    for (int i = 9; i < 12; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return NB_EBADMSG;
    out->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (out->status < 100 || (buf[12] != ' ' && buf[12] != '\r'))
        return NB_EBADMSG;
    out->keep_alive = http11;
    const char *p = memchr(buf, '\n', head_len);
    p++;
    while (p < end + 2) {
        const char *eol = memchr(p, '\n', (size_t)(end + 4 - p));
        if (!eol || eol == p || eol[-1] != '\r')
            return NB_EBADMSG;
        const char *line_end = eol - 1;
        if (line_end == p)
            break; /* the blank line */
        if (*p == ' ' || *p == '\t')
            return NB_EBADMSG; /* obsolete line folding: refused, as RFC 7230 allows */
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (!colon || colon == p)
            return NB_EBADMSG;
        for (const char *q = p; q < colon; q++)
            if (*q <= ' ' || *q >= 0x7f)
                return NB_EBADMSG;
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1;
        while (v < line_end && (*v == ' ' || *v == '\t'))
            v++;
        const char *ve = line_end;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vlen = (size_t)(ve - v);
        for (size_t i = 0; i < vlen; i++)
            if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
                return NB_EBADMSG;
        if (header_is(p, nlen, "content-length")) {
            uint64_t n = 0;
            if (vlen == 0 || vlen > 18)
                return NB_EBADMSG;
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return NB_EBADMSG;
                n = n * 10 + (uint64_t)(v[i] - '0');
            }
            if (out->has_length && out->content_length != n)
                return NB_EBADMSG; /* conflicting lengths: a smuggling attempt */
            out->has_length = true;
            out->content_length = n;
        } else if (header_is(p, nlen, "transfer-encoding")) {
            if (has_token(v, vlen, "chunked"))
                out->chunked = true;
            else if (!has_token(v, vlen, "identity"))
                return NB_EBADMSG; /* a coding we cannot undo (gzip...) */
        } else if (header_is(p, nlen, "connection")) {
            if (has_token(v, vlen, "close"))
                out->keep_alive = false;
            else if (has_token(v, vlen, "keep-alive"))
                out->keep_alive = true;
        } else if (header_is(p, nlen, "location")) {
            if (vlen >= sizeof out->location)
                return NB_EBADMSG;
            memcpy(out->location, v, vlen);
            out->location[vlen] = 0;
        }
        p = eol + 1;
    }
    if (out->chunked)
        out->has_length = false; /* chunked wins over Content-Length */
    return (int)head_len;
}

/* --- chunked --- */

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER,
       CH_TRAILER_LF, CH_TRAILER_LINE, CH_TRAILER_LINE_LF, CH_DONE };

void nb_chunked_init(struct nb_chunked *c)
{
    memset(c, 0, sizeof *c);
    c->state = CH_SIZE;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long nb_chunked_decode(struct nb_chunked *c, uint8_t *buf, size_t len, size_t *consumed)
{
    size_t i = 0, o = 0;
    while (i < len && c->state != CH_DONE) {
        uint8_t b = buf[i];
        switch (c->state) {
        case CH_SIZE: {
            int h = hexval(b);
            if (h >= 0) {
                if (c->digits == 15)
                    return NB_EBADMSG; /* chunk sizes above 2^60 are not data */
                c->left = c->left << 4 | (uint64_t)h;
                c->digits++;
                i++;
            } else if (c->digits && (b == ';' || b == ' ' || b == '\t')) {
                c->state = CH_EXT;
                i++;
            } else if (c->digits && b == '\r') {
                c->state = CH_SIZE_LF;
                i++;
            } else {
                return NB_EBADMSG;
            }
            break;
        }
        case CH_EXT:
            if (b == '\r')
                c->state = CH_SIZE_LF;
            else if (b < 0x20 && b != '\t')
                return NB_EBADMSG;
            i++;
            break;
        case CH_SIZE_LF:
            if (b != '\n')
                return NB_EBADMSG;
            i++;
            c->digits = 0;
            c->state = c->left ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t n = len - i < c->left ? len - i : (size_t)c->left;
            memmove(buf + o, buf + i, n);
            o += n;
            i += n;
            c->left -= n;
            if (!c->left)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (b != '\r')
                return NB_EBADMSG;
            c->state = CH_DATA_LF;
            i++;
            break;
        case CH_DATA_LF:
            if (b != '\n')
                return NB_EBADMSG;
            c->state = CH_SIZE;
            i++;
            break;
        case CH_TRAILER: /* start of a trailer line, or the final CRLF */
            if (b == '\r') {
                c->state = CH_TRAILER_LF;
            } else if (b < 0x20 && b != '\t') {
                return NB_EBADMSG;
            } else {
                c->state = CH_TRAILER_LINE;
            }
            i++;
            break;
        case CH_TRAILER_LF:
            if (b != '\n')
                return NB_EBADMSG;
            c->state = CH_DONE;
            c->done = true;
            i++;
            break;
        case CH_TRAILER_LINE:
            if (b == '\r')
                c->state = CH_TRAILER_LINE_LF;
            i++;
            break;
        case CH_TRAILER_LINE_LF:
            if (b != '\n')
                return NB_EBADMSG;
            c->state = CH_TRAILER;
            i++;
            break;
        default:
            return NB_EBADMSG;
        }
    }
    if (consumed)
        *consumed = i;
    return (long)o;
}

/* --- fetching --- */

static int fail(char *why, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t len, int code, const char *fmt, ...)
{
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int resolve(struct nb_stack *st, const struct nb_url *u, uint64_t timeout,
                   struct nb_addr *out, char *why, size_t wl)
{
    memset(out, 0, sizeof *out);
    size_t hl = strlen(u->host);
    if (nb_parse_ip4(u->host, hl, out->u.ip4) == 0) {
        out->family = NB_AF_INET;
    } else if (nb_parse_ip6(u->host, hl, out->u.ip6) == 0) {
        out->family = NB_AF_INET6;
    } else {
        struct nb_dns_result res;
        int rc = nb_dns_resolve(st, u->host, 0, timeout, &res);
        if (rc != 0 || res.n == 0)
            return fail(why, wl, rc ? rc : NB_ENOENT, "cannot resolve %s: %s", u->host,
                        nb_strerror(rc ? rc : NB_ENOENT));
        *out = res.addrs[0];
    }
    out->port = u->port;
    return 0;
}

static int send_all(nb_sock *s, const char *p, size_t n)
{
    while (n) {
        long w = nb_send(s, p, n, 0);
        if (w <= 0)
            return w < 0 ? (int)w : NB_EPIPE;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One request; *redirect is set (and 0 returned) for a followable 3xx. */
static int get_once(struct nb_stack *st, const struct nb_url *u, const struct nb_http_get *o,
                    uint64_t timeout, uint8_t *buf, char *redirect, char *why, size_t wl)
{
    struct nb_addr to;
    int rc = resolve(st, u, timeout, &to, why, wl);
    if (rc)
        return rc;
    nb_sock *s;
    rc = nb_socket(st, to.family, NB_SOCK_STREAM, &s);
    if (rc)
        return fail(why, wl, rc, "socket: %s", nb_strerror(rc));
    nb_setopt(s, NB_SO_CONNECT_TIMEOUT, (int64_t)timeout);
    nb_setopt(s, NB_SO_RCVTIMEO, (int64_t)timeout);
    nb_setopt(s, NB_SO_SNDTIMEO, (int64_t)timeout);
    char addr_text[64];
    nb_addr_format(&to, addr_text, sizeof addr_text);
    rc = nb_connect(s, &to);
    if (rc) {
        nb_close(s);
        return fail(why, wl, rc, "connect to %s: %s", addr_text, nb_strerror(rc));
    }
    char host[300], req[1600];
    bool v6 = to.family == NB_AF_INET6;
    if (u->port == 80)
        snprintf(host, sizeof host, v6 ? "[%s]" : "%s", u->host);
    else
        snprintf(host, sizeof host, v6 ? "[%s]:%u" : "%s:%u", u->host, (unsigned)u->port);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: NeoBoot\r\n"
                     "Accept: */*\r\nConnection: close\r\n\r\n",
                     u->path, host);
    rc = send_all(s, req, (size_t)n);
    if (rc) {
        nb_close(s);
        return fail(why, wl, rc, "sending the request to %s: %s", addr_text, nb_strerror(rc));
    }
    /* the head */
    size_t have = 0;
    struct nb_http_head h;
    int hl;
    for (;;) {
        long r = nb_recv(s, buf + have, BUF_SIZE - have, 0);
        if (r <= 0) {
            nb_close(s);
            return fail(why, wl, r ? (int)r : NB_EPROTO, "%s: %s before the response head",
                        addr_text, r ? nb_strerror((int)r) : "connection closed");
        }
        have += (size_t)r;
        hl = nb_http_parse_head((const char *)buf, have, &h);
        if (hl != NB_EAGAIN)
            break;
    }
    if (hl < 0) {
        nb_close(s);
        return fail(why, wl, NB_EPROTO, "%s: malformed response head", addr_text);
    }
    if (h.status >= 300 && h.status < 400 && h.location[0]) {
        nb_close(s);
        snprintf(redirect, 1024, "%s", h.location);
        return 0;
    }
    if (h.status < 200 || h.status > 299) {
        nb_close(s);
        return fail(why, wl, h.status == 404 ? NB_ENOENT : NB_EPROTO, "HTTP %d from %s%s",
                    h.status, u->host, u->path);
    }
    if (o->max_size && h.has_length && h.content_length > o->max_size) {
        nb_close(s);
        return fail(why, wl, NB_EFBIG, "%llu bytes is over the %llu-byte limit",
                    (unsigned long long)h.content_length, (unsigned long long)o->max_size);
    }
    /* the body */
    uint64_t got = 0, total = h.has_length ? h.content_length : 0;
    struct nb_chunked ch;
    nb_chunked_init(&ch);
    size_t pending = have - (size_t)hl;
    memmove(buf, buf + hl, pending);
    rc = 0;
    bool finished = h.has_length && total == 0;
    while (!finished) {
        size_t n_body = pending;
        if (h.chunked) {
            long d = nb_chunked_decode(&ch, buf, pending, NULL);
            if (d < 0) {
                rc = fail(why, wl, NB_EPROTO, "%s: malformed chunked body", addr_text);
                break;
            }
            n_body = (size_t)d;
            finished = ch.done;
        } else if (h.has_length && got + n_body >= total) {
            n_body = (size_t)(total - got);
            finished = true;
        }
        if (o->max_size && got + n_body > o->max_size) {
            rc = fail(why, wl, NB_EFBIG, "body over the %llu-byte limit",
                      (unsigned long long)o->max_size);
            break;
        }
        if (n_body && o->sink && (rc = o->sink(o->arg, buf, n_body)) != 0) {
            fail(why, wl, rc, "storing the body: %s", nb_strerror(rc));
            break;
        }
        got += n_body;
        if (o->progress && n_body)
            o->progress(o->arg, got, total);
        if (finished)
            break;
        long r = nb_recv(s, buf, BUF_SIZE, 0);
        if (r == 0) {
            if (h.chunked || h.has_length)
                rc = fail(why, wl, NB_EPROTO, "%s closed the connection after %llu of %llu bytes",
                          addr_text, (unsigned long long)got, (unsigned long long)total);
            break; /* close-delimited body: done */
        }
        if (r < 0) {
            rc = fail(why, wl, (int)r, "%s: %s after %llu bytes", addr_text,
                      nb_strerror((int)r), (unsigned long long)got);
            break;
        }
        pending = (size_t)r;
    }
    nb_close(s);
    if (rc == 0 && o->progress)
        o->progress(o->arg, got, got);
    return rc ? rc : h.status;
}

int nb_http_get_url(struct nb_stack *st, const char *url, const struct nb_http_get *o,
                    char *why, size_t why_len)
{
    uint64_t timeout = o->timeout_ns ? o->timeout_ns : 10 * NB_NS_PER_S;
    unsigned redirects = o->max_redirects ? o->max_redirects : 5;
    uint8_t *buf = malloc(BUF_SIZE);
    char *cur = malloc(1024), *next = malloc(1024);
    struct nb_url *u = malloc(sizeof *u);
    int rc;
    if (!buf || !cur || !next || !u) {
        rc = fail(why, why_len, NB_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(cur, 1024, "%s", url);
    for (unsigned hop = 0;; hop++) {
        rc = nb_url_parse(cur, u);
        if (rc) {
            fail(why, why_len, rc, "%s URL '%.80s'",
                 rc == NB_ENOTSUP ? "unsupported (only http://)" : "malformed", cur);
            break;
        }
        next[0] = 0;
        rc = get_once(st, u, o, timeout, buf, next, why, why_len);
        if (rc != 0 || !next[0])
            break;
        if (hop + 1 > redirects) {
            rc = fail(why, why_len, NB_ELOOP, "more than %u redirects", redirects);
            break;
        }
        NB_DEBUG("redirected to %s", next);
        if (next[0] == '/') { /* relative: same host */
            char host[300];
            snprintf(host, sizeof host, strchr(u->host, ':') ? "[%s]:%u" : "%s:%u", u->host,
                     (unsigned)u->port);
            snprintf(cur, 1024, "http://%s%s", host, next);
        } else {
            snprintf(cur, 1024, "%s", next);
        }
    }
out:
    free(buf);
    free(cur);
    free(next);
    free(u);
    return rc;
}
