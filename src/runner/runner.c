/* runner.c — claiming workloads and driving each through its pulls to running, failed or
 * stopped. */
#include "runner/runner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/row.h"
#include "core/xalloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/uuid.h"
#include "core/duration.h"
#include "core/names.h"
#include "core/transience.h"
#include "credentials/pull_credentials.h"
#include "registry/pull_failure.h"
#include "runner/pull_deadline.h"
#include "runner/pull_trace.h"
#include "runner/workload.h"
#include "store/tables.h"
#include "store/work_signal.h"

struct runner {
    struct runner_config config;
    const struct resolve_context *resolve;
    struct registry_client *registry;
    char runner_id[64];
    pthread_t *threads;
    pthread_t heartbeat;
    bool heartbeat_started;
    pthread_mutex_t heartbeat_lock;
    pthread_cond_t heartbeat_wake;
    /* The looker: at most one idle worker probes the store for work at a time; the others wait
     * on looker_free until it claims something (or the process stops). */
    pthread_mutex_t looker_lock;
    pthread_cond_t looker_free;
    bool looker_present;
    atomic_int stopping;
};

enum pull_outcome { PULL_DONE, PULL_WORKLOAD_FAILED, PULL_STOPPED };

#define DEFAULT_PULL_TIMEOUT_MS (30LL * 60 * 1000)
#define DEFAULT_LEASE_MS 15000
#define SATURATED_ORGS_MAX 64                      /* at most one per runner thread */
#define CLAIM_FILTERS_MAX (2 + SATURATED_ORGS_MAX) /* status, claimed_by; the saturated orgs */

static void set_text(json_t *object, const char *key, const char *value) {
    json_object_set_new(object, key, value ? json_string(value) : json_null());
}

static bool being_worked_on(const json_t *workload) {
    const char *status = row_text(workload, "status");
    return status && (strcmp(status, "starting") == 0 || strcmp(status, "stopping") == 0);
}

/* The claim query for unclaimed workloads in status: with a threshold (> 0), organizations
 * that already have that many workloads claimed by this runner and being started or stopped
 * are left out, so a worker takes another organization's workload instead. The filters point
 * into *claimed_out, which the caller frees after the query. */
static int claim_query(struct runner *runner, const char *status, int threshold,
                       struct store_filter *filters, struct store_query *query,
                       json_t **claimed_out, struct agyn_error *err) {
    filters[0] = (struct store_filter){"status", status};
    filters[1] = (struct store_filter){"claimed_by", NULL};
    *query = (struct store_query){.filters = filters, .filter_count = 2};
    *claimed_out = NULL;
    if (threshold <= 0)
        return 0;
    struct store_filter *saturated = filters + 2;
    size_t n = 0;
    struct store_filter mine = {"claimed_by", runner->runner_id};
    struct store_query claimed_query = {.filters = &mine, .filter_count = 1};
    int64_t next = 0;
    if (store_list(runner->resolve->store, &TABLE_WORKLOADS, &claimed_query, claimed_out, &next,
                   err) != 0)
        return -1;
    size_t count = json_array_size(*claimed_out);
    for (size_t i = 0; i < count && n < SATURATED_ORGS_MAX; i++) {
        const json_t *row = json_array_get(*claimed_out, i);
        const char *org = row_text(row, "organization_id");
        if (!org || !being_worked_on(row))
            continue; /* a finished workload whose release failed holds no slot */
        bool counted = false;
        int claimed = 0;
        for (size_t j = 0; j < count && !counted; j++) {
            const json_t *other_row = json_array_get(*claimed_out, j);
            const char *other = row_text(other_row, "organization_id");
            bool same = other && being_worked_on(other_row) && strcmp(org, other) == 0;
            counted = same && j < i; /* the organization was looked at already */
            claimed += same;
        }
        if (!counted && claimed >= threshold)
            saturated[n++] = (struct store_filter){"organization_id", org};
    }
    query->exclusions = saturated;
    query->exclusion_count = n;
    return 0;
}

/* Claims one unclaimed workload in `status` (see claim_query); *row_out NULL when there is
 * none. With limit_orgs, organizations take turns: a workload of an organization with no
 * workload being started here comes first, then one with one, and so on up to
 * org_concurrency, the oldest first within each turn. The write transaction serializes the
 * claims of every worker, so the per-organization counts read inside it are exact. */
static int claim(struct runner *runner, const char *status, bool limit_orgs, json_t **row_out,
                 struct agyn_error *err) {
    struct store *store = runner->resolve->store;
    struct store_filter filters[CLAIM_FILTERS_MAX];
    struct store_query query;
    json_t *claimed = NULL;
    *row_out = NULL;
    char labels[32];
    snprintf(labels, sizeof labels, "status=\"%s\"", status);
    metrics_add("agyn_runner_claim_probes_total", labels, 1);
    /* A read first: idle workers look without taking the write lock. */
    json_t *row = NULL;
    int threshold = 0, rc;
    if (limit_orgs) {
        /* Most looks find nothing (another runner's looker claimed it first): one indexed read
         * says so before this runner's claims are listed for the organizations' turns. */
        rc = claim_query(runner, status, 0, filters, &query, &claimed, err);
        if (rc == 0)
            rc = store_find(store, &TABLE_WORKLOADS, &query, &row, err);
        if (rc != 0 || !row)
            return rc;
        json_decref(row);
        row = NULL;
        threshold = 1;
    }
    for (;;) {
        rc = claim_query(runner, status, threshold, filters, &query, &claimed, err);
        if (rc == 0)
            rc = store_find(store, &TABLE_WORKLOADS, &query, &row, err);
        json_decref(claimed);
        claimed = NULL;
        if (rc != 0 || row || !limit_orgs || threshold >= runner->config.org_concurrency)
            break;
        threshold++; /* nobody waits with fewer claimed: the next turn */
    }
    if (rc != 0)
        return -1;
    if (!row)
        return 0;
    json_decref(row);
    row = NULL;
    /* On PostgreSQL the candidate row is locked (FOR UPDATE SKIP LOCKED): runner processes
     * claiming at once each get another workload, and none waits for the others. */
    if (store_tx_begin_row_locks(store, err) != 0)
        return -1;
    rc = claim_query(runner, status, threshold, filters, &query, &claimed, err);
    query.lock_rows = true;
    if (rc == 0)
        rc = store_find(store, &TABLE_WORKLOADS, &query, &row, err);
    json_decref(claimed);
    if (rc == 0 && row) {
        char now[RFC3339_LEN];
        clock_now_rfc3339(now);
        char lease_end[RFC3339_LEN];
        clock_format_rfc3339(clock_now_unix_ms() + runner->config.lease_ms, lease_end);
        json_t *changes = json_pack("{s:s, s:s, s:s}", "claimed_by", runner->runner_id,
                                    "claimed_at", now, "lease_expires_at", lease_end);
        /* The node a workload starts on runs it: its heartbeat keeps the running workload's
         * lease (a stop is claimed by whichever runner, the node stays). */
        if (runner->config.node_name && strcmp(status, "starting") == 0)
            json_object_set_new(changes, "node", json_string(runner->config.node_name));
        rc = store_update_quietly(store, &TABLE_WORKLOADS, NULL, row_text(row, "id"), changes, err);
        json_decref(changes);
        set_text(row, "claimed_by", runner->runner_id);
        set_text(row, "claimed_at", now);
    }
    if (rc == 0)
        rc = store_tx_commit(store, err);
    else
        store_tx_rollback(store);
    if (rc != 0) {
        json_decref(row);
        return -1;
    }
    *row_out = row;
    return 0;
}

/* Whether the stored workload is still claimed by this runner (a lease that ran out may have
 * been taken over by another runner); a store error counts as no. */
static bool still_claimed(struct runner *runner, const char *workload_id) {
    json_t *row = NULL;
    struct agyn_error ignored;
    if (store_get(runner->resolve->store, &TABLE_WORKLOADS, NULL, workload_id, &row, &ignored) != 0)
        return false;
    const char *claimed_by = row_text(row, "claimed_by");
    bool mine = claimed_by && strcmp(claimed_by, runner->runner_id) == 0;
    json_decref(row);
    return mine;
}

/* Gives up this runner's claim; a claim another runner took over is left alone. A workload
 * still starting or stopping (its work was not finished) can be claimed again: every runner is
 * told. Otherwise the claim freed a slot of its organization (--runner-org-concurrency): this
 * process's looker looks again. */
static void release(struct runner *runner, const char *workload_id) {
    struct store *store = runner->resolve->store;
    struct agyn_error ignored;
    if (store_tx_begin(store, &ignored) != 0)
        return;
    json_t *row = NULL;
    int rc = store_get(store, &TABLE_WORKLOADS, NULL, workload_id, &row, &ignored);
    const char *claimed_by = rc == 0 ? row_text(row, "claimed_by") : NULL;
    if (claimed_by && strcmp(claimed_by, runner->runner_id) == 0) {
        json_t *changes = json_pack("{s:n}", "claimed_by");
        rc = store_update_quietly(store, &TABLE_WORKLOADS, NULL, workload_id, changes, &ignored);
        json_decref(changes);
        if (rc == 0 && being_worked_on(row))
            rc = work_signal_publish(store, &ignored);
    }
    json_decref(row);
    if (rc != 0 || store_tx_commit(store, &ignored) != 0)
        store_tx_rollback(store);
    work_signal_wake();
}

static int stop_requested(struct runner *runner, const char *workload_id) {
    if (atomic_load(&runner->stopping))
        return 1;
    json_t *row = NULL;
    struct agyn_error err = {0};
    /* Only a deleted workload counts as stopped: a passing store error must not cancel the
     * pull (pull_watch remembers a stop for good). */
    if (store_get(runner->resolve->store, &TABLE_WORKLOADS, NULL, workload_id, &row, &err) != 0)
        return err.code == AGYN_NOT_FOUND;
    int requested = row_int(row, "stop_requested") != 0;
    json_decref(row);
    return requested;
}

/* Returns 0 when written, 1 when the stored status is no longer previous_status (a stop
 * request moved it to "stopping": the caller finishes the stop instead), -1 on an error. */
static int save(struct runner *runner, json_t *workload, const char *previous_status) {
    struct agyn_error err = {0};
    if (workload_save(runner->resolve->store, workload, previous_status, &err) == 0)
        return 0;
    if (err.code == AGYN_CONFLICT)
        return 1;
    log_kv("error", "saving workload failed", {"workload_id", row_text(workload, "id")},
           {"error", err.message});
    return -1;
}

/* Sleeps up to ms, waking early on a work signal (a stop request publishes one). */
static void backoff_sleep(struct runner *runner, const char *workload_id, long long ms) {
    int64_t until = clock_monotonic_ms() + ms;
    while (!stop_requested(runner, workload_id)) {
        int64_t left = until - clock_monotonic_ms();
        if (left <= 0)
            return;
        work_signal_wait(work_signal_generation(), (int)(left < 500 ? left : 500));
    }
}

static void append_message(char *buf, size_t size, const char *part) {
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", len ? "; " : "", part);
}

static void count_pull(const char *result, double seconds, uint64_t bytes) {
    char labels[64];
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    metrics_add("agyn_image_pulls_total", labels, 1);
    metrics_observe("agyn_image_pull_duration_seconds", labels, seconds);
    metrics_add("agyn_image_pull_bytes_total", "", (double)bytes);
}

static const char *failure_name(enum pull_failure failure) {
    switch (failure) {
    case PULL_OK:
        return "success";
    case PULL_UNAUTHORIZED:
        return "unauthorized";
    case PULL_NOT_FOUND:
        return "not_found";
    case PULL_INVALID:
        return "invalid";
    case PULL_TRANSIENT:
        return "transient";
    }
    return "transient";
}

/* What a pull in progress checks to give up early: shutdown, a stop request (read from the
 * store at most twice a second) and the attempt's deadline (pull_deadline.h): a transfer that
 * keeps trickling just above the client's low-speed limit still ends there. */
struct pull_watch {
    struct runner *runner;
    const char *workload_id;
    const char *organization_id; /* the pull's tenant (registry_pull_request.tenant) */
    int64_t next_check_ms;
    int stop_seen;
    struct pull_deadline deadline; /* of the attempt in progress */
    bool expired;                  /* the deadline ended the attempt */
};

static int pull_cancelled(void *ctx) {
    struct pull_watch *watch = ctx;
    int64_t now = clock_monotonic_ms();
    if (atomic_load(&watch->runner->stopping))
        return 1;
    if (now >= watch->deadline.ends_ms) {
        watch->expired = true;
        return 1;
    }
    if (!watch->stop_seen && now >= watch->next_check_ms) {
        watch->next_check_ms = now + 500;
        watch->stop_seen = stop_requested(watch->runner, watch->workload_id);
    }
    return watch->stop_seen;
}

/* One registry pull, timed and counted. */
static int pull_once(struct pull_watch *watch, const struct image_ref *ref,
                     const struct registry_auth *auth, struct pull_result *result,
                     struct agyn_error *err) {
    memset(result, 0, sizeof *result);
    pull_set_kind(err, PULL_OK);
    int64_t start = clock_monotonic_us();
    /* With an engine that pulls, the runner only authorizes: the manifest with this
     * container's credential, every start, cached or not. */
    struct registry_pull_request request = {
        .ref = ref,
        .auth = auth,
        .fetch_blobs = !watch->runner->config.runtime->engine_pulls,
        .cancelled = pull_cancelled,
        .cancel_ctx = watch,
        .tenant = watch->organization_id,
    };
    int rc = registry_pull_request(watch->runner->registry, &request, result, err);
    if (rc != 0 && watch->expired) { /* say which deadline, instead of "pull cancelled" */
        char why[320];
        pull_deadline_describe(&watch->deadline, result->bytes_received, result->bytes_total, why,
                               sizeof why);
        pull_fail(err, PULL_TRANSIENT, "%s", why);
    }
    count_pull(failure_name(rc == 0 ? PULL_OK : pull_failure_of(err)),
               (double)(clock_monotonic_us() - start) / 1e6, result->bytes_downloaded);
    pull_trace_pull(watch->workload_id, rc, result);
    return rc;
}

/* One attempt: every candidate in order until one authenticates. Returns 0 on success with
 * *used set (NULL for anonymous); otherwise *permanent says whether retrying can help. */
static int attempt_pull(struct pull_watch *watch, const struct image_ref *ref,
                        const char *image_text, struct pull_credentials *credentials,
                        struct pull_result *result, const struct pull_credential **used,
                        int *permanent, char *message, size_t message_size) {
    message[0] = '\0';
    *used = NULL;
    *permanent = 1;
    char part[1400];
    struct agyn_error err = {0};
    if (credentials->count == 0) {
        if (pull_once(watch, ref, NULL, result, &err) == 0)
            return 0;
        snprintf(part, sizeof part,
                 "pulling \"%s\" anonymously (no attached image pull secret "
                 "matches its registry): %s",
                 image_text, err.message);
        append_message(message, message_size, part);
        *permanent = pull_failure_of(&err) != PULL_TRANSIENT;
        return -1;
    }
    bool provider_unreachable = false;
    for (size_t i = 0; i < credentials->count; i++) {
        const struct pull_credential *cred = &credentials->items[i];
        if (!cred->password) {
            bool for_now = pull_credential_unresolved_for_now(cred);
            provider_unreachable |= for_now;
            snprintf(part, sizeof part, "pulling \"%s\" with image pull secret \"%s\": %s%s",
                     image_text, cred->name, cred->error.message,
                     for_now ? " (unreachable for now: retried)" : "");
            append_message(message, message_size, part);
            continue;
        }
        struct registry_auth auth = {cred->username, cred->password};
        agyn_error_clear(&err);
        if (pull_once(watch, ref, &auth, result, &err) == 0) {
            *used = cred;
            return 0;
        }
        snprintf(part, sizeof part, "pulling \"%s\" with image pull secret \"%s\": %s", image_text,
                 cred->name, err.message);
        append_message(message, message_size, part);
        if (pull_failure_of(&err) == PULL_UNAUTHORIZED)
            continue; /* the next matching credential may authenticate */
        *permanent = pull_failure_of(&err) != PULL_TRANSIENT;
        return -1;
    }
    /* Every candidate was refused or could not be resolved: permanent, unless a provider was
     * unreachable (core/transience.h) and its secret may still authenticate once it is back. */
    *permanent = !provider_unreachable;
    return -1;
}

static bool container_reason_is(const json_t *container, const char *reason) {
    const char *current = row_text(container, "reason");
    return current && strcmp(current, reason) == 0;
}

static const char *container_target(const json_t *container, const char **column) {
    static const char *const columns[] = {"agent_id", "mcp_id", "hook_id"};
    for (size_t i = 0; i < 3; i++)
        if (row_text(container, columns[i])) {
            *column = columns[i];
            return row_text(container, columns[i]);
        }
    *column = "agent_id";
    return "";
}

static enum pull_outcome fail_workload(struct runner *runner, json_t *workload, json_t *container,
                                       const char *reason, const char *message) {
    set_text(container, "reason", reason);
    set_text(container, "message", message);
    set_text(workload, "status", "failed");
    set_text(workload, "failure_reason", FAILURE_IMAGE_PULL);
    set_text(workload, "failure_message", message);
    return save(runner, workload, "starting") == 1 ? PULL_STOPPED : PULL_WORKLOAD_FAILED;
}

/* What a container's pull needs, fixed when the workload starts (docs/semantics.md): its
 * parsed image and its credentials with their passwords resolved now. */
struct container_plan {
    struct image_ref ref;
    struct pull_credentials credentials;
    const struct pull_credential *used; /* the one that authorized the image; NULL: anonymous */
};

/* A store failure while reading the attached image pull secrets (a busy database) is
 * transient: the attempt is retried with back-off until the start grace ends, never made
 * with fewer credentials. Anything else fails the workload. */
static enum pull_outcome plan_container(struct runner *runner, json_t *workload, json_t *container,
                                        struct container_plan *plan, int64_t grace_end_ms) {
    struct agyn_error err = {0};
    if (image_ref_parse(row_text(container, "image"), "image", &plan->ref, &err) != 0)
        return fail_workload(runner, workload, container, "InvalidImageName", err.message);
    const char *column;
    const char *target = container_target(container, &column);
    const char *workload_id = row_text(workload, "id");
    long long backoff = runner->config.backoff_initial_ms;
    while (pull_credentials_collect(runner->resolve, row_text(workload, "organization_id"), column,
                                    target, &plan->ref, &plan->credentials, &err) != 0) {
        long long remaining = grace_end_ms - clock_monotonic_ms();
        if (!transience_code_is_transient(err.code) || remaining <= 0)
            return fail_workload(runner, workload, container, "ErrImagePull", err.message);
        set_text(container, "reason", "ErrImagePull");
        set_text(container, "message", err.message);
        if (save(runner, workload, "starting") == 1 || stop_requested(runner, workload_id) ||
            atomic_load(&runner->stopping))
            return PULL_STOPPED;
        backoff_sleep(runner, workload_id, backoff < remaining ? backoff : remaining);
        backoff = backoff * 2 > runner->config.backoff_max_ms ? runner->config.backoff_max_ms
                                                              : backoff * 2;
    }
    return PULL_DONE;
}

/* Attempts until the image is pulled, a permanent failure, a stop, or the start grace ends
 * (grace_end_ms, monotonic; also in the middle of an attempt). */
static enum pull_outcome pull_container(struct runner *runner, json_t *workload, json_t *container,
                                        struct container_plan *plan, int64_t grace_end_ms) {
    const char *workload_id = row_text(workload, "id");
    const char *image_text = row_text(container, "image");
    struct image_ref ref = plan->ref;
    struct pull_credentials credentials = plan->credentials;
    long long backoff = runner->config.backoff_initial_ms;
    char message[4096] = "";
    enum pull_outcome outcome = PULL_STOPPED;
    struct pull_watch watch = {.runner = runner,
                               .workload_id = workload_id,
                               .organization_id = row_text(workload, "organization_id")};
    for (int attempt = 0;; attempt++) {
        if (stop_requested(runner, workload_id))
            break;
        if (attempt > 0) /* a provider that was unreachable may be back */
            pull_credentials_retry_unresolved(runner->resolve,
                                              row_text(workload, "organization_id"), &credentials);
        int64_t now = clock_monotonic_ms();
        if (now >= grace_end_ms) { /* ran out while backing off, or before the first attempt */
            if (!message[0]) {
                char grace[DURATION_TEXT_MAX];
                duration_format_ms(runner->config.start_grace_ms, grace);
                snprintf(message, sizeof message,
                         "pulling \"%s\": the start grace (--start-grace %s after a runner "
                         "took the workload) ran out before the pull could start",
                         image_text, grace);
            }
            outcome = fail_workload(runner, workload, container,
                                    container_reason_is(container, "ImagePullBackOff")
                                        ? "ImagePullBackOff"
                                        : "ErrImagePull",
                                    message);
            break;
        }
        watch.deadline = pull_deadline_for_attempt(now, runner->config.pull_timeout_ms,
                                                   grace_end_ms, runner->config.start_grace_ms);
        watch.expired = false;
        struct pull_result result = {0};
        const struct pull_credential *used = NULL;
        int permanent = 0;
        char previous[sizeof message];
        memcpy(previous, message, sizeof previous);
        if (attempt_pull(&watch, &ref, image_text, &credentials, &result, &used, &permanent,
                         message, sizeof message) == 0) {
            set_text(container, "image_digest", result.manifest_digest);
            set_text(container, "reason", NULL);
            set_text(container, "message", NULL);
            json_object_set_new(container, "credential",
                                used ? json_pack("{s:s, s:s}", "image_pull_secret_id",
                                                 used->secret_id, "name", used->name)
                                     : json_null());
            plan->used = used;
            outcome = PULL_DONE;
            break;
        }
        if (atomic_load(&runner->stopping))
            break; /* shutting down: the pull was cancelled, not failed */
        set_text(container, "reason", "ErrImagePull");
        set_text(container, "message", message);
        if (save(runner, workload, "starting") == 1)
            break; /* stopped meanwhile */
        long long remaining = grace_end_ms - clock_monotonic_ms();
        if (remaining <= 0 && previous[0] && strcmp(previous, message) != 0) {
            /* The grace cut this attempt short: the one before says what was wrong. */
            size_t used_len = strlen(message);
            snprintf(message + used_len, sizeof message - used_len, "; the attempt before: %s",
                     previous);
        }
        if (permanent || remaining <= 0) {
            outcome = fail_workload(runner, workload, container, "ImagePullBackOff", message);
            break;
        }
        set_text(container, "reason", "ImagePullBackOff");
        if (save(runner, workload, "starting") == 1)
            break;
        backoff_sleep(runner, workload_id, backoff < remaining ? backoff : remaining);
        backoff = backoff * 2 > runner->config.backoff_max_ms ? runner->config.backoff_max_ms
                                                              : backoff * 2;
    }
    return outcome;
}

static void finish_stop(struct runner *runner, json_t *workload, const char *previous) {
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    json_t *containers = json_object_get(workload, "containers");
    /* The pod's other containers first: they live in the main container's network. */
    for (size_t i = json_array_size(containers); i-- > 0;) {
        json_t *container = json_array_get(containers, i);
        struct agyn_error ignored;
        runner->config.runtime->stop_container(workload, container, &ignored);
        set_text(container, "status", "terminated");
        set_text(container, "reason", "Stopped");
        set_text(container, "finished_at", now);
    }
    set_text(workload, "status", "stopped");
    set_text(workload, "failure_reason", NULL);
    set_text(workload, "failure_message", NULL);
    save(runner, workload, previous);
}

/* Monotonic end of the workload's start grace, counted from the moment this runner took it
 * (claimed_at): time spent waiting for a runner thread behind other organizations' workloads
 * does not count, so their slow registries cannot make it fail. */
static int64_t start_grace_end(struct runner *runner, const json_t *workload) {
    int64_t now_unix = clock_now_unix_ms(), now = clock_monotonic_ms(), claimed = now_unix;
    clock_parse_rfc3339(row_text(workload, "claimed_at"), &claimed);
    return pull_deadline_grace_end(claimed, runner->config.start_grace_ms, now_unix, now);
}

/* An engine pull in progress: its bytes go into the container, and are saved (an event for
 * Monitoring) at most every PROGRESS_SAVE_MS. */
#define PROGRESS_SAVE_MS 500
struct progress_report {
    struct runner *runner;
    json_t *workload;
    json_t *container;
    int64_t next_save_ms;
};

static void report_progress(void *ctx, unsigned long long done, unsigned long long total) {
    struct progress_report *report = ctx;
    json_object_set_new(
        report->container, "pull_progress",
        json_pack("{s:I, s:I}", "bytes_done", (json_int_t)done, "bytes_total", (json_int_t)total));
    int64_t now = clock_monotonic_ms();
    if (now < report->next_save_ms)
        return;
    report->next_save_ms = now + PROGRESS_SAVE_MS;
    save(report->runner, report->workload, "starting"); /* a stop shows at the next check */
}

static enum pull_outcome fail_start(struct runner *runner, json_t *workload, json_t *container,
                                    const char *reason, const char *failure_reason,
                                    const char *message) {
    set_text(container, "reason", reason);
    set_text(container, "message", message);
    set_text(workload, "status", "failed");
    set_text(workload, "failure_reason", failure_reason);
    set_text(workload, "failure_message", message);
    return save(runner, workload, "starting") == 1 ? PULL_STOPPED : PULL_WORKLOAD_FAILED;
}

/* Hands each container to the runtime, main first, with the credential that authorized its
 * image. An engine that cannot be reached is waited for with back-off (EngineUnavailable);
 * an engine pull failure is retried with back-off until the start grace ends. */
static enum pull_outcome start_containers(struct runner *runner, json_t *workload,
                                          struct container_plan *plans, int64_t grace_end_ms) {
    const char *workload_id = row_text(workload, "id");
    size_t i;
    json_t *container;
    json_array_foreach(json_object_get(workload, "containers"), i, container) {
        long long backoff = runner->config.backoff_initial_ms;
        for (;;) {
            if (stop_requested(runner, workload_id))
                return PULL_STOPPED;
            const struct pull_credential *used = plans[i].used;
            struct progress_report report = {runner, workload, container,
                                             clock_monotonic_ms() + PROGRESS_SAVE_MS};
            struct runtime_start start = {.username = used ? used->username : NULL,
                                          .password = used ? used->password : NULL,
                                          .on_progress = report_progress,
                                          .progress_ctx = &report};
            struct agyn_error err = {0};
            enum runtime_failure failure = RUNTIME_OK;
            if (runner->config.runtime->start_container(workload, container, &start, &failure,
                                                        &err) == 0)
                break;
            char message[1400];
            if (failure == RUNTIME_PULL_FAILED && used)
                snprintf(message, sizeof message,
                         "pulling \"%s\" with image pull secret \"%s\": %s",
                         row_text(container, "image"), used->name, err.message);
            else if (failure == RUNTIME_PULL_FAILED)
                snprintf(message, sizeof message, "pulling \"%s\" anonymously: %s",
                         row_text(container, "image"), err.message);
            else
                snprintf(message, sizeof message, "%s", err.message);
            if (failure == RUNTIME_CREATE_FAILED)
                return fail_start(runner, workload, container, "CreateContainerError",
                                  FAILURE_CONTAINER_CREATE, message);
            if (failure == RUNTIME_START_FAILED)
                return fail_start(runner, workload, container, "RunContainerError",
                                  FAILURE_CONTAINER_START, message);
            bool unavailable = failure == RUNTIME_UNAVAILABLE;
            long long remaining = grace_end_ms - clock_monotonic_ms();
            if (!unavailable && (failure != RUNTIME_PULL_FAILED || remaining <= 0))
                return fail_start(
                    runner, workload, container,
                    failure == RUNTIME_PULL_FAILED ? "ImagePullBackOff" : "StartError",
                    failure == RUNTIME_PULL_FAILED ? FAILURE_IMAGE_PULL : FAILURE_START, message);
            set_text(container, "reason", unavailable ? "EngineUnavailable" : "ErrImagePull");
            set_text(container, "message", message);
            if (save(runner, workload, "starting") == 1)
                return PULL_STOPPED;
            if (!unavailable) {
                set_text(container, "reason", "ImagePullBackOff");
                if (save(runner, workload, "starting") == 1)
                    return PULL_STOPPED;
            }
            if (atomic_load(&runner->stopping))
                return PULL_STOPPED;
            long long wait = unavailable || backoff < remaining ? backoff : remaining;
            backoff_sleep(runner, workload_id, wait);
            backoff = backoff * 2 > runner->config.backoff_max_ms ? runner->config.backoff_max_ms
                                                                  : backoff * 2;
        }
        char now[RFC3339_LEN];
        clock_now_rfc3339(now);
        set_text(container, "status", "running");
        set_text(container, "reason", NULL);
        set_text(container, "message", NULL);
        set_text(container, "started_at", now);
    }
    return PULL_DONE;
}

static void run_workload(struct runner *runner, json_t *row) {
    json_t *workload = workload_view(row);
    const char *workload_id = row_text(workload, "id");
    struct workload_trace trace = {.picked_us = clock_monotonic_us()};
    int64_t grace_end_ms = start_grace_end(runner, workload);
    size_t i, planned = 0;
    json_t *container;
    json_t *containers = json_object_get(workload, "containers");
    struct container_plan *plans = xcalloc(json_array_size(containers) + 1, sizeof *plans);
    enum pull_outcome outcome = PULL_DONE;
    /* Every container's credentials are resolved first, at workload start; then the pulls. */
    json_array_foreach(containers, i, container) {
        if (outcome != PULL_DONE)
            break;
        outcome = plan_container(runner, workload, container, &plans[i], grace_end_ms);
        planned += outcome == PULL_DONE;
    }
    trace.planned_us = clock_monotonic_us();
    json_array_foreach(containers, i, container) {
        if (outcome != PULL_DONE)
            break;
        outcome = pull_container(runner, workload, container, &plans[i], grace_end_ms);
    }
    trace.pulled_us = clock_monotonic_us();
    /* A runner whose lease ran out (and was taken over) starts nothing: the claim is checked
     * before the containers start and again, in the same transaction, when "running" is
     * written. */
    bool lost = outcome == PULL_DONE && !still_claimed(runner, workload_id);
    if (lost)
        outcome = PULL_STOPPED;
    if (outcome == PULL_DONE)
        outcome = start_containers(runner, workload, plans, grace_end_ms);
    trace.started_us = clock_monotonic_us();
    for (i = 0; i < planned; i++)
        pull_credentials_free(&plans[i].credentials);
    free(plans);
    if (outcome == PULL_DONE) {
        set_text(workload, "status", "running");
        struct workload_guard guard = {.claimed_by = runner->runner_id};
        struct agyn_error err = {0};
        if (workload_save_guarded(runner->resolve->store, workload, "starting", &guard, &err) !=
            0) {
            lost = err.code == AGYN_CONFLICT && strcmp(err.field, "claimed_by") == 0;
            if (err.code == AGYN_CONFLICT)
                outcome = PULL_STOPPED; /* the stop came during the pull */
            else
                log_kv("error", "saving workload failed", {"workload_id", workload_id},
                       {"error", err.message});
        }
    }
    trace.saved_us = clock_monotonic_us();
    if (pull_trace_enabled()) {
        clock_parse_rfc3339(row_text(row, "created_at"), &trace.created_unix_ms);
        clock_parse_rfc3339(row_text(row, "claimed_at"), &trace.claimed_unix_ms);
        pull_trace_workload(workload_id,
                            outcome == PULL_DONE      ? "running"
                            : outcome == PULL_STOPPED ? "stopped"
                                                      : "failed",
                            &trace);
    }
    if (lost) {
        log_kv("warn", "claim lost to another runner after its lease ran out",
               {"workload_id", workload_id});
    } else {
        if (outcome == PULL_STOPPED && !atomic_load(&runner->stopping))
            finish_stop(runner, workload, "stopping");
        if (!atomic_load(&runner->stopping))
            release(runner, workload_id);
    }
    json_decref(workload);
}

/* Waits until no other worker is the looker, then becomes it; false when stopping. */
static bool become_looker(struct runner *runner) {
    pthread_mutex_lock(&runner->looker_lock);
    while (runner->looker_present && !atomic_load(&runner->stopping))
        pthread_cond_wait(&runner->looker_free, &runner->looker_lock);
    bool looking = !atomic_load(&runner->stopping);
    runner->looker_present = looking;
    pthread_mutex_unlock(&runner->looker_lock);
    return looking;
}

/* The looker claimed a workload: another idle worker (if any) looks again at once, so a
 * backlog is claimed by every idle worker in turn while the claimed ones run in parallel. */
static void hand_over_looking(struct runner *runner) {
    pthread_mutex_lock(&runner->looker_lock);
    runner->looker_present = false;
    pthread_cond_signal(&runner->looker_free);
    pthread_mutex_unlock(&runner->looker_lock);
}

/* Claims the next workload to start (or stop) as the looker: probes, and when there is none
 * waits for a work signal (a created workload, a stop request, a released claim; at most a
 * second, in case one was missed) and probes again. Returns the claimed row (and whether it is a
 * stop) with the looker's role handed over, or NULL when the runner stops. Idle workers other
 * than the looker wait in become_looker and touch neither the store nor the signal. */
static json_t *look_for_work(struct runner *runner, bool *is_stop) {
    if (!become_looker(runner))
        return NULL;
    json_t *row = NULL;
    while (!atomic_load(&runner->stopping)) {
        uint64_t seen = work_signal_generation();
        struct agyn_error err = {0};
        *is_stop = false;
        if (claim(runner, "starting", true, &row, &err) == 0 && row)
            break;
        *is_stop = true;
        if (claim(runner, "stopping", false, &row, &err) == 0 && row)
            break;
        work_signal_wait(seen, 1000);
    }
    hand_over_looking(runner);
    return row;
}

static void *worker(void *arg) {
    struct runner *runner = arg;
    bool is_stop = false;
    json_t *row;
    while ((row = look_for_work(runner, &is_stop))) {
        if (!is_stop) {
            run_workload(runner, row);
        } else {
            json_t *workload = workload_view(row);
            finish_stop(runner, workload, "stopping");
            release(runner, row_text(workload, "id"));
            json_decref(workload);
        }
        json_decref(row);
    }
    return NULL;
}

/* ---- Leases (runner processes with --node-name) ---------------------------------------- */

/* Lists the workloads matching filters (and node IS NOT NULL with exclude_null_node). */
static json_t *list_workloads(struct runner *runner, const struct store_filter *filters,
                              size_t filter_count, bool exclude_null_node) {
    struct store_filter not_null = {"node", NULL};
    struct store_query query = {.filters = filters, .filter_count = filter_count};
    if (exclude_null_node) {
        query.exclusions = &not_null;
        query.exclusion_count = 1;
    }
    json_t *rows = NULL;
    int64_t next = 0;
    struct agyn_error ignored;
    if (store_list(runner->resolve->store, &TABLE_WORKLOADS, &query, &rows, &next, &ignored) != 0)
        return NULL;
    return rows;
}

static bool lease_expired(const json_t *row, const char *now) {
    const char *lease = row_text(row, "lease_expires_at");
    return lease && strcmp(lease, now) < 0;
}

/* Renews, in one transaction and one UPDATE, the lease of every workload this runner holds:
 * those it has claimed (being started or stopped) and the running ones on its node whose lease
 * has not run out (a restarted node adopts them here; an expired one is NodeLost, see
 * mark_nodes_lost). One statement however many workloads, so a beat stays short under load. */
static void renew_leases(struct runner *runner, const char *now) {
    struct store *store = runner->resolve->store;
    struct agyn_error ignored;
    char lease_end[RFC3339_LEN];
    clock_format_rfc3339(clock_now_unix_ms() + runner->config.lease_ms, lease_end);
    if (store_tx_begin(store, &ignored) != 0)
        return;
    struct store_filter claimed = {"claimed_by", runner->runner_id};
    struct store_filter running[] = {{"node", runner->config.node_name}, {"status", "running"}};
    json_t *held[] = {list_workloads(runner, &claimed, 1, false),
                      list_workloads(runner, running, 2, false)};
    json_t *changes = json_pack("{s:s}", "lease_expires_at", lease_end);
    json_t *ids = json_array();
    int rc = held[0] && held[1] ? 0 : -1;
    for (size_t h = 0; h < 2 && rc == 0; h++) {
        size_t i;
        json_t *row;
        json_array_foreach(held[h], i, row) {
            if (h == 1 && (row_text(row, "claimed_by") || lease_expired(row, now)))
                continue;
            json_array_append_new(ids, json_string(row_text(row, "id")));
        }
    }
    if (rc == 0)
        rc = store_update_many_quietly(store, &TABLE_WORKLOADS, ids, changes, NULL, &ignored);
    json_decref(ids);
    json_decref(changes);
    json_decref(held[0]);
    json_decref(held[1]);
    if (rc != 0 || store_tx_commit(store, &ignored) != 0)
        store_tx_rollback(store);
}

/* Releases the claims on starting and stopping workloads whose lease ran out (their runner
 * died or lost the database): any runner claims them again. The lease is re-read inside the
 * write transaction, so a claim renewed meanwhile stays. */
static void take_over_expired_claims(struct runner *runner, const char *now) {
    static const char *const statuses[] = {"starting", "stopping"};
    struct store *store = runner->resolve->store;
    struct agyn_error ignored;
    if (store_tx_begin(store, &ignored) != 0)
        return;
    int rc = 0, released = 0;
    for (size_t s = 0; s < 2 && rc == 0; s++) {
        struct store_filter filter = {"status", statuses[s]};
        json_t *rows = list_workloads(runner, &filter, 1, false);
        rc = rows ? 0 : -1;
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            if (rc != 0 || !row_text(row, "claimed_by") || !lease_expired(row, now))
                continue;
            json_t *changes = json_pack("{s:n, s:n}", "claimed_by", "lease_expires_at");
            if (s == 0)
                json_object_set_new(changes, "node", json_null());
            rc = store_update_quietly(store, &TABLE_WORKLOADS, NULL, row_text(row, "id"), changes,
                                      &ignored);
            json_decref(changes);
            if (rc == 0)
                log_kv("warn", "taking over a claim whose lease ran out",
                       {"workload_id", row_text(row, "id")},
                       {"claimed_by", row_text(row, "claimed_by")});
            released++;
        }
        json_decref(rows);
    }
    if (rc == 0 && released) /* every runner's looker claims them at once */
        rc = work_signal_publish(store, &ignored);
    if (rc != 0 || store_tx_commit(store, &ignored) != 0)
        store_tx_rollback(store);
}

/* Marks failed (reason NodeLost) the running workloads whose node stopped renewing their
 * lease; the write re-checks status and lease in its transaction. */
static void mark_nodes_lost(struct runner *runner, const char *now) {
    struct store_filter filter = {"status", "running"};
    json_t *rows = list_workloads(runner, &filter, 1, true);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (!lease_expired(row, now))
            continue;
        json_t *workload = workload_view(row);
        char message[256];
        snprintf(message, sizeof message,
                 "node %s stopped renewing its lease; its containers are presumed gone",
                 row_text(row, "node"));
        set_text(workload, "status", "failed");
        set_text(workload, "failure_reason", "NodeLost");
        set_text(workload, "failure_message", message);
        struct workload_guard guard = {.lease_expired_before = now};
        struct agyn_error err = {0};
        if (workload_save_guarded(runner->resolve->store, workload, "running", &guard, &err) == 0)
            log_kv("warn", "workload failed: node lost", {"workload_id", row_text(row, "id")},
                   {"node", row_text(row, "node")});
        json_decref(workload);
    }
    json_decref(rows);
}

/* Every lease/3: renew this runner's leases, then act on the others' that ran out. */
static void *heartbeat(void *arg) {
    struct runner *runner = arg;
    while (!atomic_load(&runner->stopping)) {
        char now[RFC3339_LEN];
        clock_now_rfc3339(now);
        renew_leases(runner, now);
        take_over_expired_claims(runner, now);
        mark_nodes_lost(runner, now);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long wait_ms = runner->config.lease_ms / 3;
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (wait_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&runner->heartbeat_lock);
        if (!atomic_load(&runner->stopping))
            pthread_cond_timedwait(&runner->heartbeat_wake, &runner->heartbeat_lock, &until);
        pthread_mutex_unlock(&runner->heartbeat_lock);
    }
    return NULL;
}

/* The embedded runner is the only one on a SQLite store: claims left by a previous process
 * (killed mid-pull) are released so the work is picked up again. */
static void release_stale_claims(struct runner *runner) {
    static const char *const statuses[] = {"starting", "stopping"};
    for (size_t s = 0; s < 2; s++) {
        struct store_filter filter = {"status", statuses[s]};
        struct store_query query = {.filters = &filter, .filter_count = 1};
        json_t *rows = NULL;
        int64_t next = 0;
        struct agyn_error ignored;
        if (store_list(runner->resolve->store, &TABLE_WORKLOADS, &query, &rows, &next, &ignored) !=
            0)
            continue;
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            if (row_text(row, "claimed_by"))
                release(runner, row_text(row, "id"));
        }
        json_decref(rows);
    }
}

int runner_start(const struct runner_config *config, const struct resolve_context *resolve,
                 struct registry_client *registry, struct runner **out, struct agyn_error *err) {
    struct runner *runner = xcalloc(1, sizeof *runner);
    runner->config = *config;
    if (runner->config.threads < 1)
        runner->config.threads = 4;
    if (runner->config.org_concurrency < 1)
        runner->config.org_concurrency =
            runner->config.threads / 2 > 1 ? runner->config.threads / 2 : 1;
    if (runner->config.pull_timeout_ms <= 0)
        runner->config.pull_timeout_ms = DEFAULT_PULL_TIMEOUT_MS;
    if (runner->config.lease_ms <= 0)
        runner->config.lease_ms = DEFAULT_LEASE_MS;
    if (!runner->config.runtime)
        runner->config.runtime = &runtime_pull_only;
    runner->resolve = resolve;
    runner->registry = registry;
    char id[AGYN_UUID_LEN + 1];
    uuid_generate(id);
    if (config->node_name)
        snprintf(runner->runner_id, sizeof runner->runner_id, "%s-%.8s", config->node_name, id);
    else
        snprintf(runner->runner_id, sizeof runner->runner_id, "embedded-%s", id);
    metrics_describe("agyn_image_pulls_total", "counter", "Image pull attempts by result.");
    metrics_describe("agyn_image_pull_bytes_total", "counter", "Bytes downloaded by pulls.");
    metrics_describe("agyn_image_pull_duration_seconds", "histogram",
                     "Duration of image pull attempts.");
    metrics_describe("agyn_runner_claim_probes_total", "counter",
                     "Looks for a workload to claim, by the status looked for.");
    metrics_describe("agyn_credential_resolutions_total", "counter",
                     "Image pull secret password resolutions by source and result.");
    if (!config->node_name) /* the embedded runner is alone on its store */
        release_stale_claims(runner);
    if (runner->config.runtime->watch && runner->config.runtime->watch(resolve->store, err) != 0) {
        free(runner);
        return -1;
    }
    pthread_mutex_init(&runner->looker_lock, NULL);
    pthread_cond_init(&runner->looker_free, NULL);
    runner->threads = xcalloc((size_t)runner->config.threads, sizeof *runner->threads);
    int started = 0;
    while (started < runner->config.threads &&
           pthread_create(&runner->threads[started], NULL, worker, runner) == 0)
        started++;
    runner->config.threads = started; /* runner_stop joins only the threads that exist */
    pthread_mutex_init(&runner->heartbeat_lock, NULL);
    pthread_cond_init(&runner->heartbeat_wake, NULL);
    /* Runner processes hold leases; the embedded runner is alone and released its claims. */
    if (started > 0 && config->node_name)
        runner->heartbeat_started =
            pthread_create(&runner->heartbeat, NULL, heartbeat, runner) == 0;
    if (started == 0) {
        if (runner->config.runtime->unwatch)
            runner->config.runtime->unwatch();
        free(runner->threads);
        free(runner);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot start the runner's worker threads");
    }
    *out = runner;
    return 0;
}

void runner_stop(struct runner *runner) {
    if (!runner)
        return;
    atomic_store(&runner->stopping, 1);
    work_signal_wake();
    pthread_mutex_lock(&runner->looker_lock);
    pthread_cond_broadcast(&runner->looker_free);
    pthread_mutex_unlock(&runner->looker_lock);
    pthread_mutex_lock(&runner->heartbeat_lock);
    pthread_cond_signal(&runner->heartbeat_wake);
    pthread_mutex_unlock(&runner->heartbeat_lock);
    for (int i = 0; i < runner->config.threads; i++)
        pthread_join(runner->threads[i], NULL);
    if (runner->heartbeat_started)
        pthread_join(runner->heartbeat, NULL);
    pthread_mutex_destroy(&runner->heartbeat_lock);
    pthread_cond_destroy(&runner->heartbeat_wake);
    pthread_mutex_destroy(&runner->looker_lock);
    pthread_cond_destroy(&runner->looker_free);
    if (runner->config.runtime->unwatch)
        runner->config.runtime->unwatch();
    free(runner->threads);
    free(runner);
}
