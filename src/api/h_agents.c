/* h_agents.c — agents: a name and the image the runner pulls for the agent's main container.
 * Deleting an agent with MCP servers, hooks or attachments needs ?cascade=true (else 409). */
#include <stdio.h>
#include <string.h>

#include "api/contents.h"
#include "api/handlers.h"
#include "api/input.h"
#include "api/resource.h"
#include "api/run_spec.h"
#include "store/tables.h"
#include "core/row.h"

static const char *const AGENT_FIELDS[] = {"name", "image", "description", "command",
                                           "args", "env",   NULL};

HANDLER(h_agents_create) {
    const char *name = NULL;
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    if (input_object_fields(req, AGENT_FIELDS, &fe, err) != 0)
        return -1;
    if (field_check(&fe, input_string(req->body, "name", true, &name, e)))
        field_check(&fe, name_validate(name, "name", e));
    json_t *spec = json_object();
    run_spec_read_runnable(req->body, false, spec, &fe);
    if (field_errors_finish(req, &fe, err) != 0) {
        json_decref(spec);
        return -1;
    }
    json_t *row = json_pack("{s:s, s:s}", "organization_id", req->org_id, "name", name);
    json_object_update(row, spec);
    json_decref(spec);
    if (store_insert(req->app->store, &TABLE_AGENTS, row, err) != 0) {
        resource_conflict_message(err, "an agent", name);
        json_decref(row);
        return -1;
    }
    return respond_json(res, 201, row);
}

HANDLER(h_agents_list) {
    return resource_list(req, res, &TABLE_AGENTS, NULL, 0, err);
}

HANDLER(h_agents_get) {
    json_t *row = NULL;
    if (resource_load(req, &TABLE_AGENTS, "agent", "id", req->id, &row, err) != 0)
        return -1;
    return respond_json(res, 200, row);
}

HANDLER(h_agents_update) {
    const char *name = NULL;
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    if (input_object_fields(req, AGENT_FIELDS, &fe, err) != 0)
        return -1;
    if (field_check(&fe, input_string(req->body, "name", false, &name, e)) && name)
        field_check(&fe, name_validate(name, "name", e));
    json_t *changes = json_object();
    run_spec_read_runnable(req->body, true, changes, &fe);
    if (field_errors_finish(req, &fe, err) != 0) {
        json_decref(changes);
        return -1;
    }
    if (name)
        json_object_set_new(changes, "name", json_string(name));
    int rc = store_update(req->app->store, &TABLE_AGENTS, req->org_id, req->id, changes, err);
    json_decref(changes);
    if (rc != 0) {
        resource_conflict_message(err, "an agent", name);
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "id", "agent %s not found", req->id);
        return -1;
    }
    return h_agents_get(req, res, err);
}

/* An agent with MCP servers, hooks or attachments is a 409 listing them, unless
 * ?cascade=true; then the answer is 200 with what was removed. */
HANDLER(h_agents_delete) {
    bool cascade = false;
    if (input_query_bool(req, "cascade", &cascade, err) != 0)
        return -1;
    json_t *agent = NULL;
    if (resource_load(req, &TABLE_AGENTS, "agent", "id", req->id, &agent, err) != 0)
        return -1;
    char what[160];
    snprintf(what, sizeof what, "agent \"%s\"", row_text(agent, "name"));
    json_decref(agent);
    if (store_tx_begin(req->app->store, err) != 0)
        return -1;
    json_t *contents = NULL;
    if (contents_of_agent(req, req->id, &contents, err) != 0) {
        store_tx_rollback(req->app->store);
        return -1;
    }
    if (json_array_size(contents) > 0 && !cascade) {
        store_tx_rollback(req->app->store);
        return contents_conflict(res, what, contents);
    }
    int rc = store_delete(req->app->store, &TABLE_AGENTS, req->org_id, req->id, err);
    if (rc != 0)
        store_tx_rollback(req->app->store);
    else
        rc = store_tx_commit(req->app->store, err);
    if (rc != 0) {
        json_decref(contents);
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "id", "agent %s not found", req->id);
        return -1;
    }
    if (json_array_size(contents) > 0)
        return contents_removed(res, req->id, contents);
    json_decref(contents);
    res->status = 204;
    return 0;
}
