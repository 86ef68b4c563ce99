/* workload.c — workload views, creation and event-publishing saves. */
#include "runner/workload.h"

#include <stdlib.h>
#include <string.h>

#include "core/row.h"
#include "store/event_log.h"
#include "store/tables.h"
#include "store/work_signal.h"

json_t *workload_view(const json_t *row) {
    json_t *view = json_object();
    static const char *const columns[] = {"id",
                                          "organization_id",
                                          "agent_id",
                                          "status",
                                          "failure_reason",
                                          "failure_message",
                                          "restart_policy",
                                          "created_at",
                                          "updated_at",
                                          NULL};
    for (size_t i = 0; columns[i]; i++) {
        json_t *value = json_object_get(row, columns[i]);
        json_object_set(view, columns[i], value ? value : json_null());
    }
    json_t *containers = json_loads(row_text(row, "containers"), 0, NULL);
    json_object_set_new(view, "containers", containers ? containers : json_array());
    return view;
}

json_t *container_new(const char *name, const char *role, const char *image) {
    return json_pack("{s:s, s:s, s:s, s:n, s:s, s:s, s:s, s:n, s:n, s:n, s:i}", "name", name,
                     "role", role, "image", image, "image_digest", "status", "waiting", "reason",
                     "ContainerCreating", "message", "", "credential", "started_at", "finished_at",
                     "restart_count", 0);
}

/* What the container runs, as its resource says (null: the image's own). */
static void copy_run_spec(json_t *container, const json_t *resource) {
    static const char *const fields[] = {"command", "args", "env"};
    for (size_t i = 0; i < 3; i++) {
        json_t *value = json_object_get(resource, fields[i]);
        json_object_set(container, fields[i], value ? value : json_null());
    }
}

static int append_parts(struct store *store, const char *org, const char *agent_id,
                        const struct store_table *table, const char *role, const char *label,
                        json_t *containers, struct agyn_error *err) {
    struct store_filter filter = {"agent_id", agent_id};
    struct store_query query = {.organization_id = org, .filters = &filter, .filter_count = 1};
    json_t *rows = NULL;
    int64_t next = 0;
    if (store_list(store, table, &query, &rows, &next, err) != 0)
        return -1;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *container = container_new(row_text(row, label), role, row_text(row, "image"));
        json_object_set(container, role[0] == 'm' ? "mcp_id" : "hook_id",
                        json_object_get(row, "id"));
        copy_run_spec(container, row);
        json_array_append_new(containers, container);
    }
    json_decref(rows);
    return 0;
}

static int publish(struct store *store, json_t *workload, int status_changed,
                   struct agyn_error *err) {
    const char *org = row_text(workload, "organization_id");
    if (event_log_append(store, org, "workload.updated", workload, err) != 0)
        return -1;
    if (status_changed &&
        event_log_append(store, org, "workload.status_changed", workload, err) != 0)
        return -1;
    return 0;
}

int workload_create(struct store *store, const char *organization_id, const char *agent_id,
                    const char *restart_policy, long long max_active, json_t **view_out,
                    struct agyn_error *err) {
    json_t *agent = NULL;
    if (store_get(store, &TABLE_AGENTS, organization_id, agent_id, &agent, err) != 0) {
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "agent_id", "agent %s not found", agent_id);
        return -1;
    }
    json_t *containers = json_array();
    json_t *main_container =
        container_new(row_text(agent, "name"), "main", row_text(agent, "image"));
    json_object_set_new(main_container, "agent_id", json_string(agent_id));
    copy_run_spec(main_container, agent);
    json_array_append_new(containers, main_container);
    json_decref(agent);
    if (append_parts(store, organization_id, agent_id, &TABLE_MCPS, "mcp", "name", containers,
                     err) != 0 ||
        append_parts(store, organization_id, agent_id, &TABLE_HOOKS, "hook", "event", containers,
                     err) != 0) {
        json_decref(containers);
        return -1;
    }
    char *text = json_dumps(containers, JSON_COMPACT);
    json_decref(containers);
    json_t *row =
        json_pack("{s:s, s:s, s:s, s:n, s:n, s:s, s:i, s:n, s:n, s:s}", "organization_id",
                  organization_id, "agent_id", agent_id, "status", "starting", "failure_reason",
                  "failure_message", "containers", text, "stop_requested", 0, "claimed_by",
                  "claimed_at", "restart_policy", restart_policy ? restart_policy : RESTART_NEVER);
    free(text);
    static const struct store_filter inactive[] = {{"status", "stopped"}, {"status", "failed"}};
    const struct quota_limit limit = {
        &TABLE_WORKLOADS,   max_active, "--max-active-workloads-per-org",
        "active workloads", inactive,   2};
    int rc = store_tx_begin(store, err);
    if (rc == 0 && max_active > 0)
        rc = quota_check(store, &limit, organization_id, err);
    if (rc == 0)
        rc = store_insert(store, &TABLE_WORKLOADS, row, err);
    json_t *view = rc == 0 ? workload_view(row) : NULL;
    json_decref(row);
    if (rc == 0)
        rc = event_log_append(store, organization_id, "workload.created", view, err);
    if (rc == 0)
        rc = publish(store, view, 1, err);
    if (rc == 0) /* the runners claim it as soon as it commits */
        rc = work_signal_publish(store, err);
    if (rc == 0)
        rc = store_tx_commit(store, err);
    if (rc != 0) {
        store_tx_rollback(store);
        json_decref(view);
        return -1;
    }
    *view_out = view;
    return 0;
}

/* AGYN_CONFLICT unless the stored row meets guard (see workload.h). */
static int check_guard(const json_t *current, const struct workload_guard *guard,
                       struct agyn_error *err) {
    const char *id = row_text(current, "id");
    const char *claimed_by = row_text(current, "claimed_by");
    const char *lease = row_text(current, "lease_expires_at");
    if (guard->claimed_by && (!claimed_by || strcmp(claimed_by, guard->claimed_by) != 0))
        return agyn_fail(err, AGYN_CONFLICT, "claimed_by", "workload %s is no longer claimed here",
                         id);
    if (guard->lease_expired_before && lease && strcmp(lease, guard->lease_expired_before) >= 0)
        return agyn_fail(err, AGYN_CONFLICT, "lease_expires_at",
                         "workload %s has a lease that has not run out", id);
    return 0;
}

int workload_save(struct store *store, json_t *workload, const char *previous_status,
                  struct agyn_error *err) {
    return workload_save_guarded(store, workload, previous_status, NULL, err);
}

int workload_save_guarded(struct store *store, json_t *workload, const char *previous_status,
                          const struct workload_guard *guard, struct agyn_error *err) {
    const char *id = row_text(workload, "id");
    char *containers = json_dumps(json_object_get(workload, "containers"), JSON_COMPACT);
    json_t *changes =
        json_pack("{s:O, s:O, s:O, s:s}", "status", json_object_get(workload, "status"),
                  "failure_reason", json_object_get(workload, "failure_reason"), "failure_message",
                  json_object_get(workload, "failure_message"), "containers", containers);
    free(containers);
    int rc = store_tx_begin(store, err);
    if (rc == 0 && (previous_status || guard)) {
        /* Only the writer that saw the current status may move it: a stop request
         * (starting -> stopping) is never overwritten by a runner still at "starting". */
        json_t *current = NULL;
        rc = store_get(store, &TABLE_WORKLOADS, NULL, id, &current, err);
        const char *now = rc == 0 ? row_text(current, "status") : NULL;
        if (rc == 0 && previous_status && (!now || strcmp(now, previous_status) != 0))
            rc = agyn_fail(err, AGYN_CONFLICT, "status", "workload %s is %s, not %s", id,
                           now ? now : "unknown", previous_status);
        if (rc == 0 && guard)
            rc = check_guard(current, guard, err);
        json_decref(current);
    }
    if (rc == 0)
        rc = store_update(store, &TABLE_WORKLOADS, NULL, id, changes, err);
    json_decref(changes);
    if (rc == 0) {
        json_t *row = NULL;
        rc = store_get(store, &TABLE_WORKLOADS, NULL, id, &row, err);
        if (rc == 0) {
            json_object_set(workload, "updated_at", json_object_get(row, "updated_at"));
            json_decref(row);
        }
    }
    const char *status = row_text(workload, "status");
    if (rc == 0)
        rc = publish(store, workload, previous_status && strcmp(previous_status, status) != 0, err);
    if (rc == 0)
        rc = store_tx_commit(store, err);
    if (rc != 0)
        store_tx_rollback(store);
    return rc;
}
