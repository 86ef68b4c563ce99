/* ingest_writer.c — a blob's write + hash thread behind a bounded ring (ingest_writer.h). */
#include "registry/ingest_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fd_write.h"
#include "base/clock.h"

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
    /* The thread's own: bytes written to the file since the last reset. */
    uint64_t file_bytes, kicked; /* kicked: bytes whose writeback has been started */
    int64_t write_us, hash_us, sync_us;
};

/* Writes and hashes one contiguous piece of the ring; false when the file could not take it. */
static bool consume(struct ingest_writer *w, const unsigned char *data, size_t len) {
    int64_t started = clock_monotonic_us();
    if (fd_write_all(w->fd, data, len) != 0)
        return false;
    int64_t written = clock_monotonic_us();
    if (EVP_DigestUpdate(w->sha, data, len) != 1)
        return false;
    int64_t hashed = clock_monotonic_us();
    w->write_us += written - started;
    w->hash_us += hashed - written;
    w->file_bytes += len;
    if (w->file_bytes - w->kicked >= INGEST_WRITER_KICK) { /* start writeback, do not wait */
        sync_file_range(w->fd, (off_t)w->kicked, (off_t)(w->file_bytes - w->kicked),
                        SYNC_FILE_RANGE_WRITE);
        w->kicked = w->file_bytes;
    }
    return true;
}

static void *writer_main(void *arg) {
    struct ingest_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->pushed == w->consumed && !w->stopping)
            pthread_cond_wait(&w->changed, &w->lock);
        if (w->stopping)
            break;
        size_t offset = (size_t)(w->consumed % INGEST_WRITER_RING);
        size_t len = (size_t)(w->pushed - w->consumed);
        if (len > INGEST_WRITER_RING - offset)
            len = INGEST_WRITER_RING - offset;
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
    w->ring = malloc(INGEST_WRITER_RING);
    w->fd = fd;
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
    while (w->consumed != w->pushed)
        pthread_cond_wait(&w->changed, &w->lock);
    int rc = w->failed ? -1 : 0;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

void ingest_writer_reset(struct ingest_writer *w) {
    ingest_writer_drain(w); /* the thread is idle from here until the next push */
    pthread_mutex_lock(&w->lock);
    w->failed = w->synced = false;
    w->file_bytes = w->kicked = 0;
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
