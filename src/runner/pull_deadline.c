/* pull_deadline.c — the end of a pull attempt and the message naming it (pull_deadline.h). */
#include "runner/pull_deadline.h"

#include <stdio.h>

#include "core/byte_size.h"
#include "core/duration.h"

int64_t pull_deadline_grace_end(int64_t created_unix_ms, long long start_grace_ms,
                                int64_t now_unix_ms, int64_t now_monotonic_ms) {
    int64_t age_ms = now_unix_ms > created_unix_ms ? now_unix_ms - created_unix_ms : 0;
    return now_monotonic_ms - age_ms + start_grace_ms;
}

struct pull_deadline pull_deadline_for_attempt(int64_t attempt_start_ms, long long pull_timeout_ms,
                                               int64_t grace_end_ms, long long start_grace_ms) {
    int64_t timeout_end_ms = attempt_start_ms + pull_timeout_ms;
    if (grace_end_ms <= timeout_end_ms)
        return (struct pull_deadline){grace_end_ms, PULL_DEADLINE_START_GRACE, start_grace_ms};
    return (struct pull_deadline){timeout_end_ms, PULL_DEADLINE_PULL_TIMEOUT, pull_timeout_ms};
}

void pull_deadline_describe(const struct pull_deadline *deadline, uint64_t bytes_received,
                            uint64_t bytes_total, char *out, size_t size) {
    char limit[DURATION_TEXT_MAX], received[BYTE_SIZE_TEXT_MAX], total[BYTE_SIZE_TEXT_MAX];
    duration_format_ms(deadline->limit_ms, limit);
    byte_size_format(bytes_received, received);
    byte_size_format(bytes_total, total);
    char named[160];
    if (deadline->kind == PULL_DEADLINE_START_GRACE)
        snprintf(named, sizeof named,
                 "the start grace (--start-grace %s after a runner took the workload)", limit);
    else
        snprintf(named, sizeof named, "the pull timeout (--pull-timeout %s per attempt)", limit);
    if (bytes_total > 0)
        snprintf(out, size, "%s ended the pull with %s of %s downloaded", named, received, total);
    else
        snprintf(out, size, "%s ended the pull before the image's size was known", named);
}
