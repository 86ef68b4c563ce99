/* h_secrets.c — Secrets: a named value, inline (sealed) or at a provider's remote path, that
 * image pull secrets can take their password from (password_secret_id). The value is
 * write-only. */
#include <string.h>

#include "api/handlers.h"
#include "api/input.h"
#include "api/password_source.h"
#include "api/referrers.h"
#include "api/resource.h"
#include "base/uuid.h"
#include "core/field_rules.h"
#include "store/tables.h"

static const char *const SECRET_FIELDS[] = {"name",        "description", "value",
                                            "provider_id", "remote_path", NULL};

static const struct password_source_fields VALUE_SOURCE = {
    .inline_field = "value",
    .secret_field = NULL,
    .table = "secrets",
    .sealed_column = "value_sealed",
    .source_column = "value_source",
    .updated_column = "value_updated_at",
};

HANDLER(h_secrets_create) {
    const char *name = NULL, *description = NULL;
    struct password_source source;
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    if (input_object_fields(req, SECRET_FIELDS, &fe, err) != 0)
        return -1;
    if (field_check(&fe, input_string(req->body, "name", true, &name, e)))
        field_check(&fe, name_validate(name, "name", e));
    if (field_check(&fe, input_string(req->body, "description", false, &description, e)))
        field_check(&fe, validate_description(description, e));
    field_check(&fe, password_source_read(req, &VALUE_SOURCE, true, &source, e));
    if (field_errors_finish(req, &fe, err) != 0)
        return -1;
    char id[AGYN_UUID_LEN + 1];
    uuid_generate(id);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "organization_id", req->org_id,
                            "name", name, "description", description ? description : "");
    int rc = password_source_write(req, &VALUE_SOURCE, &source, id, row, err);
    const struct quota_limit limit = {&TABLE_SECRETS,
                                      req->app->config.quotas.secrets,
                                      "--max-secrets-per-org",
                                      "secrets",
                                      NULL,
                                      0};
    if (rc == 0 && quota_insert(req->app->store, &limit, row, err) != 0) {
        resource_conflict_message(err, "a secret", name);
        rc = -1;
    }
    json_t *view = rc == 0 ? resource_public(&TABLE_SECRETS, row) : NULL;
    json_decref(row);
    return rc == 0 ? respond_json(res, 201, view) : -1;
}

HANDLER(h_secrets_list) {
    return resource_list(req, res, &TABLE_SECRETS, NULL, 0, err);
}

HANDLER(h_secrets_get) {
    json_t *row = NULL;
    if (resource_load(req, &TABLE_SECRETS, "secret", "id", req->id, &row, err) != 0)
        return -1;
    json_t *view = resource_public(&TABLE_SECRETS, row);
    json_decref(row);
    return respond_json(res, 200, view);
}

HANDLER(h_secrets_update) {
    const char *name = NULL, *description = NULL;
    struct password_source source;
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    if (input_object_fields(req, SECRET_FIELDS, &fe, err) != 0)
        return -1;
    if (field_check(&fe, input_string(req->body, "name", false, &name, e)) && name)
        field_check(&fe, name_validate(name, "name", e));
    if (field_check(&fe, input_string(req->body, "description", false, &description, e)))
        field_check(&fe, validate_description(description, e));
    field_check(&fe, password_source_read(req, &VALUE_SOURCE, false, &source, e));
    if (field_errors_finish(req, &fe, err) != 0)
        return -1;
    json_t *row = NULL;
    if (resource_load(req, &TABLE_SECRETS, "secret", "id", req->id, &row, err) != 0)
        return -1;
    json_decref(row);
    json_t *changes = json_object();
    if (name)
        json_object_set_new(changes, "name", json_string(name));
    if (description)
        json_object_set_new(changes, "description", json_string(description));
    int rc =
        source.kind ? password_source_write(req, &VALUE_SOURCE, &source, req->id, changes, err) : 0;
    if (rc == 0 &&
        store_update(req->app->store, &TABLE_SECRETS, req->org_id, req->id, changes, err) != 0) {
        resource_conflict_message(err, "a secret", name);
        rc = -1;
    }
    json_decref(changes);
    return rc == 0 ? h_secrets_get(req, res, err) : -1;
}

HANDLER(h_secrets_delete) {
    json_t *row = NULL;
    if (resource_load(req, &TABLE_SECRETS, "secret", "id", req->id, &row, err) != 0)
        return -1;
    json_decref(row);
    if (store_tx_begin(req->app->store, err) != 0)
        return -1;
    json_t *referrers = NULL;
    int rc = referrers_of_secret(req, req->id, &referrers, err);
    if (rc == 0 && json_array_size(referrers) > 0) {
        store_tx_rollback(req->app->store);
        return referrers_conflict(res, "secret", referrers,
                                  "point those image pull secrets elsewhere first");
    }
    json_decref(referrers);
    if (rc == 0)
        rc = store_delete(req->app->store, &TABLE_SECRETS, req->org_id, req->id, err);
    if (rc == 0)
        rc = store_tx_commit(req->app->store, err);
    else
        store_tx_rollback(req->app->store);
    if (rc != 0)
        return -1;
    res->status = 204;
    return 0;
}
