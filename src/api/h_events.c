/* h_events.c — GET /organizations/{org}/events: the organization's live event stream (SSE).
 * A reconnecting client sends Last-Event-ID (or ?last_event_id=) and first receives what it
 * missed; a new client starts from now (?last_event_id=0 replays everything kept). */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/sse.h"
#include "store/event_log.h"
#include "store/tables.h"

static int parse_id(const char *text, int64_t *out) {
    if (!text || !*text || strlen(text) > 18)
        return -1;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    *out = strtoll(text, NULL, 10);
    return 0;
}

HANDLER(h_events) {
    const char *header =
        MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "Last-Event-ID");
    const char *query = request_query(req, "last_event_id");
    int64_t last_id = 0;
    bool events_lost = false;
    if (header || query) {
        if (parse_id(header ? header : query, &last_id) != 0)
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, header ? "Last-Event-ID" : "last_event_id",
                             "the last event id must be a non-negative integer");
        /* Events are deleted oldest first: if the one after last_id is gone, some were lost. */
        int64_t oldest = 0;
        if (store_oldest_seq(req->app->store, &TABLE_EVENTS, &oldest, err) != 0)
            return -1;
        events_lost = last_id > 0 && last_id + 1 < oldest;
    } else if (event_log_last_id(req->app->store, req->org_id, &last_id, err) != 0) {
        return -1;
    }
    return sse_open(req, res, last_id, events_lost, err);
}
