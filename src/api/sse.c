/* sse.c — streaming the event log over libmicrohttpd with suspend/resume; each stream ends
 * with its authority (see stream_authority.h). Streams serve new events from the process's
 * shared tail (event_tail.h), which the ticker refreshes with one store query per wake-up; a
 * stream behind the tail reads the store itself. */
#include "api/sse.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "core/row.h"
#include "core/xalloc.h"
#include "api/event_tail.h"
#include "api/stream_authority.h"
#include "base/clock.h"
#include "core/dynbuf.h"
#include "store/event_log.h"

#define HEARTBEAT_MS 15000
#define BATCH 100
/* How often a stream checks that its token or session still holds; a revocation in this
 * process (auth_cache_clear) makes every stream check at once. */
#define AUTHORITY_RECHECK_MS 2000

struct sse_stream {
    struct app *app;
    struct store *store;
    struct stream_authority authority;
    int64_t authority_checked_ms;
    uint64_t revocations_seen;
    int ending; /* the final "unauthorized" event is queued: end once it is written */
    struct MHD_Connection *connection;
    char org_id[AGYN_UUID_LEN + 1];
    /* Every event of the organization up to this id was sent (or was before Last-Event-ID);
     * it may pass the last id sent, as events of other organizations go by. */
    int64_t position;
    char *pending;
    size_t pending_len, pending_off;
    int64_t last_write_ms;
    int suspended;
    int closed;
    struct sse_stream *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sse_stream *streams;
static atomic_int shutting_down;
static pthread_t ticker;
static atomic_int ticker_running;
static struct store *tail_store;

/* Resumes every suspended stream; each resumed stream reads new events (or a heartbeat). */
static void resume_all(void *unused) {
    (void)unused;
    struct MHD_Connection *to_resume[256];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&lock);
        for (struct sse_stream *s = streams; s && n < 256; s = s->next)
            if (s->suspended && !s->closed) {
                s->suspended = 0;
                to_resume[n++] = s->connection;
            }
        pthread_mutex_unlock(&lock);
        for (size_t i = 0; i < n; i++)
            MHD_resume_connection(to_resume[i]);
        if (n < 256)
            return;
    }
}

/* Whenever the event log's generation moves (an append, its commit: store_tx_commit calls
 * event_log_notify(); another process's commit through store_subscribe) and once a second,
 * reads what was committed into the shared tail, then resumes every stream if it added events
 * or a second has passed since the last resume (heartbeats, authority checks, streams behind
 * the tail). The generation is taken before the read, so a commit during it wakes the ticker
 * again. With no stream open the tail is dropped: it costs neither memory nor queries. */
static void *tick(void *unused) {
    (void)unused;
    uint64_t seen = event_log_generation();
    int64_t resumed_ms = clock_monotonic_ms();
    while (!atomic_load(&shutting_down)) {
        event_log_wait(seen, 1000);
        seen = event_log_generation();
        if (atomic_load(&shutting_down))
            break;
        pthread_mutex_lock(&lock);
        int open = streams != NULL;
        pthread_mutex_unlock(&lock);
        int added = open ? event_tail_refresh(tail_store) : 0;
        /* No stream, or the store failed: drop the tail, so that streams read the store
         * themselves (and report nothing new) until a refresh fills it again. */
        if (!open || added < 0)
            event_tail_clear();
        int64_t now = clock_monotonic_ms();
        if (added != 0 || now - resumed_ms >= 1000) {
            resumed_ms = now;
            resume_all(NULL);
        }
    }
    return NULL;
}

static void resume_all_on_revocation(void) {
    resume_all(NULL);
}

void sse_start(struct store *store) {
    atomic_store(&shutting_down, 0);
    tail_store = store;
    auth_set_revocation_listener(resume_all_on_revocation);
    if (pthread_create(&ticker, NULL, tick, NULL) == 0)
        atomic_store(&ticker_running, 1);
}

void sse_stop(void) {
    pthread_mutex_lock(&lock);
    atomic_store(&shutting_down, 1);
    pthread_mutex_unlock(&lock);
    auth_set_revocation_listener(NULL);
    /* Every stream must end before the HTTP daemon stops: libmicrohttpd refuses to stop with
     * suspended connections. Resumed streams read END_OF_STREAM and are freed. */
    for (int waited = 0; waited < 3000; waited += 20) {
        resume_all(NULL);
        pthread_mutex_lock(&lock);
        int open = streams != NULL;
        pthread_mutex_unlock(&lock);
        if (!open)
            break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    event_log_notify(); /* wakes the ticker */
    if (atomic_exchange(&ticker_running, 0))
        pthread_join(ticker, NULL);
    event_tail_clear();
}

/* Appends the organization's events after s->position from the store (the stream is behind
 * the shared tail, or it is not filled yet). A short read has seen every event up to the id
 * the tail had before it began (ids become visible in order), so the position moves there and
 * the next read can come from the tail. */
static void read_from_store(struct sse_stream *s, struct dynbuf *buf) {
    int64_t visible = event_tail_newest();
    json_t *events = NULL;
    struct agyn_error err = {0};
    if (event_log_read(s->store, s->org_id, s->position, BATCH, &events, &err) != 0)
        return;
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event) {
        char *data = json_dumps(json_object_get(event, "payload"), JSON_COMPACT);
        int64_t id = row_int(event, "id");
        event_tail_format(buf, id, row_text(event, "type"), data);
        free(data);
        s->position = id;
    }
    if (json_array_size(events) < BATCH && visible > s->position)
        s->position = visible;
    json_decref(events);
}

static void fill_pending(struct sse_stream *s) {
    free(s->pending);
    s->pending = NULL;
    s->pending_len = s->pending_off = 0;
    struct dynbuf buf;
    dynbuf_init(&buf, 0, true); /* event payloads never carry secrets */
    if (event_tail_read(s->org_id, &s->position, BATCH, &buf) < 0)
        read_from_store(s, &buf);
    if (buf.len == 0 && clock_monotonic_ms() - s->last_write_ms >= HEARTBEAT_MS)
        dynbuf_add_str(&buf, ": heartbeat\n\n");
    s->pending_len = buf.len;
    s->pending = buf.len ? dynbuf_take(&buf) : NULL;
    dynbuf_free(&buf);
}

/* Replaces what is pending with the stream's last event: "unauthorized", saying why. */
static void queue_unauthorized(struct sse_stream *s, const char *reason) {
    json_t *data = json_pack("{s:s, s:s}", "code", "unauthenticated", "message", reason);
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    free(s->pending);
    s->pending = NULL;
    s->pending_len = s->pending_off = 0;
    s->pending = xasprintf("event: unauthorized\ndata: %s\n\n", text ? text : "{}");
    s->pending_len = strlen(s->pending);
    free(text);
    s->ending = 1;
}

/* Checks the stream's token or session when due: every AUTHORITY_RECHECK_MS and after every
 * revocation (a check that held for another stream of the same authority within that time and
 * since the last revocation counts). A store error keeps the stream and checks again on the
 * next read. */
static void check_authority(struct sse_stream *s) {
    int64_t now = clock_monotonic_ms();
    uint64_t revocations = auth_revocation_count();
    if (s->revocations_seen == revocations && now - s->authority_checked_ms < AUTHORITY_RECHECK_MS)
        return;
    struct agyn_error err = {0};
    int64_t checked_ms = now;
    int holds = stream_authority_holds_shared(s->app, &s->authority, revocations, now,
                                              AUTHORITY_RECHECK_MS, &checked_ms, &err);
    if (holds < 0)
        return;
    s->revocations_seen = revocations;
    s->authority_checked_ms = checked_ms;
    if (holds == 0)
        queue_unauthorized(s, err.message);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max) {
    struct sse_stream *s = cls;
    (void)pos;
    if (atomic_load(&shutting_down))
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (s->ending && s->pending_off >= s->pending_len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (s->pending_off >= s->pending_len)
        check_authority(s); /* between events only: the final one never splits another */
    if (!s->ending && s->pending_off >= s->pending_len)
        fill_pending(s);
    if (s->pending_off < s->pending_len) {
        size_t n = s->pending_len - s->pending_off;
        if (n > max)
            n = max;
        memcpy(out, s->pending + s->pending_off, n);
        s->pending_off += n;
        s->last_write_ms = clock_monotonic_ms();
        return (ssize_t)n;
    }
    /* Checked again under the lock sse_stop takes: a stream never suspends after sse_stop
     * resumed everything, or it would hold MHD_stop_daemon up forever. */
    pthread_mutex_lock(&lock);
    if (atomic_load(&shutting_down)) {
        pthread_mutex_unlock(&lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    s->suspended = 1;
    MHD_suspend_connection(s->connection);
    pthread_mutex_unlock(&lock);
    return 0;
}

static void sse_free(void *cls) {
    struct sse_stream *s = cls;
    pthread_mutex_lock(&lock);
    for (struct sse_stream **p = &streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    pthread_mutex_unlock(&lock);
    free(s->pending);
    free(s);
}

int sse_open(struct api_request *req, struct api_response *res, int64_t last_id, bool events_lost,
             struct agyn_error *err) {
    struct sse_stream *s = xcalloc(1, sizeof *s);
    if (stream_authority_capture(req, &s->authority, err) != 0) {
        free(s);
        return -1;
    }
    s->app = req->app;
    s->authority_checked_ms = clock_monotonic_ms();
    s->revocations_seen = auth_revocation_count();
    s->store = req->app->store;
    s->connection = req->connection;
    snprintf(s->org_id, sizeof s->org_id, "%s", req->org_id);
    s->position = last_id;
    s->last_write_ms = clock_monotonic_ms();
    /* The first write is a comment, so clients see the stream open at once. */
    s->pending = xstrdup(events_lost ? ": connected\n\nevent: reset\ndata: {\"reason\":"
                                       "\"events after Last-Event-ID are no longer kept "
                                       "(--event-retention); reload the current state\"}\n\n"
                                     : ": connected\n\n");
    s->pending_len = strlen(s->pending);
    pthread_mutex_lock(&lock);
    s->next = streams;
    streams = s;
    pthread_mutex_unlock(&lock);
    res->status = 200;
    res->content_type = "text/event-stream";
    res->cache_control = "no-cache";
    res->stream_read = sse_read;
    res->stream_free = sse_free;
    res->stream_cls = s;
    return 0;
}
