/*
 * The shell core: command registry, line splitting (whitespace, with
 * "double quotes" for arguments containing spaces) and the built-in
 * commands every platform has: help, stats, log, quit (and the network
 * commands of cmd_net.c).
 */
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/shell.h>

#include <stdio.h>
#include <string.h>

static struct nb_shell_cmd *commands;
static bool quit_requested;

static void register_builtins(void);

int nb_shell_register(struct nb_shell_cmd *cmd)
{
    register_builtins();
    if (nb_shell_find(cmd->name))
        return NB_EEXIST;
    /* keep the list sorted for help */
    struct nb_shell_cmd **pp = &commands;
    while (*pp && strcmp((*pp)->name, cmd->name) < 0)
        pp = &(*pp)->next;
    cmd->next = *pp;
    *pp = cmd;
    return 0;
}

const struct nb_shell_cmd *nb_shell_find(const char *name)
{
    for (struct nb_shell_cmd *c = commands; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

bool nb_shell_quit_requested(void) { return quit_requested; }
void nb_shell_clear_quit(void) { quit_requested = false; }

size_t nb_shell_complete(const char *prefix, const char **names, size_t max)
{
    register_builtins();
    size_t n = 0, plen = strlen(prefix);
    for (struct nb_shell_cmd *c = commands; c && n < max; c = c->next)
        if (strncmp(c->name, prefix, plen) == 0)
            names[n++] = c->name;
    return n;
}

static int split(char *buf, char **argv)
{
    int argc = 0;
    char *p = buf;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p)
            break;
        if (argc == NB_SHELL_MAX_ARGS)
            return NB_E2BIG;
        if (*p == '"') {
            argv[argc++] = ++p;
            while (*p && *p != '"')
                p++;
            if (*p != '"')
                return NB_EINVAL;
        } else {
            argv[argc++] = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                p++;
        }
        if (*p)
            *p++ = 0;
    }
    return argc;
}

struct counted {
    nb_print_fn print;
    void *arg;
    unsigned lines;
};

static void counted_print(void *a, const char *line)
{
    struct counted *c = a;
    c->lines++;
    c->print(c->arg, line);
}

int nb_shell_exec(const char *line, nb_print_fn print, void *arg)
{
    register_builtins();
    char buf[NB_SHELL_LINE_MAX];
    char *argv[NB_SHELL_MAX_ARGS + 1];
    if (strlen(line) >= sizeof buf) {
        print(arg, "error: line too long");
        return NB_E2BIG;
    }
    strcpy(buf, line);
    int argc = split(buf, argv);
    if (argc < 0) {
        print(arg, argc == NB_E2BIG ? "error: too many arguments" : "error: unclosed quote");
        return argc;
    }
    if (argc == 0)
        return 0;
    argv[argc] = NULL;
    const struct nb_shell_cmd *c = nb_shell_find(argv[0]);
    if (!c) {
        char msg[96];
        snprintf(msg, sizeof msg, "unknown command '%.40s' (type 'help')", argv[0]);
        print(arg, msg);
        return NB_ENOENT;
    }
    struct counted cp = {print, arg, 0};
    int rc = c->run(argc, argv, counted_print, &cp);
    /* a command that failed without a word gets the error's name */
    if (rc < 0 && cp.lines == 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: %s", c->name, nb_strerror(rc));
        print(arg, msg);
    }
    return rc;
}

/* --- built-ins --- */

static int cmd_help(int argc, char **argv, nb_print_fn print, void *arg)
{
    char line[160];
    if (argc > 1) {
        const struct nb_shell_cmd *c = nb_shell_find(argv[1]);
        if (!c) {
            snprintf(line, sizeof line, "no command '%.40s'", argv[1]);
            print(arg, line);
            return NB_ENOENT;
        }
        snprintf(line, sizeof line, "usage: %s", c->usage);
        print(arg, line);
        print(arg, c->help);
        return 0;
    }
    for (const struct nb_shell_cmd *c = commands; c; c = c->next) {
        if (strlen(c->usage) <= 28) {
            snprintf(line, sizeof line, "  %-28s %s", c->usage, c->help);
        } else {
            /* a long usage gets its own line; the help stays in its column */
            snprintf(line, sizeof line, "  %s", c->usage);
            print(arg, line);
            snprintf(line, sizeof line, "  %-28s %s", "", c->help);
        }
        print(arg, line);
    }
    return 0;
}

static int cmd_stats(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc;
    (void)argv;
    nb_net_print_stats(print, arg);
    return 0;
}

struct log_ctx {
    nb_print_fn print;
    void *arg;
};

static void log_line(void *a, int level, const char *line)
{
    struct log_ctx *c = a;
    (void)level;
    c->print(c->arg, line);
}

static int cmd_log(int argc, char **argv, nb_print_fn print, void *arg)
{
    if (argc > 1) {
        if (nb_log_configure(argv[1]) != 0) {
            print(arg, "bad level spec; e.g. 'info' or 'warn,vsock=debug'");
            return NB_EINVAL;
        }
        return 0;
    }
    struct log_ctx c = {print, arg};
    nb_log_ring_foreach(log_line, &c);
    return 0;
}

static int cmd_quit(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc;
    (void)argv;
    (void)print;
    (void)arg;
    quit_requested = true;
    return 0;
}

static struct nb_shell_cmd builtins[] = {
    {"help", "help [COMMAND]", "list commands, or explain one", cmd_help, NULL},
    {"stats", "stats", "interfaces, sockets, memory and protocol counters", cmd_stats, NULL},
    {"log", "log [LEVELS]", "show recent log lines, or set levels (e.g. warn,vsock=debug)", cmd_log, NULL},
    {"quit", "quit", "leave the shell", cmd_quit, NULL},
};

void nb_shell_register_net(void);  /* cmd_net.c: ifconfig, dhcp, ping, dns */
void nb_shell_register_boot(void); /* cmd_boot.c: wget, sha256, files, rm, boot, ... */
void nb_shell_register_app(void);  /* cmd_app.c: run, chain, stop */

static void register_builtins(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        nb_shell_register(&builtins[i]);
    nb_shell_register_net();
    nb_shell_register_boot();
    nb_shell_register_app();
}
