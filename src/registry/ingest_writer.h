/* ingest_writer.h — writes and hashes a large blob's bytes on a thread of its own, so the
 * thread receiving them (the blob's lane, blob_fetch.c) only copies them into a bounded ring
 * (INGEST_WRITER_RING bytes: memory does not grow with the blob). The file is written with
 * O_DIRECT where the file system allows it: no copy into the page cache and nothing left to
 * write back at the end, so the fsync the thread makes as soon as the last expected byte is
 * written is short, and the commit finds the blob on disk already. Measured on a quiet
 * machine (bench/pull.sh, 4 x 64 MiB): 0.28-0.30 s against 0.31-0.32 s through the page
 * cache, whose final fsyncs took 119-143 ms (summed) against 6-9 ms. Where O_DIRECT is refused
 * the file goes through the page cache and writeback is started (sync_file_range, not waited
 * for) every INGEST_WRITER_KICK bytes, so that the final fsync finds less to write. */
#ifndef AGYN_REGISTRY_INGEST_WRITER_H
#define AGYN_REGISTRY_INGEST_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define INGEST_WRITER_RING (1024 * 1024)
#define INGEST_WRITER_KICK (32 * 1024 * 1024)

struct ingest_writer;

/* Starts the thread that writes to fd and hashes into sha (both stay the caller's; neither is
 * touched by the caller until ingest_writer_drain or _stop returns). expected: the bytes the
 * complete file has. NULL when no thread could be started (the caller writes inline). */
struct ingest_writer *ingest_writer_start(int fd, EVP_MD_CTX *sha, uint64_t expected);
/* Copies data into the ring, waiting while it is full; -1 once a write has failed. */
int ingest_writer_push(struct ingest_writer *w, const void *data, size_t len);
/* Waits until everything pushed is written and hashed; -1 when a write failed. Afterwards the
 * caller may use fd and sha (e.g. to start over) and push again. */
int ingest_writer_drain(struct ingest_writer *w);
/* Forgets a failure and the early fsync (after the caller started the file over). */
void ingest_writer_reset(struct ingest_writer *w);
/* Whether the complete file was fsynced by the thread (valid after a drain). */
bool ingest_writer_synced(const struct ingest_writer *w);
/* Microseconds the thread spent writing, hashing and in fsync. */
void ingest_writer_times(const struct ingest_writer *w, int64_t *write_us, int64_t *hash_us,
                         int64_t *sync_us);
/* Stops the thread (dropping what it has not written) and frees w; NULL is ignored. */
void ingest_writer_stop(struct ingest_writer *w);

#endif
