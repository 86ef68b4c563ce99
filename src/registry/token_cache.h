/* token_cache.h — bearer tokens kept between pulls, shared by threads. An entry's key is the
 * registry, the scope and the SHA-256 of "username:password" (so a different or wrong password
 * never finds another credential's token); its lifetime follows the token response's
 * expires_in (60 s when absent) counted from issued_at. Times are Unix seconds. */
#ifndef AGYN_REGISTRY_TOKEN_CACHE_H
#define AGYN_REGISTRY_TOKEN_CACHE_H

#include <stddef.h>

#include "registry/oci_client.h"

#define TOKEN_CACHE_KEY_MAX 1400
#define TOKEN_CACHE_ENTRIES_MAX 1024
#define TOKEN_DEFAULT_EXPIRES_IN 60
#define TOKEN_MAX_EXPIRES_IN 86400

struct token_cache;

struct token_cache *token_cache_new(void);
void token_cache_free(struct token_cache *cache);

/* -1 when the parts do not fit in size. auth NULL (or without username) means anonymous. */
int token_cache_key(const char *registry, const char *scope, const struct registry_auth *auth,
                    char *key, size_t size);

/* When to stop using a token received at `now`: issued_at (RFC 3339, or NULL) + expires_in
 * (<= 0 means 60, capped at a day), less a small safety margin. issued_at is ignored when it lies
 * in the future or would make the fresh token already expired (clock skew). */
double token_usable_until(double now, long expires_in, const char *issued_at);

/* A copy (malloc'd, caller frees) of a token usable at now, and its usable-until time; -1 when
 * absent or expired (the expired entry is dropped). */
int token_cache_get(struct token_cache *cache, const char *key, double now, char **token,
                    double *usable_until);
/* Stores a token; -1 when out of memory. Expired entries are dropped; when full, the entry
 * closest to expiry makes room. */
int token_cache_put(struct token_cache *cache, const char *key, const char *token,
                    double usable_until, double now);
/* Drops key's entry if it still holds token (a 401 proved it stale). */
void token_cache_invalidate(struct token_cache *cache, const char *key, const char *token);
size_t token_cache_size(struct token_cache *cache);

/* "2024-01-02T03:04:05Z", "...05.123+02:00": -1 when malformed. */
int rfc3339_parse(const char *text, double *unix_seconds);
/* The current time in Unix seconds (sub-second precision). */
double token_clock_now(void);

#endif
