/*
 * The hosted `neoboot` program: a dispatcher over subcommands. Global
 * options (--log SPEC) come before the command name.
 */
#include "commands.h"

#include <neoboot/log.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nb_cmd_demo(int argc, char **argv);
int nb_cmd_dhcp(int argc, char **argv);
int nb_cmd_dns(int argc, char **argv);
int nb_cmd_ifconfig(int argc, char **argv);
int nb_cmd_image(int argc, char **argv);
int nb_cmd_nc(int argc, char **argv);
int nb_cmd_run(int argc, char **argv);
int nb_cmd_ping(int argc, char **argv);
int nb_cmd_qemu(int argc, char **argv);
int nb_cmd_serve(int argc, char **argv);
int nb_cmd_shell(int argc, char **argv);
int nb_cmd_stats(int argc, char **argv);
int nb_cmd_vsock_echo(int argc, char **argv);

static const struct nb_command commands[] = {
    /* name, summary, entry: keep sorted by name */
    {"demo", "run the bundled demo: vsock echo + stats behind ./neoboot.vsock", nb_cmd_demo},
    {"dhcp", "get a DHCP lease and show it (optionally hold, then release it)", nb_cmd_dhcp},
    {"dns", "look a name up through NeoBoot's resolver (A and AAAA)", nb_cmd_dns},
    {"ifconfig", "show NeoBoot's IP interfaces, addresses, routes and DNS servers", nb_cmd_ifconfig},
    {"image", "build or inspect a pc image with a bundled app (docs/image.md)", nb_cmd_image},
    {"nc", "netcat over NeoBoot's stack (TCP, UDP, vsock)", nb_cmd_nc},
    {"ping", "ICMP echo from NeoBoot's stack (IPv4, IPv6)", nb_cmd_ping},
    {"qemu", "boot a pc image in QEMU (KVM if it works, else TCG; slirp or TAP)", nb_cmd_qemu},
    {"run", "run a networked WebAssembly app (WASI + neoboot imports)", nb_cmd_run},
    {"serve", "serve echo/stats/sink/source/http on TCP, UDP and vsock", nb_cmd_serve},
    {"shell", "NeoBoot's console shell on its own network (as on a serial console)", nb_cmd_shell},
    {"stats", "show a running instance's interfaces, sockets and counters", nb_cmd_stats},
    {"vsock-echo", "serve vsock echo and stats on a bridge or vsock device", nb_cmd_vsock_echo},
    {"wasm", "run or validate a WebAssembly program (WASI)", nb_cmd_wasm},
    {NULL, NULL, NULL},
};

static void print_help(FILE *out)
{
    fprintf(out,
            "NeoBoot: programmable network bootloader and WebAssembly network runtime\n"
            "\n"
            "usage: neoboot [--log SPEC] COMMAND [ARGS...]\n"
            "       neoboot COMMAND --help\n"
            "\n"
            "commands:\n");
    for (const struct nb_command *c = commands; c->name; c++)
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
    fprintf(out,
            "\n"
            "options:\n"
            "  --log SPEC     log levels, e.g. 'info' or 'warn,vsock=debug'\n"
            "                 (levels: off error warn info debug trace)\n"
            "  --help         this text\n"
            "\n"
            "Documentation: docs/cli.md\n");
}

int nb_cmd_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "neoboot %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'neoboot %s --help')\n", cmd);
    return 2;
}

uint8_t *nb_cmd_read_file(const char *who, const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "neoboot %s: cannot open %s: %s\n", who, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = NULL;
    for (;;) {
        uint8_t *nb = realloc(b, cap + 1);
        if (!nb) {
            fprintf(stderr, "neoboot %s: out of memory reading %s\n", who, path);
            break;
        }
        b = nb;
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) {
            if (ferror(f)) {
                fprintf(stderr, "neoboot %s: cannot read %s: %s\n", who, path, strerror(errno));
                break;
            }
            fclose(f);
            *len = n;
            return b;
        }
        if (cap > max) {
            fprintf(stderr, "neoboot %s: %s is larger than %zu MiB\n", who, path, max >> 20);
            break;
        }
        cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
    }
    fclose(f);
    free(b);
    return NULL;
}

int nb_cmd_parse_forward(const char *spec, struct nb_cmd_forward *f)
{
    const char *p = spec;
    f->udp = strncmp(p, "udp:", 4) == 0;
    if (f->udp || strncmp(p, "tcp:", 4) == 0)
        p += 4;
    snprintf(f->addr, sizeof f->addr, "127.0.0.1");
    const char *first = strchr(p, ':'), *last = strrchr(p, ':');
    if (!last)
        return -1;
    const char *ports = p;
    if (first != last) {
        size_t n = (size_t)(first - p);
        if (n == 0 || n >= sizeof f->addr)
            return -1;
        memcpy(f->addr, p, n);
        f->addr[n] = 0;
        ports = first + 1;
    }
    char *end;
    unsigned long hp = strtoul(ports, &end, 10);
    if (end != last || hp == 0 || hp > 65535)
        return -1;
    unsigned long gp = strtoul(last + 1, &end, 10);
    if (*end || gp == 0 || gp > 65535)
        return -1;
    f->host = (uint16_t)hp;
    f->guest = (uint16_t)gp;
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
            if (nb_log_configure(argv[i + 1]) != 0) {
                fprintf(stderr, "neoboot: bad log spec '%s' (try 'info' or 'warn,vsock=debug')\n",
                        argv[i + 1]);
                return 2;
            }
            i += 2;
            continue;
        }
        fprintf(stderr, "neoboot: unknown option '%s' (try 'neoboot --help')\n", argv[i]);
        return 2;
    }
    if (i >= argc) {
        print_help(stderr);
        return 2;
    }
    for (const struct nb_command *c = commands; c->name; c++)
        if (strcmp(c->name, argv[i]) == 0)
            return c->main(argc - i, argv + i);
    fprintf(stderr, "neoboot: unknown command '%s' (try 'neoboot --help')\n", argv[i]);
    return 2;
}
