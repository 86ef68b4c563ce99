/* quota.h — per-organization limits on what a tenant can hold (active workloads, secrets,
 * image pull secrets, attachments): a row is inserted only after counting, in the same write
 * transaction, that the organization stays within its limit, so concurrent requests cannot
 * overshoot. A full organization gets AGYN_TOO_MANY_REQUESTS (429) naming the limit. */
#ifndef AGYN_STORE_QUOTA_H
#define AGYN_STORE_QUOTA_H

#include <jansson.h>

#include "core/error.h"
#include "store/store.h"

#define QUOTA_DEFAULT_ACTIVE_WORKLOADS 100
#define QUOTA_DEFAULT_SECRETS 1000
#define QUOTA_DEFAULT_IMAGE_PULL_SECRETS 1000
#define QUOTA_DEFAULT_ATTACHMENTS 10000

struct org_quotas {
    long long active_workloads;   /* --max-active-workloads-per-org: starting/running/stopping */
    long long secrets;            /* --max-secrets-per-org */
    long long image_pull_secrets; /* --max-image-pull-secrets-per-org */
    long long attachments;        /* --max-attachments-per-org */
};

/* What one limit counts and how its error names it. */
struct quota_limit {
    const struct store_table *table;
    long long max;
    const char *flag; /* "--max-secrets-per-org" */
    const char *noun; /* "secrets" */
    /* Rows that do not count (e.g. status stopped, failed); may be NULL. */
    const struct store_filter *exclusions;
    size_t exclusion_count;
};

/* Fails with AGYN_TOO_MANY_REQUESTS when the organization already holds limit->max rows.
 * Call inside the write transaction that inserts the new row. */
int quota_check(struct store *store, const struct quota_limit *limit, const char *organization_id,
                struct agyn_error *err);

/* store_insert within a write transaction that first runs quota_check. */
int quota_insert(struct store *store, const struct quota_limit *limit, json_t *row,
                 struct agyn_error *err);

#endif
