/* arena.h — per-RPC allocations (protobuf response messages, strings) freed all at once. */
#ifndef AGYN_TF_ARENA_H
#define AGYN_TF_ARENA_H

#include <stddef.h>

struct arena {
    void **ptrs;
    size_t len, cap;
};

void *arena_alloc(struct arena *a, size_t size); /* zeroed; aborts on out of memory */
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of a malloc'd pointer. */
void arena_own(struct arena *a, void *p);
void arena_free(struct arena *a);

#define ARENA_NEW(a, type) ((type *)arena_alloc((a), sizeof(type)))

#endif
