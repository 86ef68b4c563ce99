/* session.c — Console sessions (cookie + CSRF token) and serving the Console's assets. */
#include "api/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/row.h"
#include "api/auth.h"
#include "api/embedded.h"
#include "api/handlers.h"
#include "api/input.h"
#include "base/clock.h"
#include "store/tables.h"

#define SESSION_HOURS 12

static void random_hex(char *out, size_t bytes) {
    unsigned char random[32];
    if (RAND_bytes(random, (int)bytes) != 1)
        abort(); /* a session id or CSRF token must never be guessable */
    for (size_t i = 0; i < bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", random[i]);
    OPENSSL_cleanse(random, sizeof random);
}

/* Finds "agyn_session=<64 hex>" in a Cookie header. */
static int cookie_value(const char *header, char out[65]) {
    const char *p = header;
    size_t name_len = strlen(SESSION_COOKIE);
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, SESSION_COOKIE, name_len) == 0 && p[name_len] == '=') {
            const char *value = p + name_len + 1;
            size_t len = strcspn(value, "; ");
            if (len != 64)
                return -1;
            memcpy(out, value, 64);
            out[64] = '\0';
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

static int is_safe_method(const char *method) {
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

int session_authenticate(struct app *app, const char *cookie_header, const char *method,
                         const char *csrf_header, struct principal *out, struct agyn_error *err) {
    char value[65];
    if (!cookie_header || cookie_value(cookie_header, value) != 0)
        return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization",
                         "missing Authorization header; send \"Authorization: Bearer <token>\"");
    char hash[TOKEN_HASH_HEX];
    auth_token_hash(value, hash);
    OPENSSL_cleanse(value, sizeof value);
    struct store_filter filter = {"session_hash", hash};
    struct store_query query = {.filters = &filter, .filter_count = 1};
    json_t *session = NULL;
    if (store_find(app->store, &TABLE_SESSIONS, &query, &session, err) != 0)
        return -1;
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    if (!session || strcmp(row_text(session, "expires_at"), now) <= 0) {
        json_decref(session);
        return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization",
                         "the session has ended; sign in again");
    }
    const char *csrf = row_text(session, "csrf_token");
    if (!is_safe_method(method) && (!csrf_header || strlen(csrf_header) != strlen(csrf) ||
                                    CRYPTO_memcmp(csrf_header, csrf, strlen(csrf)) != 0)) {
        json_decref(session);
        return agyn_fail(err, AGYN_PERMISSION_DENIED, "X-CSRF-Token",
                         "missing or wrong X-CSRF-Token header for a session request");
    }
    json_t *token = NULL;
    int rc =
        store_get(app->store, &TABLE_API_TOKENS, NULL, row_text(session, "token_id"), &token, err);
    json_decref(session);
    if (rc != 0)
        return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization", "the session has ended");
    memset(out, 0, sizeof *out);
    out->role = role_parse(row_text(token, "role"));
    const char *org = row_text(token, "organization_id");
    snprintf(out->organization_id, sizeof out->organization_id, "%s", org ? org : "");
    snprintf(out->token_id, sizeof out->token_id, "%s", row_text(token, "id"));
    json_decref(token);
    return 0;
}

/* "; Secure" when clients reach agynd over HTTPS (its own TLS, or a proxy named by
 * --public-url https://...): the browser then never sends the cookie over plain HTTP. */
static const char *secure_attribute(const struct app *app) {
    return app_config_is_https(&app->config) ? "; Secure" : "";
}

int session_hash_from_cookie(const char *cookie_header, char hash[TOKEN_HASH_HEX]) {
    char value[65];
    if (!cookie_header || cookie_value(cookie_header, value) != 0)
        return -1;
    auth_token_hash(value, hash);
    OPENSSL_cleanse(value, sizeof value);
    return 0;
}

int session_hash_is_active(struct app *app, const char hash[TOKEN_HASH_HEX],
                           struct agyn_error *err) {
    struct store_filter filter = {"session_hash", hash};
    struct store_query query = {.filters = &filter, .filter_count = 1};
    json_t *session = NULL;
    if (store_find(app->store, &TABLE_SESSIONS, &query, &session, err) != 0)
        return -1;
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    const char *expires = session ? row_text(session, "expires_at") : NULL;
    if (!expires || strcmp(expires, now) <= 0) {
        json_decref(session);
        return 0;
    }
    json_t *token = NULL;
    int rc =
        store_get(app->store, &TABLE_API_TOKENS, NULL, row_text(session, "token_id"), &token, err);
    json_decref(session);
    json_decref(token);
    if (rc != 0)
        return err->code == AGYN_NOT_FOUND ? 0 : -1;
    return 1;
}

static json_t *session_view(const struct principal *who, const char *csrf) {
    json_t *view = json_pack("{s:s, s:s, s:s}", "role", role_name(who->role), "token_id",
                             who->token_id, "csrf_token", csrf);
    json_object_set_new(view, "organization_id",
                        who->organization_id[0] ? json_string(who->organization_id) : json_null());
    return view;
}

/* POST /api/v1/session {token}: signs in. */
HANDLER(h_session_create) {
    static const char *const fields[] = {"token", NULL};
    const char *token;
    if (input_require_object(req, fields, err) != 0 ||
        input_string(req->body, "token", true, &token, err) != 0)
        return -1;
    char authorization[TOKEN_VALUE_LEN + 16];
    snprintf(authorization, sizeof authorization, "Bearer %s", token);
    struct principal who;
    int rc = auth_authenticate(req->app->store, authorization, &who, err);
    OPENSSL_cleanse(authorization, sizeof authorization);
    if (rc != 0) {
        snprintf(err->field, sizeof err->field, "token");
        return -1;
    }
    char value[65], csrf[65], hash[TOKEN_HASH_HEX], expires[RFC3339_LEN];
    random_hex(value, 32);
    random_hex(csrf, 32);
    auth_token_hash(value, hash);
    clock_format_rfc3339(clock_now_unix_ms() + (int64_t)SESSION_HOURS * 3600 * 1000, expires);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "token_id", who.token_id, "session_hash", hash,
                            "csrf_token", csrf, "expires_at", expires);
    rc = store_insert(req->app->store, &TABLE_SESSIONS, row, err);
    json_decref(row);
    if (rc != 0)
        return -1;
    snprintf(res->set_cookie, sizeof res->set_cookie,
             "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", SESSION_COOKIE, value,
             SESSION_HOURS * 3600, secure_attribute(req->app));
    OPENSSL_cleanse(value, sizeof value);
    return respond_json(res, 201, session_view(&who, csrf));
}

/* GET /api/v1/session: the signed-in principal and its CSRF token (for a reloaded page). */
HANDLER(h_session_get) {
    const char *cookie = request_header(req, "Cookie");
    char value[65], hash[TOKEN_HASH_HEX];
    if (!cookie || cookie_value(cookie, value) != 0)
        return agyn_fail(err, AGYN_NOT_FOUND, NULL, "no Console session on this request");
    auth_token_hash(value, hash);
    struct store_filter filter = {"session_hash", hash};
    struct store_query query = {.filters = &filter, .filter_count = 1};
    json_t *session = NULL;
    if (store_find(req->app->store, &TABLE_SESSIONS, &query, &session, err) != 0)
        return -1;
    if (!session)
        return agyn_fail(err, AGYN_NOT_FOUND, NULL, "no Console session on this request");
    json_t *view = session_view(&req->principal, row_text(session, "csrf_token"));
    json_decref(session);
    return respond_json(res, 200, view);
}

/* DELETE /api/v1/session: signs out (the cookie is cleared, the session row deleted). */
HANDLER(h_session_delete) {
    const char *cookie = request_header(req, "Cookie");
    char value[65], hash[TOKEN_HASH_HEX];
    if (cookie && cookie_value(cookie, value) == 0) {
        auth_token_hash(value, hash);
        struct store_filter filter = {"session_hash", hash};
        struct store_query query = {.filters = &filter, .filter_count = 1};
        if (store_delete_where(req->app->store, &TABLE_SESSIONS, &query, NULL, err) != 0)
            return -1;
        auth_revoked(req->app->store, NULL); /* a sign-out revokes: streams end now */
    }
    snprintf(res->set_cookie, sizeof res->set_cookie,
             "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s", SESSION_COOKIE,
             secure_attribute(req->app));
    res->status = 204;
    return 0;
}

static const char *content_type_for(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".json") == 0)
        return "application/json";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".ico") == 0)
        return "image/x-icon";
    return "application/octet-stream";
}

int console_serve(const char *path, struct api_response *res, struct agyn_error *err) {
    char asset[512];
    const struct embedded_file *file = NULL;
    if (strlen(path) < 400 && !strstr(path, "..")) {
        snprintf(asset, sizeof asset, "console%s", path);
        if (path[strlen(path) - 1] != '/')
            file = embedded_find(asset);
    }
    const char *last = strrchr(path, '/');
    if (!file && last && strchr(last, '.'))
        return agyn_fail(err, AGYN_NOT_FOUND, NULL, "no such file: %s", path);
    if (!file) {
        snprintf(asset, sizeof asset, "console/index.html");
        file = embedded_find(asset);
    }
    if (!file)
        return agyn_fail(err, AGYN_NOT_FOUND, NULL, "the Console is not part of this build");
    res->status = 200;
    res->static_body = file->data;
    res->body_len = file->size;
    res->content_type = content_type_for(file->path);
    res->cache_control = strcmp(asset, "console/index.html") == 0 ? "no-cache" : "max-age=300";
    return 0;
}
