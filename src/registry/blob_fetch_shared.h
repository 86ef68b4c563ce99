/* blob_fetch_shared.h — blob_fetch_all for pulls that run at the same time: each blob missing
 * from the content store is fetched by one pull (the one that claims its ingest lock,
 * blob_ingest_lock.h) and awaited by every other pull that needs it, in this process or in
 * another process on the same content store. A pull reaches this only after its own manifest
 * answered to its own credential, so waiting for another pull's fetch never lends a blob to a
 * credential that could not name it. */
#ifndef AGYN_REGISTRY_BLOB_FETCH_SHARED_H
#define AGYN_REGISTRY_BLOB_FETCH_SHARED_H

#include "registry/blob_fetch.h"

/* As blob_fetch_all (same arguments, errors and stats; a blob another pull fetched counts in
 * stats->blobs_cached). While every blob it still needs is being fetched by another pull, it
 * waits, and checks the session's cancel hook (the pull's deadline) at least every
 * BLOB_WAIT_POLL_MS: past it, PULL_TRANSIENT "... pull cancelled while waiting for blob ...".
 * When the fetcher fails, a waiter claims the blob and fetches it itself. */
int blob_fetch_shared(struct registry_session *session, struct content_store *store,
                      const char *repository, const struct descriptor *blobs, size_t count,
                      int max_parallel, struct blob_fetch_stats *stats, struct agyn_error *err);

/* How often a waiter looks again without a wake-up from this process: another process's
 * release is seen this late at most. */
#define BLOB_WAIT_POLL_MS 20

#endif
