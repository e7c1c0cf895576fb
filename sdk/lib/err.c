/*
 * Error codes as text. The numbers are WASI's errno values (negated), the
 * same ones the runtime uses everywhere (include/neoboot/err.h), so this
 * table covers what the imports, the SDK and wasi-libc can return.
 */
#include "nb_err.h"

#include <stddef.h>

static const struct {
    int code;
    const char *name, *text;
} errs[] = {
    {0, "0", "success"},
    {-1, "NB_E2BIG", "argument list too long"},
    {-2, "NB_EACCES", "permission denied (capability not granted)"},
    {-3, "NB_EADDRINUSE", "address in use"},
    {-4, "NB_EADDRNOTAVAIL", "address not available"},
    {-5, "NB_EAFNOSUPPORT", "address family not supported"},
    {-6, "NB_EAGAIN", "resource temporarily unavailable"},
    {-7, "NB_EALREADY", "operation already in progress"},
    {-8, "NB_EBADF", "bad handle"},
    {-9, "NB_EBADMSG", "bad message"},
    {-10, "NB_EBUSY", "device or resource busy"},
    {-11, "NB_ECANCELED", "operation canceled"},
    {-13, "NB_ECONNABORTED", "connection aborted"},
    {-14, "NB_ECONNREFUSED", "connection refused"},
    {-15, "NB_ECONNRESET", "connection reset by peer"},
    {-17, "NB_EDESTADDRREQ", "destination address required"},
    {-20, "NB_EEXIST", "already exists"},
    {-21, "NB_EFAULT", "bad address"},
    {-22, "NB_EFBIG", "too large"},
    {-23, "NB_EHOSTUNREACH", "host unreachable"},
    {-25, "NB_EILSEQ", "illegal byte sequence"},
    {-26, "NB_EINPROGRESS", "operation in progress"},
    {-27, "NB_EINTR", "interrupted"},
    {-28, "NB_EINVAL", "invalid argument"},
    {-29, "NB_EIO", "input/output error"},
    {-30, "NB_EISCONN", "already connected"},
    {-32, "NB_ELOOP", "too many redirects or levels"},
    {-33, "NB_EMFILE", "too many open handles"},
    {-35, "NB_EMSGSIZE", "message too long"},
    {-37, "NB_ENAMETOOLONG", "name too long"},
    {-38, "NB_ENETDOWN", "network is down"},
    {-39, "NB_ENETRESET", "connection reset by network"},
    {-40, "NB_ENETUNREACH", "network unreachable"},
    {-41, "NB_ENFILE", "too many open handles in the system"},
    {-42, "NB_ENOBUFS", "no buffer space available"},
    {-43, "NB_ENODEV", "no such device"},
    {-44, "NB_ENOENT", "not found"},
    {-45, "NB_ENOEXEC", "not executable"},
    {-48, "NB_ENOMEM", "out of memory"},
    {-50, "NB_ENOPROTOOPT", "option not supported"},
    {-51, "NB_ENOSPC", "no space left"},
    {-52, "NB_ENOSYS", "not implemented"},
    {-53, "NB_ENOTCONN", "not connected"},
    {-57, "NB_ENOTSOCK", "not a socket"},
    {-58, "NB_ENOTSUP", "not supported"},
    {-61, "NB_EOVERFLOW", "value too large"},
    {-63, "NB_EPERM", "operation not permitted"},
    {-64, "NB_EPIPE", "broken pipe"},
    {-65, "NB_EPROTO", "protocol error"},
    {-66, "NB_EPROTONOSUPPORT", "protocol not supported"},
    {-67, "NB_EPROTOTYPE", "wrong protocol type"},
    {-68, "NB_ERANGE", "result out of range"},
    {-73, "NB_ETIMEDOUT", "timed out"},
    {-76, "NB_ENOTCAPABLE", "capability insufficient"},
};

static int find(int err)
{
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        if (errs[i].code == err)
            return (int)i;
    return -1;
}

const char *nb_strerror(int err)
{
    int i = find(err);
    return i < 0 ? "unknown error" : errs[i].text;
}

const char *nb_errname(int err)
{
    int i = find(err);
    return i < 0 ? "NB_E?" : errs[i].name;
}
