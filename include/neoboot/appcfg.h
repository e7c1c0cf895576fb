/*
 * App configuration: the text a bundle carries beside its app (written by
 * `neoboot image build` from its options), parsed into what the boot flow
 * and the app runner need -- the app's name, arguments and environment,
 * its capabilities, limits, the network setup and what to do when the app
 * ends. docs/image.md lists every key.
 *
 * The text is one `key=value` per line; blank lines and lines starting
 * with '#' are ignored; spaces around the key and the value are trimmed.
 * Repeatable keys (arg, env, allow-listen, allow-connect) keep their
 * order. Unknown keys, bad values and anything over a limit are errors
 * that name the line, so a typo fails at `image build` and at boot, never
 * silently. The parser never allocates: strings live in the struct's own
 * buffer, so a struct nb_appcfg must not be copied by value.
 *
 *     struct nb_appcfg *c = malloc(sizeof *c);
 *     char why[128];
 *     if (nb_appcfg_parse(c, text, len, why, sizeof why) != 0) ... why ...
 */
#ifndef NEOBOOT_APPCFG_H
#define NEOBOOT_APPCFG_H

#include <neoboot/caps.h>
#include <neoboot/net.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_APPCFG_MAX_ARGS 64      /* arg= lines (argv[0] is the name) */
#define NB_APPCFG_MAX_ENV 64       /* env= lines */
#define NB_APPCFG_LINE_MAX 1024    /* bytes in one line */
#define NB_APPCFG_NAME_MAX 63
#define NB_APPCFG_LOG_MAX 127
#define NB_APPCFG_TEXT_MAX (16u * 1024) /* = NB_BUNDLE_CONFIG_MAX */

enum nb_net_mode {
    NB_NET_DHCP = 0,     /* DHCPv4 on every Ethernet interface (default) */
    NB_NET_STATIC = 1,   /* a fixed IPv4 address on the first interface */
    NB_NET_NONE = 2,     /* interfaces up, no address configured */
};

/* `net=dhcp`, `net=none`, `net=static:IP/PREFIX[,gw=GW][,dns=DNS]` */
struct nb_netcfg {
    uint8_t mode;        /* enum nb_net_mode */
    uint8_t ip4[4];
    uint8_t prefix;
    bool has_gw;
    uint8_t gw4[4];
    bool has_dns;
    struct nb_addr dns;  /* IPv4 or IPv6, port 0 */
};

enum nb_on_exit {
    NB_ON_EXIT_SHELL = 0,    /* the console shell takes over (default) */
    NB_ON_EXIT_POWEROFF = 1,
    NB_ON_EXIT_REBOOT = 2,
    NB_ON_EXIT_RESTART = 3,  /* run the app again after a second */
};

struct nb_appcfg {
    char name[NB_APPCFG_NAME_MAX + 1];  /* name=: argv[0], log label; "app" */
    int argc;                            /* argv[0..argc-1], argv[argc] = NULL */
    const char *argv[NB_APPCFG_MAX_ARGS + 2];
    int nenv;
    const char *envp[NB_APPCFG_MAX_ENV + 1];   /* NULL-terminated */
    struct nb_caps caps;      /* listen >= 1024 unless allow-listen given;
                                 caps.boot from allow-boot= */
    bool listen_given;
    struct nb_netcfg net;     /* net= */
    bool net_given;
    char log[NB_APPCFG_LOG_MAX + 1];   /* log=: levels for nb_log_configure */
    uint64_t max_memory;      /* max-memory=: bytes, 0 = engine default */
    uint64_t fuel;            /* fuel=: 0 = unlimited */
    uint64_t timeout_s;       /* timeout=: seconds, 0 = none */
    uint32_t net_wait_s;      /* net-wait=: seconds to wait for an address (30) */
    uint8_t on_exit;          /* on-exit=: enum nb_on_exit */
    size_t strings_used;
    char strings[NB_APPCFG_TEXT_MAX + NB_APPCFG_MAX_ARGS + 2];  /* arg/env text */
};

/* Defaults: name "app", no arguments, default capabilities (see
 * docs/abi.md), DHCP, on-exit shell, net-wait 30 s. */
void nb_appcfg_defaults(struct nb_appcfg *c);

/*
 * Parse len bytes of configuration text into c (which is reset to the
 * defaults first). 0, or NB_EINVAL / NB_E2BIG with a message such as
 * "line 3: unknown key 'alow-listen'" in why (if why_len > 0).
 */
int nb_appcfg_parse(struct nb_appcfg *c, const char *text, size_t len, char *why,
                    size_t why_len);

/* Parse a net= value. 0 or NB_EINVAL (*why explains). */
int nb_netcfg_parse(struct nb_netcfg *n, const char *text, const char **why);
/* "dhcp", "none", "static:10.0.2.15/24,gw=10.0.2.2,dns=10.0.2.3". */
void nb_netcfg_format(const struct nb_netcfg *n, char *buf, size_t len);

/* Is text a valid nb_log_configure() spec? (Checks without applying.) */
bool nb_appcfg_log_spec_ok(const char *text);

/* The configuration as readable lines (for `image inspect` and the log). */
void nb_appcfg_print(const struct nb_appcfg *c, nb_print_fn print, void *arg);

#endif
