/* pull_failure.h — classifying why a pull or login failed (enum pull_failure) together with the
 * message in struct agyn_error: registry answers keep the registry's own words. */
#ifndef AGYN_REGISTRY_PULL_FAILURE_H
#define AGYN_REGISTRY_PULL_FAILURE_H

#include <stddef.h>

#include "core/error.h"
#include "registry/oci_client.h"

/* The agyn_error code that goes with a failure kind. */
enum agyn_code pull_failure_code(enum pull_failure kind);

/* Sets *failure = kind and err (code from kind); returns -1. */
int pull_fail(enum pull_failure *failure, enum pull_failure kind, struct agyn_error *err,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Classifies a registry answer that is not a success and sets err->message to the registry's
 * own text ("unauthorized: authentication required"): 401/403 -> PULL_UNAUTHORIZED; 404,
 * MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN -> PULL_NOT_FOUND; 408, 429, 5xx ->
 * PULL_TRANSIENT; anything else -> PULL_INVALID. Returns -1. */
int pull_fail_response(long status, const char *body, size_t body_len, enum pull_failure *failure,
                       struct agyn_error *err);

/* The same classification for an answer from somewhere other than the registry itself (a
 * token service, a redirect target): the message is the fixed "<who> at HOST answered 403"
 * and never holds a byte of that answer's body. Returns -1. */
int pull_fail_foreign(long status, const char *who, const char *host, enum pull_failure *failure,
                      struct agyn_error *err);

#endif
