/* SHA-256: FIPS 180-4 test vectors, split updates, hex round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <neoboot/err.h>
#include <neoboot/sha256.h>

#include <string.h>

static void hex_of(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    nb_sha256(data, len, d);
    nb_sha256_hex(d, out);
}

static void test_vectors(void **state)
{
    (void)state;
    char h[65];
    hex_of("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* one million 'a' fed in awkward pieces */
    struct nb_sha256 c;
    nb_sha256_init(&c);
    static char a[1000];
    memset(a, 'a', sizeof a);
    size_t done = 0, step = 1;
    while (done < 1000000) {
        size_t n = step < 1000000 - done ? step : 1000000 - done;
        n = n > sizeof a ? sizeof a : n;
        nb_sha256_update(&c, a, n);
        done += n;
        step = step * 7 % 997 + 1;
    }
    uint8_t d[32];
    nb_sha256_final(&c, d);
    nb_sha256_hex(d, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_parse(void **state)
{
    (void)state;
    uint8_t d[32], e[32];
    nb_sha256("abc", 3, d);
    char h[65];
    nb_sha256_hex(d, h);
    assert_int_equal(nb_sha256_parse(h, e), 0);
    assert_memory_equal(d, e, 32);
    h[10] = 'g';
    assert_int_equal(nb_sha256_parse(h, e), NB_EINVAL);
    assert_int_equal(nb_sha256_parse("abcd", e), NB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
