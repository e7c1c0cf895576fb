/*
 * echo: an echo service over TCP and/or vsock, one guest serving every
 * connection from a single nb_poll loop (libneoboot's poll set).
 *
 *     neoboot run --allow-listen tcp:7 echo.wasm --tcp 7
 *     neoboot run --vsock-uds /tmp/v.sock echo.wasm --vsock 5000
 *
 * Each connection has one buffer: read into it when it is empty, write it
 * back, and only read again when everything went out, so a client that
 * does not read its echo stops being read (backpressure), never buffered
 * without bound. End of input from the client is passed on (shutdown)
 * once its data has been echoed.
 */
#include "nb_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF 16384

struct conn {
    int h;
    uint32_t slot;
    size_t off, len;
    bool eof;
    uint8_t buf[BUF];
};

static struct nb_pollset ps;
static uint32_t max_conns = 4000, open_conns;
static uint64_t total_conns, total_bytes;

static void usage(void)
{
    fprintf(stderr, "usage: echo [--tcp PORT] [--vsock PORT] [--max-conns N] [--verbose]\n"
                    "Echoes every byte back on each connection (default: --tcp 7000).\n");
}

static void conn_close(struct conn *c)
{
    nb_close(c->h);
    struct conn *moved = nb_pollset_del(&ps, c->slot);
    if (moved)
        moved->slot = c->slot;
    free(c);
    open_conns--;
}

static void accept_all(int lh)
{
    for (int k = 0; k < 64; k++) {
        struct nb_addr peer;
        int h = nb_accept(lh, &peer);
        if (h < 0)
            return;
        struct conn *c = open_conns < max_conns ? malloc(sizeof *c) : NULL;
        int slot = c ? nb_pollset_add(&ps, h, NB_POLLIN, c) : NB_ENOBUFS;
        if (slot < 0) {
            free(c);
            nb_close(h); /* over the limit: refuse this one, keep the others going */
            continue;
        }
        c->h = h;
        c->slot = (uint32_t)slot;
        c->off = c->len = 0;
        c->eof = false;
        nb_set_nonblock(h, true);
        nb_setopt(h, NB_TCP_NODELAY, 1);
        open_conns++;
        total_conns++;
    }
}

/* Returns false when the connection is finished. */
static bool conn_io(struct conn *c, uint32_t ev)
{
    if (ev & NB_POLLERR)
        return false;
    if (c->off == c->len && !c->eof && (ev & (NB_POLLIN | NB_POLLHUP))) {
        int n = nb_recv(c->h, c->buf, BUF, 0);
        if (n > 0) {
            c->off = 0;
            c->len = (size_t)n;
            total_bytes += (uint64_t)n;
        } else if (n == 0) {
            c->eof = true;
        } else if (n != NB_EAGAIN) {
            return false;
        }
    }
    while (c->off < c->len) {
        int n = nb_send(c->h, c->buf + c->off, c->len - c->off, 0);
        if (n == NB_EAGAIN)
            break;
        if (n <= 0)
            return false;
        c->off += (size_t)n;
    }
    if (c->off == c->len && c->eof) {
        nb_shutdown(c->h, NB_SHUT_WR);
        return false; /* everything echoed: a graceful close */
    }
    nb_pollset_events(&ps, c->slot, c->off < c->len ? NB_POLLOUT : NB_POLLIN);
    return true;
}

int main(int argc, char **argv)
{
    long long tcp = -1, vsock = -1;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--verbose") == 0) {
            verbose = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (!v) {
            usage();
            return 2;
        }
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end || n < 0) {
            usage();
            return 2;
        }
        if (strcmp(a, "--tcp") == 0 && n > 0 && n < 65536)
            tcp = n;
        else if (strcmp(a, "--vsock") == 0 && n > 0 && n <= 0xFFFFFFFELL)
            vsock = n;
        else if (strcmp(a, "--max-conns") == 0 && n > 0 && n <= 4090)
            max_conns = (uint32_t)n;
        else {
            usage();
            return 2;
        }
        i++;
    }
    if (tcp < 0 && vsock < 0)
        tcp = 7000;
    int rc = nb_pollset_init(&ps, max_conns + 2);
    if (rc) {
        fprintf(stderr, "echo: %s\n", nb_strerror(rc));
        return 1;
    }
    if (tcp > 0) {
        int h = nb_tcp_listen((uint16_t)tcp, 1024);
        if (h < 0) {
            fprintf(stderr, "echo: listen on tcp port %lld: %s\n", tcp, nb_strerror(h));
            return 1;
        }
        nb_set_nonblock(h, true);
        nb_pollset_add(&ps, h, NB_POLLIN, NULL);
        fprintf(stderr, "echo: listening on tcp port %lld\n", tcp);
    }
    if (vsock > 0) {
        int h = nb_vsock_listen((uint32_t)vsock, 1024);
        if (h < 0) {
            fprintf(stderr, "echo: listen on vsock port %lld: %s\n", vsock, nb_strerror(h));
            return 1;
        }
        nb_set_nonblock(h, true);
        nb_pollset_add(&ps, h, NB_POLLIN, NULL);
        fprintf(stderr, "echo: listening on vsock port %lld\n", vsock);
    }
    uint32_t peak = 0;
    for (;;) {
        int n = nb_pollset_wait(&ps, -1);
        if (n == NB_EINTR)
            break;
        if (n < 0) {
            fprintf(stderr, "echo: poll: %s\n", nb_strerror(n));
            return 1;
        }
        for (int i = (int)ps.n - 1; n > 0 && i >= 0; i--) {
            uint32_t ev = ps.fds[i].revents;
            if (!ev)
                continue;
            n--;
            struct conn *c = ps.user[i];
            if (!c)
                accept_all(ps.fds[i].handle);
            else if (!conn_io(c, ev))
                conn_close(c);
        }
        if (open_conns > peak) {
            peak = open_conns;
            if (verbose && peak % 100 == 0)
                fprintf(stderr, "echo: %u connections open\n", peak);
        }
    }
    fprintf(stderr, "echo: %llu connections, %llu bytes, at most %u at once\n",
            (unsigned long long)total_conns, (unsigned long long)total_bytes, peak);
    return 0;
}
