/* wiping_alloc.c — zero-on-free allocation hooks for jansson and libcurl. */
#include "base/wiping_alloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

void wiping_free(void *p) {
    if (!p)
        return;
    explicit_bzero(p, malloc_usable_size(p));
    free(p);
}

/* realloc that never leaves the old block behind unwiped: a new block, a copy, the old one
 * wiped and freed. curl grows its request and response buffers (Authorization and
 * X-Vault-Token headers, provider answers holding passwords) this way. */
static void *wiping_realloc(void *p, size_t size) {
    if (!p)
        return malloc(size);
    if (size == 0) {
        wiping_free(p);
        return NULL;
    }
    size_t old = malloc_usable_size(p);
    void *grown = malloc(size);
    if (!grown)
        return NULL;
    memcpy(grown, p, old < size ? old : size);
    wiping_free(p);
    return grown;
}

static char *wiping_strdup(const char *s) {
    return strdup(s);
}

void wiping_alloc_install(void) {
    json_set_alloc_funcs(malloc, wiping_free);
    /* Must run before any curl_global_init: later calls are reference-counted no-ops. */
    curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free, wiping_realloc, wiping_strdup,
                         calloc);
}
