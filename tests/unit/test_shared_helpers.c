/* test_shared_helpers.c — the one-of-each helpers: base64 (RFC 4648 vectors, padding and
 * canonical rules), dynbuf (limit, take, clear, formatting), secure memory, xalloc's
 * formatting and the same-origin rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/base64.h"
#include "core/dynbuf.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"
#include "net/url_origin.h"

static void test_base64_rfc4648_vectors(void **state) {
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const padded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                         "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const unpadded[] = {"",       "Zg",      "Zm8",     "Zm9v",
                                           "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        size_t len = strlen(plain[i]);
        assert_int_equal(base64_encode(plain[i], len, out, 0), strlen(padded[i]));
        assert_string_equal(out, padded[i]);
        assert_int_equal(base64_encoded_len(len, 0), strlen(padded[i]));
        base64_encode(plain[i], len, out, BASE64_NOPAD);
        assert_string_equal(out, unpadded[i]);
        assert_int_equal(base64_encoded_len(len, BASE64_NOPAD), strlen(unpadded[i]));
        unsigned char decoded[16];
        size_t decoded_len = 99;
        assert_int_equal(base64_decode(padded[i], strlen(padded[i]), decoded, &decoded_len, 0), 0);
        assert_int_equal(decoded_len, len);
        assert_memory_equal(decoded, plain[i], len);
        assert_int_equal(base64_decode(unpadded[i], strlen(unpadded[i]), decoded, &decoded_len, 0),
                         0);
        assert_int_equal(decoded_len, len);
    }
}

static void test_base64_alphabets_and_strictness(void **state) {
    (void)state;
    const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
    char out[8];
    base64_encode(bytes, sizeof bytes, out, 0);
    assert_string_equal(out, "+/+/");
    base64_encode(bytes, sizeof bytes, out, BASE64_URL);
    assert_string_equal(out, "-_-_");
    unsigned char decoded[8];
    assert_int_equal(base64_decode("-_-_", 4, decoded, NULL, 0), -1);          /* wrong alphabet */
    assert_int_equal(base64_decode("+/+/", 4, decoded, NULL, BASE64_URL), -1); /* wrong alphabet */
    assert_int_equal(base64_decode("Zg=", 3, decoded, NULL, 0), -1);           /* bad padding */
    assert_int_equal(base64_decode("Zg==", 4, decoded, NULL, BASE64_NOPAD), -1);
    assert_int_equal(base64_decode("Z", 1, decoded, NULL, 0), -1);     /* impossible length */
    assert_int_equal(base64_decode("Zm 9v", 5, decoded, NULL, 0), -1); /* no whitespace */
    /* "Zh" decodes to 'f' with non-zero unused bits: accepted, but not canonically. */
    assert_int_equal(base64_decode("Zh", 2, decoded, NULL, 0), 0);
    assert_int_equal(base64_decode("Zh", 2, decoded, NULL, BASE64_CANONICAL), -1);
    assert_int_equal(base64_decode("Zg", 2, NULL, NULL, BASE64_CANONICAL), 0); /* validate only */
}

static void test_dynbuf_grows_limits_and_hands_over(void **state) {
    (void)state;
    struct dynbuf buf = {0};
    assert_string_equal(dynbuf_str(&buf), "");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(dynbuf_addf(&buf, "%d,", i % 10), 0);
    assert_int_equal(buf.len, 2000);
    assert_int_equal(strlen(dynbuf_str(&buf)), 2000);
    dynbuf_clear(&buf);
    assert_int_equal(buf.len, 0);
    assert_string_equal(dynbuf_str(&buf), "");
    dynbuf_free(&buf);

    dynbuf_init(&buf, 5, false);
    assert_int_equal(dynbuf_add_str(&buf, "abc"), 0);
    assert_int_equal(dynbuf_add_str(&buf, "de"), 0);
    assert_int_equal(dynbuf_add_str(&buf, "f"), -1); /* over the limit: the buffer fails */
    assert_null(dynbuf_str(&buf));
    assert_int_equal(dynbuf_add_str(&buf, ""), -1); /* and stays failed */
    assert_null(dynbuf_take(&buf));
    dynbuf_free(&buf);
    assert_int_equal(dynbuf_add_str(&buf, "xyz"), 0); /* usable again, limit kept */
    char *taken = dynbuf_take(&buf);
    assert_string_equal(taken, "xyz");
    assert_null(buf.data);
    secure_free(taken);

    dynbuf_init(&buf, 0, true);
    char *empty = dynbuf_take(&buf);
    assert_string_equal(empty, "");
    free(empty);
}

static void test_secure_memory(void **state) {
    (void)state;
    secure_free(NULL);
    secure_wipe(NULL, 10);
    char text[] = "password";
    secure_wipe(text, sizeof text - 1);
    for (size_t i = 0; i < sizeof text - 1; i++)
        assert_int_equal(text[i], 0);
    json_t *doc = json_pack("{s:s, s:[s]}", "password", "hunter2", "list", "token");
    const char *value = json_string_value(json_object_get(doc, "password"));
    secure_json_wipe(doc);
    assert_int_equal(value[0], 0);
    secure_json_free(doc);
    secure_json_free(NULL);
}

static void test_xalloc_formats(void **state) {
    (void)state;
    char *text = xasprintf("%s-%d", "a", 42);
    assert_string_equal(text, "a-42");
    free(text);
    char *copy = xstrndup("abcdef", 3);
    assert_string_equal(copy, "abc");
    free(copy);
    void *zero = xmalloc(0);
    assert_non_null(zero);
    free(zero);
}

static void test_same_origin(void **state) {
    (void)state;
    assert_true(url_same_origin("https://r.example/v2/", "HTTPS://R.EXAMPLE:443/token"));
    assert_true(url_same_origin("http://[::1]:5000/a", "http://[::1]:5000/b?x"));
    assert_false(url_same_origin("http://[::1]:5000/a", "http://[::1]:6000/a"));
    assert_false(url_same_origin("https://r.example/", "http://r.example/"));
    assert_false(url_same_origin("https://r.example/", "https://r.example.evil/"));
    assert_false(url_same_origin("not a url", "not a url"));
    char origin[64];
    url_origin("https://user:pw@r.example:8443/path?q", origin, sizeof origin);
    assert_string_equal(origin, "https://r.example:8443");
    url_origin("::", origin, sizeof origin);
    assert_string_equal(origin, "(invalid URL)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648_vectors),
        cmocka_unit_test(test_base64_alphabets_and_strictness),
        cmocka_unit_test(test_dynbuf_grows_limits_and_hands_over),
        cmocka_unit_test(test_secure_memory),
        cmocka_unit_test(test_xalloc_formats),
        cmocka_unit_test(test_same_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
