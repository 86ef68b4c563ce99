/* test_transience.c — the one transient-vs-permanent table (core/transience.h) and the places
 * that use it: registry answers (pull_failure), provider statuses (provider_status_to_code),
 * and token-service answers with out-of-range lifetimes (found by fuzzing). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/transience.h"
#include "providers/answers.h"
#include "providers/http.h"
#include "registry/pull_failure.h"
#include "registry/token_service.h"

static void test_statuses(void **state) {
    const long transient[] = {0, 99, 408, 429, 500, 502, 503, 504, 599};
    const long permanent[] = {400, 401, 403, 404, 409, 410, 422};
    for (size_t i = 0; i < sizeof transient / sizeof *transient; i++)
        assert_true(transience_status_is_transient(transient[i]));
    for (size_t i = 0; i < sizeof permanent / sizeof *permanent; i++)
        assert_false(transience_status_is_transient(permanent[i]));
}

static void test_codes(void **state) {
    assert_true(transience_code_is_transient(AGYN_UNAVAILABLE));
    assert_false(transience_code_is_transient(AGYN_NOT_FOUND));
    assert_false(transience_code_is_transient(AGYN_PERMISSION_DENIED));
    assert_false(transience_code_is_transient(AGYN_UNPROCESSABLE));
    assert_false(transience_code_is_transient(AGYN_INTERNAL));
}

/* Registries and providers classify the same statuses the same way. */
static void test_registry_and_provider_agree(void **state) {
    const long statuses[] = {401, 403, 404, 408, 418, 429, 500, 503};
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
        struct agyn_error err = {0};
        pull_fail_foreign(statuses[i], "token service", "auth.example", &err);
        bool registry_transient = pull_failure_of(&err) == PULL_TRANSIENT;
        bool provider_transient =
            transience_code_is_transient(provider_status_to_code(statuses[i]));
        assert_int_equal(registry_transient, provider_transient);
    }
}

static void test_provider_answers(void **state) {
    char *value = NULL;
    struct agyn_error err = {0};
    const char *malformed = "{\"data\": {\"data\": ";
    assert_int_equal(vault_secret_from_answer(malformed, strlen(malformed), "secret/data/a",
                                              "secret", "password", &value, &err),
                     -1);
    assert_true(transience_code_is_transient(err.code)); /* garbled: a proxy mid-outage */
    const char *no_key = "{\"data\": {\"data\": {\"other\": \"x\"}}}";
    assert_int_equal(vault_secret_from_answer(no_key, strlen(no_key), "secret/data/a", "secret",
                                              "password", &value, &err),
                     -1);
    assert_false(transience_code_is_transient(err.code)); /* a missing key stays missing */
    assert_null(value);
    const char *echo = "{\"errors\": [\"bad token hvs.SECRET-TOKEN\"]}";
    vault_error_from_answer(503, echo, strlen(echo), "hvs.SECRET-TOKEN", &err);
    assert_true(transience_code_is_transient(err.code));
    assert_null(strstr(err.message, "hvs.SECRET-TOKEN"));
}

static void test_token_lifetimes_out_of_range(void **state) {
    const char *answers[] = {"{\"token\": \"t\", \"expires_in\": -1e300}",
                             "{\"token\": \"t\", \"expires_in\": 1e300}",
                             "{\"token\": \"t\", \"expires_in\": -5}",
                             "{\"token\": \"t\", \"expires_in\": 9223372036854775807}"};
    for (size_t i = 0; i < sizeof answers / sizeof *answers; i++) {
        struct token_grant grant = {0};
        struct agyn_error err = {0};
        assert_int_equal(
            token_grant_parse(answers[i], strlen(answers[i]), "auth.example", &grant, &err), 0);
        assert_int_equal(grant.expires_in, 0); /* treated as absent: the default applies */
        token_grant_free(&grant);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_registry_and_provider_agree),
        cmocka_unit_test(test_provider_answers),
        cmocka_unit_test(test_token_lifetimes_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
