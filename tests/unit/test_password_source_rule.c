/* test_password_source_rule.c — unit tests for the exactly-one-source rule of a credential's
 * value (core/password_source_rule): each option alone, two together (the second one named),
 * none (required or not), a provider without its remote path and the reverse, several inline
 * options as the CLI and Terraform offer them, and the messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/password_source_rule.h"

enum { INLINE_GIVEN = 1, SECRET_GIVEN = 2, PROVIDER_GIVEN = 4, PATH_GIVEN = 8 };

/* The API's options for an image pull secret, given as a bit set. */
static int choose(int given, bool required, struct password_source_choice *choice,
                  struct agyn_error *err) {
    const struct password_source_option options[] = {
        {PASSWORD_SOURCE_INLINE, "password", NULL, given & INLINE_GIVEN, false},
        {PASSWORD_SOURCE_SECRET, "password_secret_id", NULL, given & SECRET_GIVEN, false},
        {PASSWORD_SOURCE_REMOTE, "provider_id", "remote_path", given & PROVIDER_GIVEN,
         given & PATH_GIVEN},
    };
    static struct password_source_option kept[3];
    memcpy(kept, options, sizeof kept);
    return password_source_choose(kept, 3, required, choice, err);
}

static void test_each_source_alone(void **state) {
    (void)state;
    struct password_source_choice choice;
    struct agyn_error err = {0};
    assert_int_equal(choose(INLINE_GIVEN, true, &choice, &err), 0);
    assert_int_equal(choice.chosen->kind, PASSWORD_SOURCE_INLINE);
    assert_int_equal(choose(SECRET_GIVEN, true, &choice, &err), 0);
    assert_int_equal(choice.chosen->kind, PASSWORD_SOURCE_SECRET);
    assert_int_equal(choose(PROVIDER_GIVEN | PATH_GIVEN, true, &choice, &err), 0);
    assert_int_equal(choice.chosen->kind, PASSWORD_SOURCE_REMOTE);
    assert_int_equal(choice.problem, PASSWORD_SOURCE_OK);
}

static void test_none(void **state) {
    (void)state;
    struct password_source_choice choice;
    struct agyn_error err = {0};
    assert_int_equal(choose(0, false, &choice, &err), 0);
    assert_null(choice.chosen);
    assert_int_equal(choose(0, true, &choice, &err), -1);
    assert_int_equal(choice.problem, PASSWORD_SOURCE_MISSING);
    assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    assert_string_equal(err.field, "password");
    assert_string_equal(err.message, "One of password, password_secret_id, or provider_id with "
                                     "remote_path must be set.");
}

static void test_two_sources_name_the_second(void **state) {
    (void)state;
    static const struct {
        int given;
        const char *field;
    } cases[] = {
        {INLINE_GIVEN | SECRET_GIVEN, "password_secret_id"},
        {INLINE_GIVEN | PROVIDER_GIVEN | PATH_GIVEN, "provider_id"},
        {SECRET_GIVEN | PROVIDER_GIVEN | PATH_GIVEN, "provider_id"},
        {INLINE_GIVEN | PATH_GIVEN, "remote_path"},
        {SECRET_GIVEN | PROVIDER_GIVEN, "provider_id"},
        {INLINE_GIVEN | SECRET_GIVEN | PROVIDER_GIVEN | PATH_GIVEN, "password_secret_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct password_source_choice choice;
        struct agyn_error err = {0};
        assert_int_equal(choose(cases[i].given, false, &choice, &err), -1);
        assert_int_equal(choice.problem, PASSWORD_SOURCE_SEVERAL);
        assert_int_equal(err.code, AGYN_UNPROCESSABLE);
        assert_string_equal(err.field, cases[i].field);
        assert_non_null(strstr(err.message, "Only one of password, password_secret_id, or "
                                            "provider_id with remote_path may be set"));
    }
    struct password_source_choice choice;
    struct agyn_error err = {0};
    choose(INLINE_GIVEN | PROVIDER_GIVEN, true, &choice, &err);
    assert_non_null(strstr(err.message, "but both password and provider_id are set."));
}

static void test_provider_and_remote_path_go_together(void **state) {
    (void)state;
    struct password_source_choice choice;
    struct agyn_error err = {0};
    assert_int_equal(choose(PROVIDER_GIVEN, true, &choice, &err), -1);
    assert_int_equal(choice.problem, PASSWORD_SOURCE_PARTNER_MISSING);
    assert_string_equal(err.field, "remote_path");
    assert_string_equal(err.message, "remote_path is required when provider_id is set.");
    assert_int_equal(choose(PATH_GIVEN, false, &choice, &err), -1);
    assert_string_equal(err.field, "provider_id");
    assert_string_equal(err.message, "provider_id is required when remote_path is set.");
}

/* The CLI offers three inline flags and no secret for a Secret's value: they exclude each
 * other as any two sources do. */
static void test_several_options_of_one_kind(void **state) {
    (void)state;
    struct password_source_option options[] = {
        {PASSWORD_SOURCE_INLINE, "--value-stdin", NULL, false, false},
        {PASSWORD_SOURCE_INLINE, "--value-file", NULL, true, false},
        {PASSWORD_SOURCE_REMOTE, "--provider", "--remote-path", false, false},
    };
    struct password_source_choice choice;
    struct agyn_error err = {0};
    assert_int_equal(password_source_choose(options, 3, true, &choice, &err), 0);
    assert_ptr_equal(choice.chosen, &options[1]);
    options[0].given = true;
    assert_int_equal(password_source_choose(options, 3, true, &choice, &err), -1);
    assert_string_equal(err.field, "--value-file");
    assert_string_equal(err.message, "Only one of --value-stdin, --value-file, or --provider with "
                                     "--remote-path may be set, but both --value-stdin and "
                                     "--value-file are set.");
    /* two options: "a or b" */
    assert_int_equal(password_source_choose(&options[1], 2, false, &choice, &err), 0);
    options[1].given = false;
    assert_int_equal(password_source_choose(&options[1], 2, true, &choice, &err), -1);
    assert_string_equal(err.message,
                        "One of --value-file or --provider with --remote-path must be set.");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_source_alone),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_two_sources_name_the_second),
        cmocka_unit_test(test_provider_and_remote_path_go_together),
        cmocka_unit_test(test_several_options_of_one_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
