/*
 * Files in memory: what the shell's `wget` fetched, a bundled app, a
 * kernel to boot. A small named table (bounded), each file one
 * allocation owned by the table.
 */
#ifndef NEOBOOT_MEMFILE_H
#define NEOBOOT_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

#define NB_MEMFILE_MAX 32
#define NB_MEMFILE_NAME 64

struct nb_memfile {
    char name[NB_MEMFILE_NAME];
    uint8_t *data;
    size_t len;
};

/* Store data under name, taking ownership of data (malloc'd); replaces a
 * file of that name. 0, NB_EINVAL (bad name), NB_ENOSPC (table full: data
 * is freed). */
int nb_memfile_put(const char *name, uint8_t *data, size_t len);
const struct nb_memfile *nb_memfile_get(const char *name);
int nb_memfile_remove(const char *name);
/* The i-th file, or NULL past the end. */
const struct nb_memfile *nb_memfile_at(unsigned i);

#endif
