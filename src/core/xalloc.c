/* xalloc.c — allocation wrappers that end the process on failure (xalloc.h). The one
 * exception to "core does no I/O": the fixed line out_of_memory writes before aborting. */
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Noreturn void out_of_memory(size_t bytes) {
    /* No allocation here: the line is formatted on the stack and written in one call. */
    char line[96];
    int len = snprintf(line, sizeof line, "level=fatal msg=\"out of memory\" bytes=%zu\n", bytes);
    if (len > 0) {
        ssize_t written = write(STDERR_FILENO, line, (size_t)len);
        (void)written;
    }
    abort();
}

void *xmalloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void *xcalloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size)
        out_of_memory(SIZE_MAX);
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n * size);
    return p;
}

void *xrealloc(void *p, size_t size) {
    void *grown = realloc(p, size ? size : 1);
    if (!grown)
        out_of_memory(size);
    return grown;
}

char *xstrdup(const char *text) {
    return xmemdup_str(text, strlen(text));
}

char *xstrndup(const char *text, size_t max_len) {
    return xmemdup_str(text, strnlen(text, max_len));
}

char *xmemdup_str(const void *bytes, size_t len) {
    if (len == SIZE_MAX)
        out_of_memory(len);
    char *copy = xmalloc(len + 1);
    if (len)
        memcpy(copy, bytes, len);
    copy[len] = '\0';
    return copy;
}

char *xvasprintf(const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int len = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (len < 0)
        abort(); /* a bad format is a bug, not an answer */
    char *out = xmalloc((size_t)len + 1);
    vsnprintf(out, (size_t)len + 1, fmt, ap);
    return out;
}

char *xasprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *out = xvasprintf(fmt, ap);
    va_end(ap);
    return out;
}
