/*
 * The console shell: a table of commands run on one line of text each,
 * writing through a print function, the same on the serial console (pc)
 * and the terminal (hosted). Commands are registered by whatever provides
 * them, so platforms and subsystems add their own.
 */
#ifndef NEOBOOT_SHELL_H
#define NEOBOOT_SHELL_H

#include <neoboot/net.h>

#define NB_SHELL_MAX_ARGS 16
#define NB_SHELL_LINE_MAX 512

struct nb_shell_cmd {
    const char *name;
    const char *usage;   /* "NAME [ARGS]" */
    const char *help;    /* one line */
    /* 0 on success, or NB_E*; write output with print(arg, line) */
    int (*run)(int argc, char **argv, nb_print_fn print, void *arg);
    struct nb_shell_cmd *next;
};

/* Add a command (the struct must stay alive). NB_EEXIST if the name is taken. */
int nb_shell_register(struct nb_shell_cmd *cmd);
const struct nb_shell_cmd *nb_shell_find(const char *name);

/* Split and run one line. Returns the command's result, NB_ENOENT for an
 * unknown command (after printing a hint), 0 for an empty line. */
int nb_shell_exec(const char *line, nb_print_fn print, void *arg);

/* Set by the `quit` command; the console's owner decides what it means. */
bool nb_shell_quit_requested(void);

#endif
