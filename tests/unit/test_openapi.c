/* test_openapi.c — the OpenAPI document served at /api/v1/openapi.json lists every route in
 * the route table with the right method, and documents no route that does not exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <string.h>

#include <jansson.h>

#include "api/embedded.h"
#include "api/router.h"

static json_t *load_document(void) {
    const struct embedded_file *file = embedded_find("api/openapi.json");
    assert_non_null(file);
    json_error_t error;
    json_t *doc = json_loadb((const char *)file->data, file->size, 0, &error);
    assert_non_null(doc);
    return doc;
}

static void lower(const char *in, char *out, size_t size) {
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static void test_every_route_is_documented(void **state) {
    (void)state;
    json_t *doc = load_document();
    json_t *paths = json_object_get(doc, "paths");
    for (const struct route *r = API_ROUTES; r->method; r++) {
        char method[16];
        lower(r->method, method, sizeof method);
        json_t *item = json_object_get(paths, r->pattern);
        if (!item || !json_object_get(item, method))
            fail_msg("route %s %s is missing from openapi.json", r->method, r->pattern);
    }
    json_decref(doc);
}

static void test_every_documented_operation_has_a_route(void **state) {
    (void)state;
    json_t *doc = load_document();
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        const char *method;
        json_t *operation;
        json_object_foreach(item, method, operation) {
            if (strcmp(method, "parameters") == 0)
                continue;
            int found = 0;
            for (const struct route *r = API_ROUTES; r->method; r++) {
                char lowered[16];
                lower(r->method, lowered, sizeof lowered);
                if (strcmp(r->pattern, path) == 0 && strcmp(lowered, method) == 0)
                    found = 1;
            }
            if (!found)
                fail_msg("openapi.json documents %s %s, which has no route", method, path);
        }
    }
    json_decref(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_is_documented),
        cmocka_unit_test(test_every_documented_operation_has_a_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
