/* dynbuf.h — the one growable byte buffer (in the spirit of curl's dynbuf): always
 * NUL-terminated, with an optional size limit, and by default wiping what it held whenever it
 * grows or is freed (it never reallocs in place), because request bodies, provider answers and
 * token-service answers carry secrets. Allocation failure ends the process (core/xalloc.h). */
#ifndef AGYN_CORE_DYNBUF_H
#define AGYN_CORE_DYNBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A zeroed struct dynbuf is an empty, unlimited, wiping buffer. */
struct dynbuf {
    char *data; /* NULL until the first byte is added; then NUL-terminated */
    size_t len;
    size_t capacity;
    size_t limit; /* most bytes it may hold; 0 = no limit */
    bool no_wipe; /* set only for buffers that never hold secrets (metrics text, logs) */
    bool failed;  /* an append went over limit: later appends do nothing, str() is NULL */
};

/* Empty buffer with this limit (0 = none); wiping unless no_wipe. */
void dynbuf_init(struct dynbuf *buf, size_t limit, bool no_wipe);
/* Appends len bytes. Going over the limit fails the buffer (nothing is added) and returns -1. */
int dynbuf_add(struct dynbuf *buf, const void *bytes, size_t len);
int dynbuf_add_str(struct dynbuf *buf, const char *text);
int dynbuf_addf(struct dynbuf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for extra more bytes (plus the NUL) without adding any; -1 over the limit. */
int dynbuf_reserve(struct dynbuf *buf, size_t extra);
/* The contents ("" when empty); NULL once the buffer failed. */
const char *dynbuf_str(const struct dynbuf *buf);
/* Hands the contents to the caller (malloc'd, NUL-terminated, never NULL; free it with
 * free or core/secure_mem's secure_free) and empties the buffer. NULL once it failed. */
char *dynbuf_take(struct dynbuf *buf);
/* Empties the buffer but keeps its memory (the old contents wiped unless no_wipe). */
void dynbuf_clear(struct dynbuf *buf);
/* Drops the contents (wiped unless no_wipe) and clears the failure; limit and no_wipe stay. */
void dynbuf_free(struct dynbuf *buf);

#endif
