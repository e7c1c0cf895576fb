/*
 * App configuration text (include/neoboot/appcfg.h, docs/image.md): the
 * `key=value` lines a bundle carries, parsed strictly and without
 * allocating.
 *
 * This text is outside input (an image anyone may have built or edited
 * reaches it before its digest is even looked at by tools such as
 * `image inspect`), so the parser bounds everything: the whole text, each
 * line, each value, the number of repeated keys; it refuses NUL and
 * control bytes; numbers are range-checked. The fuzz target
 * tests/fuzz/fuzz_bundle.c runs it on arbitrary text.
 */
#include <neoboot/abi.h>
#include <neoboot/appcfg.h>
#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nb_appcfg_defaults(struct nb_appcfg *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->name, "app");
    c->argc = 1;
    c->argv[0] = c->name;
    /* the ABI's defaults (docs/abi.md): listen on ports >= 1024, no connect */
    struct nb_app_config d;
    nb_app_config_defaults(&d);
    c->caps = d.caps;
    c->net.mode = NB_NET_DHCP;
    c->net_wait_s = 30;
    c->on_exit = NB_ON_EXIT_SHELL;
}

static int why_set(char *why, size_t why_len, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int why_set(char *why, size_t why_len, unsigned line, const char *fmt, ...)
{
    if (why && why_len) {
        int n = line ? snprintf(why, why_len, "line %u: ", line) : 0;
        if (n < 0 || (size_t)n >= why_len)
            n = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why + n, why_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return NB_EINVAL;
}

/* --- values --- */

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (d > max || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (*s)
        return false;
    *out = v;
    return true;
}

/* BYTES with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t max, uint64_t *out)
{
    char num[24];
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n && strchr("KkMmGg", s[n - 1])) {
        char u = s[n - 1];
        shift = (u == 'K' || u == 'k') ? 10 : (u == 'M' || u == 'm') ? 20 : 30;
        n--;
    }
    if (n == 0 || n >= sizeof num)
        return false;
    memcpy(num, s, n);
    num[n] = 0;
    uint64_t v;
    if (!parse_u64(num, max >> shift, &v))
        return false;
    *out = v << shift;
    return true;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NB_APPCFG_NAME_MAX)
        return false;
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

bool nb_appcfg_log_spec_ok(const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len > NB_APPCFG_LOG_MAX)
        return false;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[64];
        if (n == 0 || n >= sizeof item)
            return false;
        memcpy(item, p, n);
        item[n] = 0;
        char *eq = strchr(item, '=');
        const char *level = item;
        if (eq) {
            *eq = 0;
            if (item[0] == 0)
                return false;
            level = eq + 1;
        }
        if (nb_log_parse_level(level) < 0)
            return false;
        p += n;
        if (*p == ',') {
            p++;
            if (!*p)
                return false;
        }
    }
    return true;
}

static int parse_ip_any(const char *s, struct nb_addr *a)
{
    memset(a, 0, sizeof *a);
    if (strchr(s, ':')) {
        a->family = NB_AF_INET6;
        return nb_parse_ip6(s, strlen(s), a->u.ip6);
    }
    a->family = NB_AF_INET;
    return nb_parse_ip4(s, strlen(s), a->u.ip4);
}

int nb_netcfg_parse(struct nb_netcfg *n, const char *text, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    memset(n, 0, sizeof *n);
    if (strcmp(text, "dhcp") == 0) {
        n->mode = NB_NET_DHCP;
        return 0;
    }
    if (strcmp(text, "none") == 0) {
        n->mode = NB_NET_NONE;
        return 0;
    }
    if (strncmp(text, "static:", 7) != 0) {
        *why = "expected dhcp, none or static:IP/PREFIX[,gw=GW][,dns=DNS]";
        return NB_EINVAL;
    }
    n->mode = NB_NET_STATIC;
    char buf[160];
    if (strlen(text + 7) >= sizeof buf) {
        *why = "static: value too long";
        return NB_EINVAL;
    }
    strcpy(buf, text + 7);
    bool first = true;
    for (char *tok = buf, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = 0;
        if (first) {
            first = false;
            char *slash = strchr(tok, '/');
            uint64_t prefix = 24;
            if (slash) {
                *slash = 0;
                if (!parse_u64(slash + 1, 32, &prefix)) {
                    *why = "the prefix must be 0..32";
                    return NB_EINVAL;
                }
            }
            if (nb_parse_ip4(tok, strlen(tok), n->ip4) != 0) {
                *why = "bad IPv4 address";
                return NB_EINVAL;
            }
            n->prefix = (uint8_t)prefix;
        } else if (strncmp(tok, "gw=", 3) == 0) {
            if (n->has_gw || nb_parse_ip4(tok + 3, strlen(tok + 3), n->gw4) != 0) {
                *why = "bad gw= (one IPv4 address)";
                return NB_EINVAL;
            }
            n->has_gw = true;
        } else if (strncmp(tok, "dns=", 4) == 0) {
            if (n->has_dns || parse_ip_any(tok + 4, &n->dns) != 0) {
                *why = "bad dns= (one IPv4 or IPv6 address)";
                return NB_EINVAL;
            }
            n->has_dns = true;
        } else {
            *why = "unknown static: option (gw=, dns=)";
            return NB_EINVAL;
        }
    }
    if (first) {
        *why = "static: needs an address";
        return NB_EINVAL;
    }
    return 0;
}

void nb_netcfg_format(const struct nb_netcfg *n, char *buf, size_t len)
{
    if (n->mode == NB_NET_DHCP) {
        snprintf(buf, len, "dhcp");
        return;
    }
    if (n->mode == NB_NET_NONE) {
        snprintf(buf, len, "none");
        return;
    }
    char gw[32] = "", dns[80] = "", a[64];
    if (n->has_gw)
        snprintf(gw, sizeof gw, ",gw=%u.%u.%u.%u", n->gw4[0], n->gw4[1], n->gw4[2], n->gw4[3]);
    if (n->has_dns) {
        nb_addr_format(&n->dns, a, sizeof a);
        /* nb_addr_format adds ":0" / "[...]:0" for the port; drop it */
        char *colon = strrchr(a, ':');
        if (colon)
            *colon = 0;
        if (a[0] == '[') {
            size_t l = strlen(a);
            memmove(a, a + 1, l);
            if (l >= 2 && a[l - 2] == ']')
                a[l - 2] = 0;
        }
        snprintf(dns, sizeof dns, ",dns=%s", a);
    }
    snprintf(buf, len, "static:%u.%u.%u.%u/%u%s%s", n->ip4[0], n->ip4[1], n->ip4[2],
             n->ip4[3], n->prefix, gw, dns);
}

/* --- lines --- */

static const char *store(struct nb_appcfg *c, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > sizeof c->strings - c->strings_used)
        return NULL;
    char *p = c->strings + c->strings_used;
    memcpy(p, s, n);
    c->strings_used += n;
    return p;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    return s;
}

static int apply(struct nb_appcfg *c, unsigned ln, const char *key, const char *v,
                 char *why, size_t why_len)
{
    const char *reason = NULL;
    uint64_t u;
    if (strcmp(key, "name") == 0) {
        if (!name_ok(v))
            return why_set(why, why_len, ln, "name must be 1-%d letters, digits, '.', '_' or '-'",
                           NB_APPCFG_NAME_MAX);
        strcpy(c->name, v);
    } else if (strcmp(key, "arg") == 0) {
        if (c->argc > NB_APPCFG_MAX_ARGS)
            return why_set(why, why_len, ln, "more than %d arguments", NB_APPCFG_MAX_ARGS);
        if (!(c->argv[c->argc] = store(c, v)))
            return why_set(why, why_len, ln, "out of room for arguments");
        c->argc++;
    } else if (strcmp(key, "env") == 0) {
        const char *eq = strchr(v, '=');
        if (!eq || eq == v)
            return why_set(why, why_len, ln, "env needs NAME=VALUE");
        if (c->nenv >= NB_APPCFG_MAX_ENV)
            return why_set(why, why_len, ln, "more than %d env entries", NB_APPCFG_MAX_ENV);
        if (!(c->envp[c->nenv] = store(c, v)))
            return why_set(why, why_len, ln, "out of room for the environment");
        c->nenv++;
    } else if (strcmp(key, "allow-listen") == 0 || strcmp(key, "allow-connect") == 0) {
        bool listen = key[6] == 'l';
        if (listen && !c->listen_given) {
            /* the first listen rule replaces the default, as `neoboot run` does */
            struct nb_caps keep = c->caps;
            nb_caps_init(&c->caps);
            for (size_t k = 0; k < keep.n; k++)
                if (keep.rules[k].kind != NB_CAP_LISTEN)
                    c->caps.rules[c->caps.n++] = keep.rules[k];
            c->listen_given = true;
        }
        if (nb_caps_add(&c->caps, listen ? NB_CAP_LISTEN : NB_CAP_CONNECT, v, &reason) != 0)
            return why_set(why, why_len, ln, "%s '%s': %s", key, v,
                           reason ? reason : "bad rule");
    } else if (strcmp(key, "allow-boot") == 0) {
        if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
            c->caps.boot = true;
        else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
            c->caps.boot = false;
        else
            return why_set(why, why_len, ln, "allow-boot must be yes or no");
    } else if (strcmp(key, "net") == 0) {
        if (nb_netcfg_parse(&c->net, v, &reason) != 0)
            return why_set(why, why_len, ln, "net: %s", reason);
        c->net_given = true;
    } else if (strcmp(key, "log") == 0) {
        if (!nb_appcfg_log_spec_ok(v))
            return why_set(why, why_len, ln, "bad log spec '%s' (e.g. info,inet=debug)", v);
        strcpy(c->log, v);
    } else if (strcmp(key, "max-memory") == 0) {
        if (!parse_size(v, 4ull << 30, &u) || u < 65536)
            return why_set(why, why_len, ln, "max-memory needs a size from 64K to 4G");
        c->max_memory = u;
    } else if (strcmp(key, "fuel") == 0) {
        if (!parse_u64(v, UINT64_MAX - 1, &u) || u == 0)
            return why_set(why, why_len, ln, "fuel needs a positive number");
        c->fuel = u;
    } else if (strcmp(key, "timeout") == 0) {
        if (!parse_u64(v, 1000000000ull, &u) || u == 0)
            return why_set(why, why_len, ln, "timeout needs a positive number of seconds");
        c->timeout_s = u;
    } else if (strcmp(key, "net-wait") == 0) {
        if (!parse_u64(v, 3600, &u))
            return why_set(why, why_len, ln, "net-wait needs seconds from 0 to 3600");
        c->net_wait_s = (uint32_t)u;
    } else if (strcmp(key, "on-exit") == 0) {
        if (strcmp(v, "shell") == 0)
            c->on_exit = NB_ON_EXIT_SHELL;
        else if (strcmp(v, "poweroff") == 0)
            c->on_exit = NB_ON_EXIT_POWEROFF;
        else if (strcmp(v, "reboot") == 0)
            c->on_exit = NB_ON_EXIT_REBOOT;
        else if (strcmp(v, "restart") == 0)
            c->on_exit = NB_ON_EXIT_RESTART;
        else
            return why_set(why, why_len, ln, "on-exit must be shell, poweroff, reboot or restart");
    } else {
        return why_set(why, why_len, ln, "unknown key '%.40s'", key);
    }
    return 0;
}

int nb_appcfg_parse(struct nb_appcfg *c, const char *text, size_t len, char *why,
                    size_t why_len)
{
    nb_appcfg_defaults(c);
    if (why && why_len)
        why[0] = 0;
    if (len > NB_APPCFG_TEXT_MAX) {
        why_set(why, why_len, 0, "configuration larger than %u bytes", NB_APPCFG_TEXT_MAX);
        return NB_E2BIG;
    }
    char line[NB_APPCFG_LINE_MAX + 1];
    size_t pos = 0;
    unsigned ln = 0;
    while (pos < len) {
        ln++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = end - pos;
        if (n && text[pos + n - 1] == '\r')
            n--;
        if (n > NB_APPCFG_LINE_MAX)
            return why_set(why, why_len, ln, "longer than %d bytes", NB_APPCFG_LINE_MAX);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)text[pos + i];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return why_set(why, why_len, ln, "control character 0x%02x", ch);
        }
        memcpy(line, text + pos, n);
        line[n] = 0;
        pos = end + 1;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return why_set(why, why_len, ln, "expected key=value");
        *eq = 0;
        int rc = apply(c, ln, trim(s), trim(eq + 1), why, why_len);
        if (rc)
            return rc;
    }
    c->argv[c->argc] = NULL;
    c->envp[c->nenv] = NULL;
    return 0;
}

void nb_appcfg_print(const struct nb_appcfg *c, nb_print_fn print, void *arg)
{
    char line[NB_APPCFG_LINE_MAX + 32];
    snprintf(line, sizeof line, "name: %s", c->name);
    print(arg, line);
    for (int i = 1; i < c->argc; i++) {
        snprintf(line, sizeof line, "arg: %s", c->argv[i]);
        print(arg, line);
    }
    for (int i = 0; i < c->nenv; i++) {
        snprintf(line, sizeof line, "env: %s", c->envp[i]);
        print(arg, line);
    }
    char net[128];
    nb_netcfg_format(&c->net, net, sizeof net);
    snprintf(line, sizeof line, "net: %s%s", net, c->net_given ? "" : " (default)");
    print(arg, line);
    snprintf(line, sizeof line, "capabilities:%s", c->listen_given ? "" : " (default listen)");
    print(arg, line);
    nb_caps_print(&c->caps, print, arg);
    if (c->caps.boot)
        print(arg, "allow boot: the app may stage and boot a kernel");
    if (c->log[0]) {
        snprintf(line, sizeof line, "log: %s", c->log);
        print(arg, line);
    }
    if (c->max_memory) {
        snprintf(line, sizeof line, "max-memory: %llu bytes", (unsigned long long)c->max_memory);
        print(arg, line);
    }
    if (c->fuel) {
        snprintf(line, sizeof line, "fuel: %llu", (unsigned long long)c->fuel);
        print(arg, line);
    }
    if (c->timeout_s) {
        snprintf(line, sizeof line, "timeout: %llu s", (unsigned long long)c->timeout_s);
        print(arg, line);
    }
    static const char *const exits[] = {"shell", "poweroff", "reboot", "restart"};
    snprintf(line, sizeof line, "net-wait: %u s, on-exit: %s", c->net_wait_s,
             exits[c->on_exit & 3]);
    print(arg, line);
}
