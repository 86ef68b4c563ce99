/* content_store.h — the local content store, an OCI image layout: "oci-layout", "index.json"
 * and blobs/sha256/<hex>. Blobs (layers, configs, manifests) arrive through an ingest: a temp
 * file under ingest/ that is hashed and counted while written and renamed to its final name
 * only after its size and SHA-256 match (fsync first). So a blob under its final name is
 * trusted, and blobs are shared by every image that uses them. index.json is created empty;
 * this module does not record image names in it. */
#ifndef AGYN_REGISTRY_CONTENT_STORE_H
#define AGYN_REGISTRY_CONTENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct content_store;
struct ingest;

enum ingest_outcome {
    INGEST_COMMITTED = 0,
    INGEST_SIZE_MISMATCH,
    INGEST_DIGEST_MISMATCH,
    INGEST_IO_ERROR,
};

/* Opens (creating when missing, parents too) the layout at root; when no other process has it
 * open, deletes the partial downloads a previous process left under ingest/. Several
 * processes may share one store (blob_ingest_lock.h): each blob is fetched by one of them. */
int content_store_open(const char *root, struct content_store **out, struct agyn_error *err);
void content_store_close(struct content_store *store);

/* "<root>/ingest": partial downloads and the per-blob locks of blob_ingest_lock.h. */
const char *content_store_ingest_dir(const struct content_store *store);

/* Bytes an unprivileged writer may still put on the content directory's file system. */
int content_store_free_bytes(const struct content_store *store, uint64_t *free_out,
                             struct agyn_error *err);

/* Whether digest (a valid "sha256:<hex>") is stored; with size != UINT64_MAX the stored file
 * must also have that size. */
bool content_store_has_blob(struct content_store *store, const char *digest, uint64_t size);
/* "<root>/blobs/sha256/<hex>"; -1 for an invalid digest or a small buffer. */
int content_store_blob_path(const struct content_store *store, const char *digest, char *buf,
                            size_t size);

/* Starts writing the blob digest, expected to be size bytes. */
int content_store_ingest_begin(struct content_store *store, const char *digest, uint64_t size,
                               struct ingest **out, struct agyn_error *err);
/* Appends data; -1 on a write error or when more than the expected size arrives. */
int content_store_ingest_write(struct ingest *ingest, const void *data, size_t len);
uint64_t content_store_ingest_written(const struct ingest *ingest);
/* Discards what was written so far (a retried download starts over). */
int content_store_ingest_restart(struct ingest *ingest);
/* Verifies size and digest; on a match fsyncs and renames into place; otherwise deletes the
 * temp file. Always frees ingest. err: "blob sha256:... digest mismatch" and the like. */
enum ingest_outcome content_store_ingest_commit(struct ingest *ingest, struct agyn_error *err);
/* Deletes the temp file and frees ingest. */
void content_store_ingest_abort(struct ingest *ingest);

/* Where an ingest's time goes, in microseconds (the pull trace, AGYN_PULL_TRACE): writing to
 * the temp file, hashing, the digest check, fsync, and rename + directory fsync. */
struct ingest_timing {
    int64_t write_us, hash_us, verify_us, sync_us, rename_us;
};
/* From now on ingest adds its times to *timing (NULL: stops), which must outlive it. */
void content_store_ingest_set_timing(struct ingest *ingest, struct ingest_timing *timing);

/* Writes a whole blob (a manifest) through an ingest. */
enum ingest_outcome content_store_put(struct content_store *store, const char *digest,
                                      const void *data, size_t len, struct agyn_error *err);

#endif
