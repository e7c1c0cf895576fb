/*
 * libFuzzer target for everything that reads a bundle before trusting it
 * (include/neoboot/bundle.h, appcfg.h): the header checks, the parser, the
 * digest verification, and the configuration text parser with its
 * printers. The input is used three ways: as a bundle (so lengths, offsets
 * and padding are attacker-chosen), as configuration text on its own (so
 * the line parser sees arbitrary bytes, not only what a valid header
 * frames), and as a net= value. ASan/UBSan catch out-of-bounds reads and
 * arithmetic errors; the checks below catch results that disagree with
 * the input's bounds.
 */
#include <neoboot/appcfg.h>
#include <neoboot/bundle.h>
#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void sink(void *arg, const char *line)
{
    (void)arg;
    (void)line;
}

static void config(const char *text, size_t len)
{
    static struct nb_appcfg cfg;
    char why[160];
    if (nb_appcfg_parse(&cfg, text, len, why, sizeof why) == 0) {
        if (cfg.argc < 1 || cfg.argc > NB_APPCFG_MAX_ARGS + 1 || cfg.argv[cfg.argc] ||
            cfg.envp[cfg.nenv])
            abort();
        nb_appcfg_print(&cfg, sink, NULL);
    } else if (!memchr(why, 0, sizeof why)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        nb_log_configure("off");
        quiet = 1;
    }
    /* As a bundle: a copy of exactly size bytes, so ASan sees any overread. */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    size_t total;
    if (nb_bundle_header(copy, size, &total, NULL) == 0 && total > NB_BUNDLE_TOTAL_MAX)
        abort();
    struct nb_bundle b;
    const char *why;
    if (nb_bundle_parse(copy, size, &b, &why) == 0) {
        if (b.total > size || b.config + b.config_len > copy + size ||
            b.app + b.app_len != copy + b.total)
            abort();
        nb_bundle_verify(&b, &why);
        config((const char *)b.config, b.config_len);
    }
    free(copy);

    /* As configuration text. */
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    config(text, size);
    free(text);

    /* As a net= value (a C string). */
    char net[256];
    size_t n = size < sizeof net - 1 ? size : sizeof net - 1;
    memcpy(net, data, n);
    net[n] = 0;
    struct nb_netcfg nc;
    if (nb_netcfg_parse(&nc, net, &why) == 0) {
        char out[160];
        nb_netcfg_format(&nc, out, sizeof out);
    }

    /* Writing round-trips: a bundle made of this input verifies. */
    if (size <= 4096) {
        size_t cl = size / 2;
        size_t blen = nb_bundle_size(cl, size - cl);
        uint8_t *w = malloc(blen);
        if (nb_bundle_write(w, blen, data, cl, data + cl, size - cl) != 0 ||
            nb_bundle_parse(w, blen, &b, &why) != 0 || nb_bundle_verify(&b, &why) != 0)
            abort();
        free(w);
    }
    return 0;
}
