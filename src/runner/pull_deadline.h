/* pull_deadline.h — when a pull attempt must end, and the message saying why it ended. An
 * attempt ends at min(attempt start + pull timeout, workload creation + start grace): the
 * first is a transient failure (retried with back-off), the second fails the workload. Pure
 * arithmetic on monotonic milliseconds, so it can be tested on its own. */
#ifndef AGYN_RUNNER_PULL_DEADLINE_H
#define AGYN_RUNNER_PULL_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

enum pull_deadline_kind {
    PULL_DEADLINE_PULL_TIMEOUT, /* --pull-timeout: this attempt took too long */
    PULL_DEADLINE_START_GRACE,  /* --start-grace: the workload took too long to start */
};

struct pull_deadline {
    int64_t ends_ms;              /* monotonic milliseconds */
    enum pull_deadline_kind kind; /* the limit that sets ends_ms (the start grace on a tie) */
    long long limit_ms;           /* that limit's configured length */
};

/* The monotonic time at which the start grace of a workload created at created_unix_ms (wall
 * clock) runs out, seen from now (now_unix_ms / now_monotonic_ms read together). A creation
 * time in the future (clock step) counts as now. */
int64_t pull_deadline_grace_end(int64_t created_unix_ms, long long start_grace_ms,
                                int64_t now_unix_ms, int64_t now_monotonic_ms);

/* The deadline of an attempt starting at attempt_start_ms. */
struct pull_deadline pull_deadline_for_attempt(int64_t attempt_start_ms, long long pull_timeout_ms,
                                               int64_t grace_end_ms, long long start_grace_ms);

/* "the start grace (5s after a runner took the workload) ended the pull with 12.5 KiB of 10 MiB
 * downloaded" / "the pull timeout (30m per attempt) ended the pull with 0 B downloaded (the
 * image size was not known yet)". */
void pull_deadline_describe(const struct pull_deadline *deadline, uint64_t bytes_received,
                            uint64_t bytes_total, char *out, size_t size);

#endif
