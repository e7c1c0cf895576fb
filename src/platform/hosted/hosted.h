/*
 * Hosted-platform services for hosted drivers (not for core code).
 *
 * Drivers that own a file descriptor (TAP, UNIX sockets, slirp's sockets)
 * watch it here; nb_platform_wait() blocks in epoll on all watched fds and
 * calls the callback of each ready one. Callbacks run from the event loop's
 * top level and must not block: they read what is ready, hand packets to the
 * net core (nb_iface_rx) or mark work, and return.
 */
#ifndef NEOBOOT_HOSTED_H
#define NEOBOOT_HOSTED_H

#include <stdint.h>

/* epoll event bits (EPOLLIN etc.) are passed through unchanged. */
typedef void (*nb_fd_cb)(void *arg, int fd, uint32_t events);

/* Start watching fd for events. 0 or NB_E* (NB_EEXIST if already watched). */
int nb_hosted_watch(int fd, uint32_t events, nb_fd_cb cb, void *arg);
/* Change the event mask of a watched fd (e.g. add EPOLLOUT while blocked). */
int nb_hosted_rewatch(int fd, uint32_t events);
/* Stop watching fd. Safe to call from that fd's own callback. */
void nb_hosted_unwatch(int fd);

/* Where nb_platform_boot_linux() writes what it would boot (boot.c);
 * NULL or "" to refuse booting. */
void nb_hosted_set_boot_dir(const char *dir);
/* Boot staged kernels in QEMU (accel "tcg" or "kvm"): 0 or NB_EINVAL. */
int nb_hosted_set_boot_qemu(const char *accel);

#endif
