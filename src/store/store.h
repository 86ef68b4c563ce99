/* store.h — persistence behind one interface. Rows travel as JSON objects keyed by column name
 * (TEXT columns are strings, INTEGER columns integers, NULL is null), so no SQL dialect leaks
 * out of the backends. Tables are described once in tables.c; each backend (store_sqlite.c,
 * later PostgreSQL) owns its schema migrations and maps constraint violations to agyn_error:
 * a unique violation is AGYN_CONFLICT with field = the clashing column, a missing row
 * AGYN_NOT_FOUND, a lost or unreachable database AGYN_UNAVAILABLE. Calls on one thread share
 * that thread's connection while it has a transaction open, so store_tx_begin/commit/rollback
 * wrap every call made between them on the same thread. A store_tx_begin transaction excludes
 * every other such transaction (SQLite BEGIN IMMEDIATE; PostgreSQL an advisory lock), so a
 * read, check and write inside one is exact on both backends. */
#ifndef AGYN_STORE_STORE_H
#define AGYN_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/error.h"
#include "core/json_writer.h"

/* COLUMN_JSON: an array or object stored as its JSON text; rows carry the value itself. */
enum column_kind { COLUMN_TEXT, COLUMN_INTEGER, COLUMN_JSON };

enum column_flags {
    COLUMN_NULLABLE = 1 << 0,
    COLUMN_SEALED = 1 << 1,   /* envelope-encrypted value: never in a response, re-wrapped by
                                 `agynd keys rewrap` */
    COLUMN_INTERNAL = 1 << 2, /* kept out of API responses (hashes, ...) */
};

struct store_column {
    const char *name;
    enum column_kind kind;
    unsigned flags;
};

struct store_table {
    const char *name;
    const struct store_column *columns; /* every table also has id, created_at, updated_at */
    size_t column_count;
    bool organization_scoped; /* has organization_id; every lookup is confined to one org */
};

struct store_filter {
    const char *column;
    const char *value; /* NULL matches SQL NULL */
};

struct store_query {
    const char *organization_id; /* required for organization-scoped tables */
    const struct store_filter *filters;
    size_t filter_count;
    const struct store_filter *exclusions; /* rows whose column IS NOT value (NULL-safe) */
    size_t exclusion_count;
    int limit;         /* 0 = no limit */
    int64_t after_seq; /* keyset paging: rows created after this position */
    bool include_seq;  /* add each row's position as "seq" (event ids) */
    bool newest_first; /* descending creation order (after_seq then means "before") */
    /* Inside store_tx_begin_row_locks: lock the rows returned until the commit, skipping rows
     * another transaction holds (PostgreSQL FOR UPDATE SKIP LOCKED; SQLite's transactions
     * already hold the whole database). */
    bool lock_rows;
};

struct store;

/* Receives one stored value of a sealed column with its row's organization and id. */
typedef int (*store_sealed_visit)(void *state, const char *organization_id, const char *id,
                                  const char *sealed, struct agyn_error *err);

struct store_backend {
    const char *name;
    int (*open)(struct store *store, const char *location, struct agyn_error *err);
    void (*close)(struct store *store);
    int (*migrate)(struct store *store, struct agyn_error *err);
    int (*ping)(struct store *store, struct agyn_error *err);
    int (*tx_begin)(struct store *store, struct agyn_error *err);
    int (*tx_commit)(struct store *store, struct agyn_error *err);
    void (*tx_rollback)(struct store *store);
    int (*insert)(struct store *store, const struct store_table *table, json_t *row,
                  struct agyn_error *err);
    int (*list)(struct store *store, const struct store_table *table,
                const struct store_query *query, json_t **rows_out, int64_t *next_seq,
                struct agyn_error *err);
    /* Optional: list, written as a JSON array of public columns (see store_list_public_json). */
    int (*list_public_json)(struct store *store, const struct store_table *table,
                            const struct store_query *query, struct json_writer *out,
                            int64_t *next_seq, struct agyn_error *err);
    int (*update)(struct store *store, const struct store_table *table, const char *organization_id,
                  const char *id, json_t *changes, struct agyn_error *err);
    /* Optional (NULL: one update per id): store_update_many_quietly in one statement. */
    int (*update_many)(struct store *store, const struct store_table *table, json_t *ids,
                       json_t *changes, int *updated, struct agyn_error *err);
    int (*remove)(struct store *store, const struct store_table *table,
                  const struct store_query *query, int *removed, struct agyn_error *err);
    int (*count)(struct store *store, const struct store_table *table,
                 const struct store_query *query, long long *count_out, struct agyn_error *err);
    int (*prune)(struct store *store, const struct store_table *table, const char *column,
                 const char *before, const struct store_filter *only, int limit, int *removed,
                 struct agyn_error *err);
    int (*oldest_seq)(struct store *store, const struct store_table *table, int64_t *seq_out,
                      struct agyn_error *err);
    int (*sealed_samples)(struct store *store, const struct store_table *table, const char *column,
                          store_sealed_visit visit, void *state, struct agyn_error *err);
    /* Optional (NULL: same as tx_begin): a transaction that relies on row locks
     * (store_query.lock_rows) instead of excluding every other writer. */
    int (*tx_begin_row_locks)(struct store *store, struct agyn_error *err);
    /* Optional (NULL: one process, nothing to tell): tells every process subscribed to channel
     * once the current transaction commits (at once outside a transaction). */
    int (*notify)(struct store *store, const char *channel, struct agyn_error *err);
    /* Optional: calls fn from a background thread after each notify on channel by any process,
     * and once after a lost listening connection is back (notifications may have been missed). */
    int (*subscribe)(struct store *store, const char *channel, void (*fn)(void),
                     struct agyn_error *err);
    /* Optional (NULL: the database reclaims space itself, as PostgreSQL's autovacuum does):
     * see store_reclaim. */
    int (*reclaim)(struct store *store, struct agyn_error *err);
    /* Optional (NULL: cannot tell, nothing read may be cached): 1 when a connection other
     * than this thread's (another thread's, another process's) committed since this thread
     * last asked, 0 when none did, -1 when it cannot tell. */
    int (*changed_elsewhere)(struct store *store);
};

struct store {
    const struct store_backend *backend;
    void *state; /* the backend's */
    int pool_size;
    _Atomic uint64_t data_version; /* store_data_version: bumped after each committed write */
};

struct store_options {
    int pool_size; /* PostgreSQL: connections at most (--database-pool; 0 = 10) */
    bool migrate;  /* apply pending migrations (store_open: true) */
};

/* Opens "sqlite:/path/agyn.db" (or a bare path), or "postgres://..." / "postgresql://..."
 * (any libpq connection URI; libpq's environment variables and service file apply), and
 * applies pending migrations. */
int store_open(const char *location, struct store **out, struct agyn_error *err);
int store_open_with(const char *location, const struct store_options *options, struct store **out,
                    struct agyn_error *err);
/* The backend's name: "sqlite" or "postgres". */
const char *store_backend_name(const struct store *store);
/* Applies pending migrations (PostgreSQL: under an advisory lock, so that replicas starting
 * together migrate once). */
int store_migrate(struct store *store, struct agyn_error *err);
void store_close(struct store *store);
int store_ping(struct store *store, struct agyn_error *err);

int store_tx_begin(struct store *store, struct agyn_error *err);
int store_tx_commit(struct store *store, struct agyn_error *err);
void store_tx_rollback(struct store *store);
/* A transaction for claims: on PostgreSQL it excludes no other writer; rows read with
 * store_query.lock_rows are locked until the end (others skip them). On SQLite it is
 * store_tx_begin. */
int store_tx_begin_row_locks(struct store *store, struct agyn_error *err);
/* Cross-process wake-ups (PostgreSQL LISTEN/NOTIFY; a no-op on SQLite, whose one process
 * wakes its own waiters): store_notify inside a transaction is delivered when it commits;
 * every process that called store_subscribe(channel, fn) then runs fn on a background thread
 * (also once after its listening connection was lost and is back). Channels are fixed
 * identifiers such as "agyn_events". */
int store_notify(struct store *store, const char *channel, struct agyn_error *err);
int store_subscribe(struct store *store, const char *channel, void (*fn)(void),
                    struct agyn_error *err);
/* Runs fn once the transaction open on this thread for store commits, when what was written
 * inside it becomes visible to other connections; a rollback drops fn. Outside a transaction
 * every write is already committed, so fn runs at once. The same fn registered twice in one
 * transaction runs once. Lets a module above the store (the event log waking its readers)
 * act on commits without the store knowing it. */
void store_after_commit(struct store *store, void (*fn)(void));

/* A number that changes whenever a committed write may have changed what a read returns:
 * every write through this store (inside a transaction: when it commits) and, where the
 * backend can tell (SQLite's data_version), commits by other connections and processes. A
 * result rendered from reads made after this returned v stays right while it still returns v,
 * so it may be cached under v. 0 means "cannot tell" (PostgreSQL, whose replicas commit unseen;
 * inside a transaction): cache nothing. */
uint64_t store_data_version(struct store *store);
/* For backends: something changed that store.c did not write (another process's commit). */
void store_data_version_bump(struct store *store);

/* Fills id (when absent), created_at and updated_at, then inserts. */
int store_insert(struct store *store, const struct store_table *table, json_t *row,
                 struct agyn_error *err);
/* One row by id within an organization (NULL for unscoped tables); AGYN_NOT_FOUND otherwise. */
int store_get(struct store *store, const struct store_table *table, const char *organization_id,
              const char *id, json_t **row_out, struct agyn_error *err);
/* First row matching the query, or *row_out = NULL (not an error) when none. */
int store_find(struct store *store, const struct store_table *table,
               const struct store_query *query, json_t **row_out, struct agyn_error *err);
/* Rows in creation order; *next_seq > 0 when more rows follow (use it as after_seq). */
int store_list(struct store *store, const struct store_table *table,
               const struct store_query *query, json_t **rows_out, int64_t *next_seq,
               struct agyn_error *err);
/* Like store_list, but writes a JSON array of the rows without their COLUMN_INTERNAL and
 * COLUMN_SEALED columns into out: an API list page with no json_t tree in between. */
int store_list_public_json(struct store *store, const struct store_table *table,
                           const struct store_query *query, struct json_writer *out,
                           int64_t *next_seq, struct agyn_error *err);
/* Sets updated_at and the given columns; AGYN_NOT_FOUND when the row does not exist. */
int store_update(struct store *store, const struct store_table *table, const char *organization_id,
                 const char *id, json_t *changes, struct agyn_error *err);
/* Like store_update but leaves updated_at alone (maintenance such as re-encryption). */
int store_update_quietly(struct store *store, const struct store_table *table,
                         const char *organization_id, const char *id, json_t *changes,
                         struct agyn_error *err);
/* Like store_update_quietly for every row whose id is in ids (a JSON array of strings) of a
 * table that is not organization-scoped, in one statement where the backend can (PostgreSQL:
 * one round trip however many rows); ids that no longer exist are skipped. *updated gets the
 * number of rows changed (may be NULL). */
int store_update_many_quietly(struct store *store, const struct store_table *table, json_t *ids,
                              json_t *changes, int *updated, struct agyn_error *err);
/* Deletes one row by id; AGYN_NOT_FOUND when absent. */
int store_delete(struct store *store, const struct store_table *table, const char *organization_id,
                 const char *id, struct agyn_error *err);
/* Deletes every row matching the query; *removed gets the count (may be NULL). */
int store_delete_where(struct store *store, const struct store_table *table,
                       const struct store_query *query, int *removed, struct agyn_error *err);
int store_count(struct store *store, const struct store_table *table,
                const struct store_query *query, long long *count_out, struct agyn_error *err);
/* Retention: deletes at most limit of the oldest rows (in creation order) whose text column
 * sorts before `before` — RFC 3339 UTC times as agyn writes them compare as text — and, when
 * only is not NULL, whose only->column equals only->value, in every organization; *removed
 * gets the count. Small batches keep each write transaction short. */
int store_prune(struct store *store, const struct store_table *table, const char *column,
                const char *before, const struct store_filter *only, int limit, int *removed,
                struct agyn_error *err);
/* After deletes (retention): hands what the deleted rows took back to reuse, so that the
 * database's files stop growing once they hold one retention window. SQLite checkpoints the
 * WAL into the main file and truncates the WAL (its free pages are reused by later writes);
 * waiting for readers is bounded, and a checkpoint that still finds one is left for the next
 * call (not an error). A no-op on PostgreSQL, whose autovacuum does the same. */
int store_reclaim(struct store *store, struct agyn_error *err);
/* The position of the oldest row still kept, in any organization: every row at or after it is
 * still there (rows are pruned oldest first). For an empty table, the position the next row
 * will get. */
/* Calls visit once for each distinct prefix "<format>:<key id>:" among the non-NULL values of
 * table.column (the envelope's stored form, crypto/envelope.h), with the oldest such value:
 * one sample per key id, found by the database in one pass without returning every row. A
 * value without that form is its own prefix group, so the sample shows it. */
int store_sealed_samples(struct store *store, const struct store_table *table, const char *column,
                         store_sealed_visit visit, void *state, struct agyn_error *err);
int store_oldest_seq(struct store *store, const struct store_table *table, int64_t *seq_out,
                     struct agyn_error *err);

const struct store_column *store_table_column(const struct store_table *table, const char *name);

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_postgres;

#endif
