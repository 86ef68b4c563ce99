/* blob_ingest_lock.c — one fetcher per blob: this process's table of in-flight blobs (mutex
 * and condition variable) plus an flock per blob under the content store's ingest directory
 * for other processes (blob_ingest_lock.h has the states). */
#include "registry/blob_ingest_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "registry/manifest.h"

/* A lock whose file was unlinked between open and flock is tried again this often at most
 * before the blob counts as busy (a waiter comes back soon anyway). */
#define REOPEN_TRIES 4

struct blob_ingest_lock {
    struct blob_ingest_lock *next; /* in_flight list */
    int fd;                        /* -1 while the claim is being taken */
    char path[PATH_MAX + 80];
};

static pthread_mutex_t table_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released_cond;
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static struct blob_ingest_lock *in_flight; /* claims held (or being taken) by this process */
static unsigned long releases;

/* A file system without flock (some FUSE and network ones): this process's table alone
 * coordinates, as when one process owns the store. */
static bool flock_unsupported(int error) {
    return error == ENOLCK || error == EOPNOTSUPP || error == ENOSYS || error == EINVAL;
}

static void cond_init(void) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&released_cond, &attr);
    pthread_condattr_destroy(&attr);
}

/* Under table_mutex. */
static bool table_has(const char *path) {
    for (struct blob_ingest_lock *l = in_flight; l; l = l->next)
        if (strcmp(l->path, path) == 0)
            return true;
    return false;
}

/* Takes lock out of the table and wakes the waiters. */
static void table_remove(struct blob_ingest_lock *lock) {
    pthread_once(&cond_once, cond_init);
    pthread_mutex_lock(&table_mutex);
    for (struct blob_ingest_lock **p = &in_flight; *p; p = &(*p)->next)
        if (*p == lock) {
            *p = lock->next;
            break;
        }
    releases++;
    pthread_cond_broadcast(&released_cond);
    pthread_mutex_unlock(&table_mutex);
}

/* The flock on lock->path: 1 held (on the file now at that path), 0 another process holds it,
 * -1 error (errno). */
static int flock_path(struct blob_ingest_lock *lock) {
    for (int i = 0; i < REOPEN_TRIES; i++) {
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return -1;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int saved = errno;
            if (flock_unsupported(saved)) {
                lock->fd = fd;
                return 1;
            }
            close(fd);
            if (saved == EWOULDBLOCK)
                return 0;
            errno = saved;
            return -1;
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(lock->path, &now) == 0 && held.st_dev == now.st_dev &&
            held.st_ino == now.st_ino) {
            lock->fd = fd;
            return 1;
        }
        close(fd); /* its holder unlinked it before we locked it: the path has a new file */
    }
    return 0;
}

int blob_ingest_lock_try(const char *ingest_dir, const char *digest, struct blob_ingest_lock **out,
                         struct agyn_error *err) {
    *out = NULL;
    if (!digest_is_sha256(digest))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "", "invalid blob digest");
    struct blob_ingest_lock *lock = xcalloc(1, sizeof *lock);
    lock->fd = -1;
    if (snprintf(lock->path, sizeof lock->path, "%s/%s.lock", ingest_dir, digest + 7) >=
        (int)sizeof lock->path) {
        free(lock);
        return agyn_fail(err, AGYN_INTERNAL, "", "content store: ingest path too long");
    }
    pthread_mutex_lock(&table_mutex);
    bool busy = table_has(lock->path);
    if (!busy) { /* claimed in this process from here on, so its other pulls wait */
        lock->next = in_flight;
        in_flight = lock;
    }
    pthread_mutex_unlock(&table_mutex);
    if (busy) {
        free(lock);
        return 0;
    }
    int held = flock_path(lock);
    if (held == 1) {
        *out = lock;
        return 1;
    }
    int saved = errno;
    table_remove(lock);
    free(lock);
    if (held == 0)
        return 0;
    return agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot lock blob %s: %s", digest,
                     strerror(saved));
}

void blob_ingest_lock_release(struct blob_ingest_lock *lock) {
    if (!lock)
        return;
    /* Unlinked while still locked: whoever opens the path from now on gets a new file. */
    unlink(lock->path);
    close(lock->fd);
    table_remove(lock);
    free(lock);
}

unsigned long blob_ingest_lock_releases(void) {
    pthread_mutex_lock(&table_mutex);
    unsigned long n = releases;
    pthread_mutex_unlock(&table_mutex);
    return n;
}

void blob_ingest_lock_wait(unsigned long seen, int timeout_ms) {
    pthread_once(&cond_once, cond_init);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&table_mutex);
    while (releases == seen &&
           pthread_cond_timedwait(&released_cond, &table_mutex, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&table_mutex);
}

int blob_ingest_store_join(const char *lock_path, void (*when_alone)(void *ctx), void *ctx,
                           int *fd_out, struct agyn_error *err) {
    *fd_out = -1;
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot open %s: %s", lock_path,
                         strerror(errno));
    int alone = flock(fd, LOCK_EX | LOCK_NB);
    if (alone != 0 && flock_unsupported(errno)) {
        if (when_alone) /* one process per store, as before sharing */
            when_alone(ctx);
        *fd_out = fd;
        return 0;
    }
    if (alone == 0 && when_alone)
        when_alone(ctx);
    /* Converting to shared (or taking it, when another process is in): waits only while a
     * process that is alone cleans up. */
    int rc;
    while ((rc = flock(fd, LOCK_SH)) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
        int saved = errno;
        close(fd);
        return agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot lock %s: %s", lock_path,
                         strerror(saved));
    }
    *fd_out = fd;
    return 0;
}

void blob_ingest_store_leave(int fd) {
    if (fd >= 0)
        close(fd);
}
