/* password_source.c — choosing, validating and storing where a credential's value lives. */
#include "api/password_source.h"

#include <string.h>

#include "core/row.h"
#include "api/app.h"
#include "api/input.h"
#include "api/resource.h"
#include "base/clock.h"
#include "core/password_source_rule.h"
#include "crypto/sealed_field.h"
#include "providers/provider.h"
#include "store/tables.h"

#define VALUE_MAX (64 * 1024)

static int check_remote(struct api_request *req, struct password_source *source,
                        struct agyn_error *err) {
    json_t *provider = NULL;
    if (resource_load(req, &TABLE_SECRET_PROVIDERS, "secret provider", "provider_id",
                      source->provider_id, &provider, err) != 0)
        return -1;
    const struct provider_backend *backend = provider_find(row_text(provider, "type"));
    json_decref(provider);
    if (!backend)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "provider_id", "provider type is unknown");
    return backend->validate_path(source->remote_path, "remote_path", err);
}

bool password_source_is_short_lived(const char *kind) {
    return kind && (strcmp(kind, "ecr") == 0 || strcmp(kind, "plugin") == 0);
}

/* password_source "ecr": provider_id alone, naming a provider that issues ECR tokens. */
static int read_ecr(struct api_request *req, const struct password_source_fields *fields,
                    struct password_source *out, struct agyn_error *err) {
    const char *others[] = {fields->inline_field, fields->secret_field, "remote_path", "plugin"};
    for (size_t i = 0; i < 4; i++)
        if (others[i] && json_object_get(req->body, others[i]))
            return agyn_fail(err, AGYN_UNPROCESSABLE, others[i],
                             "%s cannot be given with password_source \"ecr\" (the password is "
                             "an ECR token issued through provider_id)",
                             others[i]);
    if (!out->provider_id)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "provider_id",
                         "provider_id (an aws-secrets-manager provider) is required with "
                         "password_source \"ecr\"");
    json_t *provider = NULL;
    if (resource_load(req, &TABLE_SECRET_PROVIDERS, "secret provider", "provider_id",
                      out->provider_id, &provider, err) != 0)
        return -1;
    const struct provider_backend *backend = provider_find(row_text(provider, "type"));
    json_decref(provider);
    if (!backend || !backend->registry_login)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "provider_id",
                         "password_source \"ecr\" needs an aws-secrets-manager provider (this "
                         "one is %s)",
                         backend ? backend->type : "of an unknown type");
    out->kind = "ecr";
    return 0;
}

/* password_source "plugin": plugin alone, naming a plugin the operator configured. */
static int read_plugin(struct api_request *req, const struct password_source_fields *fields,
                       struct password_source *out, struct agyn_error *err) {
    const char *others[] = {fields->inline_field, fields->secret_field, "provider_id",
                            "remote_path"};
    for (size_t i = 0; i < 4; i++)
        if (others[i] && json_object_get(req->body, others[i]))
            return agyn_fail(err, AGYN_UNPROCESSABLE, others[i],
                             "%s cannot be given with password_source \"plugin\" (the plugin "
                             "gives username and password)",
                             others[i]);
    if (!out->plugin || !*out->plugin)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "plugin",
                         "plugin (the name of a configured credential-provider plugin, see GET "
                         "/api/v1/credential-provider-plugins) is required with password_source "
                         "\"plugin\"");
    if (!credential_plugins_find(req->app->resolve.plugins, out->plugin))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "plugin",
                         "plugin: no credential-provider plugin of that name is configured on "
                         "this server (GET /api/v1/credential-provider-plugins lists them)");
    out->kind = "plugin";
    return 0;
}

int password_source_read(struct api_request *req, const struct password_source_fields *fields,
                         bool required, struct password_source *out, struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    json_t *body = req->body;
    const char *declared = NULL;
    if (fields->offers_short_lived &&
        (input_string(body, "password_source", false, &declared, err) != 0 ||
         input_string(body, "plugin", false, &out->plugin, err) != 0))
        return -1;
    if (declared && strcmp(declared, "inline") != 0 && strcmp(declared, "secret") != 0 &&
        strcmp(declared, "remote") != 0 && strcmp(declared, "ecr") != 0 &&
        strcmp(declared, "plugin") != 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "password_source",
                         "password_source must be one of inline, secret, remote, ecr, plugin");
    if (out->plugin && !(declared && strcmp(declared, "plugin") == 0))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "plugin",
                         "plugin is only used with password_source \"plugin\"");
    if (declared && (strcmp(declared, "ecr") == 0 || strcmp(declared, "plugin") == 0)) {
        if (input_uuid(body, "provider_id", false, &out->provider_id, err) != 0)
            return -1;
        return strcmp(declared, "ecr") == 0 ? read_ecr(req, fields, out, err)
                                            : read_plugin(req, fields, out, err);
    }
    if (input_string(body, fields->inline_field, false, &out->inline_value, err) != 0 ||
        (fields->secret_field &&
         input_uuid(body, fields->secret_field, false, &out->secret_id, err) != 0) ||
        input_uuid(body, "provider_id", false, &out->provider_id, err) != 0 ||
        input_string(body, "remote_path", false, &out->remote_path, err) != 0)
        return -1;
    struct password_source_option options[] = {
        {PASSWORD_SOURCE_INLINE, fields->inline_field, NULL, out->inline_value != NULL, false},
        {PASSWORD_SOURCE_SECRET, fields->secret_field, NULL, out->secret_id != NULL, false},
        {PASSWORD_SOURCE_REMOTE, "provider_id", "remote_path", out->provider_id != NULL,
         out->remote_path != NULL},
    };
    size_t count = 3;
    if (!fields->secret_field) /* Secrets take no password_secret_id */
        options[1] = options[2], count = 2;
    struct password_source_choice choice;
    if (password_source_choose(options, count, required, &choice, err) != 0)
        return -1;
    if (!choice.chosen) {
        if (declared)
            return agyn_fail(err, AGYN_UNPROCESSABLE, "password_source",
                             "password_source \"%s\" does not match the fields given (none)",
                             declared);
        return 0;
    }
    static const char *const KIND_NAMES[] = {
        [PASSWORD_SOURCE_INLINE] = "inline",
        [PASSWORD_SOURCE_SECRET] = "secret",
        [PASSWORD_SOURCE_REMOTE] = "remote",
    };
    out->kind = KIND_NAMES[choice.chosen->kind];
    if (declared && strcmp(declared, out->kind) != 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "password_source",
                         "password_source \"%s\" does not match the fields given (%s)", declared,
                         out->kind);
    if (out->inline_value) {
        size_t len = strlen(out->inline_value);
        if (len == 0)
            return agyn_fail(err, AGYN_UNPROCESSABLE, fields->inline_field, "%s must not be empty",
                             fields->inline_field);
        if (len > VALUE_MAX)
            return agyn_fail(err, AGYN_UNPROCESSABLE, fields->inline_field,
                             "%s is longer than 64 KiB", fields->inline_field);
    }
    if (out->secret_id) {
        json_t *secret = NULL;
        if (resource_load(req, &TABLE_SECRETS, "secret", fields->secret_field, out->secret_id,
                          &secret, err) != 0)
            return -1;
        json_decref(secret);
    }
    if (choice.chosen->kind == PASSWORD_SOURCE_REMOTE) {
        if (!*out->remote_path)
            return agyn_fail(err, AGYN_UNPROCESSABLE, "remote_path",
                             "remote_path must not be empty");
        return check_remote(req, out, err);
    }
    return 0;
}

int password_source_write(struct api_request *req, const struct password_source_fields *fields,
                          const struct password_source *source, const char *row_id, json_t *row,
                          struct agyn_error *err) {
    json_object_set_new(row, fields->sealed_column, json_null());
    if (fields->secret_field)
        json_object_set_new(row, fields->secret_field, json_null());
    json_object_set_new(row, "provider_id", json_null());
    json_object_set_new(row, "remote_path", json_null());
    if (fields->offers_short_lived)
        json_object_set_new(row, "plugin", json_null());
    json_object_set_new(row, fields->source_column, json_string(source->kind));
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    json_object_set_new(row, fields->updated_column, json_string(now));
    if (strcmp(source->kind, "inline") == 0) {
        /* Seal under the keyring file's active key: `agynd keys add` may have run since the
         * keyring was loaded, and a value sealed under the old key would be left behind by
         * `agynd keys rewrap` and lost with `agynd keys remove`. */
        if (keyring_reload(req->app->keyring, req->app->config.keyring_file, err) != 0)
            return -1;
        struct sealed_location where = {req->org_id, fields->table, row_id, fields->sealed_column};
        char *sealed = sealed_field_seal(req->app->keyring, &where, source->inline_value, err);
        if (!sealed)
            return -1;
        json_object_set_new(row, fields->sealed_column, json_string(sealed));
        free(sealed);
    } else if (strcmp(source->kind, "secret") == 0) {
        json_object_set_new(row, fields->secret_field, json_string(source->secret_id));
    } else if (strcmp(source->kind, "ecr") == 0) {
        json_object_set_new(row, "provider_id", json_string(source->provider_id));
    } else if (strcmp(source->kind, "plugin") == 0) {
        json_object_set_new(row, "plugin", json_string(source->plugin));
    } else {
        json_object_set_new(row, "provider_id", json_string(source->provider_id));
        json_object_set_new(row, "remote_path", json_string(source->remote_path));
    }
    return 0;
}
