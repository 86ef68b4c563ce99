/* wiping_alloc.h — installs the process's allocation hooks for jansson and libcurl: every
 * buffer is wiped before it is freed (curl never reallocs in place), so passwords parsed from
 * request bodies or provider responses do not linger in freed heap memory, and an allocation
 * that fails ends the process (core/xalloc.h, the out-of-memory policy), so jansson
 * constructors and curl never return NULL for lack of memory. */
#ifndef AGYN_BASE_WIPING_ALLOC_H
#define AGYN_BASE_WIPING_ALLOC_H

#include <curl/curl.h>

/* Call first in main, before any jansson or curl call. */
void wiping_alloc_install(void);

/* Wipes every line of a curl header list (an Authorization or X-Vault-Token line holds a
 * credential) and frees it; NULL is fine. Also right where the hooks are not installed. */
void secure_slist_free(struct curl_slist *list);

#endif
