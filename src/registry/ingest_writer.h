/* ingest_writer.h — writes and hashes a large blob's bytes on a thread of its own, so the
 * thread receiving them (curl's, which serves every parallel transfer of a pull) only copies
 * them into a bounded ring (INGEST_WRITER_RING bytes: memory does not grow with the blob).
 * The file is fsynced by the thread as soon as its last expected byte is written, so the
 * commit finds it on disk already and the blobs of a pull are synced in parallel. Writeback
 * is started (sync_file_range, not waited for) every INGEST_WRITER_KICK bytes, so the final
 * fsync finds little left to write. Measured on a quiet machine (bench/pull.sh, 4 x 64 MiB):
 * 32 MiB kicks cut the cold pull from 0.60 to 0.51 s; 8 MiB kicks made the writes themselves
 * wait on a busy disk (2x slower), so the kick stays large. */
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
