/* stream_authority.c — capturing and re-checking what authorized an event stream, with the
 * recent checks that held shared between streams of the same authority. */
#include "api/stream_authority.h"

#include <pthread.h>
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

#define SHARED_CHECKS 64

struct shared_check {
    struct stream_authority authority;
    uint64_t revocations;
    int64_t checked_ms;
    int used;
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_check shared[SHARED_CHECKS];

static int same_authority(const struct stream_authority *a, const struct stream_authority *b) {
    return a->kind == b->kind && strcmp(a->hash, b->hash) == 0 && strcmp(a->org_id, b->org_id) == 0;
}

int stream_authority_holds_shared(struct app *app, const struct stream_authority *authority,
                                  uint64_t revocations, int64_t now_ms, int64_t max_age_ms,
                                  int64_t *checked_ms, struct agyn_error *err) {
    pthread_mutex_lock(&shared_lock);
    for (size_t i = 0; i < SHARED_CHECKS; i++) {
        const struct shared_check *c = &shared[i];
        if (c->used && c->revocations == revocations && now_ms - c->checked_ms < max_age_ms &&
            same_authority(&c->authority, authority)) {
            *checked_ms = c->checked_ms;
            pthread_mutex_unlock(&shared_lock);
            return 1;
        }
    }
    pthread_mutex_unlock(&shared_lock);
    int holds = stream_authority_holds(app, authority, err);
    *checked_ms = now_ms;
    if (holds != 1)
        return holds;
    pthread_mutex_lock(&shared_lock);
    struct shared_check *slot = &shared[0];
    for (size_t i = 0; i < SHARED_CHECKS; i++) {
        struct shared_check *c = &shared[i];
        if (!c->used || same_authority(&c->authority, authority)) {
            slot = c;
            break;
        }
        if (c->checked_ms < slot->checked_ms)
            slot = c;
    }
    if (!slot->used || slot->checked_ms <= now_ms || slot->revocations != revocations) {
        slot->authority = *authority;
        slot->revocations = revocations;
        slot->checked_ms = now_ms;
        slot->used = 1;
    }
    pthread_mutex_unlock(&shared_lock);
    return 1;
}
