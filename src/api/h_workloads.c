/* h_workloads.c — workloads: start one for an agent (the runner picks it up), watch it, stop
 * it. Members may start and stop workloads. */
#include <string.h>

#include "api/handlers.h"
#include "core/row.h"
#include "api/input.h"
#include "runner/workload.h"
#include "store/event_log.h"
#include "store/tables.h"
#include "store/work_signal.h"

static const char *const STATUSES[] = {"starting",  "running", "stopping", "stopped",
                                       "succeeded", "failed",  NULL};

HANDLER(h_workloads_create) {
    static const char *const fields[] = {"agent_id", "restart_policy", NULL};
    const char *agent_id, *restart_policy;
    if (input_require_object(req, fields, err) != 0 ||
        input_uuid(req->body, "agent_id", true, &agent_id, err) != 0 ||
        input_string(req->body, "restart_policy", false, &restart_policy, err) != 0)
        return -1;
    if (restart_policy && strcmp(restart_policy, RESTART_NEVER) != 0 &&
        strcmp(restart_policy, RESTART_ON_FAILURE) != 0 &&
        strcmp(restart_policy, RESTART_ALWAYS) != 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "restart_policy",
                         "restart_policy must be never, on-failure or always");
    json_t *view = NULL;
    if (workload_create(req->app->store, req->org_id, agent_id, restart_policy,
                        req->app->config.quotas.active_workloads, &view, err) != 0)
        return -1;
    return respond_json(res, 201, view);
}

HANDLER(h_workloads_list) {
    struct store_filter filters[3] = {{"organization_id", req->org_id}};
    size_t count = 1;
    const char *agent_id = NULL, *status = request_query(req, "status");
    if (input_query_uuid(req, "agent_id", &agent_id, err) != 0)
        return -1;
    if (agent_id)
        filters[count++] = (struct store_filter){"agent_id", agent_id};
    if (status) {
        int known = 0;
        for (size_t i = 0; STATUSES[i]; i++)
            known |= strcmp(STATUSES[i], status) == 0;
        if (!known)
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, "status",
                             "status must be starting, running, stopping, stopped, succeeded "
                             "or failed");
        filters[count++] = (struct store_filter){"status", status};
    }
    struct store_query query = {.filters = filters, .filter_count = count};
    if (input_page(req, &query.limit, &query.after_seq, err) != 0)
        return -1;
    json_t *rows = NULL;
    int64_t next = 0;
    if (store_list(req->app->store, &TABLE_WORKLOADS, &query, &rows, &next, err) != 0)
        return -1;
    json_t *items = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_array_append_new(items, workload_view(row));
    }
    json_decref(rows);
    return respond_json(res, 200, output_page(items, next));
}

static int load_workload(struct api_request *req, json_t **row_out, struct agyn_error *err) {
    struct store_filter filters[] = {{"id", req->id}, {"organization_id", req->org_id}};
    struct store_query query = {.filters = filters, .filter_count = 2};
    if (store_find(req->app->store, &TABLE_WORKLOADS, &query, row_out, err) != 0)
        return -1;
    if (!*row_out)
        return agyn_fail(err, AGYN_NOT_FOUND, "id", "workload %s not found", req->id);
    return 0;
}

HANDLER(h_workloads_get) {
    json_t *row = NULL;
    if (load_workload(req, &row, err) != 0)
        return -1;
    json_t *view = workload_view(row);
    json_decref(row);
    return respond_json(res, 200, view);
}

/* Asks the runner to stop it: status "stopping" now, "stopped" once the runner is done.
 * Stopping a workload that already ended changes nothing. The status check and the change
 * are one transaction, and only status and stop_requested are written, so neither a runner
 * save in between nor this request can overwrite the other's work. */
HANDLER(h_workloads_stop) {
    if (req->body && input_require_object(req, (const char *const[]){NULL}, err) != 0)
        return -1;
    struct store *store = req->app->store;
    if (store_tx_begin(store, err) != 0)
        return -1;
    json_t *row = NULL, *view = NULL;
    int rc = load_workload(req, &row, err);
    const char *status = rc == 0 ? row_text(row, "status") : NULL;
    if (rc == 0 && (strcmp(status, "starting") == 0 || strcmp(status, "running") == 0)) {
        json_t *changes = json_pack("{s:s, s:i}", "status", "stopping", "stop_requested", 1);
        rc = store_update(store, &TABLE_WORKLOADS, NULL, req->id, changes, err);
        json_decref(changes);
        json_decref(row);
        row = NULL;
        if (rc == 0)
            rc = store_get(store, &TABLE_WORKLOADS, NULL, req->id, &row, err);
        if (rc == 0) {
            view = workload_view(row);
            rc = event_log_append(store, req->org_id, "workload.updated", view, err);
        }
        if (rc == 0)
            rc = event_log_append(store, req->org_id, "workload.status_changed", view, err);
        if (rc == 0) /* a runner claims the stop (the one starting it sees stop_requested) */
            rc = work_signal_publish(store, err);
    } else if (rc == 0) {
        view = workload_view(row);
    }
    json_decref(row);
    if (rc == 0)
        rc = store_tx_commit(store, err);
    if (rc != 0) {
        store_tx_rollback(store);
        json_decref(view);
        return -1;
    }
    return respond_json(res, 200, view);
}
