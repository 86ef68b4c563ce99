/* sse.h — server-sent event streams of an organization's event log. Each stream replays the
 * events after its Last-Event-ID, then waits (its connection suspended, costing no thread)
 * until the ticker has read a commit into the process's shared tail of recent events
 * (event_tail.h: one store query per commit, however many streams) or a second has passed;
 * idle streams get a heartbeat comment
 * every 15 s. A stream checks its token or Console session every 2 s and at once after any
 * revocation in this process (token or organization deleted, sign-out); when it no longer
 * holds, the stream sends "event: unauthorized" with {"code", "message"} and ends. */
#ifndef AGYN_API_SSE_H
#define AGYN_API_SSE_H

#include <stdbool.h>
#include "api/request.h"
#include "store/store.h"

/* Starts the ticker, which refreshes the shared event tail from store; call once before
 * serving. */
void sse_start(struct store *store);
/* Ends every stream (they finish their current write) and stops the ticker. */
void sse_stop(void);
/* Turns res into an event stream of req->org_id starting after last_id. */
/* Streams the organization's events after last_id. With events_lost, the stream first sends
 * `event: reset`: events after last_id were deleted by retention, so the client should reload
 * the state it shows instead of trusting its replay. */
int sse_open(struct api_request *req, struct api_response *res, int64_t last_id, bool events_lost,
             struct agyn_error *err);

#endif
