/* h_verify.c — POST .../image-pull-secrets/{id}/verify: resolves the password and logs in to
 * the registry with it (ping plus Basic check or token exchange), answering {ok, message} with
 * the registry's own error text. The network part runs in the outbound pool, never on an HTTP
 * worker thread; the request waits for it up to the pool's deadline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "core/xalloc.h"
#include "core/row.h"
#include "api/input.h"
#include "api/resource.h"
#include "core/registry_pattern.h"
#include "crypto/envelope.h"
#include "store/tables.h"

struct verify_work {
    struct app *app;
    json_t *row; /* the image pull secret */
    char host[300];
    char repository[256];
    char target[520]; /* the registry as "<host>[/<path>]", for a short-lived login */
};

static void verify_work_free(void *arg) {
    struct verify_work *work = arg;
    json_decref(work->row);
    free(work);
}

static void verify_run(void *arg, int64_t deadline_ms, int *status, json_t **body) {
    (void)deadline_ms; /* the egress layer applies the thread's deadline to every request */
    struct verify_work *work = arg;
    char *username = NULL;
    char *password = NULL;
    struct agyn_error failure = {0};
    int ok = 0;
    if (resolve_image_pull_login(&work->app->resolve, work->row, work->target, &username, &password,
                                 &failure) == 0) {
        struct registry_auth auth = {username, password};
        ok = registry_login(work->app->registry, work->host,
                            work->repository[0] ? work->repository : NULL, &auth, &failure) == 0;
        secure_free(password);
        secure_free(username);
    }
    *status = 200;
    *body = json_pack("{s:b, s:s}", "ok", ok, "message", ok ? "logged in" : failure.message);
}

HANDLER(h_image_pull_secrets_verify) {
    if (req->body && input_require_object(req, (const char *const[]){NULL}, err) != 0)
        return -1;
    json_t *row = NULL;
    if (resource_load(req, &TABLE_IMAGE_PULL_SECRETS, "image pull secret", "id", req->id, &row,
                      err) != 0)
        return -1;
    struct registry_pattern pattern;
    int rc = registry_pattern_parse(row_text(row, "registry"), "registry", &pattern, err);
    if (rc == 0 && strchr(pattern.host, '*'))
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, "registry",
                       "a wildcard registry (%s) names no single host to log in to", pattern.host);
    struct verify_work *work = rc == 0 ? xcalloc(1, sizeof *work) : NULL;
    if (rc != 0) {
        json_decref(row);
        return -1;
    }
    work->app = req->app;
    work->row = row;
    snprintf(work->host, sizeof work->host, "%s",
             strcmp(pattern.host, "docker.io") == 0 ? "registry-1.docker.io" : pattern.host);
    snprintf(work->repository, sizeof work->repository, "%s", pattern.path);
    snprintf(work->target, sizeof work->target, "%s%s%s", pattern.host, pattern.path[0] ? "/" : "",
             pattern.path);
    char message[512];
    snprintf(message, sizeof message,
             "no answer from registry %s (or from the password's secret provider) within %lld s",
             work->host, (long long)(req->app->config.outbound.timeout_ms / 1000));
    json_t *timeout_body = json_pack("{s:b, s:s}", "ok", 0, "message", message);
    struct outbound_job *job =
        outbound_job_new(req->org_id, verify_run, work, verify_work_free, timeout_body);
    if (outbound_submit(req->app->outbound, job, err) != 0)
        return -1;
    res->deferred = job;
    return 0;
}
