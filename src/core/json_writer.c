/* json_writer.c — compact JSON serialization into a wiped, growing buffer. */
#include "core/json_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct json_writer *w, size_t extra) {
    if (w->failed)
        return -1;
    if (w->buf.capacity == 0 && dynbuf_reserve(&w->buf, 16384 - 1) != 0)
        return -1; /* list pages are large: start big */
    return dynbuf_reserve(&w->buf, extra);
}

void json_writer_raw(struct json_writer *w, const char *text, size_t len) {
    /* The buffer keeps one spare byte for the NUL that finish() writes. */
    if (w->buf.len + len + 1 > w->buf.capacity && reserve(w, len) != 0)
        return;
    memcpy(w->buf.data + w->buf.len, text, len);
    w->buf.len += len;
}

void json_writer_text(struct json_writer *w, const char *text) {
    json_writer_raw(w, text, strlen(text));
}

/* Bytes that must be escaped in a JSON string: control characters, '"' and '\\'. */
static const unsigned char NEEDS_ESCAPE[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1};

void json_writer_string(struct json_writer *w, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    static const char short_escape[32] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
    /* Common case first: nothing to escape, one copy with both quotes. */
    size_t i = 0;
    while (i < n && !NEEDS_ESCAPE[(unsigned char)s[i]])
        i++;
    if (i == n && (w->buf.len + n + 3 <= w->buf.capacity || reserve(w, n + 2) == 0)) {
        w->buf.data[w->buf.len] = '"';
        memcpy(w->buf.data + w->buf.len + 1, s, n);
        w->buf.data[w->buf.len + 1 + n] = '"';
        w->buf.len += n + 2;
        return;
    }
    json_writer_raw(w, "\"", 1);
    size_t run = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!NEEDS_ESCAPE[c])
            continue;
        char escape[6] = {'\\', (char)c, '0', '0', 0, 0};
        size_t escape_len = 2;
        if (c < 0x20 && short_escape[c]) {
            escape[1] = short_escape[c];
        } else if (c < 0x20) {
            escape[1] = 'u';
            escape[4] = hex[c >> 4];
            escape[5] = hex[c & 15];
            escape_len = 6;
        }
        json_writer_raw(w, s + run, i - run);
        json_writer_raw(w, escape, escape_len);
        run = i + 1;
    }
    json_writer_raw(w, s + run, n - run);
    json_writer_raw(w, "\"", 1);
}

static void write_value(struct json_writer *w, json_t *json, int depth) {
    const char *key;
    size_t key_len;
    json_t *value;
    size_t index;
    int first = 1;
    if (depth > 64) {
        w->failed = 1;
        return;
    }
    switch (json_typeof(json)) {
    case JSON_OBJECT:
        json_writer_raw(w, "{", 1);
        json_object_keylen_foreach(json, key, key_len, value) {
            if (!first)
                json_writer_raw(w, ",", 1);
            json_writer_string(w, key, key_len); /* a key may hold a NUL (json_object_setn) */
            json_writer_raw(w, ":", 1);
            write_value(w, value, depth + 1);
            first = 0;
        }
        json_writer_raw(w, "}", 1);
        return;
    case JSON_ARRAY:
        json_writer_raw(w, "[", 1);
        json_array_foreach(json, index, value) {
            if (index > 0)
                json_writer_raw(w, ",", 1);
            write_value(w, value, depth + 1);
        }
        json_writer_raw(w, "]", 1);
        return;
    case JSON_STRING:
        json_writer_string(w, json_string_value(json), json_string_length(json));
        return;
    case JSON_INTEGER: {
        char number[32];
        int n = snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(json));
        json_writer_raw(w, number, (size_t)n);
        return;
    }
    case JSON_TRUE:
        json_writer_raw(w, "true", 4);
        return;
    case JSON_FALSE:
        json_writer_raw(w, "false", 5);
        return;
    case JSON_NULL:
        json_writer_raw(w, "null", 4);
        return;
    default:
        w->failed = 1; /* reals: left to jansson's formatting */
        return;
    }
}

void json_writer_value(struct json_writer *w, json_t *value) {
    write_value(w, value, 0);
}

void json_writer_discard(struct json_writer *w) {
    dynbuf_free(&w->buf);
    memset(w, 0, sizeof *w);
}

char *json_writer_finish(struct json_writer *w, size_t *len_out) {
    if (w->failed || !w->buf.data) {
        json_writer_discard(w);
        return NULL;
    }
    w->buf.data[w->buf.len] = '\0'; /* writes above go straight into the buffer */
    *len_out = w->buf.len;
    char *data = dynbuf_take(&w->buf);
    memset(w, 0, sizeof *w);
    return data;
}

char *json_writer_dump(json_t *value, size_t *len_out) {
    struct json_writer w = {0};
    json_writer_value(&w, value);
    char *text = json_writer_finish(&w, len_out);
    if (text)
        return text;
    text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY); /* the writer writes scalars too */
    *len_out = text ? strlen(text) : 0;
    return text;
}
