/* blob_fetch.c — parallel, verified, streaming blob downloads (blob_fetch.h), one receiving
 * thread ("lane") per transfer in flight.
 *
 * Why lanes: a blob's bytes go to its ingest's writer thread through a bounded ring, and the
 * receiving thread waits while that ring is full. When one curl multi received every blob,
 * that wait stopped all the other transfers too: in a pull of 4 x 64 MiB the receiver was
 * blocked for half of the pull while the other writers and the registry sat idle (a quarter
 * of the machine's CPU unused). Each lane has its own curl multi (its own connection cache,
 * reused for the next blob it takes) and takes the next blob when its transfer ends.
 *
 * The calling thread coordinates: it starts the lanes, asks the pull's cancel hook every
 * CANCEL_CHECK_MS (the hook is not thread-safe: the runner's reads the database), and stops
 * every lane at the first failure or at cancellation; the first error wins. Calls on the
 * session are serialized by fetch->lock (session.h: used by one thread at a time).
 *
 *     lane:  take blob -> GET -+-> 200: stream into ingest -> commit -> take next blob
 *                              +-> 3xx: follow (no Authorization off origin) -> GET
 *                              +-> 401: one token refresh -> GET
 *                              +-> failure, or fetch stopping -> end */
#include "registry/blob_fetch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/generation.h"
#include "core/byte_size.h"
#include "net/egress.h"
#include "registry/pull_failure.h"
#include "registry/token_service.h"

#define ERROR_BODY_MAX (16 * 1024)
#define POLL_TIMEOUT_MS 1000
#define CANCEL_CHECK_MS 100
#define RECEIVE_BUFFER_BYTES (512L * 1024)

struct blob_fetch {
    struct registry_session *session;
    struct content_store *store;
    const char *repository;
    /* The session's policy with the lanes' cancel hook (fetch_stopping) in place of the
     * caller's: every lane's handles use it. */
    struct http_policy policy;
    int64_t started_us;
    int64_t deadline_ms; /* the calling thread's egress deadline, every lane's too */
    struct blob_lane *lanes;
    int lane_count;
    atomic_int lanes_running;
    struct generation lane_ended;
    atomic_bool stopping; /* a lane failed or the pull was cancelled: every lane ends */
    pthread_mutex_t lock; /* guards what follows, and every call on session */
    struct blob_transfer *transfers;
    size_t count, next;
    bool failed;
    struct agyn_error first_error;
};

/* One receiving thread and what it counted (summed into the caller's stats at the end). */
struct blob_lane {
    struct blob_fetch *fetch;
    CURLM *multi;
    pthread_t thread;
    struct blob_fetch_stats stats;
};

struct blob_transfer {
    struct blob_lane *lane; /* the lane that took it */
    const struct descriptor *blob;
    CURL *easy;
    struct curl_slist *headers;
    struct ingest *ingest;
    struct http_response meta; /* headers, and the body of an answer that is not 200 */
    char url[HTTP_URL_MAX];
    char errbuf[CURL_ERROR_SIZE];
    unsigned generation; /* the session's credential generation the request was sent with */
    int redirects;
    bool auth_retried;
    bool too_large;    /* more bytes arrived (or were announced) than the descriptor's size */
    bool write_failed; /* the content store could not take the bytes */
};

static long response_status(CURL *easy) {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* The body of a 200 goes to the ingest, never past the descriptor's size: a Content-Length
 * above it, or one byte more than it, stops the transfer (0 makes curl abort). */
static size_t on_blob_data(char *data, size_t size, size_t nmemb, void *userdata) {
    struct blob_transfer *t = userdata;
    size_t len = size * nmemb;
    if (response_status(t->easy) != 200) /* an error or redirect body: keep its start */
        return http_response_append(&t->meta, data, len) ? len : 0;
    curl_off_t announced = -1;
    if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK &&
        announced > 0 && (uint64_t)announced > t->blob->size) {
        t->too_large = true;
        return 0;
    }
    if (content_store_ingest_write(t->ingest, data, len) != 0) {
        if (len > t->blob->size - content_store_ingest_written(t->ingest))
            t->too_large = true;
        else
            t->write_failed = true;
        return 0;
    }
    struct blob_fetch_stats *stats = &t->lane->stats;
    if (stats->bytes_received == 0)
        stats->first_byte_us = clock_monotonic_us() - t->lane->fetch->started_us;
    stats->bytes_received += len;
    return len;
}

static void transfer_release(struct blob_transfer *t) {
    if (t->easy) {
        curl_multi_remove_handle(t->lane->multi, t->easy);
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    secure_slist_free(t->headers);
    t->headers = NULL;
}

/* (Re)starts t at t->url: Authorization only on the registry's own origin. */
static int transfer_start(struct blob_transfer *t, struct agyn_error *err) {
    struct blob_fetch *f = t->lane->fetch;
    struct registry_session *s = f->session;
    transfer_release(t);
    t->too_large = t->write_failed = false;
    pthread_mutex_lock(&f->lock);
    int rc = url_same_origin(s->base_url, t->url)
                 ? registry_session_headers(s, NULL, &t->headers, err)
                 : 0;
    t->generation = s->generation; /* after a renewal the headers may have brought */
    pthread_mutex_unlock(&f->lock);
    if (rc != 0)
        return -1;
    http_response_reset(&t->meta);
    if (content_store_ingest_restart(t->ingest) != 0)
        return pull_fail(err, PULL_TRANSIENT, "content store: cannot restart blob %s",
                         t->blob->digest);
    t->easy = http_easy_new(&f->policy, t->url, t->errbuf);
    if (!t->easy)
        return pull_fail(err, PULL_TRANSIENT, "out of memory");
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    http_response_attach(t->easy, &f->policy, &t->meta);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_blob_data);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    /* Fewer, larger reads and callbacks: the bytes go to the blob's writer thread in big
     * pieces (freed with the handle, so memory does not grow with the blob). */
    curl_easy_setopt(t->easy, CURLOPT_BUFFERSIZE, RECEIVE_BUFFER_BYTES);
    if (curl_multi_add_handle(t->lane->multi, t->easy) != CURLM_OK)
        return pull_fail(err, PULL_TRANSIENT, "cannot start blob download");
    return 0;
}

static int transfer_begin(struct blob_transfer *t, struct agyn_error *err) {
    struct blob_fetch *f = t->lane->fetch;
    http_response_init(&t->meta, ERROR_BODY_MAX);
    if (snprintf(t->url, sizeof t->url, "%s/v2/%s/blobs/%s", f->session->base_url, f->repository,
                 t->blob->digest) >= (int)sizeof t->url)
        return pull_fail(err, PULL_INVALID, "blob URL too long");
    if (content_store_ingest_begin(f->store, t->blob->digest, t->blob->size, &t->ingest, err) !=
        0) {
        pull_set_kind(err, PULL_TRANSIENT);
        return -1;
    }
    content_store_ingest_set_timing(t->ingest, &t->lane->stats.ingest);
    return transfer_start(t, err);
}

/* A transfer ended: 0 = blob stored, 1 = restarted (redirect or refreshed token), -1 =
 * failure. */
static int transfer_done(struct blob_transfer *t, CURLcode result, struct agyn_error *err) {
    struct blob_fetch *f = t->lane->fetch;
    struct registry_session *s = f->session;
    long status = response_status(t->easy);
    bool answered = result == CURLE_OK || (result == CURLE_WRITE_ERROR && t->meta.body_too_large);
    if (!answered) {
        if (t->too_large)
            return pull_fail(err, PULL_TRANSIENT,
                             "blob %s is larger than the %llu bytes its manifest says; the "
                             "download was stopped",
                             t->blob->digest, (unsigned long long)t->blob->size);
        if (t->write_failed)
            return pull_fail(err, PULL_TRANSIENT, "content store: cannot write blob %s",
                             t->blob->digest);
        char host[300] = "";
        http_url_host(t->url, host, sizeof host);
        http_transport_error(err, host, result, t->errbuf, &t->meta);
        pull_set_kind(err, PULL_TRANSIENT);
        return -1;
    }
    if (http_status_is_redirect(status)) {
        char next[HTTP_URL_MAX];
        bool same_origin;
        if (++t->redirects > HTTP_MAX_REDIRECTS)
            return pull_fail(err, PULL_TRANSIENT, "blob %s: too many redirects", t->blob->digest);
        if (http_redirect_target(t->easy, &f->policy, t->url, next, sizeof next, &same_origin,
                                 err) != 0) {
            pull_set_kind(err, PULL_TRANSIENT);
            return -1;
        }
        snprintf(t->url, sizeof t->url, "%s", next);
        return transfer_start(t, err) == 0 ? 1 : -1;
    }
    if (status == 401 && !t->auth_retried && url_same_origin(s->base_url, t->url)) {
        pthread_mutex_lock(&f->lock);
        bool refreshable = registry_session_can_refresh(s);
        int rc = refreshable ? registry_session_refresh(s, t->generation, err) : 0;
        pthread_mutex_unlock(&f->lock);
        if (rc != 0)
            return -1;
        if (refreshable) {
            t->auth_retried = true;
            return transfer_start(t, err) == 0 ? 1 : -1;
        }
    }
    if (status != 200) { /* the body is shown only when the registry itself answered */
        pthread_mutex_lock(&f->lock);
        registry_session_fail_answer(s, t->url, status, t->meta.body.data, t->meta.body.len, err);
        pthread_mutex_unlock(&f->lock);
        return -1;
    }
    uint64_t written = content_store_ingest_written(t->ingest);
    enum ingest_outcome outcome = content_store_ingest_commit(t->ingest, err);
    t->ingest = NULL;
    if (outcome != INGEST_COMMITTED) {
        pull_set_kind(err, PULL_TRANSIENT);
        return -1;
    }
    t->lane->stats.bytes_downloaded += written;
    return 0;
}

static void transfer_free(struct blob_transfer *t) {
    transfer_release(t);
    content_store_ingest_abort(t->ingest);
    t->ingest = NULL;
    http_response_free(&t->meta);
}

/* Indexes of blobs to download: not stored yet, each digest once; *missing_bytes their sum. */
static size_t plan(struct content_store *store, const struct descriptor *blobs, size_t count,
                   size_t *missing_blobs, uint64_t *missing_bytes, struct blob_fetch_stats *stats) {
    size_t n = 0;
    *missing_bytes = 0;
    for (size_t i = 0; i < count; i++) {
        bool repeated = false;
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = strcmp(blobs[j].digest, blobs[i].digest) == 0;
        if (repeated)
            continue;
        if (content_store_has_blob(store, blobs[i].digest, blobs[i].size))
            stats->blobs_cached++;
        else {
            missing_blobs[n++] = i;
            *missing_bytes += blobs[i].size;
        }
    }
    return n;
}

/* Bytes that pulls in progress in this process have reserved: several pulls that each fit the
 * free space must not together fill the disk (the database usually shares it). */
static pthread_mutex_t reservation_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t reserved_bytes;
#define FREE_SPACE_KEPT (64ull * 1024 * 1024) /* never promised to a pull: the database's */

/* Disk space is checked against what the manifest declares before the first byte, net of what
 * other pulls have reserved, and reserved until the pull ends (reservation_release): full now
 * is transient (space may be freed), unlike an image above the size limit. */
static int reserve_free_space(struct content_store *store, uint64_t missing_bytes,
                              struct agyn_error *err) {
    uint64_t free_bytes = 0;
    if (content_store_free_bytes(store, &free_bytes, err) != 0) {
        pull_set_kind(err, PULL_TRANSIENT);
        return -1;
    }
    pthread_mutex_lock(&reservation_lock);
    uint64_t promised = reserved_bytes + FREE_SPACE_KEPT;
    free_bytes = free_bytes > promised ? free_bytes - promised : 0;
    bool fits = missing_bytes <= free_bytes;
    if (fits)
        reserved_bytes += missing_bytes;
    pthread_mutex_unlock(&reservation_lock);
    if (fits)
        return 0;
    char needed[BYTE_SIZE_TEXT_MAX], available[BYTE_SIZE_TEXT_MAX];
    byte_size_format(missing_bytes, needed);
    byte_size_format(free_bytes, available);
    return pull_fail(err, PULL_TRANSIENT,
                     "not enough disk space for the image: its blobs still to download declare "
                     "%s (%llu bytes), the content store has %s free for it",
                     needed, (unsigned long long)missing_bytes, available);
}

/* Ends the fetch with err unless it has already ended (the first error wins), and wakes
 * every lane so that it stops. */
static void fetch_fail(struct blob_fetch *f, const struct agyn_error *err) {
    pthread_mutex_lock(&f->lock);
    if (!f->failed) {
        f->failed = true;
        f->first_error = *err;
    }
    pthread_mutex_unlock(&f->lock);
    atomic_store(&f->stopping, true);
    for (int i = 0; i < f->lane_count; i++)
        if (f->lanes[i].multi)
            curl_multi_wakeup(f->lanes[i].multi);
}

/* The lanes' cancel hook (http_policy.cancelled): a transfer in flight ends at once. */
static int fetch_stopping(void *ctx) {
    const struct blob_fetch *f = ctx;
    return atomic_load(&f->stopping);
}

/* The next blob to fetch, now lane's; NULL when none is left or the fetch is stopping. */
static struct blob_transfer *take_next(struct blob_fetch *f, struct blob_lane *lane) {
    struct blob_transfer *t = NULL;
    pthread_mutex_lock(&f->lock);
    if (!atomic_load(&f->stopping) && f->next < f->count) {
        t = &f->transfers[f->next++];
        t->lane = lane;
    }
    pthread_mutex_unlock(&f->lock);
    return t;
}

/* Downloads t on lane's multi, through redirects and a token refresh: 0 = stored. */
static int transfer_run(struct blob_lane *lane, struct blob_transfer *t, struct agyn_error *err) {
    struct blob_fetch *f = lane->fetch;
    if (transfer_begin(t, err) != 0)
        return -1;
    for (;;) {
        int running = 0;
        if (curl_multi_perform(lane->multi, &running) != CURLM_OK)
            return pull_fail(err, PULL_TRANSIENT, "blob download failed");
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(lane->multi, &left))) {
            if (msg->msg != CURLMSG_DONE || msg->easy_handle != t->easy)
                continue;
            int rc = transfer_done(t, msg->data.result, err);
            if (rc <= 0) {
                transfer_release(t);
                return rc;
            }
        }
        if (atomic_load(&f->stopping)) /* another lane's error is the one reported */
            return pull_fail(err, PULL_TRANSIENT, "blob download stopped");
        if (curl_multi_poll(lane->multi, NULL, 0, POLL_TIMEOUT_MS, NULL) != CURLM_OK)
            return pull_fail(err, PULL_TRANSIENT, "blob download failed");
    }
}

static void *lane_main(void *arg) {
    struct blob_lane *lane = arg;
    struct blob_fetch *f = lane->fetch;
    egress_set_thread_deadline_ms(f->deadline_ms);
    struct blob_transfer *t;
    struct agyn_error err = {0};
    while ((t = take_next(f, lane)))
        if (transfer_run(lane, t, &err) != 0) {
            fetch_fail(f, &err);
            break;
        }
    atomic_fetch_sub(&f->lanes_running, 1);
    generation_bump(&f->lane_ended);
    return NULL;
}

static bool caller_cancelled(const struct registry_session *s) {
    return s->policy->cancelled && s->policy->cancelled(s->policy->cancel_ctx);
}

/* Runs up to lane_count lanes until every blob is stored or the fetch failed; asks the
 * caller's cancel hook meanwhile, on this thread. */
static int run_lanes(struct blob_fetch *f, struct agyn_error *err) {
    int ready = 0; /* every lane's multi exists before any lane runs: fetch_fail wakes them */
    while (ready < f->lane_count && (f->lanes[ready].multi = curl_multi_init()))
        f->lanes[ready++].fetch = f;
    f->lane_count = ready;
    int started = 0;
    for (; started < ready; started++) {
        atomic_fetch_add(&f->lanes_running, 1);
        if (pthread_create(&f->lanes[started].thread, NULL, lane_main, &f->lanes[started]) != 0) {
            atomic_fetch_sub(&f->lanes_running, 1);
            break; /* the lanes started take every blob */
        }
    }
    if (started == 0)
        return pull_fail(err, PULL_TRANSIENT, "cannot start blob download");
    for (;;) {
        uint64_t seen = generation_read(&f->lane_ended);
        if (atomic_load(&f->lanes_running) == 0)
            break;
        generation_wait(&f->lane_ended, seen, CANCEL_CHECK_MS);
        if (atomic_load(&f->lanes_running) > 0 && !atomic_load(&f->stopping) &&
            caller_cancelled(f->session)) {
            struct agyn_error cancelled = {0};
            agyn_fail(&cancelled, AGYN_UNAVAILABLE, "", "registry %s: pull cancelled",
                      f->session->host);
            pull_set_kind(&cancelled, PULL_TRANSIENT);
            fetch_fail(f, &cancelled);
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(f->lanes[i].thread, NULL);
    if (f->failed) {
        *err = f->first_error;
        return -1;
    }
    return 0;
}

void blob_fetch_stats_add(struct blob_fetch_stats *into, const struct blob_fetch_stats *part,
                          int64_t offset_us) {
    into->bytes_downloaded += part->bytes_downloaded;
    into->bytes_received += part->bytes_received;
    into->blobs_cached += part->blobs_cached;
    if (part->first_byte_us &&
        (!into->first_byte_us || offset_us + part->first_byte_us < into->first_byte_us))
        into->first_byte_us = offset_us + part->first_byte_us;
    if (part->all_stored_us && offset_us + part->all_stored_us > into->all_stored_us)
        into->all_stored_us = offset_us + part->all_stored_us;
    into->ingest.write_us += part->ingest.write_us;
    into->ingest.hash_us += part->ingest.hash_us;
    into->ingest.verify_us += part->ingest.verify_us;
    into->ingest.sync_us += part->ingest.sync_us;
    into->ingest.rename_us += part->ingest.rename_us;
}

static void fetch_free(struct blob_fetch *f) {
    for (size_t i = 0; i < f->count; i++)
        transfer_free(&f->transfers[i]);
    for (int i = 0; i < f->lane_count; i++)
        if (f->lanes[i].multi)
            curl_multi_cleanup(f->lanes[i].multi);
    pthread_mutex_destroy(&f->lock);
    free(f->transfers);
    free(f->lanes);
}

int blob_fetch_all(struct registry_session *session, struct content_store *store,
                   const char *repository, const struct descriptor *blobs, size_t count,
                   int max_parallel, struct blob_fetch_stats *stats, struct agyn_error *err) {
    memset(stats, 0, sizeof *stats);
    struct blob_fetch f = {
        .session = session,
        .store = store,
        .repository = repository,
        .policy = *session->policy,
        .started_us = clock_monotonic_us(),
        .deadline_ms = egress_thread_deadline_ms(),
        .lane_ended = GENERATION_INIT,
        .lock = PTHREAD_MUTEX_INITIALIZER,
    };
    f.policy.cancelled = fetch_stopping;
    f.policy.cancel_ctx = &f;
    size_t *missing_blobs = calloc(count ? count : 1, sizeof *missing_blobs);
    f.transfers = calloc(count ? count : 1, sizeof *f.transfers);
    if (!missing_blobs || !f.transfers) {
        free(missing_blobs);
        fetch_free(&f);
        return pull_fail(err, PULL_TRANSIENT, "out of memory");
    }
    uint64_t missing_bytes = 0;
    f.count = plan(store, blobs, count, missing_blobs, &missing_bytes, stats);
    for (size_t i = 0; i < f.count; i++)
        f.transfers[i].blob = &blobs[missing_blobs[i]];
    free(missing_blobs);
    if (f.count == 0) {
        fetch_free(&f);
        return 0;
    }
    int rc = reserve_free_space(store, missing_bytes, err);
    if (rc == 0) {
        f.lane_count = max_parallel < 1 ? 1 : max_parallel;
        if ((size_t)f.lane_count > f.count)
            f.lane_count = (int)f.count;
        f.lanes = calloc((size_t)f.lane_count, sizeof *f.lanes);
        if (!f.lanes)
            f.lane_count = 0;
        rc = f.lanes ? run_lanes(&f, err) : pull_fail(err, PULL_TRANSIENT, "out of memory");
        for (int i = 0; i < f.lane_count; i++)
            blob_fetch_stats_add(stats, &f.lanes[i].stats, 0);
        stats->all_stored_us = clock_monotonic_us() - f.started_us;
        pthread_mutex_lock(&reservation_lock);
        reserved_bytes -= missing_bytes;
        pthread_mutex_unlock(&reservation_lock);
    }
    fetch_free(&f);
    return rc;
}
