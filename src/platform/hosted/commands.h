/*
 * Subcommands of the hosted `neoboot` program. Each lives in its own
 * cmd_*.c file and is listed once in main.c's table.
 */
#ifndef NEOBOOT_HOSTED_COMMANDS_H
#define NEOBOOT_HOSTED_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

struct nb_command {
    const char *name;
    const char *summary;                 /* one line for `neoboot --help` */
    int (*main)(int argc, char **argv);  /* argv[0] is the command name */
};

/* Print "neoboot: " + message to stderr; returns 2 (usage) for convenience. */
int nb_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The whole of a file (regular, or a pipe such as /dev/stdin) of at most
 * max bytes, malloc'ed with one spare byte; NULL after saying why on
 * stderr as "neoboot WHO: ...". */
uint8_t *nb_cmd_read_file(const char *who, const char *path, size_t max, size_t *len);

/* A port forward as users write it (-p): "[udp:|tcp:][ADDR:]HOST:GUEST",
 * ADDR defaulting to 127.0.0.1. 0, or -1 if malformed. */
struct nb_cmd_forward {
    int udp;
    char addr[64];
    uint16_t host, guest;
};
int nb_cmd_parse_forward(const char *spec, struct nb_cmd_forward *f);

/* Entry points, one per cmd_*.c. */
int nb_cmd_wasm(int argc, char **argv);

#endif
