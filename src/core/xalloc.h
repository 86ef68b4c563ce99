/* xalloc.h — the out-of-memory policy (docs/architecture.md, "Out of memory"): allocation
 * never fails. Every allocation in the project goes through these wrappers (or through the
 * jansson and libcurl hooks base/wiping_alloc installs, which use them), and a failed one ends
 * the process in out_of_memory(): one fixed line on standard error, then abort(). So no caller
 * checks for NULL and no "out of memory" error travels up. */
#ifndef AGYN_CORE_XALLOC_H
#define AGYN_CORE_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* The one handler: writes "level=fatal msg=\"out of memory\" bytes=N" to standard error and
 * aborts. Never returns. */
_Noreturn void out_of_memory(size_t bytes);

/* malloc, calloc, realloc, strdup and strndup that never return NULL. A zero size allocates
 * one byte, so the result is always a distinct pointer; xcalloc also aborts when n * size
 * overflows. */
void *xmalloc(size_t size) __attribute__((malloc, alloc_size(1)));
void *xcalloc(size_t n, size_t size) __attribute__((malloc, alloc_size(1, 2)));
void *xrealloc(void *p, size_t size) __attribute__((alloc_size(2)));
char *xstrdup(const char *text) __attribute__((malloc, nonnull));
char *xstrndup(const char *text, size_t max_len) __attribute__((malloc, nonnull));
/* asprintf and vasprintf that never fail for lack of memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), malloc));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0), malloc));
/* A malloc'd copy of len bytes plus a terminating NUL. */
char *xmemdup_str(const void *bytes, size_t len) __attribute__((malloc));

#endif
