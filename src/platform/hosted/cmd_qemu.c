/*
 * `neoboot qemu [OPTIONS] [IMAGE] [-- QEMU ARGS]`: boot a pc image in QEMU
 * with sensible defaults -- the serial console on this terminal, one
 * virtio-net NIC on slirp (with port forwards) or on a TAP device, KVM
 * when it works and TCG otherwise.
 *
 * "When it works" needs care: /dev/kvm can exist and accept a VM without
 * being able to run one (a software stand-in: the guest dies at once with
 * "KVM internal error" and QEMU sits paused). So a KVM start is watched:
 * QEMU's serial output and stderr are relayed through this process, and if
 * stderr reports a KVM failure, or QEMU exits with an error, before the
 * guest has printed anything, that QEMU is stopped and the same machine is
 * started again under TCG. The relay also announces where the port
 * forwards lead once the guest reports its network up.
 */
#define _GNU_SOURCE
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FWD 16
#define MAX_EXTRA 64
#define MAX_ARGS (48 + 2 * MAX_FWD + MAX_EXTRA)
#define PROBE_MS 10000  /* a KVM guest that prints nothing for this long is given up */

int nb_default_image(char *buf, size_t len);

#define OVMF_PATH "/usr/share/ovmf/OVMF.fd" /* Debian's ovmf package */

struct qemu_opts {
    const char *machine;
    const char *mem;
    const char *accel;   /* auto, kvm, tcg */
    const char *tap;
    bool no_net;
    const char *fwd[MAX_FWD];
    int nfwd;
    const char *initrd;
    const char *append;
    const char *image;
    bool iso;            /* image is a disk (neoboot image iso): -cdrom */
    bool uefi;           /* OVMF firmware instead of SeaBIOS */
    bool dry_run;
    const char *extra[MAX_EXTRA];
    int nextra;
    char netdev[1024];
};

static void usage(void)
{
    printf("usage: neoboot qemu [OPTIONS] [IMAGE] [-- QEMU ARGS...]\n\n"
           "Boots a NeoBoot pc image (default: pc/neoboot.elf beside this program;\n"
           "`neoboot image build` makes one with an app inside) in QEMU, with the\n"
           "serial console on this terminal (Ctrl-A X quits, Ctrl-A C is QEMU's\n"
           "monitor).\n\n"
           "  --machine pc|q35|microvm  machine type (default q35)\n"
           "  --mem SIZE                guest RAM (default 128M)\n"
           "  --accel auto|kvm|tcg      auto (default): KVM if /dev/kvm can run the\n"
           "                            guest, else TCG (a failed KVM start falls back)\n"
           "  -p [udp:][ADDR:]HOST:GUEST  forward host ADDR:HOST (default 127.0.0.1)\n"
           "                            to the guest's port GUEST (slirp; repeatable)\n"
           "  --tap NAME                the NIC on TAP device NAME instead of slirp\n"
           "  --no-net                  no NIC\n"
           "  --initrd FILE             a boot module: an app (.wasm) or a bundle\n"
           "                            (`neoboot image bundle`), run instead of the\n"
           "                            image's own\n"
           "  --append TEXT             kernel command line (docs/pc.md)\n"
           "  --uefi                    UEFI firmware (OVMF) instead of the BIOS;\n"
           "                            needs an ISO image\n"
           "An IMAGE ending in .iso (`neoboot image iso`) boots as a CD through its\n"
           "GRUB, like a real machine; its command line is the one built in.\n"
           "  --dry-run                 print the QEMU command and exit\n");
}

/* "[udp:|tcp:][ADDR:]HOST:GUEST" -> ",hostfwd=tcp:ADDR:HOST-:GUEST" */
static int add_forward(char *buf, size_t len, const char *spec)
{
    struct nb_cmd_forward f;
    if (nb_cmd_parse_forward(spec, &f) != 0)
        return -1;
    size_t used = strlen(buf);
    if ((size_t)snprintf(buf + used, len - used, ",hostfwd=%s:%s:%u-:%u", f.udp ? "udp" : "tcp",
                         f.addr, f.host, f.guest) >= len - used)
        return -1;
    return 0;
}

static int build_argv(struct qemu_opts *o, const char *accel, const char **argv)
{
    int n = 0;
    bool microvm = strncmp(o->machine, "microvm", 7) == 0;
    bool kvm = strcmp(accel, "kvm") == 0;
    argv[n++] = "qemu-system-x86_64";
    argv[n++] = "-accel";
    argv[n++] = accel;
    argv[n++] = "-M";
    argv[n++] = o->machine;
    /* TCG's "max" has RDRAND (the guest's entropy source); KVM passes the host's */
    argv[n++] = "-cpu";
    argv[n++] = kvm ? "host" : "max";
    argv[n++] = "-m";
    argv[n++] = o->mem;
    argv[n++] = "-nodefaults";
    argv[n++] = "-no-user-config";
    argv[n++] = "-display";
    argv[n++] = "none";
    argv[n++] = "-serial";
    argv[n++] = "mon:stdio";
    if (o->uefi) {
        argv[n++] = "-bios";
        argv[n++] = OVMF_PATH;
    }
    argv[n++] = o->iso ? "-cdrom" : "-kernel";
    argv[n++] = o->image;
    if (o->initrd) {
        argv[n++] = "-initrd";
        argv[n++] = o->initrd;
    }
    if (o->append) {
        argv[n++] = "-append";
        argv[n++] = o->append;
    }
    if (!o->no_net) {
        argv[n++] = "-netdev";
        argv[n++] = o->netdev;
        argv[n++] = "-device";
        argv[n++] = microvm ? "virtio-net-device,netdev=n0" : "virtio-net-pci,netdev=n0";
    }
    for (int i = 0; i < o->nextra; i++)
        argv[n++] = o->extra[i];
    argv[n] = NULL;
    return n;
}

static void print_cmd(FILE *f, const char *const *argv)
{
    for (int i = 0; argv[i]; i++) {
        const char *a = argv[i];
        bool quote = a[strcspn(a, " \t'\"$\\;&|<>()*?")] != 0 || !*a;
        fprintf(f, i ? " %s%s%s" : "%s%s%s", quote ? "'" : "", a, quote ? "'" : "");
    }
    fputc('\n', f);
}

/* Can this process make a KVM VM at all? (Not proof that it runs one.) */
static bool kvm_available(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = ioctl(fd, 0xAE00 /* KVM_GET_API_VERSION */, 0) == 12;
    if (ok) {
        int vm = ioctl(fd, 0xAE01 /* KVM_CREATE_VM */, 0);
        ok = vm >= 0;
        if (vm >= 0)
            close(vm);
    }
    close(fd);
    return ok;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Once the guest says its network is up, say where the forwards lead. */
static void watch_line(const struct qemu_opts *o, const char *buf, size_t n, bool *told)
{
    static char line[512];
    static size_t len;
    for (size_t i = 0; i < n && !*told; i++) {
        if (buf[i] != '\n') {
            if (len + 1 < sizeof line)
                line[len++] = buf[i];
            continue;
        }
        line[len] = 0;
        len = 0;
        if (!strstr(line, "network up:"))
            continue;
        *told = true;
        for (int k = 0; k < o->nfwd; k++) {
            const char *f = o->fwd[k];
            bool udp = strncmp(f, "udp:", 4) == 0;
            if (udp || strncmp(f, "tcp:", 4) == 0)
                f += 4;
            const char *last = strrchr(f, ':'), *first = strchr(f, ':');
            char host[80];
            if (first == last)
                snprintf(host, sizeof host, "127.0.0.1:%.*s", (int)(last - f), f);
            else
                snprintf(host, sizeof host, "%.*s", (int)(last - f), f);
            fprintf(stderr, "neoboot qemu: the guest is up; its %s port %s is at %s%s%s\r\n",
                    udp ? "UDP" : "TCP", last + 1, udp ? "" : "http://", host,
                    udp ? "" : "/ (if it speaks HTTP)");
        }
    }
}

static bool kvm_failed(const char *text)
{
    return strstr(text, "KVM internal error") || strstr(text, "failed to initialize kvm") ||
           strstr(text, "Could not access KVM");
}

struct held {
    char buf[65536];
    size_t n;
};

static void hold(struct held *h, const char *p, size_t n)
{
    size_t room = sizeof h->buf - 1 - h->n;
    size_t k = n < room ? n : room;
    memcpy(h->buf + h->n, p, k);
    h->n += k;
    h->buf[h->n] = 0;
}

/*
 * Start QEMU and relay its output (so a KVM failure can be seen, and the
 * forwards announced once the guest's network is up). With kvm set, the
 * start is probed: output is held back until the guest's banner line
 * ("NeoBoot"), PROBE_MS of a live but silent guest, or a full buffer; a
 * KVM error on stderr -- then or later -- or QEMU exiting with an error
 * before that returns -1 after stopping QEMU, so the caller can start
 * TCG. Otherwise returns QEMU's exit status.
 */
static int run_qemu(const struct qemu_opts *o, const char *const *argv, bool kvm)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* no orphaned VM if we are killed */
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "neoboot qemu: cannot run %s: %s (scripts/setup.sh installs "
                        "qemu-system-x86)\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    static struct held hout, herr;
    hout.n = herr.n = 0;
    char tail[256] = ""; /* stderr's last bytes, to match across reads */
    bool probing = kvm, out_open = true, err_open = true, told = o->nfwd == 0;
    uint64_t deadline = now_ms() + PROBE_MS;
    const char *failed = NULL;
    while ((out_open || err_open) && !failed) {
        struct pollfd p[2] = {{out_open ? out[0] : -1, POLLIN, 0},
                              {err_open ? err[0] : -1, POLLIN, 0}};
        int timeout = -1;
        if (probing) {
            uint64_t t = now_ms();
            timeout = t >= deadline ? 0 : (int)(deadline - t);
        }
        int r = poll(p, 2, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        bool release = false;
        if (r == 0 && probing)
            release = true; /* silent but alive: a guest that does not print */
        for (int i = 0; i < 2 && !failed; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                if (i == 0)
                    out_open = false;
                else
                    err_open = false;
                continue;
            }
            if (i == 1 && kvm) {
                char win[sizeof tail + sizeof buf + 1];
                size_t tl = strlen(tail);
                memcpy(win, tail, tl);
                memcpy(win + tl, buf, (size_t)n);
                win[tl + (size_t)n] = 0;
                for (size_t k = 0; k < tl + (size_t)n; k++)
                    if (!win[k])
                        win[k] = ' ';
                if (kvm_failed(win))
                    failed = strstr(win, "KVM internal error") ? "KVM internal error"
                                                                : "KVM failed";
                size_t keep = tl + (size_t)n < sizeof tail - 1 ? tl + (size_t)n
                                                                : sizeof tail - 1;
                memcpy(tail, win + tl + (size_t)n - keep, keep);
                tail[keep] = 0;
            }
            if (probing) {
                hold(i == 0 ? &hout : &herr, buf, (size_t)n);
                if (i == 0 && (strstr(hout.buf, "NeoBoot") && memchr(buf, '\n', (size_t)n)))
                    release = true; /* the banner: the guest runs */
                if (hout.n == sizeof hout.buf - 1)
                    release = true; /* a chatty guest that is not NeoBoot */
                continue;
            }
            write_all(i == 0 ? STDOUT_FILENO : STDERR_FILENO, buf, (size_t)n);
            if (i == 0 && !told)
                watch_line(o, buf, (size_t)n, &told);
        }
        if (release && probing && !failed) {
            probing = false;
            write_all(STDERR_FILENO, herr.buf, herr.n);
            write_all(STDOUT_FILENO, hout.buf, hout.n);
            if (!told)
                watch_line(o, hout.buf, hout.n, &told);
            hout.n = herr.n = 0;
        }
    }
    if (failed) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        close(out[0]);
        close(err[0]);
        fprintf(stderr, "\r\nneoboot qemu: KVM could not run the guest (%s)%s; falling back "
                        "to TCG\r\n", failed, probing ? "" : " after it started");
        return -1;
    }
    close(out[0]);
    close(err[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (probing && code != 0) {
        fprintf(stderr, "neoboot qemu: QEMU with KVM exited (%d) before the guest started; "
                        "falling back to TCG\n", code);
        return -1;
    }
    write_all(STDERR_FILENO, herr.buf, herr.n);
    write_all(STDOUT_FILENO, hout.buf, hout.n);
    return code;
}

int nb_cmd_qemu(int argc, char **argv);
int nb_cmd_qemu(int argc, char **argv)
{
    const char *cmd = "qemu";
    struct qemu_opts o;
    memset(&o, 0, sizeof o);
    o.machine = "q35";
    o.mem = "128M";
    o.accel = "auto";
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                if (o.nextra == MAX_EXTRA)
                    return nb_cmd_usage_error(cmd, "too many QEMU arguments");
                o.extra[o.nextra++] = argv[i];
            }
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(a, "--dry-run") == 0) {
            o.dry_run = true;
            continue;
        }
        if (strcmp(a, "--no-net") == 0) {
            o.no_net = true;
            continue;
        }
        if (strcmp(a, "--uefi") == 0) {
            o.uefi = true;
            continue;
        }
        if (a[0] != '-') {
            if (o.image)
                return nb_cmd_usage_error(cmd, "one image only (QEMU arguments go after --)");
            o.image = a;
            continue;
        }
        if (!v)
            return nb_cmd_usage_error(cmd, "%s needs a value", a);
        i++;
        if (strcmp(a, "--machine") == 0 || strcmp(a, "-M") == 0) {
            if (strncmp(v, "pc", 2) != 0 && strncmp(v, "q35", 3) != 0 &&
                strncmp(v, "microvm", 7) != 0)
                return nb_cmd_usage_error(cmd, "--machine: pc, q35 or microvm");
            o.machine = v;
        } else if (strcmp(a, "--mem") == 0 || strcmp(a, "-m") == 0) {
            o.mem = v;
        } else if (strcmp(a, "--accel") == 0) {
            if (strcmp(v, "auto") && strcmp(v, "kvm") && strcmp(v, "tcg"))
                return nb_cmd_usage_error(cmd, "--accel: auto, kvm or tcg");
            o.accel = v;
        } else if (strcmp(a, "-p") == 0) {
            if (o.nfwd == MAX_FWD)
                return nb_cmd_usage_error(cmd, "at most %d port forwards", MAX_FWD);
            o.fwd[o.nfwd++] = v;
        } else if (strcmp(a, "--tap") == 0) {
            o.tap = v;
        } else if (strcmp(a, "--initrd") == 0) {
            o.initrd = v;
        } else if (strcmp(a, "--append") == 0) {
            o.append = v;
        } else {
            return nb_cmd_usage_error(cmd, "unknown option '%s'", a);
        }
    }
    char defimg[4096];
    if (!o.image) {
        if (nb_default_image(defimg, sizeof defimg) != 0) {
            fprintf(stderr, "neoboot qemu: no image given and none beside this program "
                            "(make image, or neoboot image build)\n");
            return 2;
        }
        o.image = defimg;
    }
    if (access(o.image, R_OK) != 0) {
        fprintf(stderr, "neoboot qemu: cannot read %s: %s\n", o.image, strerror(errno));
        return 1;
    }
    size_t ilen = strlen(o.image);
    o.iso = ilen > 4 && strcasecmp(o.image + ilen - 4, ".iso") == 0;
    if (o.iso && (o.initrd || o.append))
        return nb_cmd_usage_error(cmd, "an ISO carries its own command line and modules: "
                                       "no --initrd or --append (neoboot image iso --cmdline)");
    if (o.uefi && !o.iso)
        return nb_cmd_usage_error(cmd, "--uefi boots a disk: make one with neoboot image iso");
    if ((o.iso || o.uefi) && strncmp(o.machine, "microvm", 7) == 0)
        return nb_cmd_usage_error(cmd, "microvm has no firmware to boot an ISO: use pc or q35");
    if (o.uefi && access(OVMF_PATH, R_OK) != 0) {
        fprintf(stderr, "neoboot qemu: --uefi needs %s (install the ovmf package; "
                        "scripts/setup.sh does)\n", OVMF_PATH);
        return 1;
    }
    if (o.tap && o.nfwd)
        return nb_cmd_usage_error(cmd, "-p forwards need slirp; on a TAP, reach the guest's "
                                       "address directly");
    if (o.tap)
        snprintf(o.netdev, sizeof o.netdev, "tap,id=n0,ifname=%s,script=no,downscript=no",
                 o.tap);
    else
        snprintf(o.netdev, sizeof o.netdev, "user,id=n0");
    for (int k = 0; k < o.nfwd; k++)
        if (add_forward(o.netdev, sizeof o.netdev, o.fwd[k]) != 0)
            return nb_cmd_usage_error(cmd, "-p %s: expected [udp:][ADDR:]HOSTPORT:GUESTPORT",
                                      o.fwd[k]);

    bool try_kvm = strcmp(o.accel, "kvm") == 0 ||
                   (strcmp(o.accel, "auto") == 0 && kvm_available());
    const char *qargv[MAX_ARGS];
    if (o.dry_run) {
        build_argv(&o, try_kvm ? "kvm" : "tcg", qargv);
        print_cmd(stdout, qargv);
        if (try_kvm && strcmp(o.accel, "auto") == 0) {
            printf("# if KVM cannot run the guest:\n");
            build_argv(&o, "tcg", qargv);
            print_cmd(stdout, qargv);
        }
        return 0;
    }
    for (int k = 0; k < o.nfwd; k++)
        fprintf(stderr, "neoboot qemu: forwarding %s to the guest\n", o.fwd[k]);
    fflush(stderr);
    /* QEMU gets the terminal's Ctrl-C (raw mode); a signal to us stops it
     * through the pipe closing, so ignore the ones the terminal sends. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    if (try_kvm) {
        build_argv(&o, "kvm", qargv);
        fprintf(stderr, "neoboot qemu: ");
        print_cmd(stderr, qargv);
        int rc = run_qemu(&o, qargv, true);
        if (rc >= 0 || strcmp(o.accel, "kvm") == 0)
            return rc < 0 ? 1 : rc;
    }
    build_argv(&o, "tcg", qargv);
    fprintf(stderr, "neoboot qemu: ");
    print_cmd(stderr, qargv);
    fflush(stderr);
    int rc = run_qemu(&o, qargv, false);
    return rc < 0 ? 1 : rc;
}
