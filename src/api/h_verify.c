/* h_verify.c — POST .../image-pull-secrets/{id}/verify: resolves the password now and logs in
 * to the registry with it (ping plus Basic check or token exchange), answering {ok, message}
 * with the registry's own error text. */
#include <string.h>

#include "api/handlers.h"
#include "api/input.h"
#include "api/resource.h"
#include "core/registry_pattern.h"
#include "crypto/envelope.h"
#include "store/tables.h"

HANDLER(h_image_pull_secrets_verify) {
    if (req->body && input_require_object(req, (const char *const[]){NULL}, err) != 0)
        return -1;
    json_t *row = NULL;
    if (resource_load(req, &TABLE_IMAGE_PULL_SECRETS, "image pull secret", "id", req->id, &row,
                      err) != 0)
        return -1;
    struct registry_pattern pattern;
    int rc = registry_pattern_parse(json_string_value(json_object_get(row, "registry")),
                                    "registry", &pattern, err);
    if (rc == 0 && strchr(pattern.host, '*'))
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, "registry",
                       "a wildcard registry (%s) names no single host to log in to",
                       pattern.host);
    char *password = NULL;
    struct agyn_error failure = {0};
    int ok = 0;
    if (rc == 0) {
        if (resolve_image_pull_password(&req->app->resolve, row, &password, &failure) == 0) {
            struct registry_auth auth = {json_string_value(json_object_get(row, "username")),
                                         password};
            enum pull_failure kind = PULL_OK;
            const char *host = strcmp(pattern.host, "docker.io") == 0 ? "registry-1.docker.io"
                                                                       : pattern.host;
            ok = registry_login(req->app->registry, host,
                                pattern.path[0] ? pattern.path : NULL, &auth, &kind,
                                &failure) == 0;
            secure_free_str(password);
        }
    }
    json_decref(row);
    if (rc != 0)
        return -1;
    return respond_json(res, 200,
                        json_pack("{s:b, s:s}", "ok", ok, "message",
                                  ok ? "logged in" : failure.message));
}
