/* arena.c — see arena.h. */
#include "terraform/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "core/secure_mem.h"

void arena_own(struct arena *a, void *p) {
    if (!p)
        return;
    if (a->len == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->ptrs = xrealloc(a->ptrs, a->cap * sizeof *a->ptrs);
    }
    a->ptrs[a->len++] = p;
}

void *arena_alloc(struct arena *a, size_t size) {
    void *p = xcalloc(1, size ? size : 1);
    arena_own(a, p);
    return p;
}

char *arena_strdup(struct arena *a, const char *s) {
    size_t n = strlen(s ? s : "");
    char *copy = arena_alloc(a, n + 1);
    memcpy(copy, s ? s : "", n);
    return copy;
}

char *arena_printf(struct arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    out = xvasprintf(fmt, ap);
    va_end(ap);
    arena_own(a, out);
    return out;
}

void arena_free(struct arena *a) {
    for (size_t i = 0; i < a->len; i++)
        secure_free(a->ptrs[i]); /* response messages and strings may hold credentials */
    free(a->ptrs);
    a->ptrs = NULL;
    a->len = a->cap = 0;
}
