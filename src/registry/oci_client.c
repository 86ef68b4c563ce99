/* oci_client.c — the registry client's entry points (oci_client.h): configuration, pulling an
 * image (manifest or index -> platform manifest -> blobs -> content store) and checking a
 * credential with a login. */
#include "registry/oci_client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "core/xalloc.h"
#include "core/byte_size.h"
#include "registry/blob_fetch_shared.h"
#include "registry/content_store.h"
#include "registry/http.h"
#include "registry/manifest.h"
#include "registry/pull_failure.h"
#include "registry/session.h"
#include "registry/token_cache.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_LOW_SPEED_TIMEOUT_S 60L
#define DEFAULT_MAX_PARALLEL_BLOBS 8

struct registry_client {
    struct http_policy policy;
    pthread_mutex_t trust_lock; /* guards the lazy policy.trust_store */
    char *content_dir;
    char *ca_file;
    char **insecure_registries; /* NULL-terminated copy */
    char *platform_os;
    char *platform_arch;
    int max_parallel_blobs;
    uint64_t max_image_bytes;
    struct token_cache *tokens;
    struct content_store *store;
};

/* A manifest as fetched: the exact bytes, their digest, and the parsed form. */
struct fetched_manifest {
    struct http_response resp;
    char digest[DIGEST_TEXT_MAX];
    struct manifest parsed;
};

static char *copy_or_null(const char *text, bool *failed) {
    if (!text)
        return NULL;
    char *copy = strdup(text);
    if (!copy)
        *failed = true;
    return copy;
}

static char **copy_list(const char *const *list, bool *failed) {
    size_t n = 0;
    while (list && list[n])
        n++;
    char **copy = calloc(n + 1, sizeof *copy);
    if (!copy) {
        *failed = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        copy[i] = copy_or_null(list[i], failed);
    return copy;
}

int registry_client_new(const struct registry_client_config *config, struct registry_client **out,
                        struct agyn_error *err) {
    *out = NULL;
    if (!config || !config->content_dir || !config->content_dir[0])
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "content_dir",
                         "the registry client needs a content directory");
    /* libcurl (and through it OpenSSL's TLS) is initialized by the first session, not here. */
    struct registry_client *client = xcalloc(1, sizeof *client);
    pthread_mutex_init(&client->trust_lock, NULL);
    bool failed = false;
    client->content_dir = copy_or_null(config->content_dir, &failed);
    client->ca_file = copy_or_null(config->ca_file, &failed);
    client->insecure_registries = copy_list(config->insecure_registries, &failed);
    client->platform_os =
        copy_or_null(config->platform_os ? config->platform_os : "linux", &failed);
    client->platform_arch =
        copy_or_null(config->platform_arch ? config->platform_arch : manifest_host_arch(), &failed);
    client->max_parallel_blobs =
        config->max_parallel_blobs > 0 ? config->max_parallel_blobs : DEFAULT_MAX_PARALLEL_BLOBS;
    client->max_image_bytes =
        config->max_image_bytes > 0 ? config->max_image_bytes : REGISTRY_DEFAULT_MAX_IMAGE_BYTES;
    client->policy.insecure_registries = (const char *const *)client->insecure_registries;
    client->policy.connect_timeout_ms =
        config->connect_timeout_ms > 0 ? config->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    client->policy.low_speed_timeout_s =
        config->low_speed_timeout_s > 0 ? config->low_speed_timeout_s : DEFAULT_LOW_SPEED_TIMEOUT_S;
    client->tokens = token_cache_new();
    if (failed || !client->tokens) {
        registry_client_free(client);
        return agyn_fail(err, AGYN_INTERNAL, "", "out of memory");
    }
    /* The CA store (the whole system bundle, a few MiB) is built at the first pull, not here:
     * an idle server should not carry it. An unreadable ca_file is still refused now. */
    if (client->ca_file && access(client->ca_file, R_OK) != 0) {
        agyn_fail(err, AGYN_INVALID_ARGUMENT, "ca_file", "cannot read CA file %s", client->ca_file);
        registry_client_free(client);
        return -1;
    }
    if (content_store_open(client->content_dir, &client->store, err) != 0) {
        registry_client_free(client);
        return -1;
    }
    *out = client;
    return 0;
}

/* Builds (or shares) the CA store on first use. */
static int ensure_trust_store(struct registry_client *client, struct agyn_error *err) {
    pthread_mutex_lock(&client->trust_lock);
    int rc = 0;
    if (!client->policy.trust_store)
        rc = http_trust_store_acquire(client->ca_file, &client->policy.trust_store, err);
    pthread_mutex_unlock(&client->trust_lock);
    return rc;
}

void registry_client_free(struct registry_client *client) {
    if (!client)
        return;
    content_store_close(client->store);
    token_cache_free(client->tokens);
    http_trust_store_release(client->policy.trust_store);
    for (size_t i = 0; client->insecure_registries && client->insecure_registries[i]; i++)
        free(client->insecure_registries[i]);
    free(client->insecure_registries);
    free(client->content_dir);
    free(client->ca_file);
    free(client->platform_os);
    free(client->platform_arch);
    pthread_mutex_destroy(&client->trust_lock);
    free(client);
}

static void fetched_manifest_free(struct fetched_manifest *m) {
    http_response_free(&m->resp);
    manifest_free(&m->parsed);
}

/* GETs repository's manifest reference; checks its digest against expected_digest (when not
 * NULL) and parses it. */
static int fetch_manifest(struct registry_session *s, const char *repository, const char *reference,
                          const char *expected_digest, struct fetched_manifest *out,
                          struct agyn_error *err) {
    char path[700];
    memset(out, 0, sizeof *out);
    http_response_init(&out->resp, MANIFEST_MAX_BYTES);
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", repository, reference);
    if (registry_session_get(s, path, MANIFEST_ACCEPT, &out->resp, err) != 0)
        return -1;
    if (out->resp.status != 200)
        return pull_fail_response(out->resp.status, out->resp.body.data, out->resp.body.len, err);
    if (out->resp.body_too_large)
        return pull_fail(err, PULL_INVALID, "manifest %s is larger than %u bytes",
                         expected_digest ? expected_digest : reference, MANIFEST_MAX_BYTES);
    const char *body = out->resp.body.data ? out->resp.body.data : "";
    digest_sha256(body, out->resp.body.len, out->digest);
    if (expected_digest && strcmp(expected_digest, out->digest) != 0)
        return pull_fail(err, PULL_TRANSIENT, "manifest %s digest mismatch", expected_digest);
    if (manifest_parse(body, out->resp.body.len, out->resp.content_type, &out->parsed, err) != 0) {
        if (s->answered_by[0]) /* a redirect target's bytes are never shown */
            return pull_fail(err, PULL_INVALID,
                             "manifest %s from redirect target %s is not a usable manifest",
                             expected_digest ? expected_digest : reference, s->answered_by);
        pull_set_kind(err, PULL_INVALID);
        return -1;
    }
    return 0;
}

/* Resolves an index to the platform's image manifest (into image). */
static int resolve_platform(struct registry_client *client, struct registry_session *s,
                            const char *repository, const struct fetched_manifest *index,
                            struct fetched_manifest *image, struct agyn_error *err) {
    const struct descriptor *entry = manifest_choose_platform(&index->parsed, client->platform_os,
                                                              client->platform_arch, NULL, err);
    if (!entry) {
        pull_set_kind(err, PULL_INVALID);
        return -1;
    }
    if (fetch_manifest(s, repository, entry->digest, entry->digest, image, err) != 0)
        return -1;
    if (image->resp.body.len != entry->size)
        return pull_fail(err, PULL_TRANSIENT, "manifest %s size mismatch", entry->digest);
    if (image->parsed.kind != MANIFEST_IMAGE)
        return pull_fail(err, PULL_INVALID, "image index entry %s is not an image manifest",
                         entry->digest);
    return 0;
}

static int store_manifest(struct registry_client *client, const struct fetched_manifest *m,
                          struct agyn_error *err) {
    if (content_store_has_blob(client->store, m->digest, m->resp.body.len))
        return 0;
    if (content_store_put(client->store, m->digest, m->resp.body.data ? m->resp.body.data : "",
                          m->resp.body.len, err) != INGEST_COMMITTED) {
        pull_set_kind(err, PULL_TRANSIENT);
        return -1;
    }
    return 0;
}

/* Refuses an image whose blobs declare more than the size limit, before any is requested: a
 * permanent failure (the same manifest will not shrink), naming the largest blob when it alone
 * is too big. Each size is at most 2^50 and there are at most 1025 blobs: the sum fits. */
static int check_image_size(const struct registry_client *client, const struct descriptor *blobs,
                            size_t count, uint64_t *total_out, struct agyn_error *err) {
    uint64_t total = 0;
    size_t largest = 0;
    for (size_t i = 0; i < count; i++) {
        total += blobs[i].size;
        if (blobs[i].size > blobs[largest].size)
            largest = i;
    }
    *total_out = total;
    if (total <= client->max_image_bytes)
        return 0;
    char declared[BYTE_SIZE_TEXT_MAX], limit[BYTE_SIZE_TEXT_MAX], alone[BYTE_SIZE_TEXT_MAX];
    byte_size_format(total, declared);
    byte_size_format(client->max_image_bytes, limit);
    byte_size_format(blobs[largest].size, alone);
    if (blobs[largest].size > client->max_image_bytes)
        return pull_fail(err, PULL_INVALID,
                         "image too large: %s %s alone declares %s (%llu bytes), more than the "
                         "image size limit of %s",
                         largest == 0 ? "config" : "layer", blobs[largest].digest, alone,
                         (unsigned long long)blobs[largest].size, limit);
    return pull_fail(err, PULL_INVALID,
                     "image too large: its %zu blobs declare %s (%llu bytes), more than the "
                     "image size limit of %s",
                     count, declared, (unsigned long long)total, limit);
}

static int pull_image(struct registry_client *client, struct registry_session *s,
                      const struct image_ref *ref, bool fetch_blobs, struct pull_result *result,
                      struct agyn_error *err) {
    struct fetched_manifest top, platform;
    memset(&platform, 0, sizeof platform);
    const char *expected = ref->digest[0] ? ref->digest : NULL;
    int64_t started = clock_monotonic_us();
    int rc =
        fetch_manifest(s, ref->repository, expected ? expected : ref->tag, expected, &top, err);
    bool is_index = rc == 0 && top.parsed.kind == MANIFEST_INDEX;
    if (is_index)
        rc = resolve_platform(client, s, ref->repository, &top, &platform, err);
    result->phases.manifest_us = clock_monotonic_us() - started;
    const struct fetched_manifest *image = is_index ? &platform : &top;
    struct descriptor *blobs = NULL;
    size_t count = 0;
    if (rc == 0) {
        count = 1 + image->parsed.entry_count;
        blobs = xcalloc(count, sizeof *blobs);
    }
    if (rc == 0) {
        blobs[0] = image->parsed.config;
        memcpy(blobs + 1, image->parsed.entries, image->parsed.entry_count * sizeof *blobs);
        snprintf(result->manifest_digest, sizeof result->manifest_digest, "%s", image->digest);
        result->blobs_total = (int)count;
        rc = check_image_size(client, blobs, count, &result->bytes_total, err);
    }
    if (rc == 0 && !fetch_blobs)
        goto done; /* authorized: the manifest answered to this credential */
    if (rc == 0) {
        struct blob_fetch_stats stats;
        /* A blob another pull is fetching is awaited, not fetched again: this pull's manifest
         * has just answered to this pull's credential. */
        rc = blob_fetch_shared(s, client->store, ref->repository, blobs, count,
                               client->max_parallel_blobs, &stats, err);
        result->bytes_downloaded = stats.bytes_downloaded;
        result->bytes_received = stats.bytes_received;
        result->blobs_cached = stats.blobs_cached;
        result->phases.first_byte_us = stats.first_byte_us;
        result->phases.blobs_us = stats.all_stored_us;
        result->phases.write_us = stats.ingest.write_us;
        result->phases.hash_us = stats.ingest.hash_us;
        result->phases.verify_us = stats.ingest.verify_us;
        result->phases.sync_us = stats.ingest.sync_us;
        result->phases.rename_us = stats.ingest.rename_us;
    }
    /* Manifests are stored last, so a stored manifest implies its blobs are stored. */
    int64_t stored = clock_monotonic_us();
    if (rc == 0)
        rc = store_manifest(client, image, err);
    if (rc == 0 && is_index)
        rc = store_manifest(client, &top, err);
    result->phases.store_manifest_us = clock_monotonic_us() - stored;
done:
    free(blobs);
    fetched_manifest_free(&platform);
    fetched_manifest_free(&top);
    return rc;
}

int registry_pull(struct registry_client *client, const struct image_ref *ref,
                  const struct registry_auth *auth, struct pull_result *result,
                  struct agyn_error *err) {
    struct registry_pull_request request = {.ref = ref, .auth = auth, .fetch_blobs = true};
    return registry_pull_request(client, &request, result, err);
}

int registry_pull_request(struct registry_client *client,
                          const struct registry_pull_request *request, struct pull_result *result,
                          struct agyn_error *err) {
    const struct image_ref *ref = request->ref;
    struct pull_result unused;
    result = result ? result : &unused;
    pull_set_kind(err, PULL_OK);
    memset(result, 0, sizeof *result);
    if (!client || !ref || !ref->repository[0] || (!ref->tag[0] && !ref->digest[0]))
        return pull_fail(err, PULL_INVALID, "image reference is incomplete");
    if (ref->digest[0] && !digest_is_sha256(ref->digest))
        return pull_fail(err, PULL_INVALID, "only sha256 image digests are supported");
    struct registry_session session;
    int64_t trust_started = clock_monotonic_us();
    if (ensure_trust_store(client, err) != 0) {
        pull_set_kind(err, PULL_INVALID);
        return -1;
    }
    result->phases.trust_us = clock_monotonic_us() - trust_started;
    /* This pull's own copy of the policy carries its cancel hook to every transfer. */
    struct http_policy policy = client->policy;
    policy.cancelled = request->cancelled;
    policy.cancel_ctx = request->cancel_ctx;
    int rc =
        registry_session_open_for_pull(&session, &policy, client->tokens, image_ref_api_host(ref),
                                       ref->repository, request->auth, request->tenant, err);
    result->phases.ping_us = session.ping_us;
    result->phases.credential_us = session.credential_us;
    if (rc == 0)
        rc = pull_image(client, &session, ref, request->fetch_blobs, result, err);
    registry_session_close(&session, rc != 0 ? err : NULL);
    return rc;
}

int registry_login(struct registry_client *client, const char *registry_host,
                   const char *repository, const struct registry_auth *auth,
                   struct agyn_error *err) {
    pull_set_kind(err, PULL_OK);
    if (!client || !registry_host)
        return pull_fail(err, PULL_INVALID, "registry host is missing");
    struct registry_session session;
    if (ensure_trust_store(client, err) != 0) {
        pull_set_kind(err, PULL_INVALID);
        return -1;
    }
    int rc = registry_session_open(&session, &client->policy, client->tokens, registry_host,
                                   repository, auth, err);
    if (rc == 0 && session.challenge.scheme != AUTH_SCHEME_NONE) {
        struct http_response resp;
        http_response_init(&resp, 64 * 1024);
        rc = registry_session_get(&session, "/v2/", NULL, &resp, err);
        if (rc == 0 && resp.status != 200)
            rc = pull_fail_response(resp.status, resp.body.data, resp.body.len, err);
        http_response_free(&resp);
    }
    registry_session_close(&session, rc != 0 ? err : NULL);
    return rc;
}
