/* blob_fetch_shared.c — rounds of claim, fetch, wait around blob_fetch_all
 * (blob_fetch_shared.h).
 *
 * A round, for the blobs this pull still needs: a blob now in the store is done (another pull
 * fetched it); one whose ingest lock this pull claims is fetched by it (blob_fetch_all on those
 * blobs, then their locks are released); the others are busy. A round that claimed nothing
 * waits for a release (or BLOB_WAIT_POLL_MS), then the next round begins — so a blob stored
 * by a fetcher that still downloads its other blobs is taken at once. Locks are held only
 * during blob_fetch_all and never while waiting, so two pulls cannot wait for each other. */
#include "registry/blob_fetch_shared.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "registry/blob_ingest_lock.h"
#include "registry/pull_failure.h"

struct shared_round {
    size_t *pending; /* indexes into blobs still needed */
    size_t pending_count;
    struct descriptor *claimed; /* blobs this round fetches */
    struct blob_ingest_lock **locks;
    size_t claimed_count;
    int64_t started_us; /* when blob_fetch_shared was called (the trace's times count from it) */
};

static void release_claims(struct shared_round *r) {
    for (size_t i = 0; i < r->claimed_count; i++)
        blob_ingest_lock_release(r->locks[i]);
    r->claimed_count = 0;
}

/* Sorts the pending blobs into done, claimed and (kept pending) busy. */
static int claim_round(struct content_store *store, const struct descriptor *blobs,
                       struct shared_round *r, struct blob_fetch_stats *stats,
                       struct agyn_error *err) {
    size_t busy = 0;
    for (size_t k = 0; k < r->pending_count; k++) {
        const struct descriptor *blob = &blobs[r->pending[k]];
        if (content_store_has_blob(store, blob->digest, blob->size)) {
            stats->blobs_cached++;
            continue;
        }
        struct blob_ingest_lock *lock = NULL;
        int claimed =
            blob_ingest_lock_try(content_store_ingest_dir(store), blob->digest, &lock, err);
        if (claimed < 0) {
            pull_set_kind(err, PULL_TRANSIENT);
            return -1;
        }
        if (claimed == 0) {
            r->pending[busy++] = r->pending[k];
            continue;
        }
        /* The previous holder may have stored it just before letting go. */
        if (content_store_has_blob(store, blob->digest, blob->size)) {
            blob_ingest_lock_release(lock);
            stats->blobs_cached++;
            continue;
        }
        r->claimed[r->claimed_count] = *blob;
        r->locks[r->claimed_count++] = lock;
    }
    r->pending_count = busy;
    return 0;
}

static bool cancelled(const struct registry_session *s) {
    return s->policy->cancelled && s->policy->cancelled(s->policy->cancel_ctx);
}

static int rounds(struct registry_session *session, struct content_store *store,
                  const char *repository, const struct descriptor *blobs, int max_parallel,
                  struct shared_round *r, struct blob_fetch_stats *stats, struct agyn_error *err) {
    while (r->pending_count > 0) {
        unsigned long seen = blob_ingest_lock_releases();
        if (claim_round(store, blobs, r, stats, err) != 0)
            return -1;
        if (r->claimed_count > 0) {
            struct blob_fetch_stats fetched;
            int64_t offset_us = clock_monotonic_us() - r->started_us;
            int rc = blob_fetch_all(session, store, repository, r->claimed, r->claimed_count,
                                    max_parallel, &fetched, err);
            release_claims(r);
            blob_fetch_stats_add(stats, &fetched, offset_us);
            if (rc != 0)
                return -1;
            continue;
        }
        if (r->pending_count == 0)
            break;
        if (cancelled(session))
            return pull_fail(err, PULL_TRANSIENT,
                             "registry %s: pull cancelled while waiting for blob %s, which "
                             "another pull is fetching",
                             session->host, blobs[r->pending[0]].digest);
        blob_ingest_lock_wait(seen, BLOB_WAIT_POLL_MS);
    }
    return 0;
}

int blob_fetch_shared(struct registry_session *session, struct content_store *store,
                      const char *repository, const struct descriptor *blobs, size_t count,
                      int max_parallel, struct blob_fetch_stats *stats, struct agyn_error *err) {
    memset(stats, 0, sizeof *stats);
    struct shared_round r = {.started_us = clock_monotonic_us()};
    size_t slots = count ? count : 1;
    r.pending = calloc(slots, sizeof *r.pending);
    r.claimed = calloc(slots, sizeof *r.claimed);
    r.locks = calloc(slots, sizeof *r.locks);
    int rc = 0;
    if (!r.pending || !r.claimed || !r.locks)
        rc = pull_fail(err, PULL_TRANSIENT, "out of memory");
    for (size_t i = 0; rc == 0 && i < count; i++) { /* each digest once */
        bool repeated = false;
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = strcmp(blobs[j].digest, blobs[i].digest) == 0;
        if (!repeated)
            r.pending[r.pending_count++] = i;
    }
    if (rc == 0)
        rc = rounds(session, store, repository, blobs, max_parallel, &r, stats, err);
    release_claims(&r); /* after a failure in claim_round */
    free(r.locks);
    free(r.claimed);
    free(r.pending);
    return rc;
}
