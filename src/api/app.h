/* app.h — what every request handler can reach: the store, the keyring, the server's
 * configuration. One per agynd process; shared by all worker threads (each member is
 * thread-safe on its own). */
#ifndef AGYN_API_APP_H
#define AGYN_API_APP_H

#include <stddef.h>
#include <strings.h>

#include "api/outbound.h"
#include "credentials/resolve.h"
#include "crypto/keyring.h"
#include "registry/oci_client.h"
#include "store/quota.h"
#include "store/store.h"

struct app_config {
    char data_dir[4096];
    char database[4200];            /* "sqlite:<data_dir>/agyn.db" unless overridden */
    char keyring_file[4200];        /* "<data_dir>/keyring.json" unless overridden */
    char listen[300];               /* "127.0.0.1:8080" */
    int http_threads;               /* worker threads of the HTTP server */
    char tls_cert[4096];            /* PEM certificate chain: serve HTTPS when set (with tls_key) */
    char tls_key[4096];             /* PEM private key for tls_cert */
    char public_url[1024];          /* the URL clients use ("https://agyn.example.com"), or "" */
    char metrics_token[256];        /* bearer token /metrics requires, or "" */
    char metrics_listen[300];       /* a separate HOST:PORT serving only /metrics, or "" */
    int max_connections_per_client; /* open connections one client address may hold */
    int max_connections;            /* open connections in all (event streams included) */
    struct outbound_config outbound; /* verify/test jobs: threads, per-org limits, deadline */
    struct org_quotas quotas;        /* what one organization may hold (store/quota.h) */
    int database_pool;               /* PostgreSQL connections at most (--database-pool) */
    int operational_only;            /* `agynd runner`: /healthz, /readyz, /metrics only */
};

/* Whether clients reach this server over HTTPS (directly or through a TLS proxy named by
 * public_url): session cookies are then marked Secure. */
static inline int app_config_is_https(const struct app_config *config) {
    return config->tls_cert[0] || strncasecmp(config->public_url, "https://", 8) == 0;
}

struct runtime_backend;

struct app {
    struct app_config config;
    struct store *store;
    struct keyring *keyring;
    struct resolve_context resolve;        /* store + keyring, for opening stored credentials */
    struct registry_client *registry;      /* for verify; shared with the runner */
    struct outbound_pool *outbound;        /* runs verify and test off the HTTP threads */
    const struct runtime_backend *runtime; /* the runner's; /readyz asks whether it is ready */
};

#endif
