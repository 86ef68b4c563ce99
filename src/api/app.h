/* app.h — what every request handler can reach: the store, the keyring, the server's
 * configuration. One per agynd process; shared by all worker threads (each member is
 * thread-safe on its own). */
#ifndef AGYN_API_APP_H
#define AGYN_API_APP_H

#include <stddef.h>

#include "crypto/keyring.h"
#include "providers/resolve.h"
#include "registry/oci_client.h"
#include "store/store.h"

struct app_config {
    char data_dir[4096];
    char database[4200];     /* "sqlite:<data_dir>/agyn.db" unless overridden */
    char keyring_file[4200]; /* "<data_dir>/keyring.json" unless overridden */
    char listen[300];        /* "127.0.0.1:8080" */
    int http_threads;        /* worker threads of the HTTP server */
};

struct app {
    struct app_config config;
    struct store *store;
    struct keyring *keyring;
    struct resolve_context resolve; /* store + keyring, for opening stored credentials */
    struct registry_client *registry; /* for verify; shared with the runner */
};

#endif
