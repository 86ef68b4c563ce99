/* token_cache.c — a small mutex-guarded table of bearer tokens with expiry (token_cache.h). */
#include "registry/token_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define SAFETY_MARGIN_MAX_S 10.0

struct token_entry {
    char *key;
    char *token;
    double usable_until;
};

struct token_cache {
    pthread_mutex_t lock;
    struct token_entry *entries;
    size_t count;
};

struct token_cache *token_cache_new(void) {
    struct token_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return NULL;
    cache->entries = calloc(TOKEN_CACHE_ENTRIES_MAX, sizeof *cache->entries);
    if (!cache->entries) {
        free(cache);
        return NULL;
    }
    pthread_mutex_init(&cache->lock, NULL);
    return cache;
}

static void entry_clear(struct token_entry *entry) {
    if (entry->token)
        OPENSSL_cleanse(entry->token, strlen(entry->token));
    free(entry->token);
    free(entry->key);
    memset(entry, 0, sizeof *entry);
}

static void remove_at(struct token_cache *cache, size_t i) {
    entry_clear(&cache->entries[i]);
    cache->entries[i] = cache->entries[cache->count - 1];
    memset(&cache->entries[cache->count - 1], 0, sizeof cache->entries[0]);
    cache->count--;
}

void token_cache_free(struct token_cache *cache) {
    if (!cache)
        return;
    for (size_t i = 0; i < cache->count; i++)
        entry_clear(&cache->entries[i]);
    free(cache->entries);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

int token_cache_key(const char *registry, const char *scope, const struct registry_auth *auth,
                    char *key, size_t size) {
    char credential[2 * EVP_MAX_MD_SIZE + 1] = "-";
    if (auth && auth->username) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int digest_len = 0;
        const char *password = auth->password ? auth->password : "";
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(ctx, auth->username, strlen(auth->username)) != 1 ||
            EVP_DigestUpdate(ctx, ":", 1) != 1 ||
            EVP_DigestUpdate(ctx, password, strlen(password)) != 1 ||
            EVP_DigestFinal_ex(ctx, digest, &digest_len) != 1) {
            EVP_MD_CTX_free(ctx);
            return -1;
        }
        EVP_MD_CTX_free(ctx);
        for (unsigned int i = 0; i < digest_len; i++)
            snprintf(credential + 2 * i, 3, "%02x", digest[i]);
    }
    int n = snprintf(key, size, "%s\n%s\n%s", registry, scope ? scope : "", credential);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int read_digits(const char **p, int count, int *value) {
    *value = 0;
    for (int i = 0; i < count; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        *value = *value * 10 + (c - '0');
    }
    *p += count;
    return 0;
}

static int expect(const char **p, char c) {
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

int rfc3339_parse(const char *text, double *unix_seconds) {
    const char *p = text;
    int year, month, day, hour, minute, second;
    if (!text || read_digits(&p, 4, &year) || expect(&p, '-') || read_digits(&p, 2, &month) ||
        expect(&p, '-') || read_digits(&p, 2, &day))
        return -1;
    if (*p != 'T' && *p != 't')
        return -1;
    p++;
    if (read_digits(&p, 2, &hour) || expect(&p, ':') || read_digits(&p, 2, &minute) ||
        expect(&p, ':') || read_digits(&p, 2, &second))
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return -1;
    double fraction = 0, scale = 0.1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        for (int digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 9) {
                fraction += (*p - '0') * scale;
                scale /= 10;
            }
        }
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, off_h, off_m;
        p++;
        if (read_digits(&p, 2, &off_h) || expect(&p, ':') || read_digits(&p, 2, &off_m) ||
            off_h > 23 || off_m > 59)
            return -1;
        offset = sign * (off_h * 3600L + off_m * 60L);
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    time_t t = timegm(&tm);
    *unix_seconds = (double)t - (double)offset + fraction;
    return 0;
}

double token_clock_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double token_usable_until(double now, long expires_in, const char *issued_at) {
    if (expires_in <= 0)
        expires_in = TOKEN_DEFAULT_EXPIRES_IN;
    if (expires_in > TOKEN_MAX_EXPIRES_IN)
        expires_in = TOKEN_MAX_EXPIRES_IN;
    double margin = (double)expires_in / 10.0;
    if (margin > SAFETY_MARGIN_MAX_S)
        margin = SAFETY_MARGIN_MAX_S;
    double until = now + (double)expires_in - margin;
    double issued;
    if (issued_at && rfc3339_parse(issued_at, &issued) == 0 && issued <= now) {
        double from_issued = issued + (double)expires_in - margin;
        if (from_issued > now)
            until = from_issued;
    }
    return until;
}

static struct token_entry *find(struct token_cache *cache, const char *key, size_t *index) {
    for (size_t i = 0; i < cache->count; i++) {
        if (strcmp(cache->entries[i].key, key) == 0) {
            *index = i;
            return &cache->entries[i];
        }
    }
    return NULL;
}

int token_cache_get(struct token_cache *cache, const char *key, double now, char **token,
                    double *usable_until) {
    int rc = -1;
    size_t i;
    *token = NULL;
    pthread_mutex_lock(&cache->lock);
    struct token_entry *entry = find(cache, key, &i);
    if (entry && entry->usable_until > now) {
        *token = strdup(entry->token);
        if (*token) {
            *usable_until = entry->usable_until;
            rc = 0;
        }
    } else if (entry) {
        remove_at(cache, i);
    }
    pthread_mutex_unlock(&cache->lock);
    return rc;
}

int token_cache_put(struct token_cache *cache, const char *key, const char *token,
                    double usable_until, double now) {
    char *key_copy = strdup(key), *token_copy = strdup(token);
    if (!key_copy || !token_copy) {
        free(key_copy);
        free(token_copy);
        return -1;
    }
    pthread_mutex_lock(&cache->lock);
    for (size_t i = cache->count; i > 0; i--) {
        if (cache->entries[i - 1].usable_until <= now)
            remove_at(cache, i - 1);
    }
    size_t i;
    if (find(cache, key, &i)) {
        remove_at(cache, i);
    } else if (cache->count == TOKEN_CACHE_ENTRIES_MAX) {
        size_t soonest = 0;
        for (size_t j = 1; j < cache->count; j++) {
            if (cache->entries[j].usable_until < cache->entries[soonest].usable_until)
                soonest = j;
        }
        remove_at(cache, soonest);
    }
    cache->entries[cache->count++] =
        (struct token_entry){.key = key_copy, .token = token_copy, .usable_until = usable_until};
    pthread_mutex_unlock(&cache->lock);
    return 0;
}

void token_cache_invalidate(struct token_cache *cache, const char *key, const char *token) {
    size_t i;
    pthread_mutex_lock(&cache->lock);
    struct token_entry *entry = find(cache, key, &i);
    if (entry && token && strcmp(entry->token, token) == 0)
        remove_at(cache, i);
    pthread_mutex_unlock(&cache->lock);
}

size_t token_cache_size(struct token_cache *cache) {
    pthread_mutex_lock(&cache->lock);
    size_t n = cache->count;
    pthread_mutex_unlock(&cache->lock);
    return n;
}
