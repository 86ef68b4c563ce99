/* test_docker_config.c — unit tests for reading credentials out of Docker config.json /
 * .dockerconfigjson bodies: good documents (auth and username/password forms, Docker Hub keys,
 * document order), per-entry problems (bad base64, missing colon, wrong types, bad keys) and
 * hostile documents (not JSON, huge keys, deep nesting, NUL bytes, oversize), checking that no
 * message ever carries a secret. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/docker_config.h"
#include "core/error.h"

#define SECRET "s3cr3t-Pa55"

/* Base64 of the first len bytes of raw, into out. */
static const char *b64(const char *raw, size_t len, char *out) {
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)raw, (int)len);
    return out;
}

struct parsed {
    struct docker_config_entry *entries;
    size_t count;
    struct agyn_error err;
    int rc;
};

static struct parsed parse_text(const char *body) {
    struct parsed p = {0};
    p.rc = docker_config_parse(body, strlen(body), &p.entries, &p.count, &p.err);
    return p;
}

static void assert_no_secret_in(const struct agyn_error *err) {
    if (strstr(err->message, SECRET) || strstr(err->field, SECRET))
        fail_msg("secret leaked into error: %s / %s", err->field, err->message);
}

static void test_good_document(void **state) {
    (void)state;
    char encoded[128], encoded_hub[128], body[1024];
    b64("alice:" SECRET ":with:colons", strlen("alice:" SECRET ":with:colons"), encoded);
    b64("bob:hubpass", 11, encoded_hub);
    snprintf(body, sizeof body,
             "{\"auths\": {"
             "\"ghcr.io\": {\"auth\": \"%s\"},"
             "\"https://index.docker.io/v1/\": {\"auth\": \"%s\", \"email\": \"b@example.com\"},"
             "\"Registry.Local:5000\": {\"username\": \"carol\", \"password\": \"pw\xc3\xa9\"},"
             "\"*.dkr.ecr.us-west-2.amazonaws.com\": {\"username\": \"AWS\", \"password\": \"t\"}"
             "}, \"credsStore\": \"desktop\", \"credHelpers\": {\"x.io\": \"y\"}}",
             encoded, encoded_hub);
    struct parsed p = parse_text(body);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.count, 4);

    assert_string_equal(p.entries[0].key, "ghcr.io");
    assert_string_equal(p.entries[0].registry, "ghcr.io");
    assert_string_equal(p.entries[0].username, "alice");
    assert_string_equal(p.entries[0].password, SECRET ":with:colons");
    assert_int_equal(p.entries[0].error.code, AGYN_OK);

    assert_string_equal(p.entries[1].key, "https://index.docker.io/v1/");
    assert_string_equal(p.entries[1].registry, "docker.io");
    assert_string_equal(p.entries[1].username, "bob");
    assert_string_equal(p.entries[1].password, "hubpass");

    assert_string_equal(p.entries[2].key, "Registry.Local:5000");
    assert_string_equal(p.entries[2].registry, "registry.local:5000");
    assert_string_equal(p.entries[2].username, "carol");
    assert_string_equal(p.entries[2].password, "pw\xc3\xa9");

    assert_string_equal(p.entries[3].registry, "*.dkr.ecr.us-west-2.amazonaws.com");
    assert_string_equal(p.entries[3].username, "AWS");
    docker_config_entries_free(p.entries, p.count);
}

static void test_auth_forms(void **state) {
    (void)state;
    char body[1024];
    /* "auth" wins over username/password */
    snprintf(body, sizeof body,
             "{\"auths\":{\"ghcr.io\":{\"auth\":\"YTpi\",\"username\":\"x\",\"password\":\"y\"}}}");
    struct parsed p = parse_text(body);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.entries[0].username, "a");
    assert_string_equal(p.entries[0].password, "b");
    docker_config_entries_free(p.entries, p.count);

    /* an empty "auth" falls back to username/password */
    p = parse_text(
        "{\"auths\":{\"ghcr.io\":{\"auth\":\"\",\"username\":\"x\",\"password\":\"y\"}}}");
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.entries[0].username, "x");
    assert_string_equal(p.entries[0].password, "y");
    docker_config_entries_free(p.entries, p.count);

    /* padding: "a:bc" is YTpiYw== ; without padding it is accepted as well */
    static const char *const encodings[] = {"YTpiYw==", "YTpiYw", "YTpiYzE=", "YTpiYzE",
                                            "YTpiYzEy"};
    static const char *const passwords[] = {"bc", "bc", "bc1", "bc1", "bc12"};
    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
        snprintf(body, sizeof body, "{\"auths\":{\"ghcr.io\":{\"auth\":\"%s\"}}}", encodings[i]);
        p = parse_text(body);
        assert_int_equal(p.rc, 0);
        if (p.entries[0].error.code != AGYN_OK)
            fail_msg("%s: %s", encodings[i], p.entries[0].error.message);
        assert_string_equal(p.entries[0].username, "a");
        assert_string_equal(p.entries[0].password, passwords[i]);
        docker_config_entries_free(p.entries, p.count);
    }

    /* empty auths: no entries */
    p = parse_text("{\"auths\":{}}");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.count, 0);
    assert_null(p.entries);
    docker_config_entries_free(p.entries, p.count);
    docker_config_entries_free(NULL, 5);
}

struct entry_case {
    const char *entry_json; /* the value for key "ghcr.io" */
    const char *field;
    const char *message_part;
};

static void test_entry_problems(void **state) {
    (void)state;
    char no_colon[64], with_nul[64], empty_user[64], empty_pass[64], bad_utf8_user[64],
        bad_utf8_pass[64], control_user[64], only_secret[64];
    b64("alice" SECRET, strlen("alice" SECRET), no_colon);
    b64("al\0ice:" SECRET, 7 + strlen(SECRET), with_nul);
    b64(":" SECRET, 1 + strlen(SECRET), empty_user);
    b64("alice:", 6, empty_pass);
    b64("\xff:" SECRET, 2 + strlen(SECRET), bad_utf8_user);
    b64("alice:\xc0\xaf" SECRET, 8 + strlen(SECRET), bad_utf8_pass);
    b64("al\nice:" SECRET, 7 + strlen(SECRET), control_user);
    b64(SECRET, strlen(SECRET), only_secret);

    char entries[][160] = {
        "{\"auth\": \"!!!!\"}",
        "{\"auth\": \"YQ=\"}",
        "{\"auth\": \"YQ===\"}",
        "{\"auth\": \"Y\"}",
        "{\"auth\": \"YTpi Yw==\"}",
        "{\"auth\": \"YTpiYw==\\n\"}",
        "{\"auth\": \"YTpi=Yw=\"}",
        "{\"auth\": \"YTpiYw-_\"}",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "{\"auth\": 12}",
        "{\"auth\": null}",
        "{\"auth\": [\"YTpi\"]}",
        "{}",
        "{\"username\": \"alice\"}",
        "{\"password\": \"" SECRET "\"}",
        "{\"username\": \"alice\", \"password\": 5}",
        "{\"username\": null, \"password\": \"" SECRET "\"}",
        "{\"username\": \"\", \"password\": \"" SECRET "\"}",
        "{\"username\": \"alice\", \"password\": \"\"}",
        "{\"username\": \"al:ice\", \"password\": \"" SECRET "\"}",
        "{\"username\": \"al\\nice\", \"password\": \"" SECRET "\"}",
        "{\"username\": \"al\\u007fice\", \"password\": \"" SECRET "\"}",
        "\"" SECRET "\"",
        "[1, 2]",
        "null",
        "true",
    };
    snprintf(entries[8], sizeof entries[8], "{\"auth\": \"%s\"}", no_colon);
    snprintf(entries[9], sizeof entries[9], "{\"auth\": \"%s\"}", with_nul);
    snprintf(entries[10], sizeof entries[10], "{\"auth\": \"%s\"}", empty_user);
    snprintf(entries[11], sizeof entries[11], "{\"auth\": \"%s\"}", empty_pass);
    snprintf(entries[12], sizeof entries[12], "{\"auth\": \"%s\"}", bad_utf8_user);
    snprintf(entries[13], sizeof entries[13], "{\"auth\": \"%s\"}", bad_utf8_pass);
    snprintf(entries[14], sizeof entries[14], "{\"auth\": \"%s\"}", control_user);
    snprintf(entries[15], sizeof entries[15], "{\"auth\": \"%s\"}", only_secret);
    static const struct {
        const char *field;
        const char *message_part;
    } expected[] = {
        {"auths[\"ghcr.io\"].auth", "is not valid base64"},
        {"auths[\"ghcr.io\"].auth", "is not valid base64"},
        {"auths[\"ghcr.io\"].auth", "is not valid base64"},
        {"auths[\"ghcr.io\"].auth", "is not valid base64"},
        {"auths[\"ghcr.io\"].auth", "is not valid base64"},
        {"auths[\"ghcr.io\"].auth", "is not valid base64"},
        {"auths[\"ghcr.io\"].auth", "is not valid base64"},
        {"auths[\"ghcr.io\"].auth", "is not valid base64"},
        {"auths[\"ghcr.io\"].auth", "must decode to \"username:password\""},
        {"auths[\"ghcr.io\"].auth", "NUL byte"},
        {"auths[\"ghcr.io\"].auth", "empty username"},
        {"auths[\"ghcr.io\"].auth", "empty password"},
        {"auths[\"ghcr.io\"].auth", "username that is not UTF-8"},
        {"auths[\"ghcr.io\"].auth", "password that is not UTF-8"},
        {"auths[\"ghcr.io\"].auth", "username with control characters"},
        {"auths[\"ghcr.io\"].auth", "must decode to \"username:password\""},
        {"auths[\"ghcr.io\"].auth", "must be a string"},
        {"auths[\"ghcr.io\"].auth", "must be a string"},
        {"auths[\"ghcr.io\"].auth", "must be a string"},
        {"auths[\"ghcr.io\"].username", "is required"},
        {"auths[\"ghcr.io\"].password", "is required"},
        {"auths[\"ghcr.io\"].username", "is required"},
        {"auths[\"ghcr.io\"].password", "must be a string"},
        {"auths[\"ghcr.io\"].username", "must be a string"},
        {"auths[\"ghcr.io\"].username", "empty username"},
        {"auths[\"ghcr.io\"].password", "empty password"},
        {"auths[\"ghcr.io\"].username", "containing ':'"},
        {"auths[\"ghcr.io\"].username", "control characters"},
        {"auths[\"ghcr.io\"].username", "control characters"},
        {"auths[\"ghcr.io\"]", "must be an object"},
        {"auths[\"ghcr.io\"]", "must be an object"},
        {"auths[\"ghcr.io\"]", "must be an object"},
        {"auths[\"ghcr.io\"]", "must be an object"},
    };
    _Static_assert(sizeof entries / sizeof entries[0] == sizeof expected / sizeof expected[0],
                   "one expectation per entry");

    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        char body[512];
        /* a good entry after the bad one is unaffected */
        snprintf(body, sizeof body,
                 "{\"auths\": {\"ghcr.io\": %s, \"quay.io\": {\"auth\": \"eDp5\"}}}", entries[i]);
        struct parsed p = parse_text(body);
        if (p.rc != 0)
            fail_msg("case %zu (%s): whole document rejected: %s", i, entries[i], p.err.message);
        assert_int_equal(p.count, 2);
        const struct docker_config_entry *bad = &p.entries[0];
        if (bad->error.code != AGYN_UNPROCESSABLE)
            fail_msg("case %zu (%s): entry accepted", i, entries[i]);
        if (strcmp(bad->error.field, expected[i].field) != 0)
            fail_msg("case %zu: field %s, expected %s", i, bad->error.field, expected[i].field);
        if (!strstr(bad->error.message, expected[i].message_part))
            fail_msg("case %zu: message %s lacks %s", i, bad->error.message,
                     expected[i].message_part);
        assert_no_secret_in(&bad->error);
        assert_string_equal(bad->key, "ghcr.io");
        assert_string_equal(bad->registry, "ghcr.io");
        assert_null(bad->username);
        assert_null(bad->password);

        const struct docker_config_entry *good = &p.entries[1];
        assert_int_equal(good->error.code, AGYN_OK);
        assert_string_equal(good->username, "x");
        assert_string_equal(good->password, "y");
        docker_config_entries_free(p.entries, p.count);
    }
}

static void test_bad_keys(void **state) {
    (void)state;
    struct parsed p = parse_text("{\"auths\": {"
                                 "\"not a registry!\": {\"auth\": \"eDp5\"},"
                                 "\"user@ghcr.io\": {\"auth\": \"eDp5\"},"
                                 "\"ghcr.io\\u0001\": {\"auth\": \"eDp5\"},"
                                 "\"\": {\"auth\": \"eDp5\"},"
                                 "\"ghcr.io:99999\": {\"auth\": \"eDp5\"},"
                                 "\"k\\\"ey\": {\"auth\": \"eDp5\"}"
                                 "}}");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.count, 6);
    static const char *const fields[] = {
        "auths[\"not a registry!\"]", "auths[\"user@ghcr.io\"]",
        "auths[\"ghcr.io\\x01\"]",    "auths[\"\"]",
        "auths[\"ghcr.io:99999\"]",   "auths[\"k\\\"ey\"]",
    };
    for (size_t i = 0; i < p.count; i++) {
        assert_int_equal(p.entries[i].error.code, AGYN_UNPROCESSABLE);
        assert_null(p.entries[i].registry);
        assert_null(p.entries[i].username);
        assert_null(p.entries[i].password);
        assert_non_null(p.entries[i].key);
        assert_string_equal(p.entries[i].error.field, fields[i]);
        assert_non_null(strstr(p.entries[i].error.message, "registry \""));
    }
    assert_string_equal(p.entries[2].key, "ghcr.io\x01");
    docker_config_entries_free(p.entries, p.count);

    /* a 10000-byte key: the field name is cut to fit, the key is kept whole */
    size_t key_len = 10000;
    char *body = malloc(key_len + 100);
    assert_non_null(body);
    strcpy(body, "{\"auths\": {\"");
    memset(body + strlen(body), 'k', key_len);
    strcpy(body + 12 + key_len, "\": {\"auth\": \"eDp5\"}}}");
    p = parse_text(body);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.count, 1);
    assert_int_equal(strlen(p.entries[0].key), key_len);
    assert_int_equal(p.entries[0].error.code, AGYN_UNPROCESSABLE);
    assert_true(strlen(p.entries[0].error.field) < sizeof p.entries[0].error.field);
    assert_non_null(strstr(p.entries[0].error.field, "\"..."));
    assert_non_null(strstr(p.entries[0].error.message, "must not be more than 512 characters"));
    docker_config_entries_free(p.entries, p.count);
    free(body);
}

/* A literal with embedded NUL bytes and its full length. */
#define WITH_NUL(literal) literal, sizeof literal - 1

struct document_case {
    const char *body;
    size_t len; /* 0: strlen */
    enum agyn_code code;
    const char *message_part;
};

static void test_document_errors(void **state) {
    (void)state;
    static const struct document_case cases[] = {
        {"nope", 0, AGYN_INVALID_ARGUMENT, "not valid JSON"},
        {"{\"auths\": {\"ghcr.io\": {\"password\": \"" SECRET, 0, AGYN_INVALID_ARGUMENT,
         "not valid JSON"},
        {"{\"auths\": {\"ghcr.io\": {\"password\": " SECRET "}}}", 0, AGYN_INVALID_ARGUMENT,
         "not valid JSON"},
        {"{\"auths\": {}} trailing", 0, AGYN_INVALID_ARGUMENT, "not valid JSON"},
        {WITH_NUL("{\"auths\": {}}\0junk"), AGYN_INVALID_ARGUMENT, "not valid JSON"},
        {WITH_NUL("{\"auths\": {\"gh\0cr.io\": {}}}"), AGYN_INVALID_ARGUMENT, "not valid JSON"},
        {WITH_NUL("{\"auths\": {\"ghcr.io\": {\"auth\": \"eDp5\0\"}}}"), AGYN_INVALID_ARGUMENT,
         "not valid JSON"},
        {"{\"auths\": {\"gh\\u0000cr.io\": {\"auth\": \"eDp5\"}}}", 0, AGYN_INVALID_ARGUMENT,
         "not valid JSON"},
        {"{\"auths\": {\"ghcr.io\": {\"username\": \"x\", \"password\": \"a\\u0000b\"}}}", 0,
         AGYN_INVALID_ARGUMENT, "not valid JSON"},
        {"{\"auths\": {\"ghcr.io\": {\"auth\": \"\xff\xfe\"}}}", 0, AGYN_INVALID_ARGUMENT,
         "not valid JSON"},
        {"{\"auths\": {\"ghcr.io\": {}, \"ghcr.io\": {}}}", 0, AGYN_INVALID_ARGUMENT,
         "duplicate key"},
        {"[]", 0, AGYN_UNPROCESSABLE, "must be a JSON object"},
        {"\"auths\"", 0, AGYN_UNPROCESSABLE, "must be a JSON object"},
        {"42", 0, AGYN_UNPROCESSABLE, "must be a JSON object"},
        {"null", 0, AGYN_UNPROCESSABLE, "must be a JSON object"},
        {"{}", 0, AGYN_UNPROCESSABLE, "no \"auths\" object"},
        {"{\"ghcr.io\": {\"auth\": \"eDp5\"}}", 0, AGYN_UNPROCESSABLE, "no \"auths\" object"},
        {"{\"Auths\": {}}", 0, AGYN_UNPROCESSABLE, "no \"auths\" object"},
        {"{\"auths\": []}", 0, AGYN_UNPROCESSABLE, "auths must be an object"},
        {"{\"auths\": \"x\"}", 0, AGYN_UNPROCESSABLE, "auths must be an object"},
        {"{\"auths\": null}", 0, AGYN_UNPROCESSABLE, "auths must be an object"},
        {"", 0, AGYN_INVALID_ARGUMENT, "empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct docker_config_entry *entries = (struct docker_config_entry *)&cases;
        size_t count = 99;
        struct agyn_error err = {0};
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        int rc = docker_config_parse(cases[i].body, len, &entries, &count, &err);
        if (rc != -1)
            fail_msg("case %zu accepted", i);
        assert_null(entries);
        assert_int_equal(count, 0);
        if (err.code != cases[i].code)
            fail_msg("case %zu: code %d, expected %d (%s)", i, err.code, cases[i].code,
                     err.message);
        assert_string_equal(err.field, "auths");
        if (!strstr(err.message, cases[i].message_part))
            fail_msg("case %zu: message %s lacks %s", i, err.message, cases[i].message_part);
        assert_no_secret_in(&err);
    }

    struct docker_config_entry *entries = NULL;
    size_t count = 0;
    struct agyn_error err = {0};
    assert_int_equal(docker_config_parse(NULL, 10, &entries, &count, &err), -1);
    assert_int_equal(err.code, AGYN_INVALID_ARGUMENT);
    assert_int_equal(docker_config_parse("{}", 2, NULL, &count, &err), -1);
    assert_int_equal(docker_config_parse("{}", 2, &entries, NULL, &err), -1);
    assert_int_equal(docker_config_parse("{}", 2, &entries, &count, NULL), -1);
}

static void test_oversize_and_deep(void **state) {
    (void)state;
    struct docker_config_entry *entries = NULL;
    size_t count = 0;
    struct agyn_error err = {0};

    size_t size = DOCKER_CONFIG_MAX_BYTES + 1;
    char *body = malloc(size);
    assert_non_null(body);
    memset(body, ' ', size);
    assert_int_equal(docker_config_parse(body, size, &entries, &count, &err), -1);
    assert_int_equal(err.code, AGYN_PAYLOAD_TOO_LARGE);
    assert_string_equal(err.field, "auths");

    /* deep nesting within the size limit */
    size_t depth = 200000;
    memcpy(body, "{\"auths\":", 9);
    memset(body + 9, '[', depth);
    memset(body + 9 + depth, ']', depth);
    body[9 + 2 * depth] = '}';
    assert_int_equal(docker_config_parse(body, 10 + 2 * depth, &entries, &count, &err), -1);
    assert_int_equal(err.code, AGYN_INVALID_ARGUMENT);

    /* too many entries */
    size_t pos = 0;
    pos += (size_t)sprintf(body + pos, "{\"auths\": {");
    for (int i = 0; i <= DOCKER_CONFIG_MAX_ENTRIES; i++)
        pos += (size_t)sprintf(body + pos, "%s\"r%d.example.com\": {\"auth\": \"eDp5\"}",
                               i ? "," : "", i);
    pos += (size_t)sprintf(body + pos, "}}");
    assert_int_equal(docker_config_parse(body, pos, &entries, &count, &err), -1);
    assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    assert_non_null(strstr(err.message, "more than 1000 entries"));

    /* exactly the limit is fine */
    pos = 0;
    pos += (size_t)sprintf(body + pos, "{\"auths\": {");
    for (int i = 0; i < DOCKER_CONFIG_MAX_ENTRIES; i++)
        pos += (size_t)sprintf(body + pos, "%s\"r%d.example.com\": {\"auth\": \"eDp5\"}",
                               i ? "," : "", i);
    pos += (size_t)sprintf(body + pos, "}}");
    assert_int_equal(docker_config_parse(body, pos, &entries, &count, &err), 0);
    assert_int_equal(count, DOCKER_CONFIG_MAX_ENTRIES);
    assert_string_equal(entries[999].registry, "r999.example.com");
    assert_string_equal(entries[999].password, "y");
    docker_config_entries_free(entries, count);

    /* a large password (a GCP service-account JSON key is a few KB) */
    size_t secret_len = 600000;
    char *raw = malloc(secret_len + 3);
    char *encoded = malloc(secret_len * 2);
    assert_non_null(raw);
    assert_non_null(encoded);
    memcpy(raw, "u:", 2);
    memset(raw + 2, 'p', secret_len);
    b64(raw, secret_len + 2, encoded);
    pos = (size_t)snprintf(body, size, "{\"auths\": {\"gcr.io\": {\"auth\": \"%s\"}}}", encoded);
    assert_true(pos < size);
    assert_int_equal(docker_config_parse(body, pos, &entries, &count, &err), 0);
    assert_int_equal(strlen(entries[0].password), secret_len);
    docker_config_entries_free(entries, count);
    free(raw);
    free(encoded);
    free(body);
}

/* Random corruption of a good document: never a crash, never a leak, never a secret. */
static void test_random_corruption(void **state) {
    (void)state;
    char encoded[64];
    b64("alice:" SECRET, 6 + strlen(SECRET), encoded);
    char good[512];
    int good_len =
        snprintf(good, sizeof good,
                 "{\"auths\":{\"ghcr.io\":{\"auth\":\"%s\"},\"https://index.docker.io/v1/\":"
                 "{\"username\":\"u\",\"password\":\"" SECRET "\"}}}",
                 encoded);
    uint64_t seed = 0x0123456789ABCDEFull;
    for (int round = 0; round < 20000; round++) {
        char body[512];
        memcpy(body, good, (size_t)good_len);
        size_t len = (size_t)good_len;
        int edits = 1 + round % 4;
        for (int e = 0; e < edits; e++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(seed >> 40) % len;
            body[at] = (char)(seed >> 16);
        }
        struct docker_config_entry *entries = NULL;
        size_t count = 0;
        struct agyn_error err = {0};
        if (docker_config_parse(body, len, &entries, &count, &err) != 0) {
            assert_null(entries);
            assert_no_secret_in(&err);
            continue;
        }
        for (size_t i = 0; i < count; i++) {
            if (entries[i].error.code != AGYN_OK) {
                assert_null(entries[i].username);
                assert_null(entries[i].password);
                assert_no_secret_in(&entries[i].error);
            } else {
                assert_non_null(entries[i].registry);
                assert_non_null(entries[i].username);
                assert_non_null(entries[i].password);
            }
        }
        docker_config_entries_free(entries, count);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_document),     cmocka_unit_test(test_auth_forms),
        cmocka_unit_test(test_entry_problems),    cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_document_errors),   cmocka_unit_test(test_oversize_and_deep),
        cmocka_unit_test(test_random_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
