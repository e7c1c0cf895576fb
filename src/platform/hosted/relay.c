/*
 * fd <-> socket relay (see relay.h). All work happens in relay_pump(),
 * run as loop work whenever an fd is ready or the socket's state changed.
 * A direction's buffer is refilled only when empty, so a byte read from one
 * side is held until the other side accepted it.
 */
#define _GNU_SOURCE
#include "relay.h"

#include "hosted.h"

#include <neoboot/err.h>
#include <neoboot/loop.h>
#include <neoboot/util.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define RELAY_BUF (64 * 1024)

struct rbuf {
    uint8_t data[RELAY_BUF];
    size_t off, len;
};

struct rfd {
    int fd;
    bool pollable;    /* false for regular files: always ready */
    uint32_t events;  /* what we watch it for (0: not watched) */
};

struct nb_relay {
    struct rfd in, out;   /* same fd twice for a bidirectional socket */
    bool same_fd;
    nb_sock *s;
    struct rbuf to_sock, to_fd;
    bool in_eof, sock_eof, sock_shut, out_shut;
    uint64_t n_to_sock, n_to_fd;
    nb_relay_done_fn done;
    void *arg;
    struct nb_work work;
};

static void relay_fd_event(void *arg, int fd, uint32_t ev)
{
    struct nb_relay *r = arg;
    (void)fd;
    (void)ev;
    nb_work_post(&r->work);
}

static void relay_sock_notify(nb_sock *s, void *arg)
{
    struct nb_relay *r = arg;
    (void)s;
    nb_work_post(&r->work);
}

/* Watch f for ev; an empty mask unwatches (epoll reports HUP/ERR even for
 * an empty mask, and an fd we don't need would wake us forever). */
static void rfd_watch(struct nb_relay *r, struct rfd *f, uint32_t ev)
{
    if (!f->pollable || f->fd < 0 || ev == f->events)
        return;
    if (ev == 0)
        nb_hosted_unwatch(f->fd);
    else if (f->events == 0)
        nb_hosted_watch(f->fd, ev, relay_fd_event, r);
    else
        nb_hosted_rewatch(f->fd, ev);
    f->events = ev;
}

static void relay_release(struct nb_relay *r)
{
    if (r->same_fd) {
        if (r->in.pollable && r->in.events)
            nb_hosted_unwatch(r->in.fd);
        close(r->in.fd);
    } else {
        if (r->in.fd >= 0) {
            if (r->in.pollable && r->in.events)
                nb_hosted_unwatch(r->in.fd);
            close(r->in.fd);
        }
        if (r->out.fd >= 0) {
            if (r->out.pollable && r->out.events)
                nb_hosted_unwatch(r->out.fd);
            close(r->out.fd);
        }
    }
    nb_close(r->s);
    nb_work_cancel(&r->work);
    free(r);
}

static void relay_finish(struct nb_relay *r, int err)
{
    nb_relay_done_fn done = r->done;
    void *arg = r->arg;
    uint64_t a = r->n_to_sock, b = r->n_to_fd;
    relay_release(r);
    if (done)
        done(arg, err, a, b);
}

static bool again(void) { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

static void relay_pump(struct nb_work *w)
{
    struct nb_relay *r = NB_CONTAINER_OF(w, struct nb_relay, work);
    bool progress = true;
    for (int round = 0; progress && round < 64; round++) {
        progress = false;
        /* fd -> socket */
        struct rbuf *b = &r->to_sock;
        if (b->len == 0 && !r->in_eof) {
            ssize_t n = read(r->in.fd, b->data, sizeof b->data);
            if (n > 0) {
                b->off = 0;
                b->len = (size_t)n;
                progress = true;
            } else if (n == 0 || !again()) {
                r->in_eof = true;
                progress = true;
            }
        }
        if (b->len) {
            long n = nb_send(r->s, b->data + b->off, b->len, NB_MSG_DONTWAIT);
            if (n > 0) {
                b->off += (size_t)n;
                b->len -= (size_t)n;
                r->n_to_sock += (uint64_t)n;
                progress = true;
            } else if (n != NB_EAGAIN) {
                relay_finish(r, (int)n);
                return;
            }
        }
        if (r->in_eof && b->len == 0 && !r->sock_shut) {
            nb_shutdown(r->s, NB_SHUT_WR);
            r->sock_shut = true;
        }
        /* socket -> fd */
        b = &r->to_fd;
        if (b->len == 0 && !r->sock_eof) {
            long n = nb_recv(r->s, b->data, sizeof b->data, NB_MSG_DONTWAIT);
            if (n > 0) {
                b->off = 0;
                b->len = (size_t)n;
                progress = true;
            } else if (n == 0) {
                r->sock_eof = true;
                progress = true;
            } else if (n != NB_EAGAIN) {
                relay_finish(r, (int)n);
                return;
            }
        }
        if (b->len) {
            ssize_t n = r->same_fd
                ? send(r->out.fd, b->data + b->off, b->len, MSG_DONTWAIT | MSG_NOSIGNAL)
                : write(r->out.fd, b->data + b->off, b->len);
            if (n > 0) {
                b->off += (size_t)n;
                b->len -= (size_t)n;
                r->n_to_fd += (uint64_t)n;
                progress = true;
            } else if (n < 0 && !again()) {
                relay_finish(r, NB_EPIPE); /* the fd's reader is gone */
                return;
            }
        }
        if (r->sock_eof && b->len == 0 && !r->out_shut) {
            if (r->same_fd) {
                shutdown(r->out.fd, SHUT_WR);
            } else {
                if (r->out.pollable && r->out.events)
                    nb_hosted_unwatch(r->out.fd);
                r->out.events = 0;
                close(r->out.fd);
                r->out.fd = -1;
            }
            r->out_shut = true;
        }
    }
    if (r->in_eof && r->sock_eof && !r->to_sock.len && !r->to_fd.len) {
        relay_finish(r, 0);
        return;
    }
    if (progress) {
        nb_work_post(&r->work); /* more may be ready; let others run first */
        return;
    }
    uint32_t in_ev = (!r->in_eof && r->to_sock.len == 0) ? EPOLLIN : 0;
    uint32_t out_ev = (r->to_fd.len && !r->out_shut) ? EPOLLOUT : 0;
    if (r->same_fd) {
        rfd_watch(r, &r->in, in_ev | out_ev);
    } else {
        rfd_watch(r, &r->in, in_ev);
        rfd_watch(r, &r->out, out_ev);
    }
    /* an always-ready fd with work pending: keep going */
    if ((in_ev && !r->in.pollable) || (out_ev && !r->out.pollable))
        nb_work_post(&r->work);
}

/* Can epoll watch fd? Not regular files, and not devices without poll
 * support such as /dev/null: those are always ready instead. */
static bool fd_pollable(int fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return false;
    struct epoll_event ev = {.events = EPOLLIN};
    bool ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
    close(ep);
    return ok;
}

struct nb_relay *nb_relay_new(int in_fd, int out_fd, nb_sock *s,
                              nb_relay_done_fn done, void *arg)
{
    struct nb_relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->in.fd = in_fd;
    r->out.fd = out_fd;
    r->same_fd = in_fd == out_fd;
    r->in.pollable = fd_pollable(in_fd);
    r->out.pollable = r->same_fd ? r->in.pollable : fd_pollable(out_fd);
    /* pollable fds must never block the loop */
    if (r->in.pollable)
        fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
    if (r->out.pollable && !r->same_fd)
        fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
    r->s = s;
    r->done = done;
    r->arg = arg;
    nb_work_init(&r->work, relay_pump);
    nb_setopt(s, NB_SO_NONBLOCK, 1);
    nb_sock_set_notify(s, relay_sock_notify, r);
    nb_work_post(&r->work);
    return r;
}

void nb_relay_abort(struct nb_relay *r)
{
    relay_release(r);
}
