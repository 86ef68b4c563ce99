/* test_pull_selection.c — unit tests for the one rule choosing and ordering the image pull
 * secrets a pull may use (credentials/pull_selection): specificity first, then attachment
 * order; IPv6 hosts with ports; wildcards; Docker Hub names and aliases; and loading the
 * attached secrets from a real SQLite store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/row.h"
#include "core/image_ref.h"
#include "credentials/pull_selection.h"
#include "store/store.h"
#include "store/tables.h"

#define MAX_ATTACHED 16

/* Ranks registries (attachment order) for image and compares with the expected try orders
 * (0: does not apply). */
static void expect_order(const char *image_text, const char *const *registries, size_t count,
                         const size_t *expected) {
    struct image_ref image;
    struct agyn_error err = {0};
    if (image_ref_parse(image_text, "image", &image, &err) != 0)
        fail_msg("image %s: %s", image_text, err.message);
    size_t order[MAX_ATTACHED];
    size_t expected_matches = 0;
    for (size_t i = 0; i < count; i++)
        expected_matches += expected[i] > 0;
    assert_int_equal(pull_selection_rank(registries, count, &image, order), expected_matches);
    for (size_t i = 0; i < count; i++) {
        if (order[i] != expected[i])
            fail_msg("%s, registry %s (attached #%zu): try_order %zu, expected %zu", image_text,
                     registries[i], i + 1, order[i], expected[i]);
    }
}

static void test_specificity_then_attachment_order(void **state) {
    (void)state;
    static const char *const attached[] = {
        "*.example.com",      "a.example.com", "a.example.com/team",     "*.example.com/team/app",
        "a.example.com/team", "ghcr.io",       "a.example.com/team/app",
    };
    /* the plain host with the longest path first; two equal "a.example.com/team" keep their
     * attachment order; wildcards last; ghcr.io does not apply */
    static const size_t expected[] = {6, 4, 2, 5, 3, 0, 1};
    expect_order("a.example.com/team/app:v1", attached, 7, expected);
}

static void test_equal_specificity_keeps_attachment_order(void **state) {
    (void)state;
    static const char *const attached[] = {"ghcr.io/acme", "quay.io", "ghcr.io/other",
                                           "ghcr.io/acme", "GHCR.IO/acme"};
    static const size_t expected[] = {1, 0, 0, 2, 3};
    expect_order("ghcr.io/acme/app", attached, 5, expected);
}

static void test_ipv6_hosts_with_ports(void **state) {
    (void)state;
    /* the Console once matched "[::1]:5000" to "[::1]:6000/..." by splitting on the first ':' */
    static const char *const attached[] = {"[::1]:5000", "[::1]:6000", "[::1]", "[::1]:6000/team",
                                           "[0::1]:6000"};
    static const size_t expected[] = {0, 2, 0, 1, 0};
    expect_order("[::1]:6000/team/app:v1", attached, 5, expected);
    static const size_t no_port[] = {0, 0, 1, 0, 0};
    expect_order("[::1]/team/app", attached, 5, no_port);
}

static void test_wildcards(void **state) {
    (void)state;
    static const char *const attached[] = {
        "*.dkr.ecr.us-west-2.amazonaws.com", "*.*.ecr.us-west-2.amazonaws.com",
        "123.dkr.ecr.us-west-2.amazonaws.com", "*.us-west-2.amazonaws.com"};
    /* a '*' is exactly one label: the last pattern has one label too few */
    static const size_t expected[] = {2, 3, 1, 0};
    expect_order("123.dkr.ecr.us-west-2.amazonaws.com/app:v1", attached, 4, expected);
}

static void test_docker_hub(void **state) {
    (void)state;
    static const char *const attached[] = {"docker.io/library", "https://index.docker.io/v1/",
                                           "registry-1.docker.io", "docker.io/nginx",
                                           "docker.io/library/nginx"};
    /* "nginx" is docker.io/library/nginx; "docker.io/nginx" is the user "nginx" */
    static const size_t expected[] = {2, 3, 4, 0, 1};
    expect_order("nginx", attached, 5, expected);
    expect_order("index.docker.io/library/nginx:1.25", attached, 5, expected);
}

static void test_no_image_and_bad_patterns(void **state) {
    (void)state;
    static const char *const attached[] = {"ghcr.io", "not a pattern", NULL, "ghcr.io"};
    size_t order[4] = {9, 9, 9, 9};
    assert_int_equal(pull_selection_rank(attached, 4, NULL, order), 0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(order[i], 0);
    static const size_t expected[] = {1, 0, 0, 2};
    expect_order("ghcr.io/acme/app", attached, 4, expected);
    assert_int_equal(pull_selection_rank(attached, 0, NULL, order), 0);
}

/* ---------- loading from a real store ---------- */

static json_t *insert(struct store *store, const struct store_table *table, json_t *row) {
    struct agyn_error err = {0};
    static int next_id;
    char id[40];
    snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", ++next_id);
    if (!json_object_get(row, "id"))
        json_object_set_new(row, "id", json_string(id));
    if (store_insert(store, table, row, &err) != 0)
        fail_msg("insert into %s: %s", table->name, err.message);
    return row;
}

static void test_load_from_store(void **state) {
    (void)state;
    char dir[] = "/tmp/agyn-selection-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], location[160];
    snprintf(path, sizeof path, "%s/agyn.db", dir);
    snprintf(location, sizeof location, "sqlite:%s", path);
    struct store *store = NULL;
    struct agyn_error err = {0};
    if (store_open(location, &store, &err) != 0)
        fail_msg("open: %s", err.message);
    const char *org = "00000000-0000-4000-8000-0000000000aa";
    json_decref(
        insert(store, &TABLE_ORGANIZATIONS, json_pack("{s:s, s:s}", "id", org, "name", "acme")));
    json_t *agent = insert(store, &TABLE_AGENTS,
                           json_pack("{s:s, s:s, s:s, s:s}", "organization_id", org, "name",
                                     "support", "image", "ghcr.io/acme/app:v1", "description", ""));
    const char *registries[] = {"ghcr.io", "quay.io", "ghcr.io/acme", "*.io"};
    for (size_t i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%zu", i);
        json_t *secret =
            insert(store, &TABLE_IMAGE_PULL_SECRETS,
                   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "organization_id", org,
                             "name", name, "description", "", "registry", registries[i], "username",
                             "u", "password_source", "inline", "password_updated_at",
                             "2024-01-01T00:00:00Z", "password_sealed", "not-opened-here"));
        json_decref(
            insert(store, &TABLE_ATTACHMENTS,
                   json_pack("{s:s, s:O, s:O, s:n, s:n}", "organization_id", org,
                             "image_pull_secret_id", json_object_get(secret, "id"), "agent_id",
                             json_object_get(agent, "id"), "mcp_id", "hook_id")));
        json_decref(secret);
    }
    struct image_ref image;
    assert_int_equal(image_ref_parse("ghcr.io/acme/app:v1", "image", &image, &err), 0);
    struct pull_selection selection;
    if (pull_selection_load(store, org, "agent_id", row_text(agent, "id"), &image, &selection,
                            &err) != 0)
        fail_msg("load: %s", err.message);
    assert_int_equal(selection.count, 4);
    assert_int_equal(selection.matched, 3);
    static const size_t expected[] = {2, 0, 1, 3};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(row_text(selection.entries[i].secret, "registry"), registries[i]);
        assert_int_equal(selection.entries[i].try_order, expected[i]);
    }
    assert_string_equal(
        json_string_value(json_object_get(pull_selection_at(&selection, 1)->secret, "name")), "s2");
    assert_null(pull_selection_at(&selection, 4));
    assert_null(pull_selection_at(&selection, 0));
    pull_selection_free(&selection);
    json_decref(agent);
    store_close(store);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_specificity_then_attachment_order),
        cmocka_unit_test(test_equal_specificity_keeps_attachment_order),
        cmocka_unit_test(test_ipv6_hosts_with_ports),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_docker_hub),
        cmocka_unit_test(test_no_image_and_bad_patterns),
        cmocka_unit_test(test_load_from_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
