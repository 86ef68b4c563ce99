/* wiping_alloc.h — makes jansson and libcurl zero every buffer before freeing it (and curl
 * never realloc in place), so passwords parsed from
 * request bodies or provider responses do not linger in freed heap memory. */
#ifndef AGYN_BASE_WIPING_ALLOC_H
#define AGYN_BASE_WIPING_ALLOC_H

void wiping_alloc_install(void);
/* free() that zeroes the whole allocation first; NULL is fine. */
void wiping_free(void *p);

#endif
