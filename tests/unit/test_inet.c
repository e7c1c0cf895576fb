/*
 * The inet family in one process: TCP and UDP over lwIP's loopback
 * interface (127.0.0.1 and ::1), exercising the socket semantics the
 * family promises (end of stream, resets, half-close, window reopening,
 * datagram boundaries and truncation, bounded queues, options, background
 * close) through the public socket API.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <neoboot/err.h>
#include <neoboot/inet.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/pkt.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct nb_stack *st;

void inet_tcp_set_cookie_threshold(uint32_t count); /* src/net/inet (tests) */

static void collect_line(void *arg, const char *line)
{
    char *text = arg;
    size_t n = strlen(text);
    snprintf(text + n, 4096 - n, "%s\n", line);
}

static void print_line(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
}

static int setup(void **state)
{
    (void)state;
    st = nb_stack_new("inet-test");
    return st ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nb_stack_free(st);
    st = NULL;
    return 0;
}

static struct nb_addr lo4(uint16_t port)
{
    const uint8_t ip[4] = {127, 0, 0, 1};
    return nb_addr_ip4(ip, port);
}

static struct nb_addr lo6(uint16_t port)
{
    uint8_t ip[16] = {0};
    ip[15] = 1;
    return nb_addr_ip6(ip, port, 0);
}

static void run_ms(uint64_t ms)
{
    nb_loop_run_until(NULL, NULL, nb_clock_ns() + ms * NB_NS_PER_MS);
}

/* A connected pair over loopback: client c, accepted a. */
static void tcp_pair(struct nb_addr addr, nb_sock **c, nb_sock **a, nb_sock **l)
{
    assert_int_equal(nb_socket(st, addr.family, NB_SOCK_STREAM, l), 0);
    assert_int_equal(nb_setopt(*l, NB_SO_REUSEADDR, 1), 0);
    assert_int_equal(nb_bind(*l, &addr), 0);
    assert_int_equal(nb_listen(*l, 4), 0);
    assert_int_equal(nb_socket(st, addr.family, NB_SOCK_STREAM, c), 0);
    nb_setopt(*c, NB_SO_CONNECT_TIMEOUT, 2 * NB_NS_PER_S);
    assert_int_equal(nb_connect(*c, &addr), 0);
    nb_setopt(*l, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    struct nb_addr peer;
    assert_int_equal(nb_accept(*l, a, &peer), 0);
    assert_int_equal(peer.family, addr.family);
}

static void test_tcp_echo_v4(void **state)
{
    (void)state;
    nb_sock *c, *a, *l;
    tcp_pair(lo4(7001), &c, &a, &l);
    assert_int_equal(nb_send(c, "hello", 5, 0), 5);
    char buf[16];
    nb_setopt(a, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    assert_int_equal(nb_recv(a, buf, sizeof buf, 0), 5);
    assert_memory_equal(buf, "hello", 5);
    struct nb_addr pn, sn;
    assert_int_equal(nb_getpeername(c, &pn), 0);
    assert_int_equal(pn.port, 7001);
    assert_int_equal(nb_getsockname(a, &sn), 0);
    assert_int_equal(sn.port, 7001);
    nb_close(c);
    /* FIN reaches the reader as end of stream */
    assert_int_equal(nb_recv(a, buf, sizeof buf, 0), 0);
    nb_close(a);
    nb_close(l);
}

static void test_tcp_echo_v6(void **state)
{
    (void)state;
    nb_sock *c, *a, *l;
    tcp_pair(lo6(7002), &c, &a, &l);
    assert_int_equal(nb_send(a, "six", 3, 0), 3);
    char buf[8];
    nb_setopt(c, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    assert_int_equal(nb_recv(c, buf, sizeof buf, 0), 3);
    assert_memory_equal(buf, "six", 3);
    nb_close(a);
    nb_close(c);
    nb_close(l);
}

/* Several MiB through a small receive buffer: the window must reopen as
 * the reader consumes, in chunks, or this stalls. */
static void test_tcp_bulk_small_rcvbuf(void **state)
{
    (void)state;
    nb_sock *c, *a, *l;
    struct nb_addr addr = lo4(7003);
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &l), 0);
    assert_int_equal(nb_bind(l, &addr), 0);
    /* set before the connection: accepted sockets inherit it */
    assert_int_equal(nb_setopt(l, NB_SO_RCVBUF, 8192), 0);
    assert_int_equal(nb_listen(l, 4), 0);
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &c), 0);
    assert_int_equal(nb_connect(c, &addr), 0);
    assert_int_equal(nb_accept(l, &a, NULL), 0);
    nb_setopt(c, NB_SO_NONBLOCK, 1);
    nb_setopt(a, NB_SO_NONBLOCK, 1);
    const size_t total = 6 << 20;
    uint8_t *out = malloc(65536), *in = malloc(3000);
    for (size_t i = 0; i < 65536; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    size_t sent = 0, got = 0;
    uint64_t deadline = nb_clock_ns() + 5 * NB_NS_PER_S;
    int64_t peak = 0;
    while (got < total && nb_clock_ns() < deadline) {
        if (sent < total) {
            long n = nb_send(c, out + sent % 65536, NB_MIN(total - sent, 65536 - sent % 65536), 0);
            if (n > 0)
                sent += (size_t)n;
            else
                assert_int_equal(n, NB_EAGAIN);
        }
        long n = nb_recv(a, in, 3000, 0);
        if (n > 0) {
            for (long i = 0; i < n; i++)
                assert_int_equal(in[i], (uint8_t)((got + (size_t)i) % 65536 * 7 + 3));
            got += (size_t)n;
        } else {
            assert_int_equal(n, NB_EAGAIN);
        }
        int64_t q;
        nb_getopt(a, NB_SO_NREAD, &q);
        if (q > peak)
            peak = q;
        struct nb_pollfd p[2] = {{c, sent < total ? NB_POLLOUT : 0, 0}, {a, NB_POLLIN, 0}};
        nb_poll(p, 2, 100 * (int64_t)NB_NS_PER_MS);
    }
    if (got != total) {
        fprintf(stderr, "sent %zu got %zu\n", sent, got);
        nb_net_print_stats(print_line, NULL);
    }
    assert_int_equal(got, total);
    /* the queue never held more than the receive buffer (plus one MSS
     * already in flight when it was set) */
    assert_true(peak <= 8192 + 2 * 1460);
    free(out);
    free(in);
    nb_close(c);
    nb_close(a);
    nb_close(l);
}

static void test_tcp_half_close(void **state)
{
    (void)state;
    nb_sock *c, *a, *l;
    tcp_pair(lo4(7004), &c, &a, &l);
    assert_int_equal(nb_send(c, "abc", 3, 0), 3);
    assert_int_equal(nb_shutdown(c, NB_SHUT_WR), 0);
    char buf[8];
    nb_setopt(a, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    assert_int_equal(nb_recv(a, buf, sizeof buf, NB_MSG_WAITALL), 3);
    assert_int_equal(nb_recv(a, buf, sizeof buf, 0), 0); /* EOF */
    assert_true(nb_sock_readiness(a) & NB_POLLRDHUP);
    /* the other direction still works */
    assert_int_equal(nb_send(a, "xyz", 3, 0), 3);
    nb_setopt(c, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    assert_int_equal(nb_recv(c, buf, sizeof buf, 0), 3);
    assert_memory_equal(buf, "xyz", 3);
    assert_int_equal(nb_send(c, "no", 2, 0), NB_EPIPE);
    nb_close(a);
    assert_int_equal(nb_recv(c, buf, sizeof buf, 0), 0);
    nb_close(c);
    nb_close(l);
}

static void test_tcp_reset(void **state)
{
    (void)state;
    nb_sock *c, *a, *l;
    tcp_pair(lo4(7005), &c, &a, &l);
    /* closing with unread data resets the connection, as Linux */
    assert_int_equal(nb_send(c, "unread", 6, 0), 6);
    run_ms(50);
    nb_close(a);
    char buf[8];
    nb_setopt(c, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    assert_int_equal(nb_recv(c, buf, sizeof buf, 0), NB_ECONNRESET);
    assert_int_equal(nb_recv(c, buf, sizeof buf, 0), 0);
    assert_int_equal(nb_send(c, "x", 1, 0), NB_EPIPE);
    nb_close(c);
    nb_close(l);
}

static void test_tcp_refused(void **state)
{
    (void)state;
    nb_sock *c;
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &c), 0);
    struct nb_addr a = lo4(7999);
    assert_int_equal(nb_connect(c, &a), NB_ECONNREFUSED);
    nb_close(c);
}

static void test_tcp_addr_in_use_and_options(void **state)
{
    (void)state;
    nb_sock *l1, *l2;
    struct nb_addr a = lo4(7006);
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &l1), 0);
    assert_int_equal(nb_bind(l1, &a), 0);
    assert_int_equal(nb_listen(l1, 1), 0);
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &l2), 0);
    assert_int_equal(nb_bind(l2, &a), NB_EADDRINUSE);
    struct nb_addr v6 = lo6(7006);
    assert_int_equal(nb_bind(l2, &v6), NB_EAFNOSUPPORT);
    const uint8_t foreign[4] = {192, 0, 2, 1};
    struct nb_addr f = nb_addr_ip4(foreign, 7007);
    assert_int_equal(nb_bind(l2, &f), NB_EADDRNOTAVAIL);
    int64_t v;
    assert_int_equal(nb_setopt(l2, NB_TCP_NODELAY, 1), 0);
    assert_int_equal(nb_getopt(l2, NB_TCP_NODELAY, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(nb_setopt(l2, NB_SO_KEEPALIVE, 1), 0);
    assert_int_equal(nb_setopt(l2, NB_TCP_KEEPIDLE, 5 * (int64_t)NB_NS_PER_S), 0);
    assert_int_equal(nb_getopt(l2, NB_TCP_KEEPIDLE, &v), 0);
    assert_int_equal(v, 5 * (int64_t)NB_NS_PER_S);
    assert_int_equal(nb_setopt(l2, NB_SO_RCVBUF, 1 << 30), 0);
    assert_int_equal(nb_getopt(l2, NB_SO_RCVBUF, &v), 0);
    assert_true(v > 0 && v <= 1 << 20);
    assert_int_equal(nb_getopt(l2, NB_SO_TYPE, &v), 0);
    assert_int_equal(v, NB_SOCK_STREAM);
    nb_close(l1);
    nb_close(l2);
}

/* Many connections, then the listener closes with unaccepted ones. */
static void test_tcp_backlog(void **state)
{
    (void)state;
    nb_sock *l, *c[6];
    struct nb_addr a = lo4(7008);
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &l), 0);
    assert_int_equal(nb_bind(l, &a), 0);
    assert_int_equal(nb_listen(l, 3), 0);
    int ok = 0;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_STREAM, &c[i]), 0);
        nb_setopt(c[i], NB_SO_NONBLOCK, 1);
        assert_int_equal(nb_connect(c[i], &a), NB_EINPROGRESS);
    }
    run_ms(300);
    for (int i = 0; i < 6; i++)
        if (nb_sock_readiness(c[i]) & NB_POLLOUT)
            ok++;
    /* the accept queue holds the backlog; the rest wait (SYN dropped) */
    assert_true(ok >= 3);
    nb_sock *x;
    int accepted = 0;
    nb_setopt(l, NB_SO_NONBLOCK, 1);
    while (nb_accept(l, &x, NULL) == 0) {
        accepted++;
        nb_close(x);
    }
    assert_true(accepted >= 3 && accepted <= 6);
    for (int i = 0; i < 6; i++)
        nb_close(c[i]);
    nb_close(l);
    run_ms(100);
}

/* A closed connection lingers charged to the stack until lwIP is done. */
static void test_tcp_background_close(void **state)
{
    (void)state;
    nb_sock *c, *a, *l;
    uint32_t before = nb_stack_objects(st);
    tcp_pair(lo4(7009), &c, &a, &l);
    char big[32768];
    memset(big, 'z', sizeof big);
    assert_int_equal(nb_send(c, big, sizeof big, 0), (long)sizeof big);
    nb_close(c); /* data still in flight: delivered after close */
    size_t got = 0;
    char buf[4096];
    nb_setopt(a, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    for (;;) {
        long n = nb_recv(a, buf, sizeof buf, 0);
        assert_true(n >= 0);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    assert_int_equal(got, sizeof big);
    nb_close(a);
    nb_close(l);
    run_ms(200);
    /* both ends are in TIME_WAIT or gone: nothing is charged any more */
    assert_int_equal(nb_stack_objects(st), before);
}

/* With SYN cookies forced on, connections (IPv4 and IPv6) still open and
 * carry data: the pcb is made when the cookie comes back. */
static void test_tcp_syn_cookies(void **state)
{
    (void)state;
    inet_tcp_set_cookie_threshold(0);
    struct nb_addr addrs[2] = {lo4(7010), lo6(7010)};
    for (int k = 0; k < 2; k++) {
        nb_sock *c, *a, *l;
        tcp_pair(addrs[k], &c, &a, &l);
        char buf[64000];
        memset(buf, 'c', sizeof buf);
        assert_int_equal(nb_send(c, buf, sizeof buf, 0), (long)sizeof buf);
        nb_setopt(a, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
        assert_int_equal(nb_recv(a, buf, sizeof buf, NB_MSG_WAITALL), (long)sizeof buf);
        nb_close(c);
        nb_close(a);
        nb_close(l);
    }
    inet_tcp_set_cookie_threshold(256);
    char text[4096] = "";
    nb_net_print_stats(collect_line, text);
    assert_non_null(strstr(text, "tcp_syn_cookies_ok=2"));
}

static void test_udp_basic(void **state)
{
    (void)state;
    nb_sock *u1, *u2;
    struct nb_addr a1 = lo4(7100), a2 = lo4(7101);
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_DGRAM, &u1), 0);
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_DGRAM, &u2), 0);
    assert_int_equal(nb_bind(u1, &a1), 0);
    assert_int_equal(nb_bind(u2, &a2), 0);
    /* boundaries kept: three datagrams, three reads */
    assert_int_equal(nb_sendto(u1, "a", 1, 0, &a2), 1);
    assert_int_equal(nb_sendto(u1, "bb", 2, 0, &a2), 2);
    static uint8_t big[65507];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    assert_int_equal(nb_sendto(u1, big, sizeof big, 0, &a2), (long)sizeof big);
    assert_int_equal(nb_sendto(u1, big, sizeof big + 1, 0, &a2), NB_EMSGSIZE);
    static uint8_t buf[70000];
    struct nb_addr from;
    nb_setopt(u2, NB_SO_RCVTIMEO, 2 * NB_NS_PER_S);
    assert_int_equal(nb_recvfrom(u2, buf, sizeof buf, 0, &from), 1);
    assert_true(nb_addr_equal(&from, &a1));
    /* truncation: 1 byte buffer, NB_MSG_TRUNC reports the real length */
    assert_int_equal(nb_recvfrom(u2, buf, 1, NB_MSG_TRUNC, &from), 2);
    assert_int_equal(buf[0], 'b');
    assert_int_equal(nb_recvfrom(u2, buf, sizeof buf, 0, &from), (long)sizeof big);
    assert_memory_equal(buf, big, sizeof big);
    nb_setopt(u2, NB_SO_NONBLOCK, 1);
    assert_int_equal(nb_recv(u2, buf, sizeof buf, 0), NB_EAGAIN);
    nb_close(u1);
    nb_close(u2);
}

static void test_udp_queue_bound(void **state)
{
    (void)state;
    nb_sock *tx, *rx;
    struct nb_addr ra = lo6(7102);
    assert_int_equal(nb_socket(st, NB_AF_INET6, NB_SOCK_DGRAM, &tx), 0);
    assert_int_equal(nb_socket(st, NB_AF_INET6, NB_SOCK_DGRAM, &rx), 0);
    assert_int_equal(nb_bind(rx, &ra), 0);
    assert_int_equal(nb_setopt(rx, NB_SO_RCVBUF, 4096), 0);
    char d[1000];
    memset(d, 'q', sizeof d);
    for (int i = 0; i < 20; i++)
        assert_int_equal(nb_sendto(tx, d, sizeof d, 0, &ra), (long)sizeof d);
    run_ms(100);
    int64_t drops = 0, next = 0;
    assert_int_equal(nb_getopt(rx, NB_SO_RXDROPS, &drops), 0);
    assert_true(drops >= 14);
    assert_int_equal(nb_getopt(rx, NB_SO_NREAD, &next), 0);
    assert_int_equal(next, 1000);
    int got = 0;
    nb_setopt(rx, NB_SO_NONBLOCK, 1);
    while (nb_recv(rx, d, sizeof d, 0) == 1000)
        got++;
    assert_int_equal(got + drops, 20);
    nb_close(tx);
    nb_close(rx);
}

static void test_udp_connected(void **state)
{
    (void)state;
    nb_sock *a, *b, *c;
    struct nb_addr aa = lo4(7103), ba = lo4(7104), ca = lo4(7105);
    nb_socket(st, NB_AF_INET, NB_SOCK_DGRAM, &a);
    nb_socket(st, NB_AF_INET, NB_SOCK_DGRAM, &b);
    nb_socket(st, NB_AF_INET, NB_SOCK_DGRAM, &c);
    nb_bind(a, &aa);
    nb_bind(b, &ba);
    nb_bind(c, &ca);
    assert_int_equal(nb_send(a, "x", 1, 0), NB_EDESTADDRREQ);
    assert_int_equal(nb_connect(a, &ba), 0);
    assert_int_equal(nb_send(a, "to-b", 4, 0), 4);
    /* a connected socket hears only its peer */
    assert_int_equal(nb_sendto(c, "from-c", 6, 0, &aa), 6);
    assert_int_equal(nb_sendto(b, "from-b", 6, 0, &aa), 6);
    char buf[16];
    nb_setopt(a, NB_SO_RCVTIMEO, NB_NS_PER_S);
    assert_int_equal(nb_recv(a, buf, sizeof buf, 0), 6);
    assert_memory_equal(buf, "from-b", 6);
    nb_setopt(a, NB_SO_NONBLOCK, 1);
    assert_int_equal(nb_recv(a, buf, sizeof buf, 0), NB_EAGAIN);
    nb_close(a);
    nb_close(b);
    nb_close(c);
}

static void test_dns_literal_and_errors(void **state)
{
    (void)state;
    struct nb_dns_result r;
    assert_int_equal(nb_dns_resolve(st, "10.1.2.3", NB_AF_INET, 0, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.addrs[0].u.ip4[3], 3);
    assert_int_equal(nb_dns_resolve(st, "fe80::1", NB_AF_INET6, 0, &r), 0);
    assert_int_equal(r.addrs[0].family, NB_AF_INET6);
    assert_int_equal(nb_dns_resolve(st, "", 0, 0, &r), NB_EINVAL);
    /* no server configured */
    int rc = nb_dns_resolve(st, "example.test", NB_AF_INET, NB_NS_PER_S, &r);
    assert_true(rc == NB_ENETUNREACH || rc == NB_ETIMEDOUT);
}

static void test_ping_loopback(void **state)
{
    (void)state;
    struct nb_ping_result r;
    struct nb_addr a = lo4(0), b = lo6(0);
    assert_int_equal(nb_ping(st, &a, 1, 56, NB_NS_PER_S, &r), 0);
    assert_int_equal(r.bytes, 56);
    assert_int_equal(nb_ping(st, &b, 2, 1000, NB_NS_PER_S, &r), 0);
    assert_int_equal(r.bytes, 1000);
}

/* A DNS server on the loopback answering by name: several lookups at
 * once, A and AAAA, NXDOMAIN, and one it never answers. */
static int dns_done_calls;
static void dns_done(struct nb_dns_query *q, void *arg)
{
    (void)q;
    (void)arg;
    dns_done_calls++;
}

static void answer(nb_sock *srv, const uint8_t *q, long n, const struct nb_addr *from)
{
    /* question name starts at 12; find its end */
    long i = 12;
    char name[64] = "";
    size_t o = 0;
    while (i < n && q[i]) {
        uint8_t l = q[i++];
        if (o && o < sizeof name - 1)
            name[o++] = '.';
        for (uint8_t k = 0; k < l && i < n && o < sizeof name - 1; k++)
            name[o++] = (char)q[i++];
    }
    name[o] = 0;
    long qend = i + 1 + 4;
    uint16_t qtype = (uint16_t)(q[i + 1] << 8 | q[i + 2]);
    uint8_t r[512];
    memcpy(r, q, (size_t)qend);
    r[2] = 0x81;
    r[3] = 0x80;
    r[6] = r[7] = 0; /* answers */
    long len = qend;
    if (strcmp(name, "slow.test") == 0)
        return;
    if (strcmp(name, "nx.test") == 0) {
        r[3] = 0x83; /* NXDOMAIN */
    } else {
        uint8_t rr[12 + 16] = {0xc0, 0x0c, 0, (uint8_t)qtype, 0, 1, 0, 0, 0, 60, 0, 0};
        size_t rd = qtype == 28 ? 16 : 4;
        rr[11] = (uint8_t)rd;
        for (size_t k = 0; k < rd; k++)
            rr[12 + k] = (uint8_t)(name[0] + k);
        memcpy(r + len, rr, 12 + rd);
        len += (long)(12 + rd);
        r[7] = 1;
    }
    nb_sendto(srv, r, (size_t)len, 0, from);
}

static void test_dns_server(void **state)
{
    (void)state;
    nb_sock *srv;
    struct nb_addr sa = lo4(53);
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_DGRAM, &srv), 0);
    assert_int_equal(nb_bind(srv, &sa), 0);
    nb_setopt(srv, NB_SO_NONBLOCK, 1);
    assert_int_equal(nb_inet_dns_set(0, &sa), 0);
    struct nb_dns_query *qa, *qb, *qnx, *qslow, *qgone;
    dns_done_calls = 0;
    assert_int_equal(nb_dns_start(st, "a.test", NB_AF_INET, 0, dns_done, NULL, &qa), 0);
    assert_int_equal(nb_dns_start(st, "b.test", 0, 0, dns_done, NULL, &qb), 0);
    assert_int_equal(nb_dns_start(st, "nx.test", NB_AF_INET, 0, dns_done, NULL, &qnx), 0);
    assert_int_equal(nb_dns_start(st, "slow.test", NB_AF_INET6, 300 * NB_NS_PER_MS, dns_done,
                                  NULL, &qslow), 0);
    assert_int_equal(nb_dns_start(st, "gone.test", NB_AF_INET, 0, dns_done, NULL, &qgone), 0);
    nb_dns_free(qgone); /* cancelled: its callback never runs */
    assert_int_equal(nb_dns_poll(qa, NULL), NB_EAGAIN);
    uint64_t end = nb_clock_ns() + 3 * NB_NS_PER_S;
    while (nb_clock_ns() < end && dns_done_calls < 4) {
        uint8_t q[512];
        struct nb_addr from;
        long n;
        while ((n = nb_recvfrom(srv, q, sizeof q, 0, &from)) > 0)
            answer(srv, q, n, &from);
        run_ms(10);
    }
    assert_int_equal(dns_done_calls, 4);
    struct nb_dns_result r;
    assert_int_equal(nb_dns_poll(qa, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.addrs[0].family, NB_AF_INET);
    assert_int_equal(r.addrs[0].u.ip4[0], 'a');
    assert_int_equal(nb_dns_poll(qb, &r), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.addrs[0].family, NB_AF_INET);
    assert_int_equal(r.addrs[1].family, NB_AF_INET6);
    assert_int_equal(r.addrs[1].u.ip6[15], 'b' + 15);
    assert_int_equal(nb_dns_poll(qnx, &r), NB_ENOENT);
    assert_int_equal(nb_dns_poll(qslow, &r), NB_ETIMEDOUT);
    nb_dns_free(qa);
    nb_dns_free(qb);
    nb_dns_free(qnx);
    nb_dns_free(qslow); /* lwIP still asks: freed by its last callback */
    /* the answer is cached now */
    assert_int_equal(nb_dns_resolve(st, "a.test", NB_AF_INET, NB_NS_PER_S, &r), 0);
    nb_close(srv);
}

/* A second stack cannot have the inet family while the first owns it. */
static void test_one_stack(void **state)
{
    (void)state;
    nb_sock *s;
    assert_int_equal(nb_socket(st, NB_AF_INET, NB_SOCK_DGRAM, &s), 0);
    struct nb_stack *other = nb_stack_new("other");
    nb_sock *t;
    assert_int_equal(nb_socket(other, NB_AF_INET, NB_SOCK_STREAM, &t), NB_EAFNOSUPPORT);
    nb_stack_free(other);
    nb_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_echo_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_echo_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_bulk_small_rcvbuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_half_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_addr_in_use_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_background_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_syn_cookies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_connected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_literal_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_stack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
