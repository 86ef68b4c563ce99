/* stream_authority.c — capturing and re-checking what authorized an event stream. */
#include "api/stream_authority.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/session.h"
#include "store/tables.h"

int stream_authority_capture(const struct api_request *req, struct stream_authority *out,
                             struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    snprintf(out->org_id, sizeof out->org_id, "%s", req->org_id);
    const char *authorization = request_header(req, "Authorization");
    if (authorization) {
        if (strncasecmp(authorization, "Bearer ", 7) != 0)
            return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization", "invalid API token");
        const char *token = authorization + 7;
        while (*token == ' ')
            token++;
        out->kind = STREAM_AUTHORITY_TOKEN;
        auth_token_hash(token, out->hash);
        return 0;
    }
    out->kind = STREAM_AUTHORITY_SESSION;
    if (session_hash_from_cookie(request_header(req, "Cookie"), out->hash) != 0)
        return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization", "the session has ended");
    return 0;
}

int stream_authority_holds(struct app *app, const struct stream_authority *authority,
                           struct agyn_error *err) {
    int active = authority->kind == STREAM_AUTHORITY_TOKEN
                     ? auth_token_hash_is_active(app->store, authority->hash, err)
                     : session_hash_is_active(app, authority->hash, err);
    if (active < 0)
        return -1;
    if (active == 0) {
        agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization",
                  authority->kind == STREAM_AUTHORITY_TOKEN
                      ? "the API token was revoked"
                      : "the Console session ended (signed out, expired or its token revoked)");
        return 0;
    }
    json_t *org = NULL;
    if (store_get(app->store, &TABLE_ORGANIZATIONS, NULL, authority->org_id, &org, err) != 0) {
        if (err->code != AGYN_NOT_FOUND)
            return -1;
        agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization", "the organization was deleted");
        return 0;
    }
    json_decref(org);
    return 1;
}
