/*
 * WASI preview 1 for NeoBoot guests (see include/neoboot/wasi.h).
 *
 * Each import is a host function whose signature string lets the engine
 * check fixed-size pointer arguments (p8: a u64 result, a8: an iovec array)
 * before we run; pointers found inside guest structures (iovec buffers,
 * argv slots) are checked here with nb_wasm_hcall_mem(). Errors go back to
 * the guest as WASI errno values (-NB_E*). Only stdio descriptors 0..2
 * exist; there are no preopened directories, so wasi-libc's start-up scan
 * of fd_prestat_get ends at fd 3 with EBADF.
 */
#include <neoboot/err.h>
#include <neoboot/log.h>
#include <neoboot/platform.h>
#include <neoboot/wasi.h>

#include <string.h>

NB_LOG_MODULE(wasi);

#define MOD "wasi_snapshot_preview1"
#define WASI_ESPIPE 70
#define MAX_POLL_SUBS 1024u

static const struct nb_wasi_config *cfg_of(nb_wasm_hcall *hc)
{
    return nb_wasm_hcall_ctx(hc);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int ret(union nb_wasm_arg *r, int err)
{
    r[0].i32 = err < 0 ? -err : err;
    return NB_WASM_OK;
}

/* ---- args and environment ---- */

static int strings_sizes(const char *const *v, int n, uint8_t *count, uint8_t *size)
{
    uint32_t total = 0;
    for (int i = 0; i < n; i++)
        total += (uint32_t)strlen(v[i]) + 1;
    put32(count, (uint32_t)n);
    put32(size, total);
    return 0;
}

static int strings_get(nb_wasm_hcall *hc, const char *const *v, int n, uint32_t ptrs,
                       uint32_t buf)
{
    uint8_t *slots = nb_wasm_hcall_mem(hc, ptrs, (uint32_t)n * 4);
    if (!slots)
        return NB_EFAULT;
    for (int i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(v[i]) + 1;
        uint8_t *dst = nb_wasm_hcall_mem(hc, buf, len);
        if (!dst)
            return NB_EFAULT;
        memcpy(dst, v[i], len);
        put32(slots + 4 * i, buf);
        buf += len;
    }
    return 0;
}

static int env_count(const struct nb_wasi_config *c)
{
    int n = 0;
    while (c->envp && c->envp[n])
        n++;
    return n;
}

static int w_args_sizes_get(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    const struct nb_wasi_config *c = cfg_of(hc);
    return ret(r, strings_sizes(c->argv, c->argc, a[0].mem.ptr, a[1].mem.ptr));
}

static int w_args_get(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    const struct nb_wasi_config *c = cfg_of(hc);
    return ret(r, strings_get(hc, c->argv, c->argc, (uint32_t)a[0].i32, (uint32_t)a[1].i32));
}

static int w_environ_sizes_get(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    const struct nb_wasi_config *c = cfg_of(hc);
    return ret(r, strings_sizes(c->envp, env_count(c), a[0].mem.ptr, a[1].mem.ptr));
}

static int w_environ_get(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    const struct nb_wasi_config *c = cfg_of(hc);
    return ret(r, strings_get(hc, c->envp, env_count(c), (uint32_t)a[0].i32, (uint32_t)a[1].i32));
}

/* ---- clocks and randomness ---- */

enum { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS, CLOCK_THREAD };

static int clock_now(uint32_t id, uint64_t *out)
{
    switch (id) {
    case CLOCK_REALTIME: *out = nb_wallclock_ns(); return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_PROCESS:
    case CLOCK_THREAD: *out = nb_clock_ns(); return 0;
    default: return NB_EINVAL;
    }
}

static int w_clock_res_get(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    if ((uint32_t)a[0].i32 > CLOCK_THREAD)
        return ret(r, NB_EINVAL);
    put64(a[1].mem.ptr, 1000);
    return ret(r, 0);
}

static int w_clock_time_get(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    uint64_t now;
    int e = clock_now((uint32_t)a[0].i32, &now);
    if (!e)
        put64(a[2].mem.ptr, now);
    return ret(r, e);
}

static int w_random_get(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return ret(r, nb_platform_entropy(a[0].mem.ptr, a[0].mem.len));
}

/* ---- stdio ---- */

static int w_fd_write(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    const struct nb_wasi_config *c = cfg_of(hc);
    int fd = a[0].i32;
    if (fd != 1 && fd != 2)
        return ret(r, NB_EBADF);
    const uint8_t *iov = a[1].mem.ptr;
    uint32_t n = a[1].mem.len / 8, total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t base = get32(iov + 8 * i), len = get32(iov + 8 * i + 4);
        const uint8_t *p = nb_wasm_hcall_mem(hc, base, len);
        if (!p)
            return ret(r, NB_EFAULT);
        if (len == 0)
            continue;
        long w = c->write ? c->write(c->io, fd, p, len) : (long)len;
        if (w < 0) {
            if (total)
                break;
            return ret(r, (int)w);
        }
        total += (uint32_t)w;
        if ((uint32_t)w < len)
            break;
    }
    put32(a[2].mem.ptr, total);
    return ret(r, 0);
}

static int w_fd_read(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    const struct nb_wasi_config *c = cfg_of(hc);
    if (a[0].i32 != 0)
        return ret(r, NB_EBADF);
    const uint8_t *iov = a[1].mem.ptr;
    uint32_t n = a[1].mem.len / 8, total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t base = get32(iov + 8 * i), len = get32(iov + 8 * i + 4);
        uint8_t *p = nb_wasm_hcall_mem(hc, base, len);
        if (!p)
            return ret(r, NB_EFAULT);
        if (len == 0)
            continue;
        long got = c->read ? c->read(c->io, p, len) : 0;
        if (got < 0) {
            if (total)
                break;
            return ret(r, (int)got);
        }
        total += (uint32_t)got;
        if ((uint32_t)got < len)
            break; /* short read: return what we have */
    }
    put32(a[2].mem.ptr, total);
    return ret(r, 0);
}

static int w_fd_fdstat_get(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    int fd = a[0].i32;
    if (fd < 0 || fd > 2)
        return ret(r, NB_EBADF);
    const struct nb_wasi_config *c = cfg_of(hc);
    uint8_t *st = a[1].mem.ptr;
    memset(st, 0, 24);
    /* character device, unless the embedder knows it is a file or pipe */
    st[0] = c->is_terminal && !c->is_terminal(c->io, fd) ? 0 : 2;
    /* Rights: fd_read (bit 1) for stdin, fd_write (bit 6) for the others;
     * no seek or tell, which is how wasi-libc's isatty() knows a tty. */
    put64(st + 8, fd == 0 ? 1u << 1 : 1u << 6);
    return ret(r, 0);
}

static int w_fd_close(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return ret(r, a[0].i32 >= 0 && a[0].i32 <= 2 ? 0 : NB_EBADF);
}

static int w_fd_seek(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return ret(r, a[0].i32 >= 0 && a[0].i32 <= 2 ? -WASI_ESPIPE : NB_EBADF);
}

static int w_ebadf(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return ret(r, NB_EBADF); /* no preopened directories */
}

static int w_enosys(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return ret(r, NB_ENOSYS);
}

static int w_sched_yield(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return ret(r, 0);
}

static int w_proc_exit(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    return nb_wasm_hcall_exit(hc, a[0].i32);
}

/* ---- poll_oneoff: sleeping ---- */

/* Sleep until deadline; a trap code if the guest must stop instead. */
static int sleep_until(nb_wasm_hcall *hc, uint64_t deadline)
{
    const struct nb_wasi_config *c = cfg_of(hc);
    for (;;) {
        int stop = nb_wasm_hcall_should_stop(hc);
        if (stop)
            return stop;
        uint64_t now = nb_clock_ns();
        if (now >= deadline)
            return 0;
        uint64_t until = deadline, guest = nb_wasm_hcall_deadline(hc);
        if (guest < until)
            until = guest;
        if (c->wait_until)
            c->wait_until(c->wait_arg, until);
        else
            nb_platform_wait(until);
    }
}

static int w_poll_oneoff(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    uint32_t n = (uint32_t)a[2].i32;
    if (n == 0 || n > MAX_POLL_SUBS)
        return ret(r, NB_EINVAL);
    const uint8_t *in = nb_wasm_hcall_mem(hc, (uint32_t)a[0].i32, n * 48);
    uint8_t *out = nb_wasm_hcall_mem(hc, (uint32_t)a[1].i32, n * 32);
    if (!in || !out)
        return ret(r, NB_EFAULT);
    uint8_t *nevents = a[3].mem.ptr;
    uint64_t now = nb_clock_ns(), earliest = NB_FOREVER;
    uint32_t ready = 0;
    /* Descriptor subscriptions are always ready (stdio never blocks the
     * poll); clocks are collected for the sleep. */
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = in + 48 * i;
        uint8_t tag = s[8];
        if (tag == 0) {
            uint32_t id = get32(s + 16);
            uint64_t t = get64(s + 24), dl;
            uint16_t flags;
            memcpy(&flags, s + 40, 2);
            if (id > CLOCK_THREAD)
                return ret(r, NB_EINVAL);
            if (flags & 1) { /* absolute time on that clock */
                uint64_t base = 0;
                clock_now(id, &base);
                dl = t > base ? now + (t - base) : now;
            } else {
                dl = now + t < now ? NB_FOREVER - 1 : now + t;
            }
            if (dl < earliest)
                earliest = dl;
        } else {
            uint8_t *e = out + 32 * ready++;
            memset(e, 0, 32);
            memcpy(e, s, 8); /* userdata */
            uint32_t fd = get32(s + 16);
            uint16_t err = (tag == 1 && fd == 0) || (tag == 2 && (fd == 1 || fd == 2)) ? 0 : 8;
            memcpy(e + 8, &err, 2);
            e[10] = tag;
        }
    }
    if (ready == 0 && earliest != NB_FOREVER) {
        int stop = sleep_until(hc, earliest);
        if (stop)
            return stop;
        now = nb_clock_ns();
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *s = in + 48 * i;
            if (s[8] != 0)
                continue;
            uint8_t *e = out + 32 * ready++;
            memset(e, 0, 32);
            memcpy(e, s, 8);
            e[10] = 0;
        }
    }
    put32(nevents, ready);
    return ret(r, 0);
}

/* ---- the import table ---- */

struct wasi_fn {
    const char *name, *sig;
    nb_wasm_host_fn fn;
};

static const struct wasi_fn wasi_fns[] = {
    {"args_get", "(ii)i", w_args_get},
    {"args_sizes_get", "(p4p4)i", w_args_sizes_get},
    {"environ_get", "(ii)i", w_environ_get},
    {"environ_sizes_get", "(p4p4)i", w_environ_sizes_get},
    {"clock_res_get", "(ip8)i", w_clock_res_get},
    {"clock_time_get", "(iIp8)i", w_clock_time_get},
    {"fd_advise", "(iIIi)i", w_enosys},
    {"fd_allocate", "(iII)i", w_enosys},
    {"fd_close", "(i)i", w_fd_close},
    {"fd_datasync", "(i)i", w_enosys},
    {"fd_fdstat_get", "(ip24)i", w_fd_fdstat_get},
    {"fd_fdstat_set_flags", "(ii)i", w_enosys},
    {"fd_fdstat_set_rights", "(iII)i", w_enosys},
    {"fd_filestat_get", "(ii)i", w_enosys},
    {"fd_filestat_set_size", "(iI)i", w_enosys},
    {"fd_filestat_set_times", "(iIIi)i", w_enosys},
    {"fd_pread", "(iiiIi)i", w_enosys},
    {"fd_prestat_get", "(ii)i", w_ebadf},
    {"fd_prestat_dir_name", "(iii)i", w_ebadf},
    {"fd_pwrite", "(iiiIi)i", w_enosys},
    {"fd_read", "(ia8p4)i", w_fd_read},
    {"fd_readdir", "(iiiIi)i", w_enosys},
    {"fd_renumber", "(ii)i", w_enosys},
    {"fd_seek", "(iIii)i", w_fd_seek},
    {"fd_sync", "(i)i", w_enosys},
    {"fd_tell", "(ii)i", w_enosys},
    {"fd_write", "(ia8p4)i", w_fd_write},
    {"path_create_directory", "(iii)i", w_enosys},
    {"path_filestat_get", "(iiiii)i", w_enosys},
    {"path_filestat_set_times", "(iiiiIIi)i", w_enosys},
    {"path_link", "(iiiiiii)i", w_enosys},
    {"path_open", "(iiiiiIIii)i", w_enosys},
    {"path_readlink", "(iiiiii)i", w_enosys},
    {"path_remove_directory", "(iii)i", w_enosys},
    {"path_rename", "(iiiiii)i", w_enosys},
    {"path_symlink", "(iiiii)i", w_enosys},
    {"path_unlink_file", "(iii)i", w_enosys},
    {"poll_oneoff", "(iiip4)i", w_poll_oneoff},
    {"proc_exit", "(i)", w_proc_exit},
    {"proc_raise", "(i)i", w_enosys},
    {"sched_yield", "()i", w_sched_yield},
    {"random_get", "(b)i", w_random_get},
    {"sock_accept", "(iii)i", w_enosys},
    {"sock_recv", "(iiiiii)i", w_enosys},
    {"sock_send", "(iiiii)i", w_enosys},
    {"sock_shutdown", "(ii)i", w_enosys},
};

int nb_wasi_link(nb_wasm_store *s, const struct nb_wasi_config *cfg)
{
    for (size_t i = 0; i < sizeof wasi_fns / sizeof wasi_fns[0]; i++) {
        int rc = nb_wasm_define_func(s, MOD, wasi_fns[i].name, wasi_fns[i].sig,
                                     wasi_fns[i].fn, (void *)cfg);
        if (rc)
            return rc;
    }
    return 0;
}

int nb_wasi_start(nb_wasm_store *s, nb_wasm_instance *inst, int *status)
{
    nb_wasm_func *f = nb_wasm_find_func(inst, "_start");
    if (!f)
        return NB_ENOENT;
    int rc = nb_wasm_call(s, f, NULL, 0, NULL, 0);
    if (rc == NB_WASM_TRAP_EXIT) {
        *status = nb_wasm_exit_status(s);
        return 0;
    }
    if (rc == 0)
        *status = 0;
    else
        NB_DEBUG("guest stopped: %s", nb_wasm_trap_message(s));
    return rc;
}
