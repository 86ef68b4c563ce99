/* ping_memory.h — what a registry's /v2/ ping answered (plain HTTP or TLS, and its challenge),
 * remembered for PING_MEMORY_TTL_S so that the next pull by the same tenant with the same
 * credential goes straight to the manifest: a warm start saves the ping's round trips (and,
 * for a plain-HTTP registry, the TLS attempt before it).
 *
 * Keys are the tenant (an organization id) and the token cache's key (registry + SHA-256 of
 * the credential, token_cache.h): a pull only ever uses what a pull of its own organization
 * with its own credential found, so one organization learns nothing, not even timing, from
 * another's pulls (anonymous ones included). A session opened from memory whose first request
 * fails or is refused forgets the entry and pings again (session.c). Shared by threads; at
 * most PING_MEMORY_ENTRIES, the oldest make room. */
#ifndef AGYN_REGISTRY_PING_MEMORY_H
#define AGYN_REGISTRY_PING_MEMORY_H

#include <stdbool.h>

#include "registry/auth_challenge.h"

#define PING_MEMORY_TTL_S 300.0
#define PING_MEMORY_ENTRIES 256

struct ping_answer {
    bool plain_http; /* the registry answered on http://, after a failed TLS handshake */
    struct auth_challenge challenge;
};

/* 0 and *out when key was remembered less than PING_MEMORY_TTL_S before now; else -1. */
int ping_memory_get(const char *key, double now, struct ping_answer *out);
void ping_memory_put(const char *key, const struct ping_answer *answer, double now);
void ping_memory_forget(const char *key);

#endif
