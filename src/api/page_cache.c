/* page_cache.c — a small LRU of rendered list pages keyed by caller-built strings and tagged
 * with the store's data version: an entry whose version is not the current one is never
 * served, and is dropped when met. Bounded in entries and in bytes per page, so the memory it
 * holds stays under PAGE_CACHE_SLOTS * PAGE_MAX_BYTES. Pages are reference counted, so a
 * response can send one while a newer version replaces it. */
#include "api/page_cache.h"

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_CACHE_SLOTS 16
#define PAGE_MAX_BYTES (128u * 1024)
#define KEY_MAX 256

struct page_ref {
    atomic_size_t refs;
    struct cached_page page; /* must stay last: its body is a flexible array */
};

struct slot {
    char key[KEY_MAX];
    uint64_t version;
    _Atomic uint64_t last_used;
    struct page_ref *ref; /* NULL: empty */
};

/* Lookups share the lock (they touch only atomics); puts and clears take it alone. */
static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct slot slots[PAGE_CACHE_SLOTS];
static _Atomic uint64_t use_clock;

static struct page_ref *ref_of(struct cached_page *page) {
    return (struct page_ref *)((char *)page - offsetof(struct page_ref, page));
}

void page_cache_release(void *page) {
    if (!page)
        return;
    struct page_ref *ref = ref_of(page);
    if (atomic_fetch_sub(&ref->refs, 1) == 1)
        free(ref);
}

/* Under cache_lock, taken alone. */
static void empty_slot(struct slot *slot) {
    if (slot->ref)
        page_cache_release(&slot->ref->page);
    slot->ref = NULL;
    slot->key[0] = '\0';
}

struct cached_page *page_cache_get(const char *key, uint64_t version) {
    if (version == 0)
        return NULL;
    struct cached_page *found = NULL;
    pthread_rwlock_rdlock(&cache_lock);
    for (size_t i = 0; i < PAGE_CACHE_SLOTS; i++) {
        struct slot *slot = &slots[i];
        if (!slot->ref || strcmp(slot->key, key) != 0)
            continue;
        if (slot->version == version) { /* a stale page is replaced by the next put */
            atomic_store(&slot->last_used, atomic_fetch_add(&use_clock, 1) + 1);
            atomic_fetch_add(&slot->ref->refs, 1);
            found = &slot->ref->page;
        }
        break;
    }
    pthread_rwlock_unlock(&cache_lock);
    return found;
}

struct cached_page *page_cache_put(const char *key, uint64_t version, const char *body,
                                   size_t len) {
    if (version == 0 || len > PAGE_MAX_BYTES || strlen(key) >= KEY_MAX)
        return NULL;
    struct page_ref *ref = malloc(sizeof *ref + len);
    if (!ref)
        return NULL;
    atomic_init(&ref->refs, 2); /* the cache's and the caller's */
    ref->page.len = len;
    memcpy(ref->page.body, body, len);
    pthread_rwlock_wrlock(&cache_lock);
    /* The same key (a page rendered twice at once, or under an older version), else an empty
     * slot, else the least recently used. */
    struct slot *target = NULL;
    for (size_t i = 0; i < PAGE_CACHE_SLOTS && !target; i++)
        if (slots[i].ref && strcmp(slots[i].key, key) == 0)
            target = &slots[i];
    if (target && target->version > version) { /* rendered from older reads: not kept */
        pthread_rwlock_unlock(&cache_lock);
        atomic_store(&ref->refs, 1);
        return &ref->page;
    }
    for (size_t i = 0; i < PAGE_CACHE_SLOTS && !target; i++)
        if (!slots[i].ref)
            target = &slots[i];
    if (!target) {
        target = &slots[0];
        for (size_t i = 1; i < PAGE_CACHE_SLOTS; i++)
            if (atomic_load(&slots[i].last_used) < atomic_load(&target->last_used))
                target = &slots[i];
    }
    empty_slot(target);
    memcpy(target->key, key, strlen(key) + 1);
    target->version = version;
    atomic_store(&target->last_used, atomic_fetch_add(&use_clock, 1) + 1);
    target->ref = ref;
    pthread_rwlock_unlock(&cache_lock);
    return &ref->page;
}

void page_cache_clear(void) {
    pthread_rwlock_wrlock(&cache_lock);
    for (size_t i = 0; i < PAGE_CACHE_SLOTS; i++)
        empty_slot(&slots[i]);
    pthread_rwlock_unlock(&cache_lock);
}
