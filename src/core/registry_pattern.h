/* registry_pattern.h — the `registry` field of an image pull secret: which images a credential
 * applies to. Parsing normalizes what users paste (schemes, /v1/ and /v2/ suffixes, upper case,
 * Docker Hub aliases); matching and ordering implement docs/semantics.md. */
#ifndef AGYN_CORE_REGISTRY_PATTERN_H
#define AGYN_CORE_REGISTRY_PATTERN_H

#include <stddef.h>

#include "core/error.h"
#include "core/image_ref.h"

#define REGISTRY_PATTERN_MAX 512 /* longest accepted input, scheme and suffixes included */

struct registry_pattern {
    char host[256]; /* lower-cased host with ":port" when given; a label may be exactly "*" */
    char path[256]; /* optional repository prefix without leading or trailing '/', or "" */
};

/* Accepts "ghcr.io", "GHCR.IO", "https://ghcr.io/", "https://index.docker.io/v1/",
 * "registry.local:5000/team", "*.dkr.ecr.us-west-2.amazonaws.com". Docker Hub aliases
 * (index.docker.io, registry-1.docker.io) become "docker.io". Anything else (empty, spaces,
 * bad labels, a '*' inside a label, user-info, query, fragment, bad port) is -1 with
 * AGYN_UNPROCESSABLE naming field.
 * Normalization: an "http://" or "https://" scheme (any case), one trailing '/', then one
 * trailing "/v1" or "/v2" component are removed; host AND path are lower-cased (repository
 * paths are lowercase by the Docker grammar, so "ghcr.io/Acme" means "ghcr.io/acme").
 * A docker.io path is kept as given: "docker.io/nginx" is the prefix "nginx" (the user or
 * organization "nginx"), not "library/nginx"; write "docker.io/library/nginx" for the
 * official image.
 * Host rules: core/registry_host.h, the grammar image references use too, with '*' labels
 * allowed (never the last one, never in an IPv4 address). IPv6 literals are lower-cased but
 * not otherwise rewritten, so "[::1]" and "[0::1]" are different hosts (image_ref keeps them
 * as written too). */
int registry_pattern_parse(const char *text, const char *field, struct registry_pattern *out,
                           struct agyn_error *err);

/* "host[:port][/path]", the normalized form stored and returned by the API. */
void registry_pattern_format(const struct registry_pattern *p, char *buf, size_t size);

/* True when the pattern applies to the image: equal label count, each label equal or '*',
 * ports equal (no port only matches no port), path a prefix of the repository on '/' bounds. */
int registry_pattern_matches(const struct registry_pattern *p, const struct image_ref *image);

/* Orders candidates, more specific first: fewer '*' labels first, then longer path (more
 * segments) first. Returns <0, 0, >0 like strcmp; equal ones keep attachment order (use a
 * stable sort). */
int registry_pattern_compare_specificity(const struct registry_pattern *a,
                                         const struct registry_pattern *b);

#endif
