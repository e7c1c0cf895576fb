/*
 * The event loop (see include/neoboot/loop.h for the model).
 *
 * Timers live in an intrusive pairing heap: arming is O(1), firing and
 * cancelling O(log n) amortised, and no allocation is needed, so arming
 * a timer can never fail. Posted work is a FIFO of intrusive items; each
 * iteration runs the items queued when it started, so work that re-posts
 * itself cannot starve timers or the wait.
 */
#include <neoboot/err.h>
#include <neoboot/loop.h>
#include <neoboot/platform.h>

#include <stddef.h>

/* Cap on timers fired per iteration, so a timer that re-arms itself in the
 * past cannot hold the loop forever. */
#define TIMERS_PER_ITERATION 1024

static struct nb_timer *timer_root;
static struct nb_work *work_head, *work_tail;
static volatile int loop_interrupted;
static int loop_depth;
static struct nb_loop_stats loop_stats;
static struct nb_loop_hook *hooks;

/* --- pairing heap --- */

static struct nb_timer *heap_meld(struct nb_timer *a, struct nb_timer *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (b->deadline < a->deadline) {
        struct nb_timer *t = a;
        a = b;
        b = t;
    }
    /* b becomes a's first child */
    b->sibling = a->child;
    if (a->child)
        a->child->prev = b;
    b->prev = a;
    a->child = b;
    a->sibling = NULL;
    a->prev = NULL;
    return a;
}

static struct nb_timer *heap_merge_pairs(struct nb_timer *first)
{
    struct nb_timer *pairs = NULL;
    while (first) {
        struct nb_timer *a = first, *b = a->sibling;
        if (!b) {
            a->prev = NULL;
            a->sibling = pairs;
            pairs = a;
            break;
        }
        first = b->sibling;
        a->sibling = b->sibling = NULL;
        a->prev = b->prev = NULL;
        struct nb_timer *m = heap_meld(a, b);
        m->sibling = pairs;
        pairs = m;
    }
    struct nb_timer *root = NULL;
    while (pairs) {
        struct nb_timer *next = pairs->sibling;
        pairs->sibling = NULL;
        root = heap_meld(root, pairs);
        pairs = next;
    }
    if (root)
        root->prev = NULL;
    return root;
}

static void heap_remove(struct nb_timer *t)
{
    if (t == timer_root) {
        timer_root = heap_merge_pairs(t->child);
    } else {
        if (t->prev->child == t)
            t->prev->child = t->sibling;
        else
            t->prev->sibling = t->sibling;
        if (t->sibling)
            t->sibling->prev = t->prev;
        t->sibling = NULL;
        timer_root = heap_meld(timer_root, heap_merge_pairs(t->child));
    }
    t->child = t->sibling = t->prev = NULL;
}

void nb_timer_init(struct nb_timer *t, nb_timer_fn fn)
{
    t->deadline = 0;
    t->fn = fn;
    t->child = t->sibling = t->prev = NULL;
    t->armed = false;
}

void nb_timer_arm(struct nb_timer *t, uint64_t deadline_ns)
{
    if (t->armed)
        nb_timer_cancel(t);
    t->deadline = deadline_ns;
    t->child = t->sibling = t->prev = NULL;
    t->armed = true;
    loop_stats.timers_armed++;
    timer_root = heap_meld(timer_root, t);
}

void nb_timer_arm_in(struct nb_timer *t, uint64_t delay_ns)
{
    uint64_t now = nb_clock_ns();
    nb_timer_arm(t, delay_ns > NB_FOREVER - now ? NB_FOREVER : now + delay_ns);
}

void nb_timer_cancel(struct nb_timer *t)
{
    if (!t->armed)
        return;
    heap_remove(t);
    t->armed = false;
    loop_stats.timers_armed--;
}

/* --- work --- */

void nb_work_init(struct nb_work *w, nb_work_fn fn)
{
    w->fn = fn;
    w->next = NULL;
    w->queued = false;
}

void nb_work_post(struct nb_work *w)
{
    if (w->queued)
        return;
    w->queued = true;
    w->next = NULL;
    if (work_tail)
        work_tail->next = w;
    else
        work_head = w;
    work_tail = w;
}

void nb_work_cancel(struct nb_work *w)
{
    if (!w->queued)
        return;
    struct nb_work **pp = &work_head, *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = w->next;
        if (work_tail == w)
            work_tail = prev;
    }
    w->queued = false;
    w->next = NULL;
}

/* --- running --- */

int nb_loop_run_once(uint64_t deadline_ns)
{
    int ran = 0;
    loop_stats.iterations++;

    /* Work queued before this iteration; later posts wait for the next. */
    struct nb_work *batch_tail = work_tail;
    while (work_head) {
        struct nb_work *w = work_head;
        work_head = w->next;
        if (!work_head)
            work_tail = NULL;
        w->next = NULL;
        w->queued = false;
        w->fn(w);
        ran++;
        loop_stats.work_run++;
        if (w == batch_tail)
            break;
    }

    uint64_t now = nb_clock_ns();
    for (int i = 0; i < TIMERS_PER_ITERATION && timer_root &&
                    timer_root->deadline <= now;
         i++) {
        struct nb_timer *t = timer_root;
        nb_timer_cancel(t);
        t->fn(t);
        ran++;
        loop_stats.timers_fired++;
    }

    if (ran == 0 && !work_head && !loop_interrupted) {
        uint64_t until = deadline_ns;
        if (timer_root && timer_root->deadline < until)
            until = timer_root->deadline;
        for (struct nb_loop_hook *h = hooks; h; h = h->next)
            if (h->prepare)
                h->prepare(h, &until);
        if (until > now) {
            loop_stats.waits++;
            nb_platform_wait(until);
        }
        for (struct nb_loop_hook *h = hooks, *next; h; h = next) {
            next = h->next; /* check may remove h */
            if (h->check) {
                h->check(h);
                loop_stats.hook_checks++;
            }
        }
    }
    return ran;
}

int nb_loop_run_until(bool (*cond)(void *arg), void *arg, uint64_t deadline_ns)
{
    int rc;
    loop_depth++;
    for (;;) {
        if (cond && cond(arg)) {
            rc = 0;
            break;
        }
        if (loop_interrupted) {
            rc = NB_EINTR;
            break;
        }
        if (deadline_ns != NB_FOREVER && nb_clock_ns() >= deadline_ns) {
            rc = NB_ETIMEDOUT;
            break;
        }
        nb_loop_run_once(deadline_ns);
    }
    loop_depth--;
    return rc;
}

/* --- wait hooks --- */

void nb_loop_hook_add(struct nb_loop_hook *h)
{
    if (h->added)
        return;
    h->added = true;
    h->next = NULL;
    struct nb_loop_hook **pp = &hooks;
    while (*pp)
        pp = &(*pp)->next;
    *pp = h;
}

void nb_loop_hook_remove(struct nb_loop_hook *h)
{
    if (!h->added)
        return;
    for (struct nb_loop_hook **pp = &hooks; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    }
    h->added = false;
    /* h->next is left alone so a check loop walking past h goes on */
}

void nb_loop_interrupt(void)
{
    loop_interrupted = 1;
    nb_platform_wake();
}

void nb_loop_clear_interrupt(void) { loop_interrupted = 0; }
bool nb_loop_interrupted(void) { return loop_interrupted != 0; }
int nb_loop_depth(void) { return loop_depth; }

void nb_loop_get_stats(struct nb_loop_stats *out)
{
    *out = loop_stats;
}
