/*
 * The event loop's wait hooks (nb_loop_hook): prepare may lower the wait
 * deadline, check runs after every wait, neither runs while work keeps
 * the loop busy, and a hook may remove itself from check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <neoboot/loop.h>
#include <neoboot/platform.h>

struct probe {
    struct nb_loop_hook h;
    int prepares, checks;
    uint64_t want_deadline;   /* lower the deadline to this, if nonzero */
    uint64_t seen_deadline;
    bool remove_in_check;
};

static void probe_prepare(struct nb_loop_hook *h, uint64_t *deadline)
{
    struct probe *p = (struct probe *)h;
    p->prepares++;
    p->seen_deadline = *deadline;
    if (p->want_deadline && p->want_deadline < *deadline)
        *deadline = p->want_deadline;
}

static void probe_check(struct nb_loop_hook *h)
{
    struct probe *p = (struct probe *)h;
    p->checks++;
    if (p->remove_in_check)
        nb_loop_hook_remove(h);
}

static void test_prepare_lowers_deadline(void **state)
{
    (void)state;
    struct probe p = {.h = {probe_prepare, probe_check, NULL, false}};
    nb_loop_hook_add(&p.h);
    uint64_t start = nb_clock_ns();
    p.want_deadline = start + 20 * NB_NS_PER_MS;
    /* one iteration with nothing to do: waits until the hook's deadline,
     * not the caller's 5 s */
    nb_loop_run_once(start + 5 * NB_NS_PER_S);
    uint64_t took = nb_clock_ns() - start;
    assert_true(took >= 19 * NB_NS_PER_MS);
    assert_true(took < 2 * NB_NS_PER_S);
    assert_int_equal(p.prepares, 1);
    assert_int_equal(p.checks, 1);
    assert_true(p.seen_deadline == start + 5 * NB_NS_PER_S);
    nb_loop_hook_remove(&p.h);
    nb_loop_run_once(nb_clock_ns() + NB_NS_PER_MS);
    assert_int_equal(p.prepares, 1);
}

static int work_runs;
static void busy_work(struct nb_work *w)
{
    work_runs++;
    if (work_runs < 5)
        nb_work_post(w);
}

static void test_not_called_while_busy(void **state)
{
    (void)state;
    struct probe p = {.h = {probe_prepare, probe_check, NULL, false}};
    nb_loop_hook_add(&p.h);
    struct nb_work w;
    nb_work_init(&w, busy_work);
    work_runs = 0;
    nb_work_post(&w);
    for (int i = 0; i < 5; i++)
        nb_loop_run_once(nb_clock_ns() + NB_NS_PER_S);
    assert_int_equal(work_runs, 5);
    assert_int_equal(p.prepares, 0);
    /* now idle: the hooks run around the wait */
    nb_loop_run_once(nb_clock_ns() + NB_NS_PER_MS);
    assert_int_equal(p.prepares, 1);
    assert_int_equal(p.checks, 1);
    nb_loop_hook_remove(&p.h);
}

static void test_remove_in_check(void **state)
{
    (void)state;
    struct probe a = {.h = {probe_prepare, probe_check, NULL, false}};
    struct probe b = {.h = {probe_prepare, probe_check, NULL, false}};
    a.remove_in_check = true;
    nb_loop_hook_add(&a.h);
    nb_loop_hook_add(&a.h); /* twice is once */
    nb_loop_hook_add(&b.h);
    nb_loop_run_once(nb_clock_ns() + NB_NS_PER_MS);
    assert_int_equal(a.checks, 1);
    assert_int_equal(b.checks, 1);
    nb_loop_run_once(nb_clock_ns() + NB_NS_PER_MS);
    assert_int_equal(a.checks, 1);
    assert_int_equal(b.checks, 2);
    nb_loop_hook_remove(&b.h);
    struct nb_loop_stats ls;
    nb_loop_get_stats(&ls);
    assert_true(ls.hook_checks >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_lowers_deadline),
        cmocka_unit_test(test_not_called_while_busy),
        cmocka_unit_test(test_remove_in_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
