/* runtime_docker_restarts.h — the `docker` runtime's restart policy. When the engine reports
 * that a container ended and the workload's restart_policy wants it back (on-failure: a
 * non-zero exit or an OOM kill; always: any end), the container waits in CrashLoopBackOff
 * (restart_at, the crash back-off doubling with each restart) and one restarter thread starts
 * it again then (restart_count + 1); the workload stays running meanwhile. A restarted main
 * container gets a new network namespace, so the pod's other running containers are
 * restarted after it to join that one. Every read-modify-write of a running workload by the
 * event thread and the restarter holds docker_workloads_lock, so neither loses the other's
 * change. */
#ifndef AGYN_RUNNER_RUNTIME_DOCKER_RESTARTS_H
#define AGYN_RUNNER_RUNTIME_DOCKER_RESTARTS_H

#include <stdbool.h>

#include <jansson.h>

#include "core/error.h"
#include "store/store.h"

void docker_workloads_lock(void);
void docker_workloads_unlock(void);

/* Whether workload's restart_policy restarts a container that ended so. */
bool docker_restart_wanted(const json_t *workload, long long exit_code, bool oom_killed);

/* Marks container (which just ended; exit_code and finished_at set) as waiting for its restart:
 * reason CrashLoopBackOff, a message saying when and why, restart_at; wakes the restarter
 * once the caller has saved the workload. */
void docker_restart_schedule(json_t *container, const char *why);

int docker_restarts_start(struct store *store, struct agyn_error *err);
void docker_restarts_stop(void);

#endif
