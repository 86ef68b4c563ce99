/* sigv4.c — AWS Signature Version 4 (see sigv4.h), built on OpenSSL's SHA-256 and HMAC. */
#include "providers/sigv4.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/xalloc.h"
#include "providers/http.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

struct canonical_header {
    char *name;  /* lower-cased */
    char *value; /* trimmed, whitespace runs collapsed */
    size_t position;
};

void sigv4_format_amz_date(time_t t, char out[SIGV4_AMZ_DATE_LEN + 1]) {
    struct tm utc;
    gmtime_r(&t, &utc);
    strftime(out, SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &utc);
}

static void hex_encode(const unsigned char *bytes, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(data ? data : (const void *)"", len, digest);
    hex_encode(digest, sizeof digest, out);
}

static char *lowercase_copy(const char *text) {
    char *copy = xstrdup(text);
    for (char *p = copy; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return copy;
}

/* Trims the value and collapses runs of spaces and tabs into one space. */
static char *collapsed_copy(const char *text) {
    char *copy = malloc(strlen(text) + 1);
    if (!copy)
        return NULL;
    size_t used = 0;
    bool pending_space = false;
    for (const char *p = text; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            pending_space = used > 0;
            continue;
        }
        if (pending_space)
            copy[used++] = ' ';
        pending_space = false;
        copy[used++] = *p;
    }
    copy[used] = '\0';
    return copy;
}

static int compare_headers(const void *a, const void *b) {
    const struct canonical_header *left = a;
    const struct canonical_header *right = b;
    int by_name = strcmp(left->name, right->name);
    if (by_name)
        return by_name;
    return left->position < right->position ? -1 : left->position > right->position;
}

static void free_headers(struct canonical_header *headers, size_t count) {
    for (size_t i = 0; headers && i < count; i++) {
        free(headers[i].name);
        if (headers[i].value) {
            OPENSSL_cleanse(headers[i].value, strlen(headers[i].value));
            free(headers[i].value);
        }
    }
    free(headers);
}

/* Appends the canonical header block (each "name:value\n") and, into signed_names, the
 * ';'-separated header names. */
static int append_canonical_headers(const struct sigv4_request *req, struct dynbuf *block,
                                    struct dynbuf *signed_names) {
    size_t count = req->header_count;
    struct canonical_header *headers = calloc(count ? count : 1, sizeof *headers);
    if (!headers)
        return -1;
    for (size_t i = 0; i < count; i++) {
        headers[i].name = lowercase_copy(req->headers[i].name);
        headers[i].value = collapsed_copy(req->headers[i].value);
        headers[i].position = i;
        if (!headers[i].name || !headers[i].value) {
            free_headers(headers, count);
            return -1;
        }
    }
    qsort(headers, count, sizeof *headers, compare_headers);
    for (size_t i = 0; i < count; i++) {
        bool continues_previous = i > 0 && strcmp(headers[i].name, headers[i - 1].name) == 0;
        if (continues_previous) {
            dynbuf_add_str(block, ",");
        } else {
            if (i > 0) {
                dynbuf_add_str(block, "\n");
                dynbuf_add_str(signed_names, ";");
            }
            dynbuf_add_str(block, headers[i].name);
            dynbuf_add_str(block, ":");
            dynbuf_add_str(signed_names, headers[i].name);
        }
        dynbuf_add_str(block, headers[i].value);
    }
    if (count)
        dynbuf_add_str(block, "\n");
    free_headers(headers, count);
    return dynbuf_str(block) && dynbuf_str(signed_names) ? 0 : -1;
}

static char *canonical_request_with_names(const struct sigv4_request *req,
                                          struct dynbuf *signed_names) {
    struct dynbuf out = {0};
    char payload_hash[65];
    sigv4_sha256_hex(req->payload, req->payload_len, payload_hash);
    dynbuf_add_str(&out, req->method);
    dynbuf_add_str(&out, "\n");
    dynbuf_add_str(&out, req->canonical_uri);
    dynbuf_add_str(&out, "\n");
    dynbuf_add_str(&out, req->canonical_query ? req->canonical_query : "");
    dynbuf_add_str(&out, "\n");
    if (append_canonical_headers(req, &out, signed_names) != 0) {
        dynbuf_free(&out);
        return NULL;
    }
    dynbuf_add_str(&out, "\n");
    dynbuf_add_str(&out, dynbuf_str(signed_names));
    dynbuf_add_str(&out, "\n");
    dynbuf_add_str(&out, payload_hash);
    if (!dynbuf_str(&out)) {
        dynbuf_free(&out);
        return NULL;
    }
    return out.data;
}

char *sigv4_canonical_request(const struct sigv4_request *req) {
    struct dynbuf signed_names = {0};
    char *result = canonical_request_with_names(req, &signed_names);
    dynbuf_free(&signed_names);
    return result;
}

static char *string_to_sign_from_canonical(const char *canonical, const struct sigv4_scope *scope) {
    char canonical_hash[65];
    sigv4_sha256_hex(canonical, strlen(canonical), canonical_hash);
    struct dynbuf out = {0};
    dynbuf_add_str(&out, SIGV4_ALGORITHM "\n");
    dynbuf_add_str(&out, scope->amz_date);
    dynbuf_add_str(&out, "\n");
    dynbuf_add(&out, scope->amz_date, 8);
    dynbuf_add_str(&out, "/");
    dynbuf_add_str(&out, scope->region);
    dynbuf_add_str(&out, "/");
    dynbuf_add_str(&out, scope->service);
    dynbuf_add_str(&out, "/aws4_request\n");
    dynbuf_add_str(&out, canonical_hash);
    if (!dynbuf_str(&out)) {
        dynbuf_free(&out);
        return NULL;
    }
    return out.data;
}

static bool amz_date_is_valid(const char *date) {
    if (!date || strlen(date) != SIGV4_AMZ_DATE_LEN || date[8] != 'T' || date[15] != 'Z')
        return false;
    for (int i = 0; i < 15; i++) {
        if (i != 8 && !isdigit((unsigned char)date[i]))
            return false;
    }
    return true;
}

char *sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_scope *scope) {
    if (!amz_date_is_valid(scope->amz_date))
        return NULL;
    char *canonical = sigv4_canonical_request(req);
    if (!canonical)
        return NULL;
    char *result = string_to_sign_from_canonical(canonical, scope);
    OPENSSL_cleanse(canonical, strlen(canonical));
    free(canonical);
    return result;
}

static void hmac_sha256(const void *key, size_t key_len, const char *data,
                        unsigned char out[SHA256_DIGEST_LENGTH]) {
    unsigned int out_len = SHA256_DIGEST_LENGTH;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, strlen(data), out, &out_len);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int derive_signing_key(const char *secret_access_key, const struct sigv4_scope *scope,
                              unsigned char key_out[SHA256_DIGEST_LENGTH]) {
    size_t secret_len = strlen(secret_access_key);
    char *initial_key = malloc(secret_len + 5);
    if (!initial_key)
        return -1;
    memcpy(initial_key, "AWS4", 4);
    memcpy(initial_key + 4, secret_access_key, secret_len + 1);
    char date[9];
    memcpy(date, scope->amz_date, 8);
    date[8] = '\0';
    unsigned char date_key[SHA256_DIGEST_LENGTH];
    unsigned char region_key[SHA256_DIGEST_LENGTH];
    unsigned char service_key[SHA256_DIGEST_LENGTH];
    hmac_sha256(initial_key, secret_len + 4, date, date_key);
    hmac_sha256(date_key, sizeof date_key, scope->region, region_key);
    hmac_sha256(region_key, sizeof region_key, scope->service, service_key);
    hmac_sha256(service_key, sizeof service_key, "aws4_request", key_out);
    OPENSSL_cleanse(initial_key, secret_len + 4);
    free(initial_key);
    OPENSSL_cleanse(date_key, sizeof date_key);
    OPENSSL_cleanse(region_key, sizeof region_key);
    OPENSSL_cleanse(service_key, sizeof service_key);
    return 0;
}

int sigv4_authorization(const struct sigv4_request *req, const struct sigv4_scope *scope,
                        const char *access_key_id, const char *secret_access_key, char *out,
                        size_t out_size, struct agyn_error *err) {
    if (!amz_date_is_valid(scope->amz_date))
        return agyn_fail(err, AGYN_INTERNAL, "", "sigv4: malformed x-amz-date");
    struct dynbuf signed_names = {0};
    char *canonical = canonical_request_with_names(req, &signed_names);
    char *to_sign = canonical ? string_to_sign_from_canonical(canonical, scope) : NULL;
    unsigned char signing_key[SHA256_DIGEST_LENGTH];
    unsigned char signature[SHA256_DIGEST_LENGTH];
    char signature_hex[2 * SHA256_DIGEST_LENGTH + 1];
    int rc = -1;
    if (!to_sign || derive_signing_key(secret_access_key, scope, signing_key) != 0) {
        agyn_fail(err, AGYN_INTERNAL, "", "sigv4: out of memory");
        goto done;
    }
    hmac_sha256(signing_key, sizeof signing_key, to_sign, signature);
    hex_encode(signature, sizeof signature, signature_hex);
    int written = snprintf(out, out_size,
                           SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, "
                                           "SignedHeaders=%s, Signature=%s",
                           access_key_id, scope->amz_date, scope->region, scope->service,
                           signed_names.data, signature_hex);
    if (written < 0 || (size_t)written >= out_size) {
        agyn_fail(err, AGYN_INTERNAL, "", "sigv4: authorization header too long");
        goto done;
    }
    rc = 0;
done:
    OPENSSL_cleanse(signing_key, sizeof signing_key);
    OPENSSL_cleanse(signature, sizeof signature);
    if (canonical) {
        OPENSSL_cleanse(canonical, strlen(canonical));
        free(canonical);
    }
    if (to_sign) {
        OPENSSL_cleanse(to_sign, strlen(to_sign));
        free(to_sign);
    }
    dynbuf_free(&signed_names);
    return rc;
}
