/* Capability rules and guest handle tables: the parts of the app ABI
 * that decide what a guest may do and which objects it may touch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <neoboot/caps.h>
#include <neoboot/err.h>

#include "abi/handles.h"

#include <string.h>

static struct nb_addr ip4(const char *text)
{
    struct nb_addr a;
    assert_int_equal(nb_addr_parse(text, &a), 0);
    return a;
}

static void test_listen_rules(void **state)
{
    (void)state;
    struct nb_caps c;
    nb_caps_init(&c);
    /* nothing is allowed by an empty set */
    assert_int_equal(nb_caps_check_listen(&c, NB_AF_INET, NB_SOCK_STREAM, 80), NB_EACCES);
    assert_int_equal(nb_caps_add(&c, NB_CAP_LISTEN, "tcp:8080", NULL), 0);
    assert_int_equal(nb_caps_add(&c, NB_CAP_LISTEN, "udp:5000-5010", NULL), 0);
    assert_int_equal(nb_caps_add(&c, NB_CAP_LISTEN, "vsock:*", NULL), 0);
    assert_int_equal(nb_caps_check_listen(&c, NB_AF_INET, NB_SOCK_STREAM, 8080), 0);
    assert_int_equal(nb_caps_check_listen(&c, NB_AF_INET6, NB_SOCK_STREAM, 8080), 0);
    assert_int_equal(nb_caps_check_listen(&c, NB_AF_INET, NB_SOCK_STREAM, 8081), NB_EACCES);
    assert_int_equal(nb_caps_check_listen(&c, NB_AF_INET, NB_SOCK_DGRAM, 8080), NB_EACCES);
    assert_int_equal(nb_caps_check_listen(&c, NB_AF_INET, NB_SOCK_DGRAM, 5010), 0);
    assert_int_equal(nb_caps_check_listen(&c, NB_AF_INET, NB_SOCK_DGRAM, 5011), NB_EACCES);
    assert_int_equal(nb_caps_check_listen(&c, NB_AF_VSOCK, NB_SOCK_STREAM, 123456), 0);
}

static void test_connect_rules(void **state)
{
    (void)state;
    struct nb_caps c;
    nb_caps_init(&c);
    assert_int_equal(nb_caps_add(&c, NB_CAP_CONNECT, "tcp:10.0.2.2:80", NULL), 0);
    assert_int_equal(nb_caps_add(&c, NB_CAP_CONNECT, "tcp:192.168.0.0/16:*", NULL), 0);
    assert_int_equal(nb_caps_add(&c, NB_CAP_CONNECT, "udp:*:53", NULL), 0);
    assert_int_equal(nb_caps_add(&c, NB_CAP_CONNECT, "tcp:[fd00::/8]:443", NULL), 0);
    assert_int_equal(nb_caps_add(&c, NB_CAP_CONNECT, "vsock:2:9000-9001", NULL), 0);
    struct nb_addr a = ip4("10.0.2.2:80");
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), 0);
    a = ip4("10.0.2.2:81");
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), NB_EACCES);
    a = ip4("10.0.2.3:80");
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), NB_EACCES);
    a = ip4("192.168.77.1:22");
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), 0);
    a = ip4("192.169.0.1:22");
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), NB_EACCES);
    a = ip4("8.8.8.8:53");
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_DGRAM, &a), 0);
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), NB_EACCES);
    a = ip4("[fd12::1]:443");
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), 0);
    a = ip4("[fe80::1]:443");
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), NB_EACCES);
    a = nb_addr_vsock(2, 9001);
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), 0);
    a = nb_addr_vsock(3, 9001);
    assert_int_equal(nb_caps_check_connect(&c, NB_SOCK_STREAM, &a), NB_EACCES);

    struct nb_caps any;
    nb_caps_init(&any);
    assert_int_equal(nb_caps_add(&any, NB_CAP_CONNECT, "any", NULL), 0);
    assert_int_equal(nb_caps_check_connect(&any, NB_SOCK_STREAM, &a), 0);
}

static void test_malformed_rules_rejected(void **state)
{
    (void)state;
    static const char *bad_listen[] = {"", "tcp", "tcp:", "http:80", "tcp:70000",
                                       "tcp:9-1", "tcp:-1", "tcp:8a", "tcp:1-"};
    static const char *bad_connect[] = {"tcp:80", "tcp:1.2.3:80", "tcp:1.2.3.4/33:80",
                                        "tcp:[::1:80", "tcp:2:80", "vsock:1.2.3.4:5",
                                        "tcp:[::1]/200:1", "tcp:1.2.3.4:", "udp:*:99999"};
    struct nb_caps c;
    nb_caps_init(&c);
    const char *why;
    for (size_t i = 0; i < sizeof bad_listen / sizeof *bad_listen; i++) {
        assert_int_equal(nb_caps_add(&c, NB_CAP_LISTEN, bad_listen[i], &why), NB_EINVAL);
        assert_non_null(why);
    }
    for (size_t i = 0; i < sizeof bad_connect / sizeof *bad_connect; i++)
        assert_int_equal(nb_caps_add(&c, NB_CAP_CONNECT, bad_connect[i], &why), NB_EINVAL);
    assert_int_equal(c.n, 0);
    for (int i = 0; i < NB_CAPS_MAX_RULES; i++)
        assert_int_equal(nb_caps_add(&c, NB_CAP_LISTEN, "tcp:1", NULL), 0);
    assert_int_equal(nb_caps_add(&c, NB_CAP_LISTEN, "tcp:1", NULL), NB_ENOSPC);
}

static void test_handles(void **state)
{
    (void)state;
    struct nb_handles t, other;
    nb_handles_init(&t, 100);
    nb_handles_init(&other, 100);
    int x, y;
    int32_t hx = nb_handles_add(&t, NB_H_SOCKET, &x);
    int32_t hy = nb_handles_add(&t, NB_H_SOCKET, &y);
    assert_true(hx > 0 && hy > 0 && hx != hy);
    assert_ptr_equal(nb_handles_get(&t, hx, NB_H_SOCKET), &x);
    assert_null(nb_handles_get(&t, hx, NB_H_QUERY)); /* wrong kind */
    /* forged small numbers, negative numbers, huge numbers */
    for (int32_t h = -5; h < 70000; h++)
        if (h != hx && h != hy)
            assert_null(nb_handles_get(&t, h, 0));
    assert_null(nb_handles_get(&t, INT32_MAX, 0));
    /* another instance's handles are refused, and ours are refused there */
    int32_t ho = nb_handles_add(&other, NB_H_SOCKET, &y);
    assert_true(ho > 0);
    assert_ptr_equal(nb_handles_get(&other, ho, NB_H_SOCKET), &y);
    assert_null(nb_handles_get(&other, hx, 0));
    assert_null(nb_handles_get(&t, ho, 0));
    assert_null(nb_handles_remove(&t, ho, NB_H_SOCKET));
    assert_ptr_equal(nb_handles_get(&other, ho, NB_H_SOCKET), &y);
    /* a closed handle is dead even when its slot is reused */
    assert_ptr_equal(nb_handles_remove(&t, hx, NB_H_SOCKET), &x);
    assert_null(nb_handles_get(&t, hx, NB_H_SOCKET));
    assert_null(nb_handles_remove(&t, hx, NB_H_SOCKET));
    for (int i = 0; i < 50; i++) {
        int32_t h = nb_handles_add(&t, NB_H_SOCKET, &x);
        assert_true(h != hx);
        nb_handles_remove(&t, h, NB_H_SOCKET);
    }
    /* bounded */
    int n = 0;
    while (nb_handles_add(&t, NB_H_SOCKET, &x) > 0)
        n++;
    assert_int_equal(n, 99);
    assert_int_equal(nb_handles_add(&t, NB_H_SOCKET, &x), NB_EMFILE);
    nb_handles_fini(&t);
    nb_handles_fini(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_rules),
        cmocka_unit_test(test_connect_rules),
        cmocka_unit_test(test_malformed_rules_rejected),
        cmocka_unit_test(test_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
