/* short_lived_cache.c — the sealed in-memory cache of short-lived logins with one fetch per key
 * at a time (see short_lived_cache.h). */
#include "credentials/short_lived_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "crypto/envelope.h"
#include "core/xalloc.h"

#define KEY_MAX 1024

struct cache_entry {
    char key[KEY_MAX];
    char *sealed;
    double usable_until;
};

/* A fetch in progress; waiters hold a reference until they have read its answer. */
struct flight {
    char key[KEY_MAX];
    bool done;
    int rc;
    char *sealed; /* the answer, sealed like a cache entry */
    struct agyn_error error;
    unsigned refs;
    struct flight *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flight_done = PTHREAD_COND_INITIALIZER;
static struct cache_entry entries[SHORT_LIVED_CACHE_ENTRIES_MAX];
static unsigned entry_count;
static struct flight *flights;

static double now_seconds(void) {
    return (double)clock_now_unix_ms() / 1000.0;
}

static void aad_for(const char *key, char *aad, size_t size) {
    snprintf(aad, size, "agyn-short-lived-cache/%s", key);
}

static void entry_drop(unsigned i) {
    secure_free(entries[i].sealed);
    entries[i] = entries[--entry_count];
    memset(&entries[entry_count], 0, sizeof entries[entry_count]);
}

static int entry_find(const char *key) {
    for (unsigned i = 0; i < entry_count; i++)
        if (strcmp(entries[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* Called with the lock held: expired entries go, then (when full) the one closest to expiry. */
static void entry_store(const char *key, char *sealed, double usable_until, double now) {
    int found = entry_find(key);
    if (found >= 0)
        entry_drop((unsigned)found);
    for (unsigned i = 0; i < entry_count;) {
        if (entries[i].usable_until <= now)
            entry_drop(i);
        else
            i++;
    }
    if (entry_count == SHORT_LIVED_CACHE_ENTRIES_MAX) {
        unsigned soonest = 0;
        for (unsigned i = 1; i < entry_count; i++)
            if (entries[i].usable_until < entries[soonest].usable_until)
                soonest = i;
        entry_drop(soonest);
    }
    struct cache_entry *entry = &entries[entry_count++];
    snprintf(entry->key, sizeof entry->key, "%s", key);
    entry->sealed = sealed;
    entry->usable_until = usable_until;
}

static int open_sealed(const struct keyring *kr, const char *key, const char *sealed,
                       char **value_out, struct agyn_error *err) {
    char aad[KEY_MAX + 32];
    aad_for(key, aad, sizeof aad);
    uint8_t *plain = NULL;
    size_t len = 0;
    if (envelope_open(kr, aad, sealed, &plain, &len, err) != 0)
        return -1;
    *value_out = (char *)plain;
    return 0;
}

static void flight_release(struct flight *flight) {
    if (--flight->refs > 0)
        return;
    for (struct flight **link = &flights; *link; link = &(*link)->next) {
        if (*link == flight) {
            *link = flight->next;
            break;
        }
    }
    secure_free(flight->sealed);
    free(flight);
}

/* Called with the lock held; waits for flight and copies its answer out. */
static int flight_wait(const struct keyring *kr, struct flight *flight, char **value_out,
                       struct agyn_error *err) {
    flight->refs++;
    while (!flight->done)
        pthread_cond_wait(&flight_done, &cache_lock);
    int rc = flight->rc;
    if (rc != 0)
        *err = flight->error;
    else
        rc = open_sealed(kr, flight->key, flight->sealed, value_out, err);
    flight_release(flight);
    return rc;
}

int short_lived_cache_get(const struct keyring *kr, const char *key, short_lived_fetch_fn fetch,
                          void *arg, char **value_out, struct agyn_error *err) {
    *value_out = NULL;
    if (strlen(key) >= KEY_MAX)
        return agyn_fail(err, AGYN_INTERNAL, "", "cache key too long");
    pthread_mutex_lock(&cache_lock);
    double now = now_seconds();
    int found = entry_find(key);
    if (found >= 0 && entries[found].usable_until > now) {
        struct agyn_error ignored = {0};
        if (open_sealed(kr, key, entries[found].sealed, value_out, &ignored) == 0) {
            pthread_mutex_unlock(&cache_lock);
            return 0;
        }
        found = -1; /* sealed under a key the keyring no longer has: fetch again */
    }
    if (found >= 0)
        entry_drop((unsigned)found);
    for (struct flight *flight = flights; flight; flight = flight->next) {
        if (strcmp(flight->key, key) == 0) {
            int rc = flight_wait(kr, flight, value_out, err);
            pthread_mutex_unlock(&cache_lock);
            return rc;
        }
    }
    struct flight *flight = xcalloc(1, sizeof *flight);
    snprintf(flight->key, sizeof flight->key, "%s", key);
    flight->refs = 1;
    flight->next = flights;
    flights = flight;
    pthread_mutex_unlock(&cache_lock);

    char *value = NULL;
    double usable_until = 0;
    struct agyn_error fetch_error = {0};
    int rc = fetch(arg, &value, &usable_until, &fetch_error);
    char *sealed = NULL;
    char *cached = NULL;
    if (rc == 0) {
        char aad[KEY_MAX + 32];
        aad_for(key, aad, sizeof aad);
        sealed = envelope_seal(kr, aad, (const uint8_t *)value, strlen(value), &fetch_error);
        cached = sealed && usable_until > now_seconds() ? xstrdup(sealed) : NULL;
        rc = sealed ? 0 : -1;
    }

    pthread_mutex_lock(&cache_lock);
    if (cached)
        entry_store(key, cached, usable_until, now_seconds());
    flight->done = true;
    flight->rc = rc;
    flight->sealed = sealed;
    flight->error = fetch_error;
    pthread_cond_broadcast(&flight_done);
    flight_release(flight);
    pthread_mutex_unlock(&cache_lock);
    if (rc != 0) {
        *err = fetch_error;
        secure_free(value);
        return -1;
    }
    *value_out = value;
    return 0;
}

int short_lived_cache_peek(const struct keyring *kr, const char *key, char **value_out) {
    *value_out = NULL;
    pthread_mutex_lock(&cache_lock);
    int found = entry_find(key);
    struct agyn_error ignored = {0};
    int rc = found >= 0 && entries[found].usable_until > now_seconds() &&
                     open_sealed(kr, key, entries[found].sealed, value_out, &ignored) == 0
                 ? 0
                 : -1;
    pthread_mutex_unlock(&cache_lock);
    return rc;
}

void short_lived_cache_put(const struct keyring *kr, const char *key, const char *value,
                           double usable_until) {
    if (strlen(key) >= KEY_MAX || usable_until <= now_seconds())
        return;
    char aad[KEY_MAX + 32];
    aad_for(key, aad, sizeof aad);
    struct agyn_error ignored = {0};
    char *sealed = envelope_seal(kr, aad, (const uint8_t *)value, strlen(value), &ignored);
    if (!sealed)
        return;
    pthread_mutex_lock(&cache_lock);
    entry_store(key, sealed, usable_until, now_seconds());
    pthread_mutex_unlock(&cache_lock);
}

unsigned short_lived_cache_size(void) {
    pthread_mutex_lock(&cache_lock);
    unsigned count = entry_count;
    pthread_mutex_unlock(&cache_lock);
    return count;
}

void short_lived_cache_clear(void) {
    pthread_mutex_lock(&cache_lock);
    while (entry_count > 0)
        entry_drop(0);
    pthread_mutex_unlock(&cache_lock);
}
