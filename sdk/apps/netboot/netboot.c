/*
 * netboot.wasm: boot Linux over the network, the way a network bootloader
 * should.
 *
 *   netboot [MANIFEST_URL] [--retries N] [--wait SECONDS]
 *
 * After the network is up (DHCP), it reads a boot manifest (JSON naming a
 * kernel, an optional initrd, each with its sha256, and a command line;
 * manifest.h) from MANIFEST_URL, or from the URL in DHCP's boot file name
 * (a full http:// URL, or a path on the DHCP next server). It downloads
 * the kernel and initrd with a progress bar, streaming them straight into
 * NeoBoot's boot staging (which checks the digests), and boots. On any
 * failure it says what failed, waits (1 s, 2 s, 4 s, ...) and tries again;
 * after the last try it exits with status 1 and the reason, and NeoBoot's
 * console shell takes over.
 *
 * Needs the capabilities to connect to the servers and to boot.
 */
#include "manifest.h"

#include <nb_err.h>
#include <nb_http.h>
#include <nb_net.h>
#include <neoboot.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS 1000000000LL

static char reason[256];
static bool progress_bars;

#define FAIL(...) (snprintf(reason, sizeof reason, __VA_ARGS__), -1)

static void human(uint64_t b, char *out, size_t len)
{
    if (b >= (1u << 20))
        snprintf(out, len, "%llu.%llu MiB", (unsigned long long)(b >> 20),
                 (unsigned long long)((b & 0xfffff) * 10 >> 20));
    else
        snprintf(out, len, "%llu KiB", (unsigned long long)(b >> 10));
}

static void progress(const char *what, uint64_t got, int64_t total, int64_t started, bool done)
{
    static int64_t last;
    int64_t now = nb_now();
    if (!progress_bars || (!done && now - last < NS / 5))
        return;
    last = now;
    int64_t el = now - started;
    char g[24], r[24];
    human(got, g, sizeof g);
    human(el > 0 ? (uint64_t)((double)got * NS / (double)el) : 0, r, sizeof r);
    if (total > 0) {
        int pct = (int)(got * 100 / (uint64_t)total);
        char bar[26];
        for (int i = 0; i < 25; i++)
            bar[i] = i < pct / 4 ? '=' : i == pct / 4 ? '>' : ' ';
        bar[25] = 0;
        fprintf(stderr, "\r%-7s %3d%% [%s] %s %s/s\x1b[K", what, pct, bar, g, r);
    } else {
        fprintf(stderr, "\r%-7s %s %s/s\x1b[K", what, g, r);
    }
    if (done)
        fputc('\n', stderr);
}

/* Find the manifest URL: the argument, or DHCP's boot file. */
static int manifest_url(const char *arg, char *out, size_t len)
{
    if (arg) {
        snprintf(out, len, "%s", arg);
        return 0;
    }
    struct nb_netif ni;
    for (int i = 0; nb_netif(i, &ni) == 0; i++) {
        if (ni.link != 1 || !ni.boot_file[0])
            continue;
        char file[sizeof ni.boot_file + 1];
        memcpy(file, ni.boot_file, sizeof ni.boot_file);
        file[sizeof ni.boot_file] = 0;
        if (strncmp(file, "http://", 7) == 0) {
            snprintf(out, len, "%s", file);
        } else {
            const uint8_t *s = ni.next_server[0] ? ni.next_server : ni.dhcp_server;
            snprintf(out, len, "http://%u.%u.%u.%u/%s", s[0], s[1], s[2], s[3],
                     file[0] == '/' ? file + 1 : file);
        }
        printf("netboot: manifest URL from DHCP's boot file: %s\n", out);
        return 0;
    }
    return FAIL("no manifest URL: give one as an argument or in DHCP's boot file name");
}

static int fetch_manifest(const char *url, struct manifest *m)
{
    static struct nb_http_client c;
    static char text[MANIFEST_MAX + 1];
    nb_http_client_init(&c, NULL);
    int st = nb_http_get(&c, url);
    if (st < 0) {
        nb_http_client_close(&c);
        return FAIL("manifest %s: %s", url, nb_strerror(st));
    }
    if (st != 200) {
        nb_http_client_close(&c);
        return FAIL("manifest %s: HTTP %d", url, st);
    }
    size_t len = 0;
    long n;
    while ((n = nb_http_read(&c, text + len, MANIFEST_MAX + 1 - len)) > 0) {
        len += (size_t)n;
        if (len > MANIFEST_MAX)
            break;
    }
    nb_http_client_close(&c);
    if (n < 0)
        return FAIL("manifest %s: %s", url, nb_strerror((int)n));
    if (len > MANIFEST_MAX)
        return FAIL("manifest %s: larger than 64 KiB", url);
    const char *why;
    if (manifest_parse(text, len, url, m, &why) != 0)
        return FAIL("manifest %s: %s", url, why);
    return 0;
}

/* A refused boot call: NeoBoot's sentence if it gave one, else the code's
 * (a missing boot capability is refused before staging says anything). */
static int boot_failed(const char *what, int rc)
{
    char e[200];
    nb_boot_error(e, sizeof e);
    return FAIL("%s: %s", what, e[0] ? e : nb_strerror(rc));
}

/* Download one item into boot staging, checking nothing here: NeoBoot
 * checks the digest when it boots. Without a Content-Length the body is
 * gathered first (the size must be declared before staging). */
static int fetch_item(const char *what, int item, const struct manifest_item *it)
{
    static struct nb_http_client c;
    static uint8_t buf[65536];
    nb_http_client_init(&c, NULL);
    int st = nb_http_get(&c, it->url);
    if (st < 0 || st != 200) {
        nb_http_client_close(&c);
        return st < 0 ? FAIL("%s %s: %s", what, it->url, nb_strerror(st))
                      : FAIL("%s %s: HTTP %d", what, it->url, st);
    }
    int64_t total = nb_http_content_length(&c);
    uint8_t *gathered = NULL;
    size_t gcap = 0, glen = 0;
    if (total >= 0) {
        int rc = nb_boot_begin(item, total, it->sha256);
        if (rc < 0) {
            nb_http_client_close(&c);
            return boot_failed(what, rc);
        }
    }
    int64_t started = nb_now();
    uint64_t got = 0;
    long n;
    while ((n = nb_http_read(&c, buf, sizeof buf)) > 0) {
        if (total >= 0) {
            int rc = nb_boot_append(item, buf, (size_t)n);
            if (rc < 0) {
                nb_http_client_close(&c);
                return boot_failed(what, rc);
            }
        } else {
            if (glen + (size_t)n > gcap) {
                size_t cap = gcap ? gcap * 2 : 1 << 20;
                while (cap < glen + (size_t)n)
                    cap *= 2;
                uint8_t *g = realloc(gathered, cap);
                if (!g) {
                    free(gathered);
                    nb_http_client_close(&c);
                    return FAIL("%s: out of memory", what);
                }
                gathered = g;
                gcap = cap;
            }
            memcpy(gathered + glen, buf, (size_t)n);
            glen += (size_t)n;
        }
        got += (uint64_t)n;
        progress(what, got, total, started, false);
    }
    nb_http_client_close(&c);
    if (n < 0) {
        free(gathered);
        return FAIL("%s %s: %s after %llu bytes", what, it->url, nb_strerror((int)n),
                    (unsigned long long)got);
    }
    progress(what, got, total, started, true);
    if (total < 0) {
        int rc = nb_boot_begin(item, (int64_t)glen, it->sha256);
        if (rc == 0)
            rc = nb_boot_append(item, gathered, glen);
        free(gathered);
        if (rc < 0)
            return boot_failed(what, rc);
    }
    printf("netboot: %s: %llu bytes in %lld ms\n", what, (unsigned long long)got,
           (long long)((nb_now() - started) / 1000000));
    return 0;
}

static int attempt(const char *arg_url)
{
    char url[MANIFEST_URL_MAX];
    static struct manifest m;
    if (manifest_url(arg_url, url, sizeof url) < 0)
        return -1;
    if (fetch_manifest(url, &m) < 0)
        return -1;
    printf("netboot: kernel %s%s%s\n", m.kernel.url, m.initrd.present ? ", initrd " : "",
           m.initrd.present ? m.initrd.url : "");
    fflush(stdout);
    if (fetch_item("kernel", NB_BOOT_KERNEL, &m.kernel) < 0)
        return -1;
    if (m.initrd.present && fetch_item("initrd", NB_BOOT_INITRD, &m.initrd) < 0)
        return -1;
    if (nb_boot_cmdline(m.cmdline, strlen(m.cmdline)) < 0)
        return FAIL("command line refused");
    printf("netboot: booting: %s\n", m.cmdline);
    fflush(stdout);
    int rc = nb_boot_exec(); /* only returns on failure */
    char e[200];
    nb_boot_error(e, sizeof e);
    return FAIL("%s (%s)", e[0] ? e : "boot failed", nb_strerror(rc));
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    int retries = 3;
    int wait_s = 30;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--retries") == 0 && i + 1 < argc)
            retries = atoi(argv[++i]);
        else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc)
            wait_s = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !url)
            url = argv[i];
        else {
            fprintf(stderr, "usage: netboot [MANIFEST_URL] [--retries N] [--wait SECONDS]\n");
            return 2;
        }
    }
    if (retries < 1)
        retries = 1;
    progress_bars = isatty(2);
    printf("netboot: waiting for the network\n");
    fflush(stdout);
    if (nb_net_wait((int64_t)wait_s * NS) < 0) {
        fprintf(stderr, "netboot: no network address after %d s\n", wait_s);
        return 1;
    }
    for (int t = 1; t <= retries; t++) {
        if (attempt(url) == 0)
            return 0; /* not reached: booting does not return */
        fprintf(stderr, "netboot: attempt %d of %d failed: %s\n", t, retries, reason);
        if (t < retries) {
            int64_t backoff = (int64_t)(1u << (t - 1)) * NS;
            fprintf(stderr, "netboot: retrying in %lld s\n", (long long)(backoff / NS));
            nb_sleep(backoff);
        }
    }
    fprintf(stderr, "netboot: giving up: %s\n", reason);
    return 1;
}
