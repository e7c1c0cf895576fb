/*
 * The event loop: timers, posted work, and waiting.
 *
 * NeoBoot is single-threaded and run-to-completion. One loop per instance
 * runs posted work items (interface receive queues, deferred protocol
 * work), fires due timers, and when there is nothing to do blocks in
 * nb_platform_wait() until the earliest timer or device activity. Blocking
 * socket calls are built on nb_loop_run_once(): they run the loop until
 * their condition holds or their deadline passes. Nothing spins.
 *
 * Timers and work items are embedded in their owners (no allocation);
 * recover the owner with NB_CONTAINER_OF. Callbacks must not block: they
 * may call non-blocking socket functions, arm timers and post work.
 */
#ifndef NEOBOOT_LOOP_H
#define NEOBOOT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct nb_timer;
typedef void (*nb_timer_fn)(struct nb_timer *t);

struct nb_timer {
    uint64_t deadline;
    nb_timer_fn fn;
    /* pairing-heap links; armed iff in the heap */
    struct nb_timer *child, *sibling, *prev;
    bool armed;
};

void nb_timer_init(struct nb_timer *t, nb_timer_fn fn);
/* (Re)arm to fire once when the monotonic clock reaches deadline_ns. */
void nb_timer_arm(struct nb_timer *t, uint64_t deadline_ns);
/* Arm relative to now. */
void nb_timer_arm_in(struct nb_timer *t, uint64_t delay_ns);
void nb_timer_cancel(struct nb_timer *t);
static inline bool nb_timer_armed(const struct nb_timer *t)
{
    return t->armed;
}

struct nb_work;
typedef void (*nb_work_fn)(struct nb_work *w);

struct nb_work {
    nb_work_fn fn;
    struct nb_work *next;
    bool queued;
};

void nb_work_init(struct nb_work *w, nb_work_fn fn);
/* Run w->fn on the next loop iteration (once, however often posted). */
void nb_work_post(struct nb_work *w);
void nb_work_cancel(struct nb_work *w);

/*
 * One iteration: run posted work and due timers; if none ran, wait on the
 * platform until the earliest timer, deadline_ns, or device activity.
 * Returns the number of callbacks run (0 after a wait that found nothing).
 */
int nb_loop_run_once(uint64_t deadline_ns);

/*
 * Run iterations until cond(arg) is true (checked before each), deadline_ns
 * passes, or an interrupt is requested. Returns 0, NB_ETIMEDOUT or NB_EINTR.
 */
int nb_loop_run_until(bool (*cond)(void *arg), void *arg, uint64_t deadline_ns);

/*
 * Wait hooks, for libraries that keep their own descriptor sets and
 * timeouts (libslirp's pollfds_fill/pollfds_poll). Whenever the loop is
 * about to block in the platform, each hook's prepare runs and may lower
 * the deadline (it must not run protocol code or post work); after the
 * platform returns (or the deadline had already passed), each hook's
 * check runs, and may do anything a loop callback may. Hooks are called
 * only around waits: a loop that always has work never runs them.
 */
struct nb_loop_hook {
    void (*prepare)(struct nb_loop_hook *h, uint64_t *deadline_ns);
    void (*check)(struct nb_loop_hook *h);
    struct nb_loop_hook *next;
    bool added;
};
void nb_loop_hook_add(struct nb_loop_hook *h);
/* Safe from the hook's own callbacks. */
void nb_loop_hook_remove(struct nb_loop_hook *h);

/* Ask running nb_loop_run_until() calls to return NB_EINTR (e.g. Ctrl-C). */
void nb_loop_interrupt(void);
void nb_loop_clear_interrupt(void);
bool nb_loop_interrupted(void);

/* Nesting depth of blocking waits (for assertions: callbacks must not block). */
int nb_loop_depth(void);

struct nb_loop_stats {
    uint64_t iterations;
    uint64_t waits;        /* times the loop blocked on the platform */
    uint64_t work_run;
    uint64_t timers_fired;
    uint64_t timers_armed; /* currently armed */
    uint64_t hook_checks;  /* check hooks run */
};
void nb_loop_get_stats(struct nb_loop_stats *out);

#endif
