/* manifest.h — image manifests from a registry: OCI image index and Docker manifest list
 * (choose the entry for a platform), OCI image manifest and Docker schema 2 manifest (config +
 * layers with digest and size), and SHA-256 digests of their exact bytes. Manifests are
 * hostile: size-capped, strictly typed, digests checked before they name any file. */
#ifndef AGYN_REGISTRY_MANIFEST_H
#define AGYN_REGISTRY_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define MANIFEST_MAX_BYTES (4u * 1024u * 1024u)
#define MANIFEST_MAX_LAYERS 1024
#define MANIFEST_MAX_ENTRIES 1024
#define DIGEST_TEXT_MAX 72 /* "sha256:" + 64 hex + NUL */

#define MEDIA_TYPE_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
/* The Accept header value for manifest requests. */
#define MANIFEST_ACCEPT                                                                            \
    MEDIA_TYPE_OCI_INDEX ", " MEDIA_TYPE_DOCKER_LIST ", " MEDIA_TYPE_OCI_MANIFEST                  \
                         ", " MEDIA_TYPE_DOCKER_MANIFEST

enum manifest_kind {
    MANIFEST_INDEX, /* OCI image index or Docker manifest list: entries are manifests */
    MANIFEST_IMAGE, /* OCI image manifest or Docker schema 2: config + layers */
};

struct descriptor {
    char media_type[128];
    char digest[DIGEST_TEXT_MAX];
    uint64_t size;
    char os[32];      /* index entries only; "" when absent */
    char arch[32];    /* index entries only */
    char variant[32]; /* index entries only */
};

struct manifest {
    enum manifest_kind kind;
    char media_type[128];
    struct descriptor config;   /* MANIFEST_IMAGE */
    struct descriptor *entries; /* layers (MANIFEST_IMAGE) or manifests (MANIFEST_INDEX) */
    size_t entry_count;
};

/* "sha256:" followed by exactly 64 lower-case hex digits. */
bool digest_is_sha256(const char *digest);
/* "sha256:<hex>" of data. */
void digest_sha256(const void *data, size_t len, char out[DIGEST_TEXT_MAX]);

/* Parses body; content_type (may be NULL) is the response's Content-Type. The body's own
 * mediaType wins; without one, Content-Type decides, then the shape. On error returns -1 with
 * err->code AGYN_UNPROCESSABLE: unsupported type (schema 1, artifacts), bad JSON, wrong field
 * types, bad digests or sizes, too many entries. */
int manifest_parse(const char *body, size_t len, const char *content_type, struct manifest *out,
                   struct agyn_error *err);
void manifest_free(struct manifest *m);

/* The index entry for os/arch/variant (variant NULL or "" = any; arm64 prefers v8, arm v7).
 * arch may be spelled "arm64/v8"; aliases such as x86_64 and aarch64 are understood. Returns
 * the entry, or NULL with err (AGYN_UNPROCESSABLE) when none matches. */
const struct descriptor *manifest_choose_platform(const struct manifest *index, const char *os,
                                                  const char *arch, const char *variant,
                                                  struct agyn_error *err);

/* The build's architecture in OCI terms ("amd64", "arm64", ...). */
const char *manifest_host_arch(void);

#endif
