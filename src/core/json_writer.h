/* json_writer.h — compact JSON text written straight into a growing buffer: byte for byte what
 * json_dumps(JSON_COMPACT) writes, but copying string runs whole (jansson's dumper walks every
 * code point), and usable without building a json_t tree first (list pages are written from
 * database rows directly). Buffers are wiped before they are freed: they may hold secrets. */
#ifndef AGYN_CORE_JSON_WRITER_H
#define AGYN_CORE_JSON_WRITER_H

#include <stddef.h>

#include <jansson.h>

#include "core/dynbuf.h"

struct json_writer {
    struct dynbuf buf; /* wiping (core/dynbuf.h) */
    int failed;        /* an unwritable value; later writes are ignored */
};

void json_writer_raw(struct json_writer *w, const char *text, size_t len);
void json_writer_text(struct json_writer *w, const char *text); /* raw, strlen */
/* A JSON string literal of s[0..len). */
void json_writer_string(struct json_writer *w, const char *s, size_t len);
void json_writer_value(struct json_writer *w, json_t *value);
/* Takes the buffer (caller frees); NULL when a write failed. */
char *json_writer_finish(struct json_writer *w, size_t *len_out);
void json_writer_discard(struct json_writer *w);

/* json_dumps(JSON_COMPACT) equivalent; falls back to jansson for reals. */
char *json_writer_dump(json_t *value, size_t *len_out);

#endif
