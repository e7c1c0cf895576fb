/*
 * The WebAssembly spec-test runner.
 *
 * Runs the JSON scripts that wabt's wast2json makes from the official
 * *.wast files (tests/wasm/conformance.sh converts them at test time) against
 * the engine: modules, register, invoke/get actions and every assertion
 * kind. Text-format assert_malformed modules cannot be run by a binary
 * engine; they are counted and listed as skipped. Trap messages are
 * compared by prefix with the spec's text.
 *
 *     spectest [-v] FILE.json...
 *
 * Prints one line per file and a total "N passed, N failed, N skipped";
 * exits 1 if anything failed.
 */
#include <neoboot/err.h>
#include <neoboot/platform.h>
#include <neoboot/wasm.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int verbose;
static long total_pass, total_fail, total_skip;
static long file_pass, file_fail, file_skip;
static const char *cur_file;

#define MAX_NAMED 256

struct runner {
    nb_wasm_store *store;
    nb_wasm_instance *current;
    nb_wasm_module *modules[4096];
    int nmodules;
    struct {
        char *name;
        nb_wasm_instance *inst;
    } named[MAX_NAMED];
    int nnamed;
    char dir[1024];
};

static void failf(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stdout, "FAIL %s:%d: ", cur_file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    file_fail++;
}

static void pass(void) { file_pass++; }

/*
 * Export names are byte strings that may contain NUL, which cJSON's C
 * strings cannot hold. Every action has exactly one "field", in command
 * order, so the raw JSON's "field" strings are decoded here, in order.
 */
struct field {
    char *bytes;
    size_t len;
};
static struct field *fields;
static size_t nfields, next_field;

static void put_utf8(char **o, unsigned cp)
{
    char *p = *o;
    if (cp < 0x80) *p++ = (char)cp;
    else if (cp < 0x800) { *p++ = (char)(0xc0 | cp >> 6); *p++ = (char)(0x80 | (cp & 0x3f)); }
    else if (cp < 0x10000) { *p++ = (char)(0xe0 | cp >> 12); *p++ = (char)(0x80 | (cp >> 6 & 0x3f));
                             *p++ = (char)(0x80 | (cp & 0x3f)); }
    else { *p++ = (char)(0xf0 | cp >> 18); *p++ = (char)(0x80 | (cp >> 12 & 0x3f));
           *p++ = (char)(0x80 | (cp >> 6 & 0x3f)); *p++ = (char)(0x80 | (cp & 0x3f)); }
    *o = p;
}

static void scan_fields(const char *text)
{
    nfields = next_field = 0;
    const char *p = text;
    while ((p = strstr(p, "\"field\": \"")) != NULL) {
        p += 10;
        char *out = malloc(strlen(p) * 4 + 1), *o = out;
        while (*p && *p != '"') {
            if (*p != '\\') { *o++ = *p++; continue; }
            p++;
            char c = *p++;
            switch (c) {
            case 'n': *o++ = '\n'; break;
            case 't': *o++ = '\t'; break;
            case 'r': *o++ = '\r'; break;
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'u': {
                unsigned cp = (unsigned)strtoul((char[5]){p[0], p[1], p[2], p[3], 0}, NULL, 16);
                p += 4;
                if (cp >= 0xd800 && cp < 0xdc00 && p[0] == '\\' && p[1] == 'u') {
                    unsigned lo = (unsigned)strtoul((char[5]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
                    p += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                put_utf8(&o, cp);
                break;
            }
            default: *o++ = c; break;
            }
        }
        fields = realloc(fields, (nfields + 1) * sizeof *fields);
        fields[nfields].bytes = out;
        fields[nfields].len = (size_t)(o - out);
        nfields++;
    }
}

static void free_fields(void)
{
    for (size_t i = 0; i < nfields; i++)
        free(fields[i].bytes);
    free(fields);
    fields = NULL;
    nfields = 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int h_print(nb_wasm_hcall *hc, const union nb_wasm_arg *a, union nb_wasm_arg *r)
{
    (void)hc; (void)a; (void)r;
    return 0;
}

static void define_spectest(nb_wasm_store *s)
{
    nb_wasm_define_func(s, "spectest", "print", "()", h_print, NULL);
    nb_wasm_define_func(s, "spectest", "print_i32", "(i)", h_print, NULL);
    nb_wasm_define_func(s, "spectest", "print_i64", "(I)", h_print, NULL);
    nb_wasm_define_func(s, "spectest", "print_f32", "(f)", h_print, NULL);
    nb_wasm_define_func(s, "spectest", "print_f64", "(F)", h_print, NULL);
    nb_wasm_define_func(s, "spectest", "print_i32_f32", "(if)", h_print, NULL);
    nb_wasm_define_func(s, "spectest", "print_f64_f64", "(FF)", h_print, NULL);
    nb_wasm_val v;
    v.type = NB_WASM_I32; v.of.i64 = 0; v.of.i32 = 666;
    nb_wasm_define_global(s, "spectest", "global_i32", v, 0);
    v.type = NB_WASM_I64; v.of.i64 = 666;
    nb_wasm_define_global(s, "spectest", "global_i64", v, 0);
    float f = 666.6f;
    v.type = NB_WASM_F32; v.of.i64 = 0; memcpy(&v.of.f32, &f, 4);
    nb_wasm_define_global(s, "spectest", "global_f32", v, 0);
    double d = 666.6;
    v.type = NB_WASM_F64; memcpy(&v.of.f64, &d, 8);
    nb_wasm_define_global(s, "spectest", "global_f64", v, 0);
    nb_wasm_define_table(s, "spectest", "table", NB_WASM_FUNCREF, 10, 20);
    nb_wasm_define_memory(s, "spectest", "memory", 1, 2);
}

static nb_wasm_instance *lookup(struct runner *r, const cJSON *name)
{
    if (!cJSON_IsString(name))
        return r->current;
    for (int i = r->nnamed - 1; i >= 0; i--)
        if (strcmp(r->named[i].name, name->valuestring) == 0)
            return r->named[i].inst;
    return NULL;
}

static uint8_t type_of(const char *t)
{
    if (!strcmp(t, "i32")) return NB_WASM_I32;
    if (!strcmp(t, "i64")) return NB_WASM_I64;
    if (!strcmp(t, "f32")) return NB_WASM_F32;
    if (!strcmp(t, "f64")) return NB_WASM_F64;
    if (!strcmp(t, "funcref")) return NB_WASM_FUNCREF;
    if (!strcmp(t, "externref")) return NB_WASM_EXTERNREF;
    return 0;
}

/* externref N is the opaque pointer N+1 (so that 0 stays distinct from null). */
static int parse_val(const cJSON *j, nb_wasm_val *v, int *nan_kind)
{
    const cJSON *t = cJSON_GetObjectItem(j, "type"), *val = cJSON_GetObjectItem(j, "value");
    if (!cJSON_IsString(t))
        return -1;
    v->type = type_of(t->valuestring);
    v->of.i64 = 0;
    if (nan_kind)
        *nan_kind = 0;
    if (!v->type || !cJSON_IsString(val))
        return -1;
    const char *s = val->valuestring;
    if (nan_kind && !strcmp(s, "nan:canonical")) { *nan_kind = 1; return 0; }
    if (nan_kind && !strcmp(s, "nan:arithmetic")) { *nan_kind = 2; return 0; }
    if (v->type == NB_WASM_FUNCREF || v->type == NB_WASM_EXTERNREF) {
        if (!strcmp(s, "null"))
            v->of.ref = NULL;
        else
            v->of.ref = (void *)(uintptr_t)(strtoull(s, NULL, 10) + 1);
        return 0;
    }
    uint64_t u = strtoull(s, NULL, 10);
    if (v->type == NB_WASM_I32 || v->type == NB_WASM_F32)
        v->of.i32 = (uint32_t)u;
    else
        v->of.i64 = u;
    return 0;
}

static void fmt_val(char *buf, size_t n, const nb_wasm_val *v)
{
    switch (v->type) {
    case NB_WASM_I32: snprintf(buf, n, "i32:%" PRIu32, v->of.i32); break;
    case NB_WASM_F32: snprintf(buf, n, "f32:0x%08" PRIx32, v->of.f32); break;
    case NB_WASM_I64: snprintf(buf, n, "i64:%" PRIu64, v->of.i64); break;
    case NB_WASM_F64: snprintf(buf, n, "f64:0x%016" PRIx64, v->of.f64); break;
    default: snprintf(buf, n, "ref:%p", v->of.ref); break;
    }
}

static int check_val(const nb_wasm_val *got, const cJSON *exp)
{
    nb_wasm_val want;
    int nan_kind;
    if (parse_val(exp, &want, &nan_kind))
        return 0;
    if (got->type != want.type)
        return 0;
    if (nan_kind) {
        if (want.type == NB_WASM_F32) {
            uint32_t b = got->of.f32;
            if ((b & 0x7f800000u) != 0x7f800000u || !(b & 0x7fffffu))
                return 0;
            return nan_kind == 1 ? (b & 0x7fffffu) == 0x400000u : (b & 0x400000u) != 0;
        }
        uint64_t b = got->of.f64;
        if ((b & 0x7ff0000000000000ull) != 0x7ff0000000000000ull || !(b & 0xfffffffffffffull))
            return 0;
        return nan_kind == 1 ? (b & 0xfffffffffffffull) == 0x8000000000000ull
                             : (b & 0x8000000000000ull) != 0;
    }
    switch (want.type) {
    case NB_WASM_I32: case NB_WASM_F32: return got->of.i32 == want.of.i32;
    case NB_WASM_I64: case NB_WASM_F64: return got->of.i64 == want.of.i64;
    case NB_WASM_FUNCREF:
        /* Only null is spelled in expectations; "non-null" is not used here. */
        return got->of.ref == want.of.ref;
    default: return got->of.ref == want.of.ref;
    }
}

/* Run an action; returns the trap (0 ok, <0 could not run). */
static int do_action(struct runner *r, const cJSON *act, nb_wasm_val *res, size_t *nres, int line)
{
    const cJSON *type = cJSON_GetObjectItem(act, "type");
    const cJSON *field = cJSON_GetObjectItem(act, "field");
    nb_wasm_instance *inst = lookup(r, cJSON_GetObjectItem(act, "module"));
    struct field fb = {field ? field->valuestring : NULL, 0};
    if (next_field < nfields)
        fb = fields[next_field++];
    if (!inst || !cJSON_IsString(field)) {
        failf(line, "action on unknown module");
        return -1;
    }
    if (!strcmp(type->valuestring, "get")) {
        if (nb_wasm_get_global_n(inst, fb.bytes, fb.len, &res[0])) {
            failf(line, "no global %s", field->valuestring);
            return -1;
        }
        *nres = 1;
        return 0;
    }
    nb_wasm_func *f = nb_wasm_find_func_n(inst, fb.bytes, fb.len);
    if (!f) {
        failf(line, "no function %s", field->valuestring);
        return -1;
    }
    nb_wasm_val args[64];
    size_t nargs = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(act, "args")) {
        if (nargs >= 64 || parse_val(a, &args[nargs], NULL)) {
            failf(line, "bad argument");
            return -1;
        }
        nargs++;
    }
    uint32_t nr;
    nb_wasm_func_type(f, NULL, NULL, &nr, NULL);
    if (nr > 64)
        return -1;
    *nres = nr;
    return nb_wasm_call(r->store, f, args, nargs, res, nr);
}

static nb_wasm_module *load(struct runner *r, const char *file, struct nb_wasm_error *err)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", r->dir, file);
    size_t len;
    uint8_t *b = read_file(path, &len);
    if (!b) {
        snprintf(err->msg, sizeof err->msg, "cannot read %s", path);
        err->code = NB_ENOENT;
        return NULL;
    }
    nb_wasm_module *m = nb_wasm_module_load(b, len, err);
    free(b);
    if (m && r->nmodules < 4096)
        r->modules[r->nmodules++] = m;
    else if (m) {
        nb_wasm_module_free(m);
        m = NULL;
    }
    return m;
}

static void run_command(struct runner *r, const cJSON *c)
{
    const char *type = cJSON_GetObjectItem(c, "type")->valuestring;
    int line = cJSON_GetObjectItem(c, "line") ? cJSON_GetObjectItem(c, "line")->valueint : 0;
    const cJSON *filename = cJSON_GetObjectItem(c, "filename");
    const cJSON *mtype = cJSON_GetObjectItem(c, "module_type");
    struct nb_wasm_error err;
    if (!strcmp(type, "module")) {
        nb_wasm_module *m = load(r, filename->valuestring, &err);
        if (!m) {
            failf(line, "module failed to load: %s (offset %zu)", err.msg, err.offset);
            r->current = NULL;
            return;
        }
        nb_wasm_instance *inst = nb_wasm_instantiate(r->store, m, filename->valuestring, &err);
        if (!inst) {
            failf(line, "module failed to instantiate: %s", err.msg);
            r->current = NULL;
            return;
        }
        r->current = inst;
        const cJSON *name = cJSON_GetObjectItem(c, "name");
        if (cJSON_IsString(name) && r->nnamed < MAX_NAMED) {
            r->named[r->nnamed].name = name->valuestring;
            r->named[r->nnamed].inst = inst;
            r->nnamed++;
        }
        pass();
    } else if (!strcmp(type, "register")) {
        nb_wasm_instance *inst = lookup(r, cJSON_GetObjectItem(c, "name"));
        if (!inst || nb_wasm_register(r->store, cJSON_GetObjectItem(c, "as")->valuestring, inst))
            failf(line, "register failed");
        else
            pass();
    } else if (!strcmp(type, "action") || !strcmp(type, "assert_return")) {
        nb_wasm_val res[64];
        size_t nres = 0;
        int rc = do_action(r, cJSON_GetObjectItem(c, "action"), res, &nres, line);
        if (rc < 0 && rc != -1)
            failf(line, "call rejected: %s", nb_strerror(rc));
        if (rc > 0)
            failf(line, "unexpected trap: %s", nb_wasm_trap_message(r->store));
        if (rc)
            return;
        const cJSON *exp = cJSON_GetObjectItem(c, "expected");
        if (!strcmp(type, "assert_return")) {
            int n = cJSON_GetArraySize(exp);
            if ((size_t)n != nres) {
                failf(line, "expected %d results, got %zu", n, nres);
                return;
            }
            for (int i = 0; i < n; i++) {
                const cJSON *e = cJSON_GetArrayItem(exp, i);
                if (!check_val(&res[i], e)) {
                    char got[64];
                    fmt_val(got, sizeof got, &res[i]);
                    char *es = cJSON_PrintUnformatted(e);
                    failf(line, "result %d: got %s, expected %s", i, got, es);
                    free(es);
                    return;
                }
            }
        }
        pass();
    } else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
        nb_wasm_val res[64];
        size_t nres = 0;
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        int rc = do_action(r, cJSON_GetObjectItem(c, "action"), res, &nres, line);
        if (rc == -1)
            return;
        if (rc <= 0) {
            failf(line, "expected trap \"%s\", got %s", text, rc ? nb_strerror(rc) : "success");
            return;
        }
        const char *msg = nb_wasm_trap_message(r->store);
        if (strncmp(msg, text, strlen(text)) != 0 &&
            /* the spec spells some traps with a suffix we do not add */
            strncmp(text, msg, strlen(nb_wasm_trap_name(rc))) != 0) {
            failf(line, "expected trap \"%s\", got \"%s\"", text, msg);
            return;
        }
        pass();
    } else if (!strcmp(type, "assert_malformed") || !strcmp(type, "assert_invalid")) {
        if (cJSON_IsString(mtype) && !strcmp(mtype->valuestring, "text")) {
            printf("SKIP %s:%d: %s with a text-format module\n", cur_file, line, type);
            file_skip++;
            return;
        }
        nb_wasm_module *m = load(r, filename->valuestring, &err);
        if (m) {
            failf(line, "%s: module loaded, expected \"%s\"", type,
                  cJSON_GetObjectItem(c, "text")->valuestring);
            return;
        }
        if (verbose)
            printf("ok %s:%d: %s (ours: %s at %zu)\n", cur_file, line,
                   cJSON_GetObjectItem(c, "text")->valuestring, err.msg, err.offset);
        pass();
    } else if (!strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable")) {
        nb_wasm_module *m = load(r, filename->valuestring, &err);
        if (!m) {
            failf(line, "%s: module failed to load: %s", type, err.msg);
            return;
        }
        nb_wasm_instance *inst = nb_wasm_instantiate(r->store, m, filename->valuestring, &err);
        if (inst) {
            failf(line, "%s: instantiation succeeded", type);
            return;
        }
        bool trapped = err.code == NB_ECANCELED;
        if (trapped != !strcmp(type, "assert_uninstantiable")) {
            failf(line, "%s: wrong failure kind: %s", type, err.msg);
            return;
        }
        pass();
    } else {
        failf(line, "unknown command %s", type);
    }
}

static void run_file(const char *path)
{
    size_t len;
    char *text = (char *)read_file(path, &len);
    cur_file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    file_pass = file_fail = file_skip = 0;
    if (!text) {
        printf("FAIL %s: cannot read\n", path);
        total_fail++;
        return;
    }
    text = realloc(text, len + 1);
    text[len] = 0;
    scan_fields(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) {
        printf("FAIL %s: bad JSON\n", path);
        total_fail++;
        return;
    }
    struct runner *r = calloc(1, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", path);
    char *slash = strrchr(r->dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(r->dir, ".");
    r->store = nb_wasm_store_new(NULL);
    define_spectest(r->store);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "commands"))
        run_command(r, c);
    nb_wasm_store_free(r->store);
    for (int i = 0; i < r->nmodules; i++)
        nb_wasm_module_free(r->modules[i]);
    free(r);
    cJSON_Delete(root);
    free_fields();
    printf("%-40s %5ld passed, %ld failed, %ld skipped\n", cur_file, file_pass, file_fail,
           file_skip);
    total_pass += file_pass;
    total_fail += file_fail;
    total_skip += file_skip;
}

int main(int argc, char **argv)
{
    int i = 1, files = 0;
    if (i < argc && !strcmp(argv[i], "-v")) {
        verbose = 1;
        i++;
    }
    for (; i < argc; i++, files++)
        run_file(argv[i]);
    printf("spectest: %d files\n", files);
    printf("%ld passed, %ld failed, %ld skipped\n", total_pass, total_fail, total_skip);
    return total_fail ? 1 : 0;
}
