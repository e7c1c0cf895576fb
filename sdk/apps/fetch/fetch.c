/*
 * fetch: download a URL with libneoboot's HTTP client, write the body to
 * stdout, and print its SHA-256 and the transfer rate to stderr; on a
 * terminal, a progress bar as well.
 *
 *     neoboot run --allow-connect tcp:10.0.2.2:8000 fetch.wasm \
 *         http://10.0.2.2:8000/kernel > kernel
 *
 * The app has no file system (NeoBoot grants none): the body goes to
 * stdout, and the shell that started NeoBoot puts it in a file. -o FILE
 * is tried through WASI all the same, and says so when it cannot.
 */
#define _POSIX_C_SOURCE 200809L /* fileno, isatty, write */
#include "nb_http.h"
#include "nb_sha256.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF (256 * 1024)
#define PROGRESS_NS (200 * NB_MSEC)

static void usage(void)
{
    fprintf(stderr,
            "usage: fetch [-o FILE|-] [-n] [-q] [--max-redirects N] [--timeout S] URL...\n"
            "       fetch -T - URL\n"
            "Downloads each URL (http://) to stdout and prints its sha256 to stderr;\n"
            "URLs on the same server share one kept-alive connection.\n"
            "  -T -               upload stdin with PUT (streamed, chunked); the answer to stdout\n"
            "  -o FILE            write there instead (needs a file system from the runtime)\n"
            "  -n                 discard the body (still hashed)\n"
            "  -q                 no progress bar\n"
            "  --no-hash          skip the sha256 (it costs more CPU than the transfer)\n"
            "  --max-redirects N  follow at most N redirects (default 5)\n"
            "  --timeout S        fail when no byte arrives for S seconds (default 30)\n");
}

static uint8_t buf[BUF];

static double secs(int64_t ns) { return (double)ns / 1e9; }

static void human(double bytes, char *out, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (bytes >= 1024 && k < 4) {
        bytes /= 1024;
        k++;
    }
    snprintf(out, len, k ? "%.1f %s" : "%.0f %s", bytes, u[k]);
}

static void progress(uint64_t got, int64_t total, int64_t elapsed_ns, bool final)
{
    char a[32], r[32];
    double rate = elapsed_ns > 0 ? (double)got / secs(elapsed_ns) : 0;
    human((double)got, a, sizeof a);
    human(rate, r, sizeof r);
    if (total > 0) {
        int pct = (int)(got * 100 / (uint64_t)total);
        int fill = pct * 30 / 100;
        char bar[31];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, ' ', (size_t)(30 - fill));
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %3d%% %10s %10s/s ", bar, pct, a, r);
    } else {
        fprintf(stderr, "\r%10s %10s/s ", a, r);
    }
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The request body for -T -: stdin, streamed (chunked). */
static long stdin_source(void *arg, void *p, size_t cap)
{
    (void)arg;
    for (;;) {
        ssize_t n = read(0, p, cap);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return NB_EIO;
    }
}

struct opts {
    bool discard, quiet, hash, upload;
    int fd;
};

/* One URL: request, body to fd, sha256 and rate to stderr. 0 or 1. */
static int fetch_one(struct nb_http_client *c, const char *url, const struct opts *op)
{
    bool bar = !op->quiet && isatty(2);
    int64_t t0 = nb_now();
    int st = op->upload ? nb_http_request(c, "PUT", url, NULL, NULL, -1, stdin_source, NULL)
                        : nb_http_get(c, url);
    if (st < 0) {
        fprintf(stderr, "fetch: %s: %s\n", url, nb_strerror(st));
        return 1;
    }
    int64_t total = nb_http_content_length(c);
    struct nb_sha256 sha;
    nb_sha256_init(&sha);
    uint64_t got = 0;
    int64_t last = t0;
    long n;
    while ((n = nb_http_read(c, buf, sizeof buf)) > 0) {
        if (op->hash)
            nb_sha256_update(&sha, buf, (size_t)n);
        got += (uint64_t)n;
        if (!op->discard && write_all(op->fd, buf, (size_t)n) != 0) {
            fprintf(stderr, "fetch: write: %s\n", strerror(errno));
            return 1;
        }
        if (bar) {
            int64_t now = nb_now();
            if (now - last >= PROGRESS_NS) {
                progress(got, total, now - t0, false);
                last = now;
            }
        }
    }
    int64_t t1 = nb_now();
    if (bar)
        progress(got, total, t1 - t0, true);
    if (n < 0) {
        fprintf(stderr, "fetch: %s: body: %s after %" PRIu64 " bytes\n", url, nb_strerror((int)n), got);
        return 1;
    }
    uint8_t d[32];
    char hex[65], hs[32], rs[32];
    nb_sha256_final(&sha, d);
    nb_sha256_hex(d, hex);
    double el = secs(t1 - t0);
    human((double)got, hs, sizeof hs);
    human(el > 0 ? (double)got / el : 0, rs, sizeof rs);
    if (op->hash)
        fprintf(stderr, "sha256: %s\n", hex);
    fprintf(stderr, "fetch: HTTP %d, %" PRIu64 " bytes (%s) in %.3f s, %s/s\n", st, got, hs, el, rs);
    return st >= 200 && st < 300 ? 0 : 1;
}

#define MAX_URLS 16

int main(int argc, char **argv)
{
    const char *urls[MAX_URLS], *outpath = "-";
    int nurls = 0;
    struct opts op = {.hash = true, .fd = 1};
    struct nb_http_client_opts o;
    nb_http_client_defaults(&o);
    o.user_agent = "neoboot-fetch";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-n") == 0) {
            op.discard = true;
        } else if (strcmp(a, "-q") == 0) {
            op.quiet = true;
        } else if (strcmp(a, "--no-hash") == 0) {
            op.hash = false;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            return 0;
        } else if (strcmp(a, "-T") == 0 && v && strcmp(v, "-") == 0) {
            op.upload = true;
            i++;
        } else if (strcmp(a, "-o") == 0 && v) {
            outpath = v;
            i++;
        } else if (strcmp(a, "--max-redirects") == 0 && v) {
            o.max_redirects = atoi(v);
            i++;
        } else if (strcmp(a, "--timeout") == 0 && v && atof(v) > 0) {
            o.io_timeout_ns = (int64_t)(atof(v) * 1e9);
            i++;
        } else if (a[0] != '-' && nurls < MAX_URLS) {
            urls[nurls++] = a;
        } else {
            usage();
            return 2;
        }
    }
    if (!nurls || (op.upload && nurls != 1)) {
        usage();
        return 2;
    }
    FILE *f = NULL;
    if (!op.discard && strcmp(outpath, "-") != 0) {
        f = fopen(outpath, "wb");
        if (!f) {
            fprintf(stderr, "fetch: cannot open %s: %s (NeoBoot grants apps no file system: "
                            "write to stdout and redirect it)\n", outpath, strerror(errno));
            return 1;
        }
        op.fd = fileno(f);
    }
    struct nb_http_client *c = malloc(sizeof *c); /* 64 KiB: not on the stack */
    if (!c) {
        fprintf(stderr, "fetch: out of memory\n");
        return 1;
    }
    /* several URLs share the client: one kept-alive connection per server */
    nb_http_client_init(c, &o);
    int rc = 0;
    for (int k = 0; k < nurls && rc == 0; k++)
        rc = fetch_one(c, urls[k], &op);
    nb_http_client_close(c);
    free(c);
    if (f)
        fclose(f);
    return rc;
}
