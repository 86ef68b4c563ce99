/* auth.c — API token generation, hashing and authentication. */
#include "api/auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/row.h"
#include "base/clock.h"
#include "core/base64.h"
#include "store/tables.h"

/* SHA-256 fetched once: SHA256() looks the algorithm up in OpenSSL's provider store on every
 * call, which costs more than hashing a token. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void fetch_sha256(void) {
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void auth_token_hash(const char *value, char hash[TOKEN_HASH_HEX]) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    pthread_once(&sha256_once, fetch_sha256);
    if (!sha256_md || EVP_Digest(value, strlen(value), digest, NULL, sha256_md, NULL) != 1)
        SHA256((const unsigned char *)value, strlen(value), digest);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        static const char hex[] = "0123456789abcdef";
        hash[2 * i] = hex[digest[i] >> 4];
        hash[2 * i + 1] = hex[digest[i] & 15];
    }
    hash[64] = '\0';
}

void auth_token_generate(char value[TOKEN_VALUE_LEN + 1], char hash[TOKEN_HASH_HEX]) {
    unsigned char random[32];
    if (RAND_bytes(random, sizeof random) != 1)
        abort();
    memcpy(value, "agyn_", 5);
    base64_encode(random, sizeof random, value + 5, BASE64_URL | BASE64_NOPAD);
    OPENSSL_cleanse(random, sizeof random);
    auth_token_hash(value, hash);
}

int auth_token_create(struct store *store, const char *organization_id, const char *name,
                      const char *role, char value[TOKEN_VALUE_LEN + 1], json_t **row_out,
                      struct agyn_error *err) {
    char hash[TOKEN_HASH_HEX];
    auth_token_generate(value, hash);
    char prefix[16];
    memcpy(prefix, value, 9);
    prefix[9] = '\0';
    json_t *row = json_pack("{s:s?, s:s, s:s, s:s, s:s}", "organization_id", organization_id,
                            "name", name, "role", role, "token_hash", hash, "token_prefix", prefix);
    if (!organization_id)
        json_object_set_new(row, "organization_id", json_null());
    if (store_insert(store, &TABLE_API_TOKENS, row, err) != 0) {
        json_decref(row);
        OPENSSL_cleanse(value, TOKEN_VALUE_LEN);
        return -1;
    }
    if (row_out)
        *row_out = row;
    else
        json_decref(row);
    return 0;
}

const char *role_name(enum role role) {
    switch (role) {
    case ROLE_ADMIN:
        return "admin";
    case ROLE_OWNER:
        return "owner";
    case ROLE_MEMBER:
        return "member";
    default:
        return "none";
    }
}

enum role role_parse(const char *text) {
    if (!text)
        return ROLE_NONE;
    if (strcmp(text, "owner") == 0)
        return ROLE_OWNER;
    if (strcmp(text, "member") == 0)
        return ROLE_MEMBER;
    if (strcmp(text, "admin") == 0)
        return ROLE_ADMIN;
    return ROLE_NONE;
}

/* Recently verified tokens, so that a burst of requests costs one database read per token per
 * second. A revocation in this process clears it at once (auth_cache_clear); one in another
 * process clears it as soon as its notification arrives (agynd serve subscribes
 * auth_cache_clear to AUTH_REVOCATION_CHANNEL: PostgreSQL's LISTEN/NOTIFY), and in any case
 * within AUTH_CACHE_MS (a process that cannot notify: SQLite). Only hashes are kept. */
#define AUTH_CACHE_SIZE 64
#define AUTH_CACHE_MS 1000

struct auth_cache_entry {
    char hash[TOKEN_HASH_HEX];
    struct principal principal;
    int64_t expires_ms;
};

/* Readers share the lock, so a lookup on every request does not serialize the HTTP threads;
 * a waiting writer (a revocation clearing the cache) goes before readers that come later. */
static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct auth_cache_entry cache[AUTH_CACHE_SIZE];
/* Bumped by auth_cache_clear: a row read before a revocation must not be cached after it. */
static uint64_t cache_generation;

static int cache_lookup(const char hash[TOKEN_HASH_HEX], struct principal *out,
                        uint64_t *generation) {
    int64_t now = clock_monotonic_ms();
    int found = 0;
    pthread_rwlock_rdlock(&cache_lock);
    *generation = cache_generation;
    for (size_t i = 0; i < AUTH_CACHE_SIZE && !found; i++) {
        if (cache[i].expires_ms > now && CRYPTO_memcmp(cache[i].hash, hash, 64) == 0) {
            *out = cache[i].principal;
            found = 1;
        }
    }
    pthread_rwlock_unlock(&cache_lock);
    return found;
}

static void cache_store(const char hash[TOKEN_HASH_HEX], const struct principal *principal,
                        uint64_t generation) {
    int64_t now = clock_monotonic_ms();
    pthread_rwlock_wrlock(&cache_lock);
    if (generation != cache_generation) {
        pthread_rwlock_unlock(&cache_lock);
        return;
    }
    size_t slot = 0;
    for (size_t i = 0; i < AUTH_CACHE_SIZE; i++)
        if (cache[i].expires_ms < cache[slot].expires_ms)
            slot = i;
    memcpy(cache[slot].hash, hash, TOKEN_HASH_HEX);
    cache[slot].principal = *principal;
    cache[slot].expires_ms = now + AUTH_CACHE_MS;
    pthread_rwlock_unlock(&cache_lock);
}

static atomic_uint_fast64_t revocations;
static void (*_Atomic revocation_listener)(void);

void auth_cache_clear(void) {
    pthread_rwlock_wrlock(&cache_lock);
    memset(cache, 0, sizeof cache);
    cache_generation++;
    pthread_rwlock_unlock(&cache_lock);
    atomic_fetch_add(&revocations, 1);
    void (*listener)(void) = atomic_load(&revocation_listener);
    if (listener)
        listener();
}

int auth_revoked(struct store *store, struct agyn_error *err) {
    auth_cache_clear();
    return store_notify(store, AUTH_REVOCATION_CHANNEL, err);
}

uint64_t auth_revocation_count(void) {
    return atomic_load(&revocations);
}

void auth_set_revocation_listener(void (*listener)(void)) {
    atomic_store(&revocation_listener, listener);
}

int auth_token_hash_is_active(struct store *store, const char hash[TOKEN_HASH_HEX],
                              struct agyn_error *err) {
    struct store_filter by_hash = {"token_hash", hash};
    struct store_query query = {.filters = &by_hash, .filter_count = 1};
    json_t *row = NULL;
    if (store_find(store, &TABLE_API_TOKENS, &query, &row, err) != 0)
        return -1;
    json_decref(row);
    return row != NULL;
}

int auth_authenticate(struct store *store, const char *authorization, struct principal *out,
                      struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    if (!authorization)
        return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization",
                         "missing Authorization header; send \"Authorization: Bearer <token>\"");
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization",
                         "the Authorization header must use the Bearer scheme");
    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    if (strlen(token) != TOKEN_VALUE_LEN || strncmp(token, "agyn_", 5) != 0)
        return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization", "invalid API token");
    char hash[TOKEN_HASH_HEX];
    auth_token_hash(token, hash);
    uint64_t generation;
    if (cache_lookup(hash, out, &generation))
        return 0;
    struct store_filter by_hash = {"token_hash", hash};
    struct store_query query = {.filters = &by_hash, .filter_count = 1};
    json_t *row = NULL;
    if (store_find(store, &TABLE_API_TOKENS, &query, &row, err) != 0)
        return -1;
    const char *stored = row ? row_text(row, "token_hash") : NULL;
    if (!stored || strlen(stored) != 64 || CRYPTO_memcmp(stored, hash, 64) != 0) {
        json_decref(row);
        return agyn_fail(err, AGYN_UNAUTHENTICATED, "Authorization", "invalid API token");
    }
    out->role = role_parse(row_text(row, "role"));
    const char *org = row_text(row, "organization_id");
    snprintf(out->organization_id, sizeof out->organization_id, "%s", org ? org : "");
    snprintf(out->token_id, sizeof out->token_id, "%s", row_text(row, "id"));
    json_decref(row);
    cache_store(hash, out, generation);
    return 0;
}
