/* h_secret_providers.c — secret providers (Vault, AWS Secrets Manager): where remote
 * passwords live. A provider's config is split on write: its credential fields (the backend's
 * secret_fields) are sealed together into credentials_sealed and never returned; responses
 * name them in secret_fields_set. The rest of the config is stored and returned as given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "core/xalloc.h"
#include "core/row.h"
#include "api/input.h"
#include "api/referrers.h"
#include "api/resource.h"
#include "base/uuid.h"
#include "credentials/resolve.h"
#include "crypto/envelope.h"
#include "crypto/sealed_field.h"
#include "providers/provider.h"
#include "store/tables.h"

static const char *const PROVIDER_FIELDS[] = {"name", "type", "config", NULL};

static int is_secret_field(const struct provider_backend *backend, const char *key) {
    for (size_t i = 0; backend->secret_fields && backend->secret_fields[i]; i++)
        if (strcmp(backend->secret_fields[i], key) == 0)
            return 1;
    return 0;
}

/* The name of the first destination field (address, region, endpoint_url) that patch changes
 * from stored, or NULL. A null in patch removes the key. */
static const char *changed_destination(const struct provider_backend *backend, const json_t *stored,
                                       const json_t *patch) {
    for (size_t i = 0; backend->destination_fields && backend->destination_fields[i]; i++) {
        const char *key = backend->destination_fields[i];
        json_t *given = json_object_get(patch, key);
        if (!given)
            continue;
        json_t *before = json_object_get(stored, key);
        bool removed = json_is_null(given);
        bool was_set = before && !json_is_null(before);
        if (removed ? was_set : !json_equal(given, before))
            return key;
    }
    return NULL;
}

/* A stored credential is only ever sent to the destination it was given for: a PATCH that
 * moves the provider must restate each credential field still set (or remove it with null),
 * or an owner could point it at a host of their own and have agyn send it there. */
static int require_credentials_for_new_destination(const struct provider_backend *backend,
                                                   const json_t *stored, const json_t *patch,
                                                   struct agyn_error *err) {
    const char *moved = changed_destination(backend, stored, patch);
    if (!moved)
        return 0;
    for (size_t i = 0; backend->secret_fields && backend->secret_fields[i]; i++) {
        const char *key = backend->secret_fields[i];
        json_t *before = json_object_get(stored, key);
        if (!before || json_is_null(before) || json_object_get(patch, key))
            continue;
        char field[64];
        snprintf(field, sizeof field, "config.%s", key);
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "changing config.%s sends the stored credential to a new destination: "
                         "supply %s again in the same request",
                         moved, field);
    }
    return 0;
}

/* What the row says without opening its credentials: the public config, with each credential
 * field that is set standing as true (enough for the destination rule above). */
static json_t *config_without_credentials(const json_t *row) {
    json_t *config = json_loads(row_text(row, "config"), 0, NULL);
    json_t *fields = json_loads(row_text(row, "credential_fields"), 0, NULL);
    if (!json_is_object(config)) {
        json_decref(config);
        config = json_object();
    }
    size_t i;
    json_t *name;
    json_array_foreach(fields, i, name) {
        if (json_is_string(name))
            json_object_set_new(config, json_string_value(name), json_true());
    }
    json_decref(fields);
    return config;
}

/* Whether patch restates every credential field the row has set: then the stored ones are
 * replaced whole and need not be opened (a row whose credentials no longer decrypt can be
 * repaired this way). */
static bool restates_credentials(const json_t *row, const json_t *patch) {
    json_t *fields = json_loads(row_text(row, "credential_fields"), 0, NULL);
    bool all = true;
    size_t i;
    json_t *name;
    json_array_foreach(fields, i, name) {
        if (!json_is_string(name) || !json_object_get(patch, json_string_value(name)))
            all = false;
    }
    json_decref(fields);
    return all;
}

static json_t *provider_view(const json_t *row) {
    json_t *out = resource_public(&TABLE_SECRET_PROVIDERS, row);
    json_t *config = json_loads(row_text(row, "config"), 0, NULL);
    json_t *fields = json_loads(row_text(row, "credential_fields"), 0, NULL);
    json_object_set_new(out, "config", config ? config : json_object());
    json_object_set_new(out, "secret_fields_set", fields ? fields : json_array());
    return out;
}

/* Stores config into row: the public part as JSON text, the credentials sealed. */
static int store_config(struct api_request *req, const struct provider_backend *backend,
                        const char *row_id, json_t *config, json_t *row, struct agyn_error *err) {
    json_t *public_part = json_object(), *credentials = json_object(), *names = json_array();
    const char *key;
    json_t *value;
    json_object_foreach(config, key, value) {
        if (json_is_null(value))
            continue;
        if (is_secret_field(backend, key)) {
            json_object_set(credentials, key, value);
            json_array_append_new(names, json_string(key));
        } else {
            json_object_set(public_part, key, value);
        }
    }
    int rc = 0;
    char *text = json_dumps(public_part, JSON_COMPACT | JSON_SORT_KEYS);
    json_object_set_new(row, "config", json_string(text));
    free(text);
    text = json_dumps(names, JSON_COMPACT);
    json_object_set_new(row, "credential_fields", json_string(text));
    free(text);
    if (json_object_size(credentials) == 0) {
        json_object_set_new(row, "credentials_sealed", json_null());
    } else {
        text = json_dumps(credentials, JSON_COMPACT);
        struct sealed_location where = {req->org_id, "secret_providers", row_id,
                                        "credentials_sealed"};
        /* Under the keyring file's active key (`agynd keys add` may have run meanwhile). */
        char *sealed = keyring_reload(req->app->keyring, req->app->config.keyring_file, err) == 0
                           ? sealed_field_seal(req->app->keyring, &where, text, err)
                           : NULL;
        secure_free(text);
        if (sealed)
            json_object_set_new(row, "credentials_sealed", json_string(sealed));
        else
            rc = -1;
        free(sealed);
    }
    json_decref(public_part);
    json_decref(credentials);
    json_decref(names);
    return rc;
}

static const struct provider_backend *backend_for(const char *type, struct agyn_error *err) {
    const struct provider_backend *backend = type ? provider_find(type) : NULL;
    if (!backend)
        agyn_fail(err, AGYN_UNPROCESSABLE, "type",
                  "unknown provider type \"%.64s\"; use \"vault\" or \"aws-secrets-manager\"",
                  type ? type : "");
    return backend;
}

HANDLER(h_secret_providers_create) {
    const char *name = NULL, *type = NULL;
    const struct provider_backend *backend = NULL;
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    if (input_object_fields(req, PROVIDER_FIELDS, &fe, err) != 0)
        return -1;
    if (field_check(&fe, input_string(req->body, "name", true, &name, e)))
        field_check(&fe, name_validate(name, "name", e));
    if (field_check(&fe, input_string(req->body, "type", true, &type, e)))
        field_check(&fe, (backend = backend_for(type, e)) ? 0 : -1);
    json_t *config = json_object_get(req->body, "config");
    if (!json_is_object(config))
        field_check(&fe, agyn_fail(e, AGYN_UNPROCESSABLE, "config", "config must be an object"));
    else if (backend)
        field_check(&fe, backend->validate_config(config, e));
    if (field_errors_finish(req, &fe, err) != 0)
        return -1;
    char id[AGYN_UUID_LEN + 1];
    uuid_generate(id);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "organization_id", req->org_id,
                            "name", name, "type", type);
    int rc = store_config(req, backend, id, config, row, err);
    if (rc == 0 && store_insert(req->app->store, &TABLE_SECRET_PROVIDERS, row, err) != 0) {
        resource_conflict_message(err, "a secret provider", name);
        rc = -1;
    }
    json_t *view = rc == 0 ? provider_view(row) : NULL;
    json_decref(row);
    return rc == 0 ? respond_json(res, 201, view) : -1;
}

HANDLER(h_secret_providers_list) {
    struct store_query query = {.organization_id = req->org_id};
    if (input_page(req, &query.limit, &query.after_seq, err) != 0)
        return -1;
    json_t *rows = NULL;
    int64_t next = 0;
    if (store_list(req->app->store, &TABLE_SECRET_PROVIDERS, &query, &rows, &next, err) != 0)
        return -1;
    json_t *items = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_array_append_new(items, provider_view(row));
    }
    json_decref(rows);
    return respond_json(res, 200, output_page(items, next));
}

HANDLER(h_secret_providers_get) {
    json_t *row = NULL;
    if (resource_load(req, &TABLE_SECRET_PROVIDERS, "secret provider", "id", req->id, &row, err) !=
        0)
        return -1;
    json_t *view = provider_view(row);
    json_decref(row);
    return respond_json(res, 200, view);
}

/* PATCH {name?, config?}: config keys given replace the stored ones (null removes an optional
 * key); credential fields not given keep their sealed values, except that a change of
 * destination (address, region, endpoint_url) must restate them. The type cannot change. */
HANDLER(h_secret_providers_update) {
    const char *name, *type;
    if (input_require_object(req, PROVIDER_FIELDS, err) != 0 ||
        input_string(req->body, "name", false, &name, err) != 0 ||
        (name && name_validate(name, "name", err) != 0) ||
        input_string(req->body, "type", false, &type, err) != 0)
        return -1;
    /* Read, merge and write in one write transaction (BEGIN IMMEDIATE): two PATCHes of the
     * same provider are serialized, so neither loses the other's config keys. */
    if (store_tx_begin(req->app->store, err) != 0)
        return -1;
    json_t *row = NULL;
    if (resource_load(req, &TABLE_SECRET_PROVIDERS, "secret provider", "id", req->id, &row, err) !=
        0) {
        store_tx_rollback(req->app->store);
        return -1;
    }
    const char *stored_type = row_text(row, "type");
    int rc = 0;
    if (type && strcmp(type, stored_type) != 0)
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, "type",
                       "type cannot be changed; create a new provider instead");
    json_t *changes = json_object();
    json_t *patch = json_object_get(req->body, "config");
    if (rc == 0 && patch) {
        const struct provider_backend *backend = backend_for(stored_type, err);
        json_t *config = NULL;
        if (!json_is_object(patch))
            rc = agyn_fail(err, AGYN_UNPROCESSABLE, "config", "config must be an object");
        else if (!backend)
            rc = -1;
        /* The request's own mistakes first: they are known without opening the credentials. */
        if (rc == 0) {
            json_t *known = config_without_credentials(row);
            rc = require_credentials_for_new_destination(backend, known, patch, err);
            json_decref(known);
        }
        if (rc == 0 && restates_credentials(row, patch)) {
            config = json_loads(row_text(row, "config"), 0, NULL);
            if (!json_is_object(config)) {
                json_decref(config);
                config = json_object();
            }
        } else if (rc == 0) {
            rc = resolve_provider_config(&req->app->resolve, row, &config, err);
        }
        if (rc == 0) {
            json_object_update(config, patch);
            rc = backend->validate_config(config, err);
            if (rc == 0)
                rc = store_config(req, backend, req->id, config, changes, err);
        }
        json_decref(config);
    }
    if (rc == 0 && name)
        json_object_set_new(changes, "name", json_string(name));
    if (rc == 0 && store_update(req->app->store, &TABLE_SECRET_PROVIDERS, req->org_id, req->id,
                                changes, err) != 0) {
        resource_conflict_message(err, "a secret provider", name);
        rc = -1;
    }
    if (rc == 0)
        rc = store_tx_commit(req->app->store, err);
    else
        store_tx_rollback(req->app->store);
    json_decref(changes);
    json_decref(row);
    return rc == 0 ? h_secret_providers_get(req, res, err) : -1;
}

HANDLER(h_secret_providers_delete) {
    json_t *row = NULL;
    if (resource_load(req, &TABLE_SECRET_PROVIDERS, "secret provider", "id", req->id, &row, err) !=
        0)
        return -1;
    json_decref(row);
    if (store_tx_begin(req->app->store, err) != 0)
        return -1;
    json_t *referrers = NULL;
    int rc = referrers_of_provider(req, req->id, &referrers, err);
    if (rc == 0 && json_array_size(referrers) > 0) {
        store_tx_rollback(req->app->store);
        return referrers_conflict(res, "secret provider", referrers,
                                  "delete or repoint them first");
    }
    json_decref(referrers);
    if (rc == 0)
        rc = store_delete(req->app->store, &TABLE_SECRET_PROVIDERS, req->org_id, req->id, err);
    if (rc == 0)
        rc = store_tx_commit(req->app->store, err);
    else
        store_tx_rollback(req->app->store);
    if (rc != 0)
        return -1;
    res->status = 204;
    return 0;
}

struct test_work {
    const struct provider_backend *backend;
    json_t *config; /* holds the decrypted credentials: wiped when freed */
};

static void test_work_free(void *arg) {
    struct test_work *work = arg;
    json_decref(work->config);
    free(work);
}

static void test_run(void *arg, int64_t deadline_ms, int *status, json_t **body) {
    (void)deadline_ms; /* the egress layer applies the thread's deadline to every request */
    struct test_work *work = arg;
    struct agyn_error test_error = {0};
    int rc = work->backend->test(work->config, &test_error);
    *status = 200;
    *body = json_pack("{s:b, s:s}", "ok", rc == 0, "message",
                      rc == 0 ? "connected and authenticated" : test_error.message);
}

/* The round trip to the provider runs in the outbound pool (see h_verify.c). */
HANDLER(h_secret_providers_test) {
    if (req->body && input_require_object(req, (const char *const[]){NULL}, err) != 0)
        return -1;
    json_t *row = NULL;
    if (resource_load(req, &TABLE_SECRET_PROVIDERS, "secret provider", "id", req->id, &row, err) !=
        0)
        return -1;
    const struct provider_backend *backend = backend_for(row_text(row, "type"), err);
    json_t *config = NULL;
    int rc = backend ? resolve_provider_config(&req->app->resolve, row, &config, err) : -1;
    json_decref(row);
    if (rc != 0)
        return -1;
    struct test_work *work = xcalloc(1, sizeof *work);
    work->backend = backend;
    work->config = config;
    char message[256];
    snprintf(message, sizeof message, "no answer from the %s provider within %lld s", backend->type,
             (long long)(req->app->config.outbound.timeout_ms / 1000));
    json_t *timeout_body = json_pack("{s:b, s:s}", "ok", 0, "message", message);
    struct outbound_job *job =
        outbound_job_new(req->org_id, test_run, work, test_work_free, timeout_body);
    if (outbound_submit(req->app->outbound, job, err) != 0)
        return -1;
    res->deferred = job;
    return 0;
}
