/*
 * Chaining apps (include/neoboot/chain.h). One pending request at most;
 * its bytes are a private copy, freed as soon as that app has run, so a
 * machine can chain forever without growing.
 */
#include <neoboot/chain.h>
#include <neoboot/err.h>
#include <neoboot/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NB_LOG_MODULE(chain);

static uint8_t *next_buf;
static size_t next_len;
static char next_label[64];
static struct nb_chain_stats stats;

int nb_chain_request(const void *buf, size_t len, const char *label)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return NB_ENOMEM;
    memcpy(copy, buf, len);
    free(next_buf);
    next_buf = copy;
    next_len = len;
    snprintf(next_label, sizeof next_label, "%s", label ? label : "app");
    stats.requested++;
    if (nb_run_active()) {
        NB_INFO("chaining to %s: stopping the running app", next_label);
        nb_run_interrupt();
    }
    return 0;
}

bool nb_chain_pending(void) { return next_buf != NULL; }

void nb_chain_cancel(void)
{
    free(next_buf);
    next_buf = NULL;
    next_len = 0;
}

void nb_chain_get_stats(struct nb_chain_stats *out) { *out = stats; }

int nb_run_chained(const void *buf, size_t len, const char *label, const struct nb_run_io *io,
                   void (*report)(void *arg, const char *label, int rc,
                                  const struct nb_run_result *res),
                   void *arg)
{
    struct nb_run_result *res = malloc(sizeof *res);
    if (!res)
        return NB_ENOMEM;
    char cur_label[64];
    snprintf(cur_label, sizeof cur_label, "%s", label ? label : "app");
    uint8_t *owned = NULL; /* a chained app's bytes, ours to free */
    int rc;
    for (;;) {
        rc = nb_run_blob(buf, len, io, res);
        free(owned);
        owned = NULL;
        if (report)
            report(arg, cur_label, rc, res);
        if (!next_buf)
            break;
        owned = next_buf;
        buf = next_buf;
        len = next_len;
        snprintf(cur_label, sizeof cur_label, "%s", next_label);
        next_buf = NULL;
        next_len = 0;
        stats.started++;
        NB_INFO("chained: %s starts", cur_label);
    }
    free(res);
    return rc;
}

int nb_chain_run_pending(const struct nb_run_io *io,
                         void (*report)(void *arg, const char *label, int rc,
                                        const struct nb_run_result *res),
                         void *arg)
{
    if (!next_buf)
        return 0;
    uint8_t *buf = next_buf;
    size_t len = next_len;
    char label[64];
    snprintf(label, sizeof label, "%s", next_label);
    next_buf = NULL;
    next_len = 0;
    stats.started++;
    NB_INFO("chained: %s starts", label);
    int rc = nb_run_chained(buf, len, label, io, report, arg);
    free(buf);
    return rc;
}
