/* h_workload_logs.c — GET .../workloads/{id}/containers/{name}/logs: one container's stdout
 * and stderr as text/plain, followed live with follow=true; members may read. */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "core/row.h"
#include "api/input.h"
#include "api/log_stream.h"
#include "runner/docker_client.h"
#include "runner/runtime.h"
#include "runner/workload.h"
#include "store/tables.h"

static int parse_tail(struct api_request *req, long *tail, struct agyn_error *err) {
    const char *text = request_query(req, "tail");
    *tail = -1;
    if (!text || strcmp(text, "all") == 0)
        return 0;
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (!text[0] || *end || value < 0 || value > 1000000)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "tail",
                         "tail must be a number of lines from 0 to 1000000, or all");
    *tail = value;
    return 0;
}

static int find_container_id(struct api_request *req, char *out, size_t size,
                             struct agyn_error *err) {
    struct store_filter filters[] = {{"id", req->id}, {"organization_id", req->org_id}};
    struct store_query query = {.filters = filters, .filter_count = 2};
    json_t *row = NULL;
    if (store_find(req->app->store, &TABLE_WORKLOADS, &query, &row, err) != 0)
        return -1;
    if (!row)
        return agyn_fail(err, AGYN_NOT_FOUND, "id", "workload %s not found", req->id);
    json_t *workload = workload_view(row);
    json_decref(row);
    const char *id = NULL;
    bool found = false;
    size_t i;
    json_t *container;
    json_array_foreach(json_object_get(workload, "containers"), i, container) {
        const char *name = row_text(container, "name");
        if (name && strcmp(name, req->sub) == 0) {
            found = true;
            id = row_text(container, "container_id");
            break;
        }
    }
    int rc = 0;
    if (!found)
        rc = agyn_fail(err, AGYN_NOT_FOUND, "name", "workload %s has no container \"%s\"", req->id,
                       req->sub);
    else if (!id)
        rc = agyn_fail(err, AGYN_CONFLICT, "name",
                       "container \"%s\" has not run (no logs yet, or the runtime keeps none)",
                       req->sub);
    else
        snprintf(out, size, "%s", id);
    json_decref(workload);
    return rc;
}

HANDLER(h_workload_logs) {
    struct docker_logs_options options = {0};
    if (input_query_bool(req, "follow", &options.follow, err) != 0 ||
        input_query_bool(req, "timestamps", &options.timestamps, err) != 0 ||
        parse_tail(req, &options.tail, err) != 0)
        return -1;
    char container_id[80];
    if (find_container_id(req, container_id, sizeof container_id, err) != 0) {
        const struct runtime_backend *runtime = req->app->runtime;
        if (err->code == AGYN_CONFLICT && (!runtime || strcmp(runtime->name, "pull-only") == 0))
            agyn_fail(err, AGYN_CONFLICT, "name",
                      "no logs: this agynd runs the pull-only runtime, which pulls images and "
                      "runs no containers (agynd serve --runtime docker runs them)");
        return -1;
    }
    char path[200];
    snprintf(path, sizeof path, "/containers/%s/json", container_id);
    struct docker_answer answer;
    if (docker_call("GET", path, NULL, NULL, 5000, &answer, err) != 0)
        return -1;
    long status = answer.status;
    docker_answer_free(&answer);
    if (status == 404)
        return agyn_fail(err, AGYN_NOT_FOUND, "name", "container \"%s\" is gone from the engine",
                         req->sub);
    if (status != 200)
        return agyn_fail(err, AGYN_UNAVAILABLE, NULL, "container engine answered HTTP %ld", status);
    return log_stream_open(req, res, container_id, &options, err);
}
