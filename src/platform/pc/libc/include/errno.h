/* NeoBoot pc libc: <errno.h>. One CPU, one thread: errno is a plain global.
 * Only strtol and friends set it. */
#ifndef _NB_LIBC_ERRNO_H
#define _NB_LIBC_ERRNO_H

extern int errno;

#define EDOM 33
#define ERANGE 34
#define EINVAL 22
#define ENOMEM 12

#endif
