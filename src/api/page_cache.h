/* page_cache.h — rendered list pages, kept while the store's data version is unchanged, so that
 * a page read again and again between two commits is rendered once. Keys are built by the
 * caller from everything the page depends on and everything that authorized it (organization,
 * the principal's role and token), so a page is only ever served to the authorization it was
 * rendered for; the caller authorizes every request before it looks here. */
#ifndef AGYN_API_PAGE_CACHE_H
#define AGYN_API_PAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* One rendered page; immutable, shared, freed when its last reference is released. */
struct cached_page {
    size_t len;
    char body[];
};

/* The page cached under key for data version `version` (0: never found), with a reference
 * the caller releases with page_cache_release; NULL when there is none. */
struct cached_page *page_cache_get(const char *key, uint64_t version);
/* Keeps a copy of body under key for `version` (0: nothing is kept) and returns a reference to
 * it (NULL when the page is too large to keep or memory is short: answer with body itself). */
struct cached_page *page_cache_put(const char *key, uint64_t version, const char *body, size_t len);
/* Drops one reference; the page is freed with its last one. Takes void * to serve as a
 * libmicrohttpd free callback. */
void page_cache_release(void *page);
/* Forgets every page (tests, shutdown). */
void page_cache_clear(void);

#endif
