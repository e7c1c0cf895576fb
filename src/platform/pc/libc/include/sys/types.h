/*
 * <sys/types.h> for the freestanding pc build: the few POSIX types that
 * portable third-party code (lwIP) expects beside <stddef.h>'s.
 */
#ifndef NB_PC_SYS_TYPES_H
#define NB_PC_SYS_TYPES_H

#include <stddef.h>

typedef long ssize_t;
typedef long off_t;

#endif
