/* server.c — libmicrohttpd glue: authenticates a request as soon as its headers are in (an
 * unauthenticated request never gets its body read), collects bodies (1 MiB each, a global
 * budget for all), routes, checks access, runs the handler, suspends requests whose answer
 * comes from the outbound pool, writes the JSON response or error, and logs one line per
 * request with its id, route, status and duration.
 *
 * Limits against exhaustion by clients that never finish: a connection is closed after
 * IDLE_TIMEOUT_S without progress, a request's headers must arrive within HEADER_DEADLINE_MS
 * (header_deadline.c), a body within BODY_DEADLINE_MS, all clients hold at most
 * max_connections connections and one client address at most
 * max_connections_per_client connections, each connection's header memory is capped by
 * libmicrohttpd's per-connection pool, and the bodies held at once are capped by
 * BODIES_HELD_MAX. Only sign-in takes a body without a token: UNAUTHENTICATED_BODY_MAX bytes,
 * from a budget of its own; any other unauthenticated body is refused unread. */
#include "api/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/header_deadline.h"
#include "api/request.h"
#include "api/router.h"
#include "api/session.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "core/dynbuf.h"
#include "core/json_writer.h"
#include "core/names.h"
#include "core/xalloc.h"
#include "crypto/envelope.h"
#include "store/tables.h"

#define MAX_BODY (1024 * 1024)
#define BODIES_HELD_MAX (64u * 1024 * 1024) /* request bodies buffered at once, all clients */
#define BODY_DEADLINE_MS 30000              /* a body must arrive whole within this */
#define IDLE_TIMEOUT_S 10u                  /* no byte in either direction for this long */
#define STREAM_IDLE_TIMEOUT_S 60u           /* event streams write a heartbeat every 15 s */
#define CONNECTION_MEMORY (32u * 1024)      /* headers of one connection */
#define HEADER_DEADLINE_MS 10000            /* a request's headers must arrive within this */
#define UNAUTHENTICATED_BODY_MAX 4096u      /* sign-in, the one route that takes a body unsigned */
#define UNAUTHENTICATED_HELD_MAX (1024u * 1024) /* all sign-in bodies buffered at once */

struct api_server {
    struct MHD_Daemon *daemon;
    struct MHD_Daemon *metrics_daemon; /* --metrics-listen: /metrics only */
    struct app *app;
    char *tls_cert_pem, *tls_key_pem;
    int watching_headers; /* header_deadline started for this server */
};

/* Per connection and request, from the first header callback to the completion callback. */
struct request_context {
    struct dynbuf body;          /* wiping: bodies may carry passwords */
    size_t body_held;            /* counted in bodies_held */
    int unauthenticated;         /* a sign-in body: UNAUTHENTICATED_BODY_MAX, its own budget */
    size_t unauthenticated_held; /* counted in unauthenticated_held */
    int too_large;
    int64_t started_us;
    int metrics_only; /* arrived on the --metrics-listen address */
    /* Authentication happens when the headers are in, before any body byte is read. */
    int auth_rc;
    struct agyn_error auth_err;
    struct principal principal;
    /* A deferred answer (outbound job) and what the log line needs meanwhile. */
    struct outbound_job *job;
    char request_id[20];
    const char *route;
};

static _Atomic size_t bodies_held;
static _Atomic size_t unauthenticated_held; /* sign-in bodies, before any token is known */

const char *request_query(const struct api_request *req, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)req->connection,
                                       MHD_GET_ARGUMENT_KIND, name);
}

const char *request_header(const struct api_request *req, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)req->connection, MHD_HEADER_KIND,
                                       name);
}

int respond_json(struct api_response *res, int status, json_t *json) {
    res->status = status;
    json_decref(res->json);
    res->json = json;
    return 0;
}

/* Messages and fields may quote request bytes (a path segment, a field name cut at 64 bytes);
 * json_string refuses invalid UTF-8, so such bytes become '?' and the body stays JSON. */
static json_t *error_text(const char *text) {
    size_t len = strlen(text);
    if (utf8_is_valid(text, len))
        return json_stringn(text, len);
    char *copy = xstrdup(text);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    json_t *out = json_string(copy);
    free(copy);
    return out;
}

/* The HTTP status an error code answers with; the mapping belongs to the API, not to core. */
static int http_status_for_code(enum agyn_code code) {
    switch (code) {
    case AGYN_OK:
        return 200;
    case AGYN_INVALID_ARGUMENT:
        return 400;
    case AGYN_UNAUTHENTICATED:
        return 401;
    case AGYN_PERMISSION_DENIED:
        return 403;
    case AGYN_NOT_FOUND:
        return 404;
    case AGYN_METHOD_NOT_ALLOWED:
        return 405;
    case AGYN_CONFLICT:
        return 409;
    case AGYN_PAYLOAD_TOO_LARGE:
        return 413;
    case AGYN_UNSUPPORTED_MEDIA:
        return 415;
    case AGYN_UNPROCESSABLE:
        return 422;
    case AGYN_INTERNAL:
        return 500;
    case AGYN_UNAVAILABLE:
        return 502;
    case AGYN_TOO_MANY_REQUESTS:
        return 429;
    }
    return 500;
}

static void error_response(struct api_response *res, const struct agyn_error *err) {
    json_t *error =
        json_pack("{s:s, s:o}", "code", agyn_code_name(err->code), "message",
                  error_text(err->message[0] ? err->message : agyn_code_name(err->code)));
    if (err->field[0])
        json_object_set_new(error, "field", error_text(err->field));
    int status = http_status_for_code(err->code);
    /* The database (not a remote peer) unreachable or busy: 503 with Retry-After (finish). */
    if (err->code == AGYN_UNAVAILABLE && strncmp(err->message, "database", 8) == 0)
        status = 503;
    respond_json(res, status, json_pack("{s:o}", "error", error));
}

static int content_type_is_json(struct MHD_Connection *connection) {
    const char *type =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!type)
        return 0;
    size_t len = strcspn(type, ";");
    while (len > 0 && type[len - 1] == ' ')
        len--;
    return len == 16 && strncasecmp(type, "application/json", 16) == 0;
}

static int check_access(const struct route *route, struct api_request *req,
                        struct agyn_error *err) {
    const struct principal *who = &req->principal;
    if (route->access == ACCESS_PUBLIC || route->access == ACCESS_TOKEN)
        return 0;
    if (route->access == ACCESS_ADMIN) {
        if (who->role != ROLE_ADMIN)
            return agyn_fail(err, AGYN_PERMISSION_DENIED, NULL,
                             "this needs the server-admin token");
        return 0;
    }
    /* Organization routes: the token must belong to {org} (or be the admin's). Another
     * organization is indistinguishable from one that does not exist. */
    if (!uuid_is_valid(req->org_id))
        return agyn_fail(err, AGYN_NOT_FOUND, "organization_id", "organization not found");
    if (who->role != ROLE_ADMIN && strcmp(who->organization_id, req->org_id) != 0)
        return agyn_fail(err, AGYN_NOT_FOUND, "organization_id", "organization not found");
    if (who->role == ROLE_ADMIN) {
        json_t *org = NULL;
        if (store_get(req->app->store, &TABLE_ORGANIZATIONS, NULL, req->org_id, &org, err) != 0)
            return agyn_fail(err, AGYN_NOT_FOUND, "organization_id", "organization not found");
        json_decref(org);
    }
    if (route->access == ACCESS_OWNER && who->role == ROLE_MEMBER)
        return agyn_fail(err, AGYN_PERMISSION_DENIED, NULL,
                         "this needs a token with role owner; this token's role is member");
    return 0;
}

static int check_path_ids(const struct route *route, struct api_request *req,
                          struct agyn_error *err) {
    if (strstr(route->pattern, "{id}") && !uuid_is_valid(req->id))
        return agyn_fail(err, AGYN_NOT_FOUND, "id", "%s not found: \"%s\" is not a valid id",
                         route->id_kind ? route->id_kind : "resource", req->id);
    return 0;
}

static int parse_body(struct MHD_Connection *connection, struct request_context *ctx,
                      struct api_request *req, struct agyn_error *err) {
    if (ctx->too_large)
        return agyn_fail(err, AGYN_PAYLOAD_TOO_LARGE, NULL,
                         "the request body is larger than 1 MiB");
    req->raw_body = ctx->body.data;
    req->raw_body_len = ctx->body.len;
    if (ctx->body.len == 0)
        return 0;
    if (!content_type_is_json(connection))
        return agyn_fail(err, AGYN_UNSUPPORTED_MEDIA, "Content-Type",
                         "the request body must be sent as Content-Type: application/json");
    json_error_t parse_error;
    /* NUL is allowed here so that input_string can reject it naming the field. jansson's
     * error text quotes the input (which may be a password), so only the position is told. */
    json_t *body = json_loadb(ctx->body.data, ctx->body.len,
                              JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &parse_error);
    if (!body)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, NULL, "malformed JSON at line %d, column %d",
                         parse_error.line, parse_error.column);
    if (!json_is_object(body)) {
        json_decref(body);
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, NULL,
                         "the request body must be a JSON object");
    }
    req->body = body;
    return 0;
}

/* Everything outside the API and the operational endpoints is the Console. */
static int is_console_path(const char *url) {
    return strncmp(url, "/api/", 5) != 0 && strcmp(url, "/api") != 0 &&
           strcmp(url, "/healthz") != 0 && strcmp(url, "/readyz") != 0 &&
           strcmp(url, "/metrics") != 0;
}

/* Whether the request needs a token: everything but the Console and public routes. */
static int needs_authentication(const char *method, const char *url) {
    if (is_console_path(url))
        return 0;
    struct api_request probe = {0};
    const struct route *route = NULL;
    return router_match(method, url, &probe, &route) != ROUTE_FOUND ||
           route->access != ACCESS_PUBLIC;
}

static void authenticate(struct api_server *server, struct MHD_Connection *connection,
                         const char *method, const char *url, struct request_context *ctx) {
    if (!needs_authentication(method, url))
        return;
    const char *authorization =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cookie =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    if (!authorization && cookie)
        ctx->auth_rc = session_authenticate(
            server->app, cookie, method,
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "X-CSRF-Token"),
            &ctx->principal, &ctx->auth_err);
    else
        ctx->auth_rc =
            auth_authenticate(server->app->store, authorization, &ctx->principal, &ctx->auth_err);
}

static int constant_time_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* /metrics: with --metrics-token, that bearer token (or the server-admin token on the main
 * address); without it, only the server-admin token on the main address, and anyone who can
 * reach the separate --metrics-listen address. */
static int metrics_authorize(struct api_server *server, struct request_context *ctx,
                             struct api_request *req, struct agyn_error *err) {
    const char *expected = server->app->config.metrics_token;
    const char *authorization = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (expected[0] && authorization && strncmp(authorization, "Bearer ", 7) == 0 &&
        constant_time_equal(authorization + 7, expected))
        return 0;
    if ((ctx->metrics_only || server->app->config.operational_only) && !expected[0])
        return 0;
    if (!ctx->metrics_only) {
        struct principal who = {0};
        if (auth_authenticate(server->app->store, authorization, &who, err) == 0 &&
            who.role == ROLE_ADMIN)
            return 0;
    }
    return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization",
                     "/metrics needs the metrics token (--metrics-token) or the server-admin "
                     "token");
}

static void dispatch(struct api_server *server, struct MHD_Connection *connection,
                     const char *method, const char *url, struct request_context *ctx,
                     struct api_request *req, struct api_response *res) {
    struct agyn_error err = {0};
    const struct route *route = NULL;
    req->route = "unmatched";
    if (strcmp(url, "/metrics") == 0 || ctx->metrics_only) {
        req->route = "/metrics";
        if (strcmp(url, "/metrics") != 0)
            agyn_fail(&err, AGYN_NOT_FOUND, NULL, "this address serves only /metrics");
        else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            agyn_fail(&err, AGYN_METHOD_NOT_ALLOWED, NULL, "/metrics only answers GET");
        else if (metrics_authorize(server, ctx, req, &err) == 0 && h_metrics(req, res, &err) == 0)
            return;
        error_response(res, &err);
        return;
    }
    if (server->app->config.operational_only && strcmp(url, "/healthz") != 0 &&
        strcmp(url, "/readyz") != 0) {
        agyn_fail(&err, AGYN_NOT_FOUND, NULL,
                  "a runner process serves only /healthz, /readyz and /metrics");
        error_response(res, &err);
        return;
    }
    if (is_console_path(url)) {
        req->route = "console";
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            agyn_fail(&err, AGYN_METHOD_NOT_ALLOWED, NULL, "the Console only answers GET");
        else if (console_serve(url, res, &err) == 0)
            return;
        error_response(res, &err);
        return;
    }
    enum route_match match = router_match(method, url, req, &route);
    if (match == ROUTE_FOUND)
        req->route = route->pattern;
    int rc = ctx->auth_rc;
    if (rc != 0)
        err = ctx->auth_err;
    req->principal = ctx->principal;
    if (rc == 0 && match == ROUTE_NO_PATH)
        rc = agyn_fail(&err, AGYN_NOT_FOUND, NULL, "no such API route: %s %s", method, url);
    if (rc == 0 && match == ROUTE_WRONG_METHOD)
        rc = agyn_fail(&err, AGYN_METHOD_NOT_ALLOWED, NULL, "method %s is not allowed on %s",
                       method, url);
    if (rc == 0)
        rc = check_access(route, req, &err);
    if (rc == 0)
        rc = check_path_ids(route, req, &err);
    if (rc == 0)
        rc = parse_body(connection, ctx, req, &err);
    if (rc == 0)
        rc = route->handler(req, res, &err);
    if (rc != 0) {
        free(res->body);
        res->body = NULL;
        res->static_body = NULL;
        if (res->body_release)
            res->body_release(res->body_cls);
        res->body_release = NULL;
        if (res->stream_free)
            res->stream_free(res->stream_cls);
        res->stream_read = NULL;
        res->stream_free = NULL;
        error_response(res, &err);
        /* Validation that collected every field error (api/input.h) lists them all. */
        if (req->field_errors && err.code == AGYN_UNPROCESSABLE)
            json_object_set(json_object_get(res->json, "error"), "errors", req->field_errors);
        if (err.code == AGYN_INTERNAL)
            log_kv("error", "request failed", {"request_id", req->request_id},
                   {"route", req->route}, {"error", err.message});
    }
}

static struct MHD_Response *build_response(struct api_response *res) {
    struct MHD_Response *response;
    const char *type = res->content_type;
    if (res->stream_read) {
        response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, res->stream_read,
                                                     res->stream_cls, res->stream_free);
        if (!response && res->stream_free)
            res->stream_free(res->stream_cls); /* libmicrohttpd did not take it */
        res->stream_read = NULL;
    } else if (res->static_body && res->body_release) {
        response = MHD_create_response_from_buffer_with_free_callback_cls(
            res->body_len, (void *)res->static_body, res->body_release, res->body_cls);
        if (!response)
            res->body_release(res->body_cls); /* libmicrohttpd did not take it */
        res->body_release = NULL;
    } else if (res->static_body) {
        response = MHD_create_response_from_buffer(res->body_len, (void *)res->static_body,
                                                   MHD_RESPMEM_PERSISTENT);
    } else if (res->body) {
        response = MHD_create_response_from_buffer(res->body_len, res->body, MHD_RESPMEM_MUST_FREE);
        res->body = NULL;
    } else {
        size_t len = 0;
        char *text = res->json ? json_writer_dump(res->json, &len) : NULL;
        response = MHD_create_response_from_buffer(
            len, text ? text : (void *)"", text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!type && text)
            type = "application/json";
    }
    if (!response)
        return NULL;
    if (type)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
                            res->cache_control ? res->cache_control : "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(response, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    if (res->set_cookie[0])
        MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, res->set_cookie);
    return response;
}

/* RFC 9110 requires Allow on a 405: the methods some route takes on this path. */
static void add_allow_header(struct MHD_Response *response, const char *url) {
    static const char *const methods[] = {"GET", "POST", "PATCH", "DELETE"};
    char allow[64] = "";
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        struct api_request probe = {0};
        const struct route *route = NULL;
        if (router_match(methods[i], url, &probe, &route) != ROUTE_FOUND)
            continue;
        size_t len = strlen(allow);
        snprintf(allow + len, sizeof allow - len, "%s%s", len ? ", " : "",
                 strcmp(methods[i], "GET") == 0 ? "GET, HEAD" : methods[i]);
    }
    MHD_add_response_header(response, "Allow", allow);
}

/* Decodes %XX in the path and query like libmicrohttpd's default, except %00: a decoded NUL
 * would cut the path short ("/api/v1/me%00x" would route as "/api/v1/me"), so it stays as is. */
static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t unescape(void *cls, struct MHD_Connection *connection, char *text) {
    char *out = text;
    const char *in = text;
    while (*in) {
        int high = in[0] == '%' ? hex_digit(in[1]) : -1;
        int low = high >= 0 ? hex_digit(in[2]) : -1;
        if (low >= 0 && (high || low)) {
            *out++ = (char)(high * 16 + low);
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - text);
}

/* Request ids only need to be unique in the logs, not unpredictable: a per-thread splitmix64
 * sequence seeded once from the RNG (RAND_bytes on every request costs a getpid(2) for
 * OpenSSL's fork check). */
static void new_request_id(char out[20]) {
    static __thread uint64_t state;
    if (state == 0 && RAND_bytes((unsigned char *)&state, sizeof state) != 1)
        state = (uint64_t)clock_monotonic_us();
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    snprintf(out, 20, "%016llx", (unsigned long long)z);
}

static void suspend_connection(void *conn) {
    MHD_suspend_connection(conn);
}

static void resume_connection(void *conn) {
    MHD_resume_connection(conn);
}

/* The answer of a deferred request: its job's result, or the job's timeout answer. */
static void deferred_response(struct request_context *ctx, struct api_response *res) {
    int status = 0;
    const json_t *body = NULL;
    outbound_job_result(ctx->job, &status, &body);
    if (body) {
        respond_json(res, status, json_deep_copy(body));
    } else {
        struct agyn_error err = {0};
        agyn_fail(&err, AGYN_UNAVAILABLE, NULL, "agynd is shutting down; try again");
        error_response(res, &err);
        res->status = 503;
    }
    outbound_job_release(ctx->job);
    ctx->job = NULL;
}

/* The method is the client's own token: metrics label it only by the known ones, so that one
 * client cannot fill the bounded series table with labels of its choosing. */
static const char *method_label(const char *method) {
    static const char *const known_methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                                "PATCH", "DELETE", "OPTIONS", NULL};
    for (size_t i = 0; known_methods[i]; i++)
        if (strcmp(method, known_methods[i]) == 0)
            return known_methods[i];
    return "other";
}

/* Queues res on the connection and writes the request's log line and metric. */
static enum MHD_Result finish(struct MHD_Connection *connection, const char *method,
                              const char *url, struct request_context *ctx,
                              struct api_response *res) {
    struct MHD_Response *response = build_response(res);
    enum MHD_Result queued = MHD_NO;
    if (response) {
        MHD_add_response_header(response, "X-Request-Id", ctx->request_id);
        if (res->status == 405)
            add_allow_header(response, url);
        if (res->status == 401)
            MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        if (res->status == 429)
            MHD_add_response_header(response, "Retry-After", "5");
        if (res->status == 503)
            MHD_add_response_header(response, "Retry-After", "1");
        queued = MHD_queue_response(connection, (unsigned)res->status, response);
        MHD_destroy_response(response);
    }
    int64_t duration_us = clock_monotonic_us() - ctx->started_us;
    char labels[320];
    snprintf(labels, sizeof labels, "method=\"%s\",route=\"%s\",status=\"%d\"",
             method_label(method), ctx->route, res->status);
    metrics_add("agyn_http_requests_total", labels, 1);
    char status_text[16], duration_text[32];
    snprintf(status_text, sizeof status_text, "%d", res->status);
    snprintf(duration_text, sizeof duration_text, "%lld.%03lld", (long long)(duration_us / 1000),
             (long long)(duration_us % 1000)); /* as "%.3f" of the milliseconds, without floats */
    log_kv("info", "request", {"request_id", ctx->request_id}, {"method", method},
           {"route", ctx->route}, {"status", status_text}, {"duration_ms", duration_text});
    json_decref(res->json);
    free(res->body);
    return queued;
}

static int request_has_body(struct MHD_Connection *connection) {
    const char *length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (length && strtoull(length, NULL, 10) > 0) ||
           MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                       MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* libmicrohttpd's socket context of the connection: its header_deadline watch. */
static void *socket_watch(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        header_deadline_closed(socket_context);
        return;
    }
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info)
        header_deadline_opened(socket_context, info->connect_fd);
}

/* A body on a route that needs no token. Only sign-in takes one, small and from a budget of
 * its own; everywhere else a body is refused before a byte of it is read. */
static enum MHD_Result unauthenticated_body(struct MHD_Connection *connection, const char *url,
                                            const char *method, struct request_context *ctx) {
    struct agyn_error err = {0};
    const char *length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!ctx->metrics_only && strcmp(method, "POST") == 0 && strcmp(url, "/api/v1/session") == 0) {
        if (!length || strtoull(length, NULL, 10) <= UNAUTHENTICATED_BODY_MAX) {
            ctx->unauthenticated = 1;
            return MHD_YES;
        }
        agyn_fail(&err, AGYN_PAYLOAD_TOO_LARGE, NULL, "a sign-in body is at most %u bytes",
                  UNAUTHENTICATED_BODY_MAX);
        ctx->route = "/api/v1/session";
    } else if (!ctx->metrics_only && is_console_path(url) && strcmp(method, "GET") != 0 &&
               strcmp(method, "HEAD") != 0) {
        agyn_fail(&err, AGYN_METHOD_NOT_ALLOWED, NULL, "the Console only answers GET");
        ctx->route = "console";
    } else {
        agyn_fail(&err, AGYN_PAYLOAD_TOO_LARGE, NULL, "%s %s takes no request body", method,
                  ctx->metrics_only ? "/metrics" : url);
    }
    struct api_response res = {0};
    error_response(&res, &err);
    return finish(connection, method, url, ctx, &res);
}

/* First call for a request: its headers are in, its body is not read yet. Authenticates now;
 * a request that fails is answered at once, so that no unauthenticated body is ever read. */
static enum MHD_Result on_headers(struct api_server *server, struct MHD_Connection *connection,
                                  const char *url, const char *method,
                                  struct request_context *ctx) {
    ctx->started_us = clock_monotonic_us();
    ctx->route = "unmatched";
    new_request_id(ctx->request_id);
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_DAEMON);
    ctx->metrics_only = info && info->daemon == server->metrics_daemon;
    const char *length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, NULL, 10) > MAX_BODY)
        ctx->too_large = 1;
    header_deadline_headers_in(socket_watch(connection));
    if (!request_has_body(connection))
        return MHD_YES; /* nothing to protect: authenticate when dispatching */
    if (ctx->metrics_only || !needs_authentication(method, url))
        return unauthenticated_body(connection, url, method, ctx);
    authenticate(server, connection, method, url, ctx);
    ctx->auth_rc = ctx->auth_rc ? ctx->auth_rc : 1; /* 1: authenticated early, fine */
    /* An authenticated client's oversized body is read and dropped (it then gets its 413); an
     * unauthenticated one is answered now and the connection closed unread. */
    if (ctx->auth_rc >= 0)
        return MHD_YES;
    struct agyn_error err = ctx->auth_err;
    struct api_response res = {0};
    error_response(&res, &err);
    struct api_request probe = {0};
    const struct route *route = NULL;
    if (router_match(method, url, &probe, &route) == ROUTE_FOUND)
        ctx->route = route->pattern;
    return finish(connection, method, url, ctx, &res);
}

static enum MHD_Result on_body(struct MHD_Connection *connection, struct request_context *ctx,
                               const char *data, size_t *size) {
    if (clock_monotonic_us() - ctx->started_us > (int64_t)BODY_DEADLINE_MS * 1000) {
        log_kv("warn", "request body too slow", {"request_id", ctx->request_id});
        return MHD_NO;
    }
    if (ctx->unauthenticated) { /* sign-in: small, from its own budget, never read past */
        if (ctx->body.len + *size > UNAUTHENTICATED_BODY_MAX)
            return MHD_NO;
        size_t held = atomic_fetch_add(&unauthenticated_held, *size) + *size;
        ctx->unauthenticated_held += *size;
        if (held > UNAUTHENTICATED_HELD_MAX)
            return MHD_NO;
    }
    if (!ctx->too_large && ctx->body.len + *size > MAX_BODY)
        ctx->too_large = 1;
    if (!ctx->too_large) {
        size_t held = atomic_fetch_add(&bodies_held, *size) + *size;
        ctx->body_held += *size;
        if (held > BODIES_HELD_MAX) {
            char held_text[32];
            snprintf(held_text, sizeof held_text, "%zu", held);
            log_kv("warn", "request bodies over budget", {"request_id", ctx->request_id},
                   {"held", held_text});
            return MHD_NO;
        }
        dynbuf_add(&ctx->body, data, *size); /* MAX_BODY above is the limit */
    }
    *size = 0;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    struct api_server *server = cls;
    struct request_context *ctx = *con_cls;
    if (!ctx) {
        ctx = xcalloc(1, sizeof *ctx);
        *con_cls = ctx;
        return on_headers(server, connection, url, method, ctx);
    }
    if (*upload_data_size > 0)
        return on_body(connection, ctx, upload_data, upload_data_size);

    struct api_response res = {0};
    if (ctx->job) { /* resumed: the outbound job is done or its deadline passed */
        MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT, IDLE_TIMEOUT_S);
        deferred_response(ctx, &res);
        return finish(connection, method, url, ctx, &res);
    }
    if (ctx->auth_rc == 0)
        authenticate(server, connection, method, url, ctx);
    if (ctx->auth_rc > 0)
        ctx->auth_rc = 0;
    struct api_request req = {
        .app = server->app, .method = method, .path = url, .connection = connection};
    memcpy(req.request_id, ctx->request_id, sizeof req.request_id);
    dispatch(server, connection, method, url, ctx, &req, &res);
    ctx->route = req.route;
    json_decref(req.body);
    json_decref(req.field_errors);
    if (res.deferred) {
        ctx->job = res.deferred;
        /* The idle timer must not close the connection while it waits for its job. */
        MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT,
                                  (unsigned)(server->app->config.outbound.timeout_ms / 1000) +
                                      IDLE_TIMEOUT_S);
        if (outbound_job_wait(ctx->job, suspend_connection, resume_connection, connection))
            return MHD_YES;
        deferred_response(ctx, &res);
    } else if (res.stream_read) {
        MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT, STREAM_IDLE_TIMEOUT_S);
    }
    return finish(connection, method, url, ctx, &res);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode code) {
    struct request_context *ctx = *con_cls;
    if (!ctx)
        return;
    atomic_fetch_sub(&bodies_held, ctx->body_held);
    atomic_fetch_sub(&unauthenticated_held, ctx->unauthenticated_held);
    header_deadline_request_done(socket_watch(connection));
    outbound_job_release(ctx->job);
    dynbuf_free(&ctx->body);
    free(ctx);
    *con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap) {
    char message[512];
    vsnprintf(message, sizeof message, fmt, ap);
    message[strcspn(message, "\n")] = '\0';
    /* A client that went away (a closed event stream, a reloaded Console page) is routine:
     * libmicrohttpd reports it on every later write, which must not flood the log. */
    static const char *const peer_gone[] = {"closed by remote peer",
                                            "no longer available for sending", "Connection reset",
                                            "Broken pipe"};
    for (size_t i = 0; i < sizeof peer_gone / sizeof *peer_gone; i++)
        if (strstr(message, peer_gone[i]))
            return;
    log_kv("warn", "http", {"detail", message});
}

static int parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
                        struct agyn_error *err) {
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "listen", "listen address must be HOST:PORT");
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon[1] == '\0')
        return agyn_fail(err, AGYN_UNPROCESSABLE, "listen", "bad port in \"%s\"", listen);
    memset(addr, 0, sizeof *addr);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        host[strlen(host) - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return agyn_fail(err, AGYN_UNPROCESSABLE, "listen", "bad IPv6 address in \"%s\"",
                             listen);
        *len = sizeof *a6;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "listen",
                         "listen host must be an IP address, got \"%s\"", host);
    *len = sizeof *a4;
    return 0;
}

/* Reads a whole PEM file for TLS (at most 1 MiB); NULL with err set when it cannot. The
 * result is freed with secure_free: a key file's text is key material. */
static char *read_pem(const char *path, const char *flag, struct agyn_error *err) {
    FILE *file = fopen(path, "rb");
    if (!file) {
        agyn_fail(err, AGYN_UNPROCESSABLE, flag, "cannot open %s (%s)", path, strerror(errno));
        return NULL;
    }
    struct dynbuf text;
    dynbuf_init(&text, (size_t)1024 * 1024, false);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, file)) > 0 && dynbuf_add(&text, chunk, n) == 0)
        ;
    secure_wipe(chunk, sizeof chunk);
    fclose(file);
    if (!dynbuf_str(&text)) {
        dynbuf_free(&text);
        agyn_fail(err, AGYN_UNPROCESSABLE, flag, "%s is larger than 1 MiB", path);
        return NULL;
    }
    if (text.len == 0 || !strstr(text.data, "-----BEGIN ")) {
        dynbuf_free(&text);
        agyn_fail(err, AGYN_UNPROCESSABLE, flag, "%s is not a PEM file", path);
        return NULL;
    }
    return dynbuf_take(&text);
}

static struct MHD_Daemon *start_daemon(struct api_server *server, const char *listen,
                                       unsigned threads, struct agyn_error *err) {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (parse_listen(listen, &addr, &addr_len, err) != 0)
        return NULL;
    const struct app_config *config = &server->app->config;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (server->tls_cert_pem)
        flags |= MHD_USE_TLS;
    unsigned per_client = config->max_connections_per_client > 0
                              ? (unsigned)config->max_connections_per_client
                              : 128u;
    unsigned total = config->max_connections > 0 ? (unsigned)config->max_connections : 1000u;
    struct MHD_OptionItem tls_options[] = {
        {server->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0,
         server->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, server->tls_key_pem},
        {MHD_OPTION_END, 0, NULL}};
    /* With MHD_OPTION_SOCK_ADDR the port argument only names the port in libmicrohttpd's own
     * messages ("Failed to bind to port N"): give the one asked for, not 0. */
    uint16_t asked_port =
        ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                         : ((struct sockaddr_in *)&addr)->sin_port);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        flags, asked_port, NULL, NULL, on_request, server, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_UNESCAPE_CALLBACK,
        unescape, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
        IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, total, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        per_client, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, server, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)511, MHD_OPTION_ARRAY,
        tls_options, MHD_OPTION_END);
    if (!daemon)
        agyn_fail(err, AGYN_UNAVAILABLE, "listen", "cannot listen on %s%s", listen,
                  server->tls_cert_pem ? " (or the TLS certificate and key do not match)" : "");
    return daemon;
}

static unsigned bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

static void server_free(struct api_server *server) {
    if (server->metrics_daemon)
        MHD_stop_daemon(server->metrics_daemon);
    if (server->daemon)
        MHD_stop_daemon(server->daemon);
    if (server->watching_headers)
        header_deadline_stop(); /* after the daemons: no connection is left to watch */
    secure_free(server->tls_key_pem);
    free(server->tls_cert_pem);
    free(server);
}

int api_server_start(struct app *app, struct api_server **out, unsigned *port_out,
                     struct agyn_error *err) {
    metrics_describe("agyn_http_requests_total", "counter", "HTTP requests by route and status.");
    struct api_server *server = xcalloc(1, sizeof *server);
    server->app = app;
    if (header_deadline_start(HEADER_DEADLINE_MS, err) != 0) {
        free(server);
        return -1;
    }
    server->watching_headers = 1;
    if (app->config.tls_cert[0]) {
        server->tls_cert_pem = read_pem(app->config.tls_cert, "tls-cert", err);
        server->tls_key_pem =
            server->tls_cert_pem ? read_pem(app->config.tls_key, "tls-key", err) : NULL;
        if (!server->tls_key_pem) {
            server_free(server);
            return -1;
        }
    }
    unsigned threads = (unsigned)(app->config.http_threads > 0 ? app->config.http_threads : 4);
    server->daemon = start_daemon(server, app->config.listen, threads, err);
    if (server->daemon && app->config.metrics_listen[0])
        server->metrics_daemon = start_daemon(server, app->config.metrics_listen, 1, err);
    if (!server->daemon || (app->config.metrics_listen[0] && !server->metrics_daemon)) {
        server_free(server);
        return -1;
    }
    *port_out = bound_port(server->daemon);
    if (server->metrics_daemon) {
        char port_text[8];
        snprintf(port_text, sizeof port_text, "%u", bound_port(server->metrics_daemon));
        log_kv("info", "serving metrics", {"listen", app->config.metrics_listen},
               {"port", port_text});
    }
    *out = server;
    return 0;
}

void api_server_stop(struct api_server *server, int timeout_ms) {
    if (!server)
        return;
    MHD_socket listener = MHD_quiesce_daemon(server->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!info || info->num_connections == 0)
            break;
        usleep(20 * 1000);
    }
    server_free(server);
}
