/* retention.h — bounded growth of what accumulates: events older than the event retention,
 * finished workloads (stopped, failed, succeeded) not updated for the workload retention and
 * expired Console sessions are deleted, oldest first, in small batches, by one background
 * thread (every interval) so that no write transaction is long and the database stops growing
 * once it holds one retention window of activity; each pass ends with store_reclaim (SQLite:
 * the WAL checkpointed and truncated). Event streams that resume from an event that
 * was deleted are told so (`event: reset`, see sse.c). */
#ifndef AGYN_API_RETENTION_H
#define AGYN_API_RETENTION_H

#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

struct retention_config {
    int64_t event_retention_ms;    /* 0 = 7 days */
    int64_t workload_retention_ms; /* 0 = 30 days */
    int64_t interval_ms; /* 0 = a minute, or half the shorter retention when that is shorter */
};

struct retention_counts {
    int events, sessions, workloads;
};

struct retention;

/* Deletes what is due now; counts may be NULL. */
int retention_run_once(struct store *store, const struct retention_config *config,
                       struct retention_counts *counts, struct agyn_error *err);

int retention_start(struct store *store, const struct retention_config *config,
                    struct retention **out, struct agyn_error *err);
void retention_stop(struct retention *retention);

#endif
