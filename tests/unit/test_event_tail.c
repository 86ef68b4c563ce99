/* test_event_tail.c — the shared tail of recent events (src/api/event_tail.c) on a real SQLite
 * store: it answers only once filled and only for positions it covers, serves each organization
 * only its own frames in id order, moves a stream's position past other organizations' events,
 * keeps at most EVENT_TAIL_MAX_EVENTS (an older position must read the store), and forgets what
 * retention deleted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/event_tail.h"
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
    snprintf(f->dir, sizeof f->dir, "/tmp/agyn-tail-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char location[128];
    snprintf(location, sizeof location, "sqlite:%s/agyn.db", f->dir);
    struct agyn_error err = {0};
    assert_int_equal(store_open(location, &f->store, &err), 0);
    make_org(f->store, "a", f->org_a);
    make_org(f->store, "b", f->org_b);
    event_tail_clear();
    *state = f;
    return 0;
}

static int teardown(void **state) {
    struct fixture *f = *state;
    event_tail_clear();
    store_close(f->store);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", f->dir);
    assert_int_equal(system(command), 0);
    free(f);
    return 0;
}

/* Appends count events (numbered from first) to org in one transaction. */
static void append(struct store *store, const char *org, int first, int count) {
    struct agyn_error err = {0};
    assert_int_equal(store_tx_begin(store, &err), 0);
    for (int i = first; i < first + count; i++) {
        json_t *payload = json_pack("{s:i}", "n", i);
        assert_int_equal(event_log_append(store, org, "test.event", payload, &err), 0);
        json_decref(payload);
    }
    assert_int_equal(store_tx_commit(store, &err), 0);
}

static int frames_in(const struct dynbuf *buf) {
    int n = 0;
    for (const char *p = buf->data; p && (p = strstr(p, "\n\n")); p += 2)
        n++;
    return n;
}

static void test_serves_each_organization_its_own_events_in_order(void **state) {
    struct fixture *f = *state;
    struct dynbuf out;
    dynbuf_init(&out, 0, true);
    int64_t position = 0;
    assert_int_equal(event_tail_read(f->org_a, &position, 100, &out), -1); /* not filled yet */
    append(f->store, f->org_a, 0, 2);
    assert_int_equal(event_tail_refresh(f->store), 0); /* fills: starts after what exists */
    int64_t start = event_tail_newest();
    assert_true(start > 0);
    position = start - 1;
    assert_int_equal(event_tail_read(f->org_a, &position, 100, &out), -1); /* before its start */

    append(f->store, f->org_a, 2, 1);
    append(f->store, f->org_b, 0, 2);
    append(f->store, f->org_a, 3, 1);
    assert_int_equal(event_tail_refresh(f->store), 4);
    position = start;
    assert_int_equal(event_tail_read(f->org_a, &position, 100, &out), 2);
    assert_int_equal(position, event_tail_newest()); /* past org b's events too */
    const char *first = strstr(out.data, "data: {\"n\":2}");
    const char *second = strstr(out.data, "data: {\"n\":3}");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    assert_null(strstr(out.data, "data: {\"n\":0}")); /* org b's, and org a's before the start */
    assert_int_equal(strncmp(out.data, "id: ", 4), 0);
    assert_non_null(strstr(out.data, "\nevent: test.event\n"));

    dynbuf_clear(&out);
    position = start;
    assert_int_equal(event_tail_read(f->org_b, &position, 1, &out), 1); /* at most max_events */
    assert_int_equal(frames_in(&out), 1);
    assert_non_null(strstr(out.data, "data: {\"n\":0}"));
    assert_true(position < event_tail_newest());
    assert_int_equal(event_tail_read(f->org_b, &position, 1, &out), 1);
    assert_non_null(strstr(out.data, "data: {\"n\":1}"));
    dynbuf_free(&out);
}

static void test_keeps_the_newest_and_sends_older_positions_to_the_store(void **state) {
    struct fixture *f = *state;
    assert_int_equal(event_tail_refresh(f->store), 0);
    int64_t start = event_tail_newest();
    append(f->store, f->org_a, 0, EVENT_TAIL_MAX_EVENTS + 10);
    assert_int_equal(event_tail_refresh(f->store), EVENT_TAIL_MAX_EVENTS + 10);
    struct dynbuf out;
    dynbuf_init(&out, 0, true);
    int64_t position = start;
    assert_int_equal(event_tail_read(f->org_a, &position, 100, &out), -1); /* evicted */
    position = start + 10; /* the oldest kept entry is start + 11 */
    assert_int_equal(event_tail_read(f->org_a, &position, 100, &out), 100);
    assert_int_equal(position, start + 110);
    assert_non_null(strstr(out.data, "data: {\"n\":10}"));
    assert_null(strstr(out.data, "data: {\"n\":9}"));
    dynbuf_free(&out);
}

static void test_forgets_what_retention_deleted(void **state) {
    struct fixture *f = *state;
    assert_int_equal(event_tail_refresh(f->store), 0);
    int64_t start = event_tail_newest();
    append(f->store, f->org_a, 0, 3);
    assert_int_equal(event_tail_refresh(f->store), 3);
    struct agyn_error err = {0};
    int removed = 0;
    /* Every event is older than "9999-...": retention removes the first two. */
    assert_int_equal(store_prune(f->store, &TABLE_EVENTS, "created_at", "9999-01-01T00:00:00.000Z",
                                 NULL, 2, &removed, &err),
                     0);
    assert_int_equal(removed, 2);
    append(f->store, f->org_a, 3, 1);
    assert_int_equal(event_tail_refresh(f->store), 1); /* and forgets the two deleted */
    struct dynbuf out;
    dynbuf_init(&out, 0, true);
    int64_t position = start; /* before the deleted ones: the store answers (and says reset) */
    assert_int_equal(event_tail_read(f->org_a, &position, 100, &out), -1);
    position = start + 2;
    assert_int_equal(event_tail_read(f->org_a, &position, 100, &out), 2);
    assert_null(strstr(out.data, "data: {\"n\":1}"));
    assert_non_null(strstr(out.data, "data: {\"n\":2}"));
    assert_non_null(strstr(out.data, "data: {\"n\":3}"));
    dynbuf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serves_each_organization_its_own_events_in_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_keeps_the_newest_and_sends_older_positions_to_the_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forgets_what_retention_deleted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
