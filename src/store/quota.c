/* quota.c — see quota.h. */
#include "store/quota.h"
#include "core/row.h"

int quota_check(struct store *store, const struct quota_limit *limit, const char *organization_id,
                struct agyn_error *err) {
    /* Tables not scoped by the store (workloads) still carry organization_id: filter on it. */
    const struct store_filter own = {"organization_id", organization_id};
    struct store_query query = {.organization_id = organization_id,
                                .exclusions = limit->exclusions,
                                .exclusion_count = limit->exclusion_count};
    if (!limit->table->organization_scoped) {
        query.filters = &own;
        query.filter_count = 1;
    }
    long long count = 0;
    if (store_count(store, limit->table, &query, &count, err) != 0)
        return -1;
    if (count >= limit->max)
        return agyn_fail(err, AGYN_TOO_MANY_REQUESTS, "",
                         "limit reached: an organization may hold at most %lld %s "
                         "(%s); this one holds %lld",
                         limit->max, limit->noun, limit->flag, count);
    return 0;
}

int quota_insert(struct store *store, const struct quota_limit *limit, json_t *row,
                 struct agyn_error *err) {
    const char *organization_id = row_text(row, "organization_id");
    if (store_tx_begin(store, err) != 0)
        return -1;
    if (quota_check(store, limit, organization_id ? organization_id : "", err) != 0 ||
        store_insert(store, limit->table, row, err) != 0 || store_tx_commit(store, err) != 0) {
        store_tx_rollback(store);
        return -1;
    }
    return 0;
}
