/* wiping_alloc.c — zero-on-free allocation hooks for jansson. */
#include "base/wiping_alloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void wiping_free(void *p) {
    if (!p)
        return;
    explicit_bzero(p, malloc_usable_size(p));
    free(p);
}

void wiping_alloc_install(void) {
    json_set_alloc_funcs(malloc, wiping_free);
}
