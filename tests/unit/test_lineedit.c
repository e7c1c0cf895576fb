/* The console line editor, driven by raw key sequences as a terminal or
 * serial line would send them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <neoboot/err.h>
#include <neoboot/shell.h>

#include <stdio.h>
#include <string.h>

static char screen[8192];
static size_t screen_len;

static void capture(void *arg, const char *s, size_t n)
{
    (void)arg;
    if (screen_len + n < sizeof screen) {
        memcpy(screen + screen_len, s, n);
        screen_len += n;
        screen[screen_len] = 0;
    }
}

static struct nb_lineedit le;

/* Type keys; return the last completed line ("" if none). */
static const char *type(const char *keys)
{
    static char got[NB_SHELL_LINE_MAX];
    got[0] = 0;
    for (const char *p = keys; *p; p++) {
        const char *line;
        if (nb_lineedit_key(&le, *p, &line)) {
            strcpy(got, line);
            nb_lineedit_prompt(&le);
        }
    }
    return got;
}

static int setup(void **state)
{
    (void)state;
    screen_len = 0;
    nb_lineedit_init(&le, "> ", capture, NULL);
    nb_lineedit_prompt(&le);
    return 0;
}

static void test_plain_and_crlf(void **state)
{
    (void)state;
    assert_string_equal(type("stats\r"), "stats");
    assert_string_equal(type("\n"), "");     /* the LF after CR is not a second Enter */
    assert_string_equal(type("log\r\n"), "log");
    assert_string_equal(type("help\n"), "help");
}

static void test_editing_keys(void **state)
{
    (void)state;
    assert_string_equal(type("pinx\x7fg\r"), "ping");                 /* backspace */
    assert_string_equal(type("ng 10.0.2.2\x01pi\r"), "ping 10.0.2.2"); /* Ctrl-A, insert */
    assert_string_equal(type("abc\x1b[D\x1b[DX\r"), "aXbc");           /* left arrows */
    assert_string_equal(type("abc\x1b[H\x1b[3~\r"), "bc");             /* Home, Delete */
    assert_string_equal(type("abc\x02\x02\x0b\r"), "a");              /* Ctrl-B, Ctrl-K */
    assert_string_equal(type("one two three\x17\r"), "one two ");      /* Ctrl-W */
    assert_string_equal(type("junk\x15ok\r"), "ok");                   /* Ctrl-U */
    assert_string_equal(type("abc\x1b[1~Z\x1b[4~Y\r"), "ZabcY");       /* Home/End by number */
    assert_string_equal(type("drop\x03"), "");                         /* Ctrl-C */
    assert_non_null(strstr(screen, "^C"));
    assert_string_equal(type("x\x1bOHy\r"), "yx");                     /* ESC O H */
    assert_string_equal(type("\x01\x07\x1b[Zq\r"), "q");  /* stray controls and unknown escapes ignored */
}

static void test_history(void **state)
{
    (void)state;
    type("first\r");
    type("second\r");
    type("second\r"); /* consecutive duplicates are kept once */
    assert_string_equal(type("\x1b[A\r"), "second");
    assert_string_equal(type("\x1b[A\x1b[A\r"), "first");
    /* browsing keeps the draft */
    assert_string_equal(type("dra\x1b[A\x1b[Bft\r"), "draft");
    /* Ctrl-P / Ctrl-N */
    /* history is now first, second, first, draft: up three, down one */
    assert_string_equal(type("\x10\x10\x10\x0e\r"), "first");
    /* more than the history holds: the oldest go */
    for (int i = 0; i < 40; i++) {
        char cmd[16];
        snprintf(cmd, sizeof cmd, "c%d\r", i);
        type(cmd);
    }
    char keys[200] = "";
    for (int i = 0; i < NB_LINEEDIT_HISTORY + 5; i++)
        strcat(keys, "\x1b[A");
    strcat(keys, "\r");
    assert_string_equal(type(keys), "c8"); /* 40 + the 4 before, 32 kept */
}

static int dummy(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc; (void)argv; (void)print; (void)arg;
    return 0;
}

static void test_completion(void **state)
{
    (void)state;
    static struct nb_shell_cmd c1 = {"ifconfig", "ifconfig", "x", dummy, NULL};
    static struct nb_shell_cmd c2 = {"idle", "idle", "x", dummy, NULL};
    nb_shell_register(&c1);
    nb_shell_register(&c2);
    assert_string_equal(type("if\t\r"), "ifconfig ");   /* unique: completed, with a space */
    assert_string_equal(type("sta\tx\r"), "stats x");
    screen_len = 0;
    assert_string_equal(type("i\t\r"), "i");            /* ambiguous: lists both */
    assert_non_null(strstr(screen, "idle  ifconfig"));
    assert_string_equal(type("zz\t\r"), "zz");          /* nothing matches: bell */
    assert_non_null(strchr(screen, '\a'));
}

/* Keys typed while the previous line's command is still running (before
 * the next prompt) make a new line of their own. */
static void test_typing_during_a_command(void **state)
{
    (void)state;
    const char *line;
    const char *first = "run app\r";
    for (const char *p = first; *p; p++)
        if (nb_lineedit_key(&le, *p, &line))
            assert_string_equal(line, "run app");
    /* no prompt yet: the command is running */
    const char *second = "chain other\r";
    int done = 0;
    for (const char *p = second; *p; p++)
        if (nb_lineedit_key(&le, *p, &line)) {
            assert_string_equal(line, "chain other");
            done++;
        }
    assert_int_equal(done, 1);
}

static void test_long_lines_are_bounded(void **state)
{
    (void)state;
    static char keys[NB_SHELL_LINE_MAX + 100];
    memset(keys, 'a', sizeof keys - 2);
    keys[sizeof keys - 2] = '\r';
    keys[sizeof keys - 1] = 0;
    const char *line = type(keys);
    assert_int_equal(strlen(line), NB_SHELL_LINE_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_plain_and_crlf, setup),
        cmocka_unit_test_setup(test_editing_keys, setup),
        cmocka_unit_test_setup(test_history, setup),
        cmocka_unit_test_setup(test_completion, setup),
        cmocka_unit_test_setup(test_typing_during_a_command, setup),
        cmocka_unit_test_setup(test_long_lines_are_bounded, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
