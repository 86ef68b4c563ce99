/* h_attachments.c — attaching image pull secrets to agents, MCP servers and hooks.
 * Attachments are immutable (create and delete only), ordered by creation, and confined to one
 * organization: a secret or target of another organization is "not found". Members may attach
 * and detach. */
#include <string.h>

#include "api/handlers.h"
#include "core/row.h"
#include "api/input.h"
#include "api/resource.h"
#include "store/tables.h"

static const char *const ATTACHMENT_FIELDS[] = {"image_pull_secret_id", "agent_id", "mcp_id",
                                                "hook_id", NULL};

struct target_kind {
    const char *column; /* "agent_id" */
    const char *noun;   /* "agent" */
    const struct store_table *table;
};

static const struct target_kind TARGETS[] = {
    {"agent_id", "agent", &TABLE_AGENTS},
    {"mcp_id", "MCP server", &TABLE_MCPS},
    {"hook_id", "hook", &TABLE_HOOKS},
};
#define TARGET_COUNT (sizeof TARGETS / sizeof TARGETS[0])

HANDLER(h_attachments_create) {
    const char *secret_id, *target_ids[TARGET_COUNT];
    if (input_require_object(req, ATTACHMENT_FIELDS, err) != 0 ||
        input_uuid(req->body, "image_pull_secret_id", true, &secret_id, err) != 0)
        return -1;
    const struct target_kind *target = NULL;
    const char *target_id = NULL;
    for (size_t t = 0; t < TARGET_COUNT; t++) {
        if (input_uuid(req->body, TARGETS[t].column, false, &target_ids[t], err) != 0)
            return -1;
        if (!target_ids[t])
            continue;
        if (target)
            return agyn_fail(err, AGYN_UNPROCESSABLE, TARGETS[t].column,
                             "give exactly one of agent_id, mcp_id or hook_id (got %s and %s)",
                             target->column, TARGETS[t].column);
        target = &TARGETS[t];
        target_id = target_ids[t];
    }
    if (!target)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "agent_id",
                         "one of agent_id, mcp_id or hook_id is required");
    json_t *secret = NULL, *target_row = NULL;
    if (resource_load(req, &TABLE_IMAGE_PULL_SECRETS, "image pull secret",
                      "image_pull_secret_id", secret_id, &secret, err) != 0)
        return -1;
    if (resource_load(req, target->table, target->noun, target->column, target_id, &target_row,
                      err) != 0) {
        json_decref(secret);
        return -1;
    }
    json_t *row = json_pack("{s:s, s:s, s:n, s:n, s:n}", "organization_id", req->org_id,
                            "image_pull_secret_id", secret_id, "agent_id", "mcp_id", "hook_id");
    json_object_set_new(row, target->column, json_string(target_id));
    const struct quota_limit limit = {&TABLE_ATTACHMENTS, req->app->config.quotas.attachments,
                                      "--max-attachments-per-org", "attachments", NULL, 0};
    int rc = quota_insert(req->app->store, &limit, row, err);
    if (rc != 0 && err->code == AGYN_CONFLICT)
        agyn_fail(err, AGYN_CONFLICT, target->column,
                  "image pull secret \"%s\" is already attached to this %s",
                  row_text(secret, "name"), target->noun);
    json_decref(secret);
    json_decref(target_row);
    if (rc != 0) {
        json_decref(row);
        return -1;
    }
    resource_publish(req, "attachment.created", row);
    return respond_json(res, 201, row);
}

HANDLER(h_attachments_list) {
    struct store_filter filters[4];
    size_t count = 0;
    if (resource_query_filter(req, "image_pull_secret_id", filters, &count, err) != 0)
        return -1;
    for (size_t t = 0; t < TARGET_COUNT; t++)
        if (resource_query_filter(req, TARGETS[t].column, filters, &count, err) != 0)
            return -1;
    return resource_list(req, res, &TABLE_ATTACHMENTS, filters, count, err);
}

HANDLER(h_attachments_get) {
    json_t *row = NULL;
    if (resource_load(req, &TABLE_ATTACHMENTS, "image pull secret attachment", "id", req->id,
                      &row, err) != 0)
        return -1;
    return respond_json(res, 200, row);
}

HANDLER(h_attachments_delete) {
    if (store_delete(req->app->store, &TABLE_ATTACHMENTS, req->org_id, req->id, err) != 0) {
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "id", "image pull secret attachment %s not found",
                      req->id);
        return -1;
    }
    json_t *deleted = json_pack("{s:s}", "id", req->id);
    resource_publish(req, "attachment.deleted", deleted);
    json_decref(deleted);
    res->status = 204;
    return 0;
}

/* GET /{agents|mcps|hooks}/{id}/image-pull-secrets: the attached secrets in attachment order,
 * each with its attachment_id. */
static int attached_secrets(const struct target_kind *target, struct api_request *req,
                            struct api_response *res, struct agyn_error *err) {
    json_t *target_row = NULL;
    if (resource_load(req, target->table, target->noun, "id", req->id, &target_row, err) != 0)
        return -1;
    json_decref(target_row);
    struct store_filter filter = {target->column, req->id};
    struct store_query query = {.organization_id = req->org_id, .filters = &filter,
                                .filter_count = 1};
    json_t *attachments = NULL;
    int64_t next = 0;
    if (store_list(req->app->store, &TABLE_ATTACHMENTS, &query, &attachments, &next, err) != 0)
        return -1;
    json_t *items = json_array();
    size_t i;
    json_t *attachment;
    json_array_foreach(attachments, i, attachment) {
        json_t *secret = NULL;
        const char *secret_id =
            row_text(attachment, "image_pull_secret_id");
        if (store_get(req->app->store, &TABLE_IMAGE_PULL_SECRETS, req->org_id, secret_id,
                      &secret, err) != 0) {
            json_decref(attachments);
            json_decref(items);
            return -1;
        }
        json_t *view = resource_public(&TABLE_IMAGE_PULL_SECRETS, secret);
        json_object_set(view, "attachment_id", json_object_get(attachment, "id"));
        json_object_set(view, "attached_at", json_object_get(attachment, "created_at"));
        json_array_append_new(items, view);
        json_decref(secret);
    }
    json_decref(attachments);
    return respond_json(res, 200, output_page(items, 0));
}

HANDLER(h_agents_image_pull_secrets) { return attached_secrets(&TARGETS[0], req, res, err); }
HANDLER(h_mcps_image_pull_secrets) { return attached_secrets(&TARGETS[1], req, res, err); }
HANDLER(h_hooks_image_pull_secrets) { return attached_secrets(&TARGETS[2], req, res, err); }
