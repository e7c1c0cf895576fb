/*
 * HTTP/1.1 message parsing (RFC 9112), pure and bounded. The client, the
 * server and the fuzz target share it.
 *
 * A head is parsed line by line from the start of the buffer each time
 * more bytes arrive; that is quadratic only up to max_head, which the
 * caller bounds (8 KiB by default), and it keeps the parser stateless.
 * Strictness is deliberate: whitespace before a colon, obsolete line
 * folding, control characters, conflicting or malformed lengths and
 * Content-Length beside Transfer-Encoding are refused, because lenient
 * parsers that disagree with each other are how request smuggling works.
 * Bare LF line ends are accepted (RFC 9112 2.2 allows it).
 */
#include "nb_http_parse.h"

#include <string.h>

#define MAX_METHOD 32
#define MAX_LENGTH ((int64_t)1 << 62)

static bool is_tchar(unsigned char c)
{
    /* token characters (RFC 9110 5.6.2) */
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static bool eq_nocase_n(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

static bool eq_nocase(const char *a, size_t alen, const char *b)
{
    return eq_nocase_n(a, alen, b, strlen(b));
}

/* a header name against a literal: the length test first, no strlen */
#define NAME_IS(f, lit) eq_nocase_n((f)->name, (f)->name_len, lit, sizeof lit - 1)

bool nb_http_has_token(const char *v, size_t len, const char *token)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < len && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e > s && eq_nocase(v + s, e - s, token))
            return true;
    }
    return false;
}

const char *nb_http_header(const struct nb_http_head *h, const char *name, size_t *len)
{
    for (size_t i = 0; i < h->n_headers; i++)
        if (eq_nocase(h->headers[i].name, h->headers[i].name_len, name)) {
            if (len)
                *len = h->headers[i].value_len;
            return h->headers[i].value;
        }
    return NULL;
}

/* Next line from buf[*pos..end): sets line/llen without its CR LF.
 * Returns 1, 0 if no complete line, or NB_HTTP_EBAD (stray CR, NUL). */
static int next_line(const char *buf, size_t end, size_t *pos, const char **line, size_t *llen)
{
    /* one pass: find LF, count CRs and NULs on the way (compiled to wasm
     * and interpreted, three library scans cost several times this loop) */
    const char *s = buf + *pos;
    size_t avail = end - *pos, n = 0, crs = 0, nuls = 0;
    while (n < avail && s[n] != '\n') {
        crs += s[n] == '\r';
        nuls += s[n] == 0;
        n++;
    }
    if (n == avail)
        return 0;
    *pos += n + 1;
    if (n && s[n - 1] == '\r') {
        n--;
        crs--; /* the CR of CR LF */
    }
    if (crs || nuls)
        return NB_HTTP_EBAD;
    *line = s;
    *llen = n;
    return 1;
}

/* "HTTP/1.1" -> minor; NB_HTTP_EVERSION for another major, EBAD if malformed */
static int parse_version(const char *v, size_t n, int *minor)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9')
        return NB_HTTP_EBAD;
    if (v[5] != '1')
        return NB_HTTP_EVERSION;
    *minor = v[7] == '0' ? 0 : 1;
    return 0;
}

static int parse_request_line(const char *l, size_t n, struct nb_http_head *h)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)l[i]))
        i++;
    if (i == 0 || i > MAX_METHOD || i >= n || l[i] != ' ')
        return NB_HTTP_EBAD;
    h->method = l;
    h->method_len = i;
    size_t t = ++i;
    while (i < n && l[i] != ' ') {
        unsigned char c = (unsigned char)l[i];
        if (c < 0x21 || c == 0x7f)
            return NB_HTTP_EBAD;
        i++;
    }
    if (i == t || i >= n)
        return NB_HTTP_EBAD;
    h->target = l + t;
    h->target_len = i - t;
    return parse_version(l + i + 1, n - i - 1, &h->minor);
}

static int parse_status_line(const char *l, size_t n, struct nb_http_head *h)
{
    if (n < 12 || l[8] != ' ')
        return NB_HTTP_EBAD;
    int rc = parse_version(l, 8, &h->minor);
    if (rc)
        return rc;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (l[i] < '0' || l[i] > '9')
            return NB_HTTP_EBAD;
        st = st * 10 + (l[i] - '0');
    }
    if (st < 100)
        return NB_HTTP_EBAD;
    if (n > 12 && l[12] != ' ')
        return NB_HTTP_EBAD;
    h->status = st;
    h->reason = n > 13 ? l + 13 : l + n;
    h->reason_len = n > 13 ? n - 13 : 0;
    for (size_t i = 0; i < h->reason_len; i++) {
        unsigned char c = (unsigned char)h->reason[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return NB_HTTP_EBAD;
    }
    return 0;
}

static int parse_header_line(const char *l, size_t n, struct nb_http_head *h)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)l[i]))
        i++;
    /* empty name, obs-fold (leading whitespace), or whitespace before ':' */
    if (i == 0 || i >= n || l[i] != ':')
        return NB_HTTP_EBAD;
    if (h->n_headers == NB_HTTP_MAX_HEADERS)
        return NB_HTTP_ETOOLARGE;
    struct nb_http_header *f = &h->headers[h->n_headers++];
    f->name = l;
    f->name_len = i;
    size_t s = i + 1, e = n;
    while (s < e && (l[s] == ' ' || l[s] == '\t'))
        s++;
    while (e > s && (l[e - 1] == ' ' || l[e - 1] == '\t'))
        e--;
    for (size_t k = s; k < e; k++) {
        unsigned char c = (unsigned char)l[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return NB_HTTP_EBAD;
    }
    f->value = l + s;
    f->value_len = e - s;
    return 0;
}

/* Content-Length: 1*DIGIT, or a list of identical values ("5, 5") */
static int parse_length(const char *v, size_t n, int64_t *out)
{
    int64_t val = -1;
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (i == n || v[i] < '0' || v[i] > '9')
            return NB_HTTP_EBAD;
        int64_t x = 0;
        while (i < n && v[i] >= '0' && v[i] <= '9') {
            if (x > MAX_LENGTH / 10) /* checked before it could overflow */
                return NB_HTTP_EBAD;
            x = x * 10 + (v[i] - '0');
            i++;
        }
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (i < n && v[i] != ',')
            return NB_HTTP_EBAD;
        i++;
        if (val >= 0 && val != x)
            return NB_HTTP_EBAD;
        val = x;
    }
    *out = val;
    return 0;
}

/* Is "chunked" the last coding of a Transfer-Encoding list, and the only one? */
static void last_coding(const char *v, size_t n, bool *last_chunked, bool *only_chunked)
{
    size_t e = n;
    while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t' || v[e - 1] == ','))
        e--;
    size_t s = e;
    while (s > 0 && v[s - 1] != ',')
        s--;
    while (s < e && (v[s] == ' ' || v[s] == '\t'))
        s++;
    *last_chunked = eq_nocase(v + s, e - s, "chunked");
    size_t b = 0;
    while (b < n && (v[b] == ' ' || v[b] == '\t' || v[b] == ','))
        b++;
    *only_chunked = *last_chunked && b == s;
}

static long parse_head(const char *buf, size_t len, size_t max_head, struct nb_http_head *h,
                       bool request)
{
    /* not memset: the header array is 2 KiB, and only n_headers of it count */
    h->method = h->target = h->reason = NULL;
    h->method_len = h->target_len = h->reason_len = 0;
    h->status = h->minor = 0;
    h->n_headers = 0;
    h->chunked = h->keep_alive = h->expect_continue = h->has_host = false;
    h->content_length = -1;
    size_t end = len < max_head ? len : max_head;
    size_t pos = 0;
    const char *l;
    size_t n;
    int rc;
    /* a request may be preceded by empty lines (RFC 9112 2.2) */
    for (;;) {
        size_t save = pos;
        rc = next_line(buf, end, &pos, &l, &n);
        if (rc <= 0)
            goto incomplete;
        if (n || !request) {
            pos = save;
            break;
        }
    }
    rc = next_line(buf, end, &pos, &l, &n);
    if (rc <= 0)
        goto incomplete;
    rc = request ? parse_request_line(l, n, h) : parse_status_line(l, n, h);
    if (rc)
        return rc;
    int64_t te_count = 0, hosts = 0;
    bool te_last_chunked = false, te_only_chunked = false, te = false;
    bool conn_close = false, conn_keep = false;
    for (;;) {
        rc = next_line(buf, end, &pos, &l, &n);
        if (rc <= 0)
            goto incomplete;
        if (n == 0)
            break;
        rc = parse_header_line(l, n, h);
        if (rc)
            return rc;
        const struct nb_http_header *f = &h->headers[h->n_headers - 1];
        if (NAME_IS(f, "content-length")) {
            int64_t v;
            if (parse_length(f->value, f->value_len, &v) != 0)
                return NB_HTTP_EBAD;
            if (h->content_length >= 0 && h->content_length != v)
                return NB_HTTP_EBAD;
            h->content_length = v;
        } else if (NAME_IS(f, "transfer-encoding")) {
            te = true;
            te_count++;
            bool lc, oc;
            last_coding(f->value, f->value_len, &lc, &oc);
            /* with several TE lines the codings concatenate: only the last counts as last */
            te_last_chunked = lc;
            te_only_chunked = oc && te_count == 1;
        } else if (NAME_IS(f, "connection")) {
            conn_close |= nb_http_has_token(f->value, f->value_len, "close");
            conn_keep |= nb_http_has_token(f->value, f->value_len, "keep-alive");
        } else if (NAME_IS(f, "expect")) {
            h->expect_continue = eq_nocase(f->value, f->value_len, "100-continue");
        } else if (NAME_IS(f, "host")) {
            hosts++;
        }
    }
    h->has_host = hosts > 0;
    h->keep_alive = h->minor >= 1 ? !conn_close : (conn_keep && !conn_close);
    if (request) {
        if (hosts > 1 || (h->minor >= 1 && hosts == 0))
            return NB_HTTP_EBAD;
        if (te) {
            if (h->content_length >= 0)
                return NB_HTTP_EBAD;
            if (h->minor == 0)
                return NB_HTTP_EBAD; /* HTTP/1.0 has no transfer codings */
            if (!te_only_chunked)
                return te_last_chunked ? NB_HTTP_EBAD : NB_HTTP_ENOTIMPL;
            h->chunked = true;
        }
    } else if (te) {
        /* RFC 9112 6.3: TE overrides CL; not chunked last: read until close */
        if (!te_last_chunked || h->content_length >= 0)
            h->keep_alive = false;
        h->content_length = -1;
        h->chunked = te_last_chunked;
    }
    return (long)pos;

incomplete:
    if (rc < 0)
        return rc;
    if (len >= max_head)
        return NB_HTTP_ETOOLARGE;
    /* Garbage need not wait for a whole line: a request must start with a
     * method token and a space. */
    if (request) {
        size_t i = 0;
        while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
            i++;
        size_t s = i;
        while (i < len && is_tchar((unsigned char)buf[i]))
            i++;
        if (i < len && (i == s || buf[i] != ' '))
            return NB_HTTP_EBAD;
        if (i - s > MAX_METHOD)
            return NB_HTTP_EBAD;
    }
    return 0;
}

long nb_http_parse_request(const char *buf, size_t len, size_t max_head, struct nb_http_head *h)
{
    return parse_head(buf, len, max_head, h, true);
}

long nb_http_parse_response(const char *buf, size_t len, size_t max_head, struct nb_http_head *h)
{
    return parse_head(buf, len, max_head, h, false);
}

enum nb_http_body nb_http_response_body(const struct nb_http_head *h, bool head_request)
{
    if (head_request || (h->status >= 100 && h->status < 200) || h->status == 204 ||
        h->status == 304)
        return NB_HTTP_BODY_NONE;
    if (h->chunked)
        return NB_HTTP_BODY_CHUNKED;
    if (h->content_length >= 0)
        return NB_HTTP_BODY_LENGTH;
    return NB_HTTP_BODY_CLOSE;
}

const char *nb_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

/* --- chunked --- */

enum {
    C_SIZE, C_EXT, C_SIZE_LF, C_DATA, C_DATA_CR, C_DATA_LF,
    C_TRAILER_START, C_TRAILER, C_FINAL_LF, C_DONE,
};

void nb_chunked_init(struct nb_chunked *c)
{
    memset(c, 0, sizeof *c);
    c->state = C_SIZE;
}

static int hexdigit(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (uint8_t)lower((char)ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* the end of a size line: data, or the trailer section after the last chunk */
static void size_line_done(struct nb_chunked *c)
{
    c->line = 0;
    c->state = c->left ? C_DATA : C_TRAILER_START;
}

int nb_chunked_decode(struct nb_chunked *c, const uint8_t *in, size_t len, size_t *used,
                      const uint8_t **data, size_t *data_len)
{
    size_t i = 0;
    *data = NULL;
    *data_len = 0;
    *used = 0; /* on errors too: nothing the caller should skip */
    while (i < len) {
        uint8_t ch = in[i];
        switch (c->state) {
        case C_SIZE: {
            int v = hexdigit(ch);
            if (v >= 0) {
                if (c->digits == 15) /* < 2^60: no overflow, and absurd anyway */
                    return NB_HTTP_EBAD;
                c->left = c->left * 16 + (uint64_t)v;
                c->digits++;
                i++;
                break;
            }
            if (c->digits == 0)
                return NB_HTTP_EBAD;
            if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = C_EXT;
                c->line = 0;
            } else if (ch == '\r') {
                c->state = C_SIZE_LF;
            } else if (ch == '\n') {
                size_line_done(c);
            } else {
                return NB_HTTP_EBAD;
            }
            i++;
            break;
        }
        case C_EXT:
            i++;
            if (ch == '\n') {
                size_line_done(c);
            } else if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f ||
                       ++c->line > NB_CHUNKED_LINE_MAX) {
                return NB_HTTP_EBAD;
            }
            break;
        case C_SIZE_LF:
            if (ch != '\n')
                return NB_HTTP_EBAD;
            i++;
            size_line_done(c);
            break;
        case C_DATA: {
            size_t n = len - i;
            if ((uint64_t)n > c->left)
                n = (size_t)c->left;
            c->left -= n;
            if (c->left == 0)
                c->state = C_DATA_CR;
            *data = in + i;
            *data_len = n;
            *used = i + n;
            return NB_CHUNKED_DATA;
        }
        case C_DATA_CR:
            i++;
            if (ch == '\r') {
                c->state = C_DATA_LF;
            } else if (ch == '\n') {
                c->state = C_SIZE;
                c->digits = 0;
            } else {
                return NB_HTTP_EBAD;
            }
            break;
        case C_DATA_LF:
            if (ch != '\n')
                return NB_HTTP_EBAD;
            i++;
            c->state = C_SIZE;
            c->digits = 0;
            break;
        case C_TRAILER_START:
            i++;
            if (ch == '\r') {
                c->state = C_FINAL_LF;
            } else if (ch == '\n') {
                c->state = C_DONE;
                *used = i;
                return NB_CHUNKED_DONE;
            } else {
                c->state = C_TRAILER;
                if (++c->trailer > NB_CHUNKED_TRAILER_MAX)
                    return NB_HTTP_EBAD;
            }
            break;
        case C_TRAILER:
            i++;
            if (++c->trailer > NB_CHUNKED_TRAILER_MAX)
                return NB_HTTP_EBAD;
            if (ch == '\n')
                c->state = C_TRAILER_START;
            else if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f)
                return NB_HTTP_EBAD;
            break;
        case C_FINAL_LF:
            if (ch != '\n')
                return NB_HTTP_EBAD;
            i++;
            c->state = C_DONE;
            *used = i;
            return NB_CHUNKED_DONE;
        default: /* C_DONE */
            *used = i;
            return NB_CHUNKED_DONE;
        }
    }
    *used = i;
    return c->state == C_DONE ? NB_CHUNKED_DONE : NB_CHUNKED_MORE;
}
