/* session.h — one pull's or login's conversation with a registry: the /v2/ ping (https, or
 * plain http for loopback and insecure registries), the challenge it answers with, the
 * credential as Basic or as a bearer token (from the shared token cache or the token service,
 * renewed when it expires or is rejected), and authorized GETs that follow redirects by hand,
 * never carrying Authorization to another origin. Used by one thread at a time. */
#ifndef AGYN_REGISTRY_SESSION_H
#define AGYN_REGISTRY_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "registry/auth_challenge.h"
#include "registry/http.h"
#include "registry/oci_client.h"
#include "registry/token_cache.h"

struct registry_session {
    const struct http_policy *policy; /* &own_policy */
    /* The caller's policy plus this session's egress scope and, after the ping, the
     * registry's origin (for the plain-HTTP and no-downgrade rules). */
    struct http_policy own_policy;
    struct egress_scope egress;
    CURL *easy; /* reused for the session's small requests, so connections are too */
    struct token_cache *tokens;
    const struct registry_auth *auth; /* NULL when anonymous */
    char host[256];                   /* "host[:port]" */
    char base_url[300];               /* "https://host[:port]" or "http://..." */
    char scope[600];                  /* "repository:<name>:pull" or "" */
    char cache_key[TOKEN_CACHE_KEY_MAX];
    struct auth_challenge challenge; /* AUTH_SCHEME_NONE for an open registry */
    char *authorization;             /* "Authorization: ..." line, or NULL */
    char *token;                     /* the bearer token in use */
    double token_usable_until;
    unsigned generation; /* bumped whenever the credential line changes */
    /* "host[:port]" that gave the last registry_session_get answer when that was not the
     * registry's own origin (a redirect target); "" when it was the registry. */
    char answered_by[300];
    int64_t ping_us, credential_us; /* how long registry_session_open's two steps took */
    /* Where the ping's answer is remembered (ping_memory.h; "" for a login), and whether this
     * session was opened from it: then the first registry_session_get confirms it, or forgets
     * it and pings again. */
    char memory_key[TOKEN_CACHE_KEY_MAX];
    bool from_memory;
};

/* Pings host and gets the credential ready (for Bearer: a token for repository's pull scope,
 * or no scope when repository is NULL). On failure err and its kind (enum pull_failure) are set. */
int registry_session_open(struct registry_session *s, const struct http_policy *policy,
                          struct token_cache *tokens, const char *host, const char *repository,
                          const struct registry_auth *auth, struct agyn_error *err);
/* The same for a pull by tenant: when a ping by the same tenant with the same credential
 * answered less than PING_MEMORY_TTL_S ago, that answer is used instead of pinging
 * (ping_memory.h). tenant NULL: always pings, remembers nothing. */
int registry_session_open_for_pull(struct registry_session *s, const struct http_policy *policy,
                                   struct token_cache *tokens, const char *host,
                                   const char *repository, const struct registry_auth *auth,
                                   const char *tenant, struct agyn_error *err);
/* Frees and wipes the credential lines; err, when not NULL, is first scrubbed of the password
 * and tokens (see registry_session_redact). */
void registry_session_close(struct registry_session *s, struct agyn_error *err);

/* Headers for a request to the registry's own origin: the credential (a bearer token that has
 * expired is renewed first) and Accept when accept is not NULL. Free with
 * secure_slist_free. */
int registry_session_headers(struct registry_session *s, const char *accept,
                             struct curl_slist **out, struct agyn_error *err);

/* Whether a 401 may be answered by fetching a new token. */
bool registry_session_can_refresh(const struct registry_session *s);
/* After a 401 for a request made at used_generation: unless the credential already changed
 * since, drops the cached token and fetches a new one. */
int registry_session_refresh(struct registry_session *s, unsigned used_generation,
                             struct agyn_error *err);

/* GET base_url + path with the credential; redirects are followed (up to HTTP_MAX_REDIRECTS,
 * Authorization only while on the registry's origin) and a 401 gets one token refresh. resp
 * holds the final answer, of any status when it came from the registry; an answer other than
 * 200 from a redirect target is a failure with a fixed text (see registry_session_fail_answer).
 * -1 for transport and policy failures too. */
int registry_session_get(struct registry_session *s, const char *path, const char *accept,
                         struct http_response *resp, struct agyn_error *err);

/* A failure for an answer of status from url: the registry's own error text (from body) when
 * url is on the registry's origin, else the fixed "redirect target at HOST answered STATUS"
 * that never shows a byte of a body from anywhere else. Returns -1. */
int registry_session_fail_answer(const struct registry_session *s, const char *url, long status,
                                 const char *body, size_t body_len, struct agyn_error *err);

/* When err->message contains the password, the Basic credential or the token (those of at
 * least 4 bytes: shorter ones would match ordinary words), replaces the whole message by a
 * fixed one naming the registry (core/redact.h); never edits inside it. */
void registry_session_redact(const struct registry_session *s, struct agyn_error *err);

#endif
