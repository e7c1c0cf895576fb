/*
 * Shell commands for apps: `run APP [ARGS]` runs one to its end (and
 * anything chained after it), `chain APP` replaces the running app,
 * `stop` stops it. APP is a file in memory, an http:// URL (fetched
 * first, and kept), or `bundled` (the app this image or boot module
 * carries).
 */
#include <neoboot/chain.h>
#include <neoboot/err.h>
#include <neoboot/http.h>
#include <neoboot/memfile.h>
#include <neoboot/platform.h>
#include <neoboot/runner.h>
#include <neoboot/shell.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP_MAX (64u << 20)

static const void *bundled_buf;
static size_t bundled_len;

void nb_shell_set_bundled(const void *buf, size_t len)
{
    bundled_buf = buf;
    bundled_len = len;
}

struct grow {
    uint8_t *p;
    size_t len, cap;
};

static int grow_sink(void *arg, const uint8_t *d, size_t n)
{
    struct grow *g = arg;
    if (g->len + n > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1 << 16;
        while (cap < g->len + n)
            cap *= 2;
        uint8_t *p = realloc(g->p, cap);
        if (!p)
            return NB_ENOMEM;
        g->p = p;
        g->cap = cap;
    }
    memcpy(g->p + g->len, d, n);
    g->len += n;
    return 0;
}

/* The app's bytes: a memory file, the bundled app, or a URL fetched into
 * a memory file. NULL after saying why. */
static const uint8_t *find_app(const char *what, size_t *len, nb_print_fn print, void *arg)
{
    if (strcmp(what, "bundled") == 0) {
        if (!bundled_buf) {
            print(arg, "no bundled app (this image or boot module carries none)");
            return NULL;
        }
        *len = bundled_len;
        return bundled_buf;
    }
    if (strncmp(what, "http://", 7) == 0) {
        struct grow g = {0};
        struct nb_http_get o = {.sink = grow_sink, .arg = &g, .max_size = APP_MAX};
        char why[200] = "";
        int rc = nb_http_get_url(nb_stack_default(), what, &o, why, sizeof why);
        if (rc < 0) {
            nb_printf(print, arg, "cannot fetch %s: %s", what, why[0] ? why : nb_strerror(rc));
            free(g.p);
            return NULL;
        }
        const char *slash = strrchr(what, '/');
        const char *name = slash && slash[1] ? slash + 1 : "app.wasm";
        if (nb_memfile_put(name, g.p, g.len) != 0) {
            nb_printf(print, arg, "cannot keep %s in memory", name);
            return NULL;
        }
        what = name;
    }
    const struct nb_memfile *m = nb_memfile_get(what);
    if (!m) {
        nb_printf(print, arg, "no app '%s' (a file in memory, an http:// URL, or 'bundled')", what);
        return NULL;
    }
    *len = m->len;
    return m->data;
}

struct report_ctx {
    nb_print_fn print;
    void *arg;
};

static void report(void *a, const char *label, int rc, const struct nb_run_result *res)
{
    struct report_ctx *c = a;
    if (rc < 0)
        nb_printf(c->print, c->arg, "%s could not start: %s", label, res->msg[0] ? res->msg : nb_strerror(rc));
    else if (res->trap)
        nb_printf(c->print, c->arg, "%s stopped after %llu ms: %s", label,
            (unsigned long long)(res->run_ns / NB_NS_PER_MS), res->msg);
    else
        nb_printf(c->print, c->arg, "%s exited with status %d after %llu ms", label, res->status,
            (unsigned long long)(res->run_ns / NB_NS_PER_MS));
}

static int cmd_run(int argc, char **argv, nb_print_fn print, void *arg)
{
    if (argc < 2) {
        print(arg, "usage: run APP [ARGS...]   (APP: file in memory, http:// URL, or bundled)");
        return NB_EINVAL;
    }
    if (nb_run_active()) {
        print(arg, "an app is running: 'chain APP' replaces it, 'stop' stops it");
        return NB_EBUSY;
    }
    size_t len;
    const uint8_t *bytes = find_app(argv[1], &len, print, arg);
    if (!bytes)
        return NB_ENOENT;
    struct report_ctx rc_ctx = {print, arg};
    if (argc == 2)
        return nb_run_chained(bytes, len, argv[1], NULL, report, &rc_ctx) < 0 ? NB_ENOEXEC : 0;
    /* arguments: a bare module run with them (a bundle carries its own) */
    struct nb_run_opts *o = malloc(sizeof *o);
    struct nb_run_result *res = malloc(sizeof *res);
    if (!o || !res) {
        free(o);
        free(res);
        return NB_ENOMEM;
    }
    nb_run_opts_defaults(o);
    o->name = argv[1];
    o->argc = argc - 1;
    o->argv = (const char *const *)argv + 1;
    int rc = nb_run_wasm(bytes, len, o, res);
    report(&rc_ctx, argv[1], rc, res);
    free(o);
    free(res);
    return rc < 0 ? rc : 0;
}

static int cmd_chain(int argc, char **argv, nb_print_fn print, void *arg)
{
    if (argc != 2) {
        print(arg, "usage: chain APP   (replace the running app; APP as for run)");
        return NB_EINVAL;
    }
    size_t len;
    const uint8_t *bytes = find_app(argv[1], &len, print, arg);
    if (!bytes)
        return NB_ENOENT;
    if (!nb_run_active()) {
        /* nothing to replace: just run it */
        struct report_ctx rc_ctx = {print, arg};
        return nb_run_chained(bytes, len, argv[1], NULL, report, &rc_ctx) < 0 ? NB_ENOEXEC : 0;
    }
    int rc = nb_chain_request(bytes, len, argv[1]);
    if (rc)
        return rc;
    nb_printf(print, arg, "chaining to %s", argv[1]);
    return 0;
}

static int cmd_stop(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc;
    (void)argv;
    if (!nb_run_active()) {
        print(arg, "no app is running");
        return NB_ENOENT;
    }
    nb_chain_cancel();
    nb_run_interrupt();
    print(arg, "stopping the running app");
    return 0;
}

static struct nb_shell_cmd app_cmds[] = {
    {"run", "run APP [ARGS...]", "run an app (file in memory, http:// URL, bundled) to its end",
     cmd_run, NULL},
    {"chain", "chain APP", "replace the running app with APP (it is stopped and freed)",
     cmd_chain, NULL},
    {"stop", "stop", "stop the running app", cmd_stop, NULL},
};

void nb_shell_register_app(void);
void nb_shell_register_app(void)
{
    for (size_t i = 0; i < sizeof app_cmds / sizeof app_cmds[0]; i++)
        nb_shell_register(&app_cmds[i]);
}
