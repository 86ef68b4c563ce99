/* test_router.c — the route table's matcher (api/router.c): literal paths, the {org}, {id} and
 * {name} placeholders captured, HEAD answered by GET, a known path with another method (405),
 * unknown paths, trailing and doubled slashes, placeholders that are too long, and that every
 * route of API_ROUTES matches itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "api/router.h"

#define ORG "0b6f3c3e-9a4e-4c3b-8f57-1d2e3f4a5b6c"
#define ID "7c9e6679-7425-40de-944b-e07fc1f90ae7"

/* Matches and returns the route found (NULL unless ROUTE_FOUND); req is reset first. */
static enum route_match match(const char *method, const char *path, struct api_request *req,
                              const struct route **route) {
    memset(req, 0, sizeof *req);
    *route = NULL;
    return router_match(method, path, req, route);
}

static void expect_route(const char *method, const char *path, const char *pattern) {
    struct api_request req;
    const struct route *route;
    enum route_match m = match(method, path, &req, &route);
    if (m != ROUTE_FOUND)
        fail_msg("%s %s: no route (%d)", method, path, (int)m);
    assert_string_equal(route->pattern, pattern);
}

static void expect_result(const char *method, const char *path, enum route_match expected) {
    struct api_request req;
    const struct route *route;
    enum route_match m = match(method, path, &req, &route);
    if (m != expected)
        fail_msg("%s %s: got %d, expected %d", method, path, (int)m, (int)expected);
}

static void test_literal_paths(void **state) {
    (void)state;
    expect_route("GET", "/healthz", "/healthz");
    expect_route("GET", "/api/v1/me", "/api/v1/me");
    expect_route("POST", "/api/v1/organizations", "/api/v1/organizations");
    expect_route("GET", "/api/v1/organizations", "/api/v1/organizations");
    expect_route("DELETE", "/api/v1/session", "/api/v1/session");
}

static void test_placeholders_are_captured(void **state) {
    (void)state;
    struct api_request req;
    const struct route *route;
    assert_int_equal(match("GET", "/api/v1/organizations/" ORG "/agents/" ID, &req, &route),
                     ROUTE_FOUND);
    assert_string_equal(route->pattern, "/api/v1/organizations/{org}/agents/{id}");
    assert_string_equal(req.org_id, ORG);
    assert_string_equal(req.id, ID);
    assert_string_equal(route->id_kind, "agent");

    assert_int_equal(match("GET",
                           "/api/v1/organizations/" ORG "/workloads/" ID "/containers/main-1/logs",
                           &req, &route),
                     ROUTE_FOUND);
    assert_string_equal(req.id, ID);
    assert_string_equal(req.sub, "main-1");

    /* The router captures; validating a UUID is the handler's job. */
    assert_int_equal(match("GET", "/api/v1/organizations/not-a-uuid", &req, &route), ROUTE_FOUND);
    assert_string_equal(req.org_id, "not-a-uuid");
}

static void test_import_beside_id(void **state) {
    (void)state;
    expect_route("POST", "/api/v1/organizations/" ORG "/image-pull-secrets/import",
                 "/api/v1/organizations/{org}/image-pull-secrets/import");
    /* GET of the same path is the {id} route (and "import" is then not a valid id). */
    expect_route("GET", "/api/v1/organizations/" ORG "/image-pull-secrets/import",
                 "/api/v1/organizations/{org}/image-pull-secrets/{id}");
}

static void test_methods(void **state) {
    (void)state;
    expect_route("HEAD", "/healthz", "/healthz"); /* HEAD is answered by the GET route */
    expect_route("PATCH", "/api/v1/organizations/" ORG "/agents/" ID,
                 "/api/v1/organizations/{org}/agents/{id}");
    expect_result("PUT", "/api/v1/organizations/" ORG "/agents/" ID, ROUTE_WRONG_METHOD);
    expect_result("POST", "/healthz", ROUTE_WRONG_METHOD);
    expect_result("DELETE", "/api/v1/me", ROUTE_WRONG_METHOD);
    expect_result("HEAD", "/api/v1/session", ROUTE_FOUND);
    expect_result("HEAD", "/api/v1/organizations/" ORG "/workloads/" ID "/stop",
                  ROUTE_WRONG_METHOD);                    /* HEAD only stands in for GET */
    expect_result("get", "/healthz", ROUTE_WRONG_METHOD); /* methods are case-sensitive */
}

static void test_unknown_paths(void **state) {
    (void)state;
    static const char *const paths[] = {
        "",
        "/",
        "/healthz/",
        "//healthz",
        "/healthzz",
        "/HEALTHZ",
        "/api/v1",
        "/api/v1/",
        "/api/v1/organizations/",
        "/api/v1/organizations//agents",
        "/api/v1/organizations/" ORG "/agents/",
        "/api/v1/organizations/" ORG "/agents/" ID "/",
        "/api/v1/organizations/" ORG "/agents/" ID "/extra",
        "/api/v1/organizations/" ORG "/unknown",
        "/api/v1/organizations/" ORG "/workloads/" ID "/containers//logs",
        "api/v1/me",
        "/api/v1/me?x=1",
        "/api/v2/me",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        expect_result("GET", paths[i], ROUTE_NO_PATH);
        expect_result("POST", paths[i], ROUTE_NO_PATH);
    }
}

static void test_overlong_placeholder_is_marked(void **state) {
    (void)state;
    char path[512];
    char long_id[200];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    snprintf(path, sizeof path, "/api/v1/organizations/%s/agents/%s", ORG, long_id);
    struct api_request req;
    const struct route *route;
    assert_int_equal(match("GET", path, &req, &route), ROUTE_FOUND);
    assert_string_equal(req.id, "-"); /* never a truncated copy that could be valid */

    /* Exactly one byte too long for the buffer is marked too. */
    char just_too_long[sizeof req.id + 1];
    memset(just_too_long, 'b', sizeof req.id);
    just_too_long[sizeof req.id] = '\0';
    snprintf(path, sizeof path, "/api/v1/organizations/%s/agents", just_too_long);
    assert_int_equal(match("GET", path, &req, &route), ROUTE_FOUND);
    assert_string_equal(req.org_id, "-");
}

/* Every route, with its placeholders filled in, finds itself (or an earlier route of the same
 * method and pattern shape), and a method no route uses gives 405. */
static void test_every_route_matches_itself(void **state) {
    (void)state;
    size_t count = 0;
    for (const struct route *r = API_ROUTES; r->method; r++, count++) {
        char path[512] = "";
        size_t len = 0;
        for (const char *p = r->pattern; *p;) {
            const char *value = NULL;
            if (strncmp(p, "{org}", 5) == 0)
                value = ORG, p += 5;
            else if (strncmp(p, "{id}", 4) == 0)
                value = ID, p += 4;
            else if (*p == '{')
                value = "name", p = strchr(p, '}') + 1;
            if (value) {
                len += (size_t)snprintf(path + len, sizeof path - len, "%s", value);
            } else {
                path[len++] = *p++;
                path[len] = '\0';
            }
        }
        struct api_request req;
        const struct route *found;
        assert_int_equal(match(r->method, path, &req, &found), ROUTE_FOUND);
        assert_string_equal(found->method, r->method);
        assert_string_equal(found->pattern, r->pattern);
        expect_result("TRACE", path, ROUTE_WRONG_METHOD);
    }
    assert_true(count > 40);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_paths),
        cmocka_unit_test(test_placeholders_are_captured),
        cmocka_unit_test(test_import_beside_id),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_unknown_paths),
        cmocka_unit_test(test_overlong_placeholder_is_marked),
        cmocka_unit_test(test_every_route_matches_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
