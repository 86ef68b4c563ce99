/* pull_trace.c — the AGYN_PULL_TRACE log lines (pull_trace.h). */
#include "runner/pull_trace.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"

static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static bool trace_on;

static void read_switch(void) {
    const char *value = getenv("AGYN_PULL_TRACE");
    trace_on = value && strcmp(value, "1") == 0;
}

bool pull_trace_enabled(void) {
    pthread_once(&trace_once, read_switch);
    return trace_on;
}

/* Microseconds as milliseconds with one decimal, into a caller's buffer. */
static const char *ms(char buf[24], int64_t us) {
    snprintf(buf, 24, "%.1f", (double)us / 1000.0);
    return buf;
}

void pull_trace_pull(const char *workload_id, int rc, const struct pull_result *result) {
    if (!pull_trace_enabled())
        return;
    const struct pull_phases *p = &result->phases;
    char b[13][24];
    snprintf(b[12], sizeof b[12], "%llu", (unsigned long long)result->bytes_downloaded);
    log_kv("info", "pull trace", {"workload_id", workload_id},
           {"result", rc == 0 ? "ok" : "failed"}, {"trust_ms", ms(b[0], p->trust_us)},
           {"ping_ms", ms(b[1], p->ping_us)}, {"credential_ms", ms(b[2], p->credential_us)},
           {"manifest_ms", ms(b[3], p->manifest_us)}, {"first_byte_ms", ms(b[4], p->first_byte_us)},
           {"blobs_ms", ms(b[5], p->blobs_us)}, {"write_ms", ms(b[6], p->write_us)},
           {"hash_ms", ms(b[7], p->hash_us)}, {"verify_ms", ms(b[8], p->verify_us)},
           {"fsync_ms", ms(b[9], p->sync_us)}, {"rename_ms", ms(b[10], p->rename_us)},
           {"store_manifest_ms", ms(b[11], p->store_manifest_us)}, {"bytes", b[12]});
}

void pull_trace_workload(const char *workload_id, const char *outcome,
                         const struct workload_trace *t) {
    if (!pull_trace_enabled())
        return;
    char b[6][24];
    log_kv("info", "workload trace", {"workload_id", workload_id}, {"outcome", outcome},
           {"claim_latency_ms", ms(b[0], (t->claimed_unix_ms - t->created_unix_ms) * 1000)},
           {"credentials_ms", ms(b[1], t->planned_us - t->picked_us)},
           {"pulls_ms", ms(b[2], t->pulled_us - t->planned_us)},
           {"runtime_start_ms", ms(b[3], t->started_us - t->pulled_us)},
           {"status_write_ms", ms(b[4], t->saved_us - t->started_us)},
           {"picked_to_saved_ms", ms(b[5], t->saved_us - t->picked_us)});
}
