/*
 * The hosted platform: NeoBoot as an ordinary Linux process.
 *
 * Waiting is one epoll set. Drivers add their fds with nb_hosted_watch();
 * nb_platform_wait() blocks in epoll_pwait2 (nanosecond timeout) until a
 * watched fd is ready, the deadline passes, or nb_platform_wake() writes the
 * eventfd. Nothing polls in a loop.
 */
#define _GNU_SOURCE
#include "hosted.h"

#include <neoboot/err.h>
#include <neoboot/platform.h>

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct watch {
    int fd;
    int dead;
    nb_fd_cb cb;
    void *arg;
    struct watch *next; /* all watches, for lookup by fd */
};

static int epfd = -1;
static int wakefd = -1;
static struct watch *watches;
static int in_dispatch;

static void platform_init(void)
{
    if (epfd >= 0)
        return;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd < 0 || wakefd < 0)
        abort();
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0)
        abort();
}

static int err_from_errno(int e)
{
    switch (e) {
    case EEXIST: return NB_EEXIST;
    case ENOENT: return NB_ENOENT;
    case ENOMEM: return NB_ENOMEM;
    case EBADF: return NB_EBADF;
    case ENOSPC: return NB_ENOSPC;
    default: return NB_EINVAL;
    }
}

static struct watch *watch_find(int fd)
{
    for (struct watch *w = watches; w; w = w->next)
        if (w->fd == fd && !w->dead)
            return w;
    return NULL;
}

int nb_hosted_watch(int fd, uint32_t events, nb_fd_cb cb, void *arg)
{
    platform_init();
    if (watch_find(fd))
        return NB_EEXIST;
    struct watch *w = calloc(1, sizeof *w);
    if (!w)
        return NB_ENOMEM;
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int e = err_from_errno(errno);
        free(w);
        return e;
    }
    w->next = watches;
    watches = w;
    return 0;
}

int nb_hosted_rewatch(int fd, uint32_t events)
{
    struct watch *w = watch_find(fd);
    if (!w)
        return NB_ENOENT;
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        return err_from_errno(errno);
    return 0;
}

static void watch_reap(void)
{
    struct watch **pp = &watches;
    while (*pp) {
        struct watch *w = *pp;
        if (w->dead) {
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

void nb_hosted_unwatch(int fd)
{
    struct watch *w = watch_find(fd);
    if (!w)
        return;
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    /* Freed after the current dispatch: a later event of this batch may
     * still point at it. */
    w->dead = 1;
    if (!in_dispatch)
        watch_reap();
}

uint64_t nb_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NB_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t nb_wallclock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NB_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void nb_platform_wait(uint64_t deadline_ns)
{
    platform_init();
    struct timespec ts, *tsp = NULL;
    if (deadline_ns != NB_FOREVER) {
        uint64_t now = nb_clock_ns();
        uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
        ts.tv_sec = (time_t)(left / NB_NS_PER_S);
        ts.tv_nsec = (long)(left % NB_NS_PER_S);
        tsp = &ts;
    }
    struct epoll_event evs[64];
    int n = epoll_pwait2(epfd, evs, 64, tsp, NULL);
    if (n <= 0)
        return; /* timeout, or EINTR from a signal: the caller re-checks */
    in_dispatch = 1;
    for (int i = 0; i < n; i++) {
        struct watch *w = evs[i].data.ptr;
        if (!w) {
            uint64_t v;
            if (read(wakefd, &v, sizeof v) < 0) { /* already drained */ }
            continue;
        }
        if (!w->dead)
            w->cb(w->arg, w->fd, evs[i].events);
    }
    in_dispatch = 0;
    watch_reap();
}

void nb_platform_wake(void)
{
    platform_init();
    uint64_t one = 1;
    if (write(wakefd, &one, sizeof one) < 0) { /* counter saturated: awake */ }
}

int nb_platform_entropy(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return NB_ENOSYS;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void nb_console_write(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

int nb_console_read(char *buf, size_t len)
{
    /* The hosted shell owns stdin through its own watch; here we only
     * answer a non-blocking read for code that asks directly. */
    ssize_t n = read(STDIN_FILENO, buf, len);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? NB_EAGAIN : NB_EIO;
    return (int)n;
}

void nb_platform_memstats(struct nb_memstats *out)
{
    struct mallinfo2 mi = mallinfo2();
    memset(out, 0, sizeof *out);
    out->used = mi.uordblks + mi.hblkhd;
    out->total = mi.arena + mi.hblkhd;
}

const char *nb_platform_name(void) { return "hosted"; }

void nb_platform_reboot(void) { exit(0); }
void nb_platform_poweroff(void) { exit(0); }
