/* short_lived_cache.h — short-lived registry logins (ECR tokens, credential-provider plugin
 * answers) kept in memory between workload starts, sealed with the keyring (envelope
 * encryption, AAD naming the cache key) so no plaintext login sits in the heap, wiped when
 * evicted. Concurrent callers asking for the same key while a fetch runs wait for that fetch
 * and share its answer: a burst of starts makes one call. One cache per process. */
#ifndef AGYN_CREDENTIALS_SHORT_LIVED_CACHE_H
#define AGYN_CREDENTIALS_SHORT_LIVED_CACHE_H

#include "core/error.h"
#include "crypto/keyring.h"

#define SHORT_LIVED_CACHE_ENTRIES_MAX 1024

/* Fetches a fresh value (malloc'd text, freed with secure_free by the cache) and says
 * until when (Unix seconds) it may be served from the cache; usable_until <= now means "serve
 * it to the callers waiting now, keep nothing". */
typedef int (*short_lived_fetch_fn)(void *arg, char **value_out, double *usable_until,
                                    struct agyn_error *err);

/* The cached value of key when usable now, else the answer of one fetch shared with every
 * concurrent caller of the same key. *value_out is malloc'd (free with secure_free). A
 * failed fetch is not cached: the next caller fetches again. */
int short_lived_cache_get(const struct keyring *kr, const char *key, short_lived_fetch_fn fetch,
                          void *arg, char **value_out, struct agyn_error *err);

/* The cached value of key when usable now (0), else -1 without fetching. */
int short_lived_cache_peek(const struct keyring *kr, const char *key, char **value_out);
/* Caches value under key until usable_until (Unix seconds); nothing when that has passed. */
void short_lived_cache_put(const struct keyring *kr, const char *key, const char *value,
                           double usable_until);

/* How many entries are cached (tests, metrics). */
unsigned short_lived_cache_size(void);
/* Drops every entry (tests). */
void short_lived_cache_clear(void);

#endif
