/* h_meta.c — liveness, readiness, the OpenAPI document and "who am I". */
#include <string.h>

#include "api/auth.h"
#include "api/embedded.h"
#include "api/handlers.h"
#include "runner/runtime.h"

HANDLER(h_healthz) {
    return respond_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

HANDLER(h_readyz) {
    if (store_ping(req->app->store, err) != 0)
        return agyn_fail(err, AGYN_UNAVAILABLE, "database", "database not ready: %s", err->message);
    if (req->app->runtime && req->app->runtime->ready && !req->app->runtime->ready(err))
        return agyn_fail(err, AGYN_UNAVAILABLE, "runtime", "container engine not ready: %s",
                         err->message);
    return respond_json(res, 200, json_pack("{s:s}", "status", "ready"));
}

HANDLER(h_openapi) {
    const struct embedded_file *file = embedded_find("api/openapi.json");
    if (!file)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "OpenAPI document missing from build");
    res->status = 200;
    res->static_body = file->data;
    res->body_len = file->size;
    res->content_type = "application/json";
    res->cache_control = "no-cache";
    return 0;
}

HANDLER(h_me) {
    json_t *me = json_pack("{s:s, s:s}", "role", role_name(req->principal.role), "token_id",
                           req->principal.token_id);
    json_object_set_new(me, "organization_id",
                        req->principal.organization_id[0]
                            ? json_string(req->principal.organization_id)
                            : json_null());
    return respond_json(res, 200, me);
}
