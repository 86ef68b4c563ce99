/* event_tail.c — the shared in-memory tail of the event log that event streams serve from (see
 * event_tail.h): a ring of formatted frames in id order, filled by one reader. */
#include "api/event_tail.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/row.h"
#include "core/names.h"
#include "core/xalloc.h"
#include "store/event_log.h"
#include "store/tables.h"

#define REFRESH_BATCH 500

struct tail_entry {
    int64_t id;
    char organization_id[AGYN_UUID_LEN + 1];
    char *frame;
    size_t frame_len;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct tail_entry ring[EVENT_TAIL_MAX_EVENTS];
static size_t head;    /* index of the oldest entry */
static size_t count;   /* entries held */
static size_t bytes;   /* sum of their frame_len */
static bool filled;    /* start and newest are known */
static int64_t start;  /* the tail holds every event with start < id <= newest */
static int64_t newest; /* the highest id read */

static struct tail_entry *entry_at(size_t i) {
    return &ring[(head + i) % EVENT_TAIL_MAX_EVENTS];
}

static void drop_oldest_locked(void) {
    struct tail_entry *oldest = entry_at(0);
    start = oldest->id;
    bytes -= oldest->frame_len;
    free(oldest->frame);
    memset(oldest, 0, sizeof *oldest);
    head = (head + 1) % EVENT_TAIL_MAX_EVENTS;
    count--;
}

static void push_locked(struct tail_entry *entry) {
    if (count == EVENT_TAIL_MAX_EVENTS)
        drop_oldest_locked();
    *entry_at(count) = *entry;
    count++;
    bytes += entry->frame_len;
    while (bytes > EVENT_TAIL_MAX_BYTES && count > 1)
        drop_oldest_locked();
    newest = entry->id;
}

void event_tail_format(struct dynbuf *out, int64_t id, const char *type, const char *payload_json) {
    dynbuf_addf(out, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)id, type ? type : "message",
                payload_json ? payload_json : "{}");
}

/* Formats the events read and appends them; events at or below newest (none, as ids become
 * visible in order) are skipped so the ring stays sorted. */
static void append_events(json_t *events) {
    size_t n = json_array_size(events);
    struct tail_entry *entries = xcalloc(n ? n : 1, sizeof *entries);
    for (size_t i = 0; i < n; i++) {
        json_t *event = json_array_get(events, i);
        char *data = json_dumps(json_object_get(event, "payload"), JSON_COMPACT);
        struct dynbuf frame;
        dynbuf_init(&frame, 0, true); /* event payloads never carry secrets */
        entries[i].id = row_int(event, "id");
        event_tail_format(&frame, entries[i].id, row_text(event, "type"), data);
        free(data);
        const char *org = row_text(event, "organization_id");
        snprintf(entries[i].organization_id, sizeof entries[i].organization_id, "%s",
                 org ? org : "");
        entries[i].frame_len = frame.len;
        entries[i].frame = dynbuf_take(&frame);
    }
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < n; i++)
        if (filled && entries[i].id > newest)
            push_locked(&entries[i]);
        else
            free(entries[i].frame);
    pthread_rwlock_unlock(&lock);
    free(entries);
}

/* Drops what retention deleted (in this process or another): every id below oldest. */
static void forget_deleted(struct store *store) {
    struct agyn_error err = {0};
    int64_t oldest = 0;
    if (store_oldest_seq(store, &TABLE_EVENTS, &oldest, &err) != 0)
        return;
    pthread_rwlock_wrlock(&lock);
    while (count > 0 && entry_at(0)->id < oldest)
        drop_oldest_locked();
    pthread_rwlock_unlock(&lock);
}

int event_tail_refresh(struct store *store) {
    struct agyn_error err = {0};
    pthread_rwlock_rdlock(&lock);
    bool was_filled = filled;
    int64_t after = newest;
    pthread_rwlock_unlock(&lock);
    if (!was_filled) {
        int64_t last = 0;
        if (event_log_last_id(store, NULL, &last, &err) != 0)
            return -1;
        pthread_rwlock_wrlock(&lock);
        start = newest = last;
        filled = true;
        pthread_rwlock_unlock(&lock);
        return 0;
    }
    int added = 0;
    for (;;) {
        json_t *events = NULL;
        if (event_log_read_all(store, after, REFRESH_BATCH, &events, &err) != 0)
            return added ? added : -1;
        size_t n = json_array_size(events);
        if (n > 0)
            after = row_int(json_array_get(events, n - 1), "id");
        append_events(events);
        json_decref(events);
        added += (int)n;
        if (n < REFRESH_BATCH)
            break;
    }
    forget_deleted(store);
    return added;
}

/* The index of the first entry with an id above position (count when none). */
static size_t first_after_locked(int64_t position) {
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (entry_at(mid)->id <= position)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

int event_tail_read(const char *organization_id, int64_t *position, size_t max_events,
                    struct dynbuf *out) {
    pthread_rwlock_rdlock(&lock);
    if (!filled || *position < start) {
        pthread_rwlock_unlock(&lock);
        return -1;
    }
    int appended = 0;
    size_t i = first_after_locked(*position);
    for (; i < count && (size_t)appended < max_events; i++) {
        const struct tail_entry *entry = entry_at(i);
        if (strcmp(entry->organization_id, organization_id) == 0) {
            dynbuf_add(out, entry->frame, entry->frame_len);
            appended++;
        }
        *position = entry->id;
    }
    if (i == count && *position < newest)
        *position = newest;
    pthread_rwlock_unlock(&lock);
    return appended;
}

int64_t event_tail_newest(void) {
    pthread_rwlock_rdlock(&lock);
    int64_t value = filled ? newest : -1;
    pthread_rwlock_unlock(&lock);
    return value;
}

void event_tail_clear(void) {
    pthread_rwlock_wrlock(&lock);
    while (count > 0)
        drop_oldest_locked();
    head = 0;
    bytes = 0;
    filled = false;
    start = newest = 0;
    pthread_rwlock_unlock(&lock);
}
