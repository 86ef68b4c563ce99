/* dynbuf.c — the growable, limited, wiping byte buffer (dynbuf.h). */
#include "core/dynbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secure_mem.h"
#include "core/xalloc.h"

void dynbuf_init(struct dynbuf *buf, size_t limit, bool no_wipe) {
    memset(buf, 0, sizeof *buf);
    buf->limit = limit;
    buf->no_wipe = no_wipe;
}

int dynbuf_reserve(struct dynbuf *buf, size_t extra) {
    if (buf->failed)
        return -1;
    if (extra > SIZE_MAX / 2 - buf->len || (buf->limit && buf->len + extra > buf->limit)) {
        buf->failed = true;
        return -1;
    }
    size_t needed = buf->len + extra + 1;
    if (needed <= buf->capacity)
        return 0;
    size_t capacity = buf->capacity ? buf->capacity : 256;
    while (capacity < needed)
        capacity *= 2; /* doubling: a 4 MiB answer costs a few copies, not hundreds */
    if (buf->limit && capacity > buf->limit + 1)
        capacity = buf->limit + 1;
    if (buf->no_wipe) {
        buf->data = xrealloc(buf->data, capacity);
        if (buf->len == 0)
            buf->data[0] = '\0';
    } else {
        /* Grown by copy with the old block wiped: realloc could leave it behind unwiped. */
        char *grown = xmalloc(capacity);
        if (buf->data) {
            memcpy(grown, buf->data, buf->len + 1);
            secure_free(buf->data);
        } else {
            grown[0] = '\0';
        }
        buf->data = grown;
    }
    buf->capacity = capacity;
    return 0;
}

int dynbuf_add(struct dynbuf *buf, const void *bytes, size_t len) {
    if (dynbuf_reserve(buf, len) != 0)
        return -1;
    if (len)
        memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int dynbuf_add_str(struct dynbuf *buf, const char *text) {
    return dynbuf_add(buf, text, strlen(text));
}

int dynbuf_addf(struct dynbuf *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0 || dynbuf_reserve(buf, (size_t)need) != 0) {
        buf->failed = true;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)need + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)need;
    return 0;
}

const char *dynbuf_str(const struct dynbuf *buf) {
    if (buf->failed)
        return NULL;
    return buf->data ? buf->data : "";
}

char *dynbuf_take(struct dynbuf *buf) {
    if (buf->failed)
        return NULL;
    char *data = buf->data ? buf->data : xstrdup("");
    buf->data = NULL;
    buf->len = 0;
    buf->capacity = 0;
    return data;
}

void dynbuf_clear(struct dynbuf *buf) {
    if (buf->data && !buf->no_wipe)
        secure_wipe(buf->data, buf->capacity);
    if (buf->data)
        buf->data[0] = '\0';
    buf->len = 0;
    buf->failed = false;
}

void dynbuf_free(struct dynbuf *buf) {
    if (buf->no_wipe)
        free(buf->data);
    else
        secure_free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->capacity = 0;
    buf->failed = false;
}
