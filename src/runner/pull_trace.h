/* pull_trace.h — AGYN_PULL_TRACE=1: one log line per registry pull with where its time went
 * (struct pull_phases) and one per started workload with the runner's own steps (claim
 * latency, credentials, pulls, runtime start, the "running" status write). Durations only:
 * no credential, token or URL is logged. */
#ifndef AGYN_RUNNER_PULL_TRACE_H
#define AGYN_RUNNER_PULL_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "registry/oci_client.h"

/* Whether AGYN_PULL_TRACE is "1" (read once). */
bool pull_trace_enabled(void);

/* The phases of one pull of workload_id (rc: its outcome). */
void pull_trace_pull(const char *workload_id, int rc, const struct pull_result *result);

/* A workload's steps, in milliseconds since its creation (created_ms, unix) and claim. */
struct workload_trace {
    int64_t created_unix_ms, claimed_unix_ms; /* from the stored row */
    int64_t picked_us;                        /* monotonic: run_workload began */
    int64_t planned_us, pulled_us, started_us, saved_us;
};
void pull_trace_workload(const char *workload_id, const char *outcome,
                         const struct workload_trace *trace);

#endif
