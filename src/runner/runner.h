/* runner.h — the embedded runner: worker threads that claim workloads from the store (so a
 * separate runner process can do the same; at most org_concurrency per organization), pull
 * every container's image with that container's own attached credentials, report each change
 * as an event, back off on failures (ErrImagePull, then ImagePullBackOff, 10 s doubling to
 * 300 s) and fail the workload with image_pull_failed on a permanent error or when the start
 * grace runs out — also in the middle of a download. */
#ifndef AGYN_RUNNER_RUNNER_H
#define AGYN_RUNNER_RUNNER_H

#include "core/error.h"
#include "credentials/resolve.h"
#include "registry/oci_client.h"
#include "runner/runtime.h"

struct runner_config {
    int threads; /* workloads started at once (default 4) */
    /* Workloads of one organization started at once on this runner; 0 = threads / 2, at
     * least 1. A worker never claims a workload of an organization at the limit. */
    int org_concurrency;
    long long backoff_initial_ms; /* 10000 */
    long long backoff_max_ms;     /* 300000 */
    /* A pull attempt ends at min(attempt start + pull_timeout_ms, workload creation +
     * start_grace_ms) (see pull_deadline.h); the first is retried, the second fails. */
    long long start_grace_ms;  /* 60000 */
    long long pull_timeout_ms; /* 1800000; 0 = the default */
    const struct runtime_backend *runtime;
    /* This runner's node (`agynd runner --node-name`), recorded on the workloads it claims;
     * NULL: the embedded runner, "embedded-<uuid>". */
    const char *node_name;
    /* Claims are held for this long and renewed by a heartbeat (default 15000); another
     * runner takes over a claim whose lease ran out. */
    long long lease_ms;
};

struct runner;

int runner_start(const struct runner_config *config, const struct resolve_context *resolve,
                 struct registry_client *registry, struct runner **out, struct agyn_error *err);
/* Asks the workers to finish (a pull in progress is abandoned at its next check) and joins. */
void runner_stop(struct runner *runner);

#endif
