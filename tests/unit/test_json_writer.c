/* test_json_writer.c — the JSON writer (core/json_writer.c) against jansson: for the same value,
 * json_writer_dump must give byte for byte what json_dumps(JSON_COMPACT) gives — escapes, every
 * control byte, unicode, integer limits, reals (left to jansson), empty and deeply nested
 * containers, key order, long strings past the first buffer — and the streaming calls must agree
 * with it. A seeded random generator adds a few thousand mixed documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_writer.h"

/* Asserts that the writer and jansson serialize value identically; steals value. */
static void expect_same(json_t *value) {
    assert_non_null(value);
    size_t flags =
        JSON_COMPACT | (json_is_object(value) || json_is_array(value) ? 0 : JSON_ENCODE_ANY);
    char *expected = json_dumps(value, flags);
    assert_non_null(expected);
    size_t len = 0;
    char *written = json_writer_dump(value, &len);
    assert_non_null(written);
    assert_int_equal(len, strlen(expected));
    if (memcmp(written, expected, len) != 0)
        fail_msg("writer: %s\njansson: %s", written, expected);
    free(written);
    free(expected);
    json_decref(value);
}

static void test_empty_and_scalars(void **state) {
    (void)state;
    expect_same(json_object());
    expect_same(json_array());
    expect_same(json_string(""));
    expect_same(json_null());
    expect_same(json_true());
    expect_same(json_false());
    expect_same(json_pack("{s:{},s:[],s:[[]],s:[{}]}", "a", "b", "c", "d"));
}

static void test_integers(void **state) {
    (void)state;
    static const json_int_t values[] = {0,
                                        1,
                                        -1,
                                        9,
                                        10,
                                        -10,
                                        2147483647,
                                        -2147483648LL,
                                        4294967296LL,
                                        INT64_MAX,
                                        INT64_MIN,
                                        1000000000000LL};
    json_t *array = json_array();
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        expect_same(json_integer(values[i]));
        json_array_append_new(array, json_integer(values[i]));
    }
    expect_same(array);
}

static void test_reals_left_to_jansson(void **state) {
    (void)state;
    static const double values[] = {0.0,   -0.0,   0.5,          1.0, -1.5, 3.141592653589793,
                                    1e300, 1e-300, 123456789.125};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        expect_same(json_real(values[i]));
        expect_same(json_pack("{s:i,s:f,s:[f,s]}", "n", 1, "r", values[i], "a", values[i], "x"));
    }
}

static void test_every_control_byte_and_escape(void **state) {
    (void)state;
    for (int c = 0; c < 0x20; c++) {
        char text[4] = {'a', (char)c, 'b', 0};
        expect_same(json_stringn(text, 3));
    }
    expect_same(json_string("\""));
    expect_same(json_string("\\"));
    expect_same(json_string("/ </script> \x7f"));
    expect_same(json_string("\"quoted\" and \\back\\slashed\\"));
    expect_same(json_string("\b\f\n\r\t"));
    expect_same(json_stringn("\0", 1));
    expect_same(json_stringn("nul\0inside\0", 11));
    expect_same(json_pack("{s:s}", "key \"with\"\n escapes\x01", "value\x1f"));
}

static void test_unicode(void **state) {
    (void)state;
    expect_same(json_string("caf\xc3\xa9"));                        /* é, two bytes */
    expect_same(json_string("\xe2\x82\xac 100"));                   /* €, three bytes */
    expect_same(json_string("\xf0\x9f\x90\xb3 whale"));             /* U+1F433, four bytes */
    expect_same(json_string("\xe2\x80\xa8 line sep \xe2\x80\xa9")); /* U+2028, U+2029 */
    expect_same(json_string("\xef\xbb\xbf BOM, \xef\xbf\xbf max BMP, \xf4\x8f\xbf\xbf max"));
    expect_same(json_pack("{s:s}", "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", "\xe5\x80\xa4"));
}

static void test_key_order_and_nesting(void **state) {
    (void)state;
    json_t *object = json_object();
    static const char *const keys[] = {"zeta", "alpha", "mid", "", "Alpha", "0"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set_new(object, keys[i], json_integer((json_int_t)i));
    expect_same(object);

    /* 64 levels are written by the writer itself; deeper falls back to jansson: same bytes. */
    for (int depth = 1; depth <= 100; depth += 33) {
        json_t *value = json_string("leaf");
        for (int i = 0; i < depth; i++)
            value = i % 2 ? json_pack("[o]", value) : json_pack("{s:o}", "k", value);
        expect_same(value);
    }
}

static void test_long_values_grow_the_buffer(void **state) {
    (void)state;
    size_t n = 100000;
    char *text = malloc(n + 1);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)('a' + i % 26);
    text[n] = '\0';
    expect_same(json_string(text));
    for (size_t i = 0; i < n; i += 997)
        text[i] = i % 2 ? '"' : '\n'; /* escapes spread over a long string */
    expect_same(json_string(text));
    free(text);
    json_t *array = json_array();
    for (int i = 0; i < 20000; i++)
        json_array_append_new(array, json_pack("{s:i,s:s}", "i", i, "s", "x\ty"));
    expect_same(array);
}

static void test_streaming_calls_match(void **state) {
    (void)state;
    struct json_writer w = {0};
    json_writer_text(&w, "{\"items\":[");
    json_t *row = json_pack("{s:s,s:i}", "name", "a\"b", "n", 7);
    json_writer_value(&w, row);
    json_writer_raw(&w, ",", 1);
    json_writer_value(&w, row);
    json_writer_text(&w, "],\"next_page_token\":");
    json_writer_string(&w, "t\x01\xc3\xa9", 4);
    json_writer_text(&w, "}");
    size_t len = 0;
    char *written = json_writer_finish(&w, &len);
    assert_non_null(written);
    json_t *same =
        json_pack("{s:[O,O],s:s}", "items", row, row, "next_page_token", "t\x01\xc3\xa9");
    char *expected = json_dumps(same, JSON_COMPACT);
    assert_string_equal(written, expected);
    assert_int_equal(len, strlen(expected));
    free(expected);
    free(written);
    json_decref(same);
    json_decref(row);

    /* A value the writer cannot write (a real) fails the stream; finish returns NULL. */
    struct json_writer failing = {0};
    json_t *real = json_real(1.5);
    json_writer_value(&failing, real);
    json_writer_text(&failing, "ignored");
    assert_null(json_writer_finish(&failing, &len));
    json_decref(real);
}

/* ---- seeded random documents ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t next_random(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static json_t *random_string(void) {
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "\"",
                                         "\\",
                                         "\n",
                                         "\x01",
                                         "\x1f",
                                         " ",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x90\xb3",
                                         "/",
                                         "\x7f",
                                         "0",
                                         "{",
                                         "]"};
    char text[64] = "";
    size_t len = 0;
    int count = (int)(next_random() % 12);
    for (int i = 0; i < count; i++) {
        const char *piece = pieces[next_random() % (sizeof pieces / sizeof pieces[0])];
        size_t n = strlen(piece);
        memcpy(text + len, piece, n);
        len += n;
    }
    if (next_random() % 10 == 0)
        text[len++] = '\0'; /* an embedded NUL */
    return json_stringn(text, len);
}

static json_t *random_value(int depth) {
    switch (next_random() % (depth > 4 ? 5 : 7)) {
    case 0:
        return random_string();
    case 1:
        return json_integer((json_int_t)(int32_t)next_random() * (next_random() % 3 ? 1 : 65537));
    case 2:
        return json_null();
    case 3:
        return json_boolean(next_random() % 2);
    case 4:
        return next_random() % 4 ? random_string() : json_real((double)(int32_t)next_random() / 64);
    case 5: {
        json_t *array = json_array();
        for (int i = (int)(next_random() % 5); i > 0; i--)
            json_array_append_new(array, random_value(depth + 1));
        return array;
    }
    default: {
        json_t *object = json_object();
        for (int i = (int)(next_random() % 5); i > 0; i--) {
            json_t *key = random_string();
            json_object_setn_new(object, json_string_value(key), json_string_length(key),
                                 random_value(depth + 1));
            json_decref(key);
        }
        return object;
    }
    }
}

static void test_random_documents(void **state) {
    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *value = random_value(0);
        if (json_is_object(value) || json_is_array(value) || i % 2)
            expect_same(value);
        else
            expect_same(json_pack("[o]", value));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_scalars),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_reals_left_to_jansson),
        cmocka_unit_test(test_every_control_byte_and_escape),
        cmocka_unit_test(test_unicode),
        cmocka_unit_test(test_key_order_and_nesting),
        cmocka_unit_test(test_long_values_grow_the_buffer),
        cmocka_unit_test(test_streaming_calls_match),
        cmocka_unit_test(test_random_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
