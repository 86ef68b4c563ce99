/* log.c — logfmt lines on standard error, one write(2) per line so lines never interleave,
 * with every value escaped and capped (see log.h). */
#include "base/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"

#define LOG_LINE_MAX 4096

static bool byte_is_bare(unsigned char c) {
    return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

/* Appends text to out[*used..size) if it fits whole; false otherwise. */
static bool append(char *out, size_t size, size_t *used, const char *text, size_t len) {
    if (*used + len + 1 > size)
        return false;
    memcpy(out + *used, text, len);
    *used += len;
    out[*used] = '\0';
    return true;
}

static size_t escape_value(char *out, size_t size, const char *value, bool always_quote) {
    if (size == 0)
        return 0;
    out[0] = '\0';
    if (!value)
        value = "";
    size_t len = strlen(value);
    bool truncated = len > LOG_VALUE_MAX;
    if (truncated)
        len = LOG_VALUE_MAX;
    bool bare = len > 0 && !truncated && !always_quote;
    for (size_t i = 0; i < len && bare; i++)
        bare = byte_is_bare((unsigned char)value[i]);
    size_t used = 0;
    if (bare) {
        append(out, size, &used, value, len);
        return used;
    }
    /* Room is kept for the marker and the closing quote, so a cut value stays well formed. */
    size_t reserve = 1 + sizeof LOG_TRUNCATED_MARKER - 1;
    if (size < reserve + 2)
        return 0;
    size_t limit = size - reserve;
    append(out, limit, &used, "\"", 1);
    bool cut = truncated;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        char piece[5];
        size_t piece_len;
        if (c == '"' || c == '\\') {
            piece[0] = '\\', piece[1] = (char)c, piece_len = 2;
        } else if (c < 0x20 || c >= 0x7f) {
            snprintf(piece, sizeof piece, "\\x%02x", c);
            piece_len = 4;
        } else {
            piece[0] = (char)c, piece_len = 1;
        }
        if (!append(out, limit, &used, piece, piece_len)) {
            cut = true;
            break;
        }
    }
    if (cut)
        append(out, size, &used, LOG_TRUNCATED_MARKER, sizeof LOG_TRUNCATED_MARKER - 1);
    append(out, size, &used, "\"", 1);
    return used;
}

size_t log_escape_value(char *out, size_t size, const char *value) {
    return escape_value(out, size, value, false);
}

/* Field keys come from the code; anything but [a-z0-9_] is still replaced, so a key can never
 * break the line. */
static void append_key(char *line, size_t size, size_t *used, const char *key) {
    char safe[64];
    size_t n = 0;
    for (const char *p = key ? key : ""; *p && n + 1 < sizeof safe; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
        safe[n++] = ok ? *p : '_';
    }
    if (n == 0)
        safe[n++] = '_';
    safe[n] = '\0';
    append(line, size, used, safe, n);
}

static bool append_field(char *line, size_t size, size_t *used, const char *key, const char *value,
                         bool always_quote) {
    char escaped[LOG_ESCAPED_MAX];
    size_t len = escape_value(escaped, sizeof escaped, value, always_quote);
    size_t before = *used;
    append(line, size, used, " ", 1);
    append_key(line, size, used, key);
    if (append(line, size, used, "=", 1) && append(line, size, used, escaped, len))
        return true;
    *used = before; /* a field that does not fit is left out whole */
    line[before] = '\0';
    return false;
}

void log_fields(const char *level, const char *msg, const struct log_field *fields, size_t count) {
    char line[LOG_LINE_MAX];
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    size_t used = 0;
    line[0] = '\0';
    append(line, sizeof line - 1, &used, "ts=", 3);
    append(line, sizeof line - 1, &used, now, strlen(now));
    append_field(line, sizeof line - 1, &used, "level", level, false);
    append_field(line, sizeof line - 1, &used, "msg", msg, true);
    for (size_t i = 0; i < count; i++)
        if (!append_field(line, sizeof line - 1, &used, fields[i].key, fields[i].value, false))
            break;
    line[used++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, used);
    (void)ignored;
}
