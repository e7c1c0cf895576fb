/* NeoBoot pc libc: <strings.h>. */
#ifndef _NB_LIBC_STRINGS_H
#define _NB_LIBC_STRINGS_H
#include <string.h>
#endif
