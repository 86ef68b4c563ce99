/* error.h — the one error type every module returns: a code (mapped to an HTTP status by the
 * API, in api/server.c), the input field it concerns, and a message safe to show to the
 * caller. Messages never carry secret values. */
#ifndef AGYN_CORE_ERROR_H
#define AGYN_CORE_ERROR_H

#include <stdarg.h>

enum agyn_code {
    AGYN_OK = 0,
    AGYN_INVALID_ARGUMENT,   /* 400: malformed request (JSON syntax, bad page token) */
    AGYN_UNAUTHENTICATED,    /* 401 */
    AGYN_PERMISSION_DENIED,  /* 403 */
    AGYN_NOT_FOUND,          /* 404 */
    AGYN_METHOD_NOT_ALLOWED, /* 405 */
    AGYN_CONFLICT,           /* 409: duplicate name, still referenced */
    AGYN_PAYLOAD_TOO_LARGE,  /* 413 */
    AGYN_UNSUPPORTED_MEDIA,  /* 415 */
    AGYN_UNPROCESSABLE,      /* 422: well-formed but invalid value */
    AGYN_INTERNAL,           /* 500 */
    AGYN_UNAVAILABLE,        /* 502/503: a peer (provider, registry, database) failed */
    AGYN_TOO_MANY_REQUESTS,  /* 429: a per-organization limit is reached for now */
};

struct agyn_error {
    enum agyn_code code;
    /* A finer kind of failure that a layer defines for its callers (the registry's enum
     * pull_failure: registry/pull_failure.h); 0 when none. agyn_fail leaves it alone, so a
     * layer may set it before or after the message; agyn_error_clear resets it. */
    int kind;
    char field[96];
    char message[1024];
};

/* Sets err (when not NULL) and returns -1, so callers can write `return agyn_fail(...)`. */
int agyn_fail(struct agyn_error *err, enum agyn_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int agyn_vfail(struct agyn_error *err, enum agyn_code code, const char *field, const char *fmt,
               va_list ap);
/* Prefixes the message of an error already set: "context: old message". */
void agyn_error_prefix(struct agyn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void agyn_error_clear(struct agyn_error *err);

const char *agyn_code_name(enum agyn_code code); /* "invalid_argument", ... */

#endif
