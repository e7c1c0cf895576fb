/*
 * `neoboot wasm`: run and check WebAssembly programs on the hosted build.
 *
 *   neoboot wasm run [--fuel N] [--timeout S] [--max-memory B] FILE.wasm [ARGS]
 *       runs a WASI command; the exit status is the program's
 *   neoboot wasm validate FILE.wasm
 *       decodes and validates; errors name the byte offset and reason
 *   neoboot wasm fuzz-exec FILE.wasm
 *       calls every exported function with zero arguments and prints a
 *       transcript in the format of binaryen's `wasm-opt --fuzz-exec`
 *       (like binaryen, it first calls "hangLimitInitializer" if exported)
 *       (used by tests/wasm/difffuzz.sh to compare with binaryen)
 *
 * The guest's stdout/stderr are the process's; Ctrl-C interrupts the guest
 * through nb_wasm_store_interrupt().
 */
#define _GNU_SOURCE
#include "commands.h"
#include "hosted.h"

#include <neoboot/err.h>
#include <neoboot/platform.h>
#include <neoboot/wasi.h>
#include <neoboot/wasm.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_TRAP 134 /* a trapped guest, as a crashed native program (SIGABRT) */

static nb_wasm_store *running;

static void on_interrupt(int sig)
{
    (void)sig;
    if (running)
        nb_wasm_store_interrupt(running);
    nb_platform_wake();
}

static nb_wasm_module *load(const char *path)
{
    size_t len;
    uint8_t *bytes = nb_cmd_read_file("wasm", path, 1u << 30, &len);
    if (!bytes)
        return NULL;
    struct nb_wasm_error err;
    nb_wasm_module *m = nb_wasm_module_load(bytes, len, &err);
    free(bytes);
    if (!m)
        fprintf(stderr, "neoboot wasm: %s: %s module at byte offset %zu (0x%zx): %s\n", path,
                err.code == NB_EILSEQ ? "malformed" : err.code == NB_EINVAL ? "invalid" : "unloadable",
                err.offset, err.offset, err.msg);
    return m;
}

static long host_write(void *io, int fd, const void *buf, size_t len)
{
    (void)io;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return done ? (long)done : (errno == EPIPE ? NB_EPIPE : NB_EIO);
        }
        done += (size_t)n;
    }
    return (long)done;
}

static long host_read(void *io, void *buf, size_t len)
{
    (void)io;
    for (;;) {
        ssize_t n = read(0, buf, len);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return NB_EIO;
    }
}

static int usage(void)
{
    fprintf(stderr,
            "usage: neoboot wasm run [--fuel N] [--timeout SECONDS] [--max-memory BYTES] FILE.wasm [ARGS...]\n"
            "       neoboot wasm validate FILE.wasm\n"
            "       neoboot wasm fuzz-exec FILE.wasm\n"
            "\n"
            "  --fuel N            stop the guest after N calls and loop iterations\n"
            "  --timeout SECONDS   stop the guest after this long (fractions allowed)\n"
            "  --max-memory BYTES  cap each linear memory (suffixes K, M, G)\n"
            "Exit status: the program's; 1 if it cannot be loaded; %d if it traps.\n",
            EXIT_TRAP);
    return 2;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1024, end++;
    else if (*end == 'M' || *end == 'm') mul = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g') mul = 1024ull * 1024 * 1024, end++;
    if (*end || v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    struct nb_wasm_config cfg = {0};
    uint64_t fuel = NB_WASM_FUEL_UNLIMITED, timeout_ns = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--")) {
            i++;
            break;
        }
        if (i + 1 >= argc)
            return nb_cmd_usage_error("wasm", "option %s needs a value", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--fuel")) {
            if (parse_size(v, &fuel) || fuel == 0)
                return nb_cmd_usage_error("wasm", "bad --fuel '%s'", v);
        } else if (!strcmp(o, "--timeout")) {
            char *end;
            double secs = strtod(v, &end);
            if (*end || !(secs > 0) || secs > 1e9)
                return nb_cmd_usage_error("wasm", "bad --timeout '%s'", v);
            timeout_ns = (uint64_t)(secs * 1e9);
        } else if (!strcmp(o, "--max-memory")) {
            if (parse_size(v, &cfg.max_memory_bytes) || cfg.max_memory_bytes == 0)
                return nb_cmd_usage_error("wasm", "bad --max-memory '%s'", v);
        } else {
            return nb_cmd_usage_error("wasm", "unknown option '%s'", o);
        }
    }
    if (i >= argc)
        return usage();
    nb_wasm_module *m = load(argv[i]);
    if (!m)
        return 1;
    nb_wasm_store *s = nb_wasm_store_new(&cfg);
    struct nb_wasi_config wasi = {
        .argc = argc - i,
        .argv = (const char *const *)argv + i,
        .envp = NULL,
        .write = host_write,
        .read = host_read,
    };
    int status = 1;
    if (!s || nb_wasi_link(s, &wasi)) {
        fprintf(stderr, "neoboot wasm: out of memory\n");
        goto out;
    }
    struct nb_wasm_error err;
    nb_wasm_instance *inst = nb_wasm_instantiate(s, m, argv[i], &err);
    if (!inst) {
        fprintf(stderr, "neoboot wasm: %s: cannot instantiate: %s\n", argv[i], err.msg);
        status = err.code == NB_ECANCELED ? EXIT_TRAP : 1;
        goto out;
    }
    nb_wasm_store_set_fuel(s, fuel);
    if (timeout_ns)
        nb_wasm_store_set_deadline(s, nb_clock_ns() + timeout_ns);
    running = s;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = nb_wasi_start(s, inst, &status);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    running = NULL;
    if (rc == NB_ENOENT) {
        fprintf(stderr, "neoboot wasm: %s: no _start export (not a WASI command)\n", argv[i]);
        status = 1;
    } else if (rc) {
        fprintf(stderr, "neoboot wasm: %s: trap: %s\n", argv[i], nb_wasm_trap_message(s));
        status = EXIT_TRAP;
    }
out:
    nb_wasm_store_free(s);
    nb_wasm_module_free(m);
    return status;
}

static int cmd_validate(int argc, char **argv)
{
    if (argc != 2)
        return usage();
    nb_wasm_module *m = load(argv[1]);
    if (!m)
        return 1;
    printf("%s: valid\n", argv[1]);
    nb_wasm_module_free(m);
    return 0;
}

/* ---- binaryen --fuzz-exec transcripts ---- */

static void print_float(double d, int is_nan, int neg, uint64_t payload)
{
    if (is_nan)
        printf("%snan:0x%" PRIx64, neg ? "-" : "", payload);
    else if (d == 0 && neg)
        printf("-0");
    else if (d == __builtin_inf())
        printf("inf");
    else if (d == -__builtin_inf())
        printf("-inf");
    else
        printf("%.17g", d);
}

static void print_val(const nb_wasm_val *v)
{
    switch (v->type) {
    case NB_WASM_I32: printf("%" PRId32, (int32_t)v->of.i32); break;
    case NB_WASM_I64: printf("%" PRId64, (int64_t)v->of.i64); break;
    case NB_WASM_F32: {
        float f;
        memcpy(&f, &v->of.f32, 4);
        print_float(f, f != f, v->of.f32 >> 31, v->of.f32 & 0x7fffff);
        break;
    }
    case NB_WASM_F64: {
        double d;
        memcpy(&d, &v->of.f64, 8);
        print_float(d, d != d, (int)(v->of.f64 >> 63), v->of.f64 & 0xfffffffffffffull);
        break;
    }
    case NB_WASM_FUNCREF: printf(v->of.ref ? "funcref(%p)" : "funcref(null)", v->of.ref); break;
    default: printf(v->of.ref ? "anyref(%p)" : "anyref(null)", v->of.ref); break;
    }
}

static int log_value(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    nb_wasm_val v = {0};
    v.type = (uint8_t)(uintptr_t)nb_wasm_hcall_ctx(hc);
    printf("[LoggingExternalInterface logging ");
    if (v.type == NB_WASM_I64) {
        /* binaryen logs an i64 as its low and high halves */
        printf("%" PRId32 " %" PRId32 "]\n", (int32_t)(uint32_t)a[0].i64,
               (int32_t)(uint32_t)((uint64_t)a[0].i64 >> 32));
        return 0;
    }
    if (v.type == NB_WASM_I32)
        v.of.i32 = (uint32_t)a[0].i32;
    else if (v.type == NB_WASM_F32)
        memcpy(&v.of.f32, &a[0].f32, 4);
    else
        memcpy(&v.of.f64, &a[0].f64, 8);
    print_val(&v);
    printf("]\n");
    return 0;
}

static int cmd_fuzz_exec(int argc, char **argv)
{
    if (argc != 2)
        return usage();
    nb_wasm_module *m = load(argv[1]);
    if (!m)
        return 1;
    nb_wasm_store *s = nb_wasm_store_new(NULL);
    nb_wasm_define_func(s, "fuzzing-support", "log-i32", "(i)", log_value, (void *)(uintptr_t)NB_WASM_I32);
    nb_wasm_define_func(s, "fuzzing-support", "log-i64", "(I)", log_value, (void *)(uintptr_t)NB_WASM_I64);
    nb_wasm_define_func(s, "fuzzing-support", "log-f32", "(f)", log_value, (void *)(uintptr_t)NB_WASM_F32);
    nb_wasm_define_func(s, "fuzzing-support", "log-f64", "(F)", log_value, (void *)(uintptr_t)NB_WASM_F64);
    struct nb_wasm_error err;
    nb_wasm_instance *inst = nb_wasm_instantiate(s, m, NULL, &err);
    int status = 0;
    if (!inst) {
        printf("[trap %s]\n", err.msg);
        status = 1;
        goto out;
    }
    for (uint32_t i = 0; i < nb_wasm_export_count(inst); i++) {
        int kind;
        size_t len;
        const char *name = nb_wasm_export_name(inst, i, &len, &kind);
        if (kind != 0)
            continue;
        nb_wasm_func *f = nb_wasm_find_func_n(inst, name, len);
        uint32_t np, nr;
        const uint8_t *pt;
        nb_wasm_func_type(f, &np, &pt, &nr, NULL);
        nb_wasm_val args[64], res[64];
        if (np > 64 || nr > 64)
            continue;
        for (uint32_t k = 0; k < np; k++) {
            args[k].type = pt[k];
            args[k].of.i64 = 0;
        }
        printf("[fuzz-exec] calling %s\n", name);
        fflush(stdout);
        /* binaryen's harness resets the fuzzer's hang limit before every
         * export it calls; so do we. */
        nb_wasm_func *reset = nb_wasm_find_func(inst, "hangLimitInitializer");
        if (reset && nb_wasm_call(s, reset, NULL, 0, NULL, 0)) {
            printf("[trap %s]\n", nb_wasm_trap_message(s));
            continue;
        }
        int rc = nb_wasm_call(s, f, args, np, res, nr);
        if (rc) {
            printf("[trap %s]\n", nb_wasm_trap_message(s));
            continue;
        }
        if (nr == 0)
            continue;
        printf("[fuzz-exec] note result: %s => ", name);
        if (nr == 1 && (res[0].type == NB_WASM_FUNCREF || res[0].type == NB_WASM_EXTERNREF)) {
            /* binaryen prints a single reference result as its type only */
            printf(res[0].type == NB_WASM_FUNCREF ? "funcref\n" : "anyref\n");
            continue;
        }
        if (nr > 1)
            printf("(");
        for (uint32_t k = 0; k < nr; k++) {
            if (k)
                printf(", ");
            print_val(&res[k]);
        }
        printf(nr > 1 ? ")\n" : "\n");
    }
out:
    fflush(stdout);
    nb_wasm_store_free(s);
    nb_wasm_module_free(m);
    return status;
}

int nb_cmd_wasm(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage();
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "validate"))
        return cmd_validate(argc - 1, argv + 1);
    if (!strcmp(argv[1], "fuzz-exec"))
        return cmd_fuzz_exec(argc - 1, argv + 1);
    return nb_cmd_usage_error("wasm", "unknown subcommand '%s'", argv[1]);
}
