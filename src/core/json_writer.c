/* json_writer.c — compact JSON serialization into a wiped, growing buffer. */
#include "core/json_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct json_writer *w, size_t extra) {
    if (w->failed)
        return -1;
    if (w->len + extra + 1 <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 16384;
    while (w->len + extra + 1 > cap)
        cap *= 2;
    char *grown = malloc(cap);
    if (!grown) {
        w->failed = 1;
        return -1;
    }
    if (w->data) {
        memcpy(grown, w->data, w->len);
        explicit_bzero(w->data, w->len);
        free(w->data);
    }
    w->data = grown;
    w->cap = cap;
    return 0;
}

void json_writer_raw(struct json_writer *w, const char *text, size_t len) {
    /* The buffer keeps one spare byte for the NUL that finish() writes. */
    if (w->len + len + 1 > w->cap && reserve(w, len) != 0)
        return;
    memcpy(w->data + w->len, text, len);
    w->len += len;
}

void json_writer_text(struct json_writer *w, const char *text) {
    json_writer_raw(w, text, strlen(text));
}

void json_writer_string(struct json_writer *w, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    static const char short_escape[32] = {['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',
                                          ['\r'] = 'r', ['\t'] = 't'};
    json_writer_raw(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
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
        json_object_foreach(json, key, value) {
            if (!first)
                json_writer_raw(w, ",", 1);
            json_writer_string(w, key, strlen(key));
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
        int n = snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json));
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
    if (w->data) {
        explicit_bzero(w->data, w->len);
        free(w->data);
    }
    memset(w, 0, sizeof *w);
}

char *json_writer_finish(struct json_writer *w, size_t *len_out) {
    if (w->failed || !w->data) {
        json_writer_discard(w);
        return NULL;
    }
    char *data = w->data;
    data[w->len] = '\0';
    *len_out = w->len;
    memset(w, 0, sizeof *w);
    return data;
}

char *json_writer_dump(json_t *value, size_t *len_out) {
    struct json_writer w = {0};
    json_writer_value(&w, value);
    char *text = json_writer_finish(&w, len_out);
    if (text)
        return text;
    text = json_dumps(value, JSON_COMPACT);
    *len_out = text ? strlen(text) : 0;
    return text;
}
