/*
 * The in-memory file table (include/neoboot/memfile.h).
 */
#include <neoboot/err.h>
#include <neoboot/memfile.h>

#include <stdlib.h>
#include <string.h>

static struct nb_memfile files[NB_MEMFILE_MAX];

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= NB_MEMFILE_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int nb_memfile_put(const char *name, uint8_t *data, size_t len)
{
    if (!valid_name(name)) {
        free(data);
        return NB_EINVAL;
    }
    nb_memfile_remove(name);
    for (unsigned i = 0; i < NB_MEMFILE_MAX; i++) {
        if (files[i].data)
            continue;
        strcpy(files[i].name, name);
        files[i].data = data ? data : malloc(1);
        files[i].len = len;
        return files[i].data ? 0 : NB_ENOMEM;
    }
    free(data);
    return NB_ENOSPC;
}

const struct nb_memfile *nb_memfile_get(const char *name)
{
    for (unsigned i = 0; i < NB_MEMFILE_MAX; i++)
        if (files[i].data && strcmp(files[i].name, name) == 0)
            return &files[i];
    return NULL;
}

int nb_memfile_remove(const char *name)
{
    for (unsigned i = 0; i < NB_MEMFILE_MAX; i++)
        if (files[i].data && strcmp(files[i].name, name) == 0) {
            free(files[i].data);
            memset(&files[i], 0, sizeof files[i]);
            return 0;
        }
    return NB_ENOENT;
}

const struct nb_memfile *nb_memfile_at(unsigned i)
{
    for (unsigned k = 0; k < NB_MEMFILE_MAX; k++)
        if (files[k].data && i-- == 0)
            return &files[k];
    return NULL;
}
