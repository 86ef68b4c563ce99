/* ping_memory.c — a small mutex-guarded table of ping answers (ping_memory.h). Entries are
 * allocated as registries are pinged, so an idle server keeps none of it resident. */
#include "registry/ping_memory.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ping_entry {
    char *key;
    struct ping_answer answer;
    double remembered_at;
};

static pthread_mutex_t memory_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ping_entry *entries[PING_MEMORY_ENTRIES];

static size_t find(const char *key) {
    for (size_t i = 0; i < PING_MEMORY_ENTRIES; i++)
        if (entries[i] && strcmp(entries[i]->key, key) == 0)
            return i;
    return PING_MEMORY_ENTRIES;
}

static void drop(size_t i) {
    if (!entries[i])
        return;
    free(entries[i]->key);
    free(entries[i]);
    entries[i] = NULL;
}

int ping_memory_get(const char *key, double now, struct ping_answer *out) {
    pthread_mutex_lock(&memory_lock);
    size_t i = find(key);
    bool fresh = i < PING_MEMORY_ENTRIES && now >= entries[i]->remembered_at &&
                 now - entries[i]->remembered_at < PING_MEMORY_TTL_S;
    if (fresh)
        *out = entries[i]->answer;
    pthread_mutex_unlock(&memory_lock);
    return fresh ? 0 : -1;
}

void ping_memory_put(const char *key, const struct ping_answer *answer, double now) {
    pthread_mutex_lock(&memory_lock);
    size_t slot = find(key);
    if (slot == PING_MEMORY_ENTRIES) { /* a free slot, else the oldest entry's */
        slot = 0;
        for (size_t i = 0; i < PING_MEMORY_ENTRIES && entries[slot]; i++)
            if (!entries[i] || entries[i]->remembered_at < entries[slot]->remembered_at)
                slot = i;
        drop(slot);
        struct ping_entry *entry = calloc(1, sizeof *entry);
        char *copy = strdup(key);
        if (!entry || !copy) { /* remembering is only an optimization */
            free(entry);
            free(copy);
            pthread_mutex_unlock(&memory_lock);
            return;
        }
        entry->key = copy;
        entries[slot] = entry;
    }
    entries[slot]->answer = *answer;
    entries[slot]->remembered_at = now;
    pthread_mutex_unlock(&memory_lock);
}

void ping_memory_forget(const char *key) {
    pthread_mutex_lock(&memory_lock);
    size_t i = find(key);
    if (i < PING_MEMORY_ENTRIES)
        drop(i);
    pthread_mutex_unlock(&memory_lock);
}
