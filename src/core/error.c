/* error.c — filling and naming agyn_error values. */
#include "core/error.h"

#include <stdio.h>
#include <string.h>

int agyn_vfail(struct agyn_error *err, enum agyn_code code, const char *field, const char *fmt,
               va_list ap) {
    if (!err)
        return -1;
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return -1;
}

int agyn_fail(struct agyn_error *err, enum agyn_code code, const char *field, const char *fmt,
              ...) {
    va_list ap;
    va_start(ap, fmt);
    agyn_vfail(err, code, field, fmt, ap);
    va_end(ap);
    return -1;
}

void agyn_error_prefix(struct agyn_error *err, const char *fmt, ...) {
    if (!err)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->message];
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
}

void agyn_error_clear(struct agyn_error *err) {
    if (err)
        memset(err, 0, sizeof *err);
}

const char *agyn_code_name(enum agyn_code code) {
    switch (code) {
    case AGYN_OK:
        return "ok";
    case AGYN_INVALID_ARGUMENT:
        return "invalid_argument";
    case AGYN_UNAUTHENTICATED:
        return "unauthenticated";
    case AGYN_PERMISSION_DENIED:
        return "permission_denied";
    case AGYN_NOT_FOUND:
        return "not_found";
    case AGYN_METHOD_NOT_ALLOWED:
        return "method_not_allowed";
    case AGYN_CONFLICT:
        return "conflict";
    case AGYN_PAYLOAD_TOO_LARGE:
        return "payload_too_large";
    case AGYN_UNSUPPORTED_MEDIA:
        return "unsupported_media_type";
    case AGYN_UNPROCESSABLE:
        return "unprocessable_entity";
    case AGYN_INTERNAL:
        return "internal";
    case AGYN_UNAVAILABLE:
        return "unavailable";
    case AGYN_TOO_MANY_REQUESTS:
        return "too_many_requests";
    }
    return "internal";
}
