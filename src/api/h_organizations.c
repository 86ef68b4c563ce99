/* h_organizations.c — organizations: the admin creates and deletes them; an organization's own
 * tokens can read it (and see only it in the list), and its owners rename it. */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/contents.h"
#include "api/handlers.h"
#include "api/input.h"
#include "api/resource.h"
#include "store/tables.h"
#include "core/row.h"

HANDLER(h_organizations_create) {
    static const char *const fields[] = {"name", NULL};
    const char *name;
    if (input_require_object(req, fields, err) != 0 ||
        input_string(req->body, "name", true, &name, err) != 0 ||
        name_validate(name, "name", err) != 0)
        return -1;
    json_t *row = json_pack("{s:s}", "name", name);
    if (store_insert(req->app->store, &TABLE_ORGANIZATIONS, row, err) != 0) {
        resource_conflict_message(err, "an organization", name);
        json_decref(row);
        return -1;
    }
    return respond_json(res, 201, row);
}

HANDLER(h_organizations_list) {
    if (req->principal.role != ROLE_ADMIN) {
        json_t *org = NULL;
        if (store_get(req->app->store, &TABLE_ORGANIZATIONS, NULL, req->principal.organization_id,
                      &org, err) != 0)
            return -1;
        json_t *items = json_array();
        json_array_append_new(items, org);
        return respond_json(res, 200, output_page(items, 0));
    }
    struct store_query query = {0};
    if (input_page(req, &query.limit, &query.after_seq, err) != 0)
        return -1;
    json_t *rows = NULL;
    int64_t next = 0;
    if (store_list(req->app->store, &TABLE_ORGANIZATIONS, &query, &rows, &next, err) != 0)
        return -1;
    return respond_json(res, 200, output_page(rows, next));
}

HANDLER(h_organizations_get) {
    json_t *org = NULL;
    if (resource_load(req, &TABLE_ORGANIZATIONS, "organization", "organization_id", req->org_id,
                      &org, err) != 0)
        return -1;
    return respond_json(res, 200, org);
}

/* PATCH /organizations/{org} {name}: renames it (owner or admin). */
HANDLER(h_organizations_update) {
    static const char *const fields[] = {"name", NULL};
    const char *name;
    if (input_require_object(req, fields, err) != 0 ||
        input_string(req->body, "name", true, &name, err) != 0 ||
        name_validate(name, "name", err) != 0)
        return -1;
    json_t *changes = json_pack("{s:s}", "name", name);
    int rc = store_update(req->app->store, &TABLE_ORGANIZATIONS, NULL, req->org_id, changes, err);
    json_decref(changes);
    if (rc != 0) {
        resource_conflict_message(err, "an organization", name);
        return -1;
    }
    return h_organizations_get(req, res, err);
}

/* DELETE /organizations/{org}: the admin deletes an organization and everything in it (its
 * tokens, sessions, credentials, agents, attachments, workloads and events) in one statement. */
/* A non-empty organization is a 409 listing what would go, unless ?cascade=true; then the
 * answer is 200 with what was removed. Its tokens do not count: every organization has them. */
HANDLER(h_organizations_delete) {
    bool cascade = false;
    if (input_query_bool(req, "cascade", &cascade, err) != 0)
        return -1;
    json_t *org = NULL;
    if (store_get(req->app->store, &TABLE_ORGANIZATIONS, NULL, req->org_id, &org, err) != 0) {
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "organization_id", "organization not found");
        return -1;
    }
    char what[160];
    snprintf(what, sizeof what, "organization \"%s\"", row_text(org, "name"));
    json_decref(org);
    if (store_tx_begin(req->app->store, err) != 0)
        return -1;
    json_t *contents = NULL;
    if (contents_of_organization(req, &contents, err) != 0) {
        store_tx_rollback(req->app->store);
        return -1;
    }
    if (json_array_size(contents) > 0 && !cascade) {
        store_tx_rollback(req->app->store);
        return contents_conflict(res, what, contents);
    }
    int rc = store_delete(req->app->store, &TABLE_ORGANIZATIONS, NULL, req->org_id, err);
    if (rc != 0)
        store_tx_rollback(req->app->store);
    else
        rc = store_tx_commit(req->app->store, err);
    if (rc != 0) {
        json_decref(contents);
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "organization_id", "organization not found");
        return -1;
    }
    auth_revoked(req->app->store, NULL); /* its tokens are gone */
    if (json_array_size(contents) > 0)
        return contents_removed(res, req->org_id, contents);
    json_decref(contents);
    res->status = 204;
    return 0;
}
