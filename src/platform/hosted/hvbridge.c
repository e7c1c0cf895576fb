/*
 * The hybrid-vsock bridge (see hvbridge.h).
 *
 * A host connection first goes through the CONNECT handshake (hostconn);
 * a guest connection is checked against PATH_P as its REQUEST arrives, so
 * a guest whose host port has no listener gets an RST, as with Firecracker.
 * Once connected, each pair of UNIX fd and host-stack vsock socket is
 * handed to a relay (relay.c), which carries the bytes with backpressure.
 */
#define _GNU_SOURCE
#include "hvbridge.h"

#include "hosted.h"
#include "memlink.h"
#include "relay.h"

#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/util.h>
#include <neoboot/vsock.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

NB_LOG_MODULE(hvbridge);

#define HANDSHAKE_MAX 64
#define HANDSHAKE_TIMEOUT_NS (10 * NB_NS_PER_S)
#define MAX_RELAYS 1024

/* A host connection between accept and the end of its CONNECT handshake. */
struct hostconn {
    struct nb_hvbridge *br;
    int fd;
    bool watched;
    nb_sock *vs;              /* once CONNECT was read: connecting */
    char hs[HANDSHAKE_MAX];
    size_t hs_len;
    struct nb_work work;
    struct nb_timer timer;    /* handshake deadline */
    struct hostconn *next, *prev;
};

struct nb_hvbridge {
    struct nb_stack *guest, *host;
    struct nb_memlink *ml;
    uint32_t guest_cid;
    char path[108];
    int listen_fd;
    nb_sock *any;             /* host-stack listener for guest -> host */
    struct hostconn *pending;
    struct relay_ref *relays;
    struct nb_work accept_work;
    struct nb_hvbridge_stats stats;
};

/* The bridge's handle on a running relay (to abort it on shutdown). */
struct relay_ref {
    struct nb_hvbridge *br;
    struct nb_relay *relay;
    struct relay_ref *next, *prev;
};

static void ref_unlink(struct relay_ref *ref)
{
    struct nb_hvbridge *br = ref->br;
    if (ref->prev)
        ref->prev->next = ref->next;
    else
        br->relays = ref->next;
    if (ref->next)
        ref->next->prev = ref->prev;
    br->stats.active--;
}

static void relay_done(void *arg, int err, uint64_t to_sock, uint64_t to_fd)
{
    struct relay_ref *ref = arg;
    struct nb_hvbridge *br = ref->br;
    br->stats.bytes_to_guest += to_sock;
    br->stats.bytes_to_host += to_fd;
    if (err)
        NB_DEBUG("relay ended: %s", nb_strerror(err));
    ref_unlink(ref);
    free(ref);
}

/* Relay between fd and s from now on; takes both. */
static void bridge_relay(struct nb_hvbridge *br, int fd, nb_sock *s)
{
    struct relay_ref *ref = calloc(1, sizeof *ref);
    if (ref)
        ref->relay = nb_relay_new(fd, fd, s, relay_done, ref);
    if (!ref || !ref->relay) {
        free(ref);
        close(fd);
        nb_close(s);
        return;
    }
    ref->br = br;
    ref->next = br->relays;
    if (br->relays)
        br->relays->prev = ref;
    br->relays = ref;
    br->stats.active++;
}

static void hostconn_free(struct hostconn *h)
{
    struct nb_hvbridge *br = h->br;
    if (h->watched)
        nb_hosted_unwatch(h->fd);
    if (h->fd >= 0)
        close(h->fd);
    if (h->vs)
        nb_close(h->vs);
    nb_work_cancel(&h->work);
    nb_timer_cancel(&h->timer);
    if (h->prev)
        h->prev->next = h->next;
    else
        br->pending = h->next;
    if (h->next)
        h->next->prev = h->prev;
    br->stats.active--;
    free(h);
}

static void hostconn_refuse(struct hostconn *h)
{
    h->br->stats.host_refused++;
    hostconn_free(h);
}

static void hostconn_event(void *arg, int fd, uint32_t ev)
{
    struct hostconn *h = arg;
    (void)fd;
    (void)ev;
    nb_work_post(&h->work);
}

static void hostconn_notify(nb_sock *s, void *arg)
{
    struct hostconn *h = arg;
    (void)s;
    nb_work_post(&h->work);
}

static void hostconn_timeout(struct nb_timer *t)
{
    struct hostconn *h = NB_CONTAINER_OF(t, struct hostconn, timer);
    NB_INFO("host connection gave no CONNECT line in time; closing");
    hostconn_refuse(h);
}

/* Read "CONNECT <port>\n" (no further: what follows belongs to the
 * stream) and start the vsock connection. */
static void hostconn_read_line(struct hostconn *h)
{
    struct nb_hvbridge *br = h->br;
    ssize_t n = recv(h->fd, h->hs + h->hs_len, sizeof h->hs - h->hs_len, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        hostconn_refuse(h);
        return;
    }
    if (n < 0)
        return;
    char *nl = memchr(h->hs + h->hs_len, '\n', (size_t)n);
    size_t take = nl ? (size_t)(nl - (h->hs + h->hs_len)) + 1 : (size_t)n;
    if (recv(h->fd, h->hs + h->hs_len, take, 0) != (ssize_t)take) {
        hostconn_refuse(h);
        return;
    }
    h->hs_len += take;
    if (!nl) {
        if (h->hs_len == sizeof h->hs) {
            NB_INFO("host handshake too long; closing");
            hostconn_refuse(h);
        }
        return;
    }
    h->hs[h->hs_len - 1] = 0;
    if (h->hs_len >= 2 && h->hs[h->hs_len - 2] == '\r')
        h->hs[h->hs_len - 2] = 0;
    unsigned long port;
    char *end;
    if (strncmp(h->hs, "CONNECT ", 8) != 0 || h->hs[8] < '0' || h->hs[8] > '9' ||
        (port = strtoul(h->hs + 8, &end, 10)) > 0xFFFFFFFEul || *end) {
        NB_INFO("bad host handshake '%.40s'; expected 'CONNECT <port>'", h->hs);
        hostconn_refuse(h);
        return;
    }
    /* Don't read the stream before we said OK. */
    nb_hosted_unwatch(h->fd);
    h->watched = false;
    int rc = nb_socket(br->host, NB_AF_VSOCK, NB_SOCK_STREAM, &h->vs);
    if (rc == 0) {
        nb_setopt(h->vs, NB_SO_NONBLOCK, 1);
        nb_sock_set_notify(h->vs, hostconn_notify, h);
        struct nb_addr to = nb_addr_vsock(br->guest_cid, (uint32_t)port);
        rc = nb_connect(h->vs, &to);
    }
    if (rc != 0 && rc != NB_EINPROGRESS) {
        NB_INFO("CONNECT %lu: %s", port, nb_strerror(rc));
        hostconn_refuse(h);
        return;
    }
    nb_work_post(&h->work);
}

static void hostconn_work(struct nb_work *w)
{
    struct hostconn *h = NB_CONTAINER_OF(w, struct hostconn, work);
    if (!h->vs) {
        hostconn_read_line(h);
        return;
    }
    uint32_t rd = nb_sock_readiness(h->vs);
    if (!(rd & (NB_POLLOUT | NB_POLLERR | NB_POLLHUP)))
        return; /* still connecting */
    int64_t err = 0;
    nb_getopt(h->vs, NB_SO_ERROR, &err);
    if (err) {
        NB_INFO("guest refused the host connection: %s", nb_strerror((int)err));
        hostconn_refuse(h);
        return;
    }
    struct nb_addr me;
    nb_getsockname(h->vs, &me);
    char ok[32];
    int len = snprintf(ok, sizeof ok, "OK %u\n", (unsigned)me.port);
    if (send(h->fd, ok, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len) {
        hostconn_refuse(h);
        return;
    }
    struct nb_hvbridge *br = h->br;
    br->stats.host_connects++;
    int fd = h->fd;
    nb_sock *vs = h->vs;
    h->fd = -1;
    h->vs = NULL;
    hostconn_free(h);
    bridge_relay(br, fd, vs);
}

static void bridge_accept_host(void *arg, int fd, uint32_t ev)
{
    struct nb_hvbridge *br = arg;
    (void)ev;
    for (int i = 0; i < 64; i++) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0)
            return;
        struct hostconn *h = br->stats.active < MAX_RELAYS ? calloc(1, sizeof *h) : NULL;
        if (!h) {
            NB_WARN("too many bridged connections; refusing");
            br->stats.host_refused++;
            close(c);
            continue;
        }
        h->br = br;
        h->fd = c;
        nb_work_init(&h->work, hostconn_work);
        nb_timer_init(&h->timer, hostconn_timeout);
        if (nb_hosted_watch(c, EPOLLIN, hostconn_event, h) != 0) {
            close(c);
            free(h);
            continue;
        }
        h->watched = true;
        h->next = br->pending;
        if (br->pending)
            br->pending->prev = h;
        br->pending = h;
        br->stats.active++;
        nb_timer_arm_in(&h->timer, HANDSHAKE_TIMEOUT_NS);
    }
}

/* A guest connects to CID 2 port P: reach PATH_P now, or refuse with RST. */
static int bridge_guest_request(void *arg, const struct nb_addr *local,
                                const struct nb_addr *peer, void **cookie)
{
    struct nb_hvbridge *br = arg;
    (void)peer;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s_%u", br->path,
                     (unsigned)local->port);
    if (n < 0 || (size_t)n >= sizeof sa.sun_path || br->stats.active >= MAX_RELAYS) {
        br->stats.guest_refused++;
        return NB_ENAMETOOLONG;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        NB_INFO("guest connection to host port %u: %s: %s", (unsigned)local->port,
                sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        br->stats.guest_refused++;
        return NB_ECONNREFUSED;
    }
    *cookie = (void *)(intptr_t)(fd + 1);
    return 0;
}

static void bridge_accept_guest(struct nb_work *w)
{
    struct nb_hvbridge *br = NB_CONTAINER_OF(w, struct nb_hvbridge, accept_work);
    nb_sock *s;
    while (nb_accept(br->any, &s, NULL) == 0) {
        int fd = (int)(intptr_t)nb_sock_user(s) - 1;
        if (fd < 0) {
            nb_close(s);
            continue;
        }
        br->stats.guest_connects++;
        bridge_relay(br, fd, s);
    }
}

static void bridge_any_notify(nb_sock *s, void *arg)
{
    struct nb_hvbridge *br = arg;
    (void)s;
    nb_work_post(&br->accept_work);
}

struct nb_hvbridge *nb_hvbridge_new(struct nb_stack *guest, const char *path,
                                    uint32_t guest_cid, int *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    /* PATH_<port> must fit too: leave room for "_4294967295" */
    if (strlen(path) + 11 >= sizeof sa.sun_path) {
        *err = NB_ENAMETOOLONG;
        return NULL;
    }
    struct nb_hvbridge *br = calloc(1, sizeof *br);
    if (!br) {
        *err = NB_ENOMEM;
        return NULL;
    }
    br->guest = guest;
    br->guest_cid = guest_cid;
    br->listen_fd = -1;
    snprintf(br->path, sizeof br->path, "%s", path);
    nb_work_init(&br->accept_work, bridge_accept_guest);

    br->ml = nb_memlink_new("vsock0", "hvhost", NB_LINK_VSOCK, guest_cid,
                            NB_VMADDR_CID_HOST);
    br->host = nb_stack_new("hvbridge");
    if (!br->ml || !br->host) {
        *err = NB_ENOMEM;
        goto fail;
    }
    *err = nb_stack_attach(guest, nb_memlink_end(br->ml, 0));
    if (*err)
        goto fail;
    *err = nb_stack_attach(br->host, nb_memlink_end(br->ml, 1));
    if (*err)
        goto fail;
    nb_iface_start(nb_memlink_end(br->ml, 0));
    nb_iface_start(nb_memlink_end(br->ml, 1));

    *err = nb_socket(br->host, NB_AF_VSOCK, NB_SOCK_STREAM, &br->any);
    if (*err == 0) {
        nb_setopt(br->any, NB_SO_NONBLOCK, 1);
        nb_sock_set_notify(br->any, bridge_any_notify, br);
        *err = nb_vsock_listen_any(br->any, 128, bridge_guest_request, br);
    }
    if (*err)
        goto fail;

    strcpy(sa.sun_path, path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        *err = NB_EIO;
        goto fail;
    }
    /* a stale socket file from an earlier run: remove it only if nobody
     * answers on it */
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
        close(s);
        *err = NB_EADDRINUSE;
        goto fail;
    }
    close(s);
    unlink(path);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 128) != 0) {
        *err = errno == EACCES ? NB_EACCES : NB_EIO;
        if (s >= 0)
            close(s);
        goto fail;
    }
    br->listen_fd = s;
    nb_hosted_watch(s, EPOLLIN, bridge_accept_host, br);
    NB_INFO("hybrid vsock bridge on %s (guest cid %u)", path, (unsigned)guest_cid);
    return br;
fail:
    if (br->any)
        nb_close(br->any);
    if (br->host)
        nb_stack_free(br->host);
    if (br->ml)
        nb_memlink_free(br->ml);
    free(br);
    return NULL;
}

void nb_hvbridge_free(struct nb_hvbridge *br)
{
    if (!br)
        return;
    while (br->pending)
        hostconn_free(br->pending);
    while (br->relays) {
        struct relay_ref *ref = br->relays;
        ref_unlink(ref);
        nb_relay_abort(ref->relay);
        free(ref);
    }
    if (br->listen_fd >= 0) {
        nb_hosted_unwatch(br->listen_fd);
        close(br->listen_fd);
        unlink(br->path);
    }
    nb_work_cancel(&br->accept_work);
    nb_close(br->any);
    nb_stack_free(br->host);
    nb_memlink_free(br->ml);
    free(br);
}

void nb_hvbridge_get_stats(struct nb_hvbridge *br, struct nb_hvbridge_stats *out)
{
    *out = br->stats;
}
