/* docker_logs.h — a container's stdout and stderr from the engine (GET /containers/{id}/logs),
 * its multiplexed stream (8-byte frame headers) decoded into plain bytes. */
#ifndef AGYN_RUNNER_DOCKER_LOGS_H
#define AGYN_RUNNER_DOCKER_LOGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct docker_logs_options {
    bool follow;
    bool timestamps;
    long tail; /* lines from the end; -1 = all */
};

/* Called with each decoded piece, and with (NULL, 0) about once a second while quiet; a
 * non-zero return ends the stream. */
typedef int (*docker_logs_fn)(void *ctx, const char *data, size_t len);

/* Blocks until the engine ends the stream (at once without follow; when the container
 * stops with it) or on_text asks to end. AGYN_NOT_FOUND when the engine has no such
 * container, AGYN_UNAVAILABLE when it cannot be reached. */
int docker_logs_read(const char *container_id, const struct docker_logs_options *options,
                     docker_logs_fn on_text, void *ctx, struct agyn_error *err);

#endif
