/* runtime.h — container runtime backends behind one interface (as curl does for TLS): the
 * runner authorizes each image with that container's own credentials, then hands the
 * container to the runtime. `pull-only` (the default) pulls into agynd's content store and
 * considers a container running once its verified image is there; `docker` (Docker Engine
 * API, Docker or Podman) runs it. Further backends plug in here without touching the runner. */
#ifndef AGYN_RUNNER_RUNTIME_H
#define AGYN_RUNNER_RUNTIME_H

#include <stdbool.h>

#include <jansson.h>

#include "core/error.h"
#include "store/store.h"

/* How a start failed; the runner maps it to the container's reason and the workload's
 * failure_reason (ErrImagePull/image_pull_failed, CreateContainerError/container_create_failed,
 * RunContainerError/container_start_failed, EngineUnavailable: retried with back-off). */
enum runtime_failure {
    RUNTIME_OK = 0,
    RUNTIME_PULL_FAILED,
    RUNTIME_CREATE_FAILED,
    RUNTIME_START_FAILED,
    RUNTIME_UNAVAILABLE,
};

/* One start: the credential that authorized the image (NULL pointers: anonymous), handed to
 * the engine for this pull only; on_progress (may be NULL) gets bytes done/total. */
struct runtime_start {
    const char *username;
    const char *password;
    void (*on_progress)(void *ctx, unsigned long long done, unsigned long long total);
    void *progress_ctx;
};

struct runtime_backend {
    const char *name;
    /* true: the engine fetches the blobs, the runner only authorizes the manifest with the
     * container's credential (registry_pull_request without fetch_blobs); false: the runner pulls.
     */
    bool engine_pulls;
    /* container is the workload's container object (name, role, image, image_digest); the
     * runtime may add fields (container_id). Containers start in order, main first. */
    int (*start_container)(const json_t *workload, json_t *container,
                           const struct runtime_start *start, enum runtime_failure *failure,
                           struct agyn_error *err);
    int (*stop_container)(const json_t *workload, json_t *container, struct agyn_error *err);
    /* Optional: whether the engine can be reached now (/readyz). */
    bool (*ready)(struct agyn_error *err);
    /* Optional: begins following the engine (lifecycle events, adoption at start) with the
     * store it writes workload changes to; ended by unwatch. */
    int (*watch)(struct store *store, struct agyn_error *err);
    void (*unwatch)(void);
};

const struct runtime_backend *runtime_find(const char *name);

extern const struct runtime_backend runtime_pull_only;
extern const struct runtime_backend runtime_docker;

#endif
