/*
 * Guest handles for the app ABI.
 *
 * Guests never see host pointers: each object they hold (a socket, a DNS
 * query, ...) is a small positive integer naming a slot in one process-wide
 * table. Each slot records its owner (the instance's handle table) and a
 * generation that moves on every reuse, so a closed handle, a forged
 * number, or a handle taken from another instance is refused (NB_EBADF)
 * instead of reaching someone else's object: ownership is checked exactly,
 * not by chance.
 */
#ifndef NEOBOOT_ABI_HANDLES_H
#define NEOBOOT_ABI_HANDLES_H

#include <stdint.h>

#define NB_HANDLE_IDX_BITS 16
#define NB_HANDLES_TOTAL (1u << NB_HANDLE_IDX_BITS) /* all instances together */

enum nb_handle_kind { NB_H_FREE = 0, NB_H_SOCKET = 1, NB_H_QUERY = 2, NB_H_DIGEST = 3 };

/* One instance's view: its limit and count. */
struct nb_handles {
    uint32_t used, limit;
};

/* limit: most handles this instance may hold at once. */
void nb_handles_init(struct nb_handles *t, uint32_t limit);
/* Frees the instance's remaining slots (objects must be released first,
 * e.g. with nb_handles_foreach + nb_handles_remove). */
void nb_handles_fini(struct nb_handles *t);
/* A new handle (> 0) for obj, or NB_EMFILE (instance limit), NB_ENFILE
 * (process-wide table full) or NB_ENOMEM. */
int32_t nb_handles_add(struct nb_handles *t, uint8_t kind, void *obj);
/* The object for h if t owns it, it is live and of `kind` (0: any). */
void *nb_handles_get(const struct nb_handles *t, int32_t h, uint8_t kind);
/* Free h's slot; returns its object, or NULL if h was not t's live handle. */
void *nb_handles_remove(struct nb_handles *t, int32_t h, uint8_t kind);
/* Visit every live handle of t. fn may remove the handle it is given. */
void nb_handles_foreach(struct nb_handles *t,
                        void (*fn)(void *arg, int32_t h, uint8_t kind, void *obj),
                        void *arg);

#endif
