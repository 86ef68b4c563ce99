/* names.c — validation of display names, free text, UUIDs and UTF-8, and quoting of untrusted
 * text for error messages. */
#include "core/names.h"

#include <stdint.h>
#include <string.h>

/* C0 controls, DEL and C1 controls (U+0080..U+009F). */
static int is_control_code_point(uint32_t code_point) {
    return code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
}

/* Checks UTF-8 validity and control characters; allow_newline_tab admits \n and \t. */
static int check_utf8_text(const char *text, size_t len, int allow_newline_tab, const char *field,
                           struct agyn_error *err) {
    const unsigned char *bytes = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        uint32_t code_point;
        size_t step = utf8_decode_one(bytes + i, len - i, &code_point);
        if (step == 0)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be valid UTF-8", field);
        if (is_control_code_point(code_point) &&
            !(allow_newline_tab && (code_point == '\n' || code_point == '\t')))
            return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                             allow_newline_tab
                                 ? "%s must not contain control characters other than newline "
                                   "and tab"
                                 : "%s must not contain control characters",
                             field);
        i += step;
    }
    return 0;
}

int name_validate(const char *name, const char *field, struct agyn_error *err) {
    if (!field)
        field = "name";
    if (!name)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s is required", field);
    size_t len = strnlen(name, AGYN_NAME_MAX + 1);
    if (len == 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not be empty", field);
    if (len > AGYN_NAME_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be at most %d bytes", field,
                         AGYN_NAME_MAX);
    if (check_utf8_text(name, len, 0, field, err) != 0)
        return -1;
    size_t spaces = 0;
    while (spaces < len && name[spaces] == ' ')
        spaces++;
    if (spaces == len)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not be only spaces", field);
    return 0;
}

int text_validate(const char *text, size_t max_len, const char *field, struct agyn_error *err) {
    if (!field)
        field = "text";
    if (!text)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s is required", field);
    size_t scan_limit = max_len < SIZE_MAX ? max_len + 1 : SIZE_MAX;
    size_t len = strnlen(text, scan_limit);
    if (len > max_len)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be at most %zu bytes", field,
                         max_len);
    return check_utf8_text(text, len, 1, field, err);
}

static int is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int uuid_is_valid(const char *text) {
    if (!text)
        return 0;
    for (size_t i = 0; i < AGYN_UUID_LEN; i++) {
        char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!is_lower_hex(c)) {
            return 0; /* also stops at an early NUL */
        }
    }
    return text[AGYN_UUID_LEN] == '\0';
}

void text_quote(const char *text, size_t len, size_t max_bytes, char *buf, size_t size) {
    static const char hex_digits[] = "0123456789abcdef";
    if (!buf || size == 0)
        return;
    if (!text)
        len = 0;
    size_t pos = 0;
    /* Room is kept for the closing quote, "..." and the NUL. */
    const size_t reserve = 5;
    if (size < reserve + 1) {
        buf[0] = '\0';
        return;
    }
    buf[pos++] = '"';
    size_t i = 0;
    for (; i < len && i < max_bytes; i++) {
        unsigned char c = (unsigned char)text[i];
        char piece[4];
        size_t piece_len;
        if (c == '"' || c == '\\') {
            piece[0] = '\\';
            piece[1] = (char)c;
            piece_len = 2;
        } else if (c >= 0x20 && c < 0x7F) {
            piece[0] = (char)c;
            piece_len = 1;
        } else {
            piece[0] = '\\';
            piece[1] = 'x';
            piece[2] = hex_digits[c >> 4];
            piece[3] = hex_digits[c & 0x0F];
            piece_len = 4;
        }
        if (pos + piece_len + reserve > size)
            break;
        memcpy(buf + pos, piece, piece_len);
        pos += piece_len;
    }
    buf[pos++] = '"';
    if (i < len) {
        memcpy(buf + pos, "...", 3);
        pos += 3;
    }
    buf[pos] = '\0';
}
