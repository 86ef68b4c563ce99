/* runtime_docker_events.c — following the engine's events and reconciling with it. */
#include "runner/runtime_docker_events.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/row.h"
#include "base/clock.h"
#include "base/log.h"
#include "runner/docker_client.h"
#include "runner/docker_spec.h"
#include "runner/runtime_docker.h"
#include "runner/runtime_docker_restarts.h"
#include "runner/workload.h"
#include "store/tables.h"
#include "core/xalloc.h"

#define LINE_MAX_BYTES 16384
#define RECONNECT_MAX_MS 5000

static struct store *watched_store;
static pthread_t thread;
static atomic_int stopping;
static atomic_int connected;
static bool running;

static void set_text(json_t *object, const char *key, const char *value) {
    json_object_set_new(object, key, value ? json_string(value) : json_null());
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* GET /containers/{id}/json; NULL when gone (*gone) or the engine failed. */
static json_t *inspect(const char *id, bool *gone) {
    char path[200];
    snprintf(path, sizeof path, "/containers/%s/json", id);
    struct docker_answer answer;
    struct agyn_error ignored;
    *gone = false;
    if (docker_call("GET", path, NULL, NULL, 10000, &answer, &ignored) != 0)
        return NULL;
    *gone = answer.status == 404;
    json_t *doc =
        answer.status == 200 ? json_loads(answer.body.data ? answer.body.data : "", 0, NULL) : NULL;
    docker_answer_free(&answer);
    return doc;
}

/* Stops (without removing: their logs stay readable) the pod's other running containers. */
static void end_pod(json_t *workload, const char *now) {
    size_t i;
    json_t *container;
    json_array_foreach(json_object_get(workload, "containers"), i, container) {
        const char *status = row_text(container, "status");
        const char *id = row_text(container, "container_id");
        if (!id || !status || strcmp(status, "running") != 0)
            continue;
        char path[200];
        snprintf(path, sizeof path, "/containers/%s/stop?t=%lld", id,
                 (runtime_docker_stop_grace_ms() + 999) / 1000);
        struct docker_answer answer;
        struct agyn_error ignored;
        if (docker_call("POST", path, NULL, NULL, runtime_docker_stop_grace_ms() + 30000, &answer,
                        &ignored) == 0)
            docker_answer_free(&answer);
        set_text(container, "status", "terminated");
        set_text(container, "reason", "Stopped");
        set_text(container, "finished_at", now);
    }
}

/* Records in workload (a view, status running) that container ended as state says (an
 * inspect's State, or NULL when the container vanished). Returns true when it changed. */
static bool record_end(json_t *workload, json_t *container, const json_t *state) {
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    const char *name = row_text(container, "name");
    const char *role = row_text(container, "role");
    bool main_container = role && strcmp(role, "main") == 0;
    char message[400];
    set_text(container, "status", "terminated");
    set_text(container, "finished_at", now);
    if (!state) {
        set_text(container, "reason", "ContainerMissing");
        snprintf(message, sizeof message, "container \"%s\" vanished from the engine", name);
        set_text(container, "message", message);
        end_pod(workload, now);
        set_text(workload, "status", "failed");
        set_text(workload, "failure_reason", "container_missing");
        set_text(workload, "failure_message", message);
        return true;
    }
    json_int_t code = row_int(state, "ExitCode");
    bool oom = json_is_true(json_object_get(state, "OOMKilled"));
    const char *reason = oom ? "OOMKilled" : code == 0 ? "Completed" : "Error";
    json_object_set_new(container, "exit_code", json_integer(code));
    set_text(container, "reason", reason);
    snprintf(message, sizeof message, "container \"%s\" exited with code %lld (%s)", name,
             (long long)code, reason);
    set_text(container, "message", code == 0 && !oom ? NULL : message);
    if (docker_restart_wanted(workload, code, oom)) {
        char why[100];
        snprintf(why, sizeof why, "exited with code %lld%s", (long long)code,
                 oom ? ", OOMKilled" : "");
        docker_restart_schedule(container, why);
        return true; /* the workload stays running while the container restarts */
    }
    if (!main_container)
        return true;
    end_pod(workload, now);
    bool ok = code == 0 && !oom;
    set_text(workload, "status", ok ? "succeeded" : "failed");
    set_text(workload, "failure_reason", ok ? NULL : "container_failed");
    set_text(workload, "failure_message", ok ? NULL : message);
    return true;
}

static void record_change(json_t *row, const char *container_id);

/* The engine says container (id) of workload_id ended or vanished: record it once the
 * runner's own start is saved. */
static void container_changed(const char *workload_id, const char *container_id) {
    json_t *row = NULL;
    struct agyn_error err = {0};
    for (int tries = 0; tries < 100 && !atomic_load(&stopping); tries++) {
        json_decref(row);
        row = NULL;
        if (store_get(watched_store, &TABLE_WORKLOADS, NULL, workload_id, &row, &err) != 0)
            return;
        const char *status = row_text(row, "status");
        if (!status || strcmp(status, "starting") != 0)
            break;
        sleep_ms(50); /* the runner is still starting the pod */
    }
    /* Read again under the lock the restarter writes under, so neither loses a change. */
    docker_workloads_lock();
    json_decref(row);
    row = NULL;
    if (store_get(watched_store, &TABLE_WORKLOADS, NULL, workload_id, &row, &err) != 0) {
        docker_workloads_unlock();
        return;
    }
    record_change(row, container_id);
    docker_workloads_unlock();
}

static void record_change(json_t *row, const char *container_id) {
    struct agyn_error err = {0};
    const char *status = row_text(row, "status");
    if (!status || strcmp(status, "running") != 0) {
        json_decref(row);
        return;
    }
    json_t *workload = workload_view(row);
    json_decref(row);
    const char *workload_id = row_text(workload, "id");
    size_t i;
    json_t *container;
    bool changed = false;
    json_array_foreach(json_object_get(workload, "containers"), i, container) {
        const char *id = row_text(container, "container_id");
        const char *own_status = row_text(container, "status");
        if (!id || strcmp(id, container_id) != 0 || !own_status ||
            strcmp(own_status, "running") != 0)
            continue;
        bool gone = false;
        json_t *doc = inspect(id, &gone);
        json_t *state = json_object_get(doc, "State");
        if ((state && !json_is_true(json_object_get(state, "Running"))) || gone)
            changed = record_end(workload, container, gone ? NULL : state);
        json_decref(doc);
        break;
    }
    if (changed && workload_save(watched_store, workload, "running", &err) != 0 &&
        err.code != AGYN_CONFLICT)
        log_kv("error", "saving workload failed", {"workload_id", workload_id},
               {"error", err.message});
    json_decref(workload);
}

struct event_stream {
    char line[LINE_MAX_BYTES];
    size_t len;
};

static void on_event(const char *line) {
    json_t *doc = json_loads(line, 0, NULL);
    json_t *actor = json_object_get(doc, "Actor");
    json_t *attributes = json_object_get(actor, "Attributes");
    const char *workload_id = row_text(attributes, DOCKER_LABEL_WORKLOAD);
    const char *id = row_text(actor, "ID");
    const char *action = row_text(doc, "Action");
    if (workload_id && id && action &&
        (strcmp(action, "die") == 0 || strcmp(action, "destroy") == 0))
        container_changed(workload_id, id);
    json_decref(doc);
}

static int on_chunk(void *ctx, const char *data, size_t len) {
    struct event_stream *s = ctx;
    if (atomic_load(&stopping))
        return 1;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' || s->len == sizeof s->line - 1) {
            s->line[s->len] = '\0';
            if (s->len)
                on_event(s->line);
            s->len = 0;
            continue;
        }
        s->line[s->len++] = data[i];
    }
    return 0;
}

/* Active workloads' containers that ended or vanished while nobody watched — those of this
 * node only when runner processes share the store (another node's containers are on another
 * engine). A runner back under its node name so fails the workloads whose containers its
 * engine lost instead of adopting them. */
static void reconcile_workloads(void) {
    struct store_filter filters[] = {{"status", "running"}, {"node", runtime_docker_node_name()}};
    struct store_query query = {.filters = filters, .filter_count = filters[1].value ? 2 : 1};
    json_t *rows = NULL;
    int64_t next = 0;
    struct agyn_error err;
    if (store_list(watched_store, &TABLE_WORKLOADS, &query, &rows, &next, &err) != 0)
        return;
    size_t i, j;
    json_t *row, *container;
    json_array_foreach(rows, i, row) {
        json_t *workload = workload_view(row);
        json_array_foreach(json_object_get(workload, "containers"), j, container) {
            const char *id = row_text(container, "container_id");
            if (id)
                container_changed(row_text(workload, "id"), id);
        }
        json_decref(workload);
    }
    json_decref(rows);
}

/* Engine containers with our labels whose workload is gone or stopped. */
static void remove_orphans(void) {
    struct docker_answer answer;
    struct agyn_error err;
    if (docker_call(
            "GET",
            "/containers/json?all=true&filters=%7B%22label%22%3A%5B%22" DOCKER_LABEL_WORKLOAD
            "%22%5D%7D",
            NULL, NULL, 10000, &answer, &err) != 0)
        return;
    json_t *list =
        answer.status == 200 ? json_loads(answer.body.data ? answer.body.data : "", 0, NULL) : NULL;
    docker_answer_free(&answer);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        const char *workload_id = row_text(json_object_get(item, "Labels"), DOCKER_LABEL_WORKLOAD);
        const char *id = row_text(item, "Id");
        json_t *row = NULL;
        agyn_error_clear(&err);
        int rc = store_get(watched_store, &TABLE_WORKLOADS, NULL, workload_id ? workload_id : "",
                           &row, &err);
        const char *status = rc == 0 ? row_text(row, "status") : NULL;
        bool orphan =
            (rc != 0 && err.code == AGYN_NOT_FOUND) || (status && strcmp(status, "stopped") == 0);
        if (orphan && id) {
            log_kv("info", "removing a container no workload owns", {"container_id", id},
                   {"workload_id", workload_id ? workload_id : ""});
            runtime_docker_remove(id, 0, &err);
        }
        json_decref(row);
    }
    json_decref(list);
}

static void *watch_loop(void *arg) {
    long backoff = 200;
    while (!atomic_load(&stopping)) {
        struct agyn_error err = {0};
        if (!docker_ping(&err)) {
            atomic_store(&connected, 0);
            sleep_ms(backoff);
            backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2;
            continue;
        }
        backoff = 200;
        struct event_stream *stream = xcalloc(1, sizeof *stream);
        atomic_store(&connected, 1);
        /* What happened while nobody watched is reconciled; the stream then replays from a
         * second before, so nothing falls between the two (a replayed end is recorded once:
         * only running containers change). The engine filters by type only: Podman (4.3)
         * answers a key-only label filter with no events at all, so on_event keeps the events
         * whose attributes carry our workload label. */
        char path[300];
        snprintf(path, sizeof path,
                 "/events?since=%lld&filters=%%7B%%22type%%22%%3A%%5B%%22container%%22%%5D%%7D",
                 (long long)(clock_now_unix_ms() / 1000 - 1));
        reconcile_workloads();
        remove_orphans();
        struct docker_answer answer;
        docker_stream("GET", path, NULL, NULL, on_chunk, stream, &answer, &err);
        docker_answer_free(&answer);
        free(stream);
        atomic_store(&connected, 0);
        if (!atomic_load(&stopping))
            sleep_ms(200);
    }
    return NULL;
}

int docker_events_watch(struct store *store, struct agyn_error *err) {
    watched_store = store;
    atomic_store(&stopping, 0);
    if (docker_restarts_start(store, err) != 0)
        return -1;
    if (pthread_create(&thread, NULL, watch_loop, NULL) != 0) {
        docker_restarts_stop();
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot start the engine event thread");
    }
    running = true;
    return 0;
}

void docker_events_unwatch(void) {
    if (!running)
        return;
    atomic_store(&stopping, 1);
    pthread_join(thread, NULL);
    docker_restarts_stop();
    running = false;
}

bool docker_events_connected(void) {
    return atomic_load(&connected) != 0;
}
