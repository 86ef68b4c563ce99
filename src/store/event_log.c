/* event_log.c — append, read and wait on the event log. */
#include "store/event_log.h"

#include <stdbool.h>
#include <stdlib.h>

#include "base/generation.h"
#include "core/row.h"
#include "store/tables.h"

static struct generation generation = GENERATION_INIT;

int event_log_append(struct store *store, const char *organization_id, const char *type,
                     json_t *payload, struct agyn_error *err) {
    char *text = json_dumps(payload, JSON_COMPACT);
    json_t *row = json_pack("{s:s, s:s, s:s}", "organization_id", organization_id, "type", type,
                            "payload", text ? text : "{}");
    free(text);
    int rc = store_insert(store, &TABLE_EVENTS, row, err);
    json_decref(row);
    /* Other processes (API replicas, runners) are woken when it commits. */
    if (rc != 0 || store_notify(store, EVENT_LOG_CHANNEL, err) != 0)
        return -1;
    /* Readers woken now may not see the row yet; the commit that makes it visible wakes them
     * again. */
    store_after_commit(store, event_log_notify);
    event_log_notify();
    return 0;
}

/* Lists events after after_id from table (TABLE_EVENTS for one organization, or the
 * cross-organization view) as [{"id", "type", "payload", "created_at"}], with each event's
 * "organization_id" when with_organization. */
static int read_events(struct store *store, const struct store_table *table,
                       const char *organization_id, bool with_organization, int64_t after_id,
                       int limit, json_t **events_out, struct agyn_error *err) {
    struct store_query query = {.organization_id = organization_id,
                                .limit = limit,
                                .after_seq = after_id,
                                .include_seq = true};
    json_t *rows = NULL;
    int64_t next = 0;
    if (store_list(store, table, &query, &rows, &next, err) != 0)
        return -1;
    json_t *events = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *payload = json_loads(row_text(row, "payload"), 0, NULL);
        json_t *event =
            json_pack("{s:O, s:O, s:o, s:O}", "id", json_object_get(row, "seq"), "type",
                      json_object_get(row, "type"), "payload", payload ? payload : json_object(),
                      "created_at", json_object_get(row, "created_at"));
        if (with_organization)
            json_object_set(event, "organization_id", json_object_get(row, "organization_id"));
        json_array_append_new(events, event);
    }
    json_decref(rows);
    *events_out = events;
    return 0;
}

int event_log_read(struct store *store, const char *organization_id, int64_t after_id, int limit,
                   json_t **events_out, struct agyn_error *err) {
    return read_events(store, &TABLE_EVENTS, organization_id, false, after_id, limit, events_out,
                       err);
}

int event_log_read_all(struct store *store, int64_t after_id, int limit, json_t **events_out,
                       struct agyn_error *err) {
    return read_events(store, &TABLE_EVENTS_ALL_ORGANIZATIONS, NULL, true, after_id, limit,
                       events_out, err);
}

int event_log_last_id(struct store *store, const char *organization_id, int64_t *id_out,
                      struct agyn_error *err) {
    struct store_query query = {
        .organization_id = organization_id, .limit = 1, .include_seq = true, .newest_first = true};
    json_t *rows = NULL;
    int64_t next = 0;
    const struct store_table *table =
        organization_id ? &TABLE_EVENTS : &TABLE_EVENTS_ALL_ORGANIZATIONS;
    if (store_list(store, table, &query, &rows, &next, err) != 0)
        return -1;
    json_t *first = json_array_get(rows, 0);
    *id_out = first ? row_int(first, "seq") : 0;
    json_decref(rows);
    return 0;
}

void event_log_notify(void) {
    generation_bump(&generation);
}

uint64_t event_log_generation(void) {
    return generation_read(&generation);
}

void event_log_wait(uint64_t seen, int timeout_ms) {
    generation_wait(&generation, seen, timeout_ms);
}
