/* store_pg.c — the PostgreSQL backend (libpq). A pool of at most store->pool_size connections,
 * each with its own prepared statements (named by SQL text); a thread keeps one connection
 * from store_tx_begin to its commit or rollback, every other call borrows one for a single
 * statement. A store_tx_begin transaction takes a transaction-level advisory lock first, so
 * write transactions exclude each other as SQLite's BEGIN IMMEDIATE does and every insert
 * (seq order = commit order, which event ids rely on) holds it too. A lost connection is an
 * AGYN_UNAVAILABLE error and is re-opened by the next call that borrows it. SQL is generated
 * from the table descriptions; only column names from tables.c reach the SQL text, every value
 * is a parameter. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "store/pg_schema.h"
#include "store/store.h"
#include "core/xalloc.h"

#define SQL_MAX 8192
#define PARAMS_MAX 160
#define STATEMENT_CACHE_SIZE 64
#define POOL_WAIT_MS 10000
#define WRITE_LOCK_KEY "7306220612001"   /* pg_advisory_xact_lock: write transactions */
#define MIGRATE_LOCK_KEY "7306220612002" /* pg_advisory_lock: migrations */
#define CHANNELS_MAX 8

struct pg_statement {
    char *sql;
    char name[24];
};

struct pg_conn {
    PGconn *conn;
    struct pg_statement cache[STATEMENT_CACHE_SIZE];
    size_t cache_next;
    unsigned statement_counter;
    int in_transaction;
    int holds_write_lock;
    struct pg_conn *next_idle;
};

struct pg_subscription {
    char channel[64];
    void (*fn)(void);
};

struct pg_state {
    char *conninfo;
    uint64_t instance;
    pthread_mutex_t lock;
    pthread_cond_t returned;
    struct pg_conn *idle;
    int open_count;
    int pool_size;
    /* LISTEN: one connection on a thread of its own. */
    struct pg_subscription subscriptions[CHANNELS_MAX];
    size_t subscription_count;
    int listen_generation; /* bumped by subscribe: the thread re-issues LISTEN */
    pthread_t listener;
    int listener_running;
    atomic_int stopping;
    _Atomic uint64_t snapshot_stamp; /* pg_changed_elsewhere: a hash of the last snapshot */
};

static atomic_uint_fast64_t next_instance = 1;

/* The connection this thread's open transaction holds. */
static __thread struct {
    uint64_t instance;
    struct pg_conn *conn;
} thread_tx;

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

/* Parameter values as text (libpq's text format); NULL is SQL NULL. */
struct params {
    const char *values[PARAMS_MAX];
    char numbers[PARAMS_MAX][24];
    char *owned[PARAMS_MAX]; /* COLUMN_JSON values' text, freed by params_free */
    int count, owned_count;
};

static void params_free(struct params *p) {
    for (int i = 0; i < p->owned_count; i++)
        free(p->owned[i]);
    p->owned_count = 0;
}

static int param_text(struct params *p, const char *value) {
    if (p->count == PARAMS_MAX)
        return p->count; /* the caller's SQL_MAX check fails first in practice */
    p->values[p->count++] = value;
    return p->count;
}

static int param_int(struct params *p, long long value) {
    if (p->count == PARAMS_MAX)
        return p->count;
    snprintf(p->numbers[p->count], sizeof p->numbers[p->count], "%lld", value);
    p->values[p->count] = p->numbers[p->count];
    return ++p->count;
}

static int param_json(struct params *p, json_t *value) {
    if (json_is_integer(value))
        return param_int(p, json_integer_value(value));
    if (json_is_boolean(value))
        return param_int(p, json_is_true(value));
    if ((json_is_array(value) || json_is_object(value)) && p->count < PARAMS_MAX) {
        char *text = json_dumps(value, JSON_COMPACT); /* a COLUMN_JSON value */
        if (text)
            p->owned[p->owned_count++] = text;
        return param_text(p, text);
    }
    return param_text(p, json_is_string(value) ? json_string_value(value) : NULL);
}

static int connection_lost(PGconn *conn, const char *sqlstate) {
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return 1;
    /* 08: connection exceptions; 57P01-03: shutdown, crash shutdown, cannot connect now. */
    return sqlstate && (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
                        strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0);
}

/* "Key (organization_id, name)=(...) already exists.": the last column, like SQLite's
 * "UNIQUE constraint failed: agents.organization_id, agents.name". The values are not kept. */
static void unique_column(const char *detail, char *out, size_t size) {
    out[0] = '\0';
    const char *open = detail ? strstr(detail, "Key (") : NULL;
    const char *close = open ? strstr(open, ")=") : NULL;
    if (!close)
        return;
    const char *start = open + 5;
    for (const char *c = start; c < close; c++)
        if (*c == ',' || *c == ' ')
            start = c + 1;
    size_t len = (size_t)(close - start);
    if (len >= size)
        len = size - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

static int pg_error(PGconn *conn, const PGresult *res, struct agyn_error *err) {
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!primary)
        primary = conn ? PQerrorMessage(conn) : "no connection";
    if (connection_lost(conn, sqlstate))
        return agyn_fail(err, AGYN_UNAVAILABLE, NULL, "database unavailable: %s", primary);
    if (!sqlstate)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "database error: %s", primary);
    if (strcmp(sqlstate, "23505") == 0) {
        char column[64];
        unique_column(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), column, sizeof column);
        return agyn_fail(err, AGYN_CONFLICT, column[0] ? column : NULL, "already exists");
    }
    if (strcmp(sqlstate, "23503") == 0)
        return agyn_fail(err, AGYN_CONFLICT, NULL,
                         "the row is referenced by or refers to "
                         "another row that does not allow this");
    if (strncmp(sqlstate, "23", 2) == 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, NULL, "constraint failed: %s", primary);
    if (strncmp(sqlstate, "22", 2) == 0) /* e.g. a NUL character in text */
        return agyn_fail(err, AGYN_UNPROCESSABLE, NULL, "invalid value: %s", primary);
    /* 40001 serialization, 40P01 deadlock, 53xxx resources, 55P03 lock not available. */
    if (strncmp(sqlstate, "40", 2) == 0 || strncmp(sqlstate, "53", 2) == 0 ||
        strcmp(sqlstate, "55P03") == 0 || strcmp(sqlstate, "57014") == 0)
        return agyn_fail(err, AGYN_UNAVAILABLE, NULL, "database is busy: %s", primary);
    return agyn_fail(err, AGYN_INTERNAL, NULL, "database error: %s", primary);
}

static PGconn *connect_db(const char *conninfo, struct agyn_error *err) {
    /* The URL comes last so that its own parameters override these defaults. */
    const char *keywords[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *values[] = {"5", "agynd", conninfo, NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password. */
        char message[256];
        snprintf(message, sizeof message, "%s", conn ? PQerrorMessage(conn) : "out of memory");
        message[strcspn(message, "\n")] = '\0';
        agyn_fail(err, AGYN_UNAVAILABLE, NULL, "database unreachable: %s", message);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, NULL, NULL);
    PGresult *res = PQexec(conn, "SET client_min_messages = warning");
    PQclear(res);
    return conn;
}

static void forget_statements(struct pg_conn *c) {
    for (size_t i = 0; i < STATEMENT_CACHE_SIZE; i++) {
        free(c->cache[i].sql);
        c->cache[i].sql = NULL;
    }
    c->cache_next = 0;
}

static void close_connection(struct pg_conn *c) {
    forget_statements(c);
    PQfinish(c->conn);
    free(c);
}

/* An idle connection the server closed (a restart, idle timeout) has something to read: the
 * termination message or end of file. Found here, it is re-opened instead of failing a call. */
static int still_connected(PGconn *conn) {
    if (PQstatus(conn) != CONNECTION_OK)
        return 0;
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
    for (int i = 0; i < 2 && poll(&pfd, 1, 0) > 0 && PQstatus(conn) == CONNECTION_OK; i++) {
        PQconsumeInput(conn);
        PGnotify *note;
        while ((note = PQnotifies(conn)))
            PQfreemem(note);
    }
    return PQstatus(conn) == CONNECTION_OK;
}

/* A connection for this call: the open transaction's, else one from the pool (opened when
 * fewer than pool_size exist, re-opened when it was lost). */
static struct pg_conn *acquire(struct store *store, struct agyn_error *err) {
    struct pg_state *state = store->state;
    if (thread_tx.instance == state->instance && thread_tx.conn)
        return thread_tx.conn;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += POOL_WAIT_MS / 1000;
    pthread_mutex_lock(&state->lock);
    struct pg_conn *c = NULL;
    for (;;) {
        if (state->idle) {
            c = state->idle;
            state->idle = c->next_idle;
            break;
        }
        if (state->open_count < state->pool_size) {
            state->open_count++;
            break;
        }
        if (pthread_cond_timedwait(&state->returned, &state->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&state->lock);
            agyn_fail(err, AGYN_UNAVAILABLE, NULL,
                      "database connections all busy for 10 s (%d, --database-pool)",
                      state->pool_size);
            return NULL;
        }
    }
    pthread_mutex_unlock(&state->lock);
    if (c && still_connected(c->conn))
        return c;
    if (!c)
        c = xcalloc(1, sizeof *c);
    else {
        forget_statements(c);
        PQfinish(c->conn);
        c->conn = NULL;
    }
    if (c)
        c->conn = connect_db(state->conninfo, err);
    else
        agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory");
    if (c && c->conn)
        return c;
    free(c);
    pthread_mutex_lock(&state->lock);
    state->open_count--;
    pthread_cond_signal(&state->returned);
    pthread_mutex_unlock(&state->lock);
    return NULL;
}

/* Gives a borrowed connection back (the open transaction's stays with its thread). */
static void release(struct store *store, struct pg_conn *c) {
    struct pg_state *state = store->state;
    if (!c || (thread_tx.instance == state->instance && thread_tx.conn == c))
        return;
    pthread_mutex_lock(&state->lock);
    c->next_idle = state->idle;
    state->idle = c;
    pthread_cond_signal(&state->returned);
    pthread_mutex_unlock(&state->lock);
}

/* The statement's name on this connection, prepared on first use. */
static const char *prepared(struct pg_conn *c, const char *sql, int nparams,
                            struct agyn_error *err) {
    for (size_t i = 0; i < STATEMENT_CACHE_SIZE; i++)
        if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0)
            return c->cache[i].name;
    struct pg_statement *slot = &c->cache[c->cache_next];
    c->cache_next = (c->cache_next + 1) % STATEMENT_CACHE_SIZE;
    if (slot->sql) {
        char deallocate[64];
        snprintf(deallocate, sizeof deallocate, "DEALLOCATE %s", slot->name);
        PQclear(PQexec(c->conn, deallocate));
        free(slot->sql);
        slot->sql = NULL;
    }
    snprintf(slot->name, sizeof slot->name, "agyn_%u", ++c->statement_counter);
    PGresult *res = PQprepare(c->conn, slot->name, sql, nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_error(c->conn, res, err);
        PQclear(res);
        return NULL;
    }
    PQclear(res);
    slot->sql = xstrdup(sql);
    return slot->name;
}

/* Runs a prepared statement; NULL (err set) unless it ended with PGRES_COMMAND_OK or
 * PGRES_TUPLES_OK. */
static PGresult *run(struct pg_conn *c, const char *sql, const struct params *p,
                     struct agyn_error *err) {
    int count = p ? p->count : 0;
    const char *name = prepared(c, sql, count, err);
    if (!name)
        return NULL;
    PGresult *res = PQexecPrepared(c->conn, name, count, p ? p->values : NULL, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return res;
    pg_error(c->conn, res, err);
    PQclear(res);
    return NULL;
}

static int exec_simple(struct pg_conn *c, const char *sql, struct agyn_error *err) {
    PGresult *res = PQexec(c->conn, sql);
    ExecStatusType status = PQresultStatus(res);
    int rc = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ? 0 : -1;
    if (rc != 0)
        pg_error(c->conn, res, err);
    PQclear(res);
    return rc;
}

static void *listen_loop(void *arg);

/* pg_current_snapshot() (xmin:xmax:in-progress ids) decides which commits a query sees: while
 * it stays the same nothing committed anywhere in the cluster (every write takes a transaction
 * id, which moves xmax and, once committed, leaves the in-progress list), so a read returns
 * what it returned before. One round trip; the bump (store.c) happens before the new stamp is
 * published, so a thread that sees the stamp unchanged also sees the bumped version. */
static int pg_changed_elsewhere(struct store *store) {
    struct pg_state *state = store->state;
    if (thread_tx.instance == state->instance && thread_tx.conn)
        return -1;
    struct pg_conn *c = acquire(store, NULL);
    if (!c)
        return -1;
    PGresult *res = run(c, "SELECT pg_current_snapshot()::text", NULL, NULL);
    const char *text = res && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL;
    uint64_t stamp = 14695981039346656037ull; /* FNV-1a, 64 bits */
    for (const char *p = text; p && *p; p++)
        stamp = (stamp ^ (unsigned char)*p) * 1099511628211ull;
    PQclear(res);
    release(store, c);
    if (!text)
        return -1;
    if (atomic_load(&state->snapshot_stamp) != stamp) {
        store_data_version_bump(store);
        atomic_store(&state->snapshot_stamp, stamp);
    }
    return 0;
}

static int pg_open(struct store *store, const char *location, struct agyn_error *err) {
    struct pg_state *state = xcalloc(1, sizeof *state);
    state->conninfo = xstrdup(location);
    state->instance = atomic_fetch_add(&next_instance, 1);
    state->pool_size = store->pool_size > 0 ? store->pool_size : 10;
    pthread_mutex_init(&state->lock, NULL);
    pthread_cond_init(&state->returned, NULL);
    store->state = state;
    /* One connection now, so a wrong URL or password fails at start. */
    struct pg_conn *c = acquire(store, err);
    if (!c) {
        store->backend->close(store);
        return -1;
    }
    release(store, c);
    return 0;
}

static void pg_close(struct store *store) {
    struct pg_state *state = store->state;
    if (!state)
        return;
    atomic_store(&state->stopping, 1);
    if (state->listener_running)
        pthread_join(state->listener, NULL);
    pthread_mutex_lock(&state->lock);
    struct pg_conn *c = state->idle;
    while (c) {
        struct pg_conn *next = c->next_idle;
        close_connection(c);
        c = next;
    }
    state->idle = NULL;
    pthread_mutex_unlock(&state->lock);
    if (thread_tx.instance == state->instance)
        thread_tx.conn = NULL;
    pthread_mutex_destroy(&state->lock);
    pthread_cond_destroy(&state->returned);
    free(state->conninfo);
    free(state);
    store->state = NULL;
}

static int pg_migrate(struct store *store, struct agyn_error *err) {
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    /* A session lock: replicas starting together wait here and then find nothing to do. */
    int rc = exec_simple(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err);
    if (rc == 0)
        rc = exec_simple(c,
                         "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                         "KEY, applied_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE "
                         "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
                         err);
    for (size_t i = 0; rc == 0 && PG_MIGRATIONS[i]; i++) {
        int version = (int)i + 1;
        struct params p = {0};
        param_int(&p, version);
        rc = exec_simple(c, "BEGIN", err);
        PGresult *res =
            rc == 0 ? run(c, "SELECT 1 FROM schema_migrations WHERE version = $1", &p, err) : NULL;
        if (!res) {
            rc = -1;
            break;
        }
        int applied = PQntuples(res) > 0;
        PQclear(res);
        if (!applied) {
            rc = exec_simple(c, PG_MIGRATIONS[i], err);
            if (rc == 0) {
                res = run(c, "INSERT INTO schema_migrations (version) VALUES ($1)", &p, err);
                rc = res ? 0 : -1;
                PQclear(res);
            }
            if (rc != 0) {
                agyn_error_prefix(err, "migration %d", version);
                exec_simple(c, "ROLLBACK", NULL);
                break;
            }
        }
        rc = exec_simple(c, "COMMIT", err);
    }
    exec_simple(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL);
    release(store, c);
    return rc;
}

static int pg_ping(struct store *store, struct agyn_error *err) {
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    PGresult *res = run(c, "SELECT 1", NULL, err);
    PQclear(res);
    release(store, c);
    return res ? 0 : -1;
}

static int begin(struct store *store, int write_lock, struct agyn_error *err) {
    struct pg_state *state = store->state;
    if (thread_tx.instance == state->instance && thread_tx.conn)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "nested transaction");
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    PGresult *res = run(c, "BEGIN", NULL, err);
    if (res && write_lock) {
        PGresult *locked = run(c, "SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")", NULL, err);
        if (!locked) {
            PQclear(res);
            res = NULL;
            if (PQstatus(c->conn) == CONNECTION_OK)
                exec_simple(c, "ROLLBACK", NULL);
        }
        PQclear(locked);
    }
    if (!res) {
        release(store, c);
        return -1;
    }
    PQclear(res);
    c->in_transaction = 1;
    c->holds_write_lock = write_lock;
    thread_tx.instance = state->instance;
    thread_tx.conn = c;
    return 0;
}

static int pg_tx_begin(struct store *store, struct agyn_error *err) {
    return begin(store, 1, err);
}

static int pg_tx_begin_row_locks(struct store *store, struct agyn_error *err) {
    return begin(store, 0, err);
}

static struct pg_conn *end_transaction(struct store *store) {
    struct pg_state *state = store->state;
    if (thread_tx.instance != state->instance || !thread_tx.conn)
        return NULL;
    struct pg_conn *c = thread_tx.conn;
    thread_tx.conn = NULL;
    c->in_transaction = 0;
    c->holds_write_lock = 0;
    return c;
}

static int pg_tx_commit(struct store *store, struct agyn_error *err) {
    struct pg_conn *c = end_transaction(store);
    if (!c)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "commit without a transaction");
    PGresult *res = run(c, "COMMIT", NULL, err);
    /* COMMIT of a failed transaction "succeeds" as a rollback. */
    int rc = res && strcmp(PQcmdStatus(res), "COMMIT") == 0 ? 0 : -1;
    if (res && rc != 0)
        agyn_fail(err, AGYN_INTERNAL, NULL, "the transaction was rolled back");
    PQclear(res);
    if (!res && PQstatus(c->conn) == CONNECTION_OK)
        exec_simple(c, "ROLLBACK", NULL);
    release(store, c);
    return rc;
}

static void pg_tx_rollback(struct store *store) {
    struct pg_conn *c = end_transaction(store);
    if (!c)
        return;
    if (PQstatus(c->conn) == CONNECTION_OK)
        exec_simple(c, "ROLLBACK", NULL);
    release(store, c);
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

/* Appends " WHERE ..." for the query to sql and its values to p. */
static int build_where(const struct store_table *table, const struct store_query *query, char *sql,
                       size_t size, struct params *p, struct agyn_error *err) {
    size_t len = strlen(sql);
    const char *joiner = " WHERE ";
    if (table->organization_scoped) {
        if (!query->organization_id)
            return agyn_fail(err, AGYN_INTERNAL, NULL, "query on %s without organization",
                             table->name);
        sql_appendf(sql, size, &len, "%sorganization_id = $%d", joiner,
                    param_text(p, query->organization_id));
        joiner = " AND ";
    }
    for (size_t i = 0; i < query->filter_count; i++) {
        const struct store_filter *f = &query->filters[i];
        if (!known_column(table, f->column))
            return agyn_fail(err, AGYN_INTERNAL, NULL, "unknown column %s", f->column);
        if (f->value)
            sql_appendf(sql, size, &len, "%s%s = $%d", joiner, f->column, param_text(p, f->value));
        else
            sql_appendf(sql, size, &len, "%s%s IS NULL", joiner, f->column);
        joiner = " AND ";
    }
    for (size_t i = 0; i < query->exclusion_count; i++) {
        const struct store_filter *f = &query->exclusions[i];
        if (!known_column(table, f->column))
            return agyn_fail(err, AGYN_INTERNAL, NULL, "unknown column %s", f->column);
        if (f->value)
            sql_appendf(sql, size, &len, "%s%s IS DISTINCT FROM $%d", joiner, f->column,
                        param_text(p, f->value));
        else
            sql_appendf(sql, size, &len, "%s%s IS NOT NULL", joiner, f->column);
        joiner = " AND ";
    }
    if (query->after_seq > 0)
        sql_appendf(sql, size, &len, "%sseq %s $%d", joiner, query->newest_first ? "<" : ">",
                    param_int(p, query->after_seq));
    return len < size && p->count < PARAMS_MAX
               ? 0
               : agyn_fail(err, AGYN_INTERNAL, NULL, "query too long");
}

/* Runs one write statement on a borrowed connection (or the open transaction's); inserts hold
 * the write lock, so rows become visible in seq order. */
static PGresult *run_write(struct store *store, struct pg_conn *c, const char *sql,
                           const struct params *p, int needs_write_lock, struct agyn_error *err) {
    if (!needs_write_lock || c->holds_write_lock)
        return run(c, sql, p, err);
    if (c->in_transaction) {
        PGresult *locked = run(c, "SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")", NULL, err);
        if (!locked)
            return NULL;
        PQclear(locked);
        c->holds_write_lock = 1;
        return run(c, sql, p, err);
    }
    PGresult *res = run(c, "BEGIN", NULL, err);
    if (!res)
        return NULL;
    PQclear(res);
    PGresult *locked = run(c, "SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")", NULL, err);
    res = locked ? run(c, sql, p, err) : NULL;
    PQclear(locked);
    PGresult *committed = res ? run(c, "COMMIT", NULL, err) : NULL;
    if (!committed) {
        PQclear(res);
        if (PQstatus(c->conn) == CONNECTION_OK)
            exec_simple(c, "ROLLBACK", NULL);
        return NULL;
    }
    PQclear(committed);
    return res;
}

static int pg_insert(struct store *store, const struct store_table *table, json_t *row,
                     struct agyn_error *err) {
    const char *names[64];
    int kinds[64];
    size_t n = row_columns(table, names, kinds, 64);
    struct params p = {0};
    char sql[SQL_MAX];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (", table->name);
    for (size_t i = 0; i < n; i++)
        sql_appendf(sql, sizeof sql, &len, "%s%s", i ? ", " : "", names[i]);
    sql_appendf(sql, sizeof sql, &len, ") VALUES (");
    for (size_t i = 0; i < n; i++)
        sql_appendf(sql, sizeof sql, &len, "%s$%d", i ? ", " : "",
                    param_json(&p, json_object_get(row, names[i])));
    sql_appendf(sql, sizeof sql, &len, ")");
    if (len >= sizeof sql) {
        params_free(&p);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "insert into %s too long", table->name);
    }
    struct pg_conn *c = acquire(store, err);
    if (!c) {
        params_free(&p);
        return -1;
    }
    PGresult *res = run_write(store, c, sql, &p, 1, err);
    params_free(&p);
    PQclear(res);
    release(store, c);
    return res ? 0 : -1;
}

/* Receives each row of a list query: res row r (column 0 is seq, then names[i] at i + 1). */
struct row_sink {
    void (*row)(struct row_sink *sink, PGresult *res, int r, const char *const *names,
                const int *kinds, const int *hidden, size_t n, int64_t seq);
};

static int run_list(struct store *store, const struct store_table *table,
                    const struct store_query *query, struct row_sink *sink, int64_t *next_seq,
                    struct agyn_error *err) {
    const char *names[64];
    int kinds[64], hidden[64] = {0};
    size_t n = row_columns(table, names, kinds, 64);
    for (size_t i = 0; i < n; i++) {
        const struct store_column *column = store_table_column(table, names[i]);
        hidden[i] = column && (column->flags & (COLUMN_INTERNAL | COLUMN_SEALED));
    }
    struct params p = {0};
    char sql[SQL_MAX];
    size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT seq");
    for (size_t i = 0; i < n; i++)
        sql_appendf(sql, sizeof sql, &len, ", %s", names[i]);
    sql_appendf(sql, sizeof sql, &len, " FROM %s", table->name);
    if (len >= sizeof sql || build_where(table, query, sql, sizeof sql, &p, err) != 0)
        return len >= sizeof sql ? agyn_fail(err, AGYN_INTERNAL, NULL, "query too long") : -1;
    len = strlen(sql);
    sql_appendf(sql, sizeof sql, &len, " ORDER BY seq%s", query->newest_first ? " DESC" : "");
    if (query->limit > 0)
        sql_appendf(sql, sizeof sql, &len, " LIMIT $%d", param_int(&p, query->limit + 1));
    if (query->lock_rows)
        sql_appendf(sql, sizeof sql, &len, " FOR UPDATE SKIP LOCKED");
    if (len >= sizeof sql)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "query on %s too long", table->name);
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    PGresult *res = run(c, sql, &p, err);
    release(store, c);
    if (!res)
        return -1;
    *next_seq = 0;
    int rows = PQntuples(res);
    int64_t last_seq = 0;
    for (int r = 0; r < rows; r++) {
        if (query->limit > 0 && r == query->limit) {
            *next_seq = last_seq;
            break;
        }
        last_seq = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        sink->row(sink, res, r, names, kinds, hidden, n, last_seq);
    }
    PQclear(res);
    return 0;
}

static json_t *column_json(PGresult *res, int r, int column, int kind) {
    if (PQgetisnull(res, r, column))
        return json_null();
    const char *value = PQgetvalue(res, r, column);
    if (kind == COLUMN_INTEGER)
        return json_integer(strtoll(value, NULL, 10));
    if (kind == COLUMN_JSON) {
        json_t *parsed = json_loadb(value, (size_t)PQgetlength(res, r, column), 0, NULL);
        return parsed ? parsed : json_null();
    }
    return json_stringn(value, (size_t)PQgetlength(res, r, column));
}

struct json_rows_sink {
    struct row_sink sink;
    const struct store_query *query;
    json_t *rows;
};

static void add_json_row(struct row_sink *sink, PGresult *res, int r, const char *const *names,
                         const int *kinds, const int *hidden, size_t n, int64_t seq) {
    (void)hidden;
    struct json_rows_sink *self = (struct json_rows_sink *)sink;
    json_t *row = json_object();
    for (size_t i = 0; i < n; i++) /* names come from tables.c: ASCII, no check needed */
        json_object_set_new_nocheck(row, names[i], column_json(res, r, (int)i + 1, kinds[i]));
    if (self->query->include_seq)
        json_object_set_new(row, "seq", json_integer(seq));
    json_array_append_new(self->rows, row);
}

static int pg_list(struct store *store, const struct store_table *table,
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
};

/* Writes the row's public columns as a JSON object, straight from libpq's values. */
static void write_text_row(struct row_sink *sink, PGresult *res, int r, const char *const *names,
                           const int *kinds, const int *hidden, size_t n, int64_t seq) {
    (void)seq;
    struct text_rows_sink *self = (struct text_rows_sink *)sink;
    struct json_writer *out = self->out;
    if (self->count++)
        json_writer_raw(out, ",", 1);
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (hidden[i])
            continue;
        char key[80];
        int len = snprintf(key, sizeof key, "%s\"%s\":", first ? "{" : ",", names[i]);
        json_writer_raw(out, key, len > 0 && (size_t)len < sizeof key ? (size_t)len : 0);
        first = 0;
        int column = (int)i + 1;
        if (PQgetisnull(res, r, column))
            json_writer_raw(out, "null", 4);
        else if (kinds[i] == COLUMN_INTEGER) {
            char number[32];
            int nlen = snprintf(number, sizeof number, "%lld",
                                strtoll(PQgetvalue(res, r, column), NULL, 10));
            json_writer_raw(out, number, (size_t)nlen);
        } else if (kinds[i] == COLUMN_JSON) {
            json_t *value = column_json(res, r, column, COLUMN_JSON);
            json_writer_value(out, value); /* re-written, so the list is valid JSON whatever */
            json_decref(value);
        } else
            json_writer_string(out, PQgetvalue(res, r, column),
                               (size_t)PQgetlength(res, r, column));
    }
    json_writer_raw(out, first ? "{}" : "}", first ? 2 : 1);
}

static int pg_list_public_json(struct store *store, const struct store_table *table,
                               const struct store_query *query, struct json_writer *out,
                               int64_t *next_seq, struct agyn_error *err) {
    struct text_rows_sink sink = {.sink = {write_text_row}, .out = out};
    json_writer_raw(out, "[", 1);
    int rc = run_list(store, table, query, &sink.sink, next_seq, err);
    json_writer_raw(out, "]", 1);
    return rc;
}

/* Runs a write statement and returns the number of rows it changed (-1 on an error). */
static long long run_change(struct store *store, const char *sql, const struct params *p,
                            struct agyn_error *err) {
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    PGresult *res = run_write(store, c, sql, p, 0, err);
    release(store, c);
    if (!res)
        return -1;
    long long changed = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return changed;
}

/* "UPDATE table SET col = $n, ..." for the changes (never id or organization_id) into sql;
 * *len is what it holds. -1 (p freed) for a column the table does not have. */
static int update_set_clause(const struct store_table *table, json_t *changes, struct params *p,
                             char *sql, size_t size, size_t *len, struct agyn_error *err) {
    *len = (size_t)snprintf(sql, size, "UPDATE %s SET ", table->name);
    const char *key;
    json_t *value;
    int first = 1;
    json_object_foreach(changes, key, value) {
        if (!known_column(table, key) || strcmp(key, "id") == 0 ||
            strcmp(key, "organization_id") == 0) {
            params_free(p);
            return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot update column %s", key);
        }
        sql_appendf(sql, size, len, "%s%s = $%d", first ? "" : ", ", key, param_json(p, value));
        first = 0;
    }
    return 0;
}

static int pg_update(struct store *store, const struct store_table *table,
                     const char *organization_id, const char *id, json_t *changes,
                     struct agyn_error *err) {
    struct params p = {0};
    char sql[SQL_MAX];
    size_t len;
    if (update_set_clause(table, changes, &p, sql, sizeof sql, &len, err) != 0)
        return -1;
    sql_appendf(sql, sizeof sql, &len, " WHERE id = $%d", param_text(&p, id));
    if (table->organization_scoped)
        sql_appendf(sql, sizeof sql, &len, " AND organization_id = $%d",
                    param_text(&p, organization_id));
    if (len >= sizeof sql || p.count >= PARAMS_MAX) {
        params_free(&p);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "update too long");
    }
    long long changed = run_change(store, sql, &p, err);
    params_free(&p);
    if (changed < 0)
        return -1;
    return changed == 0 ? agyn_fail(err, AGYN_NOT_FOUND, "id", "not found") : 0;
}

/* One UPDATE for every id of the JSON array ids (sent as one json parameter). */
static int pg_update_many(struct store *store, const struct store_table *table, json_t *ids,
                          json_t *changes, int *updated, struct agyn_error *err) {
    struct params p = {0};
    char sql[SQL_MAX];
    size_t len;
    if (update_set_clause(table, changes, &p, sql, sizeof sql, &len, err) != 0)
        return -1;
    sql_appendf(sql, sizeof sql, &len, " WHERE id IN (SELECT json_array_elements_text($%d::json))",
                param_json(&p, ids));
    if (len >= sizeof sql || p.count >= PARAMS_MAX) {
        params_free(&p);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "update too long");
    }
    long long changed = run_change(store, sql, &p, err);
    params_free(&p);
    if (changed < 0)
        return -1;
    *updated = (int)changed;
    return 0;
}

static int pg_remove(struct store *store, const struct store_table *table,
                     const struct store_query *query, int *removed, struct agyn_error *err) {
    struct params p = {0};
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "DELETE FROM %s", table->name);
    if (build_where(table, query, sql, sizeof sql, &p, err) != 0)
        return -1;
    long long changed = run_change(store, sql, &p, err);
    *removed = changed > 0 ? (int)changed : 0;
    return changed < 0 ? -1 : 0;
}

static int pg_count(struct store *store, const struct store_table *table,
                    const struct store_query *query, long long *count_out, struct agyn_error *err) {
    struct params p = {0};
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table->name);
    if (build_where(table, query, sql, sizeof sql, &p, err) != 0)
        return -1;
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    PGresult *res = run(c, sql, &p, err);
    release(store, c);
    *count_out = res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return res ? 0 : -1;
}

static int pg_prune(struct store *store, const struct store_table *table, const char *column,
                    const char *before, const struct store_filter *only, int limit, int *removed,
                    struct agyn_error *err) {
    if (!known_column(table, column) || (only && !known_column(table, only->column)))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "unknown column in a prune of %s", table->name);
    struct params p = {0};
    char sql[SQL_MAX];
    param_text(&p, before);
    if (only)
        param_text(&p, only->value);
    int limit_index = param_int(&p, limit);
    snprintf(sql, sizeof sql,
             "DELETE FROM %s WHERE seq IN (SELECT seq FROM %s WHERE %s < $1%s%s%s ORDER BY seq "
             "LIMIT $%d)",
             table->name, table->name, column, only ? " AND " : "", only ? only->column : "",
             only ? " = $2" : "", limit_index);
    long long changed = run_change(store, sql, &p, err);
    *removed = changed > 0 ? (int)changed : 0;
    return changed < 0 ? -1 : 0;
}

/* min(seq); for an empty table the next value of its sequence. */
static int pg_oldest_seq(struct store *store, const struct store_table *table, int64_t *seq_out,
                         struct agyn_error *err) {
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT min(seq) FROM %s), (SELECT CASE WHEN is_called THEN "
             "last_value + 1 ELSE last_value END FROM %s_seq_seq))",
             table->name, table->name);
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    PGresult *res = run(c, sql, NULL, err);
    release(store, c);
    *seq_out = res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return res ? 0 : -1;
}

/* One pass: the oldest row of each "<format>:<key id>" prefix (DISTINCT ON, ordered by seq). */
static int pg_sealed_samples(struct store *store, const struct store_table *table,
                             const char *column, store_sealed_visit visit, void *state,
                             struct agyn_error *err) {
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT DISTINCT ON (split_part(%s, ':', 1), split_part(%s, ':', 2))"
             " organization_id, id, %s FROM %s WHERE %s IS NOT NULL"
             " ORDER BY split_part(%s, ':', 1), split_part(%s, ':', 2), seq",
             column, column, column, table->name, column, column, column);
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    PGresult *res = run(c, sql, NULL, err);
    release(store, c);
    if (!res)
        return -1;
    int result = 0;
    for (int i = 0; result == 0 && i < PQntuples(res); i++)
        result =
            visit(state, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), err);
    PQclear(res);
    return result;
}

static int valid_channel(const char *channel) {
    size_t len = strlen(channel);
    if (len == 0 || len >= 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((channel[i] >= 'a' && channel[i] <= 'z') || channel[i] == '_'))
            return 0;
    return 1;
}

static int pg_notify(struct store *store, const char *channel, struct agyn_error *err) {
    if (!valid_channel(channel))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "bad channel name");
    struct params p = {0};
    param_text(&p, channel);
    struct pg_conn *c = acquire(store, err);
    if (!c)
        return -1;
    PGresult *res = run(c, "SELECT pg_notify($1, '')", &p, err);
    release(store, c);
    PQclear(res);
    return res ? 0 : -1;
}

static void call_subscribers(struct pg_state *state, const char *channel) {
    void (*fns[CHANNELS_MAX])(void);
    size_t n = 0;
    pthread_mutex_lock(&state->lock);
    for (size_t i = 0; i < state->subscription_count; i++)
        if (!channel || strcmp(state->subscriptions[i].channel, channel) == 0)
            fns[n++] = state->subscriptions[i].fn;
    pthread_mutex_unlock(&state->lock);
    for (size_t i = 0; i < n; i++)
        fns[i]();
}

/* LISTENs on every subscribed channel; returns -1 when the connection is unusable. */
static int listen_all(struct pg_state *state, PGconn *conn, int *generation_out) {
    char channels[CHANNELS_MAX][64];
    size_t n;
    pthread_mutex_lock(&state->lock);
    n = state->subscription_count;
    for (size_t i = 0; i < n; i++)
        memcpy(channels[i], state->subscriptions[i].channel, 64);
    *generation_out = state->listen_generation;
    pthread_mutex_unlock(&state->lock);
    for (size_t i = 0; i < n; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "LISTEN %s", channels[i]);
        PGresult *res = PQexec(conn, sql);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

static void *listen_loop(void *arg) {
    struct pg_state *state = arg;
    PGconn *conn = NULL;
    int generation = -1, backoff_ms = 100;
    while (!atomic_load(&state->stopping)) {
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn);
            conn = connect_db(state->conninfo, NULL);
            if (!conn || listen_all(state, conn, &generation) != 0) {
                PQfinish(conn);
                conn = NULL;
                struct timespec ts = {backoff_ms / 1000, (long)(backoff_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
                continue;
            }
            backoff_ms = 100;
            call_subscribers(state, NULL); /* whatever happened while not listening */
        }
        pthread_mutex_lock(&state->lock);
        int current = state->listen_generation;
        pthread_mutex_unlock(&state->lock);
        if (current != generation && listen_all(state, conn, &generation) != 0) {
            PQfinish(conn);
            conn = NULL;
            continue;
        }
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        int ready = poll(&pfd, 1, 200);
        if (ready > 0 && !PQconsumeInput(conn)) {
            PQfinish(conn);
            conn = NULL;
            continue;
        }
        PGnotify *note;
        while ((note = PQnotifies(conn))) {
            call_subscribers(state, note->relname);
            PQfreemem(note);
        }
    }
    PQfinish(conn);
    return NULL;
}

static int pg_subscribe(struct store *store, const char *channel, void (*fn)(void),
                        struct agyn_error *err) {
    struct pg_state *state = store->state;
    if (!valid_channel(channel))
        return agyn_fail(err, AGYN_INTERNAL, NULL, "bad channel name");
    pthread_mutex_lock(&state->lock);
    if (state->subscription_count == CHANNELS_MAX) {
        pthread_mutex_unlock(&state->lock);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "too many subscriptions");
    }
    struct pg_subscription *s = &state->subscriptions[state->subscription_count++];
    snprintf(s->channel, sizeof s->channel, "%s", channel);
    s->fn = fn;
    state->listen_generation++;
    int start = !state->listener_running;
    state->listener_running = 1;
    pthread_mutex_unlock(&state->lock);
    if (start && pthread_create(&state->listener, NULL, listen_loop, state) != 0) {
        state->listener_running = 0;
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot start the database listener");
    }
    return 0;
}

const struct store_backend store_backend_postgres = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .migrate = pg_migrate,
    .ping = pg_ping,
    .tx_begin = pg_tx_begin,
    .tx_commit = pg_tx_commit,
    .tx_rollback = pg_tx_rollback,
    .insert = pg_insert,
    .list = pg_list,
    .list_public_json = pg_list_public_json,
    .update = pg_update,
    .update_many = pg_update_many,
    .remove = pg_remove,
    .count = pg_count,
    .prune = pg_prune,
    .oldest_seq = pg_oldest_seq,
    .sealed_samples = pg_sealed_samples,
    .tx_begin_row_locks = pg_tx_begin_row_locks,
    .notify = pg_notify,
    .subscribe = pg_subscribe,
    .changed_elsewhere = pg_changed_elsewhere,
};
