/* request.h — one API request as handlers see it (method, path parameters, query, parsed
 * body, the authenticated principal) and the response they fill in. */
#ifndef AGYN_API_REQUEST_H
#define AGYN_API_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "api/app.h"
#include "api/outbound.h"
#include "core/error.h"
#include "core/names.h"

enum role { ROLE_NONE = 0, ROLE_MEMBER, ROLE_OWNER, ROLE_ADMIN };

struct principal {
    enum role role;
    char organization_id[AGYN_UUID_LEN + 1]; /* "" for the server-admin token */
    char token_id[AGYN_UUID_LEN + 1];
};

struct api_request {
    struct app *app;
    const char *method;
    const char *path;
    const char *route;              /* the matched pattern, for logs and metrics */
    void *connection;               /* struct MHD_Connection *, for query arguments */
    char org_id[AGYN_UUID_LEN + 1]; /* {org} path parameter */
    char id[AGYN_UUID_LEN + 1];     /* {id} path parameter */
    char sub[64];                   /* a trailing fixed word some routes capture */
    json_t *body;                   /* parsed JSON object, NULL when the request has no body */
    /* Every field error of the body, [{field, message}], when validation found more than
     * the one in the returned agyn_error (api/input.h field_errors); owned, NULL otherwise. */
    json_t *field_errors;
    const char *raw_body;
    size_t raw_body_len;
    struct principal principal;
    char request_id[20];
};

struct api_response {
    int status;
    json_t *json; /* serialized when body is NULL */
    char *body;   /* raw body (malloc'd) */
    size_t body_len;
    const void *static_body; /* raw body that outlives the response (embedded assets) */
    /* When set, static_body is shared (a cached page): called with body_cls once the
     * response no longer needs it. */
    void (*body_release)(void *cls);
    void *body_cls;
    const char *content_type;
    const char *cache_control;
    char set_cookie[200]; /* a Set-Cookie header value, or "" */
    /* A streamed body (server-sent events): libmicrohttpd content reader and its cleanup. */
    ssize_t (*stream_read)(void *cls, uint64_t pos, char *buf, size_t max);
    void (*stream_free)(void *cls);
    void *stream_cls;
    /* Outbound work answered later (verify, provider test): the server suspends the request
     * until the job is done or its deadline passes, then answers with the job's result. */
    struct outbound_job *deferred;
};

/* Request header or NULL. */
const char *request_header(const struct api_request *req, const char *name);
/* Query argument or NULL. */
const char *request_query(const struct api_request *req, const char *name);

/* Sets a JSON response (steals json). Returns 0. */
int respond_json(struct api_response *res, int status, json_t *json);

#endif
