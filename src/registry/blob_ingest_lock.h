/* blob_ingest_lock.h — which pull fetches a blob when several need it at once, in this process
 * and across processes that share one content store (as containerd's ingest locks do).
 *
 * A blob's fetcher holds its lock: an entry in this process's table of in-flight blobs AND an
 * exclusive flock on "<ingest dir>/<hex>.lock". Every other pull that needs the blob sees it
 * busy and waits (blob_ingest_lock_wait), then looks in the store again: the blob is there
 * (fetched for it) or, when the fetcher failed, it takes the lock and fetches the blob itself.
 *
 * States of one blob's lock, seen from a pull:
 *   free      no table entry, no flock held (the lock file may be absent)  -> try: claimed
 *   claimed   this pull holds the table entry and the flock                -> release: free
 *   busy      another pull of this process holds the entry, or another process the flock
 *             -> try again after blob_ingest_lock_wait
 * The holder unlinks the lock file before it unlocks it, so lock files do not pile up; a pull
 * that locked a file already unlinked sees another inode at the path and tries again.
 *
 * The content store's users hold a shared flock on "<root>/ingest.lock" while it is open;
 * the first user alone may delete the partial downloads a crash left under ingest/. On a file
 * system without flock only this process's table coordinates (one process per store). */
#ifndef AGYN_REGISTRY_BLOB_INGEST_LOCK_H
#define AGYN_REGISTRY_BLOB_INGEST_LOCK_H

#include "core/error.h"

struct blob_ingest_lock;

/* Tries to claim the fetch of digest ("sha256:<hex>") in the store whose ingest directory is
 * ingest_dir. 1: claimed (*out set, release it); 0: busy (another pull fetches it); -1: the
 * lock file cannot be used (err). Never blocks. */
int blob_ingest_lock_try(const char *ingest_dir, const char *digest, struct blob_ingest_lock **out,
                         struct agyn_error *err);
/* Gives up the claim (unlinks the lock file, unlocks it) and wakes this process's waiters. */
void blob_ingest_lock_release(struct blob_ingest_lock *lock);

/* How many claims this process has released so far: read it before trying, then wait with it,
 * so a release in between is not missed. */
unsigned long blob_ingest_lock_releases(void);
/* Returns when this process releases a claim after the seen-th, or after timeout_ms (the only
 * way to notice another process's release, and the waiter's chance to check its deadline). */
void blob_ingest_lock_wait(unsigned long seen, int timeout_ms);

/* Joins the users of a content store: a shared flock on lock_path, kept on *fd_out until
 * blob_ingest_store_leave. When no other process has the store open, when_alone(ctx) runs
 * first, under an exclusive lock: partial downloads under ingest/ are then leftovers of a
 * crash and may be deleted. */
int blob_ingest_store_join(const char *lock_path, void (*when_alone)(void *ctx), void *ctx,
                           int *fd_out, struct agyn_error *err);
void blob_ingest_store_leave(int fd);

#endif
