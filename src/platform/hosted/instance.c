/*
 * Hosted instance setup (see instance.h).
 */
#define _GNU_SOURCE
#include "instance.h"

#include "hosted.h"
#include "hvbridge.h"
#include "vsock_uds.h"

#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/shell.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

const char nb_instance_options_help[] =
    "  --cid N                this instance's vsock CID (default 3)\n"
    "  --vsock-uds PATH       hybrid-vsock bridge: host programs connect to PATH\n"
    "                         and send 'CONNECT <port>'; guest connections to\n"
    "                         CID 2 port P go to PATH_P (Firecracker's convention)\n"
    "  --vsock-dev SPEC       vsock device to another NeoBoot process over a UNIX\n"
    "                         socket: listen:PATH or connect:PATH\n";

void nb_instance_defaults(struct nb_instance_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cid = 3;
}

int nb_instance_option(struct nb_instance_opts *o, int argc, char **argv,
                       int *i, const char *cmd)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (strcmp(a, "--cid") == 0) {
        char *end;
        unsigned long cid = v ? strtoul(v, &end, 10) : 0;
        if (!v || *end || cid < 3 || cid > 0xFFFFFFFEul) {
            fprintf(stderr, "neoboot %s: --cid needs a number from 3 to 4294967294 "
                            "(0-2 are reserved)\n", cmd);
            return 2;
        }
        o->cid = (uint32_t)cid;
    } else if (strcmp(a, "--vsock-uds") == 0) {
        if (!v) {
            fprintf(stderr, "neoboot %s: --vsock-uds needs a socket path\n", cmd);
            return 2;
        }
        o->vsock_uds = v;
    } else if (strcmp(a, "--vsock-dev") == 0) {
        if (!v || (strncmp(v, "listen:", 7) != 0 && strncmp(v, "connect:", 8) != 0)) {
            fprintf(stderr, "neoboot %s: --vsock-dev needs listen:PATH or connect:PATH\n", cmd);
            return 2;
        }
        o->vsock_dev = v;
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}

static void on_signal(int sig)
{
    (void)sig;
    nb_loop_interrupt(); /* sets a flag and writes the wake eventfd */
}

void nb_instance_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int nb_instance_start(struct nb_instance *in, const struct nb_instance_opts *o)
{
    memset(in, 0, sizeof *in);
    nb_instance_catch_signals();
    in->st = nb_stack_default();
    if (!in->st) {
        fprintf(stderr, "neoboot: out of memory\n");
        return NB_ENOMEM;
    }
    if (o->vsock_uds && o->vsock_dev) {
        fprintf(stderr, "neoboot: use either --vsock-uds or --vsock-dev (one vsock device)\n");
        return NB_EINVAL;
    }
    int err = 0;
    if (o->vsock_uds) {
        in->bridge = nb_hvbridge_new(in->st, o->vsock_uds, o->cid, &err);
        if (!in->bridge) {
            fprintf(stderr, "neoboot: cannot start the vsock bridge on %s: %s%s\n",
                    o->vsock_uds, nb_strerror(err),
                    err == NB_EADDRINUSE ? " (another instance is serving there)" : "");
            return err;
        }
    }
    if (o->vsock_dev) {
        in->vsdev = nb_vsock_uds_open("vsock0", o->vsock_dev, o->cid, &err);
        if (in->vsdev) {
            err = nb_stack_attach(in->st, in->vsdev);
            if (err == 0)
                err = nb_iface_start(in->vsdev);
        }
        if (err) {
            fprintf(stderr, "neoboot: cannot open vsock device %s: %s\n", o->vsock_dev,
                    nb_strerror(err));
            return err;
        }
    }
    return 0;
}

void nb_instance_stop(struct nb_instance *in)
{
    if (in->bridge)
        nb_hvbridge_free(in->bridge);
    if (in->vsdev)
        nb_vsock_uds_close(in->vsdev);
    if (in->st)
        nb_stack_free(in->st);
    memset(in, 0, sizeof *in);
}

/* --- console --- */

static char con_line[NB_SHELL_LINE_MAX];
static size_t con_len;
static bool con_overflow;

static void con_print(void *arg, const char *line)
{
    (void)arg;
    printf("%s\n", line);
}

static void con_prompt(void)
{
    printf("neoboot> ");
    fflush(stdout);
}

static void con_event(void *arg, int fd, uint32_t ev)
{
    (void)arg;
    (void)ev;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        nb_hosted_unwatch(fd); /* stdin closed: keep serving without a console */
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n') {
            con_line[con_len] = 0;
            if (con_overflow)
                printf("error: line too long\n");
            else
                nb_shell_exec(con_line, con_print, NULL);
            con_len = 0;
            con_overflow = false;
            if (!nb_shell_quit_requested())
                con_prompt();
        } else if (con_len + 1 < sizeof con_line) {
            con_line[con_len++] = c;
        } else {
            con_overflow = true;
        }
    }
    fflush(stdout);
}

static bool quit_cond(void *arg)
{
    (void)arg;
    return nb_shell_quit_requested();
}

void nb_instance_serve(struct nb_instance *in)
{
    (void)in;
    bool console = isatty(STDIN_FILENO);
    if (console && nb_hosted_watch(STDIN_FILENO, EPOLLIN, con_event, NULL) == 0)
        con_prompt();
    nb_loop_run_until(quit_cond, NULL, NB_FOREVER);
    if (console)
        nb_hosted_unwatch(STDIN_FILENO);
    nb_loop_clear_interrupt();
}
