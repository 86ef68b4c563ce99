/* ingest_writer.c — a blob's write + hash thread behind a bounded ring (ingest_writer.h).
 *
 * With O_DIRECT the file takes whole 4 KiB blocks at aligned offsets from aligned memory: the
 * ring is aligned, the thread takes whole blocks only (a remainder waits for more bytes), and
 * the blob's last piece, or whatever is left when the producer drains (a blob that ended
 * short), is written through the page cache with O_DIRECT turned off. */
#include "registry/ingest_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"

#define DIRECT_ALIGN 4096 /* O_DIRECT pieces: offset, length and memory aligned to this */

struct ingest_writer {
    int fd;
    EVP_MD_CTX *sha;
    uint64_t expected;
    unsigned char *ring;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* data pushed, space freed, or stop */
    /* Guarded by lock: bytes ever pushed and ever consumed (their difference is in the ring). */
    uint64_t pushed, consumed;
    bool failed, synced, stopping;
    bool draining; /* the producer waits for the end: write what there is, aligned or not */
    /* The thread's own: bytes written to the file since the last reset, and whether it writes
     * them with O_DIRECT (no page-cache copy, no writeback left for the final fsync). */
    uint64_t file_bytes, kicked; /* kicked: bytes whose writeback has been started */
    bool direct;
    int64_t write_us, hash_us, sync_us;
};

static bool set_direct(int fd, bool on) {
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT) == 0;
}

/* Writes data at the end of the file. A piece that O_DIRECT cannot take (the file system does
 * not support it, or the piece is the blob's unaligned tail) goes through the page cache, and
 * so does the rest of the file. */
static bool write_piece(struct ingest_writer *w, const unsigned char *data, size_t len) {
    uint64_t offset = w->file_bytes;
    if (w->direct && len % DIRECT_ALIGN != 0)
        w->direct = !set_direct(w->fd, false);
    while (len > 0) {
        ssize_t n = pwrite(w->fd, data, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EINVAL && w->direct) {
            w->direct = !set_direct(w->fd, false);
            if (w->direct)
                return false;
            continue;
        }
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return true;
}

/* Writes and hashes one contiguous piece of the ring; false when the file could not take it. */
static bool consume(struct ingest_writer *w, const unsigned char *data, size_t len) {
    int64_t started = clock_monotonic_us();
    if (!write_piece(w, data, len))
        return false;
    int64_t written = clock_monotonic_us();
    if (EVP_DigestUpdate(w->sha, data, len) != 1)
        return false;
    int64_t hashed = clock_monotonic_us();
    w->write_us += written - started;
    w->hash_us += hashed - written;
    w->file_bytes += len;
    if (!w->direct && w->file_bytes - w->kicked >= INGEST_WRITER_KICK) { /* start writeback */
        sync_file_range(w->fd, (off_t)w->kicked, (off_t)(w->file_bytes - w->kicked),
                        SYNC_FILE_RANGE_WRITE);
        w->kicked = w->file_bytes;
    }
    return true;
}

/* Bytes the thread can take now (under lock): contiguous in the ring and, while writing with
 * O_DIRECT, whole blocks unless they end the blob or the producer is draining. */
static size_t ready_bytes(const struct ingest_writer *w) {
    size_t offset = (size_t)(w->consumed % INGEST_WRITER_RING);
    size_t len = (size_t)(w->pushed - w->consumed);
    if (len > INGEST_WRITER_RING - offset)
        len = INGEST_WRITER_RING - offset;
    if (w->direct && !w->draining && w->consumed + len != w->expected)
        len -= len % DIRECT_ALIGN;
    return len;
}

static void *writer_main(void *arg) {
    struct ingest_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        size_t len;
        while ((len = ready_bytes(w)) == 0 && !w->stopping)
            pthread_cond_wait(&w->changed, &w->lock);
        if (w->stopping)
            break;
        size_t offset = (size_t)(w->consumed % INGEST_WRITER_RING);
        bool failed = w->failed;
        pthread_mutex_unlock(&w->lock);
        bool ok = failed || consume(w, w->ring + offset, len);
        bool complete = ok && !failed && w->file_bytes == w->expected;
        bool synced = false;
        if (complete) { /* the last byte: on disk before the commit asks */
            int64_t started = clock_monotonic_us();
            synced = fsync(w->fd) == 0;
            w->sync_us += clock_monotonic_us() - started;
        }
        pthread_mutex_lock(&w->lock);
        w->failed |= !ok;
        w->synced |= synced;
        w->consumed += len;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct ingest_writer *ingest_writer_start(int fd, EVP_MD_CTX *sha, uint64_t expected) {
    struct ingest_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->ring = aligned_alloc(DIRECT_ALIGN, INGEST_WRITER_RING);
    w->fd = fd;
    w->direct = set_direct(fd, true);
    w->sha = sha;
    w->expected = expected;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    if (!w->ring || pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->changed);
        pthread_mutex_destroy(&w->lock);
        free(w->ring);
        free(w);
        return NULL;
    }
    return w;
}

int ingest_writer_push(struct ingest_writer *w, const void *data, size_t len) {
    const unsigned char *p = data;
    pthread_mutex_lock(&w->lock);
    while (len > 0 && !w->failed) {
        while (w->pushed - w->consumed == INGEST_WRITER_RING && !w->failed)
            pthread_cond_wait(&w->changed, &w->lock);
        if (w->failed)
            break;
        size_t offset = (size_t)(w->pushed % INGEST_WRITER_RING);
        size_t room = INGEST_WRITER_RING - (size_t)(w->pushed - w->consumed);
        size_t n = INGEST_WRITER_RING - offset; /* contiguous up to the ring's end */
        n = n < room ? n : room;
        n = n < len ? n : len;
        /* The thread reads only [consumed, pushed): this piece is ours until pushed moves. */
        pthread_mutex_unlock(&w->lock);
        memcpy(w->ring + offset, p, n);
        pthread_mutex_lock(&w->lock);
        w->pushed += n;
        p += n;
        len -= n;
        pthread_cond_broadcast(&w->changed);
    }
    int rc = w->failed ? -1 : 0;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int ingest_writer_drain(struct ingest_writer *w) {
    pthread_mutex_lock(&w->lock);
    w->draining = true; /* an unaligned remainder is written too */
    pthread_cond_broadcast(&w->changed);
    while (w->consumed != w->pushed)
        pthread_cond_wait(&w->changed, &w->lock);
    int rc = w->failed ? -1 : 0;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

void ingest_writer_reset(struct ingest_writer *w) {
    ingest_writer_drain(w); /* the thread is idle from here until the next push */
    pthread_mutex_lock(&w->lock);
    w->failed = w->synced = w->draining = false;
    w->file_bytes = w->kicked = 0;
    w->direct = set_direct(w->fd, true);
    pthread_mutex_unlock(&w->lock);
}

bool ingest_writer_synced(const struct ingest_writer *w) {
    return w->synced;
}

void ingest_writer_times(const struct ingest_writer *w, int64_t *write_us, int64_t *hash_us,
                         int64_t *sync_us) {
    *write_us = w->write_us;
    *hash_us = w->hash_us;
    *sync_us = w->sync_us;
}

void ingest_writer_stop(struct ingest_writer *w) {
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    free(w->ring);
    free(w);
}
