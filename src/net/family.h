/*
 * The contract between the socket layer and address families (internal).
 *
 * The socket layer (socket.c) owns handles, blocking, timeouts, options
 * common to all families and readiness waiting. A family implements the
 * protocol behind an operations table whose calls never block: they return
 * NB_EAGAIN (or NB_EINPROGRESS for connect) and call nb_sock_wakeup() when
 * the socket's readiness may have changed.
 *
 * Lifetime: the socket layer allocates nb_sock and calls ops->create, which
 * sets s->priv. ops->close detaches the family state from the handle (the
 * family may keep it alive to finish a graceful close) and the socket
 * layer frees the handle. A family that must create sockets by itself
 * (accept) uses nb_sock_new(). Every family state object, attached to a
 * handle or lingering, is charged to its stack with nb_stack_charge(), so
 * one limit bounds everything a peer can make us hold.
 */
#ifndef NEOBOOT_NET_FAMILY_H
#define NEOBOOT_NET_FAMILY_H

#include <neoboot/iface.h>
#include <neoboot/net.h>

struct nb_family;
struct nb_jbuf;

struct nb_sock {
    struct nb_stack *st;
    const struct nb_family *fam;
    int family;   /* NB_AF_* asked for */
    int type;     /* NB_SOCK_* */
    uint32_t id;  /* per-stack number, for stats */
    bool nonblock;
    bool closed;  /* nb_close called; freed when no wait holds it */
    uint64_t rcvtimeo_ns, sndtimeo_ns;
    nb_sock_notify_fn notify;
    void *notify_arg;
    void *user;
    void *priv;   /* family state */
    struct nb_sock *next, *prev; /* the stack's list */
};

struct nb_family {
    const char *name;
    int families[2];   /* NB_AF_* served (0 = unused slot) */
    enum nb_link link; /* link type whose interfaces it takes, or 0 */
    size_t index;      /* slot in the stack's state array (set on register) */

    int (*stack_init)(struct nb_stack *st, void **state);
    void (*stack_fini)(struct nb_stack *st, void *state);
    int (*attach)(struct nb_stack *st, void *state, struct nb_iface *ifc);
    void (*detach)(struct nb_stack *st, void *state, struct nb_iface *ifc);

    int (*create)(nb_sock *s);
    int (*bind)(nb_sock *s, const struct nb_addr *addr);
    int (*listen)(nb_sock *s, int backlog);
    int (*accept)(nb_sock *s, nb_sock **out, struct nb_addr *peer);
    int (*connect)(nb_sock *s, const struct nb_addr *addr);
    long (*send)(nb_sock *s, const void *buf, size_t len, int flags,
                 const struct nb_addr *to);
    long (*recv)(nb_sock *s, void *buf, size_t len, int flags,
                 struct nb_addr *from);
    uint32_t (*poll)(nb_sock *s);
    int (*shutdown)(nb_sock *s, int how);
    void (*close)(nb_sock *s);
    int (*setopt)(nb_sock *s, int opt, int64_t value);
    int (*getopt)(nb_sock *s, int opt, int64_t *value);
    int (*getname)(nb_sock *s, struct nb_addr *out, bool peer);
    /* One line: state, addresses, queue depths (for stats). */
    void (*describe)(nb_sock *s, char *buf, size_t len);
    void (*print_stats)(struct nb_stack *st, void *state, nb_print_fn print,
                        void *arg);
    /* Counters as JSON object members ("name":value,...) without braces,
     * or nothing (optional). */
    void (*json_stats)(struct nb_stack *st, void *state, struct nb_jbuf *j);
};

/* Make a family available to every stack created afterwards. */
int nb_family_register(struct nb_family *fam);

/* The family's per-stack state. */
void *nb_stack_family_state(struct nb_stack *st, const struct nb_family *fam);

/* A new handle for a family-created socket (accept). NULL if out of memory. */
nb_sock *nb_sock_new(struct nb_stack *st, const struct nb_family *fam,
                     int family, int type);
/* Free a handle that was never given out (accept queue purge). */
void nb_sock_discard(nb_sock *s);

/* Readiness may have changed: notify the owner. */
void nb_sock_wakeup(nb_sock *s);

/* Account one family state object against the stack's limit. */
int nb_stack_charge(struct nb_stack *st);   /* 0 or NB_ENFILE */
void nb_stack_uncharge(struct nb_stack *st);

/* A bounded text buffer with snprintf semantics: len counts everything
 * that was asked for, cap what fits. */
struct nb_jbuf {
    char *p;
    size_t cap, len;
};
void nb_jprintf(struct nb_jbuf *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


#endif
