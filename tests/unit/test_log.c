/* test_log.c — unit tests for log escaping: bare and quoted values, forged fields, ANSI and
 * other control bytes, non-ASCII bytes, the length cap, and whole lines read back from
 * standard error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

static void expect_escaped(const char *value, const char *expected) {
    char out[LOG_ESCAPED_MAX];
    size_t len = log_escape_value(out, sizeof out, value);
    assert_string_equal(out, expected);
    assert_int_equal(len, strlen(expected));
}

static void test_plain_values_stay_bare(void **state) {
    (void)state;
    expect_escaped("GET", "GET");
    expect_escaped("/api/v1/organizations/{org}", "/api/v1/organizations/{org}");
    expect_escaped("12.5", "12.5");
}

static void test_empty_and_null_are_quoted(void **state) {
    (void)state;
    expect_escaped("", "\"\"");
    expect_escaped(NULL, "\"\"");
}

static void test_forged_fields_stay_one_value(void **state) {
    (void)state;
    expect_escaped("GET\tlevel=error\tmsg=\"forged\"",
                   "\"GET\\x09level=error\\x09msg=\\\"forged\\\"\"");
    expect_escaped("GET level=error", "\"GET level=error\"");
    expect_escaped("a\nts=2020 level=error", "\"a\\x0ats=2020 level=error\"");
    expect_escaped("back\\slash", "\"back\\\\slash\"");
    expect_escaped("k=v", "\"k=v\"");
}

static void test_control_and_non_ascii_bytes_are_hex(void **state) {
    (void)state;
    expect_escaped("\x1b[2Jred", "\"\\x1b[2Jred\"");
    expect_escaped("del\x7f", "\"del\\x7f\"");
    expect_escaped("caf\xc3\xa9", "\"caf\\xc3\\xa9\"");
    expect_escaped("\xc2\x9b"
                   "1m",
                   "\"\\xc2\\x9b1m\"");
}

static void test_long_values_are_capped_with_a_marker(void **state) {
    (void)state;
    char value[LOG_VALUE_MAX * 3];
    memset(value, 'a', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    char out[LOG_ESCAPED_MAX];
    log_escape_value(out, sizeof out, value);
    char expected[LOG_VALUE_MAX + 64];
    snprintf(expected, sizeof expected, "\"%.*s%s\"", LOG_VALUE_MAX, value, LOG_TRUNCATED_MARKER);
    assert_string_equal(out, expected);

    /* Escaped bytes take four characters each; the cap still holds and the quote closes. */
    memset(value, '\x01', sizeof value - 1);
    size_t len = log_escape_value(out, sizeof out, value);
    assert_true(len < sizeof out);
    assert_int_equal(out[0], '"');
    assert_int_equal(out[len - 1], '"');
    assert_non_null(strstr(out, LOG_TRUNCATED_MARKER));

    /* A small buffer cuts the value but keeps it quoted and marked. */
    char small[32];
    log_escape_value(small, sizeof small, "a value with spaces that is long enough to be cut");
    assert_int_equal(small[0], '"');
    assert_int_equal(small[strlen(small) - 1], '"');
    assert_non_null(strstr(small, LOG_TRUNCATED_MARKER));
}

/* Runs fn with standard error sent to a temporary file and returns what it wrote. */
static char *capture_stderr(void (*fn)(void)) {
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    static char text[8192];
    rewind(tmp);
    size_t n = fread(text, 1, sizeof text - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

static void log_forged_request(void) {
    log_kv("info", "request", {"request_id", "r1"}, {"method", "GET\tlevel=error\tmsg=\"forged\""},
           {"status", "404"});
}

static void test_a_line_holds_exactly_its_fields(void **state) {
    (void)state;
    const char *line = capture_stderr(log_forged_request);
    const char *after_ts = strchr(line, ' ');
    assert_non_null(after_ts);
    assert_string_equal(after_ts, " level=info msg=\"request\" request_id=r1 "
                                  "method=\"GET\\x09level=error\\x09msg=\\\"forged\\\"\" "
                                  "status=404\n");
    assert_int_equal(strncmp(line, "ts=", 3), 0);
    assert_null(strchr(line, '\t'));
}

static void log_without_fields(void) {
    log_fields("info", "stopped", NULL, 0);
}

static void log_many_long_fields(void) {
    char value[LOG_VALUE_MAX + 1];
    memset(value, '\n', LOG_VALUE_MAX);
    value[LOG_VALUE_MAX] = '\0';
    struct log_field fields[16];
    for (size_t i = 0; i < 16; i++)
        fields[i] = (struct log_field){"field", value};
    log_fields("warn", "big", fields, 16);
}

static void test_lines_are_single_and_bounded(void **state) {
    (void)state;
    const char *line = capture_stderr(log_without_fields);
    assert_non_null(strstr(line, " level=info msg=\"stopped\"\n"));
    line = capture_stderr(log_many_long_fields);
    size_t len = strlen(line);
    assert_true(len <= 4096);
    assert_int_equal(line[len - 1], '\n');
    assert_ptr_equal(strchr(line, '\n'), line + len - 1);
    /* Fields are left out whole: the last one kept ends in its closing quote. */
    assert_int_equal(line[len - 2], '"');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_values_stay_bare),
        cmocka_unit_test(test_empty_and_null_are_quoted),
        cmocka_unit_test(test_forged_fields_stay_one_value),
        cmocka_unit_test(test_control_and_non_ascii_bytes_are_hex),
        cmocka_unit_test(test_long_values_are_capped_with_a_marker),
        cmocka_unit_test(test_a_line_holds_exactly_its_fields),
        cmocka_unit_test(test_lines_are_single_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
