/* blob_fetch.h — downloading an image's blobs (config and layers) in parallel, at most
 * max_parallel at once, each on its own receiving thread: each blob streams into a
 * content-store ingest that hashes and counts it (memory does not grow with blob size) and is
 * renamed into place only when size and SHA-256 match. Blobs already in the store are not
 * fetched. Redirects to storage are followed without Authorization; a 401 from the registry
 * gets one token refresh and a retry. The caller's cancel hook is asked on the calling thread
 * only (every CANCEL_CHECK_MS of blob_fetch.c). */
#ifndef AGYN_REGISTRY_BLOB_FETCH_H
#define AGYN_REGISTRY_BLOB_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "registry/content_store.h"
#include "registry/manifest.h"
#include "registry/session.h"

struct blob_fetch_stats {
    uint64_t bytes_downloaded; /* blob bytes stored by this call */
    uint64_t bytes_received;   /* every blob byte that arrived, unfinished downloads included */
    int blobs_cached;          /* blobs found in the store already */
    /* The pull trace (AGYN_PULL_TRACE), microseconds: from the call to the first blob byte
     * and to the last blob committed, and where the ingests spent theirs (summed over blobs,
     * so they may exceed the wall time when blobs overlap). */
    int64_t first_byte_us, all_stored_us;
    struct ingest_timing ingest;
};

/* Adds part's counts and times to into; part's times count from offset_us into into's (the
 * first byte is the earliest of the two, all stored the latest). */
void blob_fetch_stats_add(struct blob_fetch_stats *into, const struct blob_fetch_stats *part,
                          int64_t offset_us);

/* Fetches every blob of blobs[0..count) missing from store from session's registry,
 * repository. First the declared sizes of the missing blobs must fit the content store's free
 * space (else PULL_TRANSIENT "not enough disk space ..."); a blob whose Content-Length or body
 * goes past its declared size is stopped at once (PULL_TRANSIENT). On failure the first error
 * wins, every other transfer is stopped and no partial blob is left behind: digest or size
 * mismatch, network, 5xx, 429 -> PULL_TRANSIENT with "blob sha256:... digest mismatch" and the
 * like; registry errors are classified as in pull_fail_response. */
int blob_fetch_all(struct registry_session *session, struct content_store *store,
                   const char *repository, const struct descriptor *blobs, size_t count,
                   int max_parallel, struct blob_fetch_stats *stats, struct agyn_error *err);

#endif
