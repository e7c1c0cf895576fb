/*
 * Shell commands of a network bootloader: fetch into memory (`wget`),
 * check (`sha256`), look (`files`, `rm`), boot a Linux kernel (`boot`),
 * and leave (`reboot`, `poweroff`). Everything fetched lives in the
 * in-memory file table until booted or removed.
 */
#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/http.h>
#include <neoboot/memfile.h>
#include <neoboot/platform.h>
#include <neoboot/sha256.h>
#include <neoboot/shell.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WGET_MAX (1024ull << 20)  /* one file in memory at most */
#define PROGRESS_NS (200 * NB_NS_PER_MS)

static void human(uint64_t bytes, char *out, size_t len)
{
    if (bytes >= (1ull << 30))
        snprintf(out, len, "%llu.%02llu GiB", (unsigned long long)(bytes >> 30),
                 (unsigned long long)((bytes & ((1ull << 30) - 1)) * 100 >> 30));
    else if (bytes >= (1ull << 20))
        snprintf(out, len, "%llu.%01llu MiB", (unsigned long long)(bytes >> 20),
                 (unsigned long long)((bytes & ((1ull << 20) - 1)) * 10 >> 20));
    else if (bytes >= 1024)
        snprintf(out, len, "%llu KiB", (unsigned long long)(bytes >> 10));
    else
        snprintf(out, len, "%llu B", (unsigned long long)bytes);
}

struct fetch {
    uint8_t *data;
    size_t len, cap;
    uint64_t started, last_draw;
    struct nb_sha256 sha;
};

static int fetch_sink(void *arg, const uint8_t *p, size_t n)
{
    struct fetch *f = arg;
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 1 << 20;
        while (cap < f->len + n)
            cap *= 2;
        uint8_t *d = realloc(f->data, cap);
        if (!d)
            return NB_ENOMEM;
        f->data = d;
        f->cap = cap;
    }
    memcpy(f->data + f->len, p, n);
    f->len += n;
    nb_sha256_update(&f->sha, p, n);
    return 0;
}

static void fetch_progress(void *arg, uint64_t got, uint64_t total)
{
    struct fetch *f = arg;
    uint64_t now = nb_clock_ns();
    if (now - f->last_draw < PROGRESS_NS && got != total)
        return;
    f->last_draw = now;
    uint64_t el = now - f->started;
    uint64_t rate = el ? got * NB_NS_PER_S / el : 0;
    char g[24], r[24], line[120];
    human(got, g, sizeof g);
    human(rate, r, sizeof r);
    if (total) {
        unsigned pct = (unsigned)(got * 100 / total), fill = pct / 4;
        char bar[27];
        for (unsigned i = 0; i < 25; i++)
            bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[25] = 0;
        snprintf(line, sizeof line, "%3u%% [%s] %s %s/s", pct, bar, g, r);
    } else {
        snprintf(line, sizeof line, "%s %s/s", g, r);
    }
    nb_console_status(line);
}

/* Fetch url into memory; 0 and *out (malloc'd) or NB_E* after saying why. */
static int fetch_url(const char *url, struct fetch *f, nb_print_fn print, void *arg)
{
    memset(f, 0, sizeof *f);
    nb_sha256_init(&f->sha);
    f->started = f->last_draw = nb_clock_ns();
    struct nb_http_get o = {.sink = fetch_sink, .progress = fetch_progress, .arg = f,
                            .max_size = WGET_MAX};
    char why[200] = "";
    int rc = nb_http_get_url(nb_stack_default(), url, &o, why, sizeof why);
    nb_console_status_done();
    if (rc < 0) {
        nb_printf(print, arg, "wget: %s", why[0] ? why : nb_strerror(rc));
        free(f->data);
        f->data = NULL;
    }
    return rc < 0 ? rc : 0;
}

static const char *basename_of(const char *url)
{
    const char *slash = strrchr(url, '/');
    const char *b = slash && slash[1] ? slash + 1 : "download";
    return b;
}

static int cmd_wget(int argc, char **argv, nb_print_fn print, void *arg)
{
    if (argc < 2 || argc > 3) {
        print(arg, "usage: wget URL [NAME]");
        return NB_EINVAL;
    }
    char name[NB_MEMFILE_NAME];
    snprintf(name, sizeof name, "%s", argc == 3 ? argv[2] : basename_of(argv[1]));
    char *q = strchr(name, '?');
    if (q)
        *q = 0;
    struct fetch f;
    int rc = fetch_url(argv[1], &f, print, arg);
    if (rc)
        return rc;
    uint8_t d[32];
    nb_sha256_final(&f.sha, d);
    char hex[65], size[24], rate[24];
    nb_sha256_hex(d, hex);
    uint64_t el = nb_clock_ns() - f.started;
    human(f.len, size, sizeof size);
    human(el ? (uint64_t)f.len * NB_NS_PER_S / el : 0, rate, sizeof rate);
    size_t len = f.len;
    rc = nb_memfile_put(name, f.data, len);
    if (rc) {
        nb_printf(print, arg, "wget: cannot keep '%s': %s", name, nb_strerror(rc));
        return rc;
    }
    nb_printf(print, arg, "%s: %zu bytes (%s) in %llu.%03llu s, %s/s", name, len, size,
        (unsigned long long)(el / NB_NS_PER_S),
        (unsigned long long)(el % NB_NS_PER_S / NB_NS_PER_MS), rate);
    nb_printf(print, arg, "sha256 %s", hex);
    return 0;
}

static int cmd_sha256(int argc, char **argv, nb_print_fn print, void *arg)
{
    if (argc != 2 && argc != 3) {
        print(arg, "usage: sha256 NAME [EXPECTED]");
        return NB_EINVAL;
    }
    const struct nb_memfile *m = nb_memfile_get(argv[1]);
    if (!m) {
        nb_printf(print, arg, "sha256: no file '%s' in memory (see 'files'; fetch with wget)", argv[1]);
        return NB_ENOENT;
    }
    uint8_t d[32];
    char hex[65];
    nb_sha256(m->data, m->len, d);
    nb_sha256_hex(d, hex);
    nb_printf(print, arg, "%s  %s", hex, m->name);
    if (argc == 3) {
        uint8_t want[32];
        if (nb_sha256_parse(argv[2], want) != 0) {
            print(arg, "sha256: EXPECTED must be 64 hex digits");
            return NB_EINVAL;
        }
        if (memcmp(want, d, 32) != 0) {
            print(arg, "sha256: MISMATCH");
            return NB_EBADMSG;
        }
        print(arg, "sha256: OK");
    }
    return 0;
}

static int cmd_files(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc;
    (void)argv;
    unsigned n = 0;
    uint64_t total = 0;
    const struct nb_memfile *m;
    while ((m = nb_memfile_at(n))) {
        char size[24];
        human(m->len, size, sizeof size);
        nb_printf(print, arg, "  %-32s %12zu  %s", m->name, m->len, size);
        total += m->len;
        n++;
    }
    char t[24];
    human(total, t, sizeof t);
    nb_printf(print, arg, "%u file%s, %s in memory", n, n == 1 ? "" : "s", t);
    return 0;
}

static int cmd_rm(int argc, char **argv, nb_print_fn print, void *arg)
{
    if (argc != 2) {
        print(arg, "usage: rm NAME");
        return NB_EINVAL;
    }
    int rc = nb_memfile_remove(argv[1]);
    if (rc)
        nb_printf(print, arg, "rm: no file '%s'", argv[1]);
    return rc;
}

/* A memory file, or a URL fetched now (kept as NAME for a later look). */
static const struct nb_memfile *file_or_url(const char *what, nb_print_fn print, void *arg)
{
    if (strncmp(what, "http://", 7) != 0 && strncmp(what, "https://", 8) != 0) {
        const struct nb_memfile *m = nb_memfile_get(what);
        if (!m)
            nb_printf(print, arg, "boot: no file '%s' in memory (a URL is fetched first)", what);
        return m;
    }
    struct fetch f;
    if (fetch_url(what, &f, print, arg) != 0)
        return NULL;
    const char *name = basename_of(what);
    if (nb_memfile_put(name, f.data, f.len) != 0)
        return NULL;
    return nb_memfile_get(name);
}

static int stage_item(enum nb_boot_item item, const struct nb_memfile *m, const char *digest,
                      nb_print_fn print, void *arg)
{
    uint8_t d[32];
    if (digest) {
        if (nb_sha256_parse(digest, d) != 0) {
            print(arg, "boot: a digest must be 64 hex digits");
            return NB_EINVAL;
        }
    } else {
        nb_sha256(m->data, m->len, d); /* the user vouches for what is in memory */
    }
    int rc = nb_boot_stage(item, m->data, m->len, d);
    if (rc)
        nb_printf(print, arg, "%s", nb_boot_last_error());
    return rc;
}

static int cmd_boot(int argc, char **argv, nb_print_fn print, void *arg)
{
    const char *initrd = NULL, *kdigest = NULL, *idigest = NULL, *kernel = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
            initrd = argv[++i];
        else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc)
            kdigest = argv[++i];
        else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            idigest = argv[++i];
        else if (argv[i][0] == '-')
            break;
        else {
            kernel = argv[i++];
            break;
        }
    }
    if (!kernel) {
        print(arg, "usage: boot [-k SHA256] [-i INITRD [-d SHA256]] KERNEL [CMDLINE...]");
        return NB_EINVAL;
    }
    char cmdline[NB_BOOT_CMDLINE_MAX] = "";
    for (; i < argc; i++) {
        if (strlen(cmdline) + strlen(argv[i]) + 2 >= sizeof cmdline) {
            print(arg, "boot: command line too long");
            return NB_E2BIG;
        }
        if (cmdline[0])
            strcat(cmdline, " ");
        strcat(cmdline, argv[i]);
    }
    nb_boot_reset();
    const struct nb_memfile *k = file_or_url(kernel, print, arg);
    if (!k)
        return NB_ENOENT;
    int rc = stage_item(NB_BOOT_KERNEL, k, kdigest, print, arg);
    if (rc == 0 && initrd) {
        const struct nb_memfile *ird = file_or_url(initrd, print, arg);
        rc = ird ? stage_item(NB_BOOT_INITRD, ird, idigest, print, arg) : NB_ENOENT;
    }
    if (rc == 0)
        rc = nb_boot_set_cmdline(cmdline, strlen(cmdline));
    if (rc == 0)
        rc = nb_boot_exec(); /* returns only on failure */
    if (rc && nb_boot_last_error()[0])
        nb_printf(print, arg, "%s", nb_boot_last_error());
    nb_boot_reset();
    return rc;
}

static int cmd_reboot(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc;
    (void)argv;
    nb_platform_reboot();
    print(arg, "reboot: this platform cannot reboot");
    return NB_ENOSYS;
}

static int cmd_poweroff(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc;
    (void)argv;
    nb_platform_poweroff();
    print(arg, "poweroff: this platform cannot power off");
    return NB_ENOSYS;
}

static struct nb_shell_cmd boot_cmds[] = {
    {"wget", "wget URL [NAME]", "fetch a URL into memory (progress, rate, sha256)", cmd_wget, NULL},
    {"sha256", "sha256 NAME [EXPECTED]", "digest of a file in memory, or check it", cmd_sha256, NULL},
    {"files", "files", "list the files in memory", cmd_files, NULL},
    {"rm", "rm NAME", "drop a file from memory", cmd_rm, NULL},
    {"boot", "boot [-k SHA] [-i INITRD [-d SHA]] KERNEL [CMDLINE...]",
     "boot a Linux kernel (files in memory or URLs)", cmd_boot, NULL},
    {"reboot", "reboot", "restart the machine", cmd_reboot, NULL},
    {"poweroff", "poweroff", "power the machine off", cmd_poweroff, NULL},
};

void nb_shell_register_boot(void);
void nb_shell_register_boot(void)
{
    for (size_t i = 0; i < sizeof boot_cmds / sizeof boot_cmds[0]; i++)
        nb_shell_register(&boot_cmds[i]);
}
