/*
 * The "neoboot" import module (include/neoboot/abi.h, docs/abi.md).
 *
 * Every function here is a host function called by the wasm engine after
 * it has checked the guest's (pointer, length) arguments. Guest sockets
 * are handles to a small record {nb_sock, guest's own non-blocking flag}:
 * the socket itself is always non-blocking at the socket layer, and this
 * file does the waiting, so that it can also stop waiting the moment the
 * guest must stop (deadline, fuel, Ctrl-C) — a blocked guest is never out
 * of the embedder's control. Addresses cross the boundary as the 32-byte
 * little-endian struct nb_addr, decoded field by field.
 */
#include <neoboot/abi.h>
#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/inet.h>
#include <neoboot/platform.h>
#include <neoboot/sha256.h>
#include <neoboot/util.h>

#include "abi_internal.h"
#include "handles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(app);

#define LOG_MSG_MAX 1024
#define RANDOM_MAX (1u << 20)
/* one digest_update call: ~40 ms of hashing natively, so a guest cannot
 * hold the host outside the reach of its deadline for long */
#define DIGEST_CHUNK_MAX (16u << 20)

struct nb_app {
    char name[32];
    struct nb_stack *st;
    struct nb_caps caps;
    struct nb_handles handles;
    uint32_t max_poll;
    struct nb_app_stats stats;
    bool told_denied;
};

struct gsock {
    nb_sock *s;
    bool nonblock; /* the guest's view: NB_SO_NONBLOCK */
};

#define MODULE "neoboot"

/* --- configuration and lifetime --- */

void nb_app_config_defaults(struct nb_app_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    nb_caps_init(&cfg->caps);
    nb_caps_add(&cfg->caps, NB_CAP_LISTEN, "*:1024-65535", NULL);
    nb_caps_add(&cfg->caps, NB_CAP_LISTEN, "vsock:1024-4294967294", NULL);
    cfg->max_handles = 4096;
    cfg->max_poll = 4096;
}

struct nb_app *nb_app_new(const struct nb_app_config *cfg, const char *name)
{
    struct nb_app *app = calloc(1, sizeof *app);
    if (!app)
        return NULL;
    snprintf(app->name, sizeof app->name, "%s", name ? name : "app");
    app->st = cfg->stack ? cfg->stack : nb_stack_default();
    app->caps = cfg->caps;
    app->max_poll = cfg->max_poll ? cfg->max_poll : 4096;
    nb_handles_init(&app->handles, cfg->max_handles ? cfg->max_handles : 4096);
    return app;
}

static void close_one(void *arg, int32_t h, uint8_t kind, void *obj)
{
    struct nb_app *app = arg;
    nb_handles_remove(&app->handles, h, kind);
    if (kind == NB_H_SOCKET) {
        struct gsock *g = obj;
        nb_close(g->s);
        free(g);
    } else if (kind == NB_H_DIGEST) {
        free(obj);
    }
}

void nb_app_free(struct nb_app *app)
{
    if (!app)
        return;
    nb_handles_foreach(&app->handles, close_one, app);
    nb_handles_fini(&app->handles);
    free(app);
}

void nb_app_get_stats(const struct nb_app *app, struct nb_app_stats *out)
{
    *out = app->stats;
    out->handles = app->handles.used;
}

/* --- helpers --- */

static struct nb_app *APP(nb_wasm_hcall *hc)
{
    struct nb_app *app = nb_wasm_hcall_ctx(hc);
    app->stats.calls++;
    return app;
}

static int ret_i32(union nb_wasm_arg *res, int32_t v)
{
    res[0].i32 = v;
    return NB_WASM_OK;
}

static struct gsock *gsock_get(struct nb_app *app, int32_t h)
{
    struct gsock *g = nb_handles_get(&app->handles, h, NB_H_SOCKET);
    if (!g)
        app->stats.bad_handles++;
    return g;
}

static int denied(struct nb_app *app, const char *what, const struct nb_addr *a,
                  const char *flag)
{
    char text[64];
    app->stats.denied++;
    nb_addr_format(a, text, sizeof text);
    /* once at warning level (users need to know what to grant), then quietly */
    if (!app->told_denied) {
        app->told_denied = true;
        NB_WARN("%s: %s %s denied; grant it with %s", app->name, what, text, flag);
    } else {
        NB_DEBUG("%s: %s %s denied", app->name, what, text);
    }
    return NB_EACCES;
}

/* Decode a guest nb_addr (32 bytes, little-endian). */
static int addr_in(const uint8_t *p, struct nb_addr *a)
{
    memset(a, 0, sizeof *a);
    a->family = nb_le16(p);
    a->port = nb_le32(p + 4);
    switch (a->family) {
    case NB_AF_VSOCK:
        a->u.cid = nb_le32(p + 8);
        return 0;
    case NB_AF_INET:
        memcpy(a->u.ip4, p + 8, 4);
        return a->port <= 65535 ? 0 : NB_EINVAL;
    case NB_AF_INET6:
        memcpy(a->u.ip6, p + 8, 16);
        a->scope_id = nb_le32(p + 24);
        return a->port <= 65535 ? 0 : NB_EINVAL;
    default:
        return NB_EAFNOSUPPORT;
    }
}

static void addr_out(uint8_t *p, const struct nb_addr *a)
{
    memset(p, 0, NB_ABI_ADDR_SIZE);
    nb_put_le16(p, a->family);
    nb_put_le32(p + 4, a->port);
    if (a->family == NB_AF_VSOCK)
        nb_put_le32(p + 8, a->u.cid);
    else
        memcpy(p + 8, a->u.ip6, 16);
    nb_put_le32(p + 24, a->scope_id);
}

/* --- waiting that the guest's budget can cut short --- */

struct wait_ctx {
    nb_wasm_hcall *hc;
    nb_sock *s;
    uint32_t mask;
    int trap;
    bool (*ready)(void *arg); /* or this condition (s NULL) */
    void *ready_arg;
};

static bool wait_done(void *arg)
{
    struct wait_ctx *w = arg;
    if (w->ready && w->ready(w->ready_arg))
        return true;
    if (w->s && (nb_sock_readiness(w->s) & (w->mask | NB_POLLERR | NB_POLLHUP)))
        return true;
    w->trap = nb_wasm_hcall_should_stop(w->hc);
    return w->trap != 0;
}

/*
 * Run the loop until s shows mask (s may be NULL: just wait), timeout_ns
 * passes (0: no timeout) or the guest must stop. Returns 0, NB_ETIMEDOUT
 * or NB_EINTR; *trap is set when the guest must stop.
 */
static int guest_wait_ctx(struct wait_ctx *wc, uint64_t timeout_ns, int *trap);

static int guest_wait(nb_wasm_hcall *hc, nb_sock *s, uint32_t mask, uint64_t timeout_ns,
                      int *trap)
{
    struct wait_ctx w = {hc, s, mask, 0, NULL, NULL};
    return guest_wait_ctx(&w, timeout_ns, trap);
}

/* guest_wait for an arbitrary condition */
static int guest_wait_cond(nb_wasm_hcall *hc, bool (*ready)(void *), void *arg,
                           uint64_t timeout_ns, int *trap)
{
    struct wait_ctx w = {hc, NULL, 0, 0, ready, arg};
    return guest_wait_ctx(&w, timeout_ns, trap);
}

static int guest_wait_ctx(struct wait_ctx *wc, uint64_t timeout_ns, int *trap)
{
    nb_wasm_hcall *hc = wc->hc;
    uint64_t deadline = NB_FOREVER;
    if (timeout_ns) {
        uint64_t now = nb_clock_ns();
        deadline = timeout_ns > NB_FOREVER - now ? NB_FOREVER : now + timeout_ns;
    }
    uint64_t gd = nb_wasm_hcall_deadline(hc);
    bool guest_deadline_first = gd < deadline;
    if (guest_deadline_first)
        deadline = gd;
    int rc = nb_loop_run_until(wait_done, wc, deadline);
    if (!wc->trap && rc != 0)
        wc->trap = nb_wasm_hcall_should_stop(hc);
    if (!wc->trap && rc == NB_ETIMEDOUT && guest_deadline_first)
        wc->trap = NB_WASM_TRAP_DEADLINE;
    *trap = wc->trap;
    return rc;
}

static uint64_t sock_timeout(nb_sock *s, int opt)
{
    int64_t v = 0;
    nb_getopt(s, opt, &v);
    return (uint64_t)v;
}

/* --- sockets --- */

/* socket(family, type) -> handle */
static int h_socket(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = calloc(1, sizeof *g);
    if (!g)
        return ret_i32(r, NB_ENOMEM);
    int rc = nb_socket(app->st, a[0].i32, a[1].i32, &g->s);
    if (rc) {
        free(g);
        return ret_i32(r, rc);
    }
    nb_setopt(g->s, NB_SO_NONBLOCK, 1);
    int32_t h = nb_handles_add(&app->handles, NB_H_SOCKET, g);
    if (h < 0) {
        nb_close(g->s);
        free(g);
    }
    return ret_i32(r, h);
}

/* bind(h, addr*) */
static int h_bind(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    struct nb_addr addr;
    int rc = addr_in(a[1].mem.ptr, &addr);
    if (rc)
        return ret_i32(r, rc);
    int64_t type = 0;
    nb_getopt(g->s, NB_SO_TYPE, &type);
    /* a datagram socket receives on the port it binds: that is listening */
    if (type == NB_SOCK_DGRAM && addr.port != 0 &&
        nb_caps_check_listen(&app->caps, addr.family, (int)type, addr.port) != 0)
        return ret_i32(r, denied(app, "udp bind to", &addr, "--allow-listen udp:PORT"));
    return ret_i32(r, nb_bind(g->s, &addr));
}

/* listen(h, backlog) */
static int h_listen(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    struct nb_addr local;
    int rc = nb_getsockname(g->s, &local);
    if (rc)
        return ret_i32(r, rc == NB_ENOTCONN ? NB_EDESTADDRREQ : rc);
    int64_t type = 0;
    nb_getopt(g->s, NB_SO_TYPE, &type);
    if (nb_caps_check_listen(&app->caps, local.family, (int)type, local.port) != 0)
        return ret_i32(r, denied(app, "listen on", &local,
                                 local.family == NB_AF_VSOCK ? "--allow-listen vsock:PORT"
                                                             : "--allow-listen tcp:PORT"));
    return ret_i32(r, nb_listen(g->s, a[1].i32));
}

/* accept(h, peer*) -> handle */
static int h_accept(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    uint64_t timeout = sock_timeout(g->s, NB_SO_RCVTIMEO);
    for (;;) {
        nb_sock *ns;
        struct nb_addr peer;
        int rc = nb_accept(g->s, &ns, &peer);
        if (rc == 0) {
            struct gsock *n = calloc(1, sizeof *n);
            int32_t h = n ? nb_handles_add(&app->handles, NB_H_SOCKET, n) : NB_ENOMEM;
            if (h < 0) {
                /* no room for it in the guest: the peer sees a close */
                nb_close(ns);
                free(n);
                return ret_i32(r, h);
            }
            n->s = ns;
            nb_setopt(ns, NB_SO_NONBLOCK, 1);
            addr_out(a[1].mem.ptr, &peer);
            return ret_i32(r, h);
        }
        if (rc != NB_EAGAIN || g->nonblock)
            return ret_i32(r, rc);
        int trap;
        rc = guest_wait(hc, g->s, NB_POLLIN, timeout, &trap);
        if (trap)
            return trap;
        if (rc)
            return ret_i32(r, rc);
    }
}

static int check_connect(struct nb_app *app, nb_sock *s, const struct nb_addr *to)
{
    int64_t type = 0;
    nb_getopt(s, NB_SO_TYPE, &type);
    if (nb_caps_check_connect(&app->caps, (int)type, to) == 0)
        return 0;
    return denied(app, type == NB_SOCK_DGRAM ? "sending to" : "connect to", to,
                  "--allow-connect PROTO:HOST:PORT");
}

/* connect(h, addr*) */
static int h_connect(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    struct nb_addr to;
    int rc = addr_in(a[1].mem.ptr, &to);
    if (rc)
        return ret_i32(r, rc);
    rc = check_connect(app, g->s, &to);
    if (rc)
        return ret_i32(r, rc);
    rc = nb_connect(g->s, &to);
    if (rc != NB_EINPROGRESS || g->nonblock)
        return ret_i32(r, rc);
    /* the family enforces the connect timeout; the guest's budget may cut in */
    int trap;
    rc = guest_wait(hc, g->s, NB_POLLOUT, 0, &trap);
    if (trap)
        return trap;
    if (rc)
        return ret_i32(r, rc);
    int64_t err = 0;
    nb_getopt(g->s, NB_SO_ERROR, &err);
    return ret_i32(r, (int32_t)err);
}

#define SEND_FLAGS (NB_MSG_DONTWAIT)
#define RECV_FLAGS (NB_MSG_PEEK | NB_MSG_DONTWAIT | NB_MSG_WAITALL | NB_MSG_TRUNC)

static int do_send(nb_wasm_hcall *hc, struct nb_app *app, const union nb_wasm_arg *a,
                   union nb_wasm_arg *r, const struct nb_addr *to)
{
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    int flags = a[2].i32;
    if (flags & ~SEND_FLAGS)
        return ret_i32(r, NB_EINVAL);
    if (to) {
        int rc = check_connect(app, g->s, to);
        if (rc)
            return ret_i32(r, rc);
    }
    const uint8_t *buf = a[1].mem.ptr;
    size_t len = a[1].mem.len, done = 0;
    bool block = !g->nonblock && !(flags & NB_MSG_DONTWAIT);
    int64_t type = 0;
    nb_getopt(g->s, NB_SO_TYPE, &type);
    uint64_t timeout = sock_timeout(g->s, NB_SO_SNDTIMEO);
    for (;;) {
        long n = nb_sendto(g->s, buf + done, len - done, NB_MSG_DONTWAIT, to);
        if (n >= 0) {
            done += (size_t)n;
            if (done == len || !block || type != NB_SOCK_STREAM)
                return ret_i32(r, (int32_t)done);
            continue;
        }
        if (n != NB_EAGAIN || !block)
            return ret_i32(r, done ? (int32_t)done : (int32_t)n);
        int trap;
        int rc = guest_wait(hc, g->s, NB_POLLOUT, timeout, &trap);
        if (trap)
            return trap;
        if (rc)
            return ret_i32(r, done ? (int32_t)done : rc);
    }
}

/* send(h, buf, len, flags) -> bytes */
static int h_send(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return do_send(hc, APP(hc), a, r, NULL);
}

/* sendto(h, buf, len, flags, addr*) -> bytes */
static int h_sendto(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct nb_addr to;
    int rc = addr_in(a[3].mem.ptr, &to);
    if (rc)
        return ret_i32(r, rc);
    return do_send(hc, app, a, r, &to);
}

static int do_recv(nb_wasm_hcall *hc, struct nb_app *app, const union nb_wasm_arg *a,
                   union nb_wasm_arg *r, uint8_t *from_out)
{
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    int flags = a[2].i32;
    if (flags & ~RECV_FLAGS)
        return ret_i32(r, NB_EINVAL);
    uint8_t *buf = a[1].mem.ptr;
    size_t len = a[1].mem.len, done = 0;
    bool block = !g->nonblock && !(flags & NB_MSG_DONTWAIT);
    int64_t type = 0;
    nb_getopt(g->s, NB_SO_TYPE, &type);
    bool waitall = (flags & NB_MSG_WAITALL) && !(flags & NB_MSG_PEEK) &&
                   type == NB_SOCK_STREAM && block;
    int pass = (flags & (NB_MSG_PEEK | NB_MSG_TRUNC)) | NB_MSG_DONTWAIT;
    uint64_t timeout = sock_timeout(g->s, NB_SO_RCVTIMEO);
    struct nb_addr from;
    memset(&from, 0, sizeof from);
    for (;;) {
        long n = nb_recvfrom(g->s, buf + done, len - done, pass, &from);
        if (n > 0 || (n == 0 && len == done)) {
            done += (size_t)n;
            if (!waitall || done >= len)
                break;
            continue;
        }
        if (n == 0)
            break; /* end of stream */
        if (n != NB_EAGAIN || !block) {
            if (done)
                break;
            return ret_i32(r, (int32_t)n);
        }
        int trap;
        int rc = guest_wait(hc, g->s, NB_POLLIN | NB_POLLRDHUP, timeout, &trap);
        if (trap)
            return trap;
        if (rc) {
            if (done)
                break;
            return ret_i32(r, rc);
        }
    }
    if (from_out)
        addr_out(from_out, &from);
    /* with NB_MSG_TRUNC a datagram's full length may exceed len */
    return ret_i32(r, done > INT32_MAX ? INT32_MAX : (int32_t)done);
}

/* recv(h, buf, len, flags) -> bytes (0: end of stream) */
static int h_recv(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return do_recv(hc, APP(hc), a, r, NULL);
}

/* recvfrom(h, buf, len, flags, from*) -> bytes */
static int h_recvfrom(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return do_recv(hc, APP(hc), a, r, a[3].mem.ptr);
}

/* shutdown(h, how) */
static int h_shutdown(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = gsock_get(app, a[0].i32);
    return ret_i32(r, g ? nb_shutdown(g->s, a[1].i32) : NB_EBADF);
}

/* close(h) */
static int h_close(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = nb_handles_remove(&app->handles, a[0].i32, NB_H_SOCKET);
    if (!g) {
        /* close() also abandons an unfinished digest */
        void *d = nb_handles_remove(&app->handles, a[0].i32, NB_H_DIGEST);
        if (d) {
            free(d);
            return ret_i32(r, 0);
        }
        app->stats.bad_handles++;
        return ret_i32(r, NB_EBADF);
    }
    nb_close(g->s);
    free(g);
    return ret_i32(r, 0);
}

/* setopt(h, opt, value:i64) */
static int h_setopt(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    if (a[1].i32 == NB_SO_NONBLOCK) {
        g->nonblock = a[2].i64 != 0;
        return ret_i32(r, 0);
    }
    return ret_i32(r, nb_setopt(g->s, a[1].i32, a[2].i64));
}

/* getopt(h, opt, value*:i64) */
static int h_getopt(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    int64_t v = 0;
    int rc = a[1].i32 == NB_SO_NONBLOCK ? (v = g->nonblock, 0) : nb_getopt(g->s, a[1].i32, &v);
    if (rc == 0)
        nb_put_le64(a[2].mem.ptr, (uint64_t)v);
    return ret_i32(r, rc);
}

static int getname(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r,
                   bool peer)
{
    struct nb_app *app = APP(hc);
    struct gsock *g = gsock_get(app, a[0].i32);
    if (!g)
        return ret_i32(r, NB_EBADF);
    struct nb_addr out;
    int rc = peer ? nb_getpeername(g->s, &out) : nb_getsockname(g->s, &out);
    if (rc == 0)
        addr_out(a[1].mem.ptr, &out);
    return ret_i32(r, rc);
}

static int h_sockname(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return getname(hc, a, r, false);
}

static int h_peername(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return getname(hc, a, r, true);
}

/* --- poll --- */

struct gpoll_ctx {
    nb_wasm_hcall *hc;
    struct nb_pollfd *fds;
    size_t n;
    int ready, trap;
};

static bool gpoll_scan(void *arg)
{
    struct gpoll_ctx *c = arg;
    c->ready = nb_poll(c->fds, c->n, 0);
    if (c->ready > 0)
        return true;
    c->trap = nb_wasm_hcall_should_stop(c->hc);
    return c->trap != 0;
}

/* poll(fds*, nfds, timeout_ns:i64) -> ready count; fds are
 * {i32 handle, u32 events, u32 revents}; a bad handle gets NB_POLLNVAL */
static int h_poll(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    uint8_t *gf = a[0].mem.ptr;
    size_t n = a[0].mem.len / NB_ABI_POLLFD_SIZE;
    int64_t timeout = a[1].i64;
    if (n > app->max_poll)
        return ret_i32(r, NB_EINVAL);
    struct nb_pollfd *fds = n ? calloc(n, sizeof *fds) : NULL;
    if (n && !fds)
        return ret_i32(r, NB_ENOMEM);
    for (size_t i = 0; i < n; i++) {
        int32_t h = (int32_t)nb_le32(gf + i * NB_ABI_POLLFD_SIZE);
        struct gsock *g = h < 0 ? NULL : nb_handles_get(&app->handles, h, NB_H_SOCKET);
        fds[i].sock = g ? g->s : NULL;
        fds[i].events = nb_le32(gf + i * NB_ABI_POLLFD_SIZE + 4);
        if (!g && h >= 0)
            app->stats.bad_handles++;
    }
    struct gpoll_ctx c = {hc, fds, n, 0, 0};
    int rc = 0;
    if (!gpoll_scan(&c) && timeout != 0) {
        uint64_t deadline = NB_FOREVER;
        if (timeout > 0) {
            uint64_t now = nb_clock_ns();
            deadline = (uint64_t)timeout > NB_FOREVER - now ? NB_FOREVER : now + (uint64_t)timeout;
        }
        uint64_t gd = nb_wasm_hcall_deadline(hc);
        if (gd < deadline)
            deadline = gd;
        rc = nb_loop_run_until(gpoll_scan, &c, deadline);
        if (!c.trap && rc)
            c.trap = nb_wasm_hcall_should_stop(hc);
    }
    for (size_t i = 0; i < n; i++) {
        /* a negative handle is ignored, as poll(2) ignores negative fds */
        int32_t h = (int32_t)nb_le32(gf + i * NB_ABI_POLLFD_SIZE);
        nb_put_le32(gf + i * NB_ABI_POLLFD_SIZE + 8, h < 0 ? 0 : fds[i].revents);
        if (h < 0 && fds[i].revents)
            c.ready--;
    }
    free(fds);
    if (c.trap)
        return c.trap;
    if (rc == NB_EINTR)
        return ret_i32(r, NB_EINTR);
    return ret_i32(r, c.ready < 0 ? 0 : c.ready);
}

/* --- time, logging, randomness, status --- */

/* clock(id) -> ns: 0 monotonic, 1 wall clock (0 if unknown) */
static int h_clock(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    (void)APP(hc);
    r[0].i64 = a[0].i32 == 1 ? (int64_t)nb_wallclock_ns()
             : a[0].i32 == 0 ? (int64_t)nb_clock_ns() : NB_EINVAL;
    return NB_WASM_OK;
}

/* sleep(ns:i64): the network keeps running meanwhile */
static int h_sleep(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    (void)APP(hc);
    if (a[0].i64 < 0)
        return ret_i32(r, NB_EINVAL);
    if (a[0].i64 == 0)
        return ret_i32(r, 0);
    int trap;
    int rc = guest_wait(hc, NULL, 0, (uint64_t)a[0].i64, &trap);
    if (trap)
        return trap;
    return ret_i32(r, rc == NB_ETIMEDOUT ? 0 : rc);
}

/* log(level, msg, len) */
static int h_log(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    int level = a[0].i32;
    if (level < NB_LOG_ERROR || level > NB_LOG_TRACE)
        return ret_i32(r, NB_EINVAL);
    if (nb_log_level_of(&nb_log_mod_) < level)
        return ret_i32(r, 0);
    char msg[LOG_MSG_MAX + 1];
    size_t len = a[1].mem.len > LOG_MSG_MAX ? LOG_MSG_MAX : a[1].mem.len;
    /* guest text is not trusted on a console: no control characters */
    for (size_t i = 0; i < len; i++) {
        uint8_t c = a[1].mem.ptr[i];
        msg[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    }
    while (len && msg[len - 1] == '?' && a[1].mem.ptr[len - 1] == '\n')
        len--;
    msg[len] = 0;
    nb_log_write(&nb_log_mod_, level, "%s: %s", app->name, msg);
    return ret_i32(r, 0);
}

/* random(buf, len) */
static int h_random(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    (void)APP(hc);
    if (a[0].mem.len > RANDOM_MAX)
        return ret_i32(r, NB_E2BIG);
    return ret_i32(r, nb_platform_entropy(a[0].mem.ptr, a[0].mem.len));
}

/* stats(buf, len) -> full length of the JSON text (written up to len) */
static int h_stats(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    (void)APP(hc);
    size_t n = nb_net_stats_json((char *)a[0].mem.ptr, a[0].mem.len);
    return ret_i32(r, n > INT32_MAX ? INT32_MAX : (int32_t)n);
}

/* netif(index, out*) -> 0, NB_ENOENT past the last interface */
static int h_netif(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    return ret_i32(r, nb_abi_netif_fill(app->st, a[0].i32, a[1].mem.ptr));
}

/* resolve(name, len, family, out*, max, timeout_ns) -> count */
static int h_resolve(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    return nb_abi_resolve(hc, app->st, a, r);
}

/* --- network readiness and digests --- */

static bool app_net_ready(void *arg)
{
    struct nb_app *app = arg;
    for (struct nb_iface *ifc = nb_iface_first(); ifc; ifc = ifc->next)
        if (ifc->stack == app->st && ifc->up && ifc->link_up &&
            (nb_inet_ready(ifc, NB_AF_INET) || nb_inet_ready(ifc, NB_AF_INET6)))
            return true;
    return false;
}

/* net_wait(timeout_ns) -> 0 once an interface of the app's stack has an
 * IPv4 address or a preferred global IPv6 one; NB_ETIMEDOUT; NB_ENETDOWN
 * when the stack has no IP interface at all (nothing to wait for). */
static int h_net_wait(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    if (a[0].i64 < 0)
        return ret_i32(r, NB_EINVAL);
    if (app_net_ready(app))
        return ret_i32(r, 0);
    bool any_ip = false;
    for (struct nb_iface *ifc = nb_iface_first(); ifc; ifc = ifc->next)
        if (ifc->stack == app->st && ifc->link == NB_LINK_ETHERNET)
            any_ip = true;
    if (!any_ip)
        return ret_i32(r, NB_ENETDOWN);
    if (a[0].i64 == 0)
        return ret_i32(r, NB_ETIMEDOUT);
    int trap;
    int rc = guest_wait_cond(hc, app_net_ready, app, (uint64_t)a[0].i64, &trap);
    if (trap)
        return trap;
    return ret_i32(r, rc);
}

/* digest_begin(alg) -> handle; the hashing runs natively, many times
 * faster than in the guest (fetch's and netboot's checks) */
static int h_digest_begin(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    if (a[0].i32 != NB_DIGEST_SHA256)
        return ret_i32(r, NB_EINVAL);
    struct nb_sha256 *c = malloc(sizeof *c);
    if (!c)
        return ret_i32(r, NB_ENOMEM);
    nb_sha256_init(c);
    int32_t h = nb_handles_add(&app->handles, NB_H_DIGEST, c);
    if (h < 0)
        free(c);
    return ret_i32(r, h);
}

/* digest_update(h, buf, len) -> 0 */
static int h_digest_update(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    struct nb_sha256 *c = nb_handles_get(&app->handles, a[0].i32, NB_H_DIGEST);
    if (!c) {
        app->stats.bad_handles++;
        return ret_i32(r, NB_EBADF);
    }
    if (a[1].mem.len > DIGEST_CHUNK_MAX)
        return ret_i32(r, NB_E2BIG);
    nb_sha256_update(c, a[1].mem.ptr, a[1].mem.len);
    return ret_i32(r, 0);
}

/* digest_end(h, out, len) -> digest length; the handle is gone after */
static int h_digest_end(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    struct nb_app *app = APP(hc);
    if (!nb_handles_get(&app->handles, a[0].i32, NB_H_DIGEST)) {
        app->stats.bad_handles++;
        return ret_i32(r, NB_EBADF);
    }
    if (a[1].mem.len < NB_SHA256_LEN)
        return ret_i32(r, NB_EINVAL); /* the handle stays: try again with room */
    struct nb_sha256 *c = nb_handles_remove(&app->handles, a[0].i32, NB_H_DIGEST);
    nb_sha256_final(c, a[1].mem.ptr);
    free(c);
    return ret_i32(r, NB_SHA256_LEN);
}

static const struct {
    const char *name, *sig;
    nb_wasm_host_fn fn;
} host_fns[] = {
    {"socket", "(ii)i", h_socket},
    {"bind", "(ip32)i", h_bind},
    {"listen", "(ii)i", h_listen},
    {"accept", "(ip32)i", h_accept},
    {"connect", "(ip32)i", h_connect},
    {"send", "(ibi)i", h_send},
    {"recv", "(ibi)i", h_recv},
    {"sendto", "(ibip32)i", h_sendto},
    {"recvfrom", "(ibip32)i", h_recvfrom},
    {"shutdown", "(ii)i", h_shutdown},
    {"close", "(i)i", h_close},
    {"setopt", "(iiI)i", h_setopt},
    {"getopt", "(iip8)i", h_getopt},
    {"sockname", "(ip32)i", h_sockname},
    {"peername", "(ip32)i", h_peername},
    {"poll", "(a12I)i", h_poll},
    {"resolve", "(bia32I)i", h_resolve},
    {"netif", "(ip320)i", h_netif},
    {"stats", "(b)i", h_stats},
    {"clock", "(i)I", h_clock},
    {"sleep", "(I)i", h_sleep},
    {"log", "(ib)i", h_log},
    {"random", "(b)i", h_random},
    {"net_wait", "(I)i", h_net_wait},
    {"digest_begin", "(i)i", h_digest_begin},
    {"digest_update", "(ib)i", h_digest_update},
    {"digest_end", "(ib)i", h_digest_end},
    {"boot_begin", "(iIp32)i", nb_abi_boot_begin},
    {"boot_append", "(ib)i", nb_abi_boot_append},
    {"boot_cmdline", "(b)i", nb_abi_boot_cmdline},
    {"boot_exec", "()i", nb_abi_boot_exec},
    {"boot_error", "(b)i", nb_abi_boot_error},
};

bool nb_abi_app_may_boot(const struct nb_app *app)
{
    return app->caps.boot;
}

int nb_app_link(struct nb_app *app, nb_wasm_store *s)
{
    for (size_t i = 0; i < NB_ARRAY_SIZE(host_fns); i++) {
        int rc = nb_wasm_define_func(s, MODULE, host_fns[i].name, host_fns[i].sig,
                                     host_fns[i].fn, app);
        if (rc)
            return rc;
    }
    return 0;
}
