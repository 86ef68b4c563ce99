/* event_tail.h — this process's shared, bounded copy of the newest events of every
 * organization, so that one commit costs one store query however many event streams are open.
 *
 * One reader (the SSE ticker) calls event_tail_refresh when the event log's generation moves (a
 * local commit, or PostgreSQL NOTIFY from another process) and once a second: it reads every
 * event after the newest one it holds (event_log_read_all) and keeps the last
 * EVENT_TAIL_MAX_EVENTS events or EVENT_TAIL_MAX_BYTES bytes, each already formatted as an SSE
 * frame. The tail is complete over (start, newest]: every event with an id in that range is in
 * it, because events become visible in id order (event_log.h), and it drops at each refresh
 * what retention deleted (ids below store_oldest_seq), so it never serves an event the store
 * no longer keeps. Streams then copy out what is
 * newer than their own position and belongs to their organization (event_tail_read); a
 * position older than the start (a slow client, a Last-Event-ID far back) reads the store
 * instead, as before. */
#ifndef AGYN_API_EVENT_TAIL_H
#define AGYN_API_EVENT_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/dynbuf.h"
#include "store/store.h"

#define EVENT_TAIL_MAX_EVENTS 4096
#define EVENT_TAIL_MAX_BYTES (2u * 1024 * 1024)

/* Reads the events committed since the last refresh into the tail (the first call only notes
 * the newest id: the tail starts empty there) and returns how many it added, -1 on a store
 * error before any (the tail stays as it was; the next refresh tries again). Call from one
 * thread at a time. */
int event_tail_refresh(struct store *store);

/* Appends to out the frames of organization_id's events after *position, at most max_events,
 * and moves *position past every event it looked at (its organization's or not). Returns the
 * number of events appended, or -1 when the tail cannot answer: *position is older than its
 * start or it has not been filled yet (read the store instead). */
int event_tail_read(const char *organization_id, int64_t *position, size_t max_events,
                    struct dynbuf *out);

/* The newest event id the tail has seen, -1 before the first refresh. Every event with a lower
 * id was already visible when it was read, so a store read that starts after this call and
 * comes back short has seen all of them. */
int64_t event_tail_newest(void);

/* Appends one event as an SSE frame ("id:", "event:", "data:"; payload_json is compact). */
void event_tail_format(struct dynbuf *out, int64_t id, const char *type, const char *payload_json);

/* Frees the tail (at shutdown); the next refresh starts it again. */
void event_tail_clear(void);

#endif
