/* runner.h — the embedded runner: worker threads that claim workloads from the store (so a
 * separate runner process can do the same), pull every container's image with that
 * container's own attached credentials, report each change as an event, back off on failures
 * (ErrImagePull, then ImagePullBackOff, 10 s doubling to 300 s) and fail the workload with
 * image_pull_failed on a permanent error or when the start grace runs out. */
#ifndef AGYN_RUNNER_RUNNER_H
#define AGYN_RUNNER_RUNNER_H

#include "core/error.h"
#include "providers/resolve.h"
#include "registry/oci_client.h"
#include "runner/runtime.h"

struct runner_config {
    int threads;                 /* workloads started at once (default 4) */
    long long backoff_initial_ms; /* 10000 */
    long long backoff_max_ms;     /* 300000 */
    long long start_grace_ms;     /* 60000 */
    const struct runtime_backend *runtime;
};

struct runner;

int runner_start(const struct runner_config *config, const struct resolve_context *resolve,
                 struct registry_client *registry, struct runner **out, struct agyn_error *err);
/* Asks the workers to finish (a pull in progress is abandoned at its next check) and joins. */
void runner_stop(struct runner *runner);

#endif
