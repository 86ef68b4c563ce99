/* test_byte_size.c — unit tests for parsing sizes such as "20GiB" (every unit, limits,
 * hostile text) and formatting byte counts for messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "core/byte_size.h"
#include "core/error.h"

static uint64_t parsed(const char *text) {
    uint64_t bytes = 12345;
    struct agyn_error err = {0};
    assert_int_equal(byte_size_parse(text, "--max-image-size", &bytes, &err), 0);
    return bytes;
}

static void assert_rejected(const char *text) {
    uint64_t bytes = 777;
    struct agyn_error err = {0};
    assert_int_equal(byte_size_parse(text, "--max-image-size", &bytes, &err), -1);
    assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    assert_non_null(strstr(err.message, "--max-image-size"));
    assert_int_equal(bytes, 777); /* untouched on failure */
}

static void test_units(void **state) {
    (void)state;
    assert_true(parsed("0") == 0);
    assert_true(parsed("4096") == 4096);
    assert_true(parsed("17B") == 17);
    assert_true(parsed("1KiB") == 1024);
    assert_true(parsed("512MiB") == UINT64_C(512) << 20);
    assert_true(parsed("20GiB") == UINT64_C(20) << 30);
    assert_true(parsed("2TiB") == UINT64_C(2) << 40);
    assert_true(parsed("3KB") == 3000);
    assert_true(parsed("5MB") == 5000000);
    assert_true(parsed("7GB") == UINT64_C(7000000000));
    assert_true(parsed("1TB") == UINT64_C(1000000000000));
    assert_true(parsed("18446744073709551615") == UINT64_MAX);
    assert_true(parsed("16777215TiB") == UINT64_C(16777215) << 40);
}

static void test_rejects(void **state) {
    (void)state;
    static const char *const bad[] = {"",
                                      "GiB",
                                      "-1",
                                      "+1",
                                      " 1GiB",
                                      "1 GiB",
                                      "1GiB ",
                                      "1.5GiB",
                                      "1gib",
                                      "1G",
                                      "1Gi",
                                      "1GiBs",
                                      "1iB",
                                      "1PiB",
                                      "0x10",
                                      "1e9",
                                      "10GiB\n",
                                      "18446744073709551616",
                                      "16777216TiB",
                                      "99999999999999999999999",
                                      "1KiB1KiB",
                                      "123456789012345678901234567890123GiB"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i]);
    uint64_t bytes;
    struct agyn_error err = {0};
    assert_int_equal(byte_size_parse(NULL, "f", &bytes, &err), -1);
}

static void assert_formats(uint64_t bytes, const char *want) {
    char out[BYTE_SIZE_TEXT_MAX];
    byte_size_format(bytes, out);
    assert_string_equal(out, want);
}

static void test_format(void **state) {
    (void)state;
    assert_formats(0, "0 B");
    assert_formats(1023, "1023 B");
    assert_formats(1024, "1 KiB");
    assert_formats(1536, "1.5 KiB");
    assert_formats(2047, "1.9 KiB"); /* rounded down, never up to "2.0" */
    assert_formats(UINT64_C(20) << 30, "20 GiB");
    assert_formats(UINT64_C(1) << 40, "1 TiB");
    assert_formats((UINT64_C(3) << 20) + (UINT64_C(1) << 19), "3.5 MiB");
    assert_formats(UINT64_MAX, "15.9 EiB");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
