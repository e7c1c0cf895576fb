/*
 * App bundles (include/neoboot/bundle.h, docs/image.md): checking, parsing,
 * verifying and writing the header + config + app blob that images and
 * boot modules carry.
 *
 * Everything read here comes from outside (an image file someone built, a
 * module a loader placed in memory), so every length is checked against
 * its limit and against the bytes really available before any pointer is
 * formed, with 64-bit arithmetic so nothing wraps. The fuzz target
 * tests/fuzz/fuzz_bundle.c feeds this file arbitrary bytes.
 */
#include <neoboot/bundle.h>
#include <neoboot/err.h>
#include <neoboot/util.h>

#include <string.h>

#define OFF_VERSION 8
#define OFF_HSIZE 12
#define OFF_CONFIG_LEN 16
#define OFF_APP_OFFSET 20
#define OFF_APP_LEN 24
#define OFF_APP_SHA 32
#define OFF_SHA 64
#define OFF_RESERVED 96
#define COVERED 64 /* header bytes the bundle digest covers */

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

size_t nb_bundle_size(size_t config_len, size_t app_len)
{
    return (size_t)align_up(NB_BUNDLE_HEADER_SIZE + (uint64_t)config_len, NB_BUNDLE_ALIGN) +
           app_len;
}

static int fail(const char **why, const char *text, int err)
{
    if (why)
        *why = text;
    return err;
}

int nb_bundle_header(const void *buf, size_t len, size_t *total, const char **why)
{
    const uint8_t *h = buf;
    if (why)
        *why = NULL;
    if (!buf || len < 8 || memcmp(h, NB_BUNDLE_MAGIC, 8) != 0)
        return fail(why, "no bundle magic", NB_ENOENT);
    if (len < NB_BUNDLE_HEADER_SIZE)
        return fail(why, "header truncated", NB_EINVAL);
    if (nb_le32(h + OFF_VERSION) != NB_BUNDLE_VERSION)
        return fail(why, "unsupported bundle version", NB_ENOTSUP);
    if (nb_le32(h + OFF_HSIZE) != NB_BUNDLE_HEADER_SIZE)
        return fail(why, "bad header size", NB_EINVAL);
    uint64_t config_len = nb_le32(h + OFF_CONFIG_LEN);
    uint64_t app_off = nb_le32(h + OFF_APP_OFFSET);
    uint64_t app_len = nb_le64(h + OFF_APP_LEN);
    if (config_len > NB_BUNDLE_CONFIG_MAX)
        return fail(why, "configuration larger than 16 KiB", NB_EINVAL);
    if (app_len > NB_BUNDLE_APP_MAX)
        return fail(why, "app larger than 256 MiB", NB_EINVAL);
    if (app_off != align_up(NB_BUNDLE_HEADER_SIZE + config_len, NB_BUNDLE_ALIGN))
        return fail(why, "app offset does not follow the configuration", NB_EINVAL);
    for (unsigned i = OFF_RESERVED; i < NB_BUNDLE_HEADER_SIZE; i++)
        if (h[i])
            return fail(why, "reserved header bytes are not zero", NB_EINVAL);
    if (total)
        *total = (size_t)(app_off + app_len);
    return 0;
}

int nb_bundle_parse(const void *buf, size_t len, struct nb_bundle *out, const char **why)
{
    memset(out, 0, sizeof *out);
    size_t total;
    int rc = nb_bundle_header(buf, len, &total, why);
    if (rc)
        return rc;
    if (total > len)
        return fail(why, "bundle truncated (shorter than its header says)", NB_EINVAL);
    const uint8_t *h = buf;
    size_t config_len = nb_le32(h + OFF_CONFIG_LEN);
    size_t app_off = nb_le32(h + OFF_APP_OFFSET);
    for (size_t i = NB_BUNDLE_HEADER_SIZE + config_len; i < app_off; i++)
        if (h[i])
            return fail(why, "padding after the configuration is not zero", NB_EINVAL);
    out->config = h + NB_BUNDLE_HEADER_SIZE;
    out->config_len = config_len;
    out->app = h + app_off;
    out->app_len = total - app_off;
    out->total = total;
    memcpy(out->app_sha256, h + OFF_APP_SHA, NB_SHA256_LEN);
    memcpy(out->sha256, h + OFF_SHA, NB_SHA256_LEN);
    return 0;
}

static void bundle_digest(const uint8_t *hdr, const uint8_t *config, size_t config_len,
                          uint8_t out[NB_SHA256_LEN])
{
    struct nb_sha256 c;
    nb_sha256_init(&c);
    nb_sha256_update(&c, hdr, COVERED);
    nb_sha256_update(&c, config, config_len);
    nb_sha256_final(&c, out);
}

int nb_bundle_verify(const struct nb_bundle *b, const char **why)
{
    uint8_t d[NB_SHA256_LEN];
    /* the header is the NB_BUNDLE_HEADER_SIZE bytes before the config */
    const uint8_t *hdr = b->config - NB_BUNDLE_HEADER_SIZE;
    bundle_digest(hdr, b->config, b->config_len, d);
    if (memcmp(d, b->sha256, sizeof d) != 0)
        return fail(why, "header or configuration digest mismatch", NB_EBADMSG);
    nb_sha256(b->app, b->app_len, d);
    if (memcmp(d, b->app_sha256, sizeof d) != 0)
        return fail(why, "app digest mismatch", NB_EBADMSG);
    if (why)
        *why = NULL;
    return 0;
}

int nb_bundle_write(void *out, size_t out_len, const void *config, size_t config_len,
                    const void *app, size_t app_len)
{
    if (config_len > NB_BUNDLE_CONFIG_MAX || app_len > NB_BUNDLE_APP_MAX)
        return NB_E2BIG;
    size_t total = nb_bundle_size(config_len, app_len);
    if (out_len < total)
        return NB_ENOSPC;
    uint8_t *h = out;
    size_t app_off = total - app_len;
    memset(h, 0, app_off);
    memcpy(h, NB_BUNDLE_MAGIC, 8);
    nb_put_le32(h + OFF_VERSION, NB_BUNDLE_VERSION);
    nb_put_le32(h + OFF_HSIZE, NB_BUNDLE_HEADER_SIZE);
    nb_put_le32(h + OFF_CONFIG_LEN, (uint32_t)config_len);
    nb_put_le32(h + OFF_APP_OFFSET, (uint32_t)app_off);
    nb_put_le64(h + OFF_APP_LEN, app_len);
    if (config_len)
        memcpy(h + NB_BUNDLE_HEADER_SIZE, config, config_len);
    if (app_len)
        memcpy(h + app_off, app, app_len);
    nb_sha256(h + app_off, app_len, h + OFF_APP_SHA);
    bundle_digest(h, h + NB_BUNDLE_HEADER_SIZE, config_len, h + OFF_SHA);
    return 0;
}

bool nb_bundle_is_wasm(const void *buf, size_t len)
{
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    return buf && len >= 8 && memcmp(buf, magic, 8) == 0;
}
