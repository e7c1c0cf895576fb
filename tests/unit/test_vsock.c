/*
 * vsock protocol conformance: each rule of VIRTIO 1.2's socket device (and
 * Linux's behaviour where the spec is silent) gets a test, either between
 * two NeoBoot stacks or against a raw peer that speaks packets by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vsock_harness.h"

#include <neoboot/log.h>

static struct pair P;


static int setup_pair(void **state)
{
    (void)state;
    pair_up(&P, false);
    return 0;
}

static int setup_raw(void **state)
{
    (void)state;
    pair_up(&P, true);
    raw_attach(&P);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    raw_clear();
    pair_down(&P);
    return 0;
}

static nb_sock *listener(struct nb_stack *st, uint32_t port, int backlog)
{
    nb_sock *l;
    assert_int_equal(nb_socket(st, NB_AF_VSOCK, NB_SOCK_STREAM, &l), 0);
    struct nb_addr a = nb_addr_vsock(NB_VMADDR_CID_ANY, port);
    assert_int_equal(nb_bind(l, &a), 0);
    assert_int_equal(nb_listen(l, backlog), 0);
    return l;
}

static void connect_pair(nb_sock **client, nb_sock **server, uint32_t port)
{
    nb_sock *l = listener(P.b, port, 16);
    assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, client), 0);
    struct nb_addr to = nb_addr_vsock(CID_B, port);
    assert_int_equal(nb_connect(*client, &to), 0);
    assert_int_equal(nb_accept(l, server, NULL), 0);
    nb_close(l);
}

static struct nb_vsock_stats vstats(struct nb_stack *st)
{
    struct nb_vsock_stats s;
    nb_vsock_get_stats(st, &s);
    return s;
}

/* --- between two stacks --- */

static void test_connect_send_recv_close(void **state)
{
    (void)state;
    nb_sock *c, *s;
    connect_pair(&c, &s, 5000);
    struct nb_addr a;
    char text[64];
    assert_int_equal(nb_getpeername(c, &a), 0);
    assert_string_equal(nb_addr_format(&a, text, sizeof text), "4:5000");
    assert_int_equal(nb_getsockname(s, &a), 0);
    assert_string_equal(nb_addr_format(&a, text, sizeof text), "4:5000");
    assert_int_equal(nb_getpeername(s, &a), 0);
    assert_int_equal(a.u.cid, CID_A);

    assert_int_equal(nb_send(c, "hello", 5, 0), 5);
    char buf[16] = {0};
    assert_int_equal(nb_recv(s, buf, sizeof buf, 0), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(nb_send(s, "world!", 6, 0), 6);
    assert_int_equal(nb_recv(c, buf, sizeof buf, 0), 6);
    assert_memory_equal(buf, "world!", 6);

    nb_close(c);
    /* the server sees end of stream, then closes too */
    assert_int_equal(nb_recv(s, buf, sizeof buf, 0), 0);
    nb_close(s);
    assert_true(settle(&P));
}

static void test_connect_refused_without_listener(void **state)
{
    (void)state;
    nb_sock *c;
    assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c), 0);
    struct nb_addr to = nb_addr_vsock(CID_B, 7777);
    assert_int_equal(nb_connect(c, &to), NB_ECONNREFUSED);
    assert_int_equal(vstats(P.b).rst_sent, 1);
    assert_int_equal(vstats(P.b).rx_no_socket, 1);
    assert_int_equal(vstats(P.a).rst_received, 1);
    /* the socket stays bound and may try again */
    nb_sock *l = listener(P.b, 7777, 1);
    assert_int_equal(nb_connect(c, &to), 0);
    nb_close(c);
    nb_close(l);
}

static void test_connect_timeout_blocking(void **state)
{
    (void)state;
    /* B's end is up but nothing answers: detach its stack. */
    nb_stack_detach(nb_memlink_end(P.ml, 1));
    nb_sock *c;
    assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c), 0);
    int64_t v;
    assert_int_equal(nb_getopt(c, NB_SO_CONNECT_TIMEOUT, &v), 0);
    assert_int_equal(v, 2 * NB_NS_PER_S); /* Linux's default */
    assert_int_equal(nb_setopt(c, NB_SO_CONNECT_TIMEOUT, 200 * NB_NS_PER_MS), 0);
    struct nb_addr to = nb_addr_vsock(CID_B, 1);
    uint64_t t0 = nb_clock_ns();
    assert_int_equal(nb_connect(c, &to), NB_ETIMEDOUT);
    uint64_t took = (nb_clock_ns() - t0) / NB_NS_PER_MS;
    assert_true(took >= 195 && took < 1500);
    assert_int_equal(vstats(P.a).connect_timeouts, 1);
    nb_close(c);
}

static void test_connect_timeout_nonblocking(void **state)
{
    (void)state;
    nb_stack_detach(nb_memlink_end(P.ml, 1));
    nb_sock *c;
    assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c), 0);
    assert_int_equal(nb_setopt(c, NB_SO_NONBLOCK, 1), 0);
    assert_int_equal(nb_setopt(c, NB_SO_CONNECT_TIMEOUT, 100 * NB_NS_PER_MS), 0);
    struct nb_addr to = nb_addr_vsock(CID_B, 1);
    assert_int_equal(nb_connect(c, &to), NB_EINPROGRESS);
    assert_int_equal(nb_connect(c, &to), NB_EALREADY);
    struct nb_pollfd pf = {c, NB_POLLOUT, 0};
    assert_int_equal(nb_poll(&pf, 1, 2 * (int64_t)NB_NS_PER_S), 1);
    assert_true(pf.revents & NB_POLLERR);
    int64_t err;
    assert_int_equal(nb_getopt(c, NB_SO_ERROR, &err), 0);
    assert_int_equal(err, NB_ETIMEDOUT);
    assert_int_equal(nb_getopt(c, NB_SO_ERROR, &err), 0);
    assert_int_equal(err, 0); /* reading clears it */
    nb_close(c);
}

static void test_backlog_full_gets_rst(void **state)
{
    (void)state;
    nb_sock *l = listener(P.b, 6000, 2);
    nb_sock *c[3];
    struct nb_addr to = nb_addr_vsock(CID_B, 6000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c[i]), 0);
        int rc = nb_connect(c[i], &to);
        assert_int_equal(rc, i < 2 ? 0 : NB_ECONNREFUSED);
    }
    assert_int_equal(vstats(P.b).backlog_full, 1);
    /* accepting one makes room for another */
    nb_sock *s;
    assert_int_equal(nb_accept(l, &s, NULL), 0);
    assert_int_equal(nb_connect(c[2], &to), 0);
    for (int i = 0; i < 3; i++)
        nb_close(c[i]);
    nb_close(s);
    nb_close(l);
    assert_true(settle(&P));
}

static void test_accept_queue_is_fifo(void **state)
{
    (void)state;
    nb_sock *l = listener(P.b, 6100, 8);
    nb_sock *c[5];
    uint32_t ports[5];
    struct nb_addr to = nb_addr_vsock(CID_B, 6100);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c[i]), 0);
        assert_int_equal(nb_connect(c[i], &to), 0);
        struct nb_addr me;
        nb_getsockname(c[i], &me);
        ports[i] = me.port;
    }
    for (int i = 0; i < 5; i++) {
        nb_sock *s;
        struct nb_addr peer;
        assert_int_equal(nb_accept(l, &s, &peer), 0);
        assert_int_equal(peer.port, ports[i]);
        nb_close(s);
    }
    nb_setopt(l, NB_SO_NONBLOCK, 1);
    nb_sock *none;
    assert_int_equal(nb_accept(l, &none, NULL), NB_EAGAIN);
    for (int i = 0; i < 5; i++)
        nb_close(c[i]);
    nb_close(l);
}

static void test_credit_limits_sender(void **state)
{
    (void)state;
    nb_sock *l = listener(P.b, 6200, 1);
    assert_int_equal(nb_setopt(l, NB_SO_RCVBUF, 4096), 0);
    nb_sock *c, *s;
    assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c), 0);
    struct nb_addr to = nb_addr_vsock(CID_B, 6200);
    assert_int_equal(nb_connect(c, &to), 0);
    assert_int_equal(nb_accept(l, &s, NULL), 0);
    nb_setopt(c, NB_SO_NONBLOCK, 1);
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    /* the sender may put exactly the receiver's buffer in flight */
    assert_int_equal(nb_send(c, big, sizeof big, 0), 4096);
    assert_int_equal(nb_send(c, big, sizeof big, 0), NB_EAGAIN);
    run_for(10);
    assert_int_equal(vstats(P.a).credit_requests_sent, 0);
    run_for(150); /* a stall that lasts: ask for credit */
    int64_t nread, rcvbuf;
    nb_getopt(s, NB_SO_NREAD, &nread);
    nb_getopt(s, NB_SO_RCVBUF, &rcvbuf);
    assert_int_equal(nread, 4096);
    assert_int_equal(rcvbuf, 4096);
    assert_true(vstats(P.a).credit_requests_sent >= 1);

    /* the reader frees space: a CREDIT_UPDATE lets the rest through */
    static char got[100000];
    size_t sent = 4096, recvd = 0;
    nb_setopt(s, NB_SO_NONBLOCK, 1);
    uint64_t end = nb_clock_ns() + 5 * NB_NS_PER_S;
    while (recvd < sizeof big && nb_clock_ns() < end) {
        long n = nb_recv(s, got + recvd, sizeof got - recvd, 0);
        assert_true(n > 0 || n == NB_EAGAIN);
        if (n > 0)
            recvd += (size_t)n;
        nb_getopt(s, NB_SO_NREAD, &nread);
        assert_true(nread <= 4096);
        if (sent < sizeof big) {
            long m = nb_send(c, big + sent, sizeof big - sent, 0);
            assert_true(m > 0 || m == NB_EAGAIN);
            if (m > 0)
                sent += (size_t)m;
        }
        run_for(1);
    }
    assert_int_equal(recvd, sizeof big);
    assert_memory_equal(got, big, sizeof big);
    assert_true(vstats(P.b).credit_updates_sent > 0);
    assert_int_equal(vstats(P.b).rx_over_credit, 0);
    nb_close(c);
    nb_close(s);
    nb_close(l);
}

static void test_half_close(void **state)
{
    (void)state;
    nb_sock *c, *s;
    connect_pair(&c, &s, 6300);
    assert_int_equal(nb_send(c, "abc", 3, 0), 3);
    assert_int_equal(nb_shutdown(c, NB_SHUT_WR), 0);
    assert_int_equal(nb_send(c, "x", 1, 0), NB_EPIPE);
    char buf[8];
    assert_int_equal(nb_recv(s, buf, sizeof buf, NB_MSG_WAITALL), 3);
    assert_int_equal(nb_recv(s, buf, sizeof buf, 0), 0);
    struct nb_pollfd pf = {s, NB_POLLIN | NB_POLLRDHUP, 0};
    assert_int_equal(nb_poll(&pf, 1, 0), 1);
    assert_true(pf.revents & NB_POLLRDHUP);
    /* the other direction still works */
    assert_int_equal(nb_send(s, "reply", 5, 0), 5);
    assert_int_equal(nb_recv(c, buf, sizeof buf, 0), 5);
    assert_memory_equal(buf, "reply", 5);
    nb_close(s);
    assert_int_equal(nb_recv(c, buf, sizeof buf, 0), 0);
    nb_close(c);
    assert_true(settle(&P));
}

static void test_peek_leaves_data(void **state)
{
    (void)state;
    nb_sock *c, *s;
    connect_pair(&c, &s, 6400);
    nb_send(c, "12345", 5, 0);
    nb_send(c, "6789", 4, 0);
    run_for(5);
    char buf[16];
    assert_int_equal(nb_recv(s, buf, 7, NB_MSG_PEEK), 7);
    assert_memory_equal(buf, "1234567", 7);
    assert_int_equal(nb_recv(s, buf, sizeof buf, NB_MSG_PEEK), 9);
    assert_int_equal(nb_recv(s, buf, 3, 0), 3);
    assert_memory_equal(buf, "123", 3);
    assert_int_equal(nb_recv(s, buf, sizeof buf, 0), 6);
    assert_memory_equal(buf, "456789", 6);
    nb_close(c);
    nb_close(s);
}

static void test_ephemeral_ports_reused(void **state)
{
    (void)state;
    struct nb_vsock_tunables t;
    nb_vsock_get_tunables(P.a, &t);
    t.eph_lo = 2000;
    t.eph_hi = 2003;
    assert_int_equal(nb_vsock_set_tunables(P.a, &t), 0);
    nb_sock *l = listener(P.b, 6500, 8);
    struct nb_addr to = nb_addr_vsock(CID_B, 6500);
    for (int round = 0; round < 50; round++) {
        nb_sock *c, *s;
        assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c), 0);
        assert_int_equal(nb_connect(c, &to), 0);
        struct nb_addr me;
        nb_getsockname(c, &me);
        assert_true(me.port >= 2000 && me.port <= 2003);
        assert_int_equal(nb_accept(l, &s, NULL), 0);
        nb_close(c);
        nb_close(s);
        run_for(2);
    }
    /* four at once use up the range; a fifth has no port */
    nb_sock *c[5];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c[i]), 0);
        assert_int_equal(nb_connect(c[i], &to), 0);
    }
    assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c[4]), 0);
    assert_int_equal(nb_connect(c[4], &to), NB_EADDRNOTAVAIL);
    for (int i = 0; i < 5; i++)
        nb_close(c[i]);
    nb_close(l);
}

static void test_bind_rules(void **state)
{
    (void)state;
    nb_sock *x, *y;
    nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &x);
    nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &y);
    struct nb_addr a = nb_addr_vsock(NB_VMADDR_CID_ANY, 9000);
    assert_int_equal(nb_bind(x, &a), 0);
    assert_int_equal(nb_bind(y, &a), NB_EADDRINUSE);
    assert_int_equal(nb_bind(x, &a), NB_EINVAL); /* already bound */
    struct nb_addr other = nb_addr_vsock(77, 9001);
    assert_int_equal(nb_bind(y, &other), NB_EADDRNOTAVAIL);
    struct nb_addr mine = nb_addr_vsock(CID_A, 9001);
    assert_int_equal(nb_bind(y, &mine), 0);
    nb_sock *z;
    assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_DGRAM, &z), NB_EPROTONOSUPPORT);
    assert_int_equal(nb_socket(P.a, 99, NB_SOCK_STREAM, &z), NB_EAFNOSUPPORT);
    nb_sock *u;
    nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &u);
    assert_int_equal(nb_listen(u, 1), NB_EDESTADDRREQ);
    char b[4];
    assert_int_equal(nb_recv(u, b, 4, 0), NB_ENOTCONN);
    assert_int_equal(nb_send(u, b, 4, 0), NB_ENOTCONN);
    nb_close(x);
    nb_close(y);
    nb_close(u);
    /* the port is free again */
    nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &x);
    assert_int_equal(nb_bind(x, &a), 0);
    nb_close(x);
}

static void test_recv_timeout(void **state)
{
    (void)state;
    nb_sock *c, *s;
    connect_pair(&c, &s, 6600);
    assert_int_equal(nb_setopt(s, NB_SO_RCVTIMEO, 100 * NB_NS_PER_MS), 0);
    char b[4];
    uint64_t t0 = nb_clock_ns();
    assert_int_equal(nb_recv(s, b, sizeof b, 0), NB_ETIMEDOUT);
    uint64_t took = (nb_clock_ns() - t0) / NB_NS_PER_MS;
    assert_true(took >= 99 && took < 1000);
    struct nb_loop_stats ls;
    nb_loop_get_stats(&ls);
    /* waiting slept in the platform; it did not spin */
    nb_setopt(s, NB_SO_RCVTIMEO, 300 * NB_NS_PER_MS);
    uint64_t iters = ls.iterations;
    assert_int_equal(nb_recv(s, b, sizeof b, 0), NB_ETIMEDOUT);
    nb_loop_get_stats(&ls);
    assert_true(ls.iterations - iters < 20);
    nb_close(c);
    nb_close(s);
}

/* Poll until every socket in set shows `ev`, polling only those not yet
 * ready (as an event-driven app would); returns how many got there. */
static int wait_all(nb_sock **set, int n, uint32_t ev)
{
    static struct nb_pollfd pf[1024];
    static bool done[1024];
    memset(done, 0, sizeof done);
    int got = 0;
    uint64_t end = nb_clock_ns() + 3 * NB_NS_PER_S;
    while (got < n && nb_clock_ns() < end) {
        int m = 0;
        int map[1024];
        for (int i = 0; i < n; i++)
            if (!done[i]) {
                pf[m] = (struct nb_pollfd){set[i], ev, 0};
                map[m++] = i;
            }
        int r = nb_poll(pf, (size_t)m, 100 * (int64_t)NB_NS_PER_MS);
        assert_true(r >= 0);
        for (int j = 0; j < m; j++)
            if (pf[j].revents & ev) {
                done[map[j]] = true;
                got++;
            }
    }
    return got;
}

static void test_poll_thousand_sockets(void **state)
{
    (void)state;
    enum { N = 1000 };
    nb_sock *l = listener(P.b, 6700, 1024);
    static nb_sock *cl[N], *sv[N];
    static struct nb_pollfd pf[N];
    struct nb_addr to = nb_addr_vsock(CID_B, 6700);
    for (int i = 0; i < N; i++) {
        assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &cl[i]), 0);
        nb_setopt(cl[i], NB_SO_NONBLOCK, 1);
        assert_int_equal(nb_connect(cl[i], &to), NB_EINPROGRESS);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(nb_accept(l, &sv[i], NULL), 0);
    /* non-blocking connects finish: every client becomes writable */
    assert_int_equal(wait_all(cl, N, NB_POLLOUT), N);
    for (int i = 0; i < N; i += 7)
        assert_int_equal(nb_send(cl[i], "x", 1, 0), 1);
    for (int i = 0; i < N; i++)
        pf[i] = (struct nb_pollfd){sv[i], NB_POLLIN, 0};
    /* once all 143 arrived, exactly those are readable */
    static nb_sock *sent[N];
    int k = 0;
    for (int i = 0; i < N; i += 7)
        sent[k++] = sv[i];
    assert_int_equal(wait_all(sent, k, NB_POLLIN), k);
    assert_int_equal(nb_poll(pf, N, 0), k);
    for (int i = 0; i < N; i++)
        assert_int_equal(pf[i].revents != 0, i % 7 == 0);
    /* a NULL entry is reported invalid */
    pf[1].sock = NULL;
    assert_true(nb_poll(pf, N, 0) >= (N + 6) / 7 + 1);
    assert_int_equal(pf[1].revents, NB_POLLNVAL);
    /* nothing ready: poll times out on time */
    struct nb_pollfd one = {sv[1], NB_POLLIN, 0};
    uint64_t t0 = nb_clock_ns();
    assert_int_equal(nb_poll(&one, 1, 50 * (int64_t)NB_NS_PER_MS), 0);
    assert_true(nb_clock_ns() - t0 >= 49 * NB_NS_PER_MS);
    for (int i = 0; i < N; i++) {
        nb_close(cl[i]);
        nb_close(sv[i]);
    }
    nb_close(l);
    assert_true(settle(&P));
}

/* --- against a raw peer --- */

/* Raw peer connects to a listener on the stack; returns the accepted socket. */
static nb_sock *raw_connected(nb_sock **lout, uint32_t rport, uint32_t lport,
                              uint32_t rbuf)
{
    nb_sock *l = listener(P.a, lport, 4);
    raw_send(NB_VSOCK_OP_REQUEST, rport, lport, 0, rbuf, 0, NULL, 0);
    assert_true(run_until(raw_has_op, (void *)(uintptr_t)NB_VSOCK_OP_RESPONSE, 500));
    nb_sock *s;
    assert_int_equal(nb_accept(l, &s, NULL), 0);
    raw_clear();
    *lout = l;
    return s;
}

static void test_request_gets_response_with_credit(void **state)
{
    (void)state;
    nb_sock *l = listener(P.a, 100, 4);
    raw_send(NB_VSOCK_OP_REQUEST, 5555, 100, 0, 65536, 0, NULL, 0);
    run_for(5);
    struct nb_vsock_hdr h;
    assert_true(raw_find(NB_VSOCK_OP_RESPONSE, &h) >= 0);
    assert_int_equal(h.src_cid, CID_A);
    assert_int_equal(h.dst_cid, CID_B);
    assert_int_equal(h.src_port, 100);
    assert_int_equal(h.dst_port, 5555);
    assert_int_equal(h.type, NB_VSOCK_TYPE_STREAM);
    assert_int_equal(h.buf_alloc, NB_VSOCK_BUF_DEFAULT);
    assert_int_equal(h.fwd_cnt, 0);
    assert_int_equal(h.len, 0);
    nb_close(l);
}

static void test_credit_request_answered(void **state)
{
    (void)state;
    nb_sock *l;
    nb_sock *s = raw_connected(&l, 5000, 200, 65536);
    raw_send(NB_VSOCK_OP_RW, 5000, 200, 0, 65536, 0, "abcd", 4);
    run_for(5);
    char b[4];
    assert_int_equal(nb_recv(s, b, 4, 0), 4);
    raw_clear();
    raw_send(NB_VSOCK_OP_CREDIT_REQUEST, 5000, 200, 0, 65536, 0, NULL, 0);
    run_for(5);
    struct nb_vsock_hdr h;
    assert_true(raw_find(NB_VSOCK_OP_CREDIT_UPDATE, &h) >= 0);
    assert_int_equal(h.fwd_cnt, 4);
    assert_int_equal(h.buf_alloc, NB_VSOCK_BUF_DEFAULT);
    nb_close(s);
    nb_close(l);
}

static void test_never_rst_for_rst(void **state)
{
    (void)state;
    raw_send(NB_VSOCK_OP_RST, 1, 2, 0, 0, 0, NULL, 0);
    raw_send_full(NB_VSOCK_OP_RST, 9, 1, 2, 0, 0, 0, NULL, 0, -1, CID_A);
    run_for(5);
    assert_int_equal(raw.n, 0);
    assert_int_equal(vstats(P.a).rst_sent, 0);
}

static void test_rst_for_unknown_connection_and_op(void **state)
{
    (void)state;
    raw_send(NB_VSOCK_OP_RW, 1, 2, 0, 0, 0, "zz", 2);
    raw_send(NB_VSOCK_OP_SHUTDOWN, 1, 3, 3, 0, 0, NULL, 0);
    raw_send(NB_VSOCK_OP_CREDIT_REQUEST, 1, 4, 0, 0, 0, NULL, 0);
    raw_send(42, 1, 5, 0, 0, 0, NULL, 0); /* unknown op */
    run_for(5);
    assert_int_equal(raw_count(NB_VSOCK_OP_RST), 4);
    struct nb_vsock_hdr h;
    raw_hdr(0, &h);
    assert_int_equal(h.dst_port, 1);
    assert_int_equal(h.src_port, 2);
    assert_int_equal(vstats(P.a).rx_no_socket, 3);
    assert_int_equal(vstats(P.a).rx_bad_op, 1);
}

static void test_wrong_type_and_cid_get_rst(void **state)
{
    (void)state;
    nb_sock *l = listener(P.a, 300, 4);
    raw_send_full(NB_VSOCK_OP_REQUEST, NB_VSOCK_TYPE_SEQPACKET, 1, 300, 0, 0, 0,
                  NULL, 0, -1, CID_A);
    raw_send_full(NB_VSOCK_OP_REQUEST, 9, 2, 300, 0, 0, 0, NULL, 0, -1, CID_A);
    raw_send_full(NB_VSOCK_OP_REQUEST, NB_VSOCK_TYPE_STREAM, 3, 300, 0, 0, 0,
                  NULL, 0, -1, 99);
    run_for(5);
    assert_int_equal(raw_count(NB_VSOCK_OP_RST), 3);
    assert_int_equal(raw_count(NB_VSOCK_OP_RESPONSE), 0);
    assert_int_equal(vstats(P.a).rx_bad_type, 2);
    assert_int_equal(vstats(P.a).rx_wrong_cid, 1);
    nb_close(l);
}

static void test_close_handshake(void **state)
{
    (void)state;
    nb_sock *l;
    nb_sock *s = raw_connected(&l, 5000, 400, 65536);
    nb_close(s);
    run_for(5);
    struct nb_vsock_hdr h;
    assert_true(raw_find(NB_VSOCK_OP_SHUTDOWN, &h) >= 0);
    assert_int_equal(h.flags, NB_VSOCK_SHUTDOWN_RCV | NB_VSOCK_SHUTDOWN_SEND);
    assert_int_equal(nb_stack_objects(P.a), 2); /* listener + closing conn */
    raw_clear();
    raw_send(NB_VSOCK_OP_RST, 5000, 400, 0, 0, 0, NULL, 0);
    run_for(5);
    assert_int_equal(raw.n, 0); /* no answer to the RST */
    assert_int_equal(nb_stack_objects(P.a), 1);
    assert_int_equal(vstats(P.a).close_timeouts, 0);
    nb_close(l);
}

static void test_close_timeout_sends_rst(void **state)
{
    (void)state;
    struct nb_vsock_tunables t;
    nb_vsock_get_tunables(P.a, &t);
    assert_int_equal(t.close_timeout_ns, 8 * NB_NS_PER_S); /* Linux's */
    t.close_timeout_ns = 150 * NB_NS_PER_MS;
    nb_vsock_set_tunables(P.a, &t);
    nb_sock *l;
    nb_sock *s = raw_connected(&l, 5000, 500, 65536);
    nb_close(s);
    run_for(50);
    assert_int_equal(raw_count(NB_VSOCK_OP_RST), 0);
    assert_true(run_until(raw_has_op, (void *)(uintptr_t)NB_VSOCK_OP_RST, 1000));
    assert_int_equal(vstats(P.a).close_timeouts, 1);
    assert_int_equal(nb_stack_objects(P.a), 1);
    nb_close(l);
}

static void test_peer_full_shutdown_answered_with_rst(void **state)
{
    (void)state;
    nb_sock *l;
    nb_sock *s = raw_connected(&l, 5000, 600, 65536);
    raw_send(NB_VSOCK_OP_RW, 5000, 600, 0, 65536, 0, "bye", 3);
    raw_send(NB_VSOCK_OP_SHUTDOWN, 5000, 600,
             NB_VSOCK_SHUTDOWN_RCV | NB_VSOCK_SHUTDOWN_SEND, 65536, 0, NULL, 0);
    run_for(5);
    assert_int_equal(raw_count(NB_VSOCK_OP_RST), 1);
    char b[8];
    assert_int_equal(nb_recv(s, b, sizeof b, 0), 3); /* data first */
    assert_int_equal(nb_recv(s, b, sizeof b, 0), 0); /* then end of stream */
    assert_int_equal(nb_send(s, "x", 1, 0), NB_EPIPE);
    raw_clear();
    nb_close(s);
    run_for(5);
    assert_int_equal(raw.n, 0); /* already over: nothing more on the wire */
    assert_int_equal(nb_stack_objects(P.a), 1);
    nb_close(l);
}

static void test_peer_rst_mid_stream(void **state)
{
    (void)state;
    nb_sock *l;
    nb_sock *s = raw_connected(&l, 5000, 700, 65536);
    raw_send(NB_VSOCK_OP_RW, 5000, 700, 0, 65536, 0, "part", 4);
    raw_send(NB_VSOCK_OP_RST, 5000, 700, 0, 0, 0, NULL, 0);
    run_for(5);
    char b[8];
    assert_int_equal(nb_recv(s, b, sizeof b, 0), 4);
    assert_int_equal(nb_recv(s, b, sizeof b, 0), NB_ECONNRESET);
    assert_int_equal(nb_send(s, "x", 1, 0), NB_ECONNRESET);
    nb_close(s);
    nb_close(l);
}

static void test_rw_beyond_credit_resets(void **state)
{
    (void)state;
    nb_sock *l = listener(P.a, 800, 4);
    nb_setopt(l, NB_SO_RCVBUF, 1000);
    raw_send(NB_VSOCK_OP_REQUEST, 5000, 800, 0, 65536, 0, NULL, 0);
    run_for(5);
    struct nb_vsock_hdr h;
    assert_true(raw_find(NB_VSOCK_OP_RESPONSE, &h) >= 0);
    assert_int_equal(h.buf_alloc, 1000);
    nb_sock *s;
    assert_int_equal(nb_accept(l, &s, NULL), 0);
    raw_clear();
    static char junk[1200];
    raw_send(NB_VSOCK_OP_RW, 5000, 800, 0, 65536, 0, junk, 600);
    raw_send(NB_VSOCK_OP_RW, 5000, 800, 0, 65536, 0, junk, 600); /* 1200 > 1000 */
    run_for(5);
    assert_int_equal(vstats(P.a).rx_over_credit, 1);
    assert_int_equal(raw_count(NB_VSOCK_OP_RST), 1);
    char b[1200];
    assert_int_equal(nb_recv(s, b, sizeof b, 0), 600); /* what was within credit */
    assert_int_equal(nb_recv(s, b, sizeof b, 0), NB_ECONNRESET);
    nb_close(s);
    nb_close(l);
}

static void test_malformed_packets(void **state)
{
    (void)state;
    nb_sock *l;
    nb_sock *s = raw_connected(&l, 5000, 900, 65536);
    /* shorter than a header */
    struct nb_pkt *p = nb_pkt_alloc(NB_PKT_HEADROOM, 10);
    memset(p->data, 0xff, 10);
    nb_iface_send(raw.ifc, p);
    /* control packet whose hdr.len disagrees: dropped, counted */
    raw_send_full(NB_VSOCK_OP_CREDIT_UPDATE, NB_VSOCK_TYPE_STREAM, 5000, 900, 0,
                  65536, 0, NULL, 0, 12, CID_A);
    /* oversize */
    raw_send_full(NB_VSOCK_OP_RW, NB_VSOCK_TYPE_STREAM, 1, 2, 0, 0, 0, NULL, 0,
                  200000, CID_A);
    run_for(5);
    assert_int_equal(vstats(P.a).rx_short, 1);
    assert_int_equal(vstats(P.a).rx_len_mismatch, 2);
    assert_int_equal(raw.n, 0); /* malformed packets get no answer */
    /* the connection is still fine */
    raw_send(NB_VSOCK_OP_RW, 5000, 900, 0, 65536, 0, "ok", 2);
    run_for(5);
    char b[8];
    assert_int_equal(nb_recv(s, b, sizeof b, 0), 2);
    /* data whose length lies: the stream can't be trusted, so it ends */
    raw_send_full(NB_VSOCK_OP_RW, NB_VSOCK_TYPE_STREAM, 5000, 900, 0, 65536, 0,
                  "abcdef", 6, 100, CID_A);
    run_for(5);
    assert_int_equal(vstats(P.a).rx_len_mismatch, 3);
    assert_int_equal(raw_count(NB_VSOCK_OP_RST), 1);
    assert_int_equal(nb_recv(s, b, sizeof b, 0), NB_EPROTO);
    struct nb_iface *a = nb_memlink_end(P.ml, 0);
    assert_int_equal(a->stats.rx_errors, 4);
    nb_close(s);
    nb_close(l);
}

static void test_request_flood_is_bounded(void **state)
{
    (void)state;
    nb_sock *l = listener(P.a, 1000, 8);
    struct nb_pkt_stats before;
    nb_pkt_get_stats(&before);
    for (uint32_t i = 0; i < 10000; i++) {
        raw_send(NB_VSOCK_OP_REQUEST, 10000 + i, 1000, 0, 65536, 0, NULL, 0);
        if (i % 256 == 0) {
            run_for(0);
            raw_clear();
        }
    }
    run_for(10);
    raw_clear();
    struct nb_vsock_stats st = vstats(P.a);
    assert_int_equal(st.accepts, 0);
    assert_int_equal(st.backlog_full, 10000 - 8);
    assert_int_equal(nb_stack_objects(P.a), 1 + 8);
    struct nb_pkt_stats after;
    nb_pkt_get_stats(&after);
    assert_int_equal(after.live, 0);
    /* and the stack still serves */
    nb_sock *s;
    struct nb_addr peer;
    assert_int_equal(nb_accept(l, &s, &peer), 0);
    assert_int_equal(peer.port, 10000); /* FIFO: the first REQUEST */
    nb_close(s);
    nb_close(l);
    run_for(5);
    /* the other 7 were aborted with the listener; the accepted one waits
     * for the peer's RST after our SHUTDOWN */
    assert_int_equal(raw_count(NB_VSOCK_OP_RST), 7);
    assert_int_equal(raw_count(NB_VSOCK_OP_SHUTDOWN), 1);
    assert_int_equal(nb_stack_objects(P.a), 1);
    raw_send(NB_VSOCK_OP_RST, 10000, 1000, 0, 0, 0, NULL, 0);
    run_for(5);
    raw_clear();
    assert_int_equal(nb_stack_objects(P.a), 0);
}

static void test_socket_limit(void **state)
{
    (void)state;
    nb_stack_set_max_sockets(P.a, 3);
    nb_sock *l = listener(P.a, 1100, 8);
    for (uint32_t i = 0; i < 5; i++)
        raw_send(NB_VSOCK_OP_REQUEST, 20000 + i, 1100, 0, 65536, 0, NULL, 0);
    run_for(5);
    assert_int_equal(raw_count(NB_VSOCK_OP_RESPONSE), 2);
    assert_int_equal(raw_count(NB_VSOCK_OP_RST), 3);
    assert_int_equal(vstats(P.a).no_resources, 3);
    nb_sock *x;
    assert_int_equal(nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &x), NB_ENFILE);
    nb_close(l);
}

static void test_tiny_packets_are_coalesced(void **state)
{
    (void)state;
    nb_sock *l;
    nb_sock *s = raw_connected(&l, 5000, 1200, 65536);
    struct nb_pkt_stats ps;
    for (int i = 0; i < 20000; i++) {
        raw_send(NB_VSOCK_OP_RW, 5000, 1200, 0, 65536, 0, "q", 1);
        if (i % 256 == 0)
            run_for(0);
    }
    run_for(5);
    int64_t nread;
    nb_getopt(s, NB_SO_NREAD, &nread);
    assert_int_equal(nread, 20000);
    nb_pkt_get_stats(&ps);
    /* 20000 one-byte packets held in a few 4 KiB buffers, not 20000 packets */
    assert_true(ps.live < 20);
    assert_true(ps.live_bytes < 64 * 1024);
    nb_close(s);
    nb_close(l);
}

static void test_credit_update_when_reader_frees_space(void **state)
{
    (void)state;
    nb_sock *l = listener(P.a, 1300, 4);
    nb_setopt(l, NB_SO_RCVBUF, 8192);
    raw_send(NB_VSOCK_OP_REQUEST, 5000, 1300, 0, 65536, 0, NULL, 0);
    run_for(5);
    nb_sock *s;
    assert_int_equal(nb_accept(l, &s, NULL), 0);
    raw_clear();
    static char data[8192];
    raw_send(NB_VSOCK_OP_RW, 5000, 1300, 0, 65536, 0, data, 8192); /* fills it */
    run_for(5);
    assert_int_equal(raw_count(NB_VSOCK_OP_CREDIT_UPDATE), 0);
    char b[8192];
    assert_int_equal(nb_recv(s, b, 100, 0), 100);
    run_for(5);
    struct nb_vsock_hdr h;
    assert_true(raw_find(NB_VSOCK_OP_CREDIT_UPDATE, &h) >= 0);
    assert_int_equal(h.fwd_cnt, 100);
    assert_int_equal(h.buf_alloc, 8192);
    nb_close(s);
    nb_close(l);
}

/* A link that corrupts, truncates, duplicates, drops and reorders: vsock
 * assumes a reliable transport, so streams may break, but the stacks must
 * count what they reject, never crash, and wind down to nothing. */
static void test_faulty_link_robustness(void **state)
{
    (void)state;
    struct nb_memlink_faults f = {
        .seed = 42, .drop_ppm = 20000, .duplicate_ppm = 20000, .reorder_ppm = 20000,
        .corrupt_ppm = 50000, .truncate_ppm = 20000,
    };
    nb_memlink_set_faults(P.ml, 0, &f);
    f.seed = 43;
    nb_memlink_set_faults(P.ml, 1, &f);
    struct nb_vsock_tunables t;
    for (int i = 0; i < 2; i++) {
        struct nb_stack *st = i ? P.b : P.a;
        nb_vsock_get_tunables(st, &t);
        t.connect_timeout_ns = 50 * NB_NS_PER_MS;
        t.close_timeout_ns = 50 * NB_NS_PER_MS;
        nb_vsock_set_tunables(st, &t);
    }
    nb_sock *l = listener(P.b, 7000, 64);
    nb_setopt(l, NB_SO_NONBLOCK, 1);
    enum { N = 32 };
    nb_sock *c[N] = {0}, *s[N] = {0};
    static char buf[32768];
    struct nb_addr to = nb_addr_vsock(CID_B, 7000);
    for (int i = 0; i < N; i++) {
        nb_socket(P.a, NB_AF_VSOCK, NB_SOCK_STREAM, &c[i]);
        nb_setopt(c[i], NB_SO_NONBLOCK, 1);
        nb_connect(c[i], &to);
    }
    uint64_t end = nb_clock_ns() + 500 * NB_NS_PER_MS;
    int accepted = 0;
    while (nb_clock_ns() < end) {
        nb_sock *n;
        while (accepted < N && nb_accept(l, &n, NULL) == 0) {
            nb_setopt(n, NB_SO_NONBLOCK, 1);
            s[accepted++] = n;
        }
        for (int i = 0; i < N; i++) {
            nb_send(c[i], buf, sizeof buf, 0);
            nb_recv(c[i], buf, sizeof buf, 0);
            if (s[i]) {
                nb_send(s[i], buf, 1000, 0);
                nb_recv(s[i], buf, sizeof buf, 0);
            }
        }
        nb_loop_run_once(nb_clock_ns() + NB_NS_PER_MS);
    }
    for (int i = 0; i < N; i++) {
        nb_close(c[i]);
        if (s[i])
            nb_close(s[i]);
    }
    nb_close(l);
    end = nb_clock_ns() + 3 * NB_NS_PER_S;
    while ((nb_stack_objects(P.a) || nb_stack_objects(P.b)) && nb_clock_ns() < end)
        nb_loop_run_once(nb_clock_ns() + 5 * NB_NS_PER_MS);
    assert_int_equal(nb_stack_objects(P.a), 0);
    assert_int_equal(nb_stack_objects(P.b), 0);
    struct nb_vsock_stats a = vstats(P.a), b = vstats(P.b);
    struct nb_memlink_stats ma;
    nb_memlink_get_stats(P.ml, 0, &ma);
    assert_true(ma.corrupted > 0 && ma.truncated > 0 && ma.duplicated > 0 &&
                ma.dropped > 0 && ma.reordered > 0);
    /* what the faults broke was noticed and counted */
    assert_true(a.rx_len_mismatch + b.rx_len_mismatch > 0);
    assert_true(a.rst_sent + b.rst_sent > 0);
}

int main(void)
{
    nb_log_configure("warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect_send_recv_close, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_connect_refused_without_listener, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout_blocking, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout_nonblocking, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_backlog_full_gets_rst, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_accept_queue_is_fifo, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_credit_limits_sender, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_half_close, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_peek_leaves_data, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_ephemeral_ports_reused, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_bind_rules, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_recv_timeout, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_poll_thousand_sockets, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_faulty_link_robustness, setup_pair, teardown),
        cmocka_unit_test_setup_teardown(test_request_gets_response_with_credit, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_credit_request_answered, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_never_rst_for_rst, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_rst_for_unknown_connection_and_op, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type_and_cid_get_rst, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_close_handshake, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_close_timeout_sends_rst, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_peer_full_shutdown_answered_with_rst, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_peer_rst_mid_stream, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_rw_beyond_credit_resets, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_packets, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_request_flood_is_bounded, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_socket_limit, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_tiny_packets_are_coalesced, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_credit_update_when_reader_frees_space, setup_raw, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
