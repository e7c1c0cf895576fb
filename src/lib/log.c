/*
 * The logger. Modules link themselves into a registry the first time they
 * ask for their level, so a level spec given before a module has logged
 * still applies to it: the spec is kept and consulted on registration.
 * Finished lines are formatted once, timestamped with the monotonic clock,
 * copied into a fixed ring (for the shell's `log`), and handed to the sink.
 */
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>

#include <stdio.h>
#include <string.h>

#define LOG_SPEC_MAX 256
#define LOG_LINE_MAX 256
#define LOG_RING_LINES 128

static struct nb_log_module *log_modules;
static char log_spec[LOG_SPEC_MAX] = "info";

struct ring_line {
    int level;
    char text[LOG_LINE_MAX];
};
static struct ring_line log_ring[LOG_RING_LINES];
static unsigned log_ring_next, log_ring_count;

static const char *const level_names[] = {"off", "error", "warn", "info",
                                          "debug", "trace"};

int nb_log_parse_level(const char *name)
{
    for (int i = 0; i <= NB_LOG_TRACE; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

const char *nb_log_level_name(int level)
{
    if (level < 0 || level > NB_LOG_TRACE)
        return "?";
    return level_names[level];
}

/*
 * The level the spec gives module `name`: the last MODULE=LEVEL entry for it,
 * else the last bare LEVEL entry, else info. Returns -1 on a malformed spec.
 */
static int spec_level_for(const char *spec, const char *name)
{
    int global = NB_LOG_INFO, mine = -1;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[64];
        if (len == 0 || len >= sizeof item)
            return -1;
        memcpy(item, p, len);
        item[len] = 0;
        char *eq = strchr(item, '=');
        if (eq) {
            *eq = 0;
            int lv = nb_log_parse_level(eq + 1);
            if (lv < 0 || item[0] == 0)
                return -1;
            if (name && strcmp(item, name) == 0)
                mine = lv;
        } else {
            int lv = nb_log_parse_level(item);
            if (lv < 0)
                return -1;
            global = lv;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return mine >= 0 ? mine : global;
}

int nb_log_configure(const char *spec)
{
    if (!spec || strlen(spec) >= LOG_SPEC_MAX || spec_level_for(spec, NULL) < 0)
        return NB_EINVAL;
    strcpy(log_spec, spec);
    for (struct nb_log_module *m = log_modules; m; m = m->next)
        m->level = spec_level_for(log_spec, m->name);
    return 0;
}

int nb_log_level_of(struct nb_log_module *m)
{
    if (m->level < 0) {
        m->next = log_modules;
        log_modules = m;
        m->level = spec_level_for(log_spec, m->name);
    }
    return m->level;
}

static void console_sink(int level, const char *line, size_t len)
{
    (void)level;
    nb_console_write(line, len);
    nb_console_write("\n", 1);
}

static nb_log_sink log_sink = console_sink;

void nb_log_set_sink(nb_log_sink sink)
{
    log_sink = sink ? sink : console_sink;
}

void nb_log_vwrite(struct nb_log_module *m, int level, const char *fmt,
                   va_list ap)
{
    static const char tag[] = "-EWIDT";
    char line[LOG_LINE_MAX];
    uint64_t now = nb_clock_ns();
    int n = snprintf(line, sizeof line, "[%5llu.%06llu] %c %s: ",
                     (unsigned long long)(now / NB_NS_PER_S),
                     (unsigned long long)(now % NB_NS_PER_S / 1000),
                     tag[level > 0 && level <= NB_LOG_TRACE ? level : 0],
                     m->name);
    if (n < 0)
        return;
    if ((size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    size_t len = strlen(line);

    struct ring_line *r = &log_ring[log_ring_next];
    r->level = level;
    memcpy(r->text, line, len + 1);
    log_ring_next = (log_ring_next + 1) % LOG_RING_LINES;
    if (log_ring_count < LOG_RING_LINES)
        log_ring_count++;

    log_sink(level, line, len);
}

void nb_log_write(struct nb_log_module *m, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nb_log_vwrite(m, level, fmt, ap);
    va_end(ap);
}

void nb_log_ring_foreach(void (*fn)(void *arg, int level, const char *line),
                         void *arg)
{
    unsigned start = (log_ring_next + LOG_RING_LINES - log_ring_count) %
                     LOG_RING_LINES;
    for (unsigned i = 0; i < log_ring_count; i++) {
        const struct ring_line *r = &log_ring[(start + i) % LOG_RING_LINES];
        fn(arg, r->level, r->text);
    }
}
