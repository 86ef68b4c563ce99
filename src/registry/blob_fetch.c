/* blob_fetch.c — parallel, verified, streaming blob downloads with curl multi (blob_fetch.h). */
#include "registry/blob_fetch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "core/byte_size.h"
#include "registry/pull_failure.h"
#include "registry/token_service.h"

#define ERROR_BODY_MAX (16 * 1024)
#define POLL_TIMEOUT_MS 1000
#define RECEIVE_BUFFER_BYTES (512L * 1024)

struct blob_fetch {
    struct registry_session *session;
    struct content_store *store;
    const char *repository;
    CURLM *multi;
    struct blob_fetch_stats *stats;
    int64_t started_us;
};

struct blob_transfer {
    struct blob_fetch *fetch;
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
    if (t->fetch->stats->bytes_received == 0)
        t->fetch->stats->first_byte_us = clock_monotonic_us() - t->fetch->started_us;
    t->fetch->stats->bytes_received += len;
    return len;
}

static void transfer_release(struct blob_transfer *t) {
    if (t->easy) {
        curl_multi_remove_handle(t->fetch->multi, t->easy);
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    secure_slist_free(t->headers);
    t->headers = NULL;
}

/* (Re)starts t at t->url: Authorization only on the registry's own origin. */
static int transfer_start(struct blob_transfer *t, struct agyn_error *err) {
    struct registry_session *s = t->fetch->session;
    transfer_release(t);
    t->too_large = t->write_failed = false;
    if (url_same_origin(s->base_url, t->url) &&
        registry_session_headers(s, NULL, &t->headers, err) != 0)
        return -1;
    t->generation = s->generation; /* after a renewal the headers may have brought */
    http_response_reset(&t->meta);
    if (content_store_ingest_restart(t->ingest) != 0)
        return pull_fail(err, PULL_TRANSIENT, "content store: cannot restart blob %s",
                         t->blob->digest);
    t->easy = http_easy_new(s->policy, t->url, t->errbuf);
    if (!t->easy)
        return pull_fail(err, PULL_TRANSIENT, "out of memory");
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    http_response_attach(t->easy, s->policy, &t->meta);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_blob_data);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    /* Fewer, larger reads and callbacks: the bytes go to the blob's writer thread in big
     * pieces (freed with the handle, so memory does not grow with the blob). */
    curl_easy_setopt(t->easy, CURLOPT_BUFFERSIZE, RECEIVE_BUFFER_BYTES);
    if (curl_multi_add_handle(t->fetch->multi, t->easy) != CURLM_OK)
        return pull_fail(err, PULL_TRANSIENT, "cannot start blob download");
    return 0;
}

static int transfer_begin(struct blob_transfer *t, struct agyn_error *err) {
    struct blob_fetch *f = t->fetch;
    http_response_init(&t->meta, ERROR_BODY_MAX);
    if (snprintf(t->url, sizeof t->url, "%s/v2/%s/blobs/%s", f->session->base_url, f->repository,
                 t->blob->digest) >= (int)sizeof t->url)
        return pull_fail(err, PULL_INVALID, "blob URL too long");
    if (content_store_ingest_begin(f->store, t->blob->digest, t->blob->size, &t->ingest, err) !=
        0) {
        pull_set_kind(err, PULL_TRANSIENT);
        return -1;
    }
    content_store_ingest_set_timing(t->ingest, &f->stats->ingest);
    return transfer_start(t, err);
}

/* A transfer ended: 0 = blob stored, 1 = restarted (redirect or refreshed token), -1 =
 * failure. */
static int transfer_done(struct blob_transfer *t, CURLcode result, struct agyn_error *err) {
    struct registry_session *s = t->fetch->session;
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
        if (http_redirect_target(t->easy, s->policy, t->url, next, sizeof next, &same_origin,
                                 err) != 0) {
            pull_set_kind(err, PULL_TRANSIENT);
            return -1;
        }
        snprintf(t->url, sizeof t->url, "%s", next);
        return transfer_start(t, err) == 0 ? 1 : -1;
    }
    if (status == 401 && !t->auth_retried && url_same_origin(s->base_url, t->url) &&
        registry_session_can_refresh(s)) {
        t->auth_retried = true;
        if (registry_session_refresh(s, t->generation, err) != 0)
            return -1;
        return transfer_start(t, err) == 0 ? 1 : -1;
    }
    if (status != 200) /* the body is shown only when the registry itself answered */
        return registry_session_fail_answer(s, t->url, status, t->meta.body.data, t->meta.body.len,
                                            err);
    uint64_t written = content_store_ingest_written(t->ingest);
    enum ingest_outcome outcome = content_store_ingest_commit(t->ingest, err);
    t->ingest = NULL;
    if (outcome != INGEST_COMMITTED) {
        pull_set_kind(err, PULL_TRANSIENT);
        return -1;
    }
    t->fetch->stats->bytes_downloaded += written;
    return 0;
}

static void transfer_free(struct blob_transfer *t) {
    transfer_release(t);
    content_store_ingest_abort(t->ingest);
    t->ingest = NULL;
    http_response_free(&t->meta);
}

/* Indexes of blobs to download: not stored yet, each digest once; *missing_bytes their sum. */
static size_t plan(struct blob_fetch *f, const struct descriptor *blobs, size_t count,
                   size_t *missing_blobs, uint64_t *missing_bytes) {
    size_t n = 0;
    *missing_bytes = 0;
    for (size_t i = 0; i < count; i++) {
        bool repeated = false;
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = strcmp(blobs[j].digest, blobs[i].digest) == 0;
        if (repeated)
            continue;
        if (content_store_has_blob(f->store, blobs[i].digest, blobs[i].size))
            f->stats->blobs_cached++;
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

static int run(struct blob_fetch *f, struct blob_transfer *transfers, size_t n, int max_parallel,
               struct agyn_error *err) {
    size_t next = 0;
    int active = 0;
    while (next < n || active > 0) {
        while (active < max_parallel && next < n) {
            if (transfer_begin(&transfers[next++], err) != 0)
                return -1;
            active++;
        }
        int running = 0;
        if (curl_multi_perform(f->multi, &running) != CURLM_OK)
            return pull_fail(err, PULL_TRANSIENT, "blob download failed");
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(f->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct blob_transfer *t = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            int rc = transfer_done(t, msg->data.result, err);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                transfer_release(t);
                active--;
            }
        }
        if (active > 0 && curl_multi_poll(f->multi, NULL, 0, POLL_TIMEOUT_MS, NULL) != CURLM_OK)
            return pull_fail(err, PULL_TRANSIENT, "blob download failed");
    }
    return 0;
}

int blob_fetch_all(struct registry_session *session, struct content_store *store,
                   const char *repository, const struct descriptor *blobs, size_t count,
                   int max_parallel, struct blob_fetch_stats *stats, struct agyn_error *err) {
    memset(stats, 0, sizeof *stats);
    struct blob_fetch f = {session, store, repository, NULL, stats, clock_monotonic_us()};
    size_t *missing_blobs = calloc(count ? count : 1, sizeof *missing_blobs);
    struct blob_transfer *transfers = calloc(count ? count : 1, sizeof *transfers);
    f.multi = curl_multi_init();
    if (!missing_blobs || !transfers || !f.multi) {
        free(missing_blobs);
        free(transfers);
        if (f.multi)
            curl_multi_cleanup(f.multi);
        return pull_fail(err, PULL_TRANSIENT, "out of memory");
    }
    uint64_t missing_bytes = 0;
    size_t n = plan(&f, blobs, count, missing_blobs, &missing_bytes);
    for (size_t i = 0; i < n; i++) {
        transfers[i].fetch = &f;
        transfers[i].blob = &blobs[missing_blobs[i]];
    }
    int rc = n > 0 ? reserve_free_space(store, missing_bytes, err) : 0;
    if (rc == 0 && n > 0) {
        rc = run(&f, transfers, n, max_parallel > 0 ? max_parallel : 1, err);
        stats->all_stored_us = clock_monotonic_us() - f.started_us;
        pthread_mutex_lock(&reservation_lock);
        reserved_bytes -= missing_bytes;
        pthread_mutex_unlock(&reservation_lock);
    }
    for (size_t i = 0; i < n; i++)
        transfer_free(&transfers[i]);
    curl_multi_cleanup(f.multi);
    free(transfers);
    free(missing_blobs);
    return rc;
}
