/* pull_failure.c — failure kinds and messages for pulls and logins (pull_failure.h). */
#include "registry/pull_failure.h"

#include <stdarg.h>

#include "core/transience.h"
#include "registry/error_body.h"

enum agyn_code pull_failure_code(enum pull_failure kind) {
    switch (kind) {
    case PULL_OK:
        return AGYN_OK;
    case PULL_UNAUTHORIZED:
        return AGYN_PERMISSION_DENIED;
    case PULL_NOT_FOUND:
        return AGYN_NOT_FOUND;
    case PULL_INVALID:
        return AGYN_UNPROCESSABLE;
    case PULL_TRANSIENT:
        return AGYN_UNAVAILABLE;
    }
    return AGYN_UNAVAILABLE;
}

int pull_fail(struct agyn_error *err, enum pull_failure kind, const char *fmt, ...) {
    pull_set_kind(err, kind);
    va_list ap;
    va_start(ap, fmt);
    agyn_vfail(err, pull_failure_code(kind), "", fmt, ap);
    va_end(ap);
    return -1;
}

static enum pull_failure classify(long status, const struct registry_error_info *info) {
    if (status == 401 || status == 403)
        return PULL_UNAUTHORIZED;
    if (status == 404 || registry_error_has_code(info, "MANIFEST_UNKNOWN") ||
        registry_error_has_code(info, "NAME_UNKNOWN") ||
        registry_error_has_code(info, "BLOB_UNKNOWN"))
        return PULL_NOT_FOUND;
    if (transience_status_is_transient(status))
        return PULL_TRANSIENT;
    return PULL_INVALID;
}

int pull_fail_response(long status, const char *body, size_t body_len, struct agyn_error *err) {
    struct registry_error_info info;
    registry_error_describe(status, body, body_len, &info);
    return pull_fail(err, classify(status, &info), "%s", info.text);
}

int pull_fail_foreign(long status, const char *who, const char *host, struct agyn_error *err) {
    struct registry_error_info none = {0}; /* the body is not looked at */
    const char *reason = http_status_reason(status);
    return pull_fail(err, classify(status, &none), "%s at %s answered %ld%s%s", who, host, status,
                     reason[0] ? " " : "", reason);
}
