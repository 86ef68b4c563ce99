/* content_store.c — the OCI image layout on disk and verified, atomic blob ingests
 * (content_store.h). */
#include "registry/content_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/clock.h"
#include "base/fd_write.h"
#include "core/xalloc.h"
#include "registry/blob_ingest_lock.h"
#include "registry/ingest_writer.h"
#include "registry/manifest.h"

/* Blobs from this size on are written and hashed by a thread of their own (ingest_writer.h). */
#define WRITER_MIN_BYTES (1024 * 1024)

#define OCI_LAYOUT_CONTENT "{\"imageLayoutVersion\":\"1.0.0\"}\n"
#define EMPTY_INDEX_CONTENT "{\"schemaVersion\":2,\"manifests\":[]}\n"

struct content_store {
    char root[PATH_MAX];
    char blobs_dir[PATH_MAX];
    char ingest_dir[PATH_MAX];
    int users_lock_fd; /* shared flock on "<root>/ingest.lock" while open (blob_ingest_lock.h) */
};

struct ingest {
    struct content_store *store;
    int fd;
    char tmp_path[PATH_MAX + 32];
    char digest[DIGEST_TEXT_MAX];
    uint64_t expected;
    uint64_t written;
    EVP_MD_CTX *sha;
    struct ingest_timing *timing; /* NULL: not timed */
    struct ingest_writer *writer; /* NULL: written inline */
};

static int mkdir_p(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Creates root/name with content unless it exists, atomically. */
static int ensure_file(const struct content_store *store, const char *name, const char *content,
                       struct agyn_error *err) {
    char path[PATH_MAX + 64], tmp[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", store->root, name);
    if (access(path, F_OK) == 0)
        return 0;
    snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", store->root, name);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot create %s: %s", name,
                         strerror(errno));
    int rc =
        fchmod(fd, 0644) == 0 && fd_write_all(fd, content, strlen(content)) == 0 && fsync(fd) == 0
            ? 0
            : -1;
    close(fd);
    if (rc == 0 && rename(tmp, path) == 0)
        return 0;
    int saved = errno;
    unlink(tmp);
    return agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot write %s: %s", name,
                     strerror(saved));
}

/* Deletes every file under ingest/: a download cut short by a crash or kill left it there.
 * Runs only while no other process has the store open (blob_ingest_store_join). */
static void remove_leftover_ingests(void *ctx) {
    const struct content_store *store = ctx;
    DIR *dir = opendir(store->ingest_dir);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        unlinkat(dirfd(dir), entry->d_name, 0);
    }
    closedir(dir);
}

int content_store_open(const char *root, struct content_store **out, struct agyn_error *err) {
    *out = NULL;
    if (!root || !root[0] || strlen(root) >= PATH_MAX - 64)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "content_dir",
                         "content store directory is missing or too long");
    struct content_store *store = xcalloc(1, sizeof *store);
    snprintf(store->root, sizeof store->root, "%s", root);
    snprintf(store->blobs_dir, sizeof store->blobs_dir, "%s/blobs/sha256", root);
    snprintf(store->ingest_dir, sizeof store->ingest_dir, "%s/ingest", root);
    if (mkdir_p(store->blobs_dir) != 0 || mkdir_p(store->ingest_dir) != 0) {
        agyn_fail(err, AGYN_INTERNAL, "content_dir", "content store: cannot create %s: %s", root,
                  strerror(errno));
        free(store);
        return -1;
    }
    if (ensure_file(store, "oci-layout", OCI_LAYOUT_CONTENT, err) != 0 ||
        ensure_file(store, "index.json", EMPTY_INDEX_CONTENT, err) != 0) {
        free(store);
        return -1;
    }
    char users_lock[PATH_MAX + 32];
    snprintf(users_lock, sizeof users_lock, "%s/ingest.lock", root);
    if (blob_ingest_store_join(users_lock, remove_leftover_ingests, store, &store->users_lock_fd,
                               err) != 0) {
        free(store);
        return -1;
    }
    *out = store;
    return 0;
}

int content_store_free_bytes(const struct content_store *store, uint64_t *free_out,
                             struct agyn_error *err) {
    struct statvfs st;
    if (statvfs(store->ingest_dir, &st) != 0)
        return agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot read free space: %s",
                         strerror(errno));
    uint64_t blocks = (uint64_t)st.f_bavail, block_size = (uint64_t)st.f_frsize;
    *free_out = block_size && blocks > UINT64_MAX / block_size ? UINT64_MAX : blocks * block_size;
    return 0;
}

const char *content_store_ingest_dir(const struct content_store *store) {
    return store->ingest_dir;
}

void content_store_close(struct content_store *store) {
    if (store)
        blob_ingest_store_leave(store->users_lock_fd);
    free(store);
}

int content_store_blob_path(const struct content_store *store, const char *digest, char *buf,
                            size_t size) {
    if (!digest_is_sha256(digest))
        return -1;
    int n = snprintf(buf, size, "%s/%s", store->blobs_dir, digest + 7);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

bool content_store_has_blob(struct content_store *store, const char *digest, uint64_t size) {
    char path[PATH_MAX + 80];
    struct stat st;
    if (content_store_blob_path(store, digest, path, sizeof path) != 0 || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return false;
    return size == UINT64_MAX || (uint64_t)st.st_size == size;
}

int content_store_ingest_begin(struct content_store *store, const char *digest, uint64_t size,
                               struct ingest **out, struct agyn_error *err) {
    *out = NULL;
    if (!digest_is_sha256(digest))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "", "invalid blob digest");
    struct ingest *ingest = xcalloc(1, sizeof *ingest);
    ingest->store = store;
    ingest->expected = size;
    snprintf(ingest->digest, sizeof ingest->digest, "%s", digest);
    snprintf(ingest->tmp_path, sizeof ingest->tmp_path, "%s/%.16s.XXXXXX", store->ingest_dir,
             digest + 7);
    ingest->sha = EVP_MD_CTX_new();
    ingest->fd = ingest->sha ? mkostemp(ingest->tmp_path, O_CLOEXEC) : -1;
    if (ingest->fd < 0 || fchmod(ingest->fd, 0644) != 0 ||
        EVP_DigestInit_ex(ingest->sha, EVP_sha256(), NULL) != 1) {
        agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot start blob %s: %s", digest,
                  strerror(errno));
        if (ingest->fd >= 0) {
            close(ingest->fd);
            unlink(ingest->tmp_path);
        }
        EVP_MD_CTX_free(ingest->sha);
        free(ingest);
        return -1;
    }
    if (size >= WRITER_MIN_BYTES)
        ingest->writer = ingest_writer_start(ingest->fd, ingest->sha, size);
    *out = ingest;
    return 0;
}

void content_store_ingest_set_timing(struct ingest *ingest, struct ingest_timing *timing) {
    ingest->timing = timing;
}

int content_store_ingest_write(struct ingest *ingest, const void *data, size_t len) {
    if (len > ingest->expected - ingest->written)
        return -1;
    if (ingest->writer) {
        if (ingest_writer_push(ingest->writer, data, len) != 0)
            return -1;
        ingest->written += len;
        return 0;
    }
    struct ingest_timing *timing = ingest->timing;
    int64_t started = timing ? clock_monotonic_us() : 0;
    if (fd_write_all(ingest->fd, data, len) != 0)
        return -1;
    int64_t written = timing ? clock_monotonic_us() : 0;
    if (EVP_DigestUpdate(ingest->sha, data, len) != 1)
        return -1;
    if (timing) {
        timing->write_us += written - started;
        timing->hash_us += clock_monotonic_us() - written;
    }
    ingest->written += len;
    return 0;
}

uint64_t content_store_ingest_written(const struct ingest *ingest) {
    return ingest->written;
}

int content_store_ingest_restart(struct ingest *ingest) {
    if (ingest->written == 0)
        return 0;
    if (ingest->writer)
        ingest_writer_reset(ingest->writer); /* idle until the next write */
    if (ftruncate(ingest->fd, 0) != 0 || lseek(ingest->fd, 0, SEEK_SET) != 0 ||
        EVP_DigestInit_ex(ingest->sha, EVP_sha256(), NULL) != 1)
        return -1;
    ingest->written = 0;
    return 0;
}

static void ingest_free(struct ingest *ingest, bool remove_file) {
    ingest_writer_stop(ingest->writer);
    if (ingest->fd >= 0)
        close(ingest->fd);
    if (remove_file)
        unlink(ingest->tmp_path);
    EVP_MD_CTX_free(ingest->sha);
    free(ingest);
}

void content_store_ingest_abort(struct ingest *ingest) {
    if (ingest)
        ingest_free(ingest, true);
}

enum ingest_outcome content_store_ingest_commit(struct ingest *ingest, struct agyn_error *err) {
    if (ingest->written != ingest->expected) {
        agyn_fail(err, AGYN_UNAVAILABLE, "", "blob %s size mismatch: expected %llu bytes, got %llu",
                  ingest->digest, (unsigned long long)ingest->expected,
                  (unsigned long long)ingest->written);
        ingest_free(ingest, true);
        return INGEST_SIZE_MISMATCH;
    }
    struct ingest_timing untimed = {0};
    struct ingest_timing *timing = ingest->timing ? ingest->timing : &untimed;
    bool synced = false;
    if (ingest->writer) { /* everything written and hashed, and fsynced as it completed */
        int drained = ingest_writer_drain(ingest->writer);
        int64_t write_us, hash_us, sync_us;
        ingest_writer_times(ingest->writer, &write_us, &hash_us, &sync_us);
        timing->write_us += write_us;
        timing->hash_us += hash_us;
        timing->sync_us += sync_us;
        synced = ingest_writer_synced(ingest->writer);
        ingest_writer_stop(ingest->writer);
        ingest->writer = NULL;
        if (drained != 0) {
            agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot write blob %s",
                      ingest->digest);
            ingest_free(ingest, true);
            return INGEST_IO_ERROR;
        }
    }
    int64_t started = clock_monotonic_us();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char actual[DIGEST_TEXT_MAX] = "sha256:";
    if (EVP_DigestFinal_ex(ingest->sha, md, &md_len) != 1 || md_len != 32) {
        agyn_fail(err, AGYN_INTERNAL, "", "blob %s: hashing failed", ingest->digest);
        ingest_free(ingest, true);
        return INGEST_IO_ERROR;
    }
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(actual + 7 + 2 * i, 3, "%02x", md[i]);
    if (strcmp(actual, ingest->digest) != 0) {
        agyn_fail(err, AGYN_UNAVAILABLE, "", "blob %s digest mismatch", ingest->digest);
        ingest_free(ingest, true);
        return INGEST_DIGEST_MISMATCH;
    }
    char final_path[PATH_MAX + 80];
    content_store_blob_path(ingest->store, ingest->digest, final_path, sizeof final_path);
    int64_t verified = clock_monotonic_us();
    timing->verify_us += verified - started;
    int rc = synced ? 0 : fsync(ingest->fd);
    int64_t on_disk = clock_monotonic_us();
    timing->sync_us += on_disk - verified;
    if (rc == 0)
        rc = rename(ingest->tmp_path, final_path) == 0 && fsync_dir(ingest->store->blobs_dir) == 0
                 ? 0
                 : -1;
    timing->rename_us += clock_monotonic_us() - on_disk;
    if (rc != 0) {
        agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot store blob %s: %s", ingest->digest,
                  strerror(errno));
        ingest_free(ingest, true);
        return INGEST_IO_ERROR;
    }
    ingest_free(ingest, false);
    return INGEST_COMMITTED;
}

enum ingest_outcome content_store_put(struct content_store *store, const char *digest,
                                      const void *data, size_t len, struct agyn_error *err) {
    struct ingest *ingest;
    if (content_store_ingest_begin(store, digest, len, &ingest, err) != 0)
        return INGEST_IO_ERROR;
    if (content_store_ingest_write(ingest, data, len) != 0) {
        agyn_fail(err, AGYN_INTERNAL, "", "content store: cannot write blob %s: %s", digest,
                  strerror(errno));
        content_store_ingest_abort(ingest);
        return INGEST_IO_ERROR;
    }
    return content_store_ingest_commit(ingest, err);
}
