/* Logger: level specs, per-module levels, the ring and the sink. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <neoboot/err.h>
#include <neoboot/log.h>

NB_LOG_MODULE(alpha);

static int sink_lines;
static char sink_last[256];

static void test_sink(int level, const char *line, size_t len)
{
    (void)level;
    sink_lines++;
    snprintf(sink_last, sizeof sink_last, "%.*s", (int)len, line);
}

static void test_levels(void **state)
{
    (void)state;
    nb_log_set_sink(test_sink);
    assert_int_equal(nb_log_configure("warn"), 0);
    sink_lines = 0;
    NB_INFO("hidden %d", 1);
    assert_int_equal(sink_lines, 0);
    NB_WARN("shown %d", 2);
    assert_int_equal(sink_lines, 1);
    assert_non_null(strstr(sink_last, "W alpha: shown 2"));

    assert_int_equal(nb_log_configure("error,alpha=debug"), 0);
    NB_DEBUG("now visible");
    assert_int_equal(sink_lines, 2);
    NB_TRACE("still hidden");
    assert_int_equal(sink_lines, 2);
    nb_log_set_sink(NULL);
}

static void test_bad_specs_rejected(void **state)
{
    (void)state;
    assert_int_equal(nb_log_configure("loud"), NB_EINVAL);
    assert_int_equal(nb_log_configure("alpha=nope"), NB_EINVAL);
    assert_int_equal(nb_log_configure("=info"), NB_EINVAL);
    assert_int_equal(nb_log_configure("info,,debug"), NB_EINVAL);
    assert_int_equal(nb_log_parse_level("trace"), NB_LOG_TRACE);
}

static int ring_seen;
static void count_ring(void *arg, int level, const char *line)
{
    (void)level;
    if (strstr(line, (const char *)arg))
        ring_seen++;
}

static void test_ring_keeps_recent_lines(void **state)
{
    (void)state;
    nb_log_set_sink(test_sink);
    assert_int_equal(nb_log_configure("info"), 0);
    for (int i = 0; i < 500; i++)
        NB_INFO("line %d", i);
    ring_seen = 0;
    nb_log_ring_foreach(count_ring, "line 499");
    assert_int_equal(ring_seen, 1);
    ring_seen = 0;
    nb_log_ring_foreach(count_ring, "line 0\0");
    assert_int_equal(ring_seen, 0); /* overwritten: the ring is bounded */
    nb_log_set_sink(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_bad_specs_rejected),
        cmocka_unit_test(test_ring_keeps_recent_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
