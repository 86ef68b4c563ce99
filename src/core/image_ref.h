/* image_ref.h — container image references, parsed by the Docker reference grammar
 * (distribution/reference): [registry/]path[:tag][@digest], normalized the way Docker does. */
#ifndef AGYN_CORE_IMAGE_REF_H
#define AGYN_CORE_IMAGE_REF_H

#include <stddef.h>

#include "core/error.h"

#define IMAGE_REF_MAX 512
#define IMAGE_REF_DOCKER_HUB "docker.io"

struct image_ref {
    /* Registry host, lower-cased, with ":port" when given. Docker Hub (no registry,
     * "docker.io", "index.docker.io", "registry-1.docker.io") becomes "docker.io". */
    char registry[256];
    /* Repository path; official Docker Hub images get "library/" ("nginx" -> "library/nginx"). */
    char repository[256];
    char tag[129];   /* "" when absent; "latest" when neither tag nor digest was given */
    char digest[80]; /* "algorithm:hex" or "" */
};

/* Parses text (at most IMAGE_REF_MAX bytes). On error returns -1 with err->code
 * AGYN_UNPROCESSABLE, err->field = field, and a message saying what is wrong, e.g.
 * `image "Foo/bar": repository name must be lowercase`; out is then zeroed.
 * Differences from distribution/reference, all stricter or case-only:
 *  - the registry is lower-cased, and "localhost" is recognized in any case;
 *  - a first component with upper case that is not a registry (no '.', ':' or "localhost"),
 *    as in "Foo/bar", is rejected; Docker would take "Foo" as a registry host;
 *  - the registry host follows core/registry_host.h, the grammar registry patterns use:
 *    DNS labels of at most 63 characters, names of at most 253, a numeric last label only
 *    in a real IPv4 address ("1.2.3/app" is rejected), IPv6 literals that are real
 *    addresses, ports 1..65535 without leading zeros;
 *  - only sha256 digests are accepted: sha384/sha512 digests are well-formed but do not fit
 *    the digest field, and are rejected with a message saying so. */
int image_ref_parse(const char *text, const char *field, struct image_ref *out,
                    struct agyn_error *err);

/* Canonical form: "registry/repository[:tag][@digest]", e.g. "docker.io/library/nginx:latest". */
void image_ref_format(const struct image_ref *ref, char *buf, size_t size);

/* True when s[0..len) is one repository path component: lowercase letters and digits
 * separated by '.', '_', "__" or runs of '-' ("my-app", "foo__bar", "v1.2"). */
int image_ref_path_component_is_valid(const char *s, size_t len);

/* True for the Docker Hub host names "docker.io", "index.docker.io" and
 * "registry-1.docker.io" (len bytes of host, case-insensitive, no port). */
int image_ref_is_docker_hub_host(const char *host, size_t len);

/* The host that serves the registry API: "registry-1.docker.io" for "docker.io", else registry. */
const char *image_ref_api_host(const struct image_ref *ref);

#endif
