/* wiping_alloc.c — zero-on-free, abort-on-failure allocation hooks for jansson and libcurl. */
#include "base/wiping_alloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/secure_mem.h"
#include "core/xalloc.h"

/* jansson asks for size 0 never; curl may, and expects a usable pointer or NULL. */
static void *hook_malloc(size_t size) {
    return xmalloc(size);
}

/* realloc that never leaves the old block behind unwiped: a new block, a copy, the old one
 * wiped and freed. curl grows its request and response buffers (Authorization and
 * X-Vault-Token headers, provider answers holding passwords) this way. */
static void *wiping_realloc(void *p, size_t size) {
    if (!p)
        return xmalloc(size);
    if (size == 0) {
        secure_free(p);
        return NULL;
    }
    size_t old = malloc_usable_size(p);
    void *grown = xmalloc(size);
    memcpy(grown, p, old < size ? old : size);
    secure_free(p);
    return grown;
}

static char *hook_strdup(const char *s) {
    return xstrdup(s);
}

static void *hook_calloc(size_t n, size_t size) {
    return xcalloc(n, size);
}

void wiping_alloc_install(void) {
    json_set_alloc_funcs(hook_malloc, secure_free);
    /* Must run before any curl_global_init: later calls are reference-counted no-ops. */
    curl_global_init_mem(CURL_GLOBAL_DEFAULT, hook_malloc, secure_free, wiping_realloc, hook_strdup,
                         hook_calloc);
}

void secure_slist_free(struct curl_slist *list) {
    for (struct curl_slist *item = list; item; item = item->next)
        secure_wipe(item->data, strlen(item->data));
    curl_slist_free_all(list);
}
