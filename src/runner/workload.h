/* workload.h — a workload (one run of an agent) as the API shows it, and the writes that move
 * it: each change is stored and appended to the event log (workload.updated, plus
 * workload.status_changed when the status moved) in one transaction. */
#ifndef AGYN_RUNNER_WORKLOAD_H
#define AGYN_RUNNER_WORKLOAD_H

#include <jansson.h>

#include "core/error.h"
#include "store/quota.h"
#include "store/store.h"

#define FAILURE_IMAGE_PULL "image_pull_failed"
#define FAILURE_START "start_failed"
#define FAILURE_CONTAINER_CREATE "container_create_failed"
#define FAILURE_CONTAINER_START "container_start_failed"

/* The workload's restart_policy: what happens when a container ends (docker runtime). never:
 * it stays ended; on-failure: restarted when it exited non-zero (or was OOM-killed); always:
 * restarted whatever its exit code. A restart waits a back-off (CrashLoopBackOff). */
#define RESTART_NEVER "never"
#define RESTART_ON_FAILURE "on-failure"
#define RESTART_ALWAYS "always"

/* The public JSON of a workload row: containers parsed, internal columns dropped. */
json_t *workload_view(const json_t *row);

/* Creates a workload for an agent with one waiting container per image (agent, its MCP
 * servers, its hooks), each with its resource's command, args and env; restart_policy is one
 * of the RESTART_ names (NULL: never). Publishes workload.created. max_active (> 0) bounds the
 * organization's workloads that are starting, running or stopping (429 naming
 * --max-active-workloads-per-org), counted in the inserting transaction; 0 = no bound. */
int workload_create(struct store *store, const char *organization_id, const char *agent_id,
                    const char *restart_policy, long long max_active, json_t **view_out,
                    struct agyn_error *err);

/* Writes status, failure fields and containers of workload (a view as returned above,
 * modified by the caller) and publishes the events. */
int workload_save(struct store *store, json_t *workload, const char *previous_status,
                  struct agyn_error *err);

/* What a runner's write also requires of the stored row, checked in the writing transaction
 * (AGYN_CONFLICT otherwise): claimed_by (non-NULL) must still be this runner's claim, and
 * lease_expired_before (non-NULL, RFC 3339) must be later than the row's lease_expires_at. */
struct workload_guard {
    const char *claimed_by;
    const char *lease_expired_before;
};

/* workload_save with a guard (NULL: none). */
int workload_save_guarded(struct store *store, json_t *workload, const char *previous_status,
                          const struct workload_guard *guard, struct agyn_error *err);

/* A fresh container object: {name, role, image, image_digest: null, status: "waiting",
 * reason: "ContainerCreating", message: "", credential: null, started_at: null,
 * finished_at: null, restart_count: 0}. */
json_t *container_new(const char *name, const char *role, const char *image);

#endif
