/*
 * NeoBoot error codes.
 *
 * Every NeoBoot call that can fail returns a negative NB_E* code. The numbers
 * are WASI preview 1's errno values, negated, so that a WebAssembly app built
 * with wasi-libc can store -ret straight into errno and get strerror() for
 * free. They are part of the stable guest ABI (docs/abi.md): never renumber.
 */
#ifndef NEOBOOT_ERR_H
#define NEOBOOT_ERR_H

#define NB_OK 0
#define NB_E2BIG (-1)
#define NB_EACCES (-2)
#define NB_EADDRINUSE (-3)
#define NB_EADDRNOTAVAIL (-4)
#define NB_EAFNOSUPPORT (-5)
#define NB_EAGAIN (-6)
#define NB_EALREADY (-7)
#define NB_EBADF (-8)
#define NB_EBADMSG (-9)
#define NB_EBUSY (-10)
#define NB_ECANCELED (-11)
#define NB_ECONNABORTED (-13)
#define NB_ECONNREFUSED (-14)
#define NB_ECONNRESET (-15)
#define NB_EDESTADDRREQ (-17)
#define NB_EEXIST (-20)
#define NB_EFAULT (-21)
#define NB_EFBIG (-22)
#define NB_EHOSTUNREACH (-23)
#define NB_EILSEQ (-25)
#define NB_EINPROGRESS (-26)
#define NB_EINTR (-27)
#define NB_EINVAL (-28)
#define NB_EIO (-29)
#define NB_EISCONN (-30)
#define NB_ELOOP (-32)
#define NB_EMFILE (-33)
#define NB_EMSGSIZE (-35)
#define NB_ENAMETOOLONG (-37)
#define NB_ENETDOWN (-38)
#define NB_ENETRESET (-39)
#define NB_ENETUNREACH (-40)
#define NB_ENFILE (-41)
#define NB_ENOBUFS (-42)
#define NB_ENODEV (-43)
#define NB_ENOENT (-44)
#define NB_ENOEXEC (-45)
#define NB_ENOMEM (-48)
#define NB_ENOPROTOOPT (-50)
#define NB_ENOSPC (-51)
#define NB_ENOSYS (-52)
#define NB_ENOTCONN (-53)
#define NB_ENOTSOCK (-57)
#define NB_ENOTSUP (-58)
#define NB_EOVERFLOW (-61)
#define NB_EPERM (-63)
#define NB_EPIPE (-64)
#define NB_EPROTO (-65)
#define NB_EPROTONOSUPPORT (-66)
#define NB_EPROTOTYPE (-67)
#define NB_ERANGE (-68)
#define NB_ETIMEDOUT (-73)
#define NB_ENOTCAPABLE (-76)

/* Human-readable text for an NB_E* code (negative or positive). Never NULL. */
const char *nb_strerror(int err);

/* The symbolic name ("NB_EAGAIN") of a code, or NULL if unknown. */
const char *nb_errname(int err);

#endif
