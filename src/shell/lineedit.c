/*
 * The console line editor: turns keystrokes from a serial line or a raw
 * terminal into command lines, with the editing people expect:
 *
 *   Left/Right, Ctrl-B/F    move          Home/End, Ctrl-A/E   start/end
 *   Backspace, Delete, Ctrl-D  delete     Ctrl-U/K   kill to start/end
 *   Ctrl-W   delete a word                Up/Down, Ctrl-P/N   history
 *   Tab      complete a command name      Ctrl-C   drop the line
 *   Ctrl-L   redraw                       Enter (CR, LF or CRLF)
 *
 * It is a pure state machine over bytes (ANSI escape sequences decoded
 * here) writing its echo through a callback, so the same code serves the
 * pc serial console and the hosted terminal, and unit tests drive it.
 * Redrawing is the simplest thing that works on any ANSI terminal: return
 * to column 0, print prompt and line, clear to the end, move back.
 */
#include <neoboot/shell.h>

#include <stdio.h>
#include <string.h>

void nb_lineedit_init(struct nb_lineedit *le, const char *prompt, nb_lineedit_write_fn write,
                      void *arg)
{
    memset(le, 0, sizeof *le);
    snprintf(le->prompt, sizeof le->prompt, "%s", prompt);
    le->write = write;
    le->arg = arg;
    le->hist_pos = -1;
}

static void out(struct nb_lineedit *le, const char *s, size_t n)
{
    if (le->write && n)
        le->write(le->arg, s, n);
}

static void outs(struct nb_lineedit *le, const char *s)
{
    out(le, s, strlen(s));
}

static void redraw(struct nb_lineedit *le)
{
    outs(le, "\r");
    outs(le, le->prompt);
    out(le, le->buf, le->len);
    outs(le, "\x1b[K");
    if (le->len > le->cursor) {
        char mv[16];
        snprintf(mv, sizeof mv, "\x1b[%uD", (unsigned)(le->len - le->cursor));
        outs(le, mv);
    }
}

void nb_lineedit_prompt(struct nb_lineedit *le)
{
    le->len = le->cursor = 0;
    le->buf[0] = 0;
    le->hist_pos = -1;
    outs(le, le->prompt);
}

static void set_line(struct nb_lineedit *le, const char *s)
{
    size_t n = strlen(s);
    if (n >= sizeof le->buf)
        n = sizeof le->buf - 1;
    memcpy(le->buf, s, n);
    le->buf[n] = 0;
    le->len = le->cursor = n;
    redraw(le);
}

static void insert(struct nb_lineedit *le, char c)
{
    if (le->len + 1 >= sizeof le->buf) {
        outs(le, "\a"); /* full: bell */
        return;
    }
    memmove(le->buf + le->cursor + 1, le->buf + le->cursor, le->len - le->cursor);
    le->buf[le->cursor++] = c;
    le->len++;
    le->buf[le->len] = 0;
    if (le->cursor == le->len)
        out(le, &c, 1); /* appending: just echo */
    else
        redraw(le);
}

static void erase(struct nb_lineedit *le, size_t from, size_t to)
{
    if (to <= from)
        return;
    memmove(le->buf + from, le->buf + to, le->len - to);
    le->len -= to - from;
    le->buf[le->len] = 0;
    le->cursor = from;
    redraw(le);
}

static void history_add(struct nb_lineedit *le, const char *line)
{
    if (!line[0])
        return;
    if (le->hist_count && strcmp(le->history[(le->hist_head + NB_LINEEDIT_HISTORY - 1) %
                                             NB_LINEEDIT_HISTORY], line) == 0)
        return; /* no consecutive duplicates */
    snprintf(le->history[le->hist_head], sizeof le->history[0], "%s", line);
    le->hist_head = (le->hist_head + 1) % NB_LINEEDIT_HISTORY;
    if (le->hist_count < NB_LINEEDIT_HISTORY)
        le->hist_count++;
}

/* pos 0 is the newest entry */
static const char *history_at(const struct nb_lineedit *le, int pos)
{
    int idx = (le->hist_head - 1 - pos + 2 * NB_LINEEDIT_HISTORY) % NB_LINEEDIT_HISTORY;
    return le->history[idx];
}

static void history_move(struct nb_lineedit *le, int dir)
{
    int next = le->hist_pos + dir;
    if (next >= le->hist_count || next < -1) {
        outs(le, "\a");
        return;
    }
    if (le->hist_pos == -1)
        snprintf(le->saved, sizeof le->saved, "%s", le->buf); /* keep the draft */
    le->hist_pos = next;
    set_line(le, next == -1 ? le->saved : history_at(le, next));
}

static void complete(struct nb_lineedit *le)
{
    /* only the command name (first word, up to the cursor) */
    for (size_t i = 0; i < le->cursor; i++)
        if (le->buf[i] == ' ') {
            outs(le, "\a");
            return;
        }
    char prefix[NB_SHELL_LINE_MAX];
    memcpy(prefix, le->buf, le->cursor);
    prefix[le->cursor] = 0;
    const char *names[64];
    size_t n = nb_shell_complete(prefix, names, 64);
    if (n == 0) {
        outs(le, "\a");
        return;
    }
    /* extend to the longest common prefix */
    size_t common = strlen(names[0]);
    for (size_t k = 1; k < n; k++) {
        size_t j = 0;
        while (j < common && names[k][j] == names[0][j])
            j++;
        common = j;
    }
    if (n == 1 || common > le->cursor) {
        char add[NB_SHELL_LINE_MAX];
        size_t have = le->cursor;
        size_t extra = common - have;
        memcpy(add, names[0] + have, extra);
        add[extra] = 0;
        for (size_t k = 0; k < extra; k++)
            insert(le, add[k]);
        if (n == 1 && (le->cursor == le->len || le->buf[le->cursor] != ' '))
            insert(le, ' ');
        return;
    }
    /* ambiguous: list the candidates and redraw */
    outs(le, "\r\n");
    for (size_t k = 0; k < n; k++) {
        outs(le, names[k]);
        outs(le, k + 1 < n ? "  " : "\r\n");
    }
    redraw(le);
}

static size_t word_start(const struct nb_lineedit *le)
{
    size_t i = le->cursor;
    while (i > 0 && le->buf[i - 1] == ' ')
        i--;
    while (i > 0 && le->buf[i - 1] != ' ')
        i--;
    return i;
}

/* the part of an escape sequence after ESC [ or ESC O */
static void escape(struct nb_lineedit *le, char final, unsigned num)
{
    switch (final) {
    case 'A': history_move(le, +1); break;
    case 'B': history_move(le, -1); break;
    case 'C':
        if (le->cursor < le->len) {
            le->cursor++;
            outs(le, "\x1b[C");
        }
        break;
    case 'D':
        if (le->cursor > 0) {
            le->cursor--;
            outs(le, "\x1b[D");
        }
        break;
    case 'H': le->cursor = 0; redraw(le); break;
    case 'F': le->cursor = le->len; redraw(le); break;
    case '~':
        if (num == 1 || num == 7) {
            le->cursor = 0;
            redraw(le);
        } else if (num == 4 || num == 8) {
            le->cursor = le->len;
            redraw(le);
        } else if (num == 3 && le->cursor < le->len) {
            erase(le, le->cursor, le->cursor + 1);
        }
        break;
    default: break; /* unknown sequences are ignored */
    }
}

int nb_lineedit_key(struct nb_lineedit *le, char ch, const char **line)
{
    unsigned char c = (unsigned char)ch;
    *line = NULL;
    /* escape sequences: ESC [ digits final, ESC O final */
    if (le->esc == 1) {
        le->esc = (c == '[' || c == 'O') ? 2 : 0;
        le->esc_num = 0;
        return 0;
    }
    if (le->esc == 2) {
        if (c >= '0' && c <= '9' && le->esc_num < 1000) {
            le->esc_num = le->esc_num * 10 + (c - '0');
            return 0;
        }
        le->esc = 0;
        escape(le, (char)c, le->esc_num);
        return 0;
    }
    if (c == 0x1b) {
        le->esc = 1;
        return 0;
    }
    /* CR LF counts once */
    bool after_cr = le->last_cr;
    le->last_cr = c == '\r';
    if (c == '\n' && after_cr)
        return 0;
    switch (c) {
    case '\r':
    case '\n':
        outs(le, "\r\n");
        le->buf[le->len] = 0;
        history_add(le, le->buf);
        snprintf(le->done, sizeof le->done, "%s", le->buf);
        /* A fresh line at once: keys typed while this command still runs
         * (a long `run`, a download) start the next line, not this one. */
        le->len = le->cursor = 0;
        le->buf[0] = 0;
        le->hist_pos = -1;
        *line = le->done;
        return 1;
    case 0x7f:
    case 0x08:
        if (le->cursor > 0)
            erase(le, le->cursor - 1, le->cursor);
        return 0;
    case 0x01: le->cursor = 0; redraw(le); return 0;
    case 0x05: le->cursor = le->len; redraw(le); return 0;
    case 0x02: escape(le, 'D', 0); return 0;
    case 0x06: escape(le, 'C', 0); return 0;
    case 0x10: history_move(le, +1); return 0;
    case 0x0e: history_move(le, -1); return 0;
    case 0x04:
        if (le->cursor < le->len)
            erase(le, le->cursor, le->cursor + 1);
        return 0;
    case 0x15: erase(le, 0, le->cursor); return 0;
    case 0x0b:
        le->len = le->cursor;
        le->buf[le->len] = 0;
        redraw(le);
        return 0;
    case 0x17: erase(le, word_start(le), le->cursor); return 0;
    case 0x03:
        outs(le, "^C\r\n");
        nb_lineedit_prompt(le);
        return 0;
    case 0x0c:
        outs(le, "\x1b[H\x1b[2J");
        redraw(le);
        return 0;
    case '\t': complete(le); return 0;
    default:
        if (c >= 0x20 && c != 0x7f)
            insert(le, (char)c);
        return 0; /* other control characters are ignored */
    }
}
