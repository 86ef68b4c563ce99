/* store_sqlite.c — the embedded SQLite backend. One connection per thread (opened on first
 * use, closed with the store), WAL journal, foreign keys on, a busy timeout, synchronous=FULL
 * for durable commits and secure_delete so deleted ciphertexts do not linger in free pages.
 * The WAL file is kept bounded: journal_size_limit truncates it whenever a checkpoint restarts
 * it, and store_reclaim (the retention thread, after each pass) checkpoints and truncates it
 * even when busy readers kept the automatic checkpoints from restarting it.
 * SQL is generated from the table descriptions; only column names from tables.c ever reach
 * the SQL text, every value is a bound parameter. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/json_writer.h"
#include "core/xalloc.h"
#include "store/sqlite_schema.h"
#include "store/store.h"

#define STATEMENT_CACHE_SIZE 48
#define SQL_MAX 8192
#define BUSY_TIMEOUT_MS 10000
/* A WAL restarted by a checkpoint is cut back to this; about the 1000 pages at which SQLite
 * checkpoints by itself. */
#define WAL_SIZE_LIMIT_BYTES (4 << 20)
/* How long store_reclaim waits for writers and readers before leaving it to its next call;
 * writers wait on it meanwhile, so it is short. */
#define RECLAIM_BUSY_TIMEOUT_MS 1000

/* Appends to sql (size bytes, *len used) like snprintf; on truncation *len becomes size, so
 * later appends write nothing and the caller's `len < size` check reports it. Never writes
 * out of bounds. */
__attribute__((format(printf, 4, 5))) static void sql_appendf(char *sql, size_t size, size_t *len,
                                                              const char *fmt, ...) {
    if (*len >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql + *len, size - *len, fmt, ap);
    va_end(ap);
    *len = n < 0 || (size_t)n >= size - *len ? size : *len + (size_t)n;
}

struct cached_statement {
    char *sql;
    sqlite3_stmt *stmt;
};

struct sqlite_connection {
    sqlite3 *db;
    struct cached_statement cache[STATEMENT_CACHE_SIZE];
    size_t cache_next;
    int in_transaction;
    int64_t data_version; /* PRAGMA data_version when last asked; 0: never asked */
    struct sqlite_connection *next;
};

struct sqlite_state {
    char *path;
    uint64_t instance;
    /* The WAL index (PATH-shm), read to notice commits by any connection (see
     * sqlite_changed_elsewhere); -1 until opened, -2 when it cannot be. */
    _Atomic int shm_fd;
    _Atomic uint64_t shm_stamp; /* a hash of its header when last looked at */
    pthread_mutex_t lock;
    struct sqlite_connection *connections;
};

static atomic_uint_fast64_t next_instance = 1;

static __thread struct {
    uint64_t instance;
    struct sqlite_connection *conn;
} thread_connection;

static int sqlite_error(sqlite3 *db, int rc, struct agyn_error *err) {
    int extended = db ? sqlite3_extended_errcode(db) : rc;
    const char *message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
        /* "UNIQUE constraint failed: agents.organization_id, agents.name": the last column. */
        const char *last_dot = strrchr(message, '.');
        return agyn_fail(err, AGYN_CONFLICT, last_dot ? last_dot + 1 : NULL, "already exists");
    }
    if (extended == SQLITE_CONSTRAINT_FOREIGNKEY)
        return agyn_fail(err, AGYN_CONFLICT, NULL,
                         "the row is referenced by or refers to "
                         "another row that does not allow this");
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return agyn_fail(err, AGYN_UNPROCESSABLE, NULL, "constraint failed: %s", message);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return agyn_fail(err, AGYN_UNAVAILABLE, NULL, "database is busy: %s", message);
    return agyn_fail(err, AGYN_INTERNAL, NULL, "database error: %s", message);
}

static int exec_sql(sqlite3 *db, const char *sql, struct agyn_error *err) {
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_error(db, rc, err);
}

static struct sqlite_connection *open_connection(struct sqlite_state *state,
                                                 struct agyn_error *err) {
    struct sqlite_connection *conn = xcalloc(1, sizeof *conn);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(state->path, &conn->db, flags, NULL);
    if (rc != SQLITE_OK) {
        agyn_fail(err, AGYN_UNAVAILABLE, "database", "cannot open database %s: %s", state->path,
                  conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc));
        sqlite3_close(conn->db);
        free(conn);
        return NULL;
    }
    sqlite3_busy_timeout(conn->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(conn->db, 1);
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
             " PRAGMA journal_size_limit=%d;",
             WAL_SIZE_LIMIT_BYTES);
    if (exec_sql(conn->db, pragmas, err) != 0) {
        sqlite3_close(conn->db);
        free(conn);
        return NULL;
    }
    pthread_mutex_lock(&state->lock);
    conn->next = state->connections;
    state->connections = conn;
    pthread_mutex_unlock(&state->lock);
    return conn;
}

static struct sqlite_connection *connection(struct store *store, struct agyn_error *err) {
    struct sqlite_state *state = store->state;
    if (thread_connection.instance == state->instance && thread_connection.conn)
        return thread_connection.conn;
    struct sqlite_connection *conn = open_connection(state, err);
    if (!conn)
        return NULL;
    thread_connection.instance = state->instance;
    thread_connection.conn = conn;
    return conn;
}

/* Prepared statements are cached per connection by SQL text. */
static sqlite3_stmt *prepare(struct sqlite_connection *conn, const char *sql,
                             struct agyn_error *err) {
    for (size_t i = 0; i < STATEMENT_CACHE_SIZE; i++) {
        if (conn->cache[i].sql && strcmp(conn->cache[i].sql, sql) == 0) {
            sqlite3_reset(conn->cache[i].stmt);
            sqlite3_clear_bindings(conn->cache[i].stmt);
            return conn->cache[i].stmt;
        }
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        sqlite_error(conn->db, rc, err);
        return NULL;
    }
    struct cached_statement *slot = &conn->cache[conn->cache_next];
    conn->cache_next = (conn->cache_next + 1) % STATEMENT_CACHE_SIZE;
    if (slot->stmt)
        sqlite3_finalize(slot->stmt);
    free(slot->sql);
    slot->sql = xstrdup(sql);
    slot->stmt = stmt;
    return stmt;
}

static void close_connection(struct sqlite_connection *conn) {
    for (size_t i = 0; i < STATEMENT_CACHE_SIZE; i++) {
        if (conn->cache[i].stmt)
            sqlite3_finalize(conn->cache[i].stmt);
        free(conn->cache[i].sql);
    }
    sqlite3_close(conn->db);
    free(conn);
}

/* Each connection stays on its thread, so SQLite's per-connection mutexes and its global
 * memory statistics (a process-wide lock on every allocation) are not needed. No up-front
 * page-cache block per connection (SQLite's default is 20 pages, ~88 KiB, held for the life of
 * every thread's connection even when idle): pages are allocated as they are read. Must run
 * before SQLite initializes. */
static pthread_once_t configure_once = PTHREAD_ONCE_INIT;

static void configure_sqlite(void) {
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)NULL, 0, 0);
}

static int sqlite_open(struct store *store, const char *location, struct agyn_error *err) {
    pthread_once(&configure_once, configure_sqlite);
    struct sqlite_state *state = xcalloc(1, sizeof *state);
    state->path = xstrdup(location);
    state->instance = atomic_fetch_add(&next_instance, 1);
    atomic_init(&state->shm_fd, -1);
    pthread_mutex_init(&state->lock, NULL);
    store->state = state;
    struct sqlite_connection *conn = connection(store, err);
    if (!conn || exec_sql(conn->db, "PRAGMA journal_mode=WAL;", err) != 0) {
        store->backend->close(store);
        return -1;
    }
    return 0;
}

static void sqlite_close(struct store *store) {
    struct sqlite_state *state = store->state;
    if (!state)
        return;
    pthread_mutex_lock(&state->lock);
    struct sqlite_connection *conn = state->connections;
    while (conn) {
        struct sqlite_connection *next = conn->next;
        close_connection(conn);
        conn = next;
    }
    state->connections = NULL;
    pthread_mutex_unlock(&state->lock);
    if (thread_connection.instance == state->instance)
        thread_connection.conn = NULL;
    pthread_mutex_destroy(&state->lock);
    if (atomic_load(&state->shm_fd) >= 0)
        close(atomic_load(&state->shm_fd));
    free(state->path);
    free(state);
    store->state = NULL;
}

static int sqlite_migrate(struct store *store, struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    if (exec_sql(conn->db,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                 "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))",
                 err) != 0)
        return -1;
    for (size_t i = 0; SQLITE_MIGRATIONS[i]; i++) {
        int version = (int)i + 1;
        if (exec_sql(conn->db, "BEGIN IMMEDIATE", err) != 0)
            return -1;
        sqlite3_stmt *check = NULL;
        int rc = sqlite3_prepare_v2(conn->db, "SELECT 1 FROM schema_migrations WHERE version = ?",
                                    -1, &check, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int(check, 1, version);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(check);
        int applied = rc == SQLITE_ROW;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            /* Not knowing whether a migration ran must not run it twice, nor skip it. */
            sqlite_error(conn->db, rc, err);
            sqlite3_finalize(check);
            agyn_error_prefix(err, "migration %d: cannot tell whether it was applied", version);
            exec_sql(conn->db, "ROLLBACK", NULL);
            return -1;
        }
        sqlite3_finalize(check);
        if (!applied) {
            char record[128];
            snprintf(record, sizeof record, "INSERT INTO schema_migrations (version) VALUES (%d)",
                     version);
            if (exec_sql(conn->db, SQLITE_MIGRATIONS[i], err) != 0 ||
                exec_sql(conn->db, record, err) != 0) {
                agyn_error_prefix(err, "migration %d", version);
                exec_sql(conn->db, "ROLLBACK", NULL);
                return -1;
            }
        }
        if (exec_sql(conn->db, "COMMIT", err) != 0)
            return -1;
    }
    return 0;
}

static int sqlite_ping(struct store *store, struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    sqlite3_stmt *stmt = prepare(conn, "SELECT 1", err);
    if (!stmt)
        return -1;
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? 0 : sqlite_error(conn->db, rc, err);
}

/* The WAL-index header (https://sqlite.org/walformat.html): two copies of a 48-byte header at
 * the start of PATH-shm, rewritten by every commit of any connection (its frame count, salts
 * and checksum change). One pread, no lock: a torn read (copies differ) counts as a change. */
#define WAL_INDEX_HEADER 48

static int shm_descriptor(struct sqlite_state *state) {
    int fd = atomic_load(&state->shm_fd);
    if (fd != -1)
        return fd;
    char path[4096];
    if (snprintf(path, sizeof path, "%s-shm", state->path) >= (int)sizeof path)
        fd = -2;
    else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        fd = -2;
    int expected = -1;
    if (!atomic_compare_exchange_strong(&state->shm_fd, &expected, fd)) {
        if (fd >= 0)
            close(fd); /* another thread opened it first */
        fd = expected;
    }
    return fd;
}

/* 1 when the header changed since the last look, 0 when not, -1 when it cannot be read. The
 * bump (store.c) happens before the new stamp is published, so a thread that sees the stamp
 * unchanged also sees the bumped version. */
static int wal_index_changed(struct store *store, struct sqlite_state *state) {
    int fd = shm_descriptor(state);
    unsigned char header[2 * WAL_INDEX_HEADER];
    if (fd < 0 || pread(fd, header, sizeof header, 0) != (ssize_t)sizeof header)
        return -1;
    /* Copies that differ: a commit is writing the header right now. */
    if (memcmp(header, header + WAL_INDEX_HEADER, WAL_INDEX_HEADER) != 0)
        return 1;
    uint64_t stamp = 14695981039346656037ull; /* FNV-1a, 64 bits */
    for (size_t i = 0; i < WAL_INDEX_HEADER; i++)
        stamp = (stamp ^ header[i]) * 1099511628211ull;
    if (atomic_load(&state->shm_stamp) == stamp)
        return 0;
    store_data_version_bump(store);
    atomic_store(&state->shm_stamp, stamp);
    return 0; /* already bumped */
}

/* A commit by another connection (another thread's, another process's) since this thread last
 * asked: from the WAL index, else PRAGMA data_version (which changes when another connection
 * committed; this connection's own commits are counted by store.c). */
static int sqlite_changed_elsewhere(struct store *store) {
    int from_wal_index = wal_index_changed(store, store->state);
    if (from_wal_index >= 0)
        return from_wal_index;
    struct sqlite_connection *conn = connection(store, NULL);
    if (!conn || conn->in_transaction)
        return -1;
    sqlite3_stmt *stmt = prepare(conn, "PRAGMA data_version", NULL);
    if (!stmt)
        return -1;
    int rc = sqlite3_step(stmt);
    int64_t version = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW)
        return -1;
    int changed = version != conn->data_version;
    conn->data_version = version;
    return changed;
}

static int sqlite_tx_begin(struct store *store, struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    if (conn->in_transaction)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "nested transaction");
    if (exec_sql(conn->db, "BEGIN IMMEDIATE", err) != 0)
        return -1;
    conn->in_transaction = 1;
    return 0;
}

static int sqlite_tx_commit(struct store *store, struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    conn->in_transaction = 0;
    if (exec_sql(conn->db, "COMMIT", err) != 0) {
        exec_sql(conn->db, "ROLLBACK", NULL);
        return -1;
    }
    return 0;
}

static void sqlite_tx_rollback(struct store *store) {
    struct sqlite_connection *conn = connection(store, NULL);
    if (!conn || !conn->in_transaction)
        return;
    conn->in_transaction = 0;
    exec_sql(conn->db, "ROLLBACK", NULL);
}

/* The columns every row has, in SELECT order, followed by the table's own. */
static size_t row_columns(const struct store_table *table, const char *names[], int kinds[],
                          size_t max) {
    size_t n = 0;
    names[n] = "id", kinds[n++] = COLUMN_TEXT;
    if (table->organization_scoped)
        names[n] = "organization_id", kinds[n++] = COLUMN_TEXT;
    names[n] = "created_at", kinds[n++] = COLUMN_TEXT;
    names[n] = "updated_at", kinds[n++] = COLUMN_TEXT;
    for (size_t i = 0; i < table->column_count && n < max; i++)
        names[n] = table->columns[i].name, kinds[n++] = (int)table->columns[i].kind;
    return n;
}

static int known_column(const struct store_table *table, const char *name) {
    return strcmp(name, "id") == 0 || strcmp(name, "created_at") == 0 ||
           strcmp(name, "updated_at") == 0 ||
           (table->organization_scoped && strcmp(name, "organization_id") == 0) ||
           store_table_column(table, name) != NULL;
}

static int bind_json(sqlite3_stmt *stmt, int index, json_t *value) {
    if (!value || json_is_null(value))
        return sqlite3_bind_null(stmt, index);
    if (json_is_integer(value))
        return sqlite3_bind_int64(stmt, index, json_integer_value(value));
    if (json_is_string(value))
        return sqlite3_bind_text(stmt, index, json_string_value(value),
                                 (int)json_string_length(value), SQLITE_TRANSIENT);
    if (json_is_boolean(value))
        return sqlite3_bind_int(stmt, index, json_is_true(value));
    if (json_is_array(value) || json_is_object(value)) { /* a COLUMN_JSON value */
        struct json_writer writer = {0};
        size_t len = 0;
        json_writer_value(&writer, value);
        char *text = json_writer_finish(&writer, &len);
        if (!text)
            return sqlite3_bind_null(stmt, index);
        return sqlite3_bind_text(stmt, index, text, (int)len, free);
    }
    return sqlite3_bind_null(stmt, index);
}

/* Appends " WHERE ..." for the query and binds from *next_index. */
static int build_where(const struct store_table *table, const struct store_query *query, char *sql,
                       size_t size, struct agyn_error *err) {
    size_t len = strlen(sql);
    const char *joiner = " WHERE ";
    if (table->organization_scoped) {
        if (!query->organization_id)
            return agyn_fail(err, AGYN_INTERNAL, NULL, "query on %s without organization",
                             table->name);
        sql_appendf(sql, size, &len, "%sorganization_id = ?", joiner);
        joiner = " AND ";
    }
    for (size_t i = 0; i < query->filter_count; i++) {
        const struct store_filter *f = &query->filters[i];
        if (!known_column(table, f->column))
            return agyn_fail(err, AGYN_INTERNAL, NULL, "unknown column %s", f->column);
        sql_appendf(sql, size, &len, "%s%s %s", joiner, f->column, f->value ? "= ?" : "IS NULL");
        joiner = " AND ";
    }
    for (size_t i = 0; i < query->exclusion_count; i++) {
        const struct store_filter *f = &query->exclusions[i];
        if (!known_column(table, f->column))
            return agyn_fail(err, AGYN_INTERNAL, NULL, "unknown column %s", f->column);
        sql_appendf(sql, size, &len, "%s%s %s", joiner, f->column,
                    f->value ? "IS NOT ?" : "IS NOT NULL");
        joiner = " AND ";
    }
    if (query->after_seq > 0)
        sql_appendf(sql, size, &len, "%sseq %s ?", joiner, query->newest_first ? "<" : ">");
    return len < size ? 0 : agyn_fail(err, AGYN_INTERNAL, NULL, "query too long");
}

static int bind_where(sqlite3_stmt *stmt, const struct store_table *table,
                      const struct store_query *query, int index) {
    if (table->organization_scoped)
        sqlite3_bind_text(stmt, index++, query->organization_id, -1, SQLITE_TRANSIENT);
    for (size_t i = 0; i < query->filter_count; i++)
        if (query->filters[i].value)
            sqlite3_bind_text(stmt, index++, query->filters[i].value, -1, SQLITE_TRANSIENT);
    for (size_t i = 0; i < query->exclusion_count; i++)
        if (query->exclusions[i].value)
            sqlite3_bind_text(stmt, index++, query->exclusions[i].value, -1, SQLITE_TRANSIENT);
    if (query->after_seq > 0)
        sqlite3_bind_int64(stmt, index++, query->after_seq);
    return index;
}

static int sqlite_insert(struct store *store, const struct store_table *table, json_t *row,
                         struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    const char *names[64];
    int kinds[64];
    size_t n = row_columns(table, names, kinds, 64);
    char sql[SQL_MAX];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (", table->name);
    for (size_t i = 0; i < n; i++)
        sql_appendf(sql, sizeof sql, &len, "%s%s", i ? ", " : "", names[i]);
    sql_appendf(sql, sizeof sql, &len, ") VALUES (");
    for (size_t i = 0; i < n; i++)
        sql_appendf(sql, sizeof sql, &len, "%s?", i ? ", " : "");
    sql_appendf(sql, sizeof sql, &len, ")");
    if (len >= sizeof sql)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "insert into %s too long", table->name);
    sqlite3_stmt *stmt = prepare(conn, sql, err);
    if (!stmt)
        return -1;
    for (size_t i = 0; i < n; i++)
        bind_json(stmt, (int)i + 1, json_object_get(row, names[i]));
    int rc = sqlite3_step(stmt);
    int result = rc == SQLITE_DONE ? 0 : sqlite_error(conn->db, rc, err);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return result;
}

static json_t *column_json(sqlite3_stmt *stmt, int index, int kind) {
    if (kind == COLUMN_JSON && sqlite3_column_type(stmt, index) != SQLITE_NULL) {
        json_t *value = json_loadb((const char *)sqlite3_column_text(stmt, index),
                                   (size_t)sqlite3_column_bytes(stmt, index), 0, NULL);
        return value ? value : json_null();
    }
    switch (sqlite3_column_type(stmt, index)) {
    case SQLITE_NULL:
        return json_null();
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(stmt, index));
    default:
        return json_stringn((const char *)sqlite3_column_text(stmt, index),
                            (size_t)sqlite3_column_bytes(stmt, index));
    }
}

/* Receives each row of a list query: the statement positioned on it (column 0 is seq, then
 * names[i] at i + 1). */
struct row_sink {
    void (*row)(struct row_sink *sink, sqlite3_stmt *stmt, const char *const *names,
                const int *kinds, const int *hidden, size_t n, int64_t seq);
};

static int run_list(struct store *store, const struct store_table *table,
                    const struct store_query *query, struct row_sink *sink, int64_t *next_seq,
                    struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    const char *names[64];
    int kinds[64], hidden[64] = {0};
    size_t n = row_columns(table, names, kinds, 64);
    for (size_t i = 0; i < n; i++) {
        const struct store_column *column = store_table_column(table, names[i]);
        hidden[i] = column && (column->flags & (COLUMN_INTERNAL | COLUMN_SEALED));
    }
    char sql[SQL_MAX];
    size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT seq");
    for (size_t i = 0; i < n; i++)
        sql_appendf(sql, sizeof sql, &len, ", %s", names[i]);
    sql_appendf(sql, sizeof sql, &len, " FROM %s", table->name);
    if (build_where(table, query, sql, sizeof sql, err) != 0)
        return -1;
    len = strlen(sql);
    sql_appendf(sql, sizeof sql, &len, " ORDER BY seq%s%s", query->newest_first ? " DESC" : "",
                query->limit > 0 ? " LIMIT ?" : "");
    if (len >= sizeof sql)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "query on %s too long", table->name);
    sqlite3_stmt *stmt = prepare(conn, sql, err);
    if (!stmt)
        return -1;
    int index = bind_where(stmt, table, query, 1);
    if (query->limit > 0)
        sqlite3_bind_int(stmt, index, query->limit + 1);
    *next_seq = 0;
    int rc, count = 0;
    int64_t last_seq = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (query->limit > 0 && count == query->limit) {
            *next_seq = last_seq;
            break;
        }
        last_seq = sqlite3_column_int64(stmt, 0);
        sink->row(sink, stmt, names, kinds, hidden, n, last_seq);
        count++;
    }
    int result = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlite_error(conn->db, rc, err);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return result;
}

struct json_rows_sink {
    struct row_sink sink;
    const struct store_query *query;
    json_t *rows;
};

static void add_json_row(struct row_sink *sink, sqlite3_stmt *stmt, const char *const *names,
                         const int *kinds, const int *hidden, size_t n, int64_t seq) {
    struct json_rows_sink *self = (struct json_rows_sink *)sink;
    json_t *row = json_object();
    for (size_t i = 0; i < n; i++) /* names come from tables.c: ASCII, no check needed */
        json_object_set_new_nocheck(row, names[i], column_json(stmt, (int)i + 1, kinds[i]));
    if (self->query->include_seq)
        json_object_set_new(row, "seq", json_integer(seq));
    json_array_append_new(self->rows, row);
}

static int sqlite_list(struct store *store, const struct store_table *table,
                       const struct store_query *query, json_t **rows_out, int64_t *next_seq,
                       struct agyn_error *err) {
    struct json_rows_sink sink = {{add_json_row}, query, json_array()};
    if (run_list(store, table, query, &sink.sink, next_seq, err) != 0) {
        json_decref(sink.rows);
        return -1;
    }
    *rows_out = sink.rows;
    return 0;
}

struct text_rows_sink {
    struct row_sink sink;
    struct json_writer *out;
    int count;
    int keys_ready;
    char keys[64][48];
    size_t key_len[64];
};

/* Writes the row's public columns as a JSON object, straight from SQLite's values. The
 * ,"column": fragments are built once per list, not once per value. */
static void write_text_row(struct row_sink *sink, sqlite3_stmt *stmt, const char *const *names,
                           const int *kinds, const int *hidden, size_t n, int64_t seq) {
    struct text_rows_sink *self = (struct text_rows_sink *)sink;
    struct json_writer *out = self->out;
    if (!self->keys_ready) {
        int first = 1;
        for (size_t i = 0; i < n && i < 64; i++) {
            if (hidden[i])
                continue;
            int len = snprintf(self->keys[i], sizeof self->keys[i], "%s\"%s\":", first ? "{" : ",",
                               names[i]);
            self->key_len[i] = len > 0 && (size_t)len < sizeof self->keys[i] ? (size_t)len : 0;
            first = 0;
        }
        self->keys_ready = 1;
    }
    if (self->count++)
        json_writer_raw(out, ",", 1);
    for (size_t i = 0; i < n; i++) {
        if (hidden[i])
            continue;
        json_writer_raw(out, self->keys[i], self->key_len[i]);
        int column = (int)i + 1;
        if (kinds[i] == COLUMN_JSON && sqlite3_column_type(stmt, column) != SQLITE_NULL) {
            json_t *value = column_json(stmt, column, COLUMN_JSON);
            json_writer_value(out, value); /* re-written, so the list is valid JSON whatever */
            json_decref(value);
            continue;
        }
        switch (sqlite3_column_type(stmt, column)) {
        case SQLITE_NULL:
            json_writer_raw(out, "null", 4);
            break;
        case SQLITE_INTEGER: {
            char number[32];
            int len = snprintf(number, sizeof number, "%lld",
                               (long long)sqlite3_column_int64(stmt, column));
            json_writer_raw(out, number, (size_t)len);
            break;
        }
        default: {
            const char *text = (const char *)sqlite3_column_text(stmt, column);
            json_writer_string(out, text, (size_t)sqlite3_column_bytes(stmt, column));
        }
        }
    }
    json_writer_raw(out, "}", 1);
}

static int sqlite_list_public_json(struct store *store, const struct store_table *table,
                                   const struct store_query *query, struct json_writer *out,
                                   int64_t *next_seq, struct agyn_error *err) {
    struct text_rows_sink sink = {.sink = {write_text_row}, .out = out};
    json_writer_raw(out, "[", 1);
    int rc = run_list(store, table, query, &sink.sink, next_seq, err);
    json_writer_raw(out, "]", 1);
    return rc;
}

static int sqlite_update(struct store *store, const struct store_table *table,
                         const char *organization_id, const char *id, json_t *changes,
                         struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    char sql[SQL_MAX];
    size_t len = (size_t)snprintf(sql, sizeof sql, "UPDATE %s SET ", table->name);
    const char *key;
    json_t *value;
    int first = 1;
    json_object_foreach(changes, key, value) {
        if (!known_column(table, key) || strcmp(key, "id") == 0 ||
            strcmp(key, "organization_id") == 0)
            return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot update column %s", key);
        sql_appendf(sql, sizeof sql, &len, "%s%s = ?", first ? "" : ", ", key);
        first = 0;
    }
    sql_appendf(sql, sizeof sql, &len, " WHERE id = ?%s",
                table->organization_scoped ? " AND organization_id = ?" : "");
    if (len >= sizeof sql)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "update too long");
    sqlite3_stmt *stmt = prepare(conn, sql, err);
    if (!stmt)
        return -1;
    int index = 1;
    json_object_foreach(changes, key, value) {
        bind_json(stmt, index++, value);
    }
    sqlite3_bind_text(stmt, index++, id, -1, SQLITE_TRANSIENT);
    if (table->organization_scoped)
        sqlite3_bind_text(stmt, index++, organization_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt);
    int result = rc == SQLITE_DONE ? 0 : sqlite_error(conn->db, rc, err);
    if (result == 0 && sqlite3_changes(conn->db) == 0)
        result = agyn_fail(err, AGYN_NOT_FOUND, "id", "not found");
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return result;
}

static int sqlite_remove(struct store *store, const struct store_table *table,
                         const struct store_query *query, int *removed, struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "DELETE FROM %s", table->name);
    if (build_where(table, query, sql, sizeof sql, err) != 0)
        return -1;
    sqlite3_stmt *stmt = prepare(conn, sql, err);
    if (!stmt)
        return -1;
    bind_where(stmt, table, query, 1);
    int rc = sqlite3_step(stmt);
    int result = rc == SQLITE_DONE ? 0 : sqlite_error(conn->db, rc, err);
    *removed = result == 0 ? sqlite3_changes(conn->db) : 0;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return result;
}

static int sqlite_count(struct store *store, const struct store_table *table,
                        const struct store_query *query, long long *count_out,
                        struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table->name);
    if (build_where(table, query, sql, sizeof sql, err) != 0)
        return -1;
    sqlite3_stmt *stmt = prepare(conn, sql, err);
    if (!stmt)
        return -1;
    bind_where(stmt, table, query, 1);
    int rc = sqlite3_step(stmt);
    int result = rc == SQLITE_ROW ? 0 : sqlite_error(conn->db, rc, err);
    *count_out = result == 0 ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return result;
}

static int sqlite_prune(struct store *store, const struct store_table *table, const char *column,
                        const char *before, const struct store_filter *only, int limit,
                        int *removed, struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    if (!known_column(table, column) || (only && !known_column(table, only->column)))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "unknown column in a prune of %s", table->name);
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "DELETE FROM %s WHERE seq IN (SELECT seq FROM %s WHERE %s < ?%s%s%s ORDER BY seq "
             "LIMIT ?)",
             table->name, table->name, column, only ? " AND " : "", only ? only->column : "",
             only ? " = ?" : "");
    sqlite3_stmt *stmt = prepare(conn, sql, err);
    if (!stmt)
        return -1;
    int index = 1;
    sqlite3_bind_text(stmt, index++, before, -1, SQLITE_TRANSIENT);
    if (only)
        sqlite3_bind_text(stmt, index++, only->value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(stmt, index, limit);
    int rc = sqlite3_step(stmt);
    int result = rc == SQLITE_DONE ? 0 : sqlite_error(conn->db, rc, err);
    *removed = result == 0 ? sqlite3_changes(conn->db) : 0;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return result;
}

/* min(seq); for an empty table the AUTOINCREMENT counter + 1 (sqlite_sequence). */
static int sqlite_oldest_seq(struct store *store, const struct store_table *table, int64_t *seq_out,
                             struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT min(seq) FROM %s), "
             "(SELECT seq + 1 FROM sqlite_sequence WHERE name = '%s'), 1)",
             table->name, table->name);
    sqlite3_stmt *stmt = prepare(conn, sql, err);
    if (!stmt)
        return -1;
    int rc = sqlite3_step(stmt);
    int result = rc == SQLITE_ROW ? 0 : sqlite_error(conn->db, rc, err);
    *seq_out = result == 0 ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    return result;
}

/* Copies the WAL into the main file and truncates it to zero bytes. Busy (a reader or writer
 * outlasting RECLAIM_BUSY_TIMEOUT_MS) is not an error: the next call tries again. */
static int sqlite_reclaim(struct store *store, struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    if (conn->in_transaction)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "reclaim inside a transaction");
    sqlite3_busy_timeout(conn->db, RECLAIM_BUSY_TIMEOUT_MS);
    int rc = sqlite3_wal_checkpoint_v2(conn->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_busy_timeout(conn->db, BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return 0;
    return sqlite_error(conn->db, rc, err);
}

/* The envelope prefix "<format>:<key id>:" of a sealed column, as SQL. */
#define SEALED_PREFIX_SQL "substr(%s, 1, instr(substr(%s, 7), ':') + 6)"

/* One pass over the table for the distinct prefixes (only they are kept, in a small ephemeral
 * index), then each prefix's oldest row, found by walking seq order from its start. */
static int sqlite_sealed_samples(struct store *store, const struct store_table *table,
                                 const char *column, store_sealed_visit visit, void *state,
                                 struct agyn_error *err) {
    struct sqlite_connection *conn = connection(store, err);
    if (!conn)
        return -1;
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "SELECT DISTINCT " SEALED_PREFIX_SQL " FROM %s WHERE %s IS NOT NULL",
             column, column, table->name, column);
    sqlite3_stmt *stmt = prepare(conn, sql, err);
    if (!stmt)
        return -1;
    char **prefixes = NULL;
    size_t count = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        prefixes = xrealloc(prefixes, (count + 1) * sizeof *prefixes);
        prefixes[count++] = xstrdup((const char *)sqlite3_column_text(stmt, 0));
    }
    int result = rc == SQLITE_DONE ? 0 : sqlite_error(conn->db, rc, err);
    sqlite3_reset(stmt);
    snprintf(sql, sizeof sql,
             "SELECT organization_id, id, %s FROM %s WHERE %s IS NOT NULL AND " SEALED_PREFIX_SQL
             " = ? ORDER BY seq LIMIT 1",
             column, table->name, column, column, column);
    stmt = result == 0 ? prepare(conn, sql, err) : NULL;
    if (result == 0 && !stmt)
        result = -1;
    for (size_t i = 0; result == 0 && i < count; i++) {
        sqlite3_bind_text(stmt, 1, prefixes[i], -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW)
            result = visit(state, (const char *)sqlite3_column_text(stmt, 0),
                           (const char *)sqlite3_column_text(stmt, 1),
                           (const char *)sqlite3_column_text(stmt, 2), err);
        else if (rc != SQLITE_DONE)
            result = sqlite_error(conn->db, rc, err);
        sqlite3_reset(stmt);
    }
    for (size_t i = 0; i < count; i++)
        free(prefixes[i]);
    free(prefixes);
    return result;
}

const struct store_backend store_backend_sqlite = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .migrate = sqlite_migrate,
    .ping = sqlite_ping,
    .tx_begin = sqlite_tx_begin,
    .tx_commit = sqlite_tx_commit,
    .tx_rollback = sqlite_tx_rollback,
    .insert = sqlite_insert,
    .list = sqlite_list,
    .list_public_json = sqlite_list_public_json,
    .update = sqlite_update,
    .remove = sqlite_remove,
    .count = sqlite_count,
    .prune = sqlite_prune,
    .oldest_seq = sqlite_oldest_seq,
    .reclaim = sqlite_reclaim,
    .changed_elsewhere = sqlite_changed_elsewhere,
    .sealed_samples = sqlite_sealed_samples,
};
