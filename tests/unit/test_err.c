/* Error codes: stable WASI numbering, names and messages for every code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <neoboot/err.h>

static void test_wasi_numbers_are_stable(void **state)
{
    (void)state;
    /* These are the guest ABI: a change breaks every compiled app. */
    assert_int_equal(NB_EAGAIN, -6);
    assert_int_equal(NB_EBADF, -8);
    assert_int_equal(NB_ECONNREFUSED, -14);
    assert_int_equal(NB_ECONNRESET, -15);
    assert_int_equal(NB_EFAULT, -21);
    assert_int_equal(NB_EINVAL, -28);
    assert_int_equal(NB_ENOMEM, -48);
    assert_int_equal(NB_ENOSYS, -52);
    assert_int_equal(NB_ETIMEDOUT, -73);
    assert_int_equal(NB_ENOTCAPABLE, -76);
}

static void test_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(nb_errname(NB_EAGAIN), "NB_EAGAIN");
    assert_string_equal(nb_errname(-NB_EAGAIN), "NB_EAGAIN");
    assert_string_equal(nb_strerror(NB_ETIMEDOUT), "timed out");
    assert_null(nb_errname(-9999));
    assert_string_equal(nb_strerror(-9999), "unknown error");
    /* Every defined code between -1 and -76 that has a name has a message. */
    for (int e = -1; e >= -76; e--)
        if (nb_errname(e))
            assert_string_not_equal(nb_strerror(e), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wasi_numbers_are_stable),
        cmocka_unit_test(test_names_and_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
