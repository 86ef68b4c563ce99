/* docker_pull.h — one engine pull (POST /images/create) of an image by digest with one
 * credential in X-Registry-Auth, its progress stream turned into bytes done/total and its
 * error (which arrives inside a 200 stream as {"error": ...}) into a message. */
#ifndef AGYN_RUNNER_DOCKER_PULL_H
#define AGYN_RUNNER_DOCKER_PULL_H

#include <stdbool.h>

#include "core/error.h"
#include "runner/runtime.h"

/* Whether the engine holds image (a name@digest) already. */
bool docker_image_present(const char *image);

/* Pulls image ("registry/repository@sha256:...") from server with start's credential.
 * Returns -1 with *failure RUNTIME_PULL_FAILED and the engine's own text, or
 * RUNTIME_UNAVAILABLE when the engine cannot be reached. */
int docker_pull_image(const char *image, const char *server, const struct runtime_start *start,
                      enum runtime_failure *failure, struct agyn_error *err);

#endif
