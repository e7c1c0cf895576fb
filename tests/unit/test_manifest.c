/* The netboot manifest parser: good manifests, relative URLs, and every
 * kind of malformed or ambiguous input refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "manifest.h"

#include <stdio.h>
#include <string.h>

#define SUM "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define SUM2 "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7"

static struct manifest m;

static void test_good_manifest(void **state)
{
    (void)state;
    const char *t = "{\"kernel\": {\"url\": \"http://10.0.2.2:8000/vmlinuz\", \"sha256\": \"" SUM "\"},\n"
                    " \"initrd\": {\"sha256\": \"" SUM2 "\", \"url\": \"initrd.cpio\", \"size\": 42},\n"
                    " \"cmdline\": \"console=ttyS0 quiet \\u00e9\", \"comment\": [1, {\"x\": null}]}";
    const char *why = "unset";
    assert_int_equal(manifest_parse(t, strlen(t), "http://10.0.2.2:8000/boot/m.json", &m, &why), 0);
    assert_null(why);
    assert_string_equal(m.kernel.url, "http://10.0.2.2:8000/vmlinuz");
    assert_int_equal(m.kernel.sha256[0], 0x2c);
    assert_int_equal(m.kernel.sha256[31], 0x24);
    assert_true(m.initrd.present);
    assert_string_equal(m.initrd.url, "http://10.0.2.2:8000/boot/initrd.cpio");
    assert_string_equal(m.cmdline, "console=ttyS0 quiet \xc3\xa9");
}

static void test_relative_urls(void **state)
{
    (void)state;
    const char *why;
    char t[300];
    snprintf(t, sizeof t, "{\"kernel\":{\"url\":\"/k/vmlinuz\",\"sha256\":\"%s\"}}", SUM);
    assert_int_equal(manifest_parse(t, strlen(t), "http://h:81/a/b/m.json", &m, &why), 0);
    assert_string_equal(m.kernel.url, "http://h:81/k/vmlinuz");
    assert_false(m.initrd.present);
    assert_string_equal(m.cmdline, "");
    snprintf(t, sizeof t, "{\"kernel\":{\"url\":\"vmlinuz\",\"sha256\":\"%s\"}}", SUM);
    assert_int_equal(manifest_parse(t, strlen(t), "http://h", &m, &why), 0);
    assert_string_equal(m.kernel.url, "http://h/vmlinuz");
    /* relative without a base, or another scheme: refused */
    assert_int_equal(manifest_parse(t, strlen(t), NULL, &m, &why), -1);
    snprintf(t, sizeof t, "{\"kernel\":{\"url\":\"https://h/k\",\"sha256\":\"%s\"}}", SUM);
    assert_int_equal(manifest_parse(t, strlen(t), "http://h/", &m, &why), -1);
    assert_non_null(strstr(why, "http://"));
}

static void reject(const char *t, const char *fragment)
{
    const char *why = NULL;
    if (manifest_parse(t, strlen(t), "http://h/m", &m, &why) != -1)
        fail_msg("accepted: %s", t);
    assert_non_null(why);
    if (!strstr(why, fragment))
        fail_msg("'%s' for %s does not mention '%s'", why, t, fragment);
}

static void test_bad_manifests(void **state)
{
    (void)state;
    reject("", "JSON object");
    reject("[]", "JSON object");
    reject("{}", "no kernel");
    reject("{\"kernel\":{\"url\":\"k\"}}", "url and sha256");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"abc\"}}", "64 hex");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"" SUM "x\"}}", "64 hex");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"zz" SUM2 "\"}}", "64 hex");
    reject("{\"kernel\":\"http://h/k\"}", "must be objects");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"" SUM "\"},"
           "\"kernel\":{\"url\":\"k\",\"sha256\":\"" SUM "\"}}", "duplicate key");
    reject("{\"kernel\":{\"url\":\"k\",\"url\":\"j\",\"sha256\":\"" SUM "\"}}", "duplicate key");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"" SUM "\"},\"cmdline\":\"a\",\"cmdline\":\"b\"}",
           "duplicate key");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"" SUM "\"},\"cmdline\":\"a\\nb\"}",
           "control character");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"" SUM "\"},\"cmdline\":7}", "cmdline");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"" SUM "\"}} trailing", "text after");
    reject("{\"kernel\":{\"url\":\"k\",\"sha256\":\"" SUM "\"}", "truncated");
    reject("{\"kernel\":{\"url\":\"k\\q\",\"sha256\":\"" SUM "\"}}", "bad escape");
    reject("{\"kernel\":{\"url\":\"k\\ud800\",\"sha256\":\"" SUM "\"}}", "surrogate");
    reject("{\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]],\"kernel\":{}}", "nested too deeply");
    reject("{\"x\": tru}", "malformed JSON");
    reject("{\"x\": 1 2}", "expected ','");
    static char big[MANIFEST_MAX + 10];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    reject(big, "64 KiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_manifest),
        cmocka_unit_test(test_relative_urls),
        cmocka_unit_test(test_bad_manifests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
