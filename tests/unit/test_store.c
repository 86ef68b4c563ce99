/* test_store.c — the store interface on the SQLite backend: inserts stamp ids and times, rows
 * stay inside their organization, keyset paging visits every row once in creation order,
 * unique violations name the column, transactions roll back, cascades and restrictions hold,
 * work registered for a commit runs at the commit only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/row.h"
#include "store/event_log.h"
#include "store/store.h"
#include "store/tables.h"

struct fixture {
    char dir[64];
    struct store *store;
    char org_a[40], org_b[40];
};

static void make_org(struct store *store, const char *name, char *id_out) {
    struct agyn_error err = {0};
    json_t *row = json_pack("{s:s}", "name", name);
    assert_int_equal(store_insert(store, &TABLE_ORGANIZATIONS, row, &err), 0);
    snprintf(id_out, 40, "%s", row_text(row, "id"));
    json_decref(row);
}

static int setup(void **state) {
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/agyn-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char location[128];
    snprintf(location, sizeof location, "sqlite:%s/agyn.db", f->dir);
    struct agyn_error err = {0};
    assert_int_equal(store_open(location, &f->store, &err), 0);
    make_org(f->store, "a", f->org_a);
    make_org(f->store, "b", f->org_b);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    struct fixture *f = *state;
    store_close(f->store);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", f->dir);
    assert_int_equal(system(command), 0);
    free(f);
    return 0;
}

static json_t *agent(const char *org, const char *name) {
    return json_pack("{s:s, s:s, s:s, s:s}", "organization_id", org, "name", name, "image", "nginx",
                     "description", "");
}

static void test_insert_get_scoped(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    json_t *row = agent(f->org_a, "one");
    assert_int_equal(store_insert(f->store, &TABLE_AGENTS, row, &err), 0);
    const char *id = row_text(row, "id");
    assert_non_null(id);
    assert_non_null(row_text(row, "created_at"));
    json_t *got = NULL;
    assert_int_equal(store_get(f->store, &TABLE_AGENTS, f->org_a, id, &got, &err), 0);
    assert_string_equal(row_text(got, "name"), "one");
    json_decref(got);
    /* Another organization cannot see it. */
    assert_int_equal(store_get(f->store, &TABLE_AGENTS, f->org_b, id, &got, &err), -1);
    assert_int_equal(err.code, AGYN_NOT_FOUND);
    json_decref(row);
}

static void test_unique_violation_names_column(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    json_t *first = agent(f->org_a, "dup"), *second = agent(f->org_a, "dup");
    json_t *other_org = agent(f->org_b, "dup");
    assert_int_equal(store_insert(f->store, &TABLE_AGENTS, first, &err), 0);
    assert_int_equal(store_insert(f->store, &TABLE_AGENTS, second, &err), -1);
    assert_int_equal(err.code, AGYN_CONFLICT);
    assert_string_equal(err.field, "name");
    assert_int_equal(store_insert(f->store, &TABLE_AGENTS, other_org, &err), 0);
    json_decref(first);
    json_decref(second);
    json_decref(other_org);
}

static void test_paging_visits_every_row_once(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    for (int i = 0; i < 25; i++) {
        char name[16];
        snprintf(name, sizeof name, "agent-%02d", i);
        json_t *row = agent(f->org_a, name);
        assert_int_equal(store_insert(f->store, &TABLE_AGENTS, row, &err), 0);
        json_decref(row);
    }
    struct store_query query = {.organization_id = f->org_a, .limit = 5};
    int seen = 0, pages = 0;
    for (;;) {
        json_t *rows = NULL;
        int64_t next = 0;
        assert_int_equal(store_list(f->store, &TABLE_AGENTS, &query, &rows, &next, &err), 0);
        for (size_t i = 0; i < json_array_size(rows); i++) {
            char expected[16];
            snprintf(expected, sizeof expected, "agent-%02d", seen++);
            assert_string_equal(row_text(json_array_get(rows, i), "name"), expected);
        }
        json_decref(rows);
        pages++;
        if (next == 0)
            break;
        query.after_seq = next;
    }
    /* 25 rows in pages of 5: exactly 5 pages, the last one full and without a next token. */
    assert_int_equal(seen, 25);
    assert_int_equal(pages, 5);
}

/* exclusions: "column IS NOT value", NULL-safe, several at once (the runner's claim skips
 * saturated organizations this way). */
static void test_exclude_filters(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    const char *orgs[] = {f->org_a, f->org_b, f->org_a};
    const char *names[] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) {
        json_t *row = agent(orgs[i], names[i]);
        if (i == 2)
            json_object_set_new(row, "description", json_string("marked"));
        assert_int_equal(store_insert(f->store, &TABLE_AGENTS, row, &err), 0);
        json_decref(row);
    }
    struct store_filter not_x = {"name", "x"};
    struct store_query query = {
        .organization_id = f->org_a, .exclusions = &not_x, .exclusion_count = 1};
    json_t *rows = NULL;
    int64_t next = 0;
    assert_int_equal(store_list(f->store, &TABLE_AGENTS, &query, &rows, &next, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(row_text(json_array_get(rows, 0), "name"), "z");
    json_decref(rows);
    struct store_filter both[] = {{"name", "z"}, {"description", ""}};
    query.exclusions = both;
    query.exclusion_count = 2;
    long long count = -1;
    assert_int_equal(store_count(f->store, &TABLE_AGENTS, &query, &count, &err), 0);
    assert_int_equal(count, 0);
    struct store_filter not_null = {"description", NULL};
    query.exclusions = &not_null;
    query.exclusion_count = 1;
    assert_int_equal(store_count(f->store, &TABLE_AGENTS, &query, &count, &err), 0);
    assert_int_equal(count, 2);
}

static void test_update_and_delete(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    json_t *row = agent(f->org_a, "u");
    assert_int_equal(store_insert(f->store, &TABLE_AGENTS, row, &err), 0);
    const char *id = row_text(row, "id");
    json_t *changes = json_pack("{s:s}", "image", "ghcr.io/acme/x:v2");
    assert_int_equal(store_update(f->store, &TABLE_AGENTS, f->org_b, id, changes, &err), -1);
    assert_int_equal(err.code, AGYN_NOT_FOUND);
    assert_int_equal(store_update(f->store, &TABLE_AGENTS, f->org_a, id, changes, &err), 0);
    json_decref(changes);
    assert_int_equal(store_delete(f->store, &TABLE_AGENTS, f->org_b, id, &err), -1);
    assert_int_equal(store_delete(f->store, &TABLE_AGENTS, f->org_a, id, &err), 0);
    assert_int_equal(store_delete(f->store, &TABLE_AGENTS, f->org_a, id, &err), -1);
    assert_int_equal(err.code, AGYN_NOT_FOUND);
    json_decref(row);
}

static void test_update_many_skips_missing_rows(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    json_t *ids = json_pack("[s, s]", f->org_a, "no-such-id");
    json_t *changes = json_pack("{s:s}", "updated_at", "2000-01-01T00:00:00.000Z");
    int updated = -1;
    assert_int_equal(
        store_update_many_quietly(f->store, &TABLE_ORGANIZATIONS, ids, changes, &updated, &err), 0);
    assert_int_equal(updated, 1);
    json_t *row = NULL;
    assert_int_equal(store_get(f->store, &TABLE_ORGANIZATIONS, NULL, f->org_a, &row, &err), 0);
    assert_string_equal(row_text(row, "updated_at"), "2000-01-01T00:00:00.000Z");
    json_decref(row);
    assert_int_equal(store_get(f->store, &TABLE_ORGANIZATIONS, NULL, f->org_b, &row, &err), 0);
    assert_string_not_equal(row_text(row, "updated_at"), "2000-01-01T00:00:00.000Z");
    json_decref(row);
    /* An organization-scoped table needs the organization: refused. */
    assert_int_equal(store_update_many_quietly(f->store, &TABLE_AGENTS, ids, changes, NULL, &err),
                     -1);
    json_decref(changes);
    json_decref(ids);
}

static void test_transaction_rolls_back(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    assert_int_equal(store_tx_begin(f->store, &err), 0);
    json_t *row = agent(f->org_a, "ghost");
    assert_int_equal(store_insert(f->store, &TABLE_AGENTS, row, &err), 0);
    store_tx_rollback(f->store);
    json_t *got = NULL;
    assert_int_equal(store_get(f->store, &TABLE_AGENTS, f->org_a, row_text(row, "id"), &got, &err),
                     -1);
    json_decref(row);
}

static void test_agent_delete_cascades_to_parts(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    json_t *a = agent(f->org_a, "parent");
    assert_int_equal(store_insert(f->store, &TABLE_AGENTS, a, &err), 0);
    const char *agent_id = row_text(a, "id");
    json_t *mcp = json_pack("{s:s, s:s, s:s, s:s, s:s}", "organization_id", f->org_a, "agent_id",
                            agent_id, "name", "m", "image", "x", "description", "");
    assert_int_equal(store_insert(f->store, &TABLE_MCPS, mcp, &err), 0);
    assert_int_equal(store_delete(f->store, &TABLE_AGENTS, f->org_a, agent_id, &err), 0);
    json_t *got = NULL;
    assert_int_equal(store_get(f->store, &TABLE_MCPS, f->org_a, row_text(mcp, "id"), &got, &err),
                     -1);
    json_decref(mcp);
    json_decref(a);
}

static void test_event_log_order_and_isolation(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    json_t *payload = json_pack("{s:i}", "n", 1);
    uint64_t before = event_log_generation();
    assert_int_equal(event_log_append(f->store, f->org_a, "x.one", payload, &err), 0);
    assert_int_equal(event_log_append(f->store, f->org_b, "x.other", payload, &err), 0);
    assert_int_equal(event_log_append(f->store, f->org_a, "x.two", payload, &err), 0);
    assert_true(event_log_generation() > before);
    json_decref(payload);
    json_t *events = NULL;
    assert_int_equal(event_log_read(f->store, f->org_a, 0, 10, &events, &err), 0);
    assert_int_equal(json_array_size(events), 2);
    int64_t first = json_integer_value(json_object_get(json_array_get(events, 0), "id"));
    assert_string_equal(row_text(json_array_get(events, 1), "type"), "x.two");
    json_decref(events);
    assert_int_equal(event_log_read(f->store, f->org_a, first, 10, &events, &err), 0);
    assert_int_equal(json_array_size(events), 1);
    json_decref(events);
    int64_t last = 0;
    assert_int_equal(event_log_last_id(f->store, f->org_a, &last, &err), 0);
    assert_true(last > first);
}

static int after_commit_calls;
static void count_after_commit(void) {
    after_commit_calls++;
}

/* Work registered inside a transaction runs once at its commit, never on a rollback, and at
 * once outside a transaction; the event log relies on it to wake readers when events show. */
static void test_after_commit_runs_on_commit_only(void **state) {
    struct fixture *f = *state;
    struct agyn_error err = {0};
    after_commit_calls = 0;
    assert_int_equal(store_tx_begin(f->store, &err), 0);
    store_after_commit(f->store, count_after_commit);
    store_after_commit(f->store, count_after_commit);
    assert_int_equal(after_commit_calls, 0);
    assert_int_equal(store_tx_commit(f->store, &err), 0);
    assert_int_equal(after_commit_calls, 1);

    assert_int_equal(store_tx_begin(f->store, &err), 0);
    store_after_commit(f->store, count_after_commit);
    store_tx_rollback(f->store);
    assert_int_equal(after_commit_calls, 1);

    store_after_commit(f->store, count_after_commit);
    assert_int_equal(after_commit_calls, 2);

    /* An event appended inside a transaction wakes its readers again at the commit. */
    assert_int_equal(store_tx_begin(f->store, &err), 0);
    json_t *payload = json_pack("{s:i}", "n", 1);
    assert_int_equal(event_log_append(f->store, f->org_a, "x.tx", payload, &err), 0);
    json_decref(payload);
    uint64_t appended = event_log_generation();
    assert_int_equal(store_tx_commit(f->store, &err), 0);
    assert_true(event_log_generation() > appended);
}

/* A PostgreSQL URL selects the PostgreSQL backend; nothing listens on port 1, so the
 * database is unavailable (a 503 for the API), said without the URL's password. */
static void test_postgres_url_is_refused_clearly(void **state) {
    (void)state;
    struct store *store = NULL;
    struct agyn_error err = {0};
    assert_int_equal(store_open("postgres://agyn:hunter2@127.0.0.1:1/agyn", &store, &err), -1);
    assert_int_equal(err.code, AGYN_UNAVAILABLE);
    assert_true(strncmp(err.message, "database", 8) == 0);
    assert_null(strstr(err.message, "hunter2"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_get_scoped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unique_violation_names_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_visits_every_row_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclude_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_delete_cascades_to_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_log_order_and_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_commit_runs_on_commit_only, setup, teardown),
        cmocka_unit_test(test_postgres_url_is_refused_clearly),
        cmocka_unit_test_setup_teardown(test_update_many_skips_missing_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
