/* token_service.h — the token exchange of the Docker token authentication specification:
 * GET <realm>?service=..&scope=..&account=.. with the credential as HTTP Basic (or none for
 * anonymous), answered by {"token"|"access_token", "expires_in", "issued_at"}. */
#ifndef AGYN_REGISTRY_TOKEN_SERVICE_H
#define AGYN_REGISTRY_TOKEN_SERVICE_H

#include "base/wiping_alloc.h" /* secure_slist_free for header lists */
#include "core/error.h"
#include "registry/auth_challenge.h"
#include "registry/http.h"
#include "registry/oci_client.h"

#define TOKEN_MAX_BYTES 16384
#define TOKEN_RESPONSE_MAX_BYTES (1024 * 1024)

struct token_grant {
    char *token;        /* malloc'd; visible ASCII only */
    long expires_in;    /* 0 when absent */
    char issued_at[64]; /* "" when absent */
};

/* Exchanges auth for a token for scope ("" = none) at challenge's realm. Failures: 400/401/403
 * -> PULL_UNAUTHORIZED with the token service's text; a realm that is not https (outside
 * loopback and insecure registries) -> PULL_INVALID; anything else -> PULL_TRANSIENT. easy is
 * reused when not NULL. */
int token_service_fetch(const struct http_policy *policy, CURL *easy,
                        const struct auth_challenge *challenge, const char *scope,
                        const struct registry_auth *auth, struct token_grant *out,
                        struct agyn_error *err);
void token_grant_free(struct token_grant *grant);
/* Reads a token-service answer body ({"token"|"access_token", "expires_in", "issued_at"}) into
 * out; an answer without a usable token is PULL_TRANSIENT. host names the service in errors. */
int token_grant_parse(const char *body, size_t len, const char *host, struct token_grant *out,
                      struct agyn_error *err);

/* "Authorization: Basic <base64(user:password)>" (malloc'd; free with secure_free). */
char *basic_authorization_header(const struct registry_auth *auth);

#endif
