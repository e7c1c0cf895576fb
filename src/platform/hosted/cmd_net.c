/*
 * `neoboot ifconfig|dhcp|ping|dns`: thin wrappers that start an instance
 * (network options as every instance command: --net, --ip, --dns ...),
 * wait until its network is configured, and run the console command of the
 * same name (src/shell/cmd_net.c) with the remaining arguments. Output goes
 * to stdout; the exit status is 0 when the command succeeded.
 */
#define _GNU_SOURCE
#include "commands.h"
#include "instance.h"

#include <neoboot/err.h>
#include <neoboot/inet.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>
#include <neoboot/shell.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nb_shell_register_net(void);

static void out_line(void *arg, const char *line)
{
    (void)arg;
    printf("%s\n", line);
    fflush(stdout);
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

/* Which address family does the command's target need? */
static int target_family(int argc, char **argv, bool *link_local)
{
    *link_local = false;
    int fam = NB_AF_INET;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-6") == 0)
            fam = NB_AF_INET6;
        else if (argv[i][0] != '-' && strchr(argv[i], ':')) {
            fam = NB_AF_INET6;
            if (strncasecmp(argv[i], "fe80", 4) == 0)
                *link_local = true;
        }
    }
    return fam;
}

static int run_net_command(const char *name, int argc, char **argv)
{
    nb_shell_register_net();
    const struct nb_shell_cmd *cmd = nb_shell_find(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: neoboot %s [INSTANCE OPTIONS] [-w SECONDS]%s\n\n"
                   "Starts NeoBoot with a network, waits up to -w seconds (default 10) for\n"
                   "it to be configured, then runs the console command:\n"
                   "  %s\n  %s\n\ninstance options:\n%s",
                   name, strcmp(name, "dhcp") == 0 ? " [--hold SECONDS] [ARGS]" : " ARGS",
                   cmd->usage, cmd->help, nb_instance_options_help);
            if (strcmp(name, "dhcp") == 0)
                printf("  --hold SECONDS         keep the lease this long (renewals happen), then\n"
                       "                         release it\n");
            return 0;
        }
    }
    struct nb_instance_opts o;
    nb_instance_defaults(&o);
    double wait_s = 10, hold_s = -1;
    char *args[NB_SHELL_MAX_ARGS + 1];
    int nargs = 0;
    args[nargs++] = (char *)name;
    for (int i = 1; i < argc; i++) {
        int r = nb_instance_option(&o, argc, argv, &i, name);
        if (r == 2)
            return 2;
        if (r == 1)
            continue;
        if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
            wait_s = atof(argv[++i]);
        } else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc && strcmp(name, "dhcp") == 0) {
            hold_s = atof(argv[++i]);
        } else {
            if (nargs == NB_SHELL_MAX_ARGS)
                return nb_cmd_usage_error(name, "too many arguments");
            args[nargs++] = argv[i];
        }
    }
    args[nargs] = NULL;
    struct nb_instance in;
    if (nb_instance_start(&in, &o) != 0)
        return 1;
    bool ll;
    int fam = target_family(nargs, args, &ll);
    if (strcmp(name, "ifconfig") == 0 || strcmp(name, "dhcp") == 0 || strcmp(name, "dns") == 0) {
        /* -4/-6 there name the records, not the way to the server */
        fam = NB_AF_INET;
        ll = false;
    }
    int rc = nb_instance_wait_net(&in, fam, ll, (uint64_t)(wait_s * 1e9));
    if (rc == NB_EINTR) {
        nb_instance_stop(&in);
        return 130;
    }
    if (rc == NB_ETIMEDOUT && strcmp(name, "ifconfig") != 0)
        fprintf(stderr, "neoboot %s: the network is not configured after %g s; trying anyway\n",
                name, wait_s);
    if (fam == NB_AF_INET6 && !ll)
        nb_instance_wait_net(&in, NB_AF_INET6, true, (uint64_t)(wait_s * 1e9));
    rc = cmd->run(nargs, args, out_line, NULL);
    if (rc == 0 && hold_s > 0) {
        nb_loop_run_until(never, NULL, nb_clock_ns() + (uint64_t)(hold_s * 1e9));
        nb_loop_clear_interrupt();
        char *show[] = {(char *)"dhcp", NULL};
        cmd->run(1, show, out_line, NULL);
        if (in.eth && nb_inet_dhcp_stop(in.eth, true) == 0) {
            /* let the RELEASE leave before the interface goes */
            nb_loop_run_until(never, NULL, nb_clock_ns() + 200 * NB_NS_PER_MS);
            printf("released\n");
        }
    }
    nb_instance_stop(&in);
    if (rc == NB_EINTR)
        return 130;
    return rc == 0 ? 0 : 1;
}

int nb_cmd_ifconfig(int argc, char **argv);
int nb_cmd_ifconfig(int argc, char **argv) { return run_net_command("ifconfig", argc, argv); }
int nb_cmd_dhcp(int argc, char **argv);
int nb_cmd_dhcp(int argc, char **argv) { return run_net_command("dhcp", argc, argv); }
int nb_cmd_ping(int argc, char **argv);
int nb_cmd_ping(int argc, char **argv) { return run_net_command("ping", argc, argv); }
int nb_cmd_dns(int argc, char **argv);
int nb_cmd_dns(int argc, char **argv) { return run_net_command("dns", argc, argv); }
