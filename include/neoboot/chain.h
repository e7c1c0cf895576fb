/*
 * Chaining: replace the running app with another. `chain APP` stores the
 * next app and stops the current one (through the runner's interrupt);
 * whoever runs apps at the top level (the pc boot flow, the shell's `run`)
 * calls nb_run_chained(), which runs an app and then every app chained
 * after it, freeing each before the next starts.
 */
#ifndef NEOBOOT_CHAIN_H
#define NEOBOOT_CHAIN_H

#include <neoboot/runner.h>

#include <stdbool.h>
#include <stddef.h>

/* Ask for buf (a bundle or bare module; copied) to run next, stopping the
 * running app if there is one. 0, NB_ENOMEM. A later request replaces an
 * earlier one still pending. */
int nb_chain_request(const void *buf, size_t len, const char *label);
bool nb_chain_pending(void);
/* Drop a pending request. */
void nb_chain_cancel(void);

struct nb_chain_stats {
    uint64_t requested, started;
};
void nb_chain_get_stats(struct nb_chain_stats *out);

/* Run buf (nb_run_blob), then whatever was chained while it ran, until
 * nothing more is pending. report(arg, label, rc, res) is told how each
 * ended (may be NULL). Returns the last run's rc. */
int nb_run_chained(const void *buf, size_t len, const char *label, const struct nb_run_io *io,
                   void (*report)(void *arg, const char *label, int rc,
                                  const struct nb_run_result *res),
                   void *arg);

/* Run what was chained (and what that chains) until nothing is pending.
 * Returns the last rc, or 0 if nothing was pending. */
int nb_chain_run_pending(const struct nb_run_io *io,
                         void (*report)(void *arg, const char *label, int rc,
                                        const struct nb_run_result *res),
                         void *arg);

#endif
