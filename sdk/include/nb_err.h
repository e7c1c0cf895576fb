/*
 * nb_err.h: NeoBoot errors as text, for apps and the SDK. Every NeoBoot
 * call returns a negative NB_E* code on failure, and those are WASI's
 * errno values negated, so one table serves the imports, the SDK and
 * wasi-libc alike. Pure C (no imports): it also builds natively.
 */
#ifndef NB_SDK_ERR_H
#define NB_SDK_ERR_H

/* A short description of err (an NB_E* code, negative; 0 is "success").
 * Never NULL; unknown codes give "unknown error". */
const char *nb_strerror(int err);

/* The code's name, e.g. "NB_ETIMEDOUT"; "NB_E?" for unknown codes. */
const char *nb_errname(int err);

#endif
