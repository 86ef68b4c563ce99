/* h_agent_parts.c — MCP servers (/mcps) and hooks (/hooks): parts of an agent, each with its
 * own image (pulled as its own container) and its own image pull secret attachments. The two
 * differ only in their label field (an MCP server's unique name, a hook's event), so one set
 * of handlers serves both, driven by a description of the kind. */
#include <string.h>

#include "api/handlers.h"
#include "core/row.h"
#include "api/input.h"
#include "api/resource.h"
#include "api/run_spec.h"
#include "core/field_rules.h"
#include "store/tables.h"

struct part_kind {
    const struct store_table *table;
    const char *noun;   /* "MCP server" */
    const char *a_noun; /* "an MCP server" */
    const char *label;  /* "name" or "event" */
    int (*validate_label)(const char *value, struct agyn_error *err);
    const char *const *fields;
};

static int validate_mcp_name(const char *name, struct agyn_error *err) {
    return name_validate(name, "name", err);
}

static const char *const MCP_FIELDS[] = {"agent_id", "name", "image", "description",
                                         "command",  "args", "env",   NULL};
static const char *const HOOK_FIELDS[] = {"agent_id", "event", "image", "description",
                                          "command",  "args",  "env",   NULL};

static const struct part_kind MCP = {&TABLE_MCPS, "MCP server",      "an MCP server",
                                     "name",      validate_mcp_name, MCP_FIELDS};
static const struct part_kind HOOK = {&TABLE_HOOKS,        "hook",     "a hook", "event",
                                      validate_hook_event, HOOK_FIELDS};

static int part_create(const struct part_kind *kind, struct api_request *req,
                       struct api_response *res, struct agyn_error *err) {
    const char *agent_id = NULL, *label = NULL;
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    if (input_object_fields(req, kind->fields, &fe, err) != 0)
        return -1;
    field_check(&fe, input_uuid(req->body, "agent_id", true, &agent_id, e));
    if (field_check(&fe, input_string(req->body, kind->label, true, &label, e)))
        field_check(&fe, kind->validate_label(label, e));
    json_t *spec = json_object();
    run_spec_read_runnable(req->body, false, spec, &fe);
    if (field_errors_finish(req, &fe, err) != 0) {
        json_decref(spec);
        return -1;
    }
    json_t *agent = NULL;
    if (resource_load(req, &TABLE_AGENTS, "agent", "agent_id", agent_id, &agent, err) != 0) {
        json_decref(spec);
        return -1;
    }
    json_decref(agent);
    json_t *row = json_pack("{s:s, s:s, s:s}", "organization_id", req->org_id, "agent_id", agent_id,
                            kind->label, label);
    json_object_update(row, spec);
    json_decref(spec);
    if (store_insert(req->app->store, kind->table, row, err) != 0) {
        resource_conflict_message(err, kind->a_noun, label);
        json_decref(row);
        return -1;
    }
    return respond_json(res, 201, row);
}

static int part_list(const struct part_kind *kind, struct api_request *req,
                     struct api_response *res, struct agyn_error *err) {
    struct store_filter filters[1];
    size_t count = 0;
    if (resource_query_filter(req, "agent_id", filters, &count, err) != 0)
        return -1;
    return resource_list(req, res, kind->table, filters, count, err);
}

static int part_get(const struct part_kind *kind, struct api_request *req, struct api_response *res,
                    struct agyn_error *err) {
    json_t *row = NULL;
    if (resource_load(req, kind->table, kind->noun, "id", req->id, &row, err) != 0)
        return -1;
    return respond_json(res, 200, row);
}

static int part_update(const struct part_kind *kind, struct api_request *req,
                       struct api_response *res, struct agyn_error *err) {
    const char *agent_id = NULL, *label = NULL;
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    if (input_object_fields(req, kind->fields, &fe, err) != 0)
        return -1;
    field_check(&fe, input_uuid(req->body, "agent_id", false, &agent_id, e));
    if (field_check(&fe, input_string(req->body, kind->label, false, &label, e)) && label)
        field_check(&fe, kind->validate_label(label, e));
    json_t *changes = json_object();
    run_spec_read_runnable(req->body, true, changes, &fe);
    json_t *current = NULL;
    if (field_errors_finish(req, &fe, err) != 0 ||
        resource_load(req, kind->table, kind->noun, "id", req->id, &current, err) != 0) {
        json_decref(changes);
        return -1;
    }
    int moved = agent_id && strcmp(agent_id, row_text(current, "agent_id"));
    json_decref(current);
    if (moved) {
        json_decref(changes);
        return agyn_fail(err, AGYN_UNPROCESSABLE, "agent_id",
                         "agent_id cannot be changed; create a new %s instead", kind->noun);
    }
    if (label)
        json_object_set_new(changes, kind->label, json_string(label));
    int rc = store_update(req->app->store, kind->table, req->org_id, req->id, changes, err);
    json_decref(changes);
    if (rc != 0) {
        resource_conflict_message(err, kind->a_noun, label);
        return -1;
    }
    return part_get(kind, req, res, err);
}

static int part_delete(const struct part_kind *kind, struct api_request *req,
                       struct api_response *res, struct agyn_error *err) {
    if (store_delete(req->app->store, kind->table, req->org_id, req->id, err) != 0) {
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "id", "%s %s not found", kind->noun, req->id);
        return -1;
    }
    res->status = 204;
    return 0;
}

HANDLER(h_mcps_create) {
    return part_create(&MCP, req, res, err);
}
HANDLER(h_mcps_list) {
    return part_list(&MCP, req, res, err);
}
HANDLER(h_mcps_get) {
    return part_get(&MCP, req, res, err);
}
HANDLER(h_mcps_update) {
    return part_update(&MCP, req, res, err);
}
HANDLER(h_mcps_delete) {
    return part_delete(&MCP, req, res, err);
}
HANDLER(h_hooks_create) {
    return part_create(&HOOK, req, res, err);
}
HANDLER(h_hooks_list) {
    return part_list(&HOOK, req, res, err);
}
HANDLER(h_hooks_get) {
    return part_get(&HOOK, req, res, err);
}
HANDLER(h_hooks_update) {
    return part_update(&HOOK, req, res, err);
}
HANDLER(h_hooks_delete) {
    return part_delete(&HOOK, req, res, err);
}
