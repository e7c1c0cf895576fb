/*
 * Subcommands of the hosted `neoboot` program. Each lives in its own
 * cmd_*.c file and is listed once in main.c's table.
 */
#ifndef NEOBOOT_HOSTED_COMMANDS_H
#define NEOBOOT_HOSTED_COMMANDS_H

struct nb_command {
    const char *name;
    const char *summary;                 /* one line for `neoboot --help` */
    int (*main)(int argc, char **argv);  /* argv[0] is the command name */
};

/* Print "neoboot: " + message to stderr; returns 2 (usage) for convenience. */
int nb_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Entry points, one per cmd_*.c. */
int nb_cmd_wasm(int argc, char **argv);

#endif
