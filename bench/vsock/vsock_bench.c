/*
 * vsock stream throughput and round-trip latency between two NeoBoot
 * stacks over memlink, beside Linux AF_UNIX stream sockets measured in the
 * same run, for 1 KiB, 64 KiB and 1 MiB writes.
 *
 * NeoBoot runs both ends on one thread (its event loop moves the packets),
 * so the first reference is AF_UNIX driven the same way: one thread,
 * non-blocking, alternating writer and reader. The second reference is
 * AF_UNIX as two programs would use it: a writer thread and a reader
 * thread on the machine's two cores. Ratios are NeoBoot / reference.
 *
 * usage: vsock_bench [SECONDS_PER_CASE]
 */
#define _GNU_SOURCE
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/platform.h>
#include <neoboot/vsock.h>

#include "memlink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static double secs_per_case = 2.0;
static uint8_t *wbuf, *rbuf;

static double now_s(void) { return (double)nb_clock_ns() / 1e9; }

/* --- NeoBoot --- */

static struct nb_memlink *ml;
static struct nb_stack *sa, *sb;
static nb_sock *ca, *cb;

static void nb_setup(void)
{
    ml = nb_memlink_new("bva", "bvb", NB_LINK_VSOCK, 3, 4);
    sa = nb_stack_new("A");
    sb = nb_stack_new("B");
    nb_stack_attach(sa, nb_memlink_end(ml, 0));
    nb_stack_attach(sb, nb_memlink_end(ml, 1));
    nb_iface_start(nb_memlink_end(ml, 0));
    nb_iface_start(nb_memlink_end(ml, 1));
    nb_sock *l;
    nb_socket(sb, NB_AF_VSOCK, NB_SOCK_STREAM, &l);
    struct nb_addr a = nb_addr_vsock(NB_VMADDR_CID_ANY, 9);
    nb_bind(l, &a);
    nb_listen(l, 1);
    nb_socket(sa, NB_AF_VSOCK, NB_SOCK_STREAM, &ca);
    struct nb_addr to = nb_addr_vsock(4, 9);
    if (nb_connect(ca, &to) != 0 || nb_accept(l, &cb, NULL) != 0) {
        fprintf(stderr, "vsock_bench: connect failed\n");
        exit(1);
    }
    nb_close(l);
    nb_setopt(ca, NB_SO_NONBLOCK, 1);
    nb_setopt(cb, NB_SO_NONBLOCK, 1);
}

static double nb_throughput(size_t w)
{
    uint64_t recvd = 0;
    size_t off = 0;
    double t0 = now_s(), t1;
    while ((t1 = now_s()) - t0 < secs_per_case) {
        for (int k = 0; k < 16; k++) {
            long n = nb_send(ca, wbuf + off, w - off, 0);
            if (n > 0)
                off = (off + (size_t)n) % w;
            long r;
            while ((r = nb_recv(cb, rbuf, 1 << 20, 0)) > 0)
                recvd += (uint64_t)r;
            nb_loop_run_once(nb_clock_ns());
        }
    }
    return (double)recvd / (t1 - t0);
}

static double nb_rtt(size_t w)
{
    int rounds = 0;
    double t0 = now_s(), t1;
    while ((t1 = now_s()) - t0 < secs_per_case / 2) {
        size_t s1 = 0, r1 = 0, s2 = 0, r2 = 0;
        while (r2 < w) {
            if (s1 < w) {
                long n = nb_send(ca, wbuf + s1, w - s1, 0);
                if (n > 0)
                    s1 += (size_t)n;
            }
            if (r1 < w) {
                long n = nb_recv(cb, rbuf, w - r1, 0);
                if (n > 0)
                    r1 += (size_t)n;
            }
            if (s2 < r1) {
                long n = nb_send(cb, wbuf + s2, r1 - s2, 0);
                if (n > 0)
                    s2 += (size_t)n;
            }
            long n = nb_recv(ca, rbuf, w - r2, 0);
            if (n > 0)
                r2 += (size_t)n;
            nb_loop_run_once(nb_clock_ns());
        }
        rounds++;
    }
    return (t1 - t0) / rounds * 1e6;
}

/* --- AF_UNIX, one thread --- */

static int ux[2];

static void ux_setup(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, ux) != 0) {
        perror("socketpair");
        exit(1);
    }
}

static void ux_nonblock(bool on)
{
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(ux[i], F_GETFL);
        fcntl(ux[i], F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
    }
}

static double ux_throughput_1t(size_t w)
{
    ux_nonblock(true);
    uint64_t recvd = 0;
    size_t off = 0;
    double t0 = now_s(), t1;
    while ((t1 = now_s()) - t0 < secs_per_case) {
        for (int k = 0; k < 16; k++) {
            ssize_t n = write(ux[0], wbuf + off, w - off);
            if (n > 0)
                off = (off + (size_t)n) % w;
            ssize_t r;
            while ((r = read(ux[1], rbuf, 1 << 20)) > 0)
                recvd += (uint64_t)r;
        }
    }
    return (double)recvd / (t1 - t0);
}

static double ux_rtt_1t(size_t w)
{
    ux_nonblock(true);
    int rounds = 0;
    double t0 = now_s(), t1;
    while ((t1 = now_s()) - t0 < secs_per_case / 2) {
        size_t s1 = 0, r1 = 0, s2 = 0, r2 = 0;
        while (r2 < w) {
            ssize_t n;
            if (s1 < w && (n = write(ux[0], wbuf + s1, w - s1)) > 0)
                s1 += (size_t)n;
            if (r1 < w && (n = read(ux[1], rbuf, w - r1)) > 0)
                r1 += (size_t)n;
            if (s2 < r1 && (n = write(ux[1], wbuf + s2, r1 - s2)) > 0)
                s2 += (size_t)n;
            if ((n = read(ux[0], rbuf, w - r2)) > 0)
                r2 += (size_t)n;
        }
        rounds++;
    }
    return (t1 - t0) / rounds * 1e6;
}

/* --- AF_UNIX, two threads --- */

static volatile int stop_flag;
static size_t thread_w;

static void *ux_reader(void *arg)
{
    uint64_t *total = arg;
    uint8_t *b = malloc(1 << 20);
    ssize_t r;
    while ((r = read(ux[1], b, 1 << 20)) > 0)
        *total += (uint64_t)r;
    free(b);
    return NULL;
}

static double ux_throughput_2t(size_t w)
{
    ux_nonblock(false);
    uint64_t total = 0;
    pthread_t th;
    pthread_create(&th, NULL, ux_reader, &total);
    double t0 = now_s(), t1;
    while ((t1 = now_s()) - t0 < secs_per_case)
        if (write(ux[0], wbuf, w) < 0)
            break;
    shutdown(ux[0], SHUT_WR);
    pthread_join(th, NULL);
    double t2 = now_s();
    close(ux[0]);
    close(ux[1]);
    ux_setup();
    return (double)total / (t2 - t0);
}

static void *ux_echoer(void *arg)
{
    (void)arg;
    uint8_t *b = malloc(thread_w);
    while (!stop_flag) {
        size_t got = 0;
        while (got < thread_w) {
            ssize_t r = read(ux[1], b + got, thread_w - got);
            if (r <= 0)
                goto out;
            got += (size_t)r;
        }
        size_t put = 0;
        while (put < thread_w) {
            ssize_t n = write(ux[1], b + put, thread_w - put);
            if (n <= 0)
                goto out;
            put += (size_t)n;
        }
    }
out:
    free(b);
    return NULL;
}

static double ux_rtt_2t(size_t w)
{
    ux_nonblock(false);
    thread_w = w;
    stop_flag = 0;
    pthread_t th;
    pthread_create(&th, NULL, ux_echoer, NULL);
    int rounds = 0;
    double t0 = now_s(), t1;
    while ((t1 = now_s()) - t0 < secs_per_case / 2) {
        size_t put = 0, got = 0;
        while (put < w) {
            ssize_t n = write(ux[0], wbuf + put, w - put);
            if (n <= 0)
                break;
            put += (size_t)n;
            /* drain replies as they come so a large w cannot deadlock */
            ssize_t r = recv(ux[0], rbuf, w - got, MSG_DONTWAIT);
            if (r > 0)
                got += (size_t)r;
        }
        while (got < w) {
            ssize_t r = read(ux[0], rbuf, w - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        rounds++;
    }
    stop_flag = 1;
    shutdown(ux[0], SHUT_RDWR);
    pthread_join(th, NULL);
    close(ux[0]);
    close(ux[1]);
    ux_setup();
    return (t1 - t0) / rounds * 1e6;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        secs_per_case = atof(argv[1]);
    nb_log_configure("warn");
    wbuf = malloc(1 << 20);
    rbuf = malloc(1 << 20);
    memset(wbuf, 0xa5, 1 << 20);
    nb_setup();
    ux_setup();
    static const size_t sizes[] = {1024, 64 * 1024, 1024 * 1024};
    printf("vsock over memlink vs AF_UNIX (same run, %.1f s per case)\n", secs_per_case);
    printf("%-8s | %12s %12s %12s | %7s %7s\n", "write", "NeoBoot MB/s", "unix-1t MB/s",
           "unix-2t MB/s", "vs 1t", "vs 2t");
    for (size_t i = 0; i < 3; i++) {
        size_t w = sizes[i];
        double n = nb_throughput(w), u1 = ux_throughput_1t(w), u2 = ux_throughput_2t(w);
        printf("%5zu KiB | %12.0f %12.0f %12.0f | %6.2fx %6.2fx\n", w / 1024, n / 1e6,
               u1 / 1e6, u2 / 1e6, n / u1, n / u2);
    }
    printf("\n%-8s | %12s %12s %12s | %7s %7s\n", "echo", "NeoBoot us", "unix-1t us",
           "unix-2t us", "vs 1t", "vs 2t");
    for (size_t i = 0; i < 3; i++) {
        size_t w = sizes[i];
        double n = nb_rtt(w), u1 = ux_rtt_1t(w), u2 = ux_rtt_2t(w);
        /* for latency, lower is better: ratio is reference / NeoBoot */
        printf("%5zu KiB | %12.1f %12.1f %12.1f | %6.2fx %6.2fx\n", w / 1024, n, u1, u2,
               u1 / n, u2 / n);
    }
    printf("(throughput ratio = NeoBoot / reference; latency ratio = reference / NeoBoot;"
           " above 1 means NeoBoot is better)\n");
    return 0;
}
