/* sigv4.h — AWS Signature Version 4 request signing (HMAC-SHA256 via OpenSSL): canonical
 * request, string to sign, signing key, Authorization header. Used by the AWS Secrets
 * Manager backend; the intermediate steps are exposed so tests can check them against AWS's
 * published test vectors. */
#ifndef AGYN_PROVIDERS_SIGV4_H
#define AGYN_PROVIDERS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "core/error.h"

#define SIGV4_AMZ_DATE_LEN 16 /* "20150830T123600Z" */

struct sigv4_header {
    const char *name; /* any case; lower-cased for signing */
    const char *value;
};

struct sigv4_request {
    const char *method;                 /* "GET", "POST" */
    const char *canonical_uri;          /* already URI-encoded absolute path, e.g. "/" */
    const char *canonical_query;        /* already canonical ("a=1&b=2"), "" when none */
    const struct sigv4_header *headers; /* every header to sign, host and x-amz-date included */
    size_t header_count;
    const void *payload;
    size_t payload_len;
};

struct sigv4_scope {
    const char *amz_date; /* "YYYYMMDDTHHMMSSZ"; the scope date is its first 8 characters */
    const char *region;
    const char *service;
};

/* Formats t (UTC) as an x-amz-date value into out[SIGV4_AMZ_DATE_LEN + 1]. */
void sigv4_format_amz_date(time_t t, char out[SIGV4_AMZ_DATE_LEN + 1]);

/* The canonical request and the string to sign as AWS defines them; malloc'd, NULL when out
 * of memory. Header names are lower-cased and sorted, values trimmed with inner runs of
 * spaces collapsed, repeated names joined with ','. */
char *sigv4_canonical_request(const struct sigv4_request *req);
char *sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_scope *scope);

/* Writes the Authorization header value ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=...") into out. Errors: AGYN_INTERNAL (bad date, out of memory, out too small).
 * The secret key is never part of a message; intermediate keys are wiped. */
int sigv4_authorization(const struct sigv4_request *req, const struct sigv4_scope *scope,
                        const char *access_key_id, const char *secret_access_key, char *out,
                        size_t out_size, struct agyn_error *err);

/* Lower-case hex SHA-256 of data into out[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
