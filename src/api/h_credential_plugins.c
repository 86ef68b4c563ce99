/* h_credential_plugins.c — GET /api/v1/credential-provider-plugins: the names of the kubelet
 * credential-provider plugins the operator configured, which an image pull secret with
 * password_source "plugin" may name. Nothing else about them (paths, arguments, environment,
 * matchImages) is shown to tenants. */
#include "api/app.h"
#include "api/handlers.h"

HANDLER(h_credential_plugins_list) {
    (void)err;
    const struct credential_plugins *plugins = req->app->resolve.plugins;
    json_t *items = json_array();
    for (size_t i = 0; plugins && i < plugins->count; i++)
        json_array_append_new(items, json_pack("{s:s}", "name", plugins->items[i].name));
    return respond_json(res, 200, json_pack("{s:o}", "items", items));
}
