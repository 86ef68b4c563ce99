/* runtime.h — container runtime backends behind one interface (as curl does for TLS): the
 * runner pulls and verifies each image, then hands the container to the runtime. `pull-only`
 * (the default) considers a container running once its verified image is in the content
 * store; runc and Kubernetes backends plug in here without touching the runner. */
#ifndef AGYN_RUNNER_RUNTIME_H
#define AGYN_RUNNER_RUNTIME_H

#include <jansson.h>

#include "core/error.h"

struct runtime_backend {
    const char *name;
    /* container is the workload's container object (name, role, image, image_digest). */
    int (*start_container)(const json_t *workload, json_t *container, struct agyn_error *err);
    int (*stop_container)(const json_t *workload, json_t *container, struct agyn_error *err);
};

const struct runtime_backend *runtime_find(const char *name);

extern const struct runtime_backend runtime_pull_only;

#endif
