/*
 * The console shell: the line editor feeding nb_shell_exec(), with command
 * output written back to the same console. One per instance (the serial
 * port on pc, the terminal on hosted). Commands run from the event loop,
 * may run the loop themselves (wget, ping), and print through the same
 * writer, with CRLF line ends so raw terminals and serial lines show them
 * right.
 */
#include <neoboot/shell.h>

#include <stdio.h>
#include <string.h>

static struct nb_lineedit editor;
static bool running;

static void print_line(void *arg, const char *line)
{
    (void)arg;
    editor.write(editor.arg, line, strlen(line));
    editor.write(editor.arg, "\r\n", 2);
}

void nb_console_shell_start(nb_lineedit_write_fn write, void *arg)
{
    nb_lineedit_init(&editor, "neoboot> ", write, arg);
    nb_shell_clear_quit();
    running = true;
    nb_lineedit_prompt(&editor);
}

bool nb_console_shell_running(void)
{
    return running && !nb_shell_quit_requested();
}

void nb_console_shell_input(const char *bytes, size_t n)
{
    if (!running)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *line;
        if (!nb_lineedit_key(&editor, bytes[i], &line))
            continue;
        /* a command may run the loop for long (run, wget) and this is
         * entered again for what is typed meanwhile: the editor's line
         * may change under it, so run a copy */
        char cmd[NB_SHELL_LINE_MAX];
        snprintf(cmd, sizeof cmd, "%s", line);
        nb_shell_exec(cmd, print_line, NULL);
        if (nb_shell_quit_requested()) {
            running = false;
            return;
        }
        nb_lineedit_prompt(&editor);
    }
}

void nb_console_shell_reprompt(void)
{
    if (!running || !editor.write)
        return;
    editor.write(editor.arg, "\r\n", 2);
    editor.write(editor.arg, editor.prompt, strlen(editor.prompt));
    editor.write(editor.arg, editor.buf, editor.len);
}

static bool status_shown;

void nb_console_status(const char *text)
{
    if (!running || !editor.write)
        return;
    editor.write(editor.arg, "\r", 1);
    editor.write(editor.arg, text, strlen(text));
    editor.write(editor.arg, "\x1b[K", 3);
    status_shown = true;
}

void nb_console_status_done(void)
{
    if (status_shown && editor.write)
        editor.write(editor.arg, "\r\n", 2);
    status_shown = false;
}
