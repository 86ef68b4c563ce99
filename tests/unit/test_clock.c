/* test_clock.c — RFC 3339 timestamps (base/clock.c): what clock_parse_rfc3339 accepts (the
 * shape clock_format_rfc3339 writes, with or without its three-digit fraction, back to 0000 and
 * up to 9999, leap days) and what it refuses (offsets, other fraction lengths, signs and spaces
 * inside fields, out-of-range fields, days that do not exist, trailing bytes), and that format
 * and parse round-trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"

static int64_t parsed(const char *text) {
    int64_t ms = 0;
    if (clock_parse_rfc3339(text, &ms) != 0)
        fail_msg("refused valid \"%s\"", text);
    return ms;
}

static void test_valid(void **state) {
    (void)state;
    assert_true(parsed("1970-01-01T00:00:00Z") == 0);
    assert_true(parsed("1970-01-01T00:00:00.000Z") == 0);
    assert_true(parsed("1970-01-01T00:00:00.001Z") == 1);
    assert_true(parsed("1970-01-01T00:00:01.999Z") == 1999);
    assert_true(parsed("2025-11-26T19:15:50Z") == 1764184550000);
    assert_true(parsed("2025-11-26T19:15:50.123Z") == 1764184550123);
    assert_true(parsed("2024-02-29T12:00:00Z") == 1709208000000); /* leap day */
    assert_true(parsed("2000-02-29T00:00:00Z") == 951782400000);  /* divisible by 400 */
    assert_true(parsed("2038-01-19T03:14:08Z") == 2147483648000); /* past 32-bit time_t */
    assert_true(parsed("9999-12-31T23:59:59.999Z") == 253402300799999);
    assert_true(parsed("1969-12-31T23:59:59Z") == -1000); /* timegm's -1 is a real second */
    assert_true(parsed("1900-01-01T00:00:00Z") == -2208988800000);
}

static void test_invalid(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "x",
        "2025",
        "2025-11-26",
        "2025-11-26T19:15:50",  /* no zone */
        "2025-11-26T19:15Z",    /* no seconds */
        "2025-11-26 19:15:50Z", /* space for T */
        "2025-11-26t19:15:50Z", /* lower-case t */
        "2025-11-26T19:15:50z", /* lower-case z */
        "2025/11/26T19:15:50Z",
        "2025-11-26T19-15-50Z",
        "2025-11-26T19:15:50+00:00", /* offsets: only Z */
        "2025-11-26T19:15:50-05:00",
        "2025-11-26T19:15:50.123+01:00",
        "2025-11-26T19:15:50ZZ",
        "2025-11-26T19:15:50Z ",
        " 2025-11-26T19:15:50Z",
        "2025-11-26T19:15:50.123Zjunk",
        "+025-11-26T19:15:50Z", /* a sign where a digit belongs */
        "-025-11-26T19:15:50Z",
        "2025-+1-26T19:15:50Z",
        "2025-11- 6T19:15:50Z",
        "2025-11-26T19:15:-5Z",
        "2025-1a-26T19:15:50Z",
        "20251-11-26T19:15:50Z",
        "2025-00-10T00:00:00Z", /* month 0 */
        "2025-13-10T00:00:00Z", /* month 13 */
        "2025-11-00T00:00:00Z", /* day 0 */
        "2025-11-31T00:00:00Z", /* November has 30 days */
        "2025-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z", /* divisible by 100, not 400 */
        "2025-01-32T00:00:00Z",
        "2025-11-26T24:00:00Z",
        "2025-11-26T23:60:00Z",
        "2025-11-26T23:59:60Z",  /* leap seconds are never written */
        "2025-11-26T19:15:50.Z", /* fractions: exactly three digits */
        "2025-11-26T19:15:50.1Z",
        "2025-11-26T19:15:50.12Z",
        "2025-11-26T19:15:50.1234Z",
        "2025-11-26T19:15:50.123456Z",
        "2025-11-26T19:15:50.12aZ",
        "2025-11-26T19:15:50.-12Z",
        "2025-11-26T19:15:50.1",
        "2025-11-26T19:15:50.",
        "2025-11-26T19:15:50,123Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        if (clock_parse_rfc3339(bad[i], &ms) != -1)
            fail_msg("accepted invalid \"%s\"", bad[i]);
        assert_true(ms == 42); /* untouched */
    }
    int64_t ms = 42;
    assert_int_equal(clock_parse_rfc3339(NULL, &ms), -1);
}

static void test_round_trip(void **state) {
    (void)state;
    static const int64_t values[] = {
        0, 1, 999, 1000, 1764184550123, 951782400000, 253402300799999, 4102444800000};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char text[RFC3339_LEN];
        clock_format_rfc3339(values[i], text);
        assert_int_equal(strlen(text), 24);
        assert_true(parsed(text) == values[i]);
    }
    char now[RFC3339_LEN];
    int64_t before = clock_now_unix_ms();
    clock_now_rfc3339(now);
    int64_t back = parsed(now);
    assert_true(back >= before && back <= clock_now_unix_ms());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
