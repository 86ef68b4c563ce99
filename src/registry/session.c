/* session.c — pinging a registry, getting its credential ready, and authorized GETs with
 * hand-followed redirects and one token refresh on 401 (session.h). */
#include "registry/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/clock.h"
#include "core/xalloc.h"
#include "core/redact.h"
#include "core/secure_mem.h"
#include "registry/ping_memory.h"
#include "registry/pull_failure.h"
#include "registry/token_service.h"

#define PING_BODY_MAX (64 * 1024)
#define REQUEST_BODY_MAX (4 * 1024 * 1024 + 1)

static bool host_is_valid(const char *host) {
    size_t len = strlen(host);
    if (len == 0 || len >= 256)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'))
            return false;
    }
    return true;
}

static bool repository_is_valid(const char *repository) {
    size_t len = strlen(repository);
    if (len == 0 || len >= 256 || strstr(repository, "..") || repository[0] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = repository[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_' || c == '/'))
            return false;
    }
    return true;
}

/* A TLS handshake with a plain-HTTP server fails in one of these ways. */
static bool tls_handshake_failed(CURLcode code) {
    return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING;
}

static int ping(struct registry_session *s, struct http_response *resp, struct agyn_error *err) {
    char url[HTTP_URL_MAX];
    CURLcode code;
    snprintf(s->base_url, sizeof s->base_url, "https://%s", s->host);
    snprintf(url, sizeof url, "%s/v2/", s->base_url);
    int rc = http_get(s->policy, s->easy, url, NULL, resp, &code, err);
    if (rc != 0 && tls_handshake_failed(code) && http_plain_allowed(s->policy, s->host)) {
        snprintf(s->base_url, sizeof s->base_url, "http://%s", s->host);
        snprintf(url, sizeof url, "%s/v2/", s->base_url);
        http_response_reset(resp);
        rc = http_get(s->policy, s->easy, url, NULL, resp, &code, err);
    }
    if (rc != 0)
        pull_set_kind(err, PULL_TRANSIENT);
    if (rc == 0)
        s->own_policy.registry_origin = s->base_url;
    return rc;
}

static int set_authorization(struct registry_session *s, const char *prefix, const char *value) {
    size_t len = strlen(prefix) + strlen(value) + 1;
    char *line = malloc(len);
    if (!line)
        return -1;
    snprintf(line, len, "%s%s", prefix, value);
    secure_free(s->authorization);
    s->authorization = line;
    s->generation++;
    return 0;
}

static int use_token(struct registry_session *s, const char *token, double usable_until) {
    char *copy = strdup(token);
    if (!copy || set_authorization(s, "Authorization: Bearer ", token) != 0) {
        free(copy);
        return -1;
    }
    secure_free(s->token);
    s->token = copy;
    s->token_usable_until = usable_until;
    return 0;
}

static int obtain_token(struct registry_session *s, bool use_cache, struct agyn_error *err) {
    double now = token_clock_now();
    char *cached = NULL;
    double usable_until = 0;
    if (use_cache && token_cache_get(s->tokens, s->cache_key, now, &cached, &usable_until) == 0) {
        int rc = use_token(s, cached, usable_until);
        secure_free(cached);
        return rc == 0 ? 0 : pull_fail(err, PULL_TRANSIENT, "out of memory");
    }
    struct token_grant grant;
    if (token_service_fetch(s->policy, s->easy, &s->challenge, s->scope, s->auth, &grant, err) != 0)
        return -1;
    usable_until = token_usable_until(now, grant.expires_in, grant.issued_at);
    token_cache_put(s->tokens, s->cache_key, grant.token, usable_until, now);
    int rc = use_token(s, grant.token, usable_until);
    token_grant_free(&grant);
    return rc == 0 ? 0 : pull_fail(err, PULL_TRANSIENT, "out of memory");
}

static int prepare_credential(struct registry_session *s, struct agyn_error *err) {
    if (s->challenge.scheme == AUTH_SCHEME_BEARER) {
        if (token_cache_key(s->host, s->scope, s->auth, s->cache_key, sizeof s->cache_key) != 0)
            return pull_fail(err, PULL_INVALID, "registry %s: name too long", s->host);
        return obtain_token(s, true, err);
    }
    if (s->challenge.scheme == AUTH_SCHEME_BASIC && s->auth) {
        char *basic = basic_authorization_header(s->auth);
        secure_free(s->authorization);
        s->authorization = basic;
        s->generation++;
    }
    return 0;
}

/* Pings the registry and gets the credential ready; the answer is remembered when the session
 * has a memory key. */
static int ping_and_prepare(struct registry_session *s, struct agyn_error *err) {
    struct http_response resp;
    http_response_init(&resp, PING_BODY_MAX);
    memset(&s->challenge, 0, sizeof s->challenge);
    int64_t started = clock_monotonic_us();
    int rc = ping(s, &resp, err);
    if (rc == 0 && resp.status == 401) {
        if (auth_challenge_parse(resp.www_authenticate, &s->challenge) != 0)
            rc = pull_fail(err, PULL_INVALID, "registry %s: unsupported authentication challenge",
                           s->host);
    } else if (rc == 0 && resp.status != 200) {
        rc = pull_fail_response(resp.status, resp.body.data, resp.body.len, err);
        agyn_error_prefix(err, "registry %s", s->host);
    }
    http_response_free(&resp);
    int64_t pinged = clock_monotonic_us();
    s->ping_us = pinged - started;
    if (rc == 0 && s->memory_key[0]) {
        struct ping_answer answer = {.plain_http = strncmp(s->base_url, "http://", 7) == 0,
                                     .challenge = s->challenge};
        ping_memory_put(s->memory_key, &answer, token_clock_now());
    }
    if (rc == 0)
        rc = prepare_credential(s, err);
    s->credential_us = clock_monotonic_us() - pinged;
    return rc;
}

/* Takes the scheme and challenge from a remembered ping answer: false when there is none (or
 * plain HTTP is no longer allowed for the host). */
static bool recall_ping(struct registry_session *s) {
    struct ping_answer answer;
    if (!s->memory_key[0] || ping_memory_get(s->memory_key, token_clock_now(), &answer) != 0)
        return false;
    if (answer.plain_http && !http_plain_allowed(s->policy, s->host))
        return false;
    snprintf(s->base_url, sizeof s->base_url, "%s://%s", answer.plain_http ? "http" : "https",
             s->host);
    s->own_policy.registry_origin = s->base_url;
    s->challenge = answer.challenge;
    return true;
}

static int session_open(struct registry_session *s, const struct http_policy *policy,
                        struct token_cache *tokens, const char *host, const char *repository,
                        const struct registry_auth *auth, const char *tenant,
                        struct agyn_error *err) {
    memset(s, 0, sizeof *s);
    s->own_policy = *policy;
    s->own_policy.registry_origin = NULL;
    egress_scope_init(&s->egress);
    s->own_policy.egress_scope = &s->egress;
    s->policy = &s->own_policy;
    s->tokens = tokens;
    http_global_init();
    s->easy = curl_easy_init();
    if (!s->easy)
        return pull_fail(err, PULL_TRANSIENT, "out of memory");
    s->auth = auth && auth->username ? auth : NULL;
    if (!host || !host_is_valid(host))
        return pull_fail(err, PULL_INVALID, "registry host is not valid");
    snprintf(s->host, sizeof s->host, "%s", host);
    if (repository && !repository_is_valid(repository))
        return pull_fail(err, PULL_INVALID, "repository name is not valid");
    if (s->auth) {
        for (const char *c = s->auth->username; *c; c++) {
            if (*c == ':' || (unsigned char)*c < 0x20 || *c == 0x7f)
                return pull_fail(err, PULL_INVALID,
                                 "registry username must not contain ':' or control characters");
        }
    }
    if (repository)
        snprintf(s->scope, sizeof s->scope, "repository:%s:pull", repository);
    char credential_key[TOKEN_CACHE_KEY_MAX];
    if (tenant &&
        token_cache_key(s->host, "ping", s->auth, credential_key, sizeof credential_key) == 0) {
        int n = snprintf(s->memory_key, sizeof s->memory_key, "%s|%s", tenant, credential_key);
        if (n < 0 || (size_t)n >= sizeof s->memory_key)
            s->memory_key[0] = '\0'; /* too long to remember: pings every time */
    }
    if (recall_ping(s)) {
        int64_t started = clock_monotonic_us();
        s->from_memory = prepare_credential(s, err) == 0;
        s->credential_us = clock_monotonic_us() - started;
        if (s->from_memory)
            return 0;
        agyn_error_clear(err); /* the registry may have changed since: ask it */
        ping_memory_forget(s->memory_key);
    }
    return ping_and_prepare(s, err);
}

int registry_session_open(struct registry_session *s, const struct http_policy *policy,
                          struct token_cache *tokens, const char *host, const char *repository,
                          const struct registry_auth *auth, struct agyn_error *err) {
    return session_open(s, policy, tokens, host, repository, auth, NULL, err);
}

int registry_session_open_for_pull(struct registry_session *s, const struct http_policy *policy,
                                   struct token_cache *tokens, const char *host,
                                   const char *repository, const struct registry_auth *auth,
                                   const char *tenant, struct agyn_error *err) {
    return session_open(s, policy, tokens, host, repository, auth, tenant, err);
}

void registry_session_close(struct registry_session *s, struct agyn_error *err) {
    if (err && err->message[0])
        registry_session_redact(s, err);
    secure_free(s->authorization);
    secure_free(s->token);
    s->authorization = NULL;
    s->token = NULL;
    if (s->easy)
        curl_easy_cleanup(s->easy);
    s->easy = NULL;
}

int registry_session_headers(struct registry_session *s, const char *accept,
                             struct curl_slist **out, struct agyn_error *err) {
    *out = NULL;
    if (s->challenge.scheme == AUTH_SCHEME_BEARER && token_clock_now() >= s->token_usable_until &&
        obtain_token(s, true, err) != 0)
        return -1;
    struct curl_slist *list = NULL;
    if (s->authorization) {
        list = curl_slist_append(list, s->authorization);
    }
    if (accept) {
        char line[512];
        snprintf(line, sizeof line, "Accept: %s", accept);
        list = curl_slist_append(list, line); /* never NULL: allocation aborts (xalloc.h) */
    }
    *out = list;
    return 0;
}

bool registry_session_can_refresh(const struct registry_session *s) {
    return s->challenge.scheme == AUTH_SCHEME_BEARER;
}

int registry_session_refresh(struct registry_session *s, unsigned used_generation,
                             struct agyn_error *err) {
    if (used_generation != s->generation)
        return 0; /* another request already brought a new token */
    token_cache_invalidate(s->tokens, s->cache_key, s->token);
    return obtain_token(s, false, err);
}

static int session_get_once(struct registry_session *s, const char *path, const char *accept,
                            struct http_response *resp, struct agyn_error *err) {
    char url[HTTP_URL_MAX], host[300];
    s->answered_by[0] = '\0';
    if (snprintf(url, sizeof url, "%s%s", s->base_url, path) >= (int)sizeof url)
        return pull_fail(err, PULL_INVALID, "registry request path too long");
    bool retried = false;
    for (int redirects = 0;;) {
        bool on_registry = url_same_origin(s->base_url, url);
        if (egress_deadline_passed()) {
            pull_set_kind(err, PULL_TRANSIENT);
            http_url_host(url, host, sizeof host);
            char what[320];
            snprintf(what, sizeof what, "registry %s", host);
            return egress_deadline_error(err, what);
        }
        struct curl_slist *headers = NULL;
        if (on_registry && registry_session_headers(s, accept, &headers, err) != 0)
            return -1;
        unsigned generation = s->generation; /* after a renewal the headers may have brought */
        char errbuf[CURL_ERROR_SIZE];
        CURL *easy = s->easy;
        http_easy_prepare(easy, s->policy, url, errbuf);
        http_response_reset(resp);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                         egress_timeout_ms(HTTP_SMALL_REQUEST_TIMEOUT_MS));
        http_response_attach(easy, s->policy, resp);
        CURLcode code = curl_easy_perform(easy);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL); /* errbuf goes out of scope */
        secure_slist_free(headers);
        if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && resp->body_too_large)) {
            http_url_host(url, host, sizeof host);
            http_transport_error(err, host, code, errbuf, resp);
            pull_set_kind(err, PULL_TRANSIENT);
            return -1;
        }
        if (http_status_is_redirect(resp->status)) {
            char next[HTTP_URL_MAX];
            bool same_origin;
            int rc =
                ++redirects > HTTP_MAX_REDIRECTS
                    ? pull_fail(err, PULL_TRANSIENT, "registry %s: too many redirects", s->host)
                    : http_redirect_target(easy, s->policy, url, next, sizeof next, &same_origin,
                                           err);
            if (rc != 0) {
                pull_set_kind(err, PULL_TRANSIENT);
                return -1;
            }
            snprintf(url, sizeof url, "%s", next);
            continue;
        }
        if (resp->status == 401 && on_registry && !retried && registry_session_can_refresh(s)) {
            retried = true;
            if (registry_session_refresh(s, generation, err) != 0)
                return -1;
            continue;
        }
        if (!on_registry) {
            http_url_host(url, s->answered_by, sizeof s->answered_by);
            if (resp->status != 200)
                return registry_session_fail_answer(s, url, resp->status, NULL, 0, err);
        }
        return 0;
    }
}

int registry_session_get(struct registry_session *s, const char *path, const char *accept,
                         struct http_response *resp, struct agyn_error *err) {
    int rc = session_get_once(s, path, accept, resp, err);
    if (!s->from_memory)
        return rc;
    s->from_memory = false; /* the first answer confirms the remembered ping, or refutes it */
    if (rc == 0 && (resp->status == 200 || resp->status == 404))
        return 0;
    /* Refused, failed or odd (a TLS registry answers plain HTTP with 400): the registry may
     * have changed since it was pinged. Ping it, and ask once more. */
    ping_memory_forget(s->memory_key);
    agyn_error_clear(err);
    if (ping_and_prepare(s, err) != 0)
        return -1;
    return session_get_once(s, path, accept, resp, err);
}

int registry_session_fail_answer(const struct registry_session *s, const char *url, long status,
                                 const char *body, size_t body_len, struct agyn_error *err) {
    if (url_same_origin(s->base_url, url))
        return pull_fail_response(status, body, body_len, err);
    char host[300] = "";
    http_url_host(url, host, sizeof host);
    return pull_fail_foreign(status, "redirect target", host, err);
}

/* secret when there is one to look for (every non-empty credential is: a short one that
 * matches ordinary words only withholds more text, never shows the credential), else NULL. */
static const char *searchable(const char *secret) {
    return secret && secret[0] ? secret : NULL;
}

void registry_session_redact(const struct registry_session *s, struct agyn_error *err) {
    if (!err)
        return;
    const char *basic = NULL;
    if (s->authorization) {
        const char *space = strrchr(s->authorization, ' ');
        basic = space ? space + 1 : s->authorization;
    }
    /* Entries may be NULL: the list ends at the first NULL, so fill it in order. */
    const char *credentials[4] = {NULL};
    size_t n = 0;
    const char *candidates[] = {s->auth ? searchable(s->auth->password) : NULL, searchable(basic),
                                searchable(s->token)};
    for (size_t i = 0; i < 3; i++)
        if (candidates[i])
            credentials[n++] = candidates[i];
    char replacement[320];
    snprintf(replacement, sizeof replacement,
             "registry %s: the error text was withheld because it contains the credential",
             s->host[0] ? s->host : "(unknown)");
    redact_withhold(err->message, sizeof err->message, credentials, replacement);
}
