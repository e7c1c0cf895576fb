/*
 * Apps on bare metal: what a pc boots into once its devices are up.
 *
 * An app comes as a bundle (include/neoboot/bundle.h, docs/image.md): the
 * WebAssembly module plus its configuration text, with SHA-256 digests.
 * It is found in one of two places, both left in RAM by the boot loader:
 *
 *   - a boot module (PVH module list; QEMU -initrd): a bundle, or a bare
 *     .wasm that then runs with the default configuration. It wins over
 *     the image's own, so one image can run many apps;
 *   - the image itself: `neoboot image build` points the image's last
 *     PT_LOAD segment at a bundle appended to the file. The linker script
 *     places that segment at __nb_bundle, above the kernel, and the image
 *     as built carries an empty bundle header there (nb_pc_bundle_slot).
 *
 * Early (before the heap exists) only the headers are read, to keep the
 * claimed bytes out of the heap; nothing is trusted until nb_bundle_parse
 * and nb_bundle_verify have passed. A bundle that fails is refused with
 * the reason on the console, and the machine carries on to the shell.
 *
 * Then the boot flow: every Ethernet interface joins the default stack
 * (the inet family, lwIP), the network is configured (the app's net=, or
 * neoboot.net= on the command line; DHCP by default), NeoBoot waits for
 * an address (bounded by net-wait=), and the app runs through the shared
 * runner (src/boot/runner.c) with WASI stdio on the serial console. While
 * it runs, the console shell still answers, except that typed lines go to
 * the app while it waits in a read from stdin, and Ctrl-C stops it.
 */
#include "pc.h"

#include <neoboot/appcfg.h>
#include <neoboot/bundle.h>
#include <neoboot/chain.h>
#include <neoboot/err.h>
#include <neoboot/iface.h>
#include <neoboot/inet.h>
#include <neoboot/log.h>
#include <neoboot/loop.h>
#include <neoboot/net.h>
#include <neoboot/platform.h>
#include <neoboot/runner.h>
#include <neoboot/sha256.h>
#include <neoboot/shell.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(app);

/* The empty bundle a freshly linked image carries (see bundle.h). */
__attribute__((section(".nbbundle"), used, aligned(16)))
const uint8_t nb_pc_bundle_slot[NB_BUNDLE_HEADER_SIZE] = {
    'N', 'B', 'B', 'U', 'N', 'D', 'L', 'E',
    NB_BUNDLE_VERSION, 0, 0, 0,
    NB_BUNDLE_HEADER_SIZE, 0, 0, 0,
    0, 0, 0, 0,                       /* config_len */
    NB_BUNDLE_HEADER_SIZE, 0, 0, 0,   /* app_offset */
    /* app_len 0, digests zero */
};
extern const uint8_t __nb_bundle[];

/* Where the app comes from, and what became of it (for `app`). */
static struct {
    const uint8_t *buf;       /* the bundle or bare module */
    size_t len;
    const char *source;       /* "boot module" or "image" */
    const char *refused;      /* why it does not run, or NULL */
    char refused_buf[200];
    bool is_bundle;
    uint8_t app_sha[NB_SHA256_LEN];
    struct nb_bundle b;
    struct nb_appcfg *cfg;
    int runs;
    bool have_result;
    int last_rc;
    struct nb_run_result last;
} g;

/* ---- early: keep the app's bytes from the heap ---- */

void nb_pc_app_reserve(void)
{
    for (unsigned i = 0; i < nb_pc_boot.nmods; i++)
        nb_pc_reserve(nb_pc_boot.mods[i].addr, nb_pc_boot.mods[i].size);
    size_t total = 0;
    if (nb_bundle_header(__nb_bundle, NB_BUNDLE_HEADER_SIZE, &total, NULL) == 0 &&
        total > NB_BUNDLE_HEADER_SIZE) {
        /* The loader put the segment there; its header says how far it
         * reaches. Claims beyond RAM are refused later, not reserved. */
        if (nb_pc_is_ram((uintptr_t)__nb_bundle, total))
            nb_pc_reserve((uintptr_t)__nb_bundle, total);
    }
}

/* ---- finding and checking the app ---- */

static void refuse(const char *fmt, const char *detail)
{
    snprintf(g.refused_buf, sizeof g.refused_buf, fmt, detail);
    g.refused = g.refused_buf;
}

/* Find the app; false if there is none. g.refused says why one that exists
 * will not run. */
static bool find_app(void)
{
    const char *why = NULL;
    if (nb_pc_boot.nmods) {
        const struct nb_pc_module *m = &nb_pc_boot.mods[0];
        g.buf = (const uint8_t *)(uintptr_t)m->addr;
        g.len = m->size;
        g.source = "boot module";
        if (nb_pc_boot.nmods > 1)
            NB_WARN("%u boot modules; using the first", nb_pc_boot.nmods);
    } else {
        if (!nb_pc_is_ram((uintptr_t)__nb_bundle, NB_BUNDLE_HEADER_SIZE)) {
            /* the loader could not place the segment: too little memory */
            NB_WARN("the image's bundle segment at %p is beyond RAM: no app (if the image "
                    "has one, give the machine more memory)", (const void *)__nb_bundle);
            return false;
        }
        size_t total = 0;
        int rc = nb_bundle_header(__nb_bundle, NB_BUNDLE_HEADER_SIZE, &total, &why);
        if (rc == 0 && total <= NB_BUNDLE_HEADER_SIZE)
            return false; /* the empty placeholder: no app in this image */
        g.source = "image";
        g.buf = __nb_bundle;
        g.len = total;
        if (rc) {
            refuse("the image's bundle header is bad: %s", why);
            return true;
        }
        if (!nb_pc_is_ram((uintptr_t)__nb_bundle, total)) {
            refuse("%s", "the image's bundle claims more bytes than there is RAM");
            return true;
        }
    }
    if (nb_bundle_is_wasm(g.buf, g.len)) {
        nb_sha256(g.buf, g.len, g.app_sha);
        return true; /* a bare module: default configuration */
    }
    int rc = nb_bundle_parse(g.buf, g.len, &g.b, &why);
    if (rc == NB_ENOENT) {
        refuse("the %s is neither a WebAssembly module nor a NeoBoot bundle", g.source);
        return true;
    }
    if (rc) {
        refuse("bad bundle: %s", why);
        return true;
    }
    g.is_bundle = true;
    if (g.b.app_len == 0)
        return false;
    memcpy(g.app_sha, g.b.app_sha256, sizeof g.app_sha);
    if (nb_bundle_verify(&g.b, &why) != 0) {
        refuse("%s: the image was changed after it was built", why);
        return true;
    }
    g.cfg = malloc(sizeof *g.cfg);
    char text[160];
    if (!g.cfg) {
        refuse("%s", "out of memory");
        return true;
    }
    if (nb_appcfg_parse(g.cfg, (const char *)g.b.config, g.b.config_len, text,
                        sizeof text) != 0) {
        refuse("bad configuration: %s", text);
        return true;
    }
    return true;
}

/* ---- the network ---- */

struct net_wait {
    struct nb_iface *ifc;
};

static bool net_ready(void *arg)
{
    struct net_wait *w = arg;
    return nb_inet_ready(w->ifc, NB_AF_INET);
}

static void log_net_up(struct nb_iface *ifc, const char *how)
{
    struct nb_inet_ifstatus st;
    if (nb_inet_iface_status(ifc, &st) != 0 || !st.has_ip4)
        return;
    char dns[64] = "none";
    struct nb_addr d;
    if (nb_inet_dns_get(0, &d) == 0) {
        nb_addr_format(&d, dns, sizeof dns);
        char *colon = strrchr(dns, ':'); /* drop the port */
        if (colon)
            *colon = 0;
    }
    char from[48] = "";
    if (st.dhcp_state == NB_DHCP_BOUND)
        snprintf(from, sizeof from, " from %u.%u.%u.%u", st.dhcp_server[0], st.dhcp_server[1],
                 st.dhcp_server[2], st.dhcp_server[3]);
    uint64_t t = nb_clock_ns();
    NB_INFO("network up: %s %u.%u.%u.%u/%u gateway %u.%u.%u.%u dns %s (%s%s), "
            "%llu.%03llu s after boot", ifc->name, st.ip4[0], st.ip4[1], st.ip4[2], st.ip4[3],
            st.prefix4, st.gw4[0], st.gw4[1], st.gw4[2], st.gw4[3], dns, how, from,
            (unsigned long long)(t / NB_NS_PER_S),
            (unsigned long long)(t % NB_NS_PER_S / NB_NS_PER_MS));
}

/* Attach and start every Ethernet interface; configure the first with n
 * (and the others with DHCP when n is DHCP). Returns the first, or NULL. */
static struct nb_iface *net_up(const struct nb_netcfg *n)
{
    struct nb_stack *st = nb_stack_default();
    struct nb_iface *first = NULL;
    for (struct nb_iface *ifc = nb_iface_first(); ifc && st; ifc = ifc->next) {
        if (ifc->link != NB_LINK_ETHERNET)
            continue;
        int rc = nb_stack_attach(st, ifc);
        if (rc == 0)
            rc = nb_iface_start(ifc);
        if (rc) {
            NB_ERROR("%s: cannot start: %s", ifc->name, nb_strerror(rc));
            continue;
        }
        NB_INFO("%s: up, MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s", ifc->name, ifc->mac[0],
                ifc->mac[1], ifc->mac[2], ifc->mac[3], ifc->mac[4], ifc->mac[5],
                ifc->link_up ? "up" : "down");
        bool mine = !first || n->mode == NB_NET_DHCP;
        if (!first)
            first = ifc;
        if (mine && (rc = nb_netcfg_apply(ifc, n)) != 0)
            NB_ERROR("%s: cannot configure the network: %s", ifc->name, nb_strerror(rc));
    }
    return first;
}

/* ---- stdin from the console ---- */

#define STDIN_RING 4096
#define STDIN_LINE 256

static struct {
    bool waiting;              /* the app is blocked reading stdin */
    char ring[STDIN_RING];     /* finished lines, for the app */
    size_t head, count;
    bool eof;                  /* Ctrl-D on an empty line */
    char line[STDIN_LINE];     /* the line being typed (echoed) */
    size_t len;
    uint64_t dropped;
} in;

static void ring_put(char c)
{
    if (in.count == STDIN_RING) {
        in.dropped++;
        return;
    }
    in.ring[(in.head + in.count++) % STDIN_RING] = c;
}

bool nb_pc_app_console_byte(char c)
{
    if (!nb_run_active())
        return false;
    if (c == 0x03) { /* Ctrl-C */
        nb_console_write("^C\n", 3);
        NB_INFO("interrupted from the console");
        nb_run_interrupt();
        return true;
    }
    if (!in.waiting)
        return false; /* not reading: the shell answers */
    /* A small cooked mode, as a terminal would give: echo, backspace,
     * whole lines on Enter, Ctrl-D for end of input. */
    if (c == '\r' || c == '\n') {
        nb_console_write("\n", 1);
        for (size_t i = 0; i < in.len; i++)
            ring_put(in.line[i]);
        ring_put('\n');
        in.len = 0;
    } else if (c == 0x7f || c == '\b') {
        if (in.len) {
            in.len--;
            nb_console_write("\b \b", 3);
        }
    } else if (c == 0x04) {
        if (in.len == 0)
            in.eof = true;
    } else if ((unsigned char)c >= 0x20 && in.len < STDIN_LINE - 1) {
        in.line[in.len++] = c;
        nb_console_write(&c, 1);
    }
    return true;
}

static bool stdin_ready(void *arg)
{
    (void)arg;
    return in.count > 0 || in.eof;
}

static long stdin_read(void *io, void *buf, size_t len)
{
    (void)io;
    if (!stdin_ready(NULL)) {
        in.waiting = true;
        int rc = nb_loop_run_until(stdin_ready, NULL, NB_FOREVER);
        in.waiting = false;
        if (rc == NB_EINTR)
            return NB_EINTR;
    }
    if (in.count == 0) {
        in.eof = false;
        return 0;
    }
    size_t n = 0;
    char *out = buf;
    while (n < len && in.count) {
        out[n++] = in.ring[in.head];
        in.head = (in.head + 1) % STDIN_RING;
        in.count--;
    }
    return (long)n;
}

/* ---- the way into the shell at start-up ---- */

/* A key pressed on the console before the bundled app starts means the
 * person at the console wants the shell, not the app (as a bootloader's
 * "press any key"): set from main.c's console input. */
static bool key_pressed;
static bool app_started;

void nb_pc_app_key_pressed(void)
{
    if (!app_started)
        key_pressed = true;
}

static bool key_seen(void *arg)
{
    (void)arg;
    return key_pressed;
}

/* True if the person at the console asked for the shell: a key so far,
 * or within neoboot.autoboot=SECONDS (default 0: no extra wait). */
static bool shell_requested(void)
{
    char v[16];
    unsigned secs = 0;
    if (nb_pc_cmdline_get("neoboot.autoboot", v, sizeof v))
        secs = (unsigned)strtoul(v, NULL, 10);
    if (!key_pressed && secs) {
        char msg[80];
        int n = snprintf(msg, sizeof msg, "Press any key within %u s for the shell...\r\n", secs);
        nb_console_write(msg, (size_t)n);
        nb_loop_run_until(key_seen, NULL, nb_clock_ns() + secs * NB_NS_PER_S);
    }
    return key_pressed;
}

/* ---- running ---- */

/* How each app run (the bundled one, and any chained after it) ended:
 * kept for `app` and logged for the person at the console. */
static void report(void *arg, const char *label, int rc, const struct nb_run_result *res)
{
    (void)arg;
    g.last_rc = rc;
    g.last = *res;
    g.have_result = true;
    if (rc)
        NB_ERROR("%s could not start: %s", label, res->msg);
    else if (res->trap)
        NB_INFO("%s stopped: %s", label, res->msg);
    else
        NB_INFO("%s exited with status %d", label, res->status);
}

/* Run the app, then whatever the shell's `chain` asked for meanwhile
 * (src/boot/chain.c); nb_run_blob verifies and configures it again. */
static void run_once(void)
{
    struct nb_run_io io = {.read = stdin_read};
    g.runs++;
    nb_run_chained(g.buf, g.len, g.cfg ? g.cfg->name : "app", &io, report, NULL);
}

void nb_pc_app_boot(void)
{
    /* The value stack is the engine's, not the C stack (that lives in the
     * app's memory): 2 MiB is plenty and keeps small machines bootable. */
    nb_run_set_stack_slots(256 * 1024);
    bool have = find_app();
    if (g.source && g.buf)
        nb_shell_set_bundled(g.buf, g.len); /* `run bundled`, `chain bundled` */
    char spec[128];
    if (g.cfg && g.cfg->log[0] && !nb_pc_cmdline_get("neoboot.log", spec, sizeof spec))
        nb_log_configure(g.cfg->log);

    /* The network: neoboot.net= over the app's net= over DHCP. */
    struct nb_netcfg net;
    memset(&net, 0, sizeof net);
    net.mode = NB_NET_DHCP;
    const char *how = "DHCP";
    if (g.cfg && g.cfg->net_given)
        net = g.cfg->net;
    char text[160];
    const char *why;
    if (nb_pc_cmdline_get("neoboot.net", text, sizeof text)) {
        if (nb_netcfg_parse(&net, text, &why) != 0) {
            NB_WARN("bad neoboot.net=%s: %s (using DHCP)", text, why);
            net.mode = NB_NET_DHCP;
        }
    }
    if (net.mode == NB_NET_STATIC)
        how = "static";
    struct nb_iface *ifc = net_up(&net);
    uint32_t wait_s = g.cfg ? g.cfg->net_wait_s : 30;
    if (!ifc) {
        NB_WARN("no Ethernet interface: no network");
    } else if (net.mode != NB_NET_NONE && wait_s) {
        struct net_wait w = {ifc};
        int rc = nb_loop_run_until(net_ready, &w, nb_clock_ns() + wait_s * NB_NS_PER_S);
        if (rc == 0)
            log_net_up(ifc, how);
        else
            NB_WARN("network: %s has no IPv4 address after %u s (%s); carrying on", ifc->name,
                    wait_s, how);
    }

    if (!have) {
        NB_INFO("no app bundled (neoboot image build adds one; docs/image.md)");
        return;
    }
    if (shell_requested()) {
        NB_INFO("a key was pressed: the shell instead of the app ('run bundled' starts it)");
        app_started = true;
        return;
    }
    app_started = true;
    char hex[65];
    nb_sha256_hex(g.app_sha, hex);
    if (g.refused) {
        NB_ERROR("refusing to run the app from the %s: %s", g.source, g.refused);
        return;
    }
    char skip[16];
    if (nb_pc_cmdline_get("neoboot.app", skip, sizeof skip) && strcmp(skip, "none") == 0) {
        NB_INFO("not running the app from the %s (neoboot.app=none); 'run bundled' "
                "starts it", g.source);
        return;
    }
    NB_INFO("%s from the %s, %zu bytes, sha256 %s%s", g.cfg ? g.cfg->name : "app",
            g.source, g.is_bundle ? g.b.app_len : g.len, hex,
            g.is_bundle ? " (verified)" : " (bare module: default configuration)");
    for (;;) {
        run_once();
        int on_exit = g.cfg ? g.cfg->on_exit : NB_ON_EXIT_SHELL;
        if (g.last_rc && on_exit == NB_ON_EXIT_RESTART)
            on_exit = NB_ON_EXIT_SHELL; /* it cannot start: restarting will not help */
        switch (on_exit) {
        case NB_ON_EXIT_POWEROFF:
            NB_INFO("the app ended; powering off (on-exit=poweroff)");
            nb_pc_poweroff();
            return;
        case NB_ON_EXIT_REBOOT:
            NB_INFO("the app ended; rebooting (on-exit=reboot)");
            nb_pc_reboot();
        case NB_ON_EXIT_RESTART:
            NB_INFO("the app ended; restarting in 1 s (on-exit=restart)");
            nb_loop_run_until(NULL, NULL, nb_clock_ns() + NB_NS_PER_S);
            continue;
        default:
            return;
        }
    }
}

/* ---- the `app` console command ---- */

struct indent {
    nb_print_fn print;
    void *arg;
};

static void print_indented(void *arg, const char *line)
{
    struct indent *ind = arg;
    char buf[NB_APPCFG_LINE_MAX + 40];
    snprintf(buf, sizeof buf, "  %s", line);
    ind->print(ind->arg, buf);
}

static int cmd_app(int argc, char **argv, nb_print_fn print, void *arg)
{
    (void)argc;
    (void)argv;
    char line[300];
    if (!g.source) {
        print(arg, "app: none (this image has no bundled app and no boot module)");
        return 0;
    }
    char hex[65];
    nb_sha256_hex(g.app_sha, hex);
    snprintf(line, sizeof line, "app: from the %s, %zu bytes, sha256 %s", g.source,
             g.is_bundle ? g.b.app_len : g.len, hex);
    print(arg, line);
    if (g.refused) {
        snprintf(line, sizeof line, "state: refused: %s", g.refused);
        print(arg, line);
        return 0;
    }
    if (g.cfg) {
        struct indent ind = {print, arg};
        nb_appcfg_print(g.cfg, print_indented, &ind);
    }
    struct nb_run_stats rs;
    nb_run_get_stats(&rs);
    if (nb_run_active())
        snprintf(line, sizeof line, "state: running (run %d)", g.runs);
    else if (!g.have_result)
        snprintf(line, sizeof line, "state: not started");
    else if (g.last_rc)
        snprintf(line, sizeof line, "state: could not start: %s", g.last.msg);
    else if (g.last.trap)
        snprintf(line, sizeof line, "state: stopped after %llu ms: %s",
                 (unsigned long long)(g.last.run_ns / NB_NS_PER_MS), g.last.msg);
    else
        snprintf(line, sizeof line, "state: exited with status %d after %llu ms",
                 g.last.status, (unsigned long long)(g.last.run_ns / NB_NS_PER_MS));
    print(arg, line);
    snprintf(line, sizeof line,
             "runner: %llu started, %llu exited, %llu trapped, %llu refused; stdin %llu "
             "bytes dropped",
             (unsigned long long)rs.started, (unsigned long long)rs.exited,
             (unsigned long long)rs.trapped, (unsigned long long)rs.refused,
             (unsigned long long)in.dropped);
    print(arg, line);
    return 0;
}

static struct nb_shell_cmd app_command = {
    "app", "app", "the bundled app: where from, digest, configuration, state", cmd_app, NULL,
};

void nb_pc_app_register(void)
{
    nb_shell_register(&app_command);
}
