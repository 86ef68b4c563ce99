/* runtime_pull_only.c — the `pull-only` runtime: nothing to execute; a container whose image
 * is present and verified is running, and stopping it only records that it ended. Its pulls
 * go to agynd's content store, where concurrent pulls of one blob share one fetch
 * (registry/blob_fetch_shared.h), across runner processes on that store too. */
#include <string.h>

#include "runner/runtime.h"

static int pull_only_start(const json_t *workload, json_t *container,
                           const struct runtime_start *start, enum runtime_failure *failure,
                           struct agyn_error *err) {
    *failure = RUNTIME_OK;
    return 0;
}

static int pull_only_stop(const json_t *workload, json_t *container, struct agyn_error *err) {
    return 0;
}

const struct runtime_backend runtime_pull_only = {
    .name = "pull-only",
    .engine_pulls = false,
    .start_container = pull_only_start,
    .stop_container = pull_only_stop,
};

const struct runtime_backend *runtime_find(const char *name) {
    if (!name || strcmp(name, runtime_pull_only.name) == 0)
        return &runtime_pull_only;
    if (strcmp(name, runtime_docker.name) == 0)
        return &runtime_docker;
    return NULL;
}
