/*
 * The console shell: a table of commands run on one line of text each,
 * writing through a print function, the same on the serial console (pc)
 * and the terminal (hosted). Commands are registered by whatever provides
 * them, so platforms and subsystems add their own.
 */
#ifndef NEOBOOT_SHELL_H
#define NEOBOOT_SHELL_H

#include <neoboot/net.h>

#include <stdbool.h>
#include <stddef.h>

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
void nb_shell_clear_quit(void);

/* Command names starting with prefix (sorted), at most max. */
size_t nb_shell_complete(const char *prefix, const char **names, size_t max);

/* The app `run bundled` and `chain bundled` use (the image's or boot
 * module's); the platform sets it at boot. */
void nb_shell_set_bundled(const void *buf, size_t len);

/* --- the line editor (lineedit.c) --- */

#define NB_LINEEDIT_HISTORY 32

typedef void (*nb_lineedit_write_fn)(void *arg, const char *s, size_t n);

struct nb_lineedit {
    char prompt[32];
    char buf[NB_SHELL_LINE_MAX];
    size_t len, cursor;
    char done[NB_SHELL_LINE_MAX];   /* the line handed out by Enter */
    char saved[NB_SHELL_LINE_MAX];  /* the draft while browsing history */
    char history[NB_LINEEDIT_HISTORY][NB_SHELL_LINE_MAX];
    int hist_head, hist_count, hist_pos;
    int esc;
    unsigned esc_num;
    bool last_cr;
    nb_lineedit_write_fn write;
    void *arg;
};

void nb_lineedit_init(struct nb_lineedit *le, const char *prompt, nb_lineedit_write_fn write,
                      void *arg);
/* Print the prompt and start a new empty line. */
void nb_lineedit_prompt(struct nb_lineedit *le);
/* One input byte. Returns 1 and *line (valid until the next key) when
 * Enter completed a line; the caller runs it, then calls
 * nb_lineedit_prompt(). */
int nb_lineedit_key(struct nb_lineedit *le, char c, const char **line);

/* --- the console shell (console.c): line editor + commands --- */

/* Start a shell on a console whose output goes to write(arg, ...). */
void nb_console_shell_start(nb_lineedit_write_fn write, void *arg);
/* Console input; runs commands as lines complete. */
void nb_console_shell_input(const char *bytes, size_t n);
bool nb_console_shell_running(void);
/* Print a fresh prompt (and the line being typed) after other output,
 * e.g. when an app has ended and the shell is the console's again. */
void nb_console_shell_reprompt(void);
/* A status line updated in place (progress bars) on the console shell's
 * terminal; nothing when no console shell runs. _done ends it. */
void nb_console_status(const char *text);
void nb_console_status_done(void);

#endif
