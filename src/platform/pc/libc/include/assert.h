/* NeoBoot pc libc: <assert.h>. A failed assertion panics with a trace. */
#ifndef _NB_LIBC_ASSERT_H
#define _NB_LIBC_ASSERT_H

_Noreturn void __nb_assert_fail(const char *expr, const char *file, int line,
                                const char *func);

#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) \
    ((e) ? (void)0 : __nb_assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#ifndef __cplusplus
#define static_assert _Static_assert
#endif

#endif
