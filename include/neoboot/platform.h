/*
 * The platform interface: the only things core code (lib, net, wasm, abi,
 * shell, boot) may ask of the machine it runs on. Each platform
 * (src/platform/hosted, src/platform/pc) implements every function here.
 *
 * Besides these, core code may use a small freestanding libc subset:
 * <string.h> mem and str functions, snprintf/vsnprintf, malloc/calloc/
 * realloc/free, qsort, and the builtins of <stdint.h>/<stddef.h>/<stdbool.h>/
 * <stdarg.h>/<limits.h>. Nothing that touches files, processes or signals.
 */
#ifndef NEOBOOT_PLATFORM_H
#define NEOBOOT_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#define NB_NS_PER_US 1000ull
#define NB_NS_PER_MS 1000000ull
#define NB_NS_PER_S 1000000000ull
/* A deadline that never passes. */
#define NB_FOREVER UINT64_MAX

/* Monotonic clock: nanoseconds since an arbitrary point before start-up. */
uint64_t nb_clock_ns(void);

/* Wall-clock time in nanoseconds since the Unix epoch, or 0 if unknown. */
uint64_t nb_wallclock_ns(void);

/*
 * Block until a device may have work or the monotonic clock reaches
 * deadline_ns (NB_FOREVER: no deadline). May return early (spuriously);
 * callers re-check their condition. This is the only place NeoBoot waits:
 * hosted blocks in epoll, pc halts the CPU until an interrupt.
 */
void nb_platform_wait(uint64_t deadline_ns);

/*
 * Ask a blocked or about-to-block nb_platform_wait() to return. Safe from
 * signal handlers (hosted) and interrupt handlers (pc).
 */
void nb_platform_wake(void);

/* Fill buf with len bytes of entropy. 0, or NB_ENOSYS if none is available. */
int nb_platform_entropy(void *buf, size_t len);

/* Write len bytes to the console (serial on pc, stderr on hosted). */
void nb_console_write(const char *buf, size_t len);

/*
 * Read up to len bytes the user typed; never blocks. Returns the count,
 * NB_EAGAIN when nothing is waiting, or another NB_E* code.
 */
int nb_console_read(char *buf, size_t len);

struct nb_memstats {
    uint64_t total;     /* bytes the heap may grow to */
    uint64_t used;      /* bytes currently allocated (including overhead) */
    uint64_t peak;      /* high-water mark of used */
    uint64_t allocs;    /* live allocations */
};

/* Heap figures for `stats`. Fields the platform cannot tell are 0. */
void nb_platform_memstats(struct nb_memstats *out);

/* A short name for the platform ("hosted", "pc"). */
const char *nb_platform_name(void);

/* Power control; they return only if the platform cannot do it. */
void nb_platform_reboot(void);
void nb_platform_poweroff(void);

#endif
