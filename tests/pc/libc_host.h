/*
 * Declarations of the pc libc's functions as compiled for the host unit
 * tests (renamed by libc_rename.h), so a test can call both them and the
 * host libc's reference versions.
 */
#ifndef NB_TEST_LIBC_HOST_H
#define NB_TEST_LIBC_HOST_H

#include <stdarg.h>
#include <stddef.h>

void *nbl_memcpy(void *restrict d, const void *restrict s, size_t n);
void *nbl_memmove(void *d, const void *s, size_t n);
void *nbl_memset(void *d, int c, size_t n);
int nbl_memcmp(const void *a, const void *b, size_t n);
void *nbl_memchr(const void *s, int c, size_t n);
void *nbl_memrchr(const void *s, int c, size_t n);
size_t nbl_strlen(const char *s);
size_t nbl_strnlen(const char *s, size_t n);
int nbl_strcmp(const char *a, const char *b);
int nbl_strncmp(const char *a, const char *b, size_t n);
char *nbl_strchr(const char *s, int c);
char *nbl_strrchr(const char *s, int c);
char *nbl_strstr(const char *h, const char *n);
char *nbl_strcpy(char *restrict d, const char *restrict s);
char *nbl_strncpy(char *restrict d, const char *restrict s, size_t n);
char *nbl_strcat(char *restrict d, const char *restrict s);
char *nbl_strncat(char *restrict d, const char *restrict s, size_t n);
size_t nbl_strlcpy(char *restrict d, const char *restrict s, size_t n);
size_t nbl_strspn(const char *s, const char *a);
size_t nbl_strcspn(const char *s, const char *r);
char *nbl_strpbrk(const char *s, const char *a);
char *nbl_strtok_r(char *restrict s, const char *restrict d, char **restrict save);
char *nbl_strdup(const char *s);
int nbl_strcasecmp(const char *a, const char *b);
int nbl_strncasecmp(const char *a, const char *b, size_t n);
int nbl_snprintf(char *restrict b, size_t n, const char *restrict f, ...);
int nbl_vsnprintf(char *restrict b, size_t n, const char *restrict f, va_list ap);
long nbl_strtol(const char *restrict s, char **restrict e, int base);
unsigned long nbl_strtoul(const char *restrict s, char **restrict e, int base);
long long nbl_strtoll(const char *restrict s, char **restrict e, int base);
unsigned long long nbl_strtoull(const char *restrict s, char **restrict e, int base);
void nbl_qsort(void *b, size_t n, size_t sz, int (*cmp)(const void *, const void *));
void *nbl_bsearch(const void *k, const void *b, size_t n, size_t sz,
                  int (*cmp)(const void *, const void *));
extern int nbl_errno;
double nbl_fabs(double), nbl_copysign(double, double), nbl_sqrt(double);
double nbl_trunc(double), nbl_floor(double), nbl_ceil(double), nbl_rint(double);
double nbl_nearbyint(double), nbl_round(double), nbl_fmin(double, double);
double nbl_fmax(double, double);
float nbl_fabsf(float), nbl_copysignf(float, float), nbl_sqrtf(float);
float nbl_truncf(float), nbl_floorf(float), nbl_ceilf(float), nbl_rintf(float);
float nbl_nearbyintf(float), nbl_roundf(float), nbl_fminf(float, float);
float nbl_fmaxf(float, float);
double nbl_ldexp(double, int), nbl_frexp(double, int *);

#endif
