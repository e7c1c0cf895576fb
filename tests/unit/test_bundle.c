/*
 * Bundles and app configuration (src/boot/bundle.c, appcfg.c): round
 * trips, every way a bundle can be damaged, the empty placeholder, every
 * configuration key, and the parser's limits and error messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <neoboot/appcfg.h>
#include <neoboot/bundle.h>
#include <neoboot/err.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cfg_text[] = "name=fetch\narg=http://10.0.2.2:8000/f\nnet=dhcp\n";
static const uint8_t app[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 2, 3, 4, 5};

static uint8_t *make(size_t *len)
{
    *len = nb_bundle_size(strlen(cfg_text), sizeof app);
    uint8_t *b = malloc(*len);
    assert_int_equal(nb_bundle_write(b, *len, cfg_text, strlen(cfg_text), app, sizeof app), 0);
    return b;
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = make(&len);
    assert_int_equal(len, 128 + 48 + sizeof app); /* 128 + 47 rounded up to 16 */
    struct nb_bundle bd;
    const char *why;
    assert_int_equal(nb_bundle_parse(b, len, &bd, &why), 0);
    assert_int_equal(bd.config_len, strlen(cfg_text));
    assert_memory_equal(bd.config, cfg_text, bd.config_len);
    assert_int_equal(bd.app_len, sizeof app);
    assert_memory_equal(bd.app, app, sizeof app);
    assert_int_equal(nb_bundle_verify(&bd, &why), 0);
    /* the app digest is the plain SHA-256 of the app */
    uint8_t d[32];
    nb_sha256(app, sizeof app, d);
    assert_memory_equal(bd.app_sha256, d, 32);
    /* trailing bytes are ignored (an image segment may be padded) */
    uint8_t *longer = calloc(1, len + 100);
    memcpy(longer, b, len);
    assert_int_equal(nb_bundle_parse(longer, len + 100, &bd, &why), 0);
    assert_int_equal(bd.total, len);
    free(longer);
    free(b);
    assert_true(nb_bundle_is_wasm(app, sizeof app));
    assert_false(nb_bundle_is_wasm(app, 4));
}

static void test_damage(void **state)
{
    (void)state;
    size_t len;
    struct nb_bundle bd;
    const char *why;
    free(make(&len));
    /* every single byte flipped is caught by the parser or the digests */
    for (size_t i = 0; i < len; i++) {
        uint8_t *b = make(&len);
        b[i] ^= 0x20;
        int rc = nb_bundle_parse(b, len, &bd, &why);
        if (rc == 0)
            rc = nb_bundle_verify(&bd, &why);
        assert_int_not_equal(rc, 0);
        assert_non_null(why);
        free(b);
    }
    uint8_t *b = make(&len);
    /* a changed app byte: the app digest */
    b[len - 1] ^= 1;
    assert_int_equal(nb_bundle_parse(b, len, &bd, &why), 0);
    assert_int_equal(nb_bundle_verify(&bd, &why), NB_EBADMSG);
    assert_non_null(strstr(why, "app digest"));
    b[len - 1] ^= 1;
    /* a changed configuration byte: the bundle digest */
    b[130] ^= 1;
    assert_int_equal(nb_bundle_parse(b, len, &bd, &why), 0);
    assert_int_equal(nb_bundle_verify(&bd, &why), NB_EBADMSG);
    assert_non_null(strstr(why, "configuration"));
    b[130] ^= 1;
    /* truncated, too short for the header, no magic, other version */
    assert_int_equal(nb_bundle_parse(b, len - 1, &bd, &why), NB_EINVAL);
    assert_int_equal(nb_bundle_parse(b, 100, &bd, &why), NB_EINVAL);
    assert_int_equal(nb_bundle_parse(app, sizeof app, &bd, &why), NB_ENOENT);
    b[8] = 2;
    assert_int_equal(nb_bundle_parse(b, len, &bd, &why), NB_ENOTSUP);
    b[8] = 1;
    /* lengths over the limits, whatever the buffer says */
    b[16] = 0xff, b[17] = 0xff, b[18] = 0xff, b[19] = 0x7f;
    assert_int_equal(nb_bundle_parse(b, len, &bd, &why), NB_EINVAL);
    free(b);
    b = make(&len);
    for (int i = 24; i < 32; i++)
        b[i] = 0xff;
    size_t total;
    assert_int_equal(nb_bundle_header(b, len, &total, &why), NB_EINVAL);
    free(b);
    /* nonzero padding between configuration and app */
    b = make(&len);
    b[128 + strlen(cfg_text)] = 1;
    assert_int_equal(nb_bundle_parse(b, len, &bd, &why), NB_EINVAL);
    free(b);
    /* writing over the limits or into too little space */
    uint8_t small[64];
    assert_int_equal(nb_bundle_write(small, sizeof small, "", 0, app, sizeof app), NB_ENOSPC);
    assert_int_equal(nb_bundle_write(small, sizeof small, "", NB_BUNDLE_CONFIG_MAX + 1, app, 1),
                     NB_E2BIG);
}

static void test_empty(void **state)
{
    (void)state;
    /* the placeholder a freshly linked image carries */
    uint8_t h[128] = {'N', 'B', 'B', 'U', 'N', 'D', 'L', 'E', 1, 0, 0, 0, 128, 0, 0, 0,
                      0, 0, 0, 0, 128, 0, 0, 0};
    size_t total;
    assert_int_equal(nb_bundle_header(h, sizeof h, &total, NULL), 0);
    assert_int_equal(total, 128);
    struct nb_bundle bd;
    assert_int_equal(nb_bundle_parse(h, sizeof h, &bd, NULL), 0);
    assert_int_equal(bd.app_len, 0);
}

static void test_config_keys(void **state)
{
    (void)state;
    static struct nb_appcfg c;
    char why[160];
    const char *t =
        "# a comment\n"
        "  name = fetch  \r\n"
        "\n"
        "arg=http://10.0.2.2:8000/f\n"
        "arg=  two words  \n"
        "env=A=1=2\n"
        "net=static:10.0.2.15/24,gw=10.0.2.2,dns=fd00::1\n"
        "allow-listen=tcp:80\n"
        "allow-connect=tcp:10.0.2.0/24:*\n"
        "allow-boot=yes\n"
        "log=info,inet=debug\n"
        "max-memory=64M\n"
        "fuel=1000\n"
        "timeout=60\n"
        "net-wait=0\n"
        "on-exit=restart";
    assert_int_equal(nb_appcfg_parse(&c, t, strlen(t), why, sizeof why), 0);
    assert_string_equal(c.name, "fetch");
    assert_int_equal(c.argc, 3);
    assert_string_equal(c.argv[0], "fetch");
    assert_string_equal(c.argv[1], "http://10.0.2.2:8000/f");
    assert_string_equal(c.argv[2], "two words");
    assert_null(c.argv[3]);
    assert_int_equal(c.nenv, 1);
    assert_string_equal(c.envp[0], "A=1=2");
    assert_int_equal(c.net.mode, NB_NET_STATIC);
    char net[128];
    nb_netcfg_format(&c.net, net, sizeof net);
    assert_string_equal(net, "static:10.0.2.15/24,gw=10.0.2.2,dns=fd00::1");
    assert_true(c.listen_given);
    assert_int_equal(c.caps.n, 2); /* the default listen rules were replaced */
    assert_int_equal(nb_caps_check_listen(&c.caps, NB_AF_INET, NB_SOCK_STREAM, 80), 0);
    assert_int_equal(nb_caps_check_listen(&c.caps, NB_AF_INET, NB_SOCK_STREAM, 8080),
                     NB_EACCES);
    assert_true(c.caps.boot);
    assert_string_equal(c.log, "info,inet=debug");
    assert_int_equal(c.max_memory, 64u << 20);
    assert_int_equal(c.fuel, 1000);
    assert_int_equal(c.timeout_s, 60);
    assert_int_equal(c.net_wait_s, 0);
    assert_int_equal(c.on_exit, NB_ON_EXIT_RESTART);

    /* defaults */
    assert_int_equal(nb_appcfg_parse(&c, "", 0, why, sizeof why), 0);
    assert_string_equal(c.name, "app");
    assert_int_equal(c.argc, 1);
    assert_int_equal(c.net.mode, NB_NET_DHCP);
    assert_int_equal(c.net_wait_s, 30);
    assert_int_equal(nb_caps_check_listen(&c.caps, NB_AF_INET, NB_SOCK_STREAM, 8080), 0);
    assert_int_equal(nb_caps_check_listen(&c.caps, NB_AF_INET, NB_SOCK_STREAM, 80), NB_EACCES);
}

static void expect_error(const char *text, const char *fragment)
{
    static struct nb_appcfg c;
    char why[160];
    int rc = nb_appcfg_parse(&c, text, strlen(text), why, sizeof why);
    if (rc == 0 || !strstr(why, fragment))
        fail_msg("'%s': rc %d, why '%s', wanted '%s'", text, rc, why, fragment);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_error("name=ok\nalow-listen=tcp:80\n", "line 2: unknown key 'alow-listen'");
    expect_error("just text\n", "line 1: expected key=value");
    expect_error("name=bad name\n", "name must be");
    expect_error("env=NOEQUALS\n", "env needs NAME=VALUE");
    expect_error("net=static:10.0.2.300/24\n", "bad IPv4 address");
    expect_error("net=static:10.0.2.3/33\n", "prefix");
    expect_error("net=static:10.0.2.3,mtu=9000\n", "unknown static");
    expect_error("net=wifi\n", "expected dhcp");
    expect_error("allow-listen=tcp:99999\n", "allow-listen");
    expect_error("log=loud\n", "bad log spec");
    expect_error("max-memory=1K\n", "max-memory");
    expect_error("max-memory=99999999999G\n", "max-memory");
    expect_error("fuel=-1\n", "fuel");
    expect_error("timeout=0\n", "timeout");
    expect_error("net-wait=4000\n", "net-wait");
    expect_error("on-exit=explode\n", "on-exit");
    expect_error("allow-boot=maybe\n", "allow-boot");
    expect_error("arg=a\x01z\n", "control character");
    /* limits: arguments, environment, line length, total */
    char big[NB_APPCFG_TEXT_MAX + 2];
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)sprintf(big + n, "arg=%d\n", i);
    expect_error(big, "more than 64 arguments");
    n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)sprintf(big + n, "env=E%d=1\n", i);
    expect_error(big, "more than 64 env");
    memset(big, 'a', 1100);
    memcpy(big, "arg=", 4);
    big[1100] = 0;
    expect_error(big, "longer than 1024");
    static struct nb_appcfg c;
    char why[160];
    memset(big, '\n', sizeof big);
    assert_int_equal(nb_appcfg_parse(&c, big, sizeof big, why, sizeof why), NB_E2BIG);
    /* a NUL inside the text is a control character, not the end */
    assert_int_equal(nb_appcfg_parse(&c, "name=a\0b\n", 9, why, sizeof why), NB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
