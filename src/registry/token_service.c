/* token_service.c — fetching bearer tokens from a registry's token service (token_service.h). */
#include "registry/token_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/row.h"
#include "core/base64.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"
#include "registry/error_body.h"
#include "registry/pull_failure.h"

char *basic_authorization_header(const struct registry_auth *auth) {
    static const char prefix[] = "Authorization: Basic ";
    const char *password = auth->password ? auth->password : "";
    size_t plain_len = strlen(auth->username) + 1 + strlen(password);
    char *plain = xmalloc(plain_len + 1);
    char *header = xmalloc(sizeof prefix + base64_encoded_len(plain_len, 0));
    snprintf(plain, plain_len + 1, "%s:%s", auth->username, password);
    memcpy(header, prefix, sizeof prefix - 1);
    base64_encode(plain, plain_len, header + sizeof prefix - 1, 0);
    secure_free(plain);
    return header;
}

static bool token_is_clean(const char *token) {
    size_t len = strlen(token);
    if (len == 0 || len > TOKEN_MAX_BYTES)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c <= 0x20 || c >= 0x7f)
            return false; /* a CR/LF would smuggle headers into later requests */
    }
    return true;
}

/* Appends "&name=<escaped value>" (or "?name=" first) to url. */
static int append_param(CURL *easy, char *url, size_t size, const char *name, const char *value) {
    char *escaped = curl_easy_escape(easy, value, 0);
    if (!escaped)
        return -1;
    size_t used = strlen(url);
    int n =
        snprintf(url + used, size - used, "%c%s=%s", strchr(url, '?') ? '&' : '?', name, escaped);
    curl_free(escaped);
    return n < 0 || (size_t)n >= size - used ? -1 : 0;
}

static int token_url(const struct auth_challenge *challenge, const char *scope,
                     const struct registry_auth *auth, char *url, size_t size) {
    CURL *easy = curl_easy_init();
    if (!easy || snprintf(url, size, "%s", challenge->realm) >= (int)size) {
        curl_easy_cleanup(easy);
        return -1;
    }
    int rc = 0;
    if (challenge->service[0])
        rc |= append_param(easy, url, size, "service", challenge->service);
    if (scope && scope[0])
        rc |= append_param(easy, url, size, "scope", scope);
    if (auth && auth->username)
        rc |= append_param(easy, url, size, "account", auth->username);
    curl_easy_cleanup(easy);
    return rc;
}

int token_grant_parse(const char *body, size_t len, const char *host, struct token_grant *out,
                      struct agyn_error *err) {
    json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
    const char *token = row_text(root, "token");
    if (!token || !token[0])
        token = row_text(root, "access_token");
    if (!json_is_object(root) || !token || !token_is_clean(token)) {
        json_decref(root);
        return pull_fail(err, PULL_TRANSIENT, "token service %s: the answer holds no usable token",
                         host);
    }
    out->token = strdup(token);
    json_t *expires_in = json_object_get(root, "expires_in");
    /* Out-of-range lifetimes (negative, huge, -1e300) count as absent. */
    if (json_is_integer(expires_in) && json_integer_value(expires_in) > 0 &&
        json_integer_value(expires_in) < 1000000000)
        out->expires_in = (long)json_integer_value(expires_in);
    else if (json_is_real(expires_in) && json_real_value(expires_in) > 0 &&
             json_real_value(expires_in) < 1e9)
        out->expires_in = (long)json_real_value(expires_in);
    const char *issued_at = row_text(root, "issued_at");
    if (issued_at && strlen(issued_at) < sizeof out->issued_at)
        memcpy(out->issued_at, issued_at, strlen(issued_at) + 1);
    json_decref(root);
    if (!out->token)
        return pull_fail(err, PULL_TRANSIENT, "out of memory");
    return 0;
}

int token_service_fetch(const struct http_policy *policy, CURL *easy,
                        const struct auth_challenge *challenge, const char *scope,
                        const struct registry_auth *auth, struct token_grant *out,
                        struct agyn_error *err) {
    char url[HTTP_URL_MAX], host[300] = "";
    memset(out, 0, sizeof *out);
    if (http_url_host(challenge->realm, host, sizeof host) != 0)
        return pull_fail(err, PULL_INVALID,
                         "the registry's token service address is not a usable URL");
    if (!http_url_allowed(policy, challenge->realm))
        return pull_fail(err, PULL_INVALID, "token service %s is not served over https", host);
    if (token_url(challenge, scope, auth, url, sizeof url) != 0)
        return pull_fail(err, PULL_INVALID, "token service %s: request too long", host);
    struct curl_slist *headers = NULL;
    if (auth && auth->username) {
        char *basic = basic_authorization_header(auth);
        struct curl_slist *grown = basic ? curl_slist_append(NULL, basic) : NULL;
        if (basic) {
            OPENSSL_cleanse(basic, strlen(basic));
            free(basic);
        }
        if (!grown)
            return pull_fail(err, PULL_TRANSIENT, "out of memory");
        headers = grown;
    }
    struct http_response resp;
    http_response_init(&resp, TOKEN_RESPONSE_MAX_BYTES);
    CURLcode code;
    int rc = http_get(policy, easy, url, headers, &resp, &code, err);
    secure_slist_free(headers);
    /* Only the registry's own origin has its error text shown; any other token service gets
     * a fixed description, never bytes of its answer. */
    bool realm_is_registry =
        policy->registry_origin && url_same_origin(policy->registry_origin, challenge->realm);
    if (rc != 0) {
        if (egress_request_was_denied(&resp.egress))
            agyn_fail(err, AGYN_UNAVAILABLE, "", "token service at %s: %s", host,
                      resp.egress.denial);
        pull_set_kind(err, PULL_TRANSIENT);
    } else if (resp.status == 200 && !resp.body_too_large) {
        rc = token_grant_parse(resp.body.data, resp.body.len, host, out, err);
    } else if (!realm_is_registry) {
        bool refused = resp.status == 400 || resp.status == 401 || resp.status == 403;
        const char *reason = http_status_reason(resp.status);
        rc = pull_fail(err, refused ? PULL_UNAUTHORIZED : PULL_TRANSIENT,
                       "token service at %s answered %ld%s%s", host, resp.status,
                       reason[0] ? " " : "", reason);
    } else if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
        struct registry_error_info info;
        registry_error_describe(resp.status, resp.body.data, resp.body.len, &info);
        rc = pull_fail(err, PULL_UNAUTHORIZED, "%s", info.text);
    } else {
        struct registry_error_info info;
        registry_error_describe(resp.status, resp.body.data, resp.body.len, &info);
        rc = pull_fail(err, PULL_TRANSIENT, "token service %s: %s", host, info.text);
    }
    http_response_free(&resp);
    if (rc != 0)
        token_grant_free(out);
    return rc;
}

void token_grant_free(struct token_grant *grant) {
    if (grant->token) {
        OPENSSL_cleanse(grant->token, strlen(grant->token));
        free(grant->token);
    }
    grant->token = NULL;
}
