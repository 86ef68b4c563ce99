/* test_pull_deadline.c — unit tests for when a pull attempt ends (min of attempt start + pull
 * timeout and workload creation + start grace), the messages naming the deadline, and the
 * duration / timestamp helpers they use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "base/clock.h"
#include "core/duration.h"
#include "runner/pull_deadline.h"

#define MINUTES(n) ((long long)(n)*60 * 1000)

static void test_grace_end_counts_from_creation(void **state) {
    (void)state;
    /* created 2 s ago (wall clock), monotonic now 1000000: 5 s grace ends at 1003000 */
    assert_int_equal(pull_deadline_grace_end(1700000000000, 5000, 1700000002000, 1000000), 1003000);
    /* created long ago: already over */
    assert_true(pull_deadline_grace_end(1700000000000, 5000, 1700000600000, 1000000) < 1000000);
    /* a creation time in the future (clock stepped back) counts as now */
    assert_int_equal(pull_deadline_grace_end(1700000009000, 5000, 1700000000000, 1000000), 1005000);
}

static void test_attempt_ends_at_the_earlier_limit(void **state) {
    (void)state;
    /* grace far away: the pull timeout ends the attempt */
    struct pull_deadline d =
        pull_deadline_for_attempt(1000, MINUTES(30), 1000 + MINUTES(60), MINUTES(61));
    assert_int_equal(d.kind, PULL_DEADLINE_PULL_TIMEOUT);
    assert_int_equal(d.ends_ms, 1000 + MINUTES(30));
    assert_int_equal(d.limit_ms, MINUTES(30));
    /* grace first */
    d = pull_deadline_for_attempt(1000, MINUTES(30), 6000, 5000);
    assert_int_equal(d.kind, PULL_DEADLINE_START_GRACE);
    assert_int_equal(d.ends_ms, 6000);
    assert_int_equal(d.limit_ms, 5000);
    /* a tie goes to the start grace: the workload fails rather than retrying */
    d = pull_deadline_for_attempt(1000, 5000, 6000, 5000);
    assert_int_equal(d.kind, PULL_DEADLINE_START_GRACE);
    /* a later attempt within the same grace: the grace end does not move */
    d = pull_deadline_for_attempt(4000, MINUTES(30), 6000, 5000);
    assert_int_equal(d.ends_ms, 6000);
    /* grace over already: the attempt ends at once */
    d = pull_deadline_for_attempt(9000, MINUTES(30), 6000, 5000);
    assert_true(d.ends_ms <= 9000);
}

static void test_messages_name_the_deadline_and_progress(void **state) {
    (void)state;
    char out[320];
    struct pull_deadline grace = {6000, PULL_DEADLINE_START_GRACE, 5000};
    pull_deadline_describe(&grace, 12800, UINT64_C(10) << 20, out, sizeof out);
    assert_string_equal(out, "the start grace (--start-grace 5s after a runner took the workload) "
                             "ended the pull with 12.5 KiB of 10 MiB downloaded");
    struct pull_deadline timeout = {0, PULL_DEADLINE_PULL_TIMEOUT, MINUTES(90)};
    pull_deadline_describe(&timeout, 0, 0, out, sizeof out);
    assert_string_equal(out, "the pull timeout (--pull-timeout 1h30m per attempt) ended the pull "
                             "before the image's size was known");
}

static void test_duration_format_reads_back(void **state) {
    (void)state;
    static const struct {
        long long ms;
        const char *text;
    } cases[] = {
        {0, "0s"},    {-5, "0s"},           {250, "250ms"},         {1500, "1s500ms"},
        {5000, "5s"}, {MINUTES(30), "30m"}, {MINUTES(90), "1h30m"}, {3600000 + 1, "1h1ms"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[DURATION_TEXT_MAX];
        duration_format_ms(cases[i].ms, out);
        assert_string_equal(out, cases[i].text);
        long long back = -1;
        struct agyn_error err = {0};
        assert_int_equal(duration_parse_ms(out, "d", &back, &err), 0);
        assert_true(back == (cases[i].ms > 0 ? cases[i].ms : 0));
    }
}

static void test_rfc3339_round_trip(void **state) {
    (void)state;
    char text[RFC3339_LEN];
    int64_t ms = 1764184550123, back = 0;
    clock_format_rfc3339(ms, text);
    assert_int_equal(clock_parse_rfc3339(text, &back), 0);
    assert_true(back == ms);
    assert_int_equal(clock_parse_rfc3339("2025-11-26T19:15:50Z", &back), 0);
    assert_true(back == 1764184550000);
    static const char *const bad[] = {"",
                                      "2025-11-26 19:15:50Z",
                                      "2025-11-26T19:15:50",
                                      "2025-11-26T19:15:50.12Z",
                                      "2025-11-26T19:15:50.123+01:00",
                                      "2025-11-26T19:15:50.123Zjunk",
                                      "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(clock_parse_rfc3339(bad[i], &back), -1);
    assert_int_equal(clock_parse_rfc3339(NULL, &back), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grace_end_counts_from_creation),
        cmocka_unit_test(test_attempt_ends_at_the_earlier_limit),
        cmocka_unit_test(test_messages_name_the_deadline_and_progress),
        cmocka_unit_test(test_duration_format_reads_back),
        cmocka_unit_test(test_rfc3339_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
