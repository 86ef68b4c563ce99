/* event_log.h — the organization-scoped log of change events (workload.*, image_pull_secret.*,
 * attachment.*) that the SSE stream serves. Events are rows (their position is the SSE id, so a
 * reconnecting client replays what it missed from Last-Event-ID); appending also wakes the
 * in-process waiters. Payloads never carry secret values. */
#ifndef AGYN_STORE_EVENT_LOG_H
#define AGYN_STORE_EVENT_LOG_H

#include <stdint.h>

#include <jansson.h>

#include "core/error.h"
#include "store/store.h"

/* The store_notify channel of appends: subscribe event_log_notify to it
 * (store_subscribe(store, EVENT_LOG_CHANNEL, event_log_notify)) to wake this process's
 * readers when another process appends. */
#define EVENT_LOG_CHANNEL "agyn_events"

/* Appends {type, payload} (payload is borrowed) for organization_id. Inside a transaction the
 * event's readers are woken again when it commits (store_after_commit). */
int event_log_append(struct store *store, const char *organization_id, const char *type,
                     json_t *payload, struct agyn_error *err);
/* Events after after_id, oldest first, at most limit: [{"id", "type", "payload", "created_at"}]. */
int event_log_read(struct store *store, const char *organization_id, int64_t after_id, int limit,
                   json_t **events_out, struct agyn_error *err);
/* Events of every organization after after_id, oldest first, at most limit: the same objects
 * with each event's "organization_id". For this process's shared tail (api/event_tail.h) only:
 * whoever serves them filters by organization. With PostgreSQL every insert holds the write
 * lock until its commit (store_pg.c), so events become visible in id order: a reader that has
 * seen id N never later finds an id below N. */
int event_log_read_all(struct store *store, int64_t after_id, int limit, json_t **events_out,
                       struct agyn_error *err);
/* The newest event id of the organization, or of every organization when organization_id is
 * NULL (0 when none). */
int event_log_last_id(struct store *store, const char *organization_id, int64_t *id_out,
                      struct agyn_error *err);

/* A counter bumped by every append in this process; event_log_wait blocks until it differs
 * from seen or timeout_ms passes. */
uint64_t event_log_generation(void);
void event_log_wait(uint64_t seen, int timeout_ms);
/* Wakes every event_log_wait without appending (shutdown). */
void event_log_notify(void);

#endif
