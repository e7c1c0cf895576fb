/*
 * vsock over a UNIX seqpacket socket (see vsock_uds.h).
 *
 * Lossless both ways, as a virtqueue is: when the socket is full, send
 * says NB_ENOBUFS and we watch for EPOLLOUT to report tx-ready; when the
 * net core's FIFO is full we keep the packet and stop reading (the kernel
 * socket buffer then holds the peer back) until rx_resume.
 */
#define _GNU_SOURCE
#include "vsock_uds.h"

#include "hosted.h"

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

NB_LOG_MODULE(vsock_uds);

#define MSG_MAX (NB_VSOCK_HDR_LEN + NB_VSOCK_MAX_PAYLOAD)

struct uds_dev {
    struct nb_iface ifc;
    int listen_fd;
    int fd;               /* connected peer, or -1 */
    bool want_out;        /* a send was refused: tell tx-ready on EPOLLOUT */
    bool rx_paused;       /* FIFO full: not reading */
    struct nb_pkt *held;  /* received but refused by the FIFO */
    struct nb_timer retry; /* packet memory was exhausted: read again later */
    size_t scratch_len;   /* a read message waiting for packet memory */
    uint8_t scratch[MSG_MAX];
};

static void uds_update_watch(struct uds_dev *d)
{
    if (d->fd < 0)
        return;
    uint32_t ev = EPOLLRDHUP;
    if (!d->rx_paused)
        ev |= EPOLLIN;
    if (d->want_out)
        ev |= EPOLLOUT;
    nb_hosted_rewatch(d->fd, ev);
}

static void uds_drop_peer(struct uds_dev *d)
{
    if (d->fd < 0)
        return;
    NB_INFO("%s: peer gone", d->ifc.name);
    nb_hosted_unwatch(d->fd);
    close(d->fd);
    d->fd = -1;
    nb_pkt_free(d->held);
    d->held = NULL;
    d->scratch_len = 0;
    d->rx_paused = false;
    nb_timer_cancel(&d->retry);
    nb_iface_set_link(&d->ifc, false);
}

/* Turn the message in scratch into a packet. Out of packet memory, the
 * message can't wait in the socket any more (it has been read), so it
 * waits in scratch: reading pauses (a level-triggered fd would spin) and a
 * timer retries. Never dropped. */
static struct nb_pkt *uds_materialize(struct uds_dev *d)
{
    struct nb_pkt *p = nb_pkt_alloc(0, d->scratch_len);
    if (!p) {
        d->ifc.stats.rx_errors++;
        d->rx_paused = true;
        uds_update_watch(d);
        nb_timer_arm_in(&d->retry, 10 * NB_NS_PER_MS);
        return NULL;
    }
    memcpy(p->data, d->scratch, d->scratch_len);
    d->scratch_len = 0;
    return p;
}

static void uds_read(struct uds_dev *d)
{
    for (int budget = 0; budget < 256 && d->fd >= 0; budget++) {
        struct nb_pkt *p = d->held;
        d->held = NULL;
        if (!p && d->scratch_len) {
            p = uds_materialize(d);
            if (!p)
                return;
        }
        if (!p) {
            ssize_t n = recv(d->fd, d->scratch, sizeof d->scratch, MSG_DONTWAIT | MSG_TRUNC);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return;
                uds_drop_peer(d);
                return;
            }
            if (n == 0) {
                uds_drop_peer(d);
                return;
            }
            if ((size_t)n > sizeof d->scratch) {
                /* larger than any packet a vsock device carries */
                d->ifc.stats.rx_errors++;
                continue;
            }
            /* exact-size buffer, so memory follows what was received */
            d->scratch_len = (size_t)n;
            p = uds_materialize(d);
            if (!p)
                return;
        }
        if (nb_iface_rx(&d->ifc, p) == NB_ENOBUFS) {
            d->held = p;
            d->rx_paused = true;
            uds_update_watch(d);
            return;
        }
    }
}

static void uds_retry(struct nb_timer *t)
{
    struct uds_dev *d = NB_CONTAINER_OF(t, struct uds_dev, retry);
    d->rx_paused = false;
    uds_update_watch(d);
    uds_read(d);
}

static void uds_fd_event(void *arg, int fd, uint32_t ev)
{
    struct uds_dev *d = arg;
    (void)fd;
    if (ev & EPOLLOUT) {
        d->want_out = false;
        uds_update_watch(d);
        nb_iface_tx_ready(&d->ifc);
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        uds_read(d);
}

static void uds_adopt(struct uds_dev *d, int fd)
{
    d->fd = fd;
    nb_hosted_watch(fd, EPOLLIN | EPOLLRDHUP, uds_fd_event, d);
    nb_iface_set_link(&d->ifc, true);
    NB_INFO("%s: peer connected", d->ifc.name);
    /* anything that waited for the peer may go now */
    nb_iface_tx_ready(&d->ifc);
}

static void uds_accept_event(void *arg, int fd, uint32_t ev)
{
    struct uds_dev *d = arg;
    (void)ev;
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return;
    if (d->fd >= 0) {
        NB_WARN("%s: second peer refused (one device, one peer)", d->ifc.name);
        close(c);
        return;
    }
    uds_adopt(d, c);
}

static int uds_send(struct nb_iface *ifc, struct nb_pkt *p)
{
    struct uds_dev *d = ifc->priv;
    if (d->fd < 0)
        return NB_ENOBUFS; /* no peer yet: hold it, tx-ready comes on connect */
    ssize_t n = send(d->fd, p->data, p->len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            d->want_out = true;
            uds_update_watch(d);
            return NB_ENOBUFS;
        }
        uds_drop_peer(d);
        return NB_ENOBUFS;
    }
    nb_pkt_free(p); /* the kernel has it: transmission complete */
    return 0;
}

static void uds_rx_resume(struct nb_iface *ifc)
{
    struct uds_dev *d = ifc->priv;
    d->rx_paused = false;
    uds_update_watch(d);
    uds_read(d);
}

static void uds_stop(struct nb_iface *ifc)
{
    struct uds_dev *d = ifc->priv;
    nb_pkt_free(d->held);
    d->held = NULL;
}

static const struct nb_iface_ops uds_ops = {
    .send = uds_send,
    .stop = uds_stop,
    .rx_resume = uds_rx_resume,
};

struct nb_iface *nb_vsock_uds_open(const char *name, const char *spec,
                                   uint64_t cid, int *err)
{
    bool listening;
    const char *path;
    if (strncmp(spec, "listen:", 7) == 0) {
        listening = true;
        path = spec + 7;
    } else if (strncmp(spec, "connect:", 8) == 0) {
        listening = false;
        path = spec + 8;
    } else {
        *err = NB_EINVAL;
        return NULL;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) == 0 || strlen(path) >= sizeof sa.sun_path) {
        *err = NB_ENAMETOOLONG;
        return NULL;
    }
    strcpy(sa.sun_path, path);
    struct uds_dev *d = calloc(1, sizeof *d);
    if (!d) {
        *err = NB_ENOMEM;
        return NULL;
    }
    d->fd = d->listen_fd = -1;
    nb_timer_init(&d->retry, uds_retry);
    snprintf(d->ifc.name, sizeof d->ifc.name, "%s", name);
    d->ifc.link = NB_LINK_VSOCK;
    d->ifc.ops = &uds_ops;
    d->ifc.priv = d;
    d->ifc.mtu = MSG_MAX;
    d->ifc.vsock_cid = cid;

    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        goto fail_errno;
    /* room for a few full-size packets in flight */
    int sz = 4 * MSG_MAX;
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    if (listening) {
        unlink(path);
        if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 1) != 0) {
            close(s);
            goto fail_errno;
        }
        d->listen_fd = s;
    } else if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(s);
        goto fail_errno;
    }
    *err = nb_iface_register(&d->ifc);
    if (*err) {
        close(s);
        free(d);
        return NULL;
    }
    if (listening)
        nb_hosted_watch(s, EPOLLIN, uds_accept_event, d);
    else
        uds_adopt(d, s);
    return &d->ifc;

fail_errno:
    *err = errno == ENOENT ? NB_ENOENT : errno == ECONNREFUSED ? NB_ECONNREFUSED
         : errno == EADDRINUSE ? NB_EADDRINUSE : errno == EACCES ? NB_EACCES : NB_EIO;
    free(d);
    return NULL;
}

void nb_vsock_uds_close(struct nb_iface *ifc)
{
    struct uds_dev *d = ifc->priv;
    nb_iface_unregister(ifc);
    uds_drop_peer(d);
    if (d->listen_fd >= 0) {
        nb_hosted_unwatch(d->listen_fd);
        close(d->listen_fd);
    }
    free(d);
}
