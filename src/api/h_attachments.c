/* h_attachments.c — attaching image pull secrets to agents, MCP servers and hooks.
 * Attachments are immutable (create and delete only), ordered by creation, and confined to one
 * organization: a secret or target of another organization is "not found". Members may attach
 * and detach. */
#include <stdbool.h>
#include <string.h>

#include "api/handlers.h"
#include "core/row.h"
#include "api/input.h"
#include "api/resource.h"
#include "core/image_ref.h"
#include "credentials/pull_selection.h"
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
    if (resource_load(req, &TABLE_IMAGE_PULL_SECRETS, "image pull secret", "image_pull_secret_id",
                      secret_id, &secret, err) != 0)
        return -1;
    if (resource_load(req, target->table, target->noun, target->column, target_id, &target_row,
                      err) != 0) {
        json_decref(secret);
        return -1;
    }
    json_t *row = json_pack("{s:s, s:s, s:n, s:n, s:n}", "organization_id", req->org_id,
                            "image_pull_secret_id", secret_id, "agent_id", "mcp_id", "hook_id");
    json_object_set_new(row, target->column, json_string(target_id));
    const struct quota_limit limit = {&TABLE_ATTACHMENTS,
                                      req->app->config.quotas.attachments,
                                      "--max-attachments-per-org",
                                      "attachments",
                                      NULL,
                                      0};
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
    if (resource_load(req, &TABLE_ATTACHMENTS, "image pull secret attachment", "id", req->id, &row,
                      err) != 0)
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

/* The image the selection is for: the ?image= argument (400 naming "image" when it is not an
 * image reference), else the resource's own image. false when there is none to match. */
static int selection_image(const struct api_request *req, const json_t *target_row,
                           struct image_ref *image, bool *have, struct agyn_error *err) {
    const char *asked = request_query(req, "image");
    if (asked) {
        if (image_ref_parse(asked, "image", image, err) != 0) {
            err->code = AGYN_INVALID_ARGUMENT;
            return -1;
        }
        *have = true;
        return 0;
    }
    struct agyn_error ignored = {0};
    *have = image_ref_parse(row_text(target_row, "image"), "image", image, &ignored) == 0;
    return 0;
}

/* GET /{agents|mcps|hooks}/{id}/image-pull-secrets[?image=]: the attached secrets in
 * attachment order, each with its attachment_id, whether it applies to the image
 * (matches_image) and its 1-based position in the runner's order (try_order, null when it does
 * not apply) — credentials/pull_selection's answer, the one the runner follows. */
static int attached_secrets(const struct target_kind *target, struct api_request *req,
                            struct api_response *res, struct agyn_error *err) {
    json_t *target_row = NULL;
    if (resource_load(req, target->table, target->noun, "id", req->id, &target_row, err) != 0)
        return -1;
    struct image_ref image;
    bool have_image = false;
    int rc = selection_image(req, target_row, &image, &have_image, err);
    json_decref(target_row);
    struct pull_selection selection;
    if (rc != 0 || pull_selection_load(req->app->store, req->org_id, target->column, req->id,
                                       have_image ? &image : NULL, &selection, err) != 0)
        return -1;
    json_t *items = json_array();
    for (size_t e = 0; e < selection.count; e++) {
        const struct pull_selection_entry *entry = &selection.entries[e];
        json_t *view = resource_public(&TABLE_IMAGE_PULL_SECRETS, entry->secret);
        json_object_set(view, "attachment_id", json_object_get(entry->attachment, "id"));
        json_object_set(view, "attached_at", json_object_get(entry->attachment, "created_at"));
        json_object_set_new(view, "matches_image", json_boolean(entry->try_order > 0));
        json_object_set_new(view, "try_order",
                            entry->try_order > 0 ? json_integer((json_int_t)entry->try_order)
                                                 : json_null());
        json_array_append_new(items, view);
    }
    pull_selection_free(&selection);
    return respond_json(res, 200, output_page(items, 0));
}

HANDLER(h_agents_image_pull_secrets) {
    return attached_secrets(&TARGETS[0], req, res, err);
}
HANDLER(h_mcps_image_pull_secrets) {
    return attached_secrets(&TARGETS[1], req, res, err);
}
HANDLER(h_hooks_image_pull_secrets) {
    return attached_secrets(&TARGETS[2], req, res, err);
}
