/*
 * A strict, bounded JSON reader for the boot manifest (manifest.h). It
 * accepts standard JSON (objects, arrays, strings with escapes, numbers,
 * true/false/null) up to a nesting depth of 16, keeps only the fields it
 * knows, and refuses anything ambiguous: a duplicate key, a digest that is
 * not 64 hex digits, a command line with control characters, a URL that
 * is not http://.
 */
#include "manifest.h"

#include <string.h>

#define MAX_DEPTH 16

struct rd {
    const char *p, *end;
    const char *why;
    int depth;
};

static int err(struct rd *r, const char *why)
{
    if (!r->why)
        r->why = why;
    return -1;
}

static void ws(struct rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int lit(struct rd *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return err(r, "malformed JSON");
    r->p += n;
    return 0;
}

static int hex4(struct rd *r, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (r->p >= r->end)
            return err(r, "truncated \\u escape");
        char c = *r->p++;
        int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (h < 0)
            return err(r, "bad \\u escape");
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

static int put(char *out, size_t cap, size_t *n, unsigned char c)
{
    if (!out)
        return 0; /* skipping */
    if (*n + 1 >= cap)
        return -1;
    out[(*n)++] = (char)c;
    out[*n] = 0;
    return 0;
}

/* A string into out (NUL-terminated, cap bytes) or skipped (out NULL). */
static int string(struct rd *r, char *out, size_t cap)
{
    size_t n = 0;
    if (out)
        out[0] = 0;
    if (r->p >= r->end || *r->p != '"')
        return err(r, "expected a string");
    r->p++;
    for (;;) {
        if (r->p >= r->end)
            return err(r, "unterminated string");
        unsigned char c = (unsigned char)*r->p++;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return err(r, "control character in a string");
        if (c != '\\') {
            if (put(out, cap, &n, c))
                return err(r, "string too long");
            continue;
        }
        if (r->p >= r->end)
            return err(r, "truncated escape");
        char e = *r->p++;
        unsigned u;
        switch (e) {
        case '"': case '\\': case '/': c = (unsigned char)e; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if (hex4(r, &u))
                return -1;
            if (u >= 0xd800 && u <= 0xdfff)
                return err(r, "surrogate escapes are not supported");
            /* UTF-8 */
            if (u < 0x80) {
                c = (unsigned char)u;
                break;
            }
            if (u < 0x800) {
                if (put(out, cap, &n, (unsigned char)(0xc0 | u >> 6)))
                    return err(r, "string too long");
                c = (unsigned char)(0x80 | (u & 0x3f));
                break;
            }
            if (put(out, cap, &n, (unsigned char)(0xe0 | u >> 12)) ||
                put(out, cap, &n, (unsigned char)(0x80 | (u >> 6 & 0x3f))))
                return err(r, "string too long");
            c = (unsigned char)(0x80 | (u & 0x3f));
            break;
        default:
            return err(r, "bad escape in a string");
        }
        if (put(out, cap, &n, c))
            return err(r, "string too long");
    }
}

static int skip_value(struct rd *r);

static int number(struct rd *r)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return err(r, "malformed number");
    while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || *r->p == '.' || *r->p == 'e' ||
                             *r->p == 'E' || *r->p == '+' || *r->p == '-'))
        r->p++;
    return r->p - s > 64 ? err(r, "number too long") : 0;
}

static int array_or_object(struct rd *r, char open)
{
    char close = open == '{' ? '}' : ']';
    if (++r->depth > MAX_DEPTH)
        return err(r, "nested too deeply");
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        ws(r);
        if (open == '{') {
            if (string(r, NULL, 0))
                return -1;
            ws(r);
            if (r->p >= r->end || *r->p++ != ':')
                return err(r, "expected ':'");
            ws(r);
        }
        if (skip_value(r))
            return -1;
        ws(r);
        if (r->p >= r->end)
            return err(r, "truncated JSON");
        char c = *r->p++;
        if (c == close)
            break;
        if (c != ',')
            return err(r, "expected ',' or a closing bracket");
    }
    r->depth--;
    return 0;
}

static int skip_value(struct rd *r)
{
    ws(r);
    if (r->p >= r->end)
        return err(r, "truncated JSON");
    switch (*r->p) {
    case '{': case '[': return array_or_object(r, *r->p);
    case '"': return string(r, NULL, 0);
    case 't': return lit(r, "true");
    case 'f': return lit(r, "false");
    case 'n': return lit(r, "null");
    default: return number(r);
    }
}

static int hexdigest(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return -1;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

/* url relative to base -> out (absolute http://) */
static int resolve(const char *url, const char *base, char *out, size_t cap)
{
    if (strncmp(url, "http://", 7) == 0) {
        if (strlen(url) >= cap)
            return -1;
        strcpy(out, url);
        return 0;
    }
    if (strstr(url, "://") || !base || strncmp(base, "http://", 7) != 0 || !url[0])
        return -1;
    const char *host_end = strchr(base + 7, '/');
    size_t keep;
    if (url[0] == '/') {
        keep = host_end ? (size_t)(host_end - base) : strlen(base);
    } else {
        const char *last = strrchr(base + 7, '/');
        keep = last ? (size_t)(last - base) + 1 : strlen(base);
        if (!last) {
            if (keep + 1 >= cap)
                return -1;
            memcpy(out, base, keep);
            out[keep++] = '/';
            out[keep] = 0;
            if (keep + strlen(url) >= cap)
                return -1;
            strcat(out, url);
            return 0;
        }
    }
    if (keep + strlen(url) >= cap)
        return -1;
    memcpy(out, base, keep);
    out[keep] = 0;
    strcat(out, url);
    return 0;
}

static int item(struct rd *r, struct manifest_item *it, const char *base)
{
    if (it->present)
        return err(r, "duplicate key");
    ws(r);
    if (r->p >= r->end || *r->p != '{')
        return err(r, "kernel and initrd must be objects with url and sha256");
    if (++r->depth > MAX_DEPTH)
        return err(r, "nested too deeply");
    r->p++;
    bool have_url = false, have_sum = false;
    char url[MANIFEST_URL_MAX], sum[80];
    ws(r);
    if (r->p < r->end && *r->p == '}')
        return err(r, "an item needs url and sha256");
    for (;;) {
        char key[32];
        ws(r);
        if (string(r, key, sizeof key))
            return -1;
        ws(r);
        if (r->p >= r->end || *r->p++ != ':')
            return err(r, "expected ':'");
        ws(r);
        if (strcmp(key, "url") == 0) {
            if (have_url)
                return err(r, "duplicate key");
            if (string(r, url, sizeof url))
                return -1;
            have_url = true;
        } else if (strcmp(key, "sha256") == 0) {
            if (have_sum)
                return err(r, "duplicate key");
            if (string(r, sum, sizeof sum))
                return err(r, "sha256 must be 64 hex digits");
            have_sum = true;
        } else if (skip_value(r)) {
            return -1;
        }
        ws(r);
        if (r->p >= r->end)
            return err(r, "truncated JSON");
        char c = *r->p++;
        if (c == '}')
            break;
        if (c != ',')
            return err(r, "expected ',' or '}'");
    }
    r->depth--;
    if (!have_url || !have_sum)
        return err(r, "an item needs url and sha256");
    if (hexdigest(sum, it->sha256))
        return err(r, "sha256 must be 64 hex digits");
    if (resolve(url, base, it->url, sizeof it->url))
        return err(r, "url must be http:// or relative to the manifest");
    it->present = true;
    return 0;
}

int manifest_parse(const char *text, size_t len, const char *base_url, struct manifest *out,
                   const char **why)
{
    struct rd r = {text, text + len, NULL, 0};
    memset(out, 0, sizeof *out);
    bool have_cmdline = false;
    if (len > MANIFEST_MAX) {
        *why = "manifest larger than 64 KiB";
        return -1;
    }
    ws(&r);
    if (r.p >= r.end || *r.p != '{') {
        *why = "a manifest is a JSON object";
        return -1;
    }
    r.p++;
    r.depth = 1;
    ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        for (;;) {
            char key[32];
            ws(&r);
            if (string(&r, key, sizeof key))
                goto bad;
            ws(&r);
            if (r.p >= r.end || *r.p++ != ':') {
                err(&r, "expected ':'");
                goto bad;
            }
            ws(&r);
            int rc;
            if (strcmp(key, "kernel") == 0) {
                rc = item(&r, &out->kernel, base_url);
            } else if (strcmp(key, "initrd") == 0) {
                rc = item(&r, &out->initrd, base_url);
            } else if (strcmp(key, "cmdline") == 0) {
                if (have_cmdline) {
                    err(&r, "duplicate key");
                    goto bad;
                }
                if (r.p < r.end && *r.p != '"')
                    err(&r, "cmdline must be a string under 4096 bytes");
                rc = string(&r, out->cmdline, sizeof out->cmdline);
                if (rc)
                    err(&r, "cmdline must be a string under 4096 bytes");
                for (size_t i = 0; rc == 0 && out->cmdline[i]; i++)
                    if ((unsigned char)out->cmdline[i] < 0x20) {
                        err(&r, "cmdline has a control character");
                        rc = -1;
                    }
                have_cmdline = true;
            } else {
                rc = skip_value(&r);
            }
            if (rc)
                goto bad;
            ws(&r);
            if (r.p >= r.end) {
                err(&r, "truncated JSON");
                goto bad;
            }
            char c = *r.p++;
            if (c == '}')
                break;
            if (c != ',') {
                err(&r, "expected ',' or '}'");
                goto bad;
            }
        }
    }
    ws(&r);
    if (r.p != r.end) {
        err(&r, "text after the manifest");
        goto bad;
    }
    if (!out->kernel.present) {
        err(&r, "no kernel in the manifest");
        goto bad;
    }
    *why = NULL;
    return 0;
bad:
    *why = r.why ? r.why : "malformed manifest";
    return -1;
}
