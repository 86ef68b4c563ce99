/* runtime_docker_restarts.c — restart_policy: containers waiting in CrashLoopBackOff are
 * started again when their back-off ends, by one restarter thread. */
#include "runner/runtime_docker_restarts.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/row.h"
#include "base/clock.h"
#include "base/log.h"
#include "core/duration.h"
#include "runner/docker_client.h"
#include "runner/runtime_docker.h"
#include "runner/workload.h"
#include "store/tables.h"

#define IDLE_RESCAN_MS 5000 /* a restart scheduled by another process is seen this late */

static pthread_mutex_t workloads_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond;
static bool woken;
static atomic_int stopping;
static bool running;
static pthread_t thread;
static struct store *watched_store;

static void set_text(json_t *object, const char *key, const char *value) {
    json_object_set_new(object, key, value ? json_string(value) : json_null());
}

void docker_workloads_lock(void) {
    pthread_mutex_lock(&workloads_lock);
}

void docker_workloads_unlock(void) {
    pthread_mutex_unlock(&workloads_lock);
}

static void wake(void) {
    pthread_mutex_lock(&wake_lock);
    woken = true;
    pthread_cond_signal(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
}

bool docker_restart_wanted(const json_t *workload, long long exit_code, bool oom_killed) {
    const char *policy = row_text(workload, "restart_policy");
    if (!policy)
        return false;
    if (strcmp(policy, RESTART_ALWAYS) == 0)
        return true;
    return strcmp(policy, RESTART_ON_FAILURE) == 0 && (exit_code != 0 || oom_killed);
}

void docker_restart_schedule(json_t *container, const char *why) {
    long long restarts = json_integer_value(json_object_get(container, "restart_count"));
    long long wait_ms = runtime_docker_crash_backoff_ms(restarts);
    char at[RFC3339_LEN], wait[DURATION_TEXT_MAX], message[600];
    clock_format_rfc3339(clock_now_unix_ms() + wait_ms, at);
    duration_format_ms(wait_ms, wait);
    snprintf(message, sizeof message, "back-off %s restarting container \"%s\" (%s)", wait,
             row_text(container, "name") ? row_text(container, "name") : "", why);
    set_text(container, "status", "waiting");
    set_text(container, "reason", "CrashLoopBackOff");
    set_text(container, "message", message);
    set_text(container, "restart_at", at);
    wake(); /* the restarter rescans once the caller, holding the workloads lock, has saved */
}

/* POST path to the engine; the answer's status, or -1 when the engine cannot be reached. */
static long engine_post(const char *path, long timeout_ms, char *message, size_t size) {
    struct docker_answer answer;
    struct agyn_error err = {0};
    if (docker_call("POST", path, NULL, NULL, timeout_ms, &answer, &err) != 0) {
        snprintf(message, size, "%s", err.message);
        return -1;
    }
    long status = answer.status;
    docker_answer_message(&answer, message, size);
    docker_answer_free(&answer);
    return status;
}

/* The pod's other running containers follow a restarted main container into its new
 * network namespace. */
static void rejoin_pod(json_t *workload, const json_t *main_container) {
    size_t i;
    json_t *container;
    json_array_foreach(json_object_get(workload, "containers"), i, container) {
        const char *id = row_text(container, "container_id");
        const char *status = row_text(container, "status");
        if (container == main_container || !id || !status || strcmp(status, "running") != 0)
            continue;
        char path[200], message[300];
        snprintf(path, sizeof path, "/containers/%s/restart?t=%lld", id,
                 (runtime_docker_stop_grace_ms() + 999) / 1000);
        engine_post(path, (long)runtime_docker_stop_grace_ms() + 30000, message, sizeof message);
    }
}

/* Starts container (of workload, a view) again; its outcome goes into the view. */
static void restart_container(json_t *workload, json_t *container) {
    const char *id = row_text(container, "container_id");
    char path[200], message[600], now[RFC3339_LEN];
    snprintf(path, sizeof path, "/containers/%s/start", id ? id : "");
    long status = id ? engine_post(path, 60000, message, sizeof message) : 404;
    clock_now_rfc3339(now);
    json_object_del(container, "restart_at");
    if (status == 204 || status == 304) {
        json_object_set_new(
            container, "restart_count",
            json_integer(json_integer_value(json_object_get(container, "restart_count")) + 1));
        set_text(container, "status", "running");
        set_text(container, "reason", NULL);
        set_text(container, "message", NULL);
        set_text(container, "started_at", now);
        const char *role = row_text(container, "role");
        if (role && strcmp(role, "main") == 0)
            rejoin_pod(workload, container);
        return;
    }
    if (status == 404) { /* removed behind our back: nothing left to restart */
        char why[300];
        snprintf(why, sizeof why, "container \"%s\" vanished from the engine",
                 row_text(container, "name") ? row_text(container, "name") : "");
        set_text(container, "status", "terminated");
        set_text(container, "reason", "ContainerMissing");
        set_text(container, "message", why);
        set_text(workload, "status", "failed");
        set_text(workload, "failure_reason", "container_missing");
        set_text(workload, "failure_message", why);
        return;
    }
    /* The engine refused or was away: another back-off, counted as another restart. */
    json_object_set_new(
        container, "restart_count",
        json_integer(json_integer_value(json_object_get(container, "restart_count")) + 1));
    char why[700];
    snprintf(why, sizeof why, "restarting failed: %s", message);
    docker_restart_schedule(container, why);
}

/* Restarts what is due in one running workload row; returns the ms until its next restart
 * (-1: none). */
static long long restart_due(const json_t *row, int64_t now_ms) {
    json_t *workload = workload_view(row);
    long long next = -1;
    bool changed = false;
    size_t i;
    json_t *container;
    json_array_foreach(json_object_get(workload, "containers"), i, container) {
        int64_t at = 0;
        const char *reason = row_text(container, "reason");
        if (!reason || strcmp(reason, "CrashLoopBackOff") != 0 ||
            clock_parse_rfc3339(row_text(container, "restart_at"), &at) != 0)
            continue;
        if (at > now_ms) {
            next = next < 0 || at - now_ms < next ? at - now_ms : next;
            continue;
        }
        restart_container(workload, container);
        changed = true;
        if (clock_parse_rfc3339(row_text(container, "restart_at"), &at) == 0) /* rescheduled */
            next = next < 0 || at - now_ms < next ? at - now_ms : next;
    }
    struct agyn_error err = {0};
    if (changed && workload_save(watched_store, workload, "running", &err) != 0 &&
        err.code != AGYN_CONFLICT)
        log_kv("error", "saving workload failed", {"workload_id", row_text(workload, "id")},
               {"error", err.message});
    json_decref(workload);
    return next;
}

/* One pass over the running workloads; the ms until the next restart is due (-1: none). */
static long long scan(void) {
    struct store_filter filter = {"status", "running"};
    struct store_query query = {.filters = &filter, .filter_count = 1};
    json_t *rows = NULL;
    int64_t next_seq = 0;
    struct agyn_error err = {0};
    long long next = -1;
    docker_workloads_lock();
    if (store_list(watched_store, &TABLE_WORKLOADS, &query, &rows, &next_seq, &err) == 0) {
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            if (!strstr(row_text(row, "containers") ? row_text(row, "containers") : "",
                        "CrashLoopBackOff"))
                continue; /* nothing waits in this one: no need to parse it */
            long long due = restart_due(row, clock_now_unix_ms());
            next = due >= 0 && (next < 0 || due < next) ? due : next;
        }
    }
    docker_workloads_unlock();
    json_decref(rows);
    return next;
}

static void *restart_loop(void *arg) {
    (void)arg;
    while (!atomic_load(&stopping)) {
        long long next = scan();
        long long wait = next < 0 || next > IDLE_RESCAN_MS ? IDLE_RESCAN_MS : next;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(wait / 1000);
        until.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&wake_lock);
        while (!woken && !atomic_load(&stopping) &&
               pthread_cond_timedwait(&wake_cond, &wake_lock, &until) == 0) {
        }
        woken = false;
        pthread_mutex_unlock(&wake_lock);
    }
    return NULL;
}

int docker_restarts_start(struct store *store, struct agyn_error *err) {
    watched_store = store;
    atomic_store(&stopping, 0);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&thread, NULL, restart_loop, NULL) != 0)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot start the container restarter");
    running = true;
    return 0;
}

void docker_restarts_stop(void) {
    if (!running)
        return;
    atomic_store(&stopping, 1);
    wake();
    pthread_join(thread, NULL);
    pthread_cond_destroy(&wake_cond);
    running = false;
}
