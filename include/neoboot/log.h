/*
 * Levelled, per-module logging.
 *
 * Each source file that logs declares its module once:
 *
 *     NB_LOG_MODULE(vsock);
 *
 * and then logs with NB_ERROR/NB_WARN/NB_INFO/NB_DEBUG/NB_TRACE("fmt", ...).
 * Levels are set globally or per module with a spec such as
 * "info,vsock=debug,inet=trace" (nb_log_configure). Messages below a
 * module's level cost one comparison. Lines go to the console and into a
 * bounded ring that the shell's `log` command shows.
 */
#ifndef NEOBOOT_LOG_H
#define NEOBOOT_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum nb_log_level {
    NB_LOG_OFF = 0,
    NB_LOG_ERROR = 1,
    NB_LOG_WARN = 2,
    NB_LOG_INFO = 3,
    NB_LOG_DEBUG = 4,
    NB_LOG_TRACE = 5,
};

struct nb_log_module {
    const char *name;
    int level;                  /* -1 until first configured */
    struct nb_log_module *next; /* registry, linked on first use */
};

#define NB_LOG_MODULE(n) \
    static struct nb_log_module nb_log_mod_ __attribute__((unused)) = {#n, -1, NULL}

int nb_log_level_of(struct nb_log_module *m);

void nb_log_write(struct nb_log_module *m, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nb_log_vwrite(struct nb_log_module *m, int level, const char *fmt,
                   va_list ap);

#define NB_LOG_AT(lvl, ...)                                   \
    do {                                                      \
        if (nb_log_level_of(&nb_log_mod_) >= (lvl))           \
            nb_log_write(&nb_log_mod_, (lvl), __VA_ARGS__);   \
    } while (0)

#define NB_ERROR(...) NB_LOG_AT(NB_LOG_ERROR, __VA_ARGS__)
#define NB_WARN(...) NB_LOG_AT(NB_LOG_WARN, __VA_ARGS__)
#define NB_INFO(...) NB_LOG_AT(NB_LOG_INFO, __VA_ARGS__)
#define NB_DEBUG(...) NB_LOG_AT(NB_LOG_DEBUG, __VA_ARGS__)
#define NB_TRACE(...) NB_LOG_AT(NB_LOG_TRACE, __VA_ARGS__)

/*
 * Apply a level spec: "LEVEL" or "MODULE=LEVEL", comma-separated, levels
 * off|error|warn|info|debug|trace. Returns 0 or NB_EINVAL (spec unchanged).
 */
int nb_log_configure(const char *spec);

/* Parse a level name; -1 if unknown. */
int nb_log_parse_level(const char *name);
const char *nb_log_level_name(int level);

/*
 * Where finished lines go besides the ring; default writes to the console.
 * line has no trailing newline.
 */
typedef void (*nb_log_sink)(int level, const char *line, size_t len);
void nb_log_set_sink(nb_log_sink sink);

/* Visit the lines kept in the ring, oldest first. */
void nb_log_ring_foreach(void (*fn)(void *arg, int level, const char *line),
                         void *arg);

#endif
