/* pull_failure.h — classifying why a pull or login failed (enum pull_failure, carried in
 * struct agyn_error's kind) together with its message: registry answers keep the registry's
 * own words. */
#ifndef AGYN_REGISTRY_PULL_FAILURE_H
#define AGYN_REGISTRY_PULL_FAILURE_H

#include <stddef.h>

#include "core/error.h"
#include "registry/oci_client.h"

/* The agyn_error code that goes with a failure kind. */
enum agyn_code pull_failure_code(enum pull_failure kind);

/* The kind of a failed pull or login travels in err->kind (core/error.h). */
static inline void pull_set_kind(struct agyn_error *err, enum pull_failure kind) {
    if (err)
        err->kind = (int)kind;
}
static inline enum pull_failure pull_failure_of(const struct agyn_error *err) {
    return (enum pull_failure)err->kind;
}

/* Sets err: its kind, its code (from kind) and its message; returns -1. */
int pull_fail(struct agyn_error *err, enum pull_failure kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Classifies a registry answer that is not a success and sets err->message to the registry's
 * own text ("unauthorized: authentication required"): 401/403 -> PULL_UNAUTHORIZED; 404,
 * MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN -> PULL_NOT_FOUND; 408, 429, 5xx ->
 * PULL_TRANSIENT; anything else -> PULL_INVALID. Returns -1. */
int pull_fail_response(long status, const char *body, size_t body_len, struct agyn_error *err);

/* The same classification for an answer from somewhere other than the registry itself (a
 * token service, a redirect target): the message is the fixed "<who> at HOST answered 403"
 * and never holds a byte of that answer's body. Returns -1. */
int pull_fail_foreign(long status, const char *who, const char *host, struct agyn_error *err);

#endif
