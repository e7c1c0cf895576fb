/*
 * The Linux side of the TCP benchmark (bench/inet/run.sh): the same
 * program measures NeoBoot and the Linux-to-Linux reference, so both
 * columns of the table come from one yardstick.
 *
 *   tcp_bench send HOST PORT SECONDS   connect, send zeros, print MiB/s
 *   tcp_bench recv HOST PORT SECONDS   connect, read until SECONDS or EOF
 *   tcp_bench sink PORT                serve: read each connection to EOF
 *   tcp_bench source PORT              serve: write zeros until the peer goes
 *   tcp_bench echo PORT                serve: echo each connection (a process each)
 *   tcp_bench echo1 PORT               serve: echo connections one after another
 *                                      in one process (the CPS reference: no
 *                                      fork per connection, like NeoBoot's loop)
 *   tcp_bench cps HOST PORT SECONDS    connect, 1 byte each way, close;
 *                                      print connections per second
 *
 * Servers fork per connection and run until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (256 * 1024)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "tcp_bench: bad address %s:%s\n", host, port);
        exit(2);
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "tcp_bench: connect %s:%s: %s\n", host, port, strerror(errno));
        exit(1);
    }
    freeaddrinfo(ai);
    return fd;
}

static void serve(const char *port, void (*fn)(int), bool inline_conn)
{
    int ls = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, zero = 0;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port))};
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 1024) != 0) {
        perror("tcp_bench: bind/listen");
        exit(1);
    }
    signal(SIGCHLD, SIG_IGN);
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            continue;
        if (inline_conn) {
            fn(c);
            close(c);
            continue;
        }
        pid_t p = fork();
        if (p == 0) {
            close(ls);
            fn(c);
            _exit(0);
        }
        close(c);
    }
}

static void do_sink(int fd)
{
    static char b[BUF];
    while (read(fd, b, sizeof b) > 0)
        ;
}

static void do_source(int fd)
{
    static char b[BUF];
    while (write(fd, b, sizeof b) > 0)
        ;
}

static void do_echo(int fd)
{
    static char b[BUF];
    ssize_t n;
    while ((n = read(fd, b, sizeof b)) > 0)
        if (write(fd, b, (size_t)n) != n)
            break;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment at the top of tcp_bench.c\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *mode = argv[1];
    if (!strcmp(mode, "sink"))
        serve(argv[2], do_sink, false);
    if (!strcmp(mode, "source"))
        serve(argv[2], do_source, false);
    if (!strcmp(mode, "echo"))
        serve(argv[2], do_echo, false);
    if (!strcmp(mode, "echo1"))
        serve(argv[2], do_echo, true);
    if (argc < 5)
        return 2;
    double secs = atof(argv[4]);
    static char b[BUF];
    if (!strcmp(mode, "send") || !strcmp(mode, "recv")) {
        int fd = dial(argv[2], argv[3]);
        unsigned long long bytes = 0;
        double t0 = now(), t;
        bool sending = mode[0] == 's';
        do {
            ssize_t n = sending ? write(fd, b, sizeof b) : read(fd, b, sizeof b);
            if (n <= 0)
                break;
            bytes += (unsigned long long)n;
            t = now();
        } while (t - t0 < secs);
        t = now();
        if (sending) {
            /* count what was taken; the tail in flight is within the window */
            shutdown(fd, SHUT_WR);
        }
        close(fd);
        printf("%.1f MiB/s (%llu bytes in %.2f s)\n", (double)bytes / (t - t0) / 1048576.0,
               bytes, t - t0);
        return 0;
    }
    if (!strcmp(mode, "cps")) {
        unsigned long n = 0;
        double t0 = now(), t;
        do {
            int fd = dial(argv[2], argv[3]);
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            char c = 'x';
            if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
                fprintf(stderr, "tcp_bench: cps: no echo\n");
                return 1;
            }
            /* RST instead of TIME_WAIT on our side: we are the client
             * opening thousands of connections to one port */
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(fd);
            n++;
            t = now();
        } while (t - t0 < secs);
        printf("%.0f connections/s (%lu in %.2f s)\n", (double)n / (t - t0), n, t - t0);
        return 0;
    }
    return 2;
}
