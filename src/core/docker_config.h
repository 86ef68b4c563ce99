/* docker_config.h — reading registry credentials out of a Docker config.json or a Kubernetes
 * .dockerconfigjson body: {"auths": {"<registry>": {"auth": "<base64 user:pass>"} or
 * {"username": "...", "password": "..."}}}. */
#ifndef AGYN_CORE_DOCKER_CONFIG_H
#define AGYN_CORE_DOCKER_CONFIG_H

#include <stddef.h>

#include "core/error.h"

#define DOCKER_CONFIG_MAX_BYTES (1024 * 1024)
#define DOCKER_CONFIG_MAX_ENTRIES 1000

struct docker_config_entry {
    char *key;      /* the "auths" key as written */
    char *registry; /* normalized via registry_pattern_format, or NULL if the key is invalid */
    char *username; /* NULL when error.code != AGYN_OK */
    char *password; /* NULL when error.code != AGYN_OK */
    struct agyn_error error; /* code != AGYN_OK when this entry is bad; field like
                              * auths["ghcr.io"].auth; the message never carries secrets */
};

/* Parses body[0..len). Entries come in document order. A non-empty "auth" wins over
 * "username"/"password" (as in Docker); it is standard base64 with or without '=' padding, no
 * whitespace, decoding to "username:password" split at the first ':'. Usernames and passwords
 * must be non-empty UTF-8 without NUL; usernames also without control characters or ':'.
 * Other members (email, identitytoken, credsStore, ...) are ignored.
 * Whole-document problems return -1 with field "auths": AGYN_PAYLOAD_TOO_LARGE (more than
 * DOCKER_CONFIG_MAX_BYTES), AGYN_INVALID_ARGUMENT (not JSON, duplicate keys), AGYN_UNPROCESSABLE
 * (not an object, no "auths" object, more than DOCKER_CONFIG_MAX_ENTRIES entries), or
 * AGYN_INTERNAL (out of memory). Per-entry problems are reported in entry->error and the call
 * still returns 0. An empty "auths" gives *entries == NULL and *count == 0. */
int docker_config_parse(const char *body, size_t len, struct docker_config_entry **entries,
                        size_t *count, struct agyn_error *err);

/* Wipes passwords (OPENSSL_cleanse) and frees everything; NULL is fine. */
void docker_config_entries_free(struct docker_config_entry *entries, size_t count);

#endif
