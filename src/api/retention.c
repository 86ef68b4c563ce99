/* retention.c — the retention thread and one pass of it (see retention.h). */
#include "api/retention.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/tables.h"
#include "core/xalloc.h"

#define DEFAULT_EVENT_RETENTION_MS (7LL * 24 * 60 * 60 * 1000)
#define DEFAULT_WORKLOAD_RETENTION_MS (30LL * 24 * 60 * 60 * 1000)
#define DEFAULT_INTERVAL_MS 60000LL
#define BATCH 500
#define BATCHES_PER_PASS 200 /* 100,000 rows a pass at most; the next pass goes on */

struct retention {
    struct store *store;
    struct retention_config config;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
};

static int prune_all(struct store *store, const struct store_table *table, const char *column,
                     const char *before, const struct store_filter *only, int *removed_out,
                     struct agyn_error *err) {
    int total = 0;
    for (int i = 0; i < BATCHES_PER_PASS; i++) {
        int removed = 0;
        if (store_prune(store, table, column, before, only, BATCH, &removed, err) != 0)
            return -1;
        total += removed;
        if (removed < BATCH)
            break;
    }
    if (removed_out)
        *removed_out = total;
    return 0;
}

int retention_run_once(struct store *store, const struct retention_config *config,
                       struct retention_counts *counts, struct agyn_error *err) {
    int64_t now = clock_now_unix_ms();
    char events_before[RFC3339_LEN], workloads_before[RFC3339_LEN], now_text[RFC3339_LEN];
    clock_format_rfc3339(now - (config->event_retention_ms > 0 ? config->event_retention_ms
                                                               : DEFAULT_EVENT_RETENTION_MS),
                         events_before);
    clock_format_rfc3339(now - (config->workload_retention_ms > 0 ? config->workload_retention_ms
                                                                  : DEFAULT_WORKLOAD_RETENTION_MS),
                         workloads_before);
    clock_format_rfc3339(now, now_text);
    struct retention_counts none = {0};
    if (!counts)
        counts = &none;
    if (prune_all(store, &TABLE_EVENTS, "created_at", events_before, NULL, &counts->events, err) !=
            0 ||
        prune_all(store, &TABLE_SESSIONS, "expires_at", now_text, NULL, &counts->sessions, err) !=
            0)
        return -1;
    /* Finished workloads only: one that is starting, running or stopping is never removed. */
    static const char *const finished[] = {"stopped", "failed", "succeeded"};
    counts->workloads = 0;
    for (size_t i = 0; i < sizeof finished / sizeof finished[0]; i++) {
        struct store_filter only = {"status", finished[i]};
        int removed = 0;
        if (prune_all(store, &TABLE_WORKLOADS, "updated_at", workloads_before, &only, &removed,
                      err) != 0)
            return -1;
        counts->workloads += removed;
    }
    /* The deletes went through the WAL. SQLite's own checkpoints restart it only when no
     * reader is in it, so under readers that never pause it would keep growing; this one
     * waits for them (briefly) and truncates it. */
    return store_reclaim(store, err);
}

static void *retention_main(void *arg) {
    struct retention *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        pthread_mutex_unlock(&r->lock);
        struct retention_counts counts = {0};
        struct agyn_error err = {0};
        if (retention_run_once(r->store, &r->config, &counts, &err) != 0)
            log_kv("warn", "retention pass failed", {"error", err.message});
        else if (counts.events || counts.sessions || counts.workloads) {
            char events[16], sessions[16], workloads[16];
            snprintf(events, sizeof events, "%d", counts.events);
            snprintf(sessions, sizeof sessions, "%d", counts.sessions);
            snprintf(workloads, sizeof workloads, "%d", counts.workloads);
            log_kv("info", "retention", {"events_deleted", events}, {"sessions_deleted", sessions},
                   {"workloads_deleted", workloads});
        }
        pthread_mutex_lock(&r->lock);
        if (r->stopping)
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(r->config.interval_ms / 1000);
        until.tv_nsec += (long)(r->config.interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->wake, &r->lock, &until);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int retention_start(struct store *store, const struct retention_config *config,
                    struct retention **out, struct agyn_error *err) {
    struct retention *r = xcalloc(1, sizeof *r);
    r->store = store;
    r->config = *config;
    if (r->config.event_retention_ms <= 0)
        r->config.event_retention_ms = DEFAULT_EVENT_RETENTION_MS;
    if (r->config.workload_retention_ms <= 0)
        r->config.workload_retention_ms = DEFAULT_WORKLOAD_RETENTION_MS;
    if (r->config.interval_ms <= 0) {
        int64_t shortest = r->config.event_retention_ms < r->config.workload_retention_ms
                               ? r->config.event_retention_ms
                               : r->config.workload_retention_ms;
        r->config.interval_ms = DEFAULT_INTERVAL_MS;
        if (shortest / 2 < r->config.interval_ms)
            r->config.interval_ms = shortest / 2 > 100 ? shortest / 2 : 100;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (pthread_create(&r->thread, NULL, retention_main, r) != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot start the retention thread");
    }
    *out = r;
    return 0;
}

void retention_stop(struct retention *r) {
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
