/* docker_client.h — a minimal Docker Engine API client (v1.41, also Podman's compatible
 * service) over the engine's Unix socket with libcurl: one request with a JSON body and a
 * buffered answer, or a streamed answer handed to a callback (pull progress, events, logs). */
#ifndef AGYN_RUNNER_DOCKER_CLIENT_H
#define AGYN_RUNNER_DOCKER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/dynbuf.h"
#include "core/error.h"

#define DOCKER_API_PREFIX "/v1.41"
#define DOCKER_ANSWER_MAX (4 * 1024 * 1024)

struct docker_answer {
    long status;
    struct dynbuf body; /* at most DOCKER_ANSWER_MAX bytes; .data NULL when there was none */
};

/* Returns non-zero to end the stream early (not an error). Also called with (NULL, 0) about
 * once a second while the stream is quiet, to ask whether to end it. */
typedef int (*docker_chunk_fn)(void *ctx, const char *data, size_t len);

/* Sets the engine's socket from "unix:///path" (or a bare path). AGYN_INVALID_ARGUMENT for
 * other schemes. Not thread-safe: call once at startup. */
int docker_set_host(const char *host, struct agyn_error *err);
const char *docker_socket_path(void);

/* One request: path is under DOCKER_API_PREFIX ("/containers/create?name=x"); body may be
 * NULL; header is one extra "Name: value" or NULL. -1 with AGYN_UNAVAILABLE when the engine
 * cannot be reached; an answer with any HTTP status is 0. timeout_ms 0 = none. */
int docker_call(const char *method, const char *path, const char *header, const json_t *body,
                long timeout_ms, struct docker_answer *answer, struct agyn_error *err);
/* Like docker_call, but the body is handed to on_chunk as it arrives (answer->body.data stays NULL
 * for 2xx answers; error answers are buffered). */
int docker_stream(const char *method, const char *path, const char *header, const json_t *body,
                  docker_chunk_fn on_chunk, void *ctx, struct docker_answer *answer,
                  struct agyn_error *err);
void docker_answer_free(struct docker_answer *answer);

/* The engine's error text of an answer ({"message": ...} or the plain body), truncated. */
void docker_answer_message(const struct docker_answer *answer, char *out, size_t size);

/* Whether the engine answers GET /_ping now. */
bool docker_ping(struct agyn_error *err);

#endif
