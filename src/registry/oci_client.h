/* oci_client.h — OCI distribution client (libcurl + OpenSSL): pulls an image into the local
 * content store with one credential (or none), and logs in to check a credential. Implements
 * the /v2/ ping, Basic and Bearer (token service) challenges, a token cache, manifest/index
 * negotiation for the runner's platform, parallel verified blob downloads and redirects that
 * never carry Authorization to another host. */
#ifndef AGYN_REGISTRY_OCI_CLIENT_H
#define AGYN_REGISTRY_OCI_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/image_ref.h"

struct registry_client_config {
    const char *content_dir;                /* OCI image layout root; created if missing */
    const char *ca_file;                    /* extra CA bundle, or NULL for system CAs */
    const char *const *insecure_registries; /* NULL-terminated "host:port" allowed over HTTP */
    const char *platform_os;                /* NULL = "linux" */
    const char *platform_arch;              /* NULL = the build's arch in OCI terms ("amd64") */
    long connect_timeout_ms;                /* 0 = 10000 */
    long low_speed_timeout_s; /* abort a transfer slower than 1 KiB/s this long; 0 = 60 */
    int max_parallel_blobs;   /* 0 = 8 */
    uint64_t max_image_bytes; /* config + layers as declared; 0 = 20 GiB */
};

#define REGISTRY_DEFAULT_MAX_IMAGE_BYTES (UINT64_C(20) << 30)

struct registry_client;

/* A credential; NULL pointer means anonymous. The client copies nothing it does not need and
 * never logs or reports the password. */
struct registry_auth {
    const char *username;
    const char *password;
};

enum pull_failure {
    PULL_OK = 0,
    PULL_UNAUTHORIZED, /* 401/403 after authenticating: the credential is wrong or lacks access */
    PULL_NOT_FOUND,    /* MANIFEST_UNKNOWN, NAME_UNKNOWN, 404: permanent */
    PULL_INVALID,      /* unsupported manifest, no matching platform, bad reference, declared
                          size above max_image_bytes: permanent */
    PULL_TRANSIENT,    /* network, 5xx, 429, digest or size mismatch, a blob longer than
                          declared, not enough disk space now, timeout, cancel: retry later */
};

/* Where a pull's time went, microseconds (logged by the runner with AGYN_PULL_TRACE=1):
 * the ping (with a TLS attempt first), the credential (token exchange or Basic), the
 * manifest(s), the blobs (first byte, all stored; the ingests' write/hash/verify/fsync/rename
 * summed over blobs) and storing the manifests. */
struct pull_phases {
    int64_t trust_us; /* loading the CA store (the first pull of the process) */
    int64_t ping_us, credential_us, manifest_us, first_byte_us, blobs_us, store_manifest_us;
    int64_t write_us, hash_us, verify_us, sync_us, rename_us;
};

struct pull_result {
    char manifest_digest[80];  /* digest of the platform manifest that was pulled */
    uint64_t bytes_downloaded; /* blobs stored by this pull */
    uint64_t bytes_received;   /* blob bytes that arrived, a failed pull's partial ones too */
    uint64_t bytes_total;      /* sum of config + layer sizes as declared */
    int blobs_total;
    int blobs_cached; /* already present and verified in the content store */
    struct pull_phases phases;
};

int registry_client_new(const struct registry_client_config *config, struct registry_client **out,
                        struct agyn_error *err);
void registry_client_free(struct registry_client *client);

/* Pulls ref (tag or digest) with auth. An image whose declared config + layer sizes exceed
 * max_image_bytes fails (PULL_INVALID) before any blob is requested. On failure returns -1,
 * sets err->kind (an enum pull_failure, read with pull_failure_of) and err->message to the
 * registry's own error text (e.g. "unauthorized:
 * authentication required", from the {"errors":[{code,message}]} body or a plain-text body).
 * Thread-safe: several pulls may run at once on one client. The manifest is always fetched
 * with this call's credential, even when every blob is already cached. */
int registry_pull(struct registry_client *client, const struct image_ref *ref,
                  const struct registry_auth *auth, struct pull_result *result,
                  struct agyn_error *err);

/* What registry_pull_request pulls and how. */
struct registry_pull_request {
    const struct image_ref *ref;      /* tag or digest */
    const struct registry_auth *auth; /* NULL: anonymous */
    /* Without the blobs (false): the manifest (and the platform manifest of an index) is
     * fetched with this request's credential and its size checked, nothing is stored;
     * result->manifest_digest is the authorized platform manifest, which an engine then pulls
     * by that digest. */
    bool fetch_blobs;
    /* When not NULL, the pull gives up (PULL_TRANSIENT, "pull cancelled") as soon as
     * cancelled(cancel_ctx) returns non-zero; it is asked between requests and every 100 ms
     * while blobs download, always on the calling thread, so it must be cheap. */
    int (*cancelled)(void *ctx);
    void *cancel_ctx;
    /* Who pulls (the workload's organization id): what the registry's ping answered is
     * remembered for this tenant and credential only (ping_memory.h); NULL remembers nothing. */
    const char *tenant;
};

/* registry_pull with everything a request may set. */
int registry_pull_request(struct registry_client *client,
                          const struct registry_pull_request *request, struct pull_result *result,
                          struct agyn_error *err);

/* Checks a credential: /v2/ ping, then the Basic check or the token exchange (scope
 * repository:<repository>:pull when repository is not NULL). */
int registry_login(struct registry_client *client, const char *registry_host,
                   const char *repository, const struct registry_auth *auth,
                   struct agyn_error *err);

#endif
