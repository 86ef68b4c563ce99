/* keyring.c — the key-encryption keys: reading and strictly validating the JSON keyring file,
 * rewriting it atomically (temp file, fsync, rename, fsync dir) under an flock so concurrent
 * `keys add/remove` runs do not lose updates, and the in-memory keyring, guarded by a rwlock so
 * it can be reloaded while other threads seal and open values. Key material is wiped with
 * OPENSSL_cleanse wherever it passes through a buffer of ours; error messages never carry it. */
#include "crypto/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fd_write.h"
#include "core/row.h"
#include "core/xalloc.h"
#include "core/base64.h"
#include "core/secure_mem.h"

#define KEYRING_FILE_MAX_BYTES (1024 * 1024)
#define KEYRING_MAX_KEYS 1024
#define KEYRING_CREATED_AT_MAX 64
#define KEY_BASE64_LEN 44 /* standard base64 of 32 bytes, one '=' of padding */
#define LOCK_ATTEMPTS 100

/* One key as read from the file, before it is installed into a keyring. */
struct parsed_key {
    char id[KEYRING_ID_MAX];
    char created_at[KEYRING_CREATED_AT_MAX];
    uint8_t key[KEYRING_KEY_BYTES];
};

struct parsed_keyring {
    struct parsed_key *keys;
    size_t count;
    char active_id[KEYRING_ID_MAX];
};

/* Strings handed out by keyring_active_id/keyring_id_at live in this append-only pool, so they
 * stay valid across reloads until keyring_free. It only grows by key ids ever seen. */
struct interned_string {
    struct interned_string *next;
    char text[];
};

struct keyring_entry {
    const char *id;         /* interned */
    const char *created_at; /* interned */
    uint8_t key[KEYRING_KEY_BYTES];
};

struct keyring {
    pthread_rwlock_t lock;
    struct keyring_entry *entries;
    size_t count;
    const char *active_id; /* interned; equal pointers mean equal ids */
    struct interned_string *strings;
};

/* ---- small helpers ---- */

int keyring_id_is_valid(const char *id) {
    if (!id || !id[0])
        return 0;
    size_t len = 0;
    for (const char *c = id; *c; c++, len++) {
        if (len >= KEYRING_ID_MAX - 1)
            return 0;
        int ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                 *c == '.' || *c == '_' || *c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static int created_at_is_valid(const char *text) {
    size_t len = strlen(text);
    if (len >= KEYRING_CREATED_AT_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < 0x20 || text[i] > 0x7e)
            return 0;
    }
    return 1;
}

/* Decodes exactly KEY_BASE64_LEN characters of padded standard base64 into 32 bytes. */
static int decode_key_base64(const char *text, uint8_t key[KEYRING_KEY_BYTES]) {
    if (strlen(text) != KEY_BASE64_LEN || text[KEY_BASE64_LEN - 1] != '=' ||
        text[KEY_BASE64_LEN - 2] == '=')
        return -1;
    uint8_t decoded[KEY_BASE64_LEN / 4 * 3 + 3];
    size_t decoded_len = 0;
    int ok = base64_decode(text, KEY_BASE64_LEN, decoded, &decoded_len, 0) == 0 &&
             decoded_len == KEYRING_KEY_BYTES;
    if (ok)
        memcpy(key, decoded, KEYRING_KEY_BYTES);
    OPENSSL_cleanse(decoded, sizeof decoded);
    return ok ? 0 : -1;
}

static void parsed_keyring_wipe(struct parsed_keyring *parsed) {
    if (parsed->keys) {
        OPENSSL_cleanse(parsed->keys, parsed->count * sizeof *parsed->keys);
        free(parsed->keys);
    }
    memset(parsed, 0, sizeof *parsed);
}

/* The directory holding path ("." when path has no slash), malloc'd. */
static char *directory_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* ---- reading and validating the file ---- */

static int open_keyring_file(const char *path, struct agyn_error *err) {
    /* O_NONBLOCK keeps a FIFO at path from blocking us; it has no effect on regular files. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return agyn_fail(err, AGYN_NOT_FOUND, NULL, "keyring file %s does not exist", path);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot open keyring file %s: %s", path,
                         strerror(errno));
    }
    return fd;
}

/* Reads the whole file behind fd after checking it is a private regular file of sane size. The
 * returned text holds key material: release it with secure_free. */
static int read_keyring_fd(int fd, const char *path, char **text_out, size_t *len_out,
                           struct agyn_error *err) {
    struct stat st;
    if (fstat(fd, &st) != 0)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot stat keyring file %s: %s", path,
                         strerror(errno));
    if (!S_ISREG(st.st_mode))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "keyring file %s is not a regular file", path);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "keyring file %s must not be readable by others (mode %04o); chmod 600 %s",
                         path, (unsigned)(st.st_mode & 07777), path);
    if (st.st_size > KEYRING_FILE_MAX_BYTES)
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "keyring file %s is too large (%jd bytes; the limit is %d)", path,
                         (intmax_t)st.st_size, KEYRING_FILE_MAX_BYTES);

    /* Read up to one byte past the limit, in case the file grows after fstat. */
    size_t capacity = KEYRING_FILE_MAX_BYTES + 1;
    char *text = xmalloc(capacity + 1);
    size_t len = 0;
    while (len < capacity) {
        ssize_t n = read(fd, text + len, capacity - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            secure_free(text);
            return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot read keyring file %s: %s", path,
                             strerror(saved));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > KEYRING_FILE_MAX_BYTES) {
        secure_free(text);
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "keyring file %s is too large (the limit is %d bytes)", path,
                         KEYRING_FILE_MAX_BYTES);
    }
    text[len] = '\0';
    *text_out = text;
    *len_out = len;
    return 0;
}

static int validate_key_object(const char *path, size_t index, json_t *item, struct parsed_key *out,
                               struct agyn_error *err) {
    if (!json_is_object(item))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "keyring file %s: keys[%zu] must be an object",
                         path, index);
    const char *id = row_text(item, "id");
    if (!keyring_id_is_valid(id))
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "keyring file %s: keys[%zu] has a missing or invalid id (1 to %d "
                         "characters of A-Z a-z 0-9 . _ -)",
                         path, index, KEYRING_ID_MAX - 1);
    snprintf(out->id, sizeof out->id, "%s", id);

    const char *key_text = row_text(item, "key");
    if (!key_text || decode_key_base64(key_text, out->key) != 0)
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "keyring file %s: key %s must be the padded base64 of exactly %d bytes",
                         path, out->id, KEYRING_KEY_BYTES);

    json_t *created_at = json_object_get(item, "created_at");
    out->created_at[0] = '\0';
    if (created_at) {
        const char *text = json_string_value(created_at);
        if (!text || !created_at_is_valid(text))
            return agyn_fail(err, AGYN_INTERNAL, NULL,
                             "keyring file %s: key %s has an invalid created_at", path, out->id);
        snprintf(out->created_at, sizeof out->created_at, "%s", text);
    }
    return 0;
}

/* Checks the whole document and copies the keys into parsed (which the caller wipes). */
static int validate_document(const char *path, json_t *root, struct parsed_keyring *parsed,
                             struct agyn_error *err) {
    memset(parsed, 0, sizeof *parsed);
    if (!json_is_object(root))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "keyring file %s must hold a JSON object", path);
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "keyring file %s: \"keys\" must be an array",
                         path);
    size_t count = json_array_size(keys);
    if (count == 0)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "keyring file %s holds no keys", path);
    if (count > KEYRING_MAX_KEYS)
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "keyring file %s holds %zu keys; the limit is %d", path, count,
                         KEYRING_MAX_KEYS);
    const char *active = row_text(root, "active");
    if (!keyring_id_is_valid(active))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "keyring file %s: \"active\" must name a key id",
                         path);

    parsed->keys = xcalloc(count, sizeof *parsed->keys);
    parsed->count = count;
    snprintf(parsed->active_id, sizeof parsed->active_id, "%s", active);

    int active_found = 0;
    for (size_t i = 0; i < count; i++) {
        if (validate_key_object(path, i, json_array_get(keys, i), &parsed->keys[i], err) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(parsed->keys[j].id, parsed->keys[i].id) == 0)
                return agyn_fail(err, AGYN_INTERNAL, NULL, "keyring file %s lists key %s twice",
                                 path, parsed->keys[i].id);
        }
        if (strcmp(parsed->keys[i].id, active) == 0)
            active_found = 1;
    }
    if (!active_found)
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "keyring file %s: active key %s is not among its keys", path, active);
    return 0;
}

/* Parses and validates text. root_out (optional) receives the document for editing. */
static int parse_keyring_text(const char *path, const char *text, size_t len, json_t **root_out,
                              struct parsed_keyring *parsed, struct agyn_error *err) {
    json_error_t json_err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_err);
    if (!root) {
        /* json_err.text may quote the input (key material), so only the position is reported. */
        int rc = agyn_fail(err, AGYN_INTERNAL, NULL,
                           "keyring file %s is not valid JSON (or repeats a field) near line %d, "
                           "column %d",
                           path, json_err.line, json_err.column);
        OPENSSL_cleanse(&json_err, sizeof json_err);
        return rc;
    }
    if (validate_document(path, root, parsed, err) != 0) {
        parsed_keyring_wipe(parsed);
        json_decref(root);
        return -1;
    }
    if (root_out)
        *root_out = root;
    else
        json_decref(root);
    return 0;
}

static int read_and_parse(const char *path, struct parsed_keyring *parsed, struct agyn_error *err) {
    int fd = open_keyring_file(path, err);
    if (fd < 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    int rc = read_keyring_fd(fd, path, &text, &len, err);
    close(fd);
    if (rc != 0)
        return -1;
    rc = parse_keyring_text(path, text, len, NULL, parsed, err);
    secure_free(text);
    return rc;
}

/* ---- writing the file ---- */

static int fsync_directory_of(const char *path, struct agyn_error *err) {
    char *dir = directory_of(path);
    if (!dir)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory writing keyring file %s", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || fsync(fd) != 0)
        rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot sync directory %s: %s", dir,
                       strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* Writes data to a fresh 0600 temp file beside path, fsyncs it, then either renames it over
 * path (replace) or hard-links it to path, failing with AGYN_CONFLICT if path exists (create).
 * Finally fsyncs the directory so the new name is durable. */
static int write_file_atomically(const char *path, const char *data, size_t len, int replace,
                                 struct agyn_error *err) {
    size_t temp_size = strlen(path) + 32;
    char *temp_path = xmalloc(temp_size);
    uint32_t suffix = 0;
    if (RAND_bytes((unsigned char *)&suffix, sizeof suffix) != 1) {
        free(temp_path);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "random number generator failed");
    }
    snprintf(temp_path, temp_size, "%s.tmp-%08" PRIx32, path, suffix);

    int fd = open(temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int rc =
            agyn_fail(err, AGYN_INTERNAL, NULL, "cannot create %s: %s", temp_path, strerror(errno));
        free(temp_path);
        return rc;
    }
    int rc = 0;
    if (fchmod(fd, 0600) != 0 || fd_write_all(fd, data, len) != 0 || fsync(fd) != 0)
        rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot write %s: %s", temp_path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot write %s: %s", temp_path, strerror(errno));
    if (rc == 0) {
        if (replace) {
            if (rename(temp_path, path) != 0)
                rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot replace keyring file %s: %s", path,
                               strerror(errno));
        } else if (link(temp_path, path) != 0) {
            if (errno == EEXIST)
                rc = agyn_fail(err, AGYN_CONFLICT, NULL, "keyring file %s already exists", path);
            else
                rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot create keyring file %s: %s", path,
                               strerror(errno));
        }
    }
    /* After a rename the temp name is gone; after a link (or a failure) it must go. */
    if (rc != 0 || !replace)
        unlink(temp_path);
    free(temp_path);
    if (rc != 0)
        return rc;
    return fsync_directory_of(path, err);
}

/* Serializes root and writes it atomically; the serialized text is wiped. */
static int write_document(const char *path, json_t *root, int replace, struct agyn_error *err) {
    char *text = json_dumps(root, JSON_INDENT(2));
    if (!text)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot serialize keyring file %s", path);
    size_t len = strlen(text);
    char *with_newline = xmalloc(len + 2);
    memcpy(with_newline, text, len);
    with_newline[len] = '\n';
    with_newline[len + 1] = '\0';
    secure_free(text);
    int rc = write_file_atomically(path, with_newline, len + 1, replace, err);
    secure_free(with_newline);
    return rc;
}

/* A new key object {"id", "key", "created_at"}; id is "k-YYYYMMDD-<8 hex>" (UTC). */
static json_t *generate_key_object(char id_out[KEYRING_ID_MAX], struct agyn_error *err) {
    time_t now = time(NULL);
    struct tm utc;
    if (!gmtime_r(&now, &utc)) {
        agyn_fail(err, AGYN_INTERNAL, NULL, "cannot read the clock");
        return NULL;
    }
    uint8_t key[KEYRING_KEY_BYTES];
    uint8_t id_random[4];
    if (RAND_bytes(key, sizeof key) != 1 || RAND_bytes(id_random, sizeof id_random) != 1) {
        OPENSSL_cleanse(key, sizeof key);
        agyn_fail(err, AGYN_INTERNAL, NULL, "random number generator failed");
        return NULL;
    }
    char date[16];
    char created_at[KEYRING_CREATED_AT_MAX];
    strftime(date, sizeof date, "%Y%m%d", &utc);
    strftime(created_at, sizeof created_at, "%Y-%m-%dT%H:%M:%SZ", &utc);
    snprintf(id_out, KEYRING_ID_MAX, "k-%s-%02x%02x%02x%02x", date, id_random[0], id_random[1],
             id_random[2], id_random[3]);

    char key_text[KEY_BASE64_LEN + 1];
    base64_encode(key, sizeof key, key_text, 0);
    OPENSSL_cleanse(key, sizeof key);
    json_t *object =
        json_pack("{s:s, s:s, s:s}", "id", id_out, "key", key_text, "created_at", created_at);
    OPENSSL_cleanse(key_text, sizeof key_text);
    if (!object)
        agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory generating a key");
    return object;
}

static int parsed_has_id(const struct parsed_keyring *parsed, const char *id) {
    for (size_t i = 0; i < parsed->count; i++) {
        if (strcmp(parsed->keys[i].id, id) == 0)
            return 1;
    }
    return 0;
}

/* Opens path and takes an exclusive flock on it, retrying when another writer replaced the file
 * between our open and our lock (the lock must be on the inode path names now). */
static int open_locked_for_update(const char *path, struct agyn_error *err) {
    for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
        int fd = open_keyring_file(path, err);
        if (fd < 0)
            return -1;
        int locked;
        do {
            locked = flock(fd, LOCK_EX);
        } while (locked != 0 && errno == EINTR);
        if (locked != 0) {
            int rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot lock keyring file %s: %s", path,
                               strerror(errno));
            close(fd);
            return rc;
        }
        struct stat held, current;
        if (fstat(fd, &held) == 0 && stat(path, &current) == 0 && held.st_dev == current.st_dev &&
            held.st_ino == current.st_ino)
            return fd;
        close(fd);
    }
    return agyn_fail(err, AGYN_INTERNAL, NULL,
                     "keyring file %s keeps changing; cannot lock it for update", path);
}

/* Locks, reads and validates the file for a read-modify-write; the caller closes *fd_out
 * (releasing the lock) after writing, and wipes parsed. */
static int begin_update(const char *path, int *fd_out, json_t **root_out,
                        struct parsed_keyring *parsed, struct agyn_error *err) {
    int fd = open_locked_for_update(path, err);
    if (fd < 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    if (read_keyring_fd(fd, path, &text, &len, err) != 0) {
        close(fd);
        return -1;
    }
    int rc = parse_keyring_text(path, text, len, root_out, parsed, err);
    secure_free(text);
    if (rc != 0) {
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

/* ---- file operations ---- */

int keyring_create_file(const char *path, char *id_out, struct agyn_error *err) {
    if (!path || !path[0])
        return agyn_fail(err, AGYN_INTERNAL, NULL, "keyring path is empty");
    char id[KEYRING_ID_MAX];
    json_t *key = generate_key_object(id, err);
    if (!key)
        return -1;
    json_t *root = json_pack("{s:s, s:[o]}", "active", id, "keys", key);
    if (!root)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory creating keyring file %s", path);
    int rc = write_document(path, root, 0, err);
    json_decref(root);
    if (rc == 0 && id_out)
        snprintf(id_out, KEYRING_ID_MAX, "%s", id);
    return rc;
}

int keyring_add_key(const char *path, char *id_out, struct agyn_error *err) {
    int fd = -1;
    json_t *root = NULL;
    struct parsed_keyring parsed;
    if (begin_update(path, &fd, &root, &parsed, err) != 0)
        return -1;
    if (parsed.count >= KEYRING_MAX_KEYS) {
        int rc = agyn_fail(err, AGYN_CONFLICT, NULL,
                           "keyring file %s already holds %d keys; remove unused ones first", path,
                           KEYRING_MAX_KEYS);
        parsed_keyring_wipe(&parsed);
        json_decref(root);
        close(fd);
        return rc;
    }

    char id[KEYRING_ID_MAX];
    json_t *key = NULL;
    do { /* a collision needs the same day and 32 random bits: retry, never overwrite */
        json_decref(key);
        key = generate_key_object(id, err);
    } while (key && parsed_has_id(&parsed, id));
    parsed_keyring_wipe(&parsed);

    int rc = -1;
    if (key) {
        if (json_array_append_new(json_object_get(root, "keys"), key) != 0 ||
            json_object_set_new(root, "active", json_string(id)) != 0)
            rc =
                agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory updating keyring file %s", path);
        else
            rc = write_document(path, root, 1, err);
    }
    json_decref(root);
    close(fd);
    if (rc == 0 && id_out)
        snprintf(id_out, KEYRING_ID_MAX, "%s", id);
    return rc;
}

int keyring_remove_key(const char *path, const char *key_id, struct agyn_error *err) {
    if (!keyring_id_is_valid(key_id))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "key_id", "invalid key id");
    int fd = -1;
    json_t *root = NULL;
    struct parsed_keyring parsed;
    if (begin_update(path, &fd, &root, &parsed, err) != 0)
        return -1;

    int rc;
    size_t index = parsed.count;
    for (size_t i = 0; i < parsed.count; i++) {
        if (strcmp(parsed.keys[i].id, key_id) == 0)
            index = i;
    }
    if (index == parsed.count)
        rc = agyn_fail(err, AGYN_NOT_FOUND, "key_id", "key %s is not in the keyring %s", key_id,
                       path);
    else if (strcmp(parsed.active_id, key_id) == 0)
        rc = agyn_fail(err, AGYN_CONFLICT, "key_id",
                       "key %s is the active key of %s; add a new key before removing it", key_id,
                       path);
    else if (json_array_remove(json_object_get(root, "keys"), index) != 0)
        rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot update keyring file %s", path);
    else
        rc = write_document(path, root, 1, err);
    parsed_keyring_wipe(&parsed);
    json_decref(root);
    close(fd);
    return rc;
}

/* ---- the in-memory keyring ---- */

static struct keyring *writable(const struct keyring *kr) {
    return (struct keyring *)kr; /* only the lock inside is written by the read paths */
}

/* Returns the pooled copy of text, adding it if new; caller holds the write lock. */
static const char *intern(struct keyring *kr, const char *text) {
    for (struct interned_string *s = kr->strings; s; s = s->next) {
        if (strcmp(s->text, text) == 0)
            return s->text;
    }
    size_t len = strlen(text);
    struct interned_string *s = malloc(sizeof *s + len + 1);
    if (!s)
        return NULL;
    memcpy(s->text, text, len + 1);
    s->next = kr->strings;
    kr->strings = s;
    return s->text;
}

static void wipe_entries(struct keyring_entry *entries, size_t count) {
    if (!entries)
        return;
    OPENSSL_cleanse(entries, count * sizeof *entries);
    free(entries);
}

/* Replaces the keyring's keys with parsed; caller holds the write lock. On failure the keyring
 * is unchanged. */
static int install(struct keyring *kr, const struct parsed_keyring *parsed,
                   struct agyn_error *err) {
    struct keyring_entry *entries = calloc(parsed->count, sizeof *entries);
    const char *active = entries ? intern(kr, parsed->active_id) : NULL;
    if (!active) {
        free(entries);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory loading the keyring");
    }
    for (size_t i = 0; i < parsed->count; i++) {
        entries[i].id = intern(kr, parsed->keys[i].id);
        entries[i].created_at = intern(kr, parsed->keys[i].created_at);
        if (!entries[i].id || !entries[i].created_at) {
            wipe_entries(entries, parsed->count);
            return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory loading the keyring");
        }
        memcpy(entries[i].key, parsed->keys[i].key, KEYRING_KEY_BYTES);
    }
    wipe_entries(kr->entries, kr->count);
    kr->entries = entries;
    kr->count = parsed->count;
    kr->active_id = active;
    return 0;
}

static const struct keyring_entry *find_entry(const struct keyring *kr, const char *key_id) {
    for (size_t i = 0; i < kr->count; i++) {
        if (strcmp(kr->entries[i].id, key_id) == 0)
            return &kr->entries[i];
    }
    return NULL;
}

int keyring_load(const char *path, struct keyring **out, struct agyn_error *err) {
    *out = NULL;
    struct parsed_keyring parsed;
    if (read_and_parse(path, &parsed, err) != 0)
        return -1;
    struct keyring *kr = calloc(1, sizeof *kr);
    if (!kr) {
        parsed_keyring_wipe(&parsed);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory loading the keyring");
    }
    /* Prefer writers so a reload is not starved by a steady stream of seal/open readers. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int lock_rc = pthread_rwlock_init(&kr->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (lock_rc != 0) {
        parsed_keyring_wipe(&parsed);
        free(kr);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot initialize the keyring lock");
    }
    int rc = install(kr, &parsed, err);
    parsed_keyring_wipe(&parsed);
    if (rc != 0) {
        keyring_free(kr);
        return -1;
    }
    *out = kr;
    return 0;
}

int keyring_reload(struct keyring *kr, const char *path, struct agyn_error *err) {
    struct parsed_keyring parsed;
    if (read_and_parse(path, &parsed, err) != 0)
        return -1;
    pthread_rwlock_wrlock(&kr->lock);
    int rc = install(kr, &parsed, err);
    pthread_rwlock_unlock(&kr->lock);
    parsed_keyring_wipe(&parsed);
    return rc;
}

void keyring_free(struct keyring *kr) {
    if (!kr)
        return;
    wipe_entries(kr->entries, kr->count);
    struct interned_string *s = kr->strings;
    while (s) {
        struct interned_string *next = s->next;
        free(s);
        s = next;
    }
    pthread_rwlock_destroy(&kr->lock);
    free(kr);
}

const char *keyring_active_id(const struct keyring *kr) {
    pthread_rwlock_rdlock(&writable(kr)->lock);
    const char *id = kr->active_id;
    pthread_rwlock_unlock(&writable(kr)->lock);
    return id;
}

size_t keyring_count(const struct keyring *kr) {
    pthread_rwlock_rdlock(&writable(kr)->lock);
    size_t count = kr->count;
    pthread_rwlock_unlock(&writable(kr)->lock);
    return count;
}

const char *keyring_id_at(const struct keyring *kr, size_t i, const char **created_at,
                          int *active) {
    pthread_rwlock_rdlock(&writable(kr)->lock);
    const char *id = NULL;
    if (i < kr->count) {
        id = kr->entries[i].id;
        if (created_at)
            *created_at = kr->entries[i].created_at;
        if (active)
            *active = kr->entries[i].id == kr->active_id;
    }
    pthread_rwlock_unlock(&writable(kr)->lock);
    return id;
}

int keyring_has(const struct keyring *kr, const char *key_id) {
    if (!key_id)
        return 0;
    pthread_rwlock_rdlock(&writable(kr)->lock);
    int found = find_entry(kr, key_id) != NULL;
    pthread_rwlock_unlock(&writable(kr)->lock);
    return found;
}

int keyring_copy_key(const struct keyring *kr, const char *key_id, uint8_t key[KEYRING_KEY_BYTES]) {
    if (!key_id)
        return -1;
    pthread_rwlock_rdlock(&writable(kr)->lock);
    const struct keyring_entry *entry = find_entry(kr, key_id);
    if (entry)
        memcpy(key, entry->key, KEYRING_KEY_BYTES);
    pthread_rwlock_unlock(&writable(kr)->lock);
    return entry ? 0 : -1;
}

int keyring_copy_active(const struct keyring *kr, char id_out[KEYRING_ID_MAX],
                        uint8_t key[KEYRING_KEY_BYTES]) {
    pthread_rwlock_rdlock(&writable(kr)->lock);
    const struct keyring_entry *entry = kr->active_id ? find_entry(kr, kr->active_id) : NULL;
    if (entry) {
        snprintf(id_out, KEYRING_ID_MAX, "%s", entry->id);
        memcpy(key, entry->key, KEYRING_KEY_BYTES);
    }
    pthread_rwlock_unlock(&writable(kr)->lock);
    return entry ? 0 : -1;
}

int keyring_ensure_key(struct keyring *kr, const char *path, const char *key_id,
                       struct agyn_error *err) {
    if (!keyring_id_is_valid(key_id))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "invalid key id");
    if (keyring_has(kr, key_id))
        return 0;
    if (keyring_reload(kr, path, err) != 0) {
        agyn_error_prefix(err, "key %s is not in the keyring and reloading it failed", key_id);
        return -1;
    }
    if (keyring_has(kr, key_id))
        return 0;
    return agyn_fail(err, AGYN_INTERNAL, NULL, "key %s is not in the keyring %s", key_id, path);
}
