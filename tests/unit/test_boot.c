/*
 * Booting: the bzImage checks (with Debian's own kernel, and with headers
 * broken one field at a time) and staging with required digests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *kernel;
static size_t kernel_len;

static int load_kernel(void **state)
{
    (void)state;
    nb_log_configure("error");
    FILE *f = fopen(NB_TEST_VMLINUZ, "rb");
    if (!f)
        return 0; /* the synthetic tests still run; the real one fails saying why */
    fseek(f, 0, SEEK_END);
    kernel_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    kernel = malloc(kernel_len);
    if (fread(kernel, 1, kernel_len, f) != kernel_len)
        kernel_len = 0;
    fclose(f);
    return 0;
}

static int free_kernel(void **state)
{
    (void)state;
    free(kernel);
    nb_boot_reset();
    return 0;
}

static void test_debian_kernel_parses(void **state)
{
    (void)state;
    if (!kernel_len)
        fail_msg("%s is missing: run scripts/setup.sh (it fetches Debian's kernel)",
                 NB_TEST_VMLINUZ);
    struct nb_bzimage h;
    const char *why = "unset";
    assert_int_equal(nb_bzimage_parse(kernel, kernel_len, &h, &why), 0);
    assert_null(why);
    assert_true(h.version >= 0x020c);
    assert_true(h.relocatable);
    assert_int_equal(h.kernel_alignment, 0x200000);
    assert_true(h.init_size > h.kernel_size);
    assert_int_equal(h.setup_size + h.kernel_size, kernel_len);
    assert_true(h.cmdline_size >= 255);
}

/* A minimal header that passes, to break one field at a time. */
static uint8_t fake[8192];
static void make_fake(void)
{
    memset(fake, 0, sizeof fake);
    fake[0x1f1] = 3;                        /* setup_sects: 4 * 512 = 2048 */
    nb_put_le32(fake + 0x1f4, 4096 / 16);   /* syssize */
    nb_put_le16(fake + 0x1fe, 0xAA55);
    memcpy(fake + 0x202, "HdrS", 4);
    nb_put_le16(fake + 0x206, 0x020f);
    fake[0x211] = 1;                        /* LOADED_HIGH */
    nb_put_le32(fake + 0x22c, 0x7fffffff);
    nb_put_le32(fake + 0x230, 0x200000);
    fake[0x234] = 1;                        /* relocatable */
    nb_put_le16(fake + 0x236, 0x3);         /* 64-bit, above 4G */
    nb_put_le32(fake + 0x238, 2047);
    nb_put_le32(fake + 0x260, 1 << 20);
}

static void expect_reject(size_t len, const char *fragment)
{
    struct nb_bzimage h;
    const char *why = NULL;
    assert_int_equal(nb_bzimage_parse(fake, len, &h, &why), NB_ENOEXEC);
    assert_non_null(why);
    if (!strstr(why, fragment))
        fail_msg("'%s' does not mention '%s'", why, fragment);
}

static void test_bad_headers_rejected_with_reason(void **state)
{
    (void)state;
    struct nb_bzimage h;
    make_fake();
    assert_int_equal(nb_bzimage_parse(fake, 2048 + 4096, &h, NULL), 0);
    expect_reject(100, "too small");
    make_fake(); fake[0x202] = 'X'; expect_reject(6144, "HdrS");
    make_fake(); nb_put_le16(fake + 0x1fe, 0); expect_reject(6144, "boot flag");
    make_fake(); nb_put_le16(fake + 0x206, 0x0208); expect_reject(6144, "older than 2.12");
    make_fake(); fake[0x1f1] = 200; expect_reject(6144, "setup part");
    make_fake(); expect_reject(2048 + 100, "truncated");
    make_fake(); nb_put_le32(fake + 0x1f4, 0); expect_reject(6144, "truncated");
    make_fake(); fake[0x211] = 0; expect_reject(6144, "loaded high");
    make_fake(); nb_put_le16(fake + 0x236, 0); expect_reject(6144, "64-bit");
    make_fake(); fake[0x234] = 0; expect_reject(6144, "relocatable");
    make_fake(); nb_put_le32(fake + 0x230, 3000); expect_reject(6144, "alignment");
    make_fake(); nb_put_le32(fake + 0x260, 100); expect_reject(6144, "init_size");
}

static void test_staging_checks_digests(void **state)
{
    (void)state;
    uint8_t d[32];
    const char initrd[] = "pretend initrd";
    nb_sha256(initrd, sizeof initrd, d);
    nb_boot_reset();
    assert_int_equal(nb_boot_exec(), NB_ENOENT);
    assert_non_null(strstr(nb_boot_last_error(), "no kernel"));

    make_fake();
    uint8_t kd[32];
    nb_sha256(fake, 6144, kd);
    /* streamed in pieces, one byte too many refused */
    assert_int_equal(nb_boot_begin(NB_BOOT_KERNEL, 6144, kd), 0);
    assert_int_equal(nb_boot_append(NB_BOOT_KERNEL, fake, 1000), 0);
    assert_int_equal(nb_boot_exec(), NB_EAGAIN);
    assert_non_null(strstr(nb_boot_last_error(), "kernel incomplete"));
    assert_int_equal(nb_boot_append(NB_BOOT_KERNEL, fake + 1000, 5144), 0);
    assert_int_equal(nb_boot_append(NB_BOOT_KERNEL, fake, 1), NB_EFBIG);

    /* a wrong initrd digest is named as such */
    uint8_t wrong[32];
    memcpy(wrong, d, 32);
    wrong[0] ^= 1;
    assert_int_equal(nb_boot_stage(NB_BOOT_INITRD, initrd, sizeof initrd, wrong), 0);
    assert_int_equal(nb_boot_exec(), NB_EBADMSG);
    assert_non_null(strstr(nb_boot_last_error(), "initrd sha256 mismatch"));

    /* right digests: the hosted platform explains it cannot boot */
    assert_int_equal(nb_boot_stage(NB_BOOT_INITRD, initrd, sizeof initrd, d), 0);
    assert_int_equal(nb_boot_set_cmdline("console=ttyS0 quiet", 19), 0);
    assert_int_equal(nb_boot_exec(), NB_ENOSYS);
    assert_non_null(strstr(nb_boot_last_error(), "--boot-out"));

    /* limits and bad input */
    assert_int_equal(nb_boot_set_cmdline("a\nb", 3), NB_EINVAL);
    static char longline[5000];
    memset(longline, 'x', sizeof longline);
    assert_int_equal(nb_boot_set_cmdline(longline, sizeof longline), NB_E2BIG);
    assert_int_equal(nb_boot_begin(NB_BOOT_KERNEL, 0, d), NB_EINVAL);
    assert_int_equal(nb_boot_begin(NB_BOOT_KERNEL, (uint64_t)NB_BOOT_KERNEL_MAX + 1, d), NB_EFBIG);
    assert_int_equal(nb_boot_begin(NB_BOOT_INITRD, 100, NULL), NB_EINVAL);
    assert_int_equal(nb_boot_append(NB_BOOT_KERNEL, fake, 1), NB_ENOENT);
    nb_boot_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debian_kernel_parses),
        cmocka_unit_test(test_bad_headers_rejected_with_reason),
        cmocka_unit_test(test_staging_checks_digests),
    };
    return cmocka_run_group_tests(tests, load_kernel, free_kernel);
}
