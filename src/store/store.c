/* store.c — the backend-independent half of the store: picks the backend for a location,
 * stamps ids and timestamps, and forwards every call. */
#include "store/store.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "base/clock.h"
#include "base/uuid.h"
#include "core/names.h"

int store_open(const char *location, struct store **out, struct agyn_error *err) {
    const struct store_options defaults = {.migrate = true};
    return store_open_with(location, &defaults, out, err);
}

int store_open_with(const char *location, const struct store_options *options, struct store **out,
                    struct agyn_error *err) {
    const struct store_backend *backend = &store_backend_sqlite;
    const char *rest = location;
    if (strncmp(location, "sqlite:", 7) == 0)
        rest = location + 7;
    else if (strncmp(location, "postgres://", 11) == 0 ||
             strncmp(location, "postgresql://", 13) == 0)
        backend = &store_backend_postgres;
    struct store *store = xcalloc(1, sizeof *store);
    store->backend = backend;
    atomic_init(&store->data_version, 1);
    store->pool_size = options->pool_size > 0 ? options->pool_size : 10;
    if (backend->open(store, rest, err) != 0) {
        free(store);
        return -1;
    }
    if (options->migrate && backend->migrate(store, err) != 0) {
        backend->close(store);
        free(store);
        return -1;
    }
    *out = store;
    return 0;
}

void store_close(struct store *store) {
    if (!store)
        return;
    store->backend->close(store);
    free(store);
}

const char *store_backend_name(const struct store *store) {
    return store->backend->name;
}

int store_migrate(struct store *store, struct agyn_error *err) {
    return store->backend->migrate(store, err);
}

int store_notify(struct store *store, const char *channel, struct agyn_error *err) {
    return store->backend->notify ? store->backend->notify(store, channel, err) : 0;
}

int store_subscribe(struct store *store, const char *channel, void (*fn)(void),
                    struct agyn_error *err) {
    return store->backend->subscribe ? store->backend->subscribe(store, channel, fn, err) : 0;
}

int store_ping(struct store *store, struct agyn_error *err) {
    return store->backend->ping(store, err);
}

/* The transaction open on this thread and the work waiting for its commit (store_after_commit).
 * Registrations come from modules, not from requests, so a few slots suffice. */
#define AFTER_COMMIT_MAX 4
static __thread struct {
    const struct store *store; /* NULL when no transaction is open on this thread */
    void (*after_commit[AFTER_COMMIT_MAX])(void);
    size_t after_commit_count;
    int wrote; /* a write happened inside it: its commit changes the data version */
} open_tx;

/* Version 0 means "cannot tell", so the counter starts at 1 and skips 0 when it wraps. */
void store_data_version_bump(struct store *store) {
    if (atomic_fetch_add(&store->data_version, 1) + 1 == 0)
        atomic_fetch_add(&store->data_version, 1);
}

/* After every write call, successful or not (a failed statement may still have changed rows
 * inside a transaction that then commits). */
static void wrote(struct store *store) {
    if (open_tx.store == store)
        open_tx.wrote = 1;
    else
        store_data_version_bump(store);
}

uint64_t store_data_version(struct store *store) {
    if (open_tx.store == store || !store->backend->changed_elsewhere)
        return 0;
    int changed = store->backend->changed_elsewhere(store);
    if (changed < 0)
        return 0;
    if (changed)
        store_data_version_bump(store);
    return atomic_load(&store->data_version);
}

static void open_tx_end(int committed) {
    if (committed && open_tx.wrote)
        store_data_version_bump((struct store *)open_tx.store);
    size_t count = open_tx.after_commit_count;
    void (*fns[AFTER_COMMIT_MAX])(void);
    memcpy(fns, open_tx.after_commit, sizeof fns);
    memset(&open_tx, 0, sizeof open_tx);
    if (committed)
        for (size_t i = 0; i < count; i++)
            fns[i]();
}

int store_tx_begin(struct store *store, struct agyn_error *err) {
    int rc = store->backend->tx_begin(store, err);
    if (rc == 0) {
        memset(&open_tx, 0, sizeof open_tx);
        open_tx.store = store;
    }
    return rc;
}

int store_tx_commit(struct store *store, struct agyn_error *err) {
    int rc = store->backend->tx_commit(store, err);
    open_tx_end(rc == 0);
    return rc;
}

void store_tx_rollback(struct store *store) {
    store->backend->tx_rollback(store);
    open_tx_end(0);
}

int store_tx_begin_row_locks(struct store *store, struct agyn_error *err) {
    if (!store->backend->tx_begin_row_locks)
        return store_tx_begin(store, err);
    int rc = store->backend->tx_begin_row_locks(store, err);
    if (rc == 0) {
        memset(&open_tx, 0, sizeof open_tx);
        open_tx.store = store;
    }
    return rc;
}

void store_after_commit(struct store *store, void (*fn)(void)) {
    if (open_tx.store != store) {
        fn();
        return;
    }
    for (size_t i = 0; i < open_tx.after_commit_count; i++)
        if (open_tx.after_commit[i] == fn)
            return;
    if (open_tx.after_commit_count == AFTER_COMMIT_MAX)
        abort(); /* a programming error: more distinct hooks than modules that register one */
    open_tx.after_commit[open_tx.after_commit_count++] = fn;
}

int store_insert(struct store *store, const struct store_table *table, json_t *row,
                 struct agyn_error *err) {
    if (!json_is_string(json_object_get(row, "id"))) {
        char id[AGYN_UUID_LEN + 1];
        uuid_generate(id);
        json_object_set_new(row, "id", json_string(id));
    }
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    json_object_set_new(row, "created_at", json_string(now));
    json_object_set_new(row, "updated_at", json_string(now));
    int rc = store->backend->insert(store, table, row, err);
    wrote(store);
    return rc;
}

int store_find(struct store *store, const struct store_table *table,
               const struct store_query *query, json_t **row_out, struct agyn_error *err) {
    struct store_query one = *query;
    one.limit = 1;
    json_t *rows = NULL;
    int64_t next = 0;
    if (store->backend->list(store, table, &one, &rows, &next, err) != 0)
        return -1;
    *row_out = json_array_size(rows) ? json_incref(json_array_get(rows, 0)) : NULL;
    json_decref(rows);
    return 0;
}

int store_get(struct store *store, const struct store_table *table, const char *organization_id,
              const char *id, json_t **row_out, struct agyn_error *err) {
    struct store_filter by_id = {"id", id};
    struct store_query query = {
        .organization_id = organization_id, .filters = &by_id, .filter_count = 1};
    if (store_find(store, table, &query, row_out, err) != 0)
        return -1;
    if (!*row_out)
        return agyn_fail(err, AGYN_NOT_FOUND, "id", "not found");
    return 0;
}

int store_list(struct store *store, const struct store_table *table,
               const struct store_query *query, json_t **rows_out, int64_t *next_seq,
               struct agyn_error *err) {
    return store->backend->list(store, table, query, rows_out, next_seq, err);
}

int store_list_public_json(struct store *store, const struct store_table *table,
                           const struct store_query *query, struct json_writer *out,
                           int64_t *next_seq, struct agyn_error *err) {
    if (store->backend->list_public_json)
        return store->backend->list_public_json(store, table, query, out, next_seq, err);
    json_t *rows = NULL;
    if (store->backend->list(store, table, query, &rows, next_seq, err) != 0)
        return -1;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        for (size_t c = 0; c < table->column_count; c++)
            if (table->columns[c].flags & (COLUMN_INTERNAL | COLUMN_SEALED))
                json_object_del(row, table->columns[c].name);
    }
    json_writer_value(out, rows);
    json_decref(rows);
    return 0;
}

int store_update(struct store *store, const struct store_table *table, const char *organization_id,
                 const char *id, json_t *changes, struct agyn_error *err) {
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    json_object_set_new(changes, "updated_at", json_string(now));
    int rc = store->backend->update(store, table, organization_id, id, changes, err);
    wrote(store);
    return rc;
}

int store_update_quietly(struct store *store, const struct store_table *table,
                         const char *organization_id, const char *id, json_t *changes,
                         struct agyn_error *err) {
    int rc = store->backend->update(store, table, organization_id, id, changes, err);
    wrote(store);
    return rc;
}

int store_update_many_quietly(struct store *store, const struct store_table *table, json_t *ids,
                              json_t *changes, int *updated, struct agyn_error *err) {
    int count = 0;
    if (table->organization_scoped)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "%s is organization-scoped", table->name);
    if (json_array_size(ids) == 0) {
        if (updated)
            *updated = 0;
        return 0;
    }
    int rc = 0;
    if (store->backend->update_many) {
        rc = store->backend->update_many(store, table, ids, changes, &count, err);
    } else {
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id) {
            struct agyn_error one = {0};
            if (store->backend->update(store, table, NULL, json_string_value(id), changes, &one) ==
                0)
                count++;
            else if (one.code != AGYN_NOT_FOUND) {
                *err = one;
                rc = -1;
                break;
            }
        }
    }
    if (updated)
        *updated = count;
    return rc;
}

int store_delete(struct store *store, const struct store_table *table, const char *organization_id,
                 const char *id, struct agyn_error *err) {
    struct store_filter by_id = {"id", id};
    struct store_query query = {
        .organization_id = organization_id, .filters = &by_id, .filter_count = 1};
    int removed = 0;
    int rc = store->backend->remove(store, table, &query, &removed, err);
    wrote(store);
    if (rc != 0)
        return -1;
    if (removed == 0)
        return agyn_fail(err, AGYN_NOT_FOUND, "id", "not found");
    return 0;
}

int store_delete_where(struct store *store, const struct store_table *table,
                       const struct store_query *query, int *removed, struct agyn_error *err) {
    int count = 0;
    int rc = store->backend->remove(store, table, query, &count, err);
    wrote(store);
    if (removed)
        *removed = count;
    return rc;
}

int store_prune(struct store *store, const struct store_table *table, const char *column,
                const char *before, const struct store_filter *only, int limit, int *removed,
                struct agyn_error *err) {
    int count = 0;
    int rc = store->backend->prune(store, table, column, before, only, limit, &count, err);
    wrote(store);
    if (removed)
        *removed = count;
    return rc;
}

int store_reclaim(struct store *store, struct agyn_error *err) {
    return store->backend->reclaim ? store->backend->reclaim(store, err) : 0;
}

int store_oldest_seq(struct store *store, const struct store_table *table, int64_t *seq_out,
                     struct agyn_error *err) {
    return store->backend->oldest_seq(store, table, seq_out, err);
}

int store_sealed_samples(struct store *store, const struct store_table *table, const char *column,
                         store_sealed_visit visit, void *state, struct agyn_error *err) {
    const struct store_column *c = store_table_column(table, column);
    if (!c || !(c->flags & COLUMN_SEALED))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "%s.%s is not a sealed column", table->name,
                         column);
    return store->backend->sealed_samples(store, table, column, visit, state, err);
}

int store_count(struct store *store, const struct store_table *table,
                const struct store_query *query, long long *count_out, struct agyn_error *err) {
    return store->backend->count(store, table, query, count_out, err);
}

const struct store_column *store_table_column(const struct store_table *table, const char *name) {
    for (size_t i = 0; i < table->column_count; i++)
        if (strcmp(table->columns[i].name, name) == 0)
            return &table->columns[i];
    return NULL;
}
