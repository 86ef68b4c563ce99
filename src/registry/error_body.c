/* error_body.c — registry error responses to bounded, clean text (see error_body.h). */
#include "registry/error_body.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/row.h"
#include "core/utf8.h"

#define ERRORS_SHOWN_MAX 8
#define ELLIPSIS "..."

struct text_builder {
    char *buf;
    size_t size;
    size_t len;
    bool truncated;
};

static bool builder_room(struct text_builder *b, size_t n) {
    /* Keep room for the ellipsis and the terminator. */
    if (b->len + n + sizeof ELLIPSIS > b->size) {
        b->truncated = true;
        return false;
    }
    return true;
}

/* Appends src keeping valid UTF-8, folding control characters and whitespace runs into one
 * space (none at the start) and replacing invalid bytes with '?'. */
static void append_clean(struct text_builder *b, const char *src, size_t len) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    while (i < len && !b->truncated) {
        unsigned char c = s[i];
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (b->len > 0 && b->buf[b->len - 1] != ' ' && builder_room(b, 1))
                b->buf[b->len++] = ' ';
            i++;
            continue;
        }
        size_t n = utf8_decode_one(s + i, len - i, NULL);
        if (n == 0) {
            if (builder_room(b, 1))
                b->buf[b->len++] = '?';
            i++;
            continue;
        }
        if (!builder_room(b, n))
            break;
        memcpy(b->buf + b->len, s + i, n);
        b->len += n;
        i += n;
    }
    b->buf[b->len] = '\0';
}

static void append_literal(struct text_builder *b, const char *text) {
    append_clean(b, text, strlen(text));
}

static void builder_finish(struct text_builder *b) {
    while (b->len > 0 && b->buf[b->len - 1] == ' ')
        b->len--;
    if (b->truncated && b->len + sizeof ELLIPSIS <= b->size) {
        memcpy(b->buf + b->len, ELLIPSIS, sizeof ELLIPSIS);
        b->len += sizeof ELLIPSIS - 1;
    }
    b->buf[b->len] = '\0';
}

/* "MANIFEST_UNKNOWN" -> "manifest unknown", the way Docker prints error codes. */
static void append_code(struct text_builder *b, const char *code) {
    char lowered[64];
    size_t n = 0;
    for (; code[n] && n + 1 < sizeof lowered; n++) {
        char c = code[n];
        lowered[n] = c == '_' ? ' ' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    lowered[n] = '\0';
    append_literal(b, lowered);
}

static void record_code(struct registry_error_info *out, const char *code) {
    size_t len = strlen(code);
    if (out->code_count >= REGISTRY_ERROR_CODES_MAX || len == 0 || len >= sizeof out->codes[0])
        return;
    for (size_t i = 0; i < len; i++) {
        char c = code[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return;
    }
    memcpy(out->codes[out->code_count++], code, len + 1);
}

static void describe_errors_array(json_t *errors, struct text_builder *b,
                                  struct registry_error_info *out) {
    size_t shown = 0;
    for (size_t i = 0; i < json_array_size(errors) && shown < ERRORS_SHOWN_MAX; i++) {
        json_t *entry = json_array_get(errors, i);
        const char *code = row_text(entry, "code");
        const char *message = row_text(entry, "message");
        if (code && !code[0])
            code = NULL;
        if (message && !message[0])
            message = NULL;
        if (!code && !message)
            continue;
        if (code)
            record_code(out, code);
        if (shown++ > 0)
            append_literal(b, "; ");
        if (code)
            append_code(b, code);
        if (code && message)
            append_literal(b, ": ");
        if (message)
            append_literal(b, message);
    }
}

/* Other JSON error shapes: {"details":...} (Docker Hub auth), {"message":...}, OAuth2. */
static void describe_other_json(json_t *root, struct text_builder *b) {
    static const char *const keys[] = {"message", "details", "detail", "error_description",
                                       "error"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *text = row_text(root, keys[i]);
        if (text && text[0]) {
            append_literal(b, text);
            return;
        }
    }
}

void registry_error_describe(long status, const char *body, size_t body_len,
                             struct registry_error_info *out) {
    memset(out, 0, sizeof *out);
    struct text_builder b = {out->text, sizeof out->text, 0, false};
    size_t start = 0, end = body ? body_len : 0;
    while (start < end && (body[start] == ' ' || (body[start] >= '\t' && body[start] <= '\r')))
        start++;
    while (end > start &&
           (body[end - 1] == ' ' || (body[end - 1] >= '\t' && body[end - 1] <= '\r')))
        end--;
    bool use_plain = start < end && body[start] != '<'; /* not an HTML error page */
    if (start < end && body[start] == '{') {
        json_t *root = json_loadb(body + start, end - start, 0, NULL);
        if (json_is_object(root)) {
            use_plain = false;
            json_t *errors = json_object_get(root, "errors");
            if (json_is_array(errors))
                describe_errors_array(errors, &b, out);
            if (b.len == 0)
                describe_other_json(root, &b);
        }
        json_decref(root);
    }
    if (b.len == 0 && use_plain)
        append_clean(&b, body + start, end - start);
    builder_finish(&b);
    if (out->text[0] == '\0') {
        const char *reason = http_status_reason(status);
        snprintf(out->text, sizeof out->text, "HTTP %ld%s%s", status, reason[0] ? " " : "", reason);
    }
}

bool registry_error_has_code(const struct registry_error_info *info, const char *code) {
    for (int i = 0; i < info->code_count; i++) {
        if (strcmp(info->codes[i], code) == 0)
            return true;
    }
    return false;
}

const char *http_status_reason(long status) {
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "";
    }
}
