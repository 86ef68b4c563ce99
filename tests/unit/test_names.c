/* test_names.c — unit tests for display names, free text, strict UTF-8 (every code point,
 * every overlong and surrogate form), UUIDs, quoting untrusted text for messages, and Go-style
 * duration parsing, with hostile input for each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/uuid.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/names.h"

/* ---- UTF-8 ---- */

static size_t encode_utf8(uint32_t cp, unsigned char *out) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Encodes cp in exactly `length` bytes even when shorter would do (overlong forms). */
static void encode_utf8_forced(uint32_t cp, size_t length, unsigned char *out) {
    static const unsigned char lead_bits[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = length - 1; i > 0; i--) {
        out[i] = (unsigned char)(0x80 | (cp & 0x3F));
        cp >>= 6;
    }
    out[0] = (unsigned char)(lead_bits[length] | cp);
}

static void test_utf8_every_code_point(void **state) {
    (void)state;
    unsigned char buf[8];
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        size_t len = encode_utf8(cp, buf);
        int surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        if (utf8_is_valid((const char *)buf, len) != !surrogate)
            fail_msg("U+%04X judged wrongly", (unsigned)cp);
        /* every truncation of a multi-byte sequence is invalid */
        for (size_t cut = 1; cut < len; cut++)
            assert_false(utf8_is_valid((const char *)buf, cut));
    }
    /* overlong forms of every code point that has a shorter form */
    for (uint32_t cp = 0; cp < 0x10000; cp++) {
        size_t shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
        for (size_t length = shortest + 1; length <= 4; length++) {
            encode_utf8_forced(cp, length, buf);
            if (utf8_is_valid((const char *)buf, length))
                fail_msg("overlong %zu-byte form of U+%04X accepted", length, (unsigned)cp);
        }
    }
    /* above U+10FFFF */
    for (uint32_t cp = 0x110000; cp < 0x200000; cp += 0x1111) {
        encode_utf8_forced(cp, 4, buf);
        assert_false(utf8_is_valid((const char *)buf, 4));
    }
}

static void test_utf8_cases(void **state) {
    (void)state;
    static const char *const valid[] = {"",
                                        "abc",
                                        "\xc3\xa9",
                                        "\xe2\x82\xac",
                                        "\xf0\x9d\x84\x9e",
                                        "\xf4\x8f\xbf\xbf",
                                        "\xed\x9f\xbf",
                                        "\xee\x80\x80",
                                        "\xef\xbf\xbf",
                                        "caf\xc3\xa9 \xe2\x82\xac"};
    static const char *const invalid[] = {
        "\xc0\x80",
        "\xc1\xbf",
        "\xe0\x80\x80",
        "\xe0\x9f\xbf",
        "\xf0\x8f\xbf\xbf",
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xff",
        "\xfe",
        "\x80",
        "\xbf",
        "\xc3",
        "\xe2\x82",
        "\xf0\x9d\x84",
        "\xc3\x28",
        "\xe2\x28\xa1",
        "\xe2\x82\x28",
        "\xf0\x28\x8c\xbc",
        "a\xc3",
        "\xed\xa0\x80\xed\xb0\x80",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        assert_true(utf8_is_valid(valid[i], strlen(valid[i])));
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        if (utf8_is_valid(invalid[i], strlen(invalid[i])))
            fail_msg("invalid case %zu accepted", i);
    }
    assert_true(utf8_is_valid("a\0b", 3)); /* U+0000 inside a length is valid */
    assert_true(utf8_is_valid(NULL, 0));
    assert_false(utf8_is_valid(NULL, 1));
    /* only len bytes are read */
    assert_true(utf8_is_valid("ab\xff", 2));
}

/* ---- names and text ---- */

static void expect_name_error(const char *name, const char *message_part) {
    struct agyn_error err = {0};
    assert_int_equal(name_validate(name, "display_name", &err), -1);
    assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    assert_string_equal(err.field, "display_name");
    if (!strstr(err.message, message_part))
        fail_msg("message %s lacks %s", err.message, message_part);
}

static void test_name_validate(void **state) {
    (void)state;
    struct agyn_error err = {0};
    static const char *const good[] = {
        "prod-registry",    "Team A",      "x",
        " leading space",   "caf\xc3\xa9", "\xe5\x90\x8d\xe5\x89\x8d",
        "\xf0\x9f\x90\xb3", "a  b",        "with/slash:colon@at"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (name_validate(good[i], "name", &err) != 0)
            fail_msg("%s rejected: %s", good[i], err.message);
    }
    char text[300];
    memset(text, 'n', 128);
    text[128] = '\0';
    assert_int_equal(name_validate(text, "name", &err), 0);
    /* 128 bytes of multi-byte characters */
    for (size_t i = 0; i < 64; i++)
        memcpy(text + 2 * i, "\xc3\xa9", 2);
    text[128] = '\0';
    assert_int_equal(name_validate(text, "name", &err), 0);

    expect_name_error(NULL, "is required");
    expect_name_error("", "must not be empty");
    memset(text, 'n', 129);
    text[129] = '\0';
    expect_name_error(text, "at most 128 bytes");
    expect_name_error(" ", "only spaces");
    expect_name_error("     ", "only spaces");
    expect_name_error("a\nb", "control characters");
    expect_name_error("a\tb", "control characters");
    expect_name_error("a\rb", "control characters");
    expect_name_error("\x1b[31mred", "control characters");
    expect_name_error("del\x7f", "control characters");
    expect_name_error("c1\xc2\x85", "control characters");
    expect_name_error("c1\xc2\x9f", "control characters");
    expect_name_error("\xff", "valid UTF-8");
    expect_name_error("\xc0\xaf", "valid UTF-8");
    expect_name_error("surrogate\xed\xa0\x80", "valid UTF-8");
    expect_name_error("cut\xe2\x82", "valid UTF-8");

    /* a 64-bit length is never read past 129 bytes: a huge string is rejected quickly */
    size_t size = 16 * 1024 * 1024;
    char *huge = malloc(size + 1);
    assert_non_null(huge);
    memset(huge, 'a', size);
    huge[size] = '\0';
    expect_name_error(huge, "at most 128 bytes");
    free(huge);

    assert_int_equal(name_validate("", NULL, &err), -1);
    assert_string_equal(err.field, "name");
    assert_int_equal(name_validate("", "name", NULL), -1);
}

static void test_text_validate(void **state) {
    (void)state;
    struct agyn_error err = {0};
    assert_int_equal(text_validate("", 10, "description", &err), 0);
    assert_int_equal(text_validate("line one\nline two\tcol", 100, "description", &err), 0);
    assert_int_equal(text_validate("caf\xc3\xa9", 5, "description", &err), 0);
    assert_int_equal(text_validate("caf\xc3\xa9", 4, "description", &err), -1);
    assert_non_null(strstr(err.message, "at most 4 bytes"));
    assert_string_equal(err.field, "description");
    assert_int_equal(text_validate("abc", 3, "description", &err), 0);
    assert_int_equal(text_validate("abcd", 3, "description", &err), -1);
    assert_int_equal(text_validate("abc", SIZE_MAX, "description", &err), 0);
    assert_int_equal(text_validate("abc", 0, "description", &err), -1);

    static const char *const bad[] = {"carriage\rreturn", "bell\x07",    "esc\x1b",
                                      "del\x7f",          "c1\xc2\x80",  "\xff",
                                      "\xe0\x80\x80",     "\xed\xbf\xbf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(text_validate(bad[i], 100, "description", &err), -1);
        assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    }
    assert_int_equal(text_validate(NULL, 100, "description", &err), -1);
    assert_int_equal(text_validate("x\x01", 100, NULL, &err), -1);
    assert_string_equal(err.field, "text");
}

/* ---- UUIDs ---- */

static void test_uuid_is_valid(void **state) {
    (void)state;
    assert_true(uuid_is_valid("123e4567-e89b-42d3-a456-426614174000"));
    assert_true(uuid_is_valid("00000000-0000-0000-0000-000000000000"));
    assert_true(uuid_is_valid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
    static const char *const bad[] = {"123E4567-e89b-42d3-a456-426614174000",
                                      "123e4567e89b-42d3-a456-426614174000-",
                                      "123e4567-e89b-42d3-a456-42661417400",
                                      "123e4567-e89b-42d3-a456-4266141740000",
                                      "123e4567-e89b-42d3-a456_426614174000",
                                      "123e456-7e89b-42d3-a456-426614174000",
                                      "g23e4567-e89b-42d3-a456-426614174000",
                                      "{123e4567-e89b-42d3-a456-426614174000}",
                                      "123e4567-e89b-42d3-a456-42661417400\n",
                                      " 123e4567-e89b-42d3-a456-426614174000",
                                      "",
                                      "123e4567",
                                      "123e4567-e89b-42d3-a456-42661417\xff\x30\x30"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (uuid_is_valid(bad[i]))
            fail_msg("%s accepted", bad[i]);
    }
    assert_false(uuid_is_valid(NULL));
}

static int compare_strings(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

static void test_uuid_generate(void **state) {
    (void)state;
    enum { COUNT = 2000 };
    static char ids[COUNT][AGYN_UUID_LEN + 1];
    for (size_t i = 0; i < COUNT; i++) {
        uuid_generate(ids[i]);
        assert_int_equal(strlen(ids[i]), AGYN_UUID_LEN);
        assert_true(uuid_is_valid(ids[i]));
        assert_int_equal(ids[i][14], '4');
        assert_non_null(strchr("89ab", ids[i][19]));
    }
    qsort(ids, COUNT, sizeof ids[0], compare_strings);
    for (size_t i = 1; i < COUNT; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
}

/* ---- quoting for messages ---- */

static void test_text_quote(void **state) {
    (void)state;
    char buf[64];
    text_quote("abc", 3, 100, buf, sizeof buf);
    assert_string_equal(buf, "\"abc\"");
    text_quote("a\"b\\c", 5, 100, buf, sizeof buf);
    assert_string_equal(buf, "\"a\\\"b\\\\c\"");
    text_quote("a\x01\n\x7f\xc3\xa9", 6, 100, buf, sizeof buf);
    assert_string_equal(buf, "\"a\\x01\\x0a\\x7f\\xc3\\xa9\"");
    text_quote("a\0b", 3, 100, buf, sizeof buf);
    assert_string_equal(buf, "\"a\\x00b\"");
    text_quote("abcdef", 6, 3, buf, sizeof buf);
    assert_string_equal(buf, "\"abc\"...");
    text_quote(NULL, 5, 5, buf, sizeof buf);
    assert_string_equal(buf, "\"\"");
    text_quote("", 0, 5, buf, sizeof buf);
    assert_string_equal(buf, "\"\"");

    /* the buffer bounds the output whatever max_bytes says */
    char long_text[1000];
    memset(long_text, '\x01', sizeof long_text);
    for (size_t size = 0; size <= 20; size++) {
        char small[21];
        memset(small, 'Z', sizeof small);
        text_quote(long_text, sizeof long_text, sizeof long_text, small, size);
        if (size > 0)
            assert_true(strlen(small) < size);
        for (size_t i = size; i < sizeof small; i++)
            assert_int_equal(small[i], 'Z');
    }
    text_quote("abcdefghij", 10, 10, buf, 10);
    assert_string_equal(buf, "\"abcd\"...");
    text_quote("abc", 3, 10, NULL, 10);
}

/* ---- durations ---- */

struct duration_case {
    const char *text;
    long long ms;
};

static const struct duration_case good_durations[] = {
    {"0", 0},
    {"0s", 0},
    {"0ms", 0},
    {"250ms", 250},
    {"10s", 10000},
    {"5m", 300000},
    {"1h", 3600000},
    {"7d", 7LL * 86400000},
    {"1m30s", 90000},
    {"1h2m3s4ms", 3723004},
    {"4ms3s2m1h", 3723004},
    {"1s1s", 2000},
    {"1.5s", 1500},
    {".5s", 500},
    {"1.s", 1000},
    {"1.5h", 5400000},
    {"0.001s", 1},
    {"1.000s", 1000},
    {"1.0000000000000000000000s", 1000},
    {"0.5m", 30000},
    {"0.0001h", 360},
    {"00010s", 10000},
    {"9223372036854775807ms", LLONG_MAX},
    {"2562047788015h", 2562047788015LL * 3600000LL},
    {"9223372036854775s807ms", LLONG_MAX},
};

struct bad_duration {
    const char *text;
    const char *message_part;
};

static const struct bad_duration bad_durations[] = {
    {"", "must not be empty"},
    {"-1s", "must not be negative"},
    {"-0", "must not be negative"},
    {"+1s", "is not a duration"},
    {"1", "is not a duration"},
    {"10", "is not a duration"},
    {"00", "is not a duration"},
    {"s", "is not a duration"},
    {"ms", "is not a duration"},
    {".s", "is not a duration"},
    {".", "is not a duration"},
    {"1x", "is not a duration"},
    {"1 s", "is not a duration"},
    {" 1s", "is not a duration"},
    {"1s ", "is not a duration"},
    {"1s\n", "is not a duration"},
    {"1ns", "is not a duration"},
    {"1us", "is not a duration"},
    {"1\xc2\xb5s", "is not a duration"},
    {"1S", "is not a duration"},
    {"1H", "is not a duration"},
    {"1D", "is not a duration"},
    {"1.2.3s", "is not a duration"},
    {"1..5s", "is not a duration"},
    {"1e3s", "is not a duration"},
    {"1mm", "is not a duration"},
    {"1s-1s", "is not a duration"},
    {"1s\x01", "is not a duration"},
    {"\xff\xfe", "is not a duration"},
    {"1.5ms", "whole number of milliseconds"},
    {"0.0001s", "whole number of milliseconds"},
    {"0.1234567891h", "whole number of milliseconds"},
    {"1.0000000001s", "whole number of milliseconds"},
    {"9223372036854775808ms", "too large"},
    {"9223372036854775807ms1ms", "too large"},
    {"2562047788016h", "too large"},
    {"99999999999999999999999s", "too large"},
    {"9223372036854775807h", "too large"},
    {"9223372036854775807.5s", "too large"},
};

static void test_duration_parse(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof good_durations / sizeof good_durations[0]; i++) {
        long long ms = -1;
        struct agyn_error err = {0};
        if (duration_parse_ms(good_durations[i].text, "timeout", &ms, &err) != 0)
            fail_msg("%s rejected: %s", good_durations[i].text, err.message);
        if (ms != good_durations[i].ms)
            fail_msg("%s: got %lld, expected %lld", good_durations[i].text, ms,
                     good_durations[i].ms);
    }
    for (size_t i = 0; i < sizeof bad_durations / sizeof bad_durations[0]; i++) {
        long long ms = 42;
        struct agyn_error err = {0};
        if (duration_parse_ms(bad_durations[i].text, "timeout", &ms, &err) == 0)
            fail_msg("%s accepted as %lld", bad_durations[i].text, ms);
        assert_int_equal(ms, 42);
        assert_int_equal(err.code, AGYN_UNPROCESSABLE);
        assert_string_equal(err.field, "timeout");
        if (!strstr(err.message, bad_durations[i].message_part))
            fail_msg("%s: message %s lacks %s", bad_durations[i].text, err.message,
                     bad_durations[i].message_part);
        for (const char *p = err.message; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7F);
    }
}

static void test_duration_hostile(void **state) {
    (void)state;
    struct agyn_error err = {0};
    long long ms = 0;
    assert_int_equal(duration_parse_ms(NULL, "timeout", &ms, &err), -1);
    assert_non_null(strstr(err.message, "must not be empty"));
    assert_int_equal(duration_parse_ms("", NULL, &ms, &err), -1);
    assert_string_equal(err.field, "duration");
    assert_int_equal(duration_parse_ms("5s", "timeout", NULL, &err), 0);
    assert_int_equal(duration_parse_ms("5x", "timeout", &ms, NULL), -1);

    char text[DURATION_TEXT_MAX + 2];
    memset(text, '1', DURATION_TEXT_MAX - 2);
    memcpy(text + DURATION_TEXT_MAX - 2, "ms", 3);
    assert_int_equal(duration_parse_ms(text, "timeout", &ms, &err), -1);
    assert_non_null(strstr(err.message, "too large"));
    memset(text, '0', DURATION_TEXT_MAX - 2);
    memcpy(text + DURATION_TEXT_MAX - 2, "1s", 3);
    assert_int_equal(duration_parse_ms(text, "timeout", &ms, &err), 0);
    assert_int_equal(ms, 1000);
    memset(text, '0', DURATION_TEXT_MAX - 1);
    memcpy(text + DURATION_TEXT_MAX - 1, "1s", 3);
    assert_int_equal(duration_parse_ms(text, "timeout", &ms, &err), -1);
    assert_non_null(strstr(err.message, "must not be more than 64 characters"));

    size_t size = 1024 * 1024;
    char *huge = malloc(size + 1);
    assert_non_null(huge);
    for (size_t i = 0; i < size; i += 2)
        memcpy(huge + i, "1s", 2);
    huge[size] = '\0';
    assert_int_equal(duration_parse_ms(huge, "timeout", &ms, &err), -1);
    assert_true(strlen(err.message) < 200);
    free(huge);

    /* any single byte after a complete "1s" leaves an incomplete or foreign pair */
    for (int byte = 1; byte < 256; byte++) {
        char probe[4] = {'1', 's', (char)byte, '\0'};
        assert_int_equal(duration_parse_ms(probe, "timeout", &ms, &err), -1);
        assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_every_code_point),
        cmocka_unit_test(test_utf8_cases),
        cmocka_unit_test(test_name_validate),
        cmocka_unit_test(test_text_validate),
        cmocka_unit_test(test_uuid_is_valid),
        cmocka_unit_test(test_uuid_generate),
        cmocka_unit_test(test_text_quote),
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_duration_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
