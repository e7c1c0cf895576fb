/*
 * Names and messages for NB_E* codes. One table keeps nb_strerror() and
 * nb_errname() in step; docs/abi.md lists the same numbers for app authors.
 */
#include <neoboot/err.h>

#include <stddef.h>

struct err_entry {
    int code;
    const char *name;
    const char *text;
};

static const struct err_entry err_table[] = {
    {NB_OK, "NB_OK", "success"},
    {NB_E2BIG, "NB_E2BIG", "argument list too long"},
    {NB_EACCES, "NB_EACCES", "permission denied (capability not granted)"},
    {NB_EADDRINUSE, "NB_EADDRINUSE", "address in use"},
    {NB_EADDRNOTAVAIL, "NB_EADDRNOTAVAIL", "address not available"},
    {NB_EAFNOSUPPORT, "NB_EAFNOSUPPORT", "address family not supported"},
    {NB_EAGAIN, "NB_EAGAIN", "resource temporarily unavailable"},
    {NB_EALREADY, "NB_EALREADY", "operation already in progress"},
    {NB_EBADF, "NB_EBADF", "bad handle"},
    {NB_EBADMSG, "NB_EBADMSG", "bad message"},
    {NB_EBUSY, "NB_EBUSY", "device or resource busy"},
    {NB_ECANCELED, "NB_ECANCELED", "operation canceled"},
    {NB_ECONNABORTED, "NB_ECONNABORTED", "connection aborted"},
    {NB_ECONNREFUSED, "NB_ECONNREFUSED", "connection refused"},
    {NB_ECONNRESET, "NB_ECONNRESET", "connection reset by peer"},
    {NB_EDESTADDRREQ, "NB_EDESTADDRREQ", "destination address required"},
    {NB_EEXIST, "NB_EEXIST", "already exists"},
    {NB_EFAULT, "NB_EFAULT", "bad address (outside guest memory)"},
    {NB_EFBIG, "NB_EFBIG", "file too large"},
    {NB_EHOSTUNREACH, "NB_EHOSTUNREACH", "host unreachable"},
    {NB_EILSEQ, "NB_EILSEQ", "illegal byte sequence"},
    {NB_EINPROGRESS, "NB_EINPROGRESS", "operation in progress"},
    {NB_EINTR, "NB_EINTR", "interrupted"},
    {NB_EINVAL, "NB_EINVAL", "invalid argument"},
    {NB_EIO, "NB_EIO", "I/O error"},
    {NB_EISCONN, "NB_EISCONN", "already connected"},
    {NB_ELOOP, "NB_ELOOP", "too many levels of redirection"},
    {NB_EMFILE, "NB_EMFILE", "too many open handles"},
    {NB_EMSGSIZE, "NB_EMSGSIZE", "message too long"},
    {NB_ENAMETOOLONG, "NB_ENAMETOOLONG", "name too long"},
    {NB_ENETDOWN, "NB_ENETDOWN", "network is down"},
    {NB_ENETRESET, "NB_ENETRESET", "connection reset by network"},
    {NB_ENETUNREACH, "NB_ENETUNREACH", "network unreachable"},
    {NB_ENFILE, "NB_ENFILE", "too many open sockets in the system"},
    {NB_ENOBUFS, "NB_ENOBUFS", "no buffer space available"},
    {NB_ENODEV, "NB_ENODEV", "no such device"},
    {NB_ENOENT, "NB_ENOENT", "not found"},
    {NB_ENOEXEC, "NB_ENOEXEC", "not an executable image"},
    {NB_ENOMEM, "NB_ENOMEM", "out of memory"},
    {NB_ENOPROTOOPT, "NB_ENOPROTOOPT", "option not supported by protocol"},
    {NB_ENOSPC, "NB_ENOSPC", "no space left"},
    {NB_ENOSYS, "NB_ENOSYS", "function not implemented"},
    {NB_ENOTCONN, "NB_ENOTCONN", "not connected"},
    {NB_ENOTSOCK, "NB_ENOTSOCK", "not a socket"},
    {NB_ENOTSUP, "NB_ENOTSUP", "not supported"},
    {NB_EOVERFLOW, "NB_EOVERFLOW", "value too large"},
    {NB_EPERM, "NB_EPERM", "operation not permitted"},
    {NB_EPIPE, "NB_EPIPE", "broken pipe (peer shut down or send side closed)"},
    {NB_EPROTO, "NB_EPROTO", "protocol error"},
    {NB_EPROTONOSUPPORT, "NB_EPROTONOSUPPORT", "protocol not supported"},
    {NB_EPROTOTYPE, "NB_EPROTOTYPE", "wrong protocol type for socket"},
    {NB_ERANGE, "NB_ERANGE", "result out of range"},
    {NB_ETIMEDOUT, "NB_ETIMEDOUT", "timed out"},
    {NB_ENOTCAPABLE, "NB_ENOTCAPABLE", "capability not granted"},
};

static const struct err_entry *err_find(int err)
{
    if (err > 0)
        err = -err;
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == err)
            return &err_table[i];
    return NULL;
}

const char *nb_strerror(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->text : "unknown error";
}

const char *nb_errname(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->name : NULL;
}
