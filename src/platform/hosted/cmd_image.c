/*
 * `neoboot image`: make and inspect bootable pc images with a bundled app.
 *
 *   neoboot image build --app APP.wasm [CONFIG OPTIONS] [--base ELF] -o IMAGE
 *   neoboot image bundle --app APP.wasm [CONFIG OPTIONS] -o BUNDLE
 *   neoboot image inspect FILE
 *   neoboot image iso [IMAGE] [--module FILE] [--cmdline TEXT] [--timeout S] -o ISO
 *
 * A bundle (include/neoboot/bundle.h) is the app plus its configuration
 * text with SHA-256 digests. `build` copies the pc image (neoboot.elf),
 * appends the bundle at a page-aligned file offset and points the image's
 * bundle segment -- its last PT_LOAD, which the linker script reserves at
 * a fixed address above the kernel and which holds an empty bundle header
 * until now -- at it, so any PVH loader (QEMU -kernel) places the bundle
 * where the kernel looks for it. `bundle` writes the bundle alone, to pass
 * as a boot module (QEMU -initrd). `inspect` shows what an image or bundle
 * holds and whether its digests verify. `iso` puts an image on a GRUB
 * rescue disk (grub-mkrescue: BIOS and UEFI, CD or USB stick) that loads
 * it through Multiboot2, for real machines. docs/image.md describes the
 * format.
 *
 * Every ELF field read here is checked against the file's size before use:
 * images are files anyone can hand us.
 */
#define _GNU_SOURCE
#include "commands.h"

#include <neoboot/appcfg.h>
#include <neoboot/bundle.h>
#include <neoboot/err.h>
#include <neoboot/sha256.h>

#include <elf.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMAGE_MAX (64u << 20)   /* a base image larger than this is not ours */
#define PAGE 4096u

static int write_file(const char *cmd, const char *path, const void *a, size_t alen,
                      const void *b, size_t blen, int mode)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= sizeof tmp) {
        fprintf(stderr, "neoboot %s: path too long\n", cmd);
        return -1;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "neoboot %s: cannot create %s: %s\n", cmd, tmp, strerror(errno));
        return -1;
    }
    bool ok = fwrite(a, 1, alen, f) == alen && (!blen || fwrite(b, 1, blen, f) == blen);
    ok = (fclose(f) == 0) && ok;
    if (!ok || chmod(tmp, (mode_t)mode) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "neoboot %s: cannot write %s: %s\n", cmd, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* --- the image's ELF structure --- */

struct elf_view {
    uint8_t *buf;
    size_t len;
    Elf64_Phdr *bundle;   /* the PT_LOAD that holds the bundle */
    Elf64_Shdr *section;  /* the .nbbundle section, if the image still has sections */
};

/* Find the bundle segment. 0, or -1 with *why set. */
static int elf_open(struct elf_view *v, uint8_t *buf, size_t len, const char **why)
{
    memset(v, 0, sizeof *v);
    v->buf = buf;
    v->len = len;
    if (len < sizeof(Elf64_Ehdr) || memcmp(buf, ELFMAG, SELFMAG) != 0) {
        *why = "not an ELF file";
        return -1;
    }
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
        eh->e_machine != EM_X86_64) {
        *why = "not an x86_64 ELF64 image";
        return -1;
    }
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64 ||
        eh->e_phoff > len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff) {
        *why = "bad program header table";
        return -1;
    }
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_filesz < NB_BUNDLE_HEADER_SIZE ||
            ph[i].p_offset > len || ph[i].p_filesz > len - ph[i].p_offset)
            continue;
        if (memcmp(buf + ph[i].p_offset, NB_BUNDLE_MAGIC, 8) != 0)
            continue;
        if (v->bundle) {
            *why = "two segments start with a bundle header";
            return -1;
        }
        v->bundle = &ph[i];
    }
    if (!v->bundle) {
        *why = "no bundle segment (not a NeoBoot pc image, or one built before bundles)";
        return -1;
    }
    if (v->bundle->p_vaddr % PAGE) {
        *why = "the bundle segment is not page-aligned";
        return -1;
    }
    /* the section, so that objcopy and friends keep the appended bytes */
    if (eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shnum && eh->e_shnum < 1024 &&
        eh->e_shoff <= len && (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) <= len - eh->e_shoff &&
        eh->e_shstrndx < eh->e_shnum) {
        Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
        Elf64_Shdr *strs = &sh[eh->e_shstrndx];
        if (strs->sh_offset <= len && strs->sh_size <= len - strs->sh_offset) {
            for (unsigned i = 0; i < eh->e_shnum; i++) {
                if (sh[i].sh_name + sizeof ".nbbundle" > strs->sh_size)
                    continue;
                if (memcmp(buf + strs->sh_offset + sh[i].sh_name, ".nbbundle",
                           sizeof ".nbbundle") == 0)
                    v->section = &sh[i];
            }
        }
    }
    return 0;
}

/* --- configuration from the command line --- */

struct cfg_text {
    char *buf;
    size_t len, cap;
};

static int cfg_add(struct cfg_text *t, const char *key, const char *value)
{
    if (strchr(value, '\n') || strchr(value, '\r')) {
        fprintf(stderr, "neoboot image: %s value must be one line\n", key);
        return -1;
    }
    size_t need = strlen(key) + strlen(value) + 2;
    if (t->len + need + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 1024) + need;
        char *nb = realloc(t->buf, cap);
        if (!nb)
            return -1;
        t->buf = nb;
        t->cap = cap;
    }
    t->len += (size_t)sprintf(t->buf + t->len, "%s=%s\n", key, value);
    return 0;
}

/* Split --args "A B C" on spaces; "double quotes" keep spaces. */
static int cfg_add_args(struct cfg_text *t, const char *s)
{
    char word[NB_APPCFG_LINE_MAX];
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t n = 0;
        bool quoted = *s == '"';
        if (quoted)
            s++;
        while (*s && (quoted ? *s != '"' : (*s != ' ' && *s != '\t'))) {
            if (n + 1 >= sizeof word)
                return -1;
            word[n++] = *s++;
        }
        if (quoted) {
            if (*s != '"')
                return -1;
            s++;
        }
        word[n] = 0;
        if (cfg_add(t, "arg", word) != 0)
            return -1;
    }
    return 0;
}

static void usage(void)
{
    printf("usage: neoboot image build --app APP.wasm [OPTIONS] [--base ELF] -o IMAGE\n"
           "       neoboot image bundle --app APP.wasm [OPTIONS] -o BUNDLE\n"
           "       neoboot image inspect FILE\n"
           "       neoboot image iso [IMAGE] [--module FILE] [--cmdline TEXT] [--timeout S]\n"
           "                         -o ISO\n\n"
           "build: a bootable pc image (QEMU -kernel) with the app and its\n"
           "configuration inside, checked by SHA-256 at boot. bundle: the same\n"
           "app+configuration alone, to boot as a module (QEMU -initrd).\n"
           "inspect: what an image or bundle holds and whether it verifies\n"
           "(exit status 1 if not). Format and keys: docs/image.md.\n"
           "iso: a disk for real machines (BIOS and UEFI; burn it or dd it to a USB\n"
           "stick) whose GRUB boots IMAGE (default: the base image) with the kernel\n"
           "command line TEXT (docs/pc.md), after a menu of S seconds (default 0);\n"
           "--module adds an app (.wasm) or bundle that runs instead of the image's.\n"
           "Needs grub-mkrescue, xorriso and GRUB's pc and efi files\n"
           "(scripts/setup.sh installs them).\n\n"
           "options (each becomes a line of the configuration):\n"
           "  --name NAME            the app's name (argv[0]; default: file name)\n"
           "  --arg ARG              one argument (repeatable)\n"
           "  --args \"A B C\"         arguments split on spaces (\"quotes\" keep them)\n"
           "  --env NAME=VALUE       environment (repeatable)\n"
           "  --net dhcp|none|static:IP/PREFIX[,gw=GW][,dns=DNS]\n"
           "                         network setup at boot (default dhcp)\n"
           "  --allow-listen RULE    e.g. tcp:80 (repeatable; replaces the default\n"
           "                         of ports >= 1024)\n"
           "  --allow-connect RULE   e.g. tcp:10.0.2.2:8000 (repeatable)\n"
           "  --allow-boot           the app may stage and boot a kernel\n"
           "  --log SPEC             log levels at boot, e.g. info,inet=debug\n"
           "  --max-memory BYTES     the app's memory limit (K/M/G suffixes)\n"
           "  --fuel N, --timeout S  stop the app after N units / S seconds\n"
           "  --net-wait S           wait up to S s for an address before starting\n"
           "                         the app (default 30; 0: start at once)\n"
           "  --on-exit shell|poweroff|reboot|restart\n"
           "                         what the machine does when the app ends\n"
           "  --config FILE          configuration lines from a file (first)\n"
           "  --base ELF             the pc image to add to (default: the one\n"
           "                         built beside this program, pc/neoboot.elf)\n");
}

/* The pc image built beside this executable: <dir>/pc/neoboot.elf. */
int nb_default_image(char *buf, size_t len);
int nb_default_image(char *buf, size_t len)
{
    const char *env = getenv("NEOBOOT_IMAGE");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    if ((size_t)snprintf(buf, len, "%s/pc/neoboot.elf", dirname(exe)) >= len)
        return -1;
    return access(buf, R_OK) == 0 ? 0 : -1;
}

static void print_stdout(void *arg, const char *line)
{
    printf("%s%s\n", (const char *)arg, line);
}

static int make(int argc, char **argv, bool image)
{
    const char *cmd = image ? "image build" : "image bundle";
    const char *app_path = NULL, *out = NULL, *base = NULL, *config = NULL, *name = NULL;
    struct cfg_text t = {0};
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            free(t.buf);
            return 0;
        }
        if (strcmp(a, "--allow-boot") == 0) {
            if (cfg_add(&t, "allow-boot", "yes") != 0)
                goto out;
            continue;
        }
        if (!v) {
            nb_cmd_usage_error(cmd, "%s needs a value", a);
            goto out;
        }
        i++;
        if (strcmp(a, "--app") == 0) {
            app_path = v;
        } else if (strcmp(a, "-o") == 0) {
            out = v;
        } else if (strcmp(a, "--base") == 0 && image) {
            base = v;
        } else if (strcmp(a, "--config") == 0) {
            config = v;
        } else if (strcmp(a, "--name") == 0) {
            name = v;
        } else if (strcmp(a, "--args") == 0) {
            if (cfg_add_args(&t, v) != 0) {
                nb_cmd_usage_error(cmd, "--args: unbalanced quote or argument too long");
                goto out;
            }
        } else {
            static const char *const keys[] = {"arg", "env", "net", "allow-listen",
                                               "allow-connect", "log", "max-memory", "fuel",
                                               "timeout", "net-wait", "on-exit"};
            bool found = false;
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, keys[k]) == 0) {
                    if (cfg_add(&t, keys[k], v) != 0)
                        goto out;
                    found = true;
                }
            }
            if (!found) {
                nb_cmd_usage_error(cmd, "unknown option '%s'", a);
                goto out;
            }
        }
    }
    if (!app_path || !out) {
        nb_cmd_usage_error(cmd, "give --app APP.wasm and -o %s", image ? "IMAGE" : "BUNDLE");
        goto out;
    }
    rc = 1;
    /* The configuration text: the default name (the file's), --config's
     * lines, --name, then the other options; for keys given twice the last
     * line wins. */
    struct cfg_text all = {0};
    char defname[NB_APPCFG_NAME_MAX + 1];
    const char *slash = strrchr(app_path, '/');
    snprintf(defname, sizeof defname, "%s", slash ? slash + 1 : app_path);
    char *dot = strrchr(defname, '.');
    if (dot && dot != defname)
        *dot = 0;
    for (char *p = defname; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
            *p = '_';
    if (cfg_add(&all, "name", defname) != 0)
        goto out_all;
    if (config) {
        size_t n;
        uint8_t *c = nb_cmd_read_file(cmd, config, NB_BUNDLE_CONFIG_MAX, &n);
        if (!c)
            goto out_all;
        char *nb = realloc(all.buf, all.len + n + 2);
        if (!nb) {
            free(c);
            goto out_all;
        }
        all.buf = nb;
        memcpy(all.buf + all.len, c, n);
        all.len += n;
        if (n && all.buf[all.len - 1] != '\n')
            all.buf[all.len++] = '\n';
        all.cap = all.len + 2;
        free(c);
    }
    if (name && cfg_add(&all, "name", name) != 0)
        goto out_all;
    if (t.len) {
        if (all.len + t.len + 1 > all.cap) {
            char *nb = realloc(all.buf, all.len + t.len + 1);
            if (!nb)
                goto out_all;
            all.buf = nb;
            all.cap = all.len + t.len + 1;
        }
        memcpy(all.buf + all.len, t.buf, t.len);
        all.len += t.len;
    }
    struct nb_appcfg *cfg = malloc(sizeof *cfg);
    char why[160];
    if (!cfg || nb_appcfg_parse(cfg, all.buf ? all.buf : "", all.len, why, sizeof why) != 0) {
        fprintf(stderr, "neoboot %s: bad configuration: %s\n", cmd, cfg ? why : "out of memory");
        free(cfg);
        rc = 2;
        goto out_all;
    }
    free(cfg);

    size_t app_len;
    uint8_t *app = nb_cmd_read_file(cmd, app_path, NB_BUNDLE_APP_MAX, &app_len);
    if (!app)
        goto out_all;
    if (!nb_bundle_is_wasm(app, app_len)) {
        fprintf(stderr, "neoboot %s: %s is not a WebAssembly module (no \\0asm header)\n",
                cmd, app_path);
        free(app);
        goto out_all;
    }
    size_t blen = nb_bundle_size(all.len, app_len);
    uint8_t *bundle = malloc(blen);
    if (!bundle || nb_bundle_write(bundle, blen, all.buf, all.len, app, app_len) != 0) {
        fprintf(stderr, "neoboot %s: cannot make the bundle\n", cmd);
        free(bundle);
        free(app);
        goto out_all;
    }
    free(app);

    if (!image) {
        if (write_file(cmd, out, bundle, blen, NULL, 0, 0644) == 0)
            rc = 0;
        free(bundle);
        goto out_all;
    }
    char defbase[PATH_MAX];
    if (!base) {
        if (nb_default_image(defbase, sizeof defbase) != 0) {
            fprintf(stderr, "neoboot %s: no pc image beside this program; give --base "
                            "neoboot.elf (make image builds one)\n", cmd);
            free(bundle);
            goto out_all;
        }
        base = defbase;
    }
    size_t ilen;
    uint8_t *img = nb_cmd_read_file(cmd, base, IMAGE_MAX, &ilen);
    struct elf_view v;
    const char *ewhy = NULL;
    if (!img || elf_open(&v, img, ilen, &ewhy) != 0) {
        if (img)
            fprintf(stderr, "neoboot %s: %s: %s\n", cmd, base, ewhy);
        free(img);
        free(bundle);
        goto out_all;
    }
    /* A bundle appended by an earlier build sits at the end: drop it. */
    size_t keep = ilen;
    if (v.bundle->p_offset + v.bundle->p_filesz == ilen && v.bundle->p_offset % PAGE == 0 &&
        v.bundle->p_filesz > NB_BUNDLE_HEADER_SIZE)
        keep = v.bundle->p_offset;
    size_t off = (keep + PAGE - 1) / PAGE * PAGE;
    size_t ph_at = (size_t)((uint8_t *)v.bundle - img);
    size_t sh_at = v.section ? (size_t)((uint8_t *)v.section - img) : 0;
    if (ph_at + sizeof(Elf64_Phdr) > keep) {
        fprintf(stderr, "neoboot %s: %s: program headers inside the old bundle\n", cmd, base);
        free(img);
        free(bundle);
        goto out_all;
    }
    uint8_t *grown = realloc(img, off);
    if (!grown) {
        free(img);
        free(bundle);
        goto out_all;
    }
    img = grown;
    v.bundle = (Elf64_Phdr *)(img + ph_at);
    v.section = sh_at && sh_at + sizeof(Elf64_Shdr) <= keep ? (Elf64_Shdr *)(img + sh_at) : NULL;
    memset(img + keep, 0, off - keep);
    v.bundle->p_offset = off;
    v.bundle->p_filesz = blen;
    v.bundle->p_memsz = blen;
    if (v.section) {
        v.section->sh_offset = off;
        v.section->sh_size = blen;
    }
    if (write_file(cmd, out, img, off, bundle, blen, 0755) == 0) {
        printf("%s: %s with %s (%zu bytes of app, %zu of configuration) at %#llx\n", out,
               base, app_path, app_len, all.len, (unsigned long long)v.bundle->p_vaddr);
        rc = 0;
    }
    free(img);
    free(bundle);
out_all:
    free(all.buf);
out:
    free(t.buf);
    return rc;
}

static int inspect(int argc, char **argv)
{
    const char *cmd = "image inspect";
    if (argc != 2 || argv[1][0] == '-') {
        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage();
            return 0;
        }
        return nb_cmd_usage_error(cmd, "give one image or bundle file");
    }
    const char *path = argv[1];
    size_t len;
    uint8_t *buf = nb_cmd_read_file(cmd, path, IMAGE_MAX + NB_BUNDLE_TOTAL_MAX, &len);
    if (!buf)
        return 1;
    const uint8_t *b = buf;
    size_t blen = len;
    struct elf_view v;
    const char *why = NULL;
    if (len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0) {
        if (elf_open(&v, buf, len, &why) != 0) {
            fprintf(stderr, "neoboot %s: %s: %s\n", cmd, path, why);
            free(buf);
            return 1;
        }
        printf("image: %s, %zu bytes, pc (ELF: PVH and Multiboot2)\n", path, len);
        printf("bundle segment: address %#llx, file offset %#llx, %llu bytes\n",
               (unsigned long long)v.bundle->p_vaddr, (unsigned long long)v.bundle->p_offset,
               (unsigned long long)v.bundle->p_filesz);
        b = buf + v.bundle->p_offset;
        blen = v.bundle->p_filesz;
        if (v.bundle->p_memsz != v.bundle->p_filesz)
            printf("warning: segment memory size %llu differs from its file size\n",
                   (unsigned long long)v.bundle->p_memsz);
    } else if (nb_bundle_is_wasm(buf, len)) {
        uint8_t d[NB_SHA256_LEN];
        char hex[65];
        nb_sha256(buf, len, d);
        nb_sha256_hex(d, hex);
        printf("%s: a bare WebAssembly module, %zu bytes, sha256 %s\n"
               "(as a boot module it runs with the default configuration)\n", path, len, hex);
        free(buf);
        return 0;
    } else {
        printf("bundle file: %s, %zu bytes\n", path, len);
    }
    struct nb_bundle bd;
    int rc = nb_bundle_parse(b, blen, &bd, &why);
    if (rc) {
        printf("bundle: INVALID: %s\n", why);
        free(buf);
        return 1;
    }
    if (bd.app_len == 0) {
        printf("bundle: empty (no app; the machine boots to the console shell)\n");
        free(buf);
        return 0;
    }
    uint8_t d[NB_SHA256_LEN];
    char hex[65];
    nb_sha256(bd.app, bd.app_len, d);
    nb_sha256_hex(d, hex);
    printf("app: %zu bytes, sha256 %s%s\n", bd.app_len, hex,
           nb_bundle_is_wasm(bd.app, bd.app_len) ? "" : " (not a WebAssembly module!)");
    int vrc = nb_bundle_verify(&bd, &why);
    char rhex[65];
    nb_sha256_hex(bd.sha256, rhex);
    printf("digest: %s (bundle sha256 %s)\n", vrc ? why : "verified", rhex);
    printf("configuration (%zu bytes):\n", bd.config_len);
    struct nb_appcfg *cfg = malloc(sizeof *cfg);
    char cwhy[160];
    int crc = cfg ? nb_appcfg_parse(cfg, (const char *)bd.config, bd.config_len, cwhy, sizeof cwhy)
                  : NB_ENOMEM;
    if (crc == 0)
        nb_appcfg_print(cfg, print_stdout, "  ");
    else
        printf("  INVALID: %s\n", cfg ? cwhy : "out of memory");
    free(cfg);
    free(buf);
    if (vrc || crc) {
        printf("verdict: this app would NOT run (%s)\n", vrc ? why : "bad configuration");
        return 1;
    }
    printf("verdict: ok\n");
    return 0;
}

/* --- iso --- */

/* grub.cfg is a shell-like script: escape its special characters so the
 * words reach NeoBoot as typed. GRUB rebuilds the command line from the
 * words and would add backslashes before quotes, so quotes and
 * backslashes are refused (NeoBoot's options need none). */
static int grub_quote(char *out, size_t cap, const char *in)
{
    size_t n = 0;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        if (c < 0x20 || c == 0x7f || c == '\'' || c == '"' || c == '\\')
            return -1;
        bool esc = c == '$' || c == ';' || c == '{' || c == '}' || c == '|' || c == '&' ||
                   c == '<' || c == '>' || c == '#';
        if (n + 3 >= cap)
            return -1;
        if (esc)
            out[n++] = '\\';
        out[n++] = (char)c;
    }
    out[n] = 0;
    return 0;
}

static int run_tool(const char *const *argv, const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        if (f)
            dup2(fileno(f), STDERR_FILENO);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int iso(int argc, char **argv)
{
    const char *cmd = "image iso";
    const char *image = NULL, *out = NULL, *cmdline = "", *module = NULL;
    long timeout = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (a[0] != '-') {
            if (image)
                return nb_cmd_usage_error(cmd, "one image only");
            image = a;
            continue;
        }
        if (i + 1 >= argc)
            return nb_cmd_usage_error(cmd, "%s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "-o") == 0) {
            out = v;
        } else if (strcmp(a, "--cmdline") == 0) {
            cmdline = v;
        } else if (strcmp(a, "--module") == 0) {
            module = v;
        } else if (strcmp(a, "--timeout") == 0) {
            char *end;
            timeout = strtol(v, &end, 10);
            if (*end || timeout < 0 || timeout > 3600)
                return nb_cmd_usage_error(cmd, "--timeout: seconds, 0 to 3600");
        } else {
            return nb_cmd_usage_error(cmd, "unknown option '%s'", a);
        }
    }
    if (!out)
        return nb_cmd_usage_error(cmd, "give -o ISO");
    char defimg[PATH_MAX];
    if (!image) {
        if (nb_default_image(defimg, sizeof defimg) != 0) {
            fprintf(stderr, "neoboot %s: no image given and none beside this program "
                            "(make image, or neoboot image build)\n", cmd);
            return 2;
        }
        image = defimg;
    }
    size_t len;
    uint8_t *buf = nb_cmd_read_file(cmd, image, IMAGE_MAX + NB_BUNDLE_TOTAL_MAX, &len);
    if (!buf)
        return 1;
    struct elf_view v;
    const char *why = NULL;
    if (len < SELFMAG || memcmp(buf, ELFMAG, SELFMAG) != 0 || elf_open(&v, buf, len, &why) != 0) {
        fprintf(stderr, "neoboot %s: %s is not a NeoBoot pc image%s%s\n", cmd, image,
                why ? ": " : "", why ? why : "");
        free(buf);
        return 1;
    }
    char quoted[2048];
    if (grub_quote(quoted, sizeof quoted, cmdline) != 0) {
        free(buf);
        return nb_cmd_usage_error(cmd, "--cmdline: printable text of at most 1000 bytes, "
                                       "without quotes or backslashes");
    }
    char dir[] = "/tmp/neoboot-iso.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "neoboot %s: cannot make a temporary folder: %s\n", cmd, strerror(errno));
        free(buf);
        return 1;
    }
    /* the disk's tree in root/, grub-mkrescue's log beside it (not in it) */
    char path[PATH_MAX + 64], root[PATH_MAX], grubdir[PATH_MAX], cfg[4096], log[PATH_MAX];
    snprintf(root, sizeof root, "%s/root", dir);
    snprintf(path, sizeof path, "%s/root/boot", dir);
    snprintf(grubdir, sizeof grubdir, "%s/root/boot/grub", dir);
    snprintf(log, sizeof log, "%s/grub-mkrescue.log", dir);
    int rc = 1;
    if (mkdir(root, 0755) != 0 || mkdir(path, 0755) != 0 || mkdir(grubdir, 0755) != 0) {
        fprintf(stderr, "neoboot %s: cannot make %s: %s\n", cmd, grubdir, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/root/boot/neoboot.elf", dir);
    if (write_file(cmd, path, buf, len, NULL, 0, 0644) != 0)
        goto done;
    if (module) {
        size_t mlen;
        uint8_t *mb = nb_cmd_read_file(cmd, module, NB_BUNDLE_TOTAL_MAX, &mlen);
        if (!mb)
            goto done;
        struct nb_bundle mbd;
        const char *mwhy;
        if (!nb_bundle_is_wasm(mb, mlen) && nb_bundle_parse(mb, mlen, &mbd, &mwhy) != 0) {
            fprintf(stderr, "neoboot %s: %s is neither a WebAssembly module nor a bundle (%s)\n",
                    cmd, module, mwhy);
            free(mb);
            goto done;
        }
        snprintf(path, sizeof path, "%s/root/boot/app", dir);
        int wrc = write_file(cmd, path, mb, mlen, NULL, 0, 0644);
        free(mb);
        if (wrc != 0)
            goto done;
    }
    /* Serial first (NeoBoot's console is COM1), the screen too; the menu
     * waits `timeout` seconds for someone who wants GRUB's own prompt. */
    snprintf(cfg, sizeof cfg,
             "# made by neoboot image iso\n"
             "serial --unit=0 --speed=115200\n"
             "terminal_input serial console\n"
             "terminal_output serial console\n"
             "set timeout=%ld\n"
             "# the video drivers (UEFI's GOP among them): NeoBoot draws its\n"
             "# console on the framebuffer GRUB hands over\n"
             "insmod all_video\n"
             "menuentry \"NeoBoot\" {\n"
             "    multiboot2 /boot/neoboot.elf %s\n"
             "%s"
             "    boot\n"
             "}\n",
             timeout, quoted, module ? "    module2 /boot/app\n" : "");
    snprintf(path, sizeof path, "%s/root/boot/grub/grub.cfg", dir);
    if (write_file(cmd, path, cfg, strlen(cfg), NULL, 0, 0644) != 0)
        goto done;
    if (access("/usr/lib/grub/i386-pc", R_OK) != 0 ||
        access("/usr/lib/grub/x86_64-efi", R_OK) != 0)
        fprintf(stderr, "neoboot %s: warning: GRUB's %s files are missing: the disk will not "
                        "boot on %s machines (install %s)\n", cmd,
                access("/usr/lib/grub/i386-pc", R_OK) != 0 ? "BIOS (i386-pc)" : "UEFI (x86_64-efi)",
                access("/usr/lib/grub/i386-pc", R_OK) != 0 ? "BIOS" : "UEFI",
                access("/usr/lib/grub/i386-pc", R_OK) != 0 ? "grub-pc-bin" : "grub-efi-amd64-bin");
    const char *targv[] = {"grub-mkrescue", "-o", out, root, NULL};
    int trc = run_tool(targv, log);
    if (trc != 0) {
        fprintf(stderr, "neoboot %s: grub-mkrescue %s", cmd,
                trc == 127 ? "is not installed (scripts/setup.sh installs grub-common, "
                             "grub-pc-bin, grub-efi-amd64-bin, xorriso and mtools)\n"
                           : "failed:\n");
        if (trc != 127) {
            FILE *f = fopen(log, "r");
            char line[512];
            while (f && fgets(line, sizeof line, f))
                fprintf(stderr, "  %s", line);
            if (f)
                fclose(f);
        }
        goto done;
    }
    struct stat st;
    if (stat(out, &st) == 0)
        printf("%s: %lld bytes, GRUB (BIOS and UEFI) booting %s%s%s%s%s through Multiboot2\n"
               "boot it: neoboot qemu %s [--uefi], or write it to a USB stick (dd)\n",
               out, (long long)st.st_size, image, module ? " and module " : "",
               module ? module : "", *cmdline ? " with " : "", cmdline, out);
    rc = 0;
done:
    free(buf);
    static const char *const made[] = {"root/boot/grub/grub.cfg", "root/boot/neoboot.elf",
                                        "root/boot/app", "grub-mkrescue.log", "root/boot/grub",
                                        "root/boot", "root", ""};
    for (size_t k = 0; k < sizeof made / sizeof made[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, made[k]);
        if (remove(path) != 0 && errno != ENOENT)
            fprintf(stderr, "neoboot %s: could not remove %s: %s\n", cmd, path, strerror(errno));
    }
    return rc;
}

int nb_cmd_image(int argc, char **argv);
int nb_cmd_image(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "build") == 0)
        return make(argc - 1, argv + 1, true);
    if (strcmp(argv[1], "bundle") == 0)
        return make(argc - 1, argv + 1, false);
    if (strcmp(argv[1], "inspect") == 0)
        return inspect(argc - 1, argv + 1);
    if (strcmp(argv[1], "iso") == 0)
        return iso(argc - 1, argv + 1);
    return nb_cmd_usage_error("image", "unknown subcommand '%s' (build, bundle, inspect, iso)",
                              argv[1]);
}
