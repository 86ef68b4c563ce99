/* password_source.c — choosing, validating and storing where a credential's value lives. */
#include "api/password_source.h"

#include <string.h>

#include "core/row.h"
#include "api/input.h"
#include "api/resource.h"
#include "base/clock.h"
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
    const struct provider_backend *backend =
        provider_find(row_text(provider, "type"));
    json_decref(provider);
    if (!backend)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "provider_id", "provider type is unknown");
    return backend->validate_path(source->remote_path, "remote_path", err);
}

int password_source_read(struct api_request *req, const struct password_source_fields *fields,
                         bool required, struct password_source *out, struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    json_t *body = req->body;
    if (input_string(body, fields->inline_field, false, &out->inline_value, err) != 0 ||
        (fields->secret_field &&
         input_uuid(body, fields->secret_field, false, &out->secret_id, err) != 0) ||
        input_uuid(body, "provider_id", false, &out->provider_id, err) != 0 ||
        input_string(body, "remote_path", false, &out->remote_path, err) != 0)
        return -1;
    const char *given[3] = {0};
    int count = 0;
    if (out->inline_value)
        given[count++] = fields->inline_field, out->kind = "inline";
    if (out->secret_id)
        given[count++] = fields->secret_field, out->kind = "secret";
    if (out->provider_id || out->remote_path)
        given[count++] = out->provider_id ? "provider_id" : "remote_path", out->kind = "remote";
    char choices[160];
    if (fields->secret_field)
        snprintf(choices, sizeof choices, "%s, %s, or provider_id with remote_path",
                 fields->inline_field, fields->secret_field);
    else
        snprintf(choices, sizeof choices, "%s, or provider_id with remote_path",
                 fields->inline_field);
    if (count > 1)
        return agyn_fail(err, AGYN_UNPROCESSABLE, given[1],
                         "give only one of %s (got %s and %s)", choices, given[0], given[1]);
    if (count == 0) {
        if (required)
            return agyn_fail(err, AGYN_UNPROCESSABLE, fields->inline_field,
                             "one of %s is required", choices);
        return 0;
    }
    if (out->inline_value) {
        size_t len = strlen(out->inline_value);
        if (len == 0)
            return agyn_fail(err, AGYN_UNPROCESSABLE, fields->inline_field,
                             "%s must not be empty", fields->inline_field);
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
    if (out->kind && strcmp(out->kind, "remote") == 0) {
        if (!out->provider_id)
            return agyn_fail(err, AGYN_UNPROCESSABLE, "provider_id",
                             "provider_id is required with remote_path");
        if (!out->remote_path || !*out->remote_path)
            return agyn_fail(err, AGYN_UNPROCESSABLE, "remote_path",
                             "remote_path is required with provider_id");
        return check_remote(req, out, err);
    }
    return 0;
}

int password_source_write(struct api_request *req, const struct password_source_fields *fields,
                          const struct password_source *source, const char *row_id,
                          json_t *row, struct agyn_error *err) {
    json_object_set_new(row, fields->sealed_column, json_null());
    if (fields->secret_field)
        json_object_set_new(row, fields->secret_field, json_null());
    json_object_set_new(row, "provider_id", json_null());
    json_object_set_new(row, "remote_path", json_null());
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
        struct sealed_location where = {req->org_id, fields->table, row_id,
                                        fields->sealed_column};
        char *sealed = sealed_field_seal(req->app->keyring, &where, source->inline_value, err);
        if (!sealed)
            return -1;
        json_object_set_new(row, fields->sealed_column, json_string(sealed));
        free(sealed);
    } else if (strcmp(source->kind, "secret") == 0) {
        json_object_set_new(row, fields->secret_field, json_string(source->secret_id));
    } else {
        json_object_set_new(row, "provider_id", json_string(source->provider_id));
        json_object_set_new(row, "remote_path", json_string(source->remote_path));
    }
    return 0;
}
