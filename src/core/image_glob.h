/* image_glob.h — the kubelet's image globs (credential-provider `matchImages` and the keys of a
 * plugin's `auth` answer), matched as the kubelet's URLsMatch does: an optional scheme is
 * ignored; the host is split on '.' and needs as many labels as the target, each label matched
 * as a shell glob (`*`, `?`, `[...]`: "*.dkr.ecr.*.amazonaws.com", "app*.k8s.io", "k8s.*");
 * the ports must be equal (none matches none only); the glob's path must be a prefix of the
 * target's path. Targets are "<registry>/<repository>" ("123.dkr.ecr.us-east-1.amazonaws.com/
 * app", "docker.io/library/nginx"). */
#ifndef AGYN_CORE_IMAGE_GLOB_H
#define AGYN_CORE_IMAGE_GLOB_H

#include <stdbool.h>

#include "core/error.h"

#define IMAGE_GLOB_MAX 512

/* Checks a glob's syntax: non-empty host, at most IMAGE_GLOB_MAX bytes, printable ASCII without
 * spaces. field names it in the error (AGYN_UNPROCESSABLE). */
int image_glob_validate(const char *glob, const char *field, struct agyn_error *err);

/* True when glob matches target (see above). */
bool image_glob_matches(const char *glob, const char *target);

#endif
