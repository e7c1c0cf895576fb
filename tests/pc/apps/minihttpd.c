/*
 * minihttpd: the smallest useful HTTP server for NeoBoot's bare-metal
 * tests, built with clang --target=wasm32-wasi against sdk/include/neoboot.h
 * only (no SDK library), so the pc tests do not depend on the SDK's apps.
 *
 *     minihttpd [PORT]          (default 80)
 *
 * Serves one connection at a time, HTTP/1.0 style (one request, then
 * close): "/" answers a greeting, "/stats" the runtime's counters (JSON),
 * "/bytes/N" N bytes of a fixed pattern (throughput checks). It prints
 * "minihttpd: listening on port P" once it accepts connections, and one
 * line per request.
 */
#include <neoboot.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int send_all(int32_t h, const char *buf, size_t len)
{
    while (len) {
        int32_t n = nb_send(h, buf, len, 0);
        if (n <= 0)
            return n ? n : NB_EPIPE;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void respond(int32_t c, const char *status, const char *type, const char *body,
                    size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nServer: minihttpd (NeoBoot)\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, type, len);
    if (send_all(c, head, (size_t)n) == 0 && body)
        send_all(c, body, len);
}

static void serve_bytes(int32_t c, unsigned long long total)
{
    static char chunk[65536];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)('a' + i % 26);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nServer: minihttpd (NeoBoot)\r\n"
                     "Content-Type: application/octet-stream\r\nContent-Length: %llu\r\n"
                     "Connection: close\r\n\r\n", total);
    if (send_all(c, head, (size_t)n) != 0)
        return;
    while (total) {
        size_t k = total < sizeof chunk ? (size_t)total : sizeof chunk;
        if (send_all(c, chunk, k) != 0)
            return;
        total -= k;
    }
}

static void handle(int32_t c, const struct nb_addr *peer)
{
    char req[8192];
    size_t got = 0;
    /* a slow or silent client must not hold the server forever */
    nb_setopt(c, NB_SO_RCVTIMEO, 10000000000ll);
    while (got < sizeof req - 1) {
        int32_t n = nb_recv(c, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            return;
        got += (size_t)n;
        req[got] = 0;
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[got] = 0;
    char method[8] = "", path[256] = "";
    sscanf(req, "%7s %255s", method, path);
    printf("minihttpd: %s %s from %u.%u.%u.%u\n", method, path, peer->u.ip4[0],
           peer->u.ip4[1], peer->u.ip4[2], peer->u.ip4[3]);
    fflush(stdout);
    if (strcmp(method, "GET") != 0) {
        respond(c, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
    } else if (strcmp(path, "/") == 0) {
        static const char hello[] = "Hello from NeoBoot on bare metal (minihttpd)\n";
        respond(c, "200 OK", "text/plain", hello, sizeof hello - 1);
    } else if (strcmp(path, "/stats") == 0) {
        static char buf[65536];
        int32_t n = nb_stats(buf, sizeof buf);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
        respond(c, "200 OK", "application/json", buf, len);
    } else if (strncmp(path, "/bytes/", 7) == 0) {
        serve_bytes(c, strtoull(path + 7, NULL, 10));
    } else {
        respond(c, "404 Not Found", "text/plain", "not found\n", 10);
    }
}

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 80;
    int32_t s = nb_socket(NB_AF_INET, NB_SOCK_STREAM);
    struct nb_addr a = {.family = NB_AF_INET, .port = port};
    int32_t rc = s < 0 ? s : nb_setopt(s, NB_SO_REUSEADDR, 1);
    if (rc == 0)
        rc = nb_bind(s, &a);
    if (rc == 0)
        rc = nb_listen(s, 16);
    if (rc < 0) {
        fprintf(stderr, "minihttpd: cannot listen on port %u: error %d\n", port, (int)-rc);
        return 1;
    }
    printf("minihttpd: listening on port %u\n", port);
    fflush(stdout);
    for (;;) {
        struct nb_addr peer;
        int32_t c = nb_accept(s, &peer);
        if (c < 0) {
            fprintf(stderr, "minihttpd: accept: error %d\n", (int)-c);
            return 1;
        }
        handle(c, &peer);
        nb_close(c);
    }
}
