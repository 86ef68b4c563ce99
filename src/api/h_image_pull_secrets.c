/* h_image_pull_secrets.c — image pull secrets, the seed's resource: a registry, a username
 * and a write-only password from exactly one source (inline, a Secret, or a provider's remote
 * path). The registry is normalized (core/registry_pattern). Deleting one that is attached is
 * refused with the attachments listed, unless ?detach=true. */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "core/row.h"
#include "api/input.h"
#include "api/password_source.h"
#include "api/referrers.h"
#include "api/resource.h"
#include "base/uuid.h"
#include "core/docker_config.h"
#include "core/field_rules.h"
#include "core/names.h"
#include "core/registry_pattern.h"
#include "crypto/envelope.h"
#include "store/tables.h"

static const char *const IPS_FIELDS[] = {
    "name",        "description", "registry",        "username", "password", "password_secret_id",
    "provider_id", "remote_path", "password_source", "plugin",   NULL};

const struct password_source_fields IPS_PASSWORD_SOURCE = {
    .inline_field = "password",
    .secret_field = "password_secret_id",
    .table = "image_pull_secrets",
    .sealed_column = "password_sealed",
    .source_column = "password_source",
    .updated_column = "password_updated_at",
    .offers_short_lived = true,
};

/* The stored username of a short-lived login: ECR tokens are always for "AWS"; a plugin
 * names its own at each start. */
static const char *short_lived_username(const char *kind) {
    return strcmp(kind, "ecr") == 0 ? "AWS" : "";
}

/* With password_source ecr or plugin the username comes with the password: giving one is an
 * error; otherwise a username is required (create, or a change away from such a source). */
static int check_username_for_source(const char *username, const char *kind, bool required,
                                     struct agyn_error *err) {
    if (password_source_is_short_lived(kind) && username)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "username",
                         "username cannot be given with password_source \"%s\": the %s gives "
                         "the username with the password",
                         kind, strcmp(kind, "ecr") == 0 ? "ECR token" : "plugin");
    if (!password_source_is_short_lived(kind) && required && !username)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "username", "username is required");
    return 0;
}

static int normalize_registry(const char *text, char *out, size_t size, struct agyn_error *err) {
    struct registry_pattern pattern;
    if (registry_pattern_parse(text, "registry", &pattern, err) != 0)
        return -1;
    registry_pattern_format(&pattern, out, size);
    return 0;
}

/* Registry usernames go into "user:password" Basic credentials: no ':' and no control bytes. */
static int validate_username(const char *username, struct agyn_error *err) {
    if (strlen(username) > 256)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "username", "username is longer than 256 bytes");
    if (strchr(username, ':'))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "username", "username must not contain ':'");
    if (text_validate(username, 256, "username", err) != 0)
        return -1;
    if (strpbrk(username, "\n\t"))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "username",
                         "username must not contain control characters");
    return 0;
}

static int insert_image_pull_secret(struct api_request *req, const char *name,
                                    const char *description, const char *registry,
                                    const char *username, const struct password_source *source,
                                    json_t **view_out, struct agyn_error *err) {
    char id[AGYN_UUID_LEN + 1];
    uuid_generate(id);
    json_t *row = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "organization_id", req->org_id, "name", name,
        "description", description ? description : "", "registry", registry, "username", username);
    int rc = password_source_write(req, &IPS_PASSWORD_SOURCE, source, id, row, err);
    const struct quota_limit limit = {&TABLE_IMAGE_PULL_SECRETS,
                                      req->app->config.quotas.image_pull_secrets,
                                      "--max-image-pull-secrets-per-org",
                                      "image pull secrets",
                                      NULL,
                                      0};
    if (rc == 0 && quota_insert(req->app->store, &limit, row, err) != 0) {
        resource_conflict_message(err, "an image pull secret", name);
        rc = -1;
    }
    *view_out = rc == 0 ? resource_public(&TABLE_IMAGE_PULL_SECRETS, row) : NULL;
    json_decref(row);
    if (rc == 0)
        resource_publish(req, "image_pull_secret.created", *view_out);
    return rc;
}

/* Validates a username field (absent is fine here; required is decided with the source). */
static int read_username(json_t *body, const char **username, struct agyn_error *err) {
    if (input_string(body, "username", false, username, err) != 0)
        return -1;
    if (!*username)
        return 0;
    if (!**username)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "username", "username must not be empty");
    return validate_username(*username, err);
}

/* The checks of create and update, each field's error collected (api/input.h). */
static int read_ips_fields(struct api_request *req, bool creating, const char **name,
                           const char **description, const char **registry_text, char registry[600],
                           const char **username, struct password_source *source,
                           struct agyn_error *err) {
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    *name = *description = *registry_text = *username = NULL;
    memset(source, 0, sizeof *source);
    if (input_object_fields(req, IPS_FIELDS, &fe, err) != 0)
        return -1;
    if (field_check(&fe, input_string(req->body, "name", creating, name, e)) && *name)
        field_check(&fe, name_validate(*name, "name", e));
    if (field_check(&fe, input_string(req->body, "description", false, description, e)))
        field_check(&fe, validate_description(*description, e));
    if (field_check(&fe, input_string(req->body, "registry", creating, registry_text, e)) &&
        *registry_text)
        field_check(&fe, normalize_registry(*registry_text, registry, 600, e));
    bool username_ok = field_check(&fe, read_username(req->body, username, e));
    if (field_check(&fe, password_source_read(req, &IPS_PASSWORD_SOURCE, creating, source, e)) &&
        creating && username_ok)
        field_check(&fe, check_username_for_source(*username, source->kind, true, e));
    return field_errors_finish(req, &fe, err);
}

HANDLER(h_image_pull_secrets_create) {
    const char *name, *description, *registry_text, *username;
    struct password_source source;
    char registry[600];
    if (read_ips_fields(req, true, &name, &description, &registry_text, registry, &username,
                        &source, err) != 0)
        return -1;
    if (!username)
        username = short_lived_username(source.kind);
    json_t *view = NULL;
    if (insert_image_pull_secret(req, name, description, registry, username, &source, &view, err) !=
        0)
        return -1;
    return respond_json(res, 201, view);
}

HANDLER(h_image_pull_secrets_list) {
    struct store_filter filters[3];
    size_t count = 0;
    if (resource_query_filter(req, "provider_id", filters, &count, err) != 0 ||
        resource_query_filter(req, "password_secret_id", filters, &count, err) != 0)
        return -1;
    const char *registry_text = request_query(req, "registry");
    char registry[600];
    if (registry_text) {
        if (normalize_registry(registry_text, registry, sizeof registry, err) != 0) {
            err->code = AGYN_INVALID_ARGUMENT;
            return -1;
        }
        filters[count++] = (struct store_filter){"registry", registry};
    }
    return resource_list(req, res, &TABLE_IMAGE_PULL_SECRETS, filters, count, err);
}

HANDLER(h_image_pull_secrets_get) {
    json_t *row = NULL;
    if (resource_load(req, &TABLE_IMAGE_PULL_SECRETS, "image pull secret", "id", req->id, &row,
                      err) != 0)
        return -1;
    json_t *view = resource_public(&TABLE_IMAGE_PULL_SECRETS, row);
    json_decref(row);
    return respond_json(res, 200, view);
}

/* The request field that restates a stored password source. */
static const char *source_field(const char *stored_source) {
    if (password_source_is_short_lived(stored_source))
        return "password_source";
    if (stored_source && strcmp(stored_source, "secret") == 0)
        return "password_secret_id";
    if (stored_source && strcmp(stored_source, "remote") == 0)
        return "provider_id";
    return "password";
}

/* The password is only ever sent to the registry it was given for: a PATCH that changes the
 * registry must carry a password source too. For an inline password that is the password
 * itself; for one read from a Secret or a provider, restating the reference (or giving any
 * other source) shows the change of destination is meant. */
static int require_password_for_new_registry(const json_t *row, const char *new_registry,
                                             const struct password_source *source,
                                             struct agyn_error *err) {
    const char *stored = row_text(row, "registry");
    if (!new_registry || (stored && strcmp(stored, new_registry) == 0) || source->kind)
        return 0;
    const char *field = source_field(row_text(row, "password_source"));
    return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                     "changing the registry sends the credential to a new destination: supply "
                     "%s again in the same request",
                     strcmp(field, "password") == 0          ? "the password"
                     : strcmp(field, "provider_id") == 0     ? "provider_id and remote_path"
                     : strcmp(field, "password_source") == 0 ? "password_source with its fields"
                                                             : "password_secret_id");
}

/* PATCH edits in place: a new password (or source) replaces the old one, and the next
 * workload start uses it. Changing the registry needs the password source again. */
HANDLER(h_image_pull_secrets_update) {
    const char *name, *description, *registry_text, *username;
    struct password_source source;
    char registry[600];
    if (read_ips_fields(req, false, &name, &description, &registry_text, registry, &username,
                        &source, err) != 0)
        return -1;
    json_t *row = NULL;
    if (resource_load(req, &TABLE_IMAGE_PULL_SECRETS, "image pull secret", "id", req->id, &row,
                      err) != 0)
        return -1;
    int allowed =
        require_password_for_new_registry(row, registry_text ? registry : NULL, &source, err);
    /* The username goes with the source: a short-lived one brings its own; leaving one
     * needs a username again. */
    const char *stored_kind = row_text(row, "password_source");
    const char *kind = source.kind ? source.kind : stored_kind;
    if (allowed == 0)
        allowed =
            check_username_for_source(username, kind ? kind : "inline",
                                      source.kind && !password_source_is_short_lived(source.kind) &&
                                          password_source_is_short_lived(stored_kind),
                                      err);
    json_decref(row);
    if (allowed != 0)
        return -1;
    json_t *changes = json_object();
    if (name)
        json_object_set_new(changes, "name", json_string(name));
    if (description)
        json_object_set_new(changes, "description", json_string(description));
    if (registry_text)
        json_object_set_new(changes, "registry", json_string(registry));
    if (username)
        json_object_set_new(changes, "username", json_string(username));
    if (password_source_is_short_lived(source.kind))
        json_object_set_new(changes, "username", json_string(short_lived_username(source.kind)));
    int rc = source.kind
                 ? password_source_write(req, &IPS_PASSWORD_SOURCE, &source, req->id, changes, err)
                 : 0;
    if (rc == 0 && store_update(req->app->store, &TABLE_IMAGE_PULL_SECRETS, req->org_id, req->id,
                                changes, err) != 0) {
        resource_conflict_message(err, "an image pull secret", name);
        rc = -1;
    }
    json_decref(changes);
    if (rc != 0 || h_image_pull_secrets_get(req, res, err) != 0)
        return -1;
    resource_publish(req, "image_pull_secret.updated", res->json);
    return 0;
}

HANDLER(h_image_pull_secrets_delete) {
    bool detach = false;
    if (input_query_bool(req, "detach", &detach, err) != 0)
        return -1;
    json_t *row = NULL;
    if (resource_load(req, &TABLE_IMAGE_PULL_SECRETS, "image pull secret", "id", req->id, &row,
                      err) != 0)
        return -1;
    json_decref(row);
    if (store_tx_begin(req->app->store, err) != 0)
        return -1;
    json_t *attachments = NULL;
    int rc = attachments_of_image_pull_secret(req, req->id, &attachments, err);
    if (rc == 0 && json_array_size(attachments) > 0 && !detach) {
        store_tx_rollback(req->app->store);
        return referrers_conflict(res, "image pull secret", attachments,
                                  "detach it first, or delete with ?detach=true");
    }
    json_decref(attachments);
    struct store_filter by_secret = {"image_pull_secret_id", req->id};
    struct store_query query = {
        .organization_id = req->org_id, .filters = &by_secret, .filter_count = 1};
    if (rc == 0)
        rc = store_delete_where(req->app->store, &TABLE_ATTACHMENTS, &query, NULL, err);
    if (rc == 0)
        rc = store_delete(req->app->store, &TABLE_IMAGE_PULL_SECRETS, req->org_id, req->id, err);
    if (rc == 0)
        rc = store_tx_commit(req->app->store, err);
    else
        store_tx_rollback(req->app->store);
    if (rc != 0)
        return -1;
    json_t *deleted = json_pack("{s:s}", "id", req->id);
    resource_publish(req, "image_pull_secret.deleted", deleted);
    json_decref(deleted);
    res->status = 204;
    return 0;
}

/* An entry must also pass what a direct create checks: its registry becomes the name, and the
 * password has the same 64 KiB limit as in password_source_read. */
static int validate_imported_entry(const struct docker_config_entry *entry,
                                   struct agyn_error *err) {
    char quoted[72], field[96];
    text_quote(entry->key, strlen(entry->key), strlen(entry->key), quoted, sizeof quoted);
    snprintf(field, sizeof field, "auths[%s]", quoted);
    if (strlen(entry->registry) > AGYN_NAME_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: the registry is longer than %d bytes, too long to name an image "
                         "pull secret after it",
                         field, AGYN_NAME_MAX);
    if (strlen(entry->password) <= 64 * 1024)
        return 0;
    snprintf(field, sizeof field, "auths[%s].password", quoted);
    return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s is longer than 64 KiB", field);
}

static json_t *error_json(const struct agyn_error *e) {
    json_t *out = json_pack("{s:s, s:s}", "code", agyn_code_name(e->code), "message", e->message);
    if (e->field[0])
        json_object_set_new(out, "field", json_string(e->field));
    return out;
}

/* POST .../import: the body is a Docker config.json or .dockerconfigjson; one image pull
 * secret per "auths" entry, named after its registry; each bad entry is reported on its own. */
HANDLER(h_image_pull_secrets_import) {
    struct docker_config_entry *entries = NULL;
    size_t count = 0;
    if (docker_config_parse(req->raw_body ? req->raw_body : "", req->raw_body_len, &entries, &count,
                            err) != 0)
        return -1;
    if (count == 0) {
        docker_config_entries_free(entries, count);
        /* Nothing to import is not a success: the file's credentials are elsewhere. */
        return agyn_fail(err, AGYN_UNPROCESSABLE, "auths",
                         "auths holds no registries to import (credentials kept by a "
                         "credential helper or store are not in the file)");
    }
    json_t *created = json_array(), *failed = json_array();
    for (size_t i = 0; i < count; i++) {
        struct docker_config_entry *entry = &entries[i];
        struct agyn_error entry_error = entry->error;
        json_t *view = NULL;
        if (entry_error.code == AGYN_OK) {
            struct password_source source = {.inline_value = entry->password, .kind = "inline"};
            if (validate_username(entry->username, &entry_error) == 0 &&
                validate_imported_entry(entry, &entry_error) == 0 &&
                insert_image_pull_secret(req, entry->registry, "imported from Docker config",
                                         entry->registry, entry->username, &source, &view,
                                         &entry_error) == 0) {
                json_array_append_new(created, view);
                continue;
            }
        }
        json_array_append_new(
            failed, json_pack("{s:s, s:o}", "key", entry->key, "error", error_json(&entry_error)));
    }
    docker_config_entries_free(entries, count);
    /* 201: all created; 200: some entries failed; 422: none could be created (or none given). */
    int status = json_array_size(failed) == 0 ? 201 : json_array_size(created) ? 200 : 422;
    return respond_json(res, status, json_pack("{s:o, s:o}", "created", created, "errors", failed));
}
