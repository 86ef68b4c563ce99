/* test_crypto.c — unit tests for the keyring file, envelope encryption and rewrapping: round
 * trips, AAD binding, tampering and hostile stored forms, hostile keyring files, file modes,
 * key rotation and reloads while other threads seal and open. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/error.h"
#include "crypto/envelope.h"
#include "crypto/keyring.h"
#include "crypto/rewrap.h"

#define AAD_ROW_1 "org-1/registry_credentials/row-1/password"
#define AAD_ROW_2 "org-1/registry_credentials/row-2/password"
#define SECRET_TEXT "hunter2-registry-password"
/* Base64 of the 32 bytes "KeyMaterialShouldNeverLeak123456": must never show in a message. */
#define LEAKY_KEY_B64 "S2V5TWF0ZXJpYWxTaG91bGROZXZlckxlYWsxMjM0NTY="
#define OTHER_KEY_B64 "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="

/* ---- fixture: a temp dir holding a fresh keyring file, loaded ---- */

struct fixture {
    char dir[64];
    char path[128];
    char first_id[KEYRING_ID_MAX];
    struct keyring *kr;
};

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char child[512];
        snprintf(child, sizeof child, "%s/%s", dir, entry->d_name);
        struct stat st;
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(child);
        else
            unlink(child);
    }
    closedir(d);
    rmdir(dir);
}

static int setup(void **state) {
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/agyn-crypto-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/keyring.json", fx->dir);
    struct agyn_error err = {0};
    if (keyring_create_file(fx->path, fx->first_id, &err) != 0 ||
        keyring_load(fx->path, &fx->kr, &err) != 0) {
        fprintf(stderr, "fixture: %s\n", err.message);
        remove_tree(fx->dir);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    struct fixture *fx = *state;
    keyring_free(fx->kr);
    remove_tree(fx->dir);
    free(fx);
    return 0;
}

/* ---- helpers ---- */

static void expect_error(const struct agyn_error *err, enum agyn_code code, const char *needle) {
    if (err->code != code || !strstr(err->message, needle))
        print_error("expected %s containing \"%s\", got %s: \"%s\"\n", agyn_code_name(code), needle,
                    agyn_code_name(err->code), err->message);
    assert_int_equal(err->code, code);
    assert_non_null(strstr(err->message, needle));
}

static void write_file(const char *path, const char *content, size_t len, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static mode_t file_mode(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static size_t count_dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            count++;
    }
    closedir(d);
    return count;
}

static char *seal_or_fail(const struct keyring *kr, const char *aad, const void *plain,
                          size_t len) {
    struct agyn_error err = {0};
    char *sealed = envelope_seal(kr, aad, plain, len, &err);
    if (!sealed)
        print_error("seal failed: %s\n", err.message);
    assert_non_null(sealed);
    return sealed;
}

static void assert_opens_to(const struct keyring *kr, const char *aad, const char *sealed,
                            const void *expected, size_t expected_len) {
    struct agyn_error err = {0};
    uint8_t *plain = NULL;
    size_t len = 0;
    int rc = envelope_open(kr, aad, sealed, &plain, &len, &err);
    if (rc != 0)
        print_error("open failed: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_non_null(plain);
    assert_int_equal(len, expected_len);
    if (expected_len > 0)
        assert_memory_equal(plain, expected, expected_len);
    assert_int_equal(plain[len], 0);
    secure_free(plain);
}

/* Opening must fail without output, and the message must not reveal SECRET_TEXT. */
static void assert_open_fails(const struct keyring *kr, const char *aad, const char *sealed,
                              struct agyn_error *err) {
    uint8_t *plain = (uint8_t *)"sentinel";
    size_t len = 99;
    assert_int_equal(envelope_open(kr, aad, sealed, &plain, &len, err), -1);
    assert_null(plain);
    assert_int_equal(len, 0);
    assert_int_equal(err->code, AGYN_INTERNAL);
    assert_null(strstr(err->message, SECRET_TEXT));
}

static int is_base64url_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* ---- envelope round trips ---- */

static void test_roundtrip_empty_value(void **state) {
    struct fixture *fx = *state;
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, "", 0);
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, "", 0);
    free(sealed);
    sealed = seal_or_fail(fx->kr, AAD_ROW_1, NULL, 0); /* NULL is fine for an empty value */
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, "", 0);
    free(sealed);
}

static void test_roundtrip_one_byte(void **state) {
    struct fixture *fx = *state;
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, "x", 1);
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, "x", 1);
    free(sealed);
}

static void test_roundtrip_one_mebibyte(void **state) {
    struct fixture *fx = *state;
    size_t len = 1024 * 1024;
    uint8_t *value = malloc(len);
    assert_non_null(value);
    assert_int_equal(RAND_bytes(value, (int)len), 1);
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, value, len);
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, value, len);
    free(sealed);
    free(value);
}

static void test_roundtrip_binary_with_nuls(void **state) {
    struct fixture *fx = *state;
    uint8_t value[512];
    for (size_t i = 0; i < sizeof value; i++)
        value[i] = (uint8_t)(i % 3 == 0 ? 0 : i); /* every byte value, many NULs */
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, value, sizeof value);
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, value, sizeof value);
    free(sealed);
}

static void test_stored_form_shape(void **state) {
    struct fixture *fx = *state;
    const char *value = SECRET_TEXT;
    size_t len = strlen(value);
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, value, len);
    char *again = seal_or_fail(fx->kr, AAD_ROW_1, value, len);
    assert_string_not_equal(sealed, again); /* fresh DEK and IVs every time */
    assert_null(strstr(sealed, value));

    char prefix[128];
    snprintf(prefix, sizeof prefix, "agyn1:%s:", fx->first_id);
    assert_int_equal(strncmp(sealed, prefix, strlen(prefix)), 0);
    const char *wrapped = sealed + strlen(prefix);
    const char *colon = strchr(wrapped, ':');
    assert_non_null(colon);
    assert_int_equal(colon - wrapped, 80); /* 12 + 32 + 16 bytes, unpadded */
    const char *ciphertext = colon + 1;
    size_t blob = len + 28;
    size_t expected_chars = blob / 3 * 4 + (blob % 3 ? blob % 3 + 1 : 0);
    assert_int_equal(strlen(ciphertext), expected_chars);
    for (const char *c = wrapped; *c; c++)
        assert_true(c == colon || is_base64url_char(*c));

    char id[KEYRING_ID_MAX];
    assert_int_equal(envelope_key_id(sealed, id), 0);
    assert_string_equal(id, fx->first_id);
    free(sealed);
    free(again);
}

static void test_seal_rejects_oversize_value(void **state) {
    struct fixture *fx = *state;
    struct agyn_error err = {0};
    /* The length is checked before the buffer is read. */
    assert_null(envelope_seal(fx->kr, AAD_ROW_1, (const uint8_t *)"x",
                              (size_t)ENVELOPE_MAX_PLAINTEXT_BYTES + 1, &err));
    expect_error(&err, AGYN_PAYLOAD_TOO_LARGE, "too large");
}

static void test_envelope_aad_format(void **state) {
    (void)state;
    char aad[128];
    envelope_aad(aad, sizeof aad, "org-1", "registry_credentials", "row-9", "password");
    assert_string_equal(aad, "org-1/registry_credentials/row-9/password");
    envelope_aad(aad, sizeof aad, NULL, "t", NULL, "f");
    assert_string_equal(aad, "/t//f");
    char tiny[8];
    envelope_aad(tiny, sizeof tiny, "organization", "table", "row", "field");
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

/* ---- tampering and hostile stored forms ---- */

static void test_aad_mismatch_fails(void **state) {
    struct fixture *fx = *state;
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    struct agyn_error err = {0};
    assert_open_fails(fx->kr, AAD_ROW_2, sealed, &err);
    expect_error(&err, AGYN_INTERNAL,
                 "authentication tag mismatch (wrong key or value moved from another row)");
    expect_error(&err, AGYN_INTERNAL, "failed to decrypt");
    expect_error(&err, AGYN_INTERNAL, AAD_ROW_2);
    assert_open_fails(fx->kr, "", sealed, &err);
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, SECRET_TEXT, strlen(SECRET_TEXT));
    free(sealed);
}

static void test_every_byte_flip_fails(void **state) {
    struct fixture *fx = *state;
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    size_t len = strlen(sealed);
    char *tampered = malloc(len + 1);
    assert_non_null(tampered);
    size_t attempts = 0;
    for (size_t pos = 0; pos < len; pos++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(tampered, sealed, len + 1);
            tampered[pos] = (char)(tampered[pos] ^ (1 << bit));
            struct agyn_error err = {0};
            assert_open_fails(fx->kr, AAD_ROW_1, tampered, &err);
            attempts++;
        }
    }
    assert_int_equal(attempts, len * 8);
    free(tampered);
    free(sealed);
}

static void test_every_truncation_and_extension_fails(void **state) {
    struct fixture *fx = *state;
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    size_t len = strlen(sealed);
    char *cut = malloc(len + 3);
    assert_non_null(cut);
    for (size_t keep = 0; keep < len; keep++) {
        memcpy(cut, sealed, keep);
        cut[keep] = '\0';
        struct agyn_error err = {0};
        assert_open_fails(fx->kr, AAD_ROW_1, cut, &err);
    }
    const char *suffixes[] = {"A", "AA", ":", "=", "==", " ", "\n"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(cut, len + 3, "%s%s", sealed, suffixes[i]);
        struct agyn_error err = {0};
        assert_open_fails(fx->kr, AAD_ROW_1, cut, &err);
    }
    free(cut);
    free(sealed);
}

static void test_hostile_stored_forms_are_rejected(void **state) {
    struct fixture *fx = *state;
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    const char *wrapped = strchr(sealed + 6, ':') + 1;
    const char *ciphertext = strchr(wrapped, ':') + 1;
    char wrapped_part[128];
    snprintf(wrapped_part, sizeof wrapped_part, "%.*s", (int)(ciphertext - 1 - wrapped), wrapped);
    char buf[1024];
    struct agyn_error err = {0};

    struct {
        const char *label;
        char text[512];
    } cases[16];
    size_t n = 0;
    snprintf(cases[n].text, sizeof cases[n].text, "%s", "");
    cases[n++].label = "empty";
    snprintf(cases[n].text, sizeof cases[n].text, "%s", "agyn1");
    cases[n++].label = "prefix only";
    snprintf(cases[n].text, sizeof cases[n].text, "%s", SECRET_TEXT);
    cases[n++].label = "plaintext stored by mistake";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn2%s", sealed + 5);
    cases[n++].label = "wrong version";
    snprintf(cases[n].text, sizeof cases[n].text, "AGYN1%s", sealed + 5);
    cases[n++].label = "wrong case";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1::%s:%s", wrapped_part, ciphertext);
    cases[n++].label = "empty key id";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:k/1:%s:%s", wrapped_part, ciphertext);
    cases[n++].label = "bad key id characters";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:%s:%s", fx->first_id, wrapped_part);
    cases[n++].label = "missing ciphertext part";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:%s:%s:", fx->first_id, wrapped_part);
    cases[n++].label = "empty ciphertext";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:%s:%s:%s=", fx->first_id, wrapped_part,
             ciphertext);
    cases[n++].label = "padding";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:%s:%.79s:%s", fx->first_id, wrapped_part,
             ciphertext);
    cases[n++].label = "short wrapped key";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:%s:%s:%s:%s", fx->first_id, wrapped_part,
             ciphertext, ciphertext);
    cases[n++].label = "extra part";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:%s:%s:%.36s", fx->first_id, wrapped_part,
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    cases[n++].label = "ciphertext shorter than iv and tag";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:%s:%s:%s", fx->first_id, wrapped_part,
             "++++++++++++++++++++++++++++++++++++++++++++++++");
    cases[n++].label = "standard base64 alphabet";
    snprintf(cases[n].text, sizeof cases[n].text, "agyn1:%s:%s:%s", fx->first_id, wrapped_part,
             "AAAAA");
    cases[n++].label = "impossible base64 length";

    for (size_t i = 0; i < n; i++) {
        memset(&err, 0, sizeof err);
        uint8_t *plain = NULL;
        size_t len = 0;
        int rc = envelope_open(fx->kr, AAD_ROW_1, cases[i].text, &plain, &len, &err);
        if (rc == 0 || !strstr(err.message, "not a valid agyn1 envelope"))
            print_error("case \"%s\": rc %d, \"%s\"\n", cases[i].label, rc, err.message);
        assert_int_equal(rc, -1);
        assert_null(plain);
        expect_error(&err, AGYN_INTERNAL, "not a valid agyn1 envelope");
        assert_null(strstr(err.message, SECRET_TEXT));
        char id[KEYRING_ID_MAX];
        assert_int_equal(envelope_key_id(cases[i].text, id), -1);
    }

    /* NULL input. */
    uint8_t *plain = NULL;
    size_t len = 0;
    assert_int_equal(envelope_open(fx->kr, AAD_ROW_1, NULL, &plain, &len, &err), -1);
    expect_error(&err, AGYN_INTERNAL, "missing");
    assert_int_equal(envelope_key_id(NULL, buf), -1);

    /* Oversize: a valid-looking prefix followed by far more ciphertext than any value. */
    size_t huge = (size_t)ENVELOPE_MAX_PLAINTEXT_BYTES / 3 * 4 + 4096;
    char *oversize = malloc(huge + 1);
    assert_non_null(oversize);
    int head = snprintf(oversize, huge + 1, "agyn1:%s:%s:", fx->first_id, wrapped_part);
    memset(oversize + head, 'A', huge - (size_t)head);
    oversize[huge] = '\0';
    assert_int_equal(envelope_open(fx->kr, AAD_ROW_1, oversize, &plain, &len, &err), -1);
    expect_error(&err, AGYN_INTERNAL, "longer than any value");
    free(oversize);
    /* Short key id, so the total is under the limit but the ciphertext is one byte too long. */
    size_t blob = (size_t)ENVELOPE_MAX_PLAINTEXT_BYTES + 1 + 28;
    size_t blob_chars = blob / 3 * 4 + (blob % 3 ? blob % 3 + 1 : 0);
    oversize = malloc(256 + blob_chars);
    assert_non_null(oversize);
    head = snprintf(oversize, 256, "agyn1:%s:%s:", fx->first_id, wrapped_part);
    memset(oversize + head, 'A', blob_chars);
    oversize[(size_t)head + blob_chars] = '\0';
    assert_int_equal(envelope_open(fx->kr, AAD_ROW_1, oversize, &plain, &len, &err), -1);
    expect_error(&err, AGYN_INTERNAL, "its ciphertext is longer than any value");
    free(oversize);

    /* Well-formed but forged: random ciphertext fails authentication, not parsing. */
    snprintf(buf, sizeof buf, "agyn1:%s:%s:%s", fx->first_id, wrapped_part,
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_open_fails(fx->kr, AAD_ROW_1, buf, &err);
    expect_error(&err, AGYN_INTERNAL, "authentication tag mismatch");
    free(sealed);
}

static void test_non_canonical_base64_is_rejected(void **state) {
    struct fixture *fx = *state;
    /* 25 + 28 = 53 bytes: the last ciphertext character carries 2 unused bits. */
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    size_t len = strlen(sealed);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *last = strchr(alphabet, sealed[len - 1]);
    assert_non_null(last);
    assert_int_equal((last - alphabet) & 3, 0);
    for (int unused = 1; unused < 4; unused++) {
        char *tampered = strdup(sealed);
        assert_non_null(tampered);
        tampered[len - 1] = alphabet[(last - alphabet) + unused];
        struct agyn_error err = {0};
        assert_open_fails(fx->kr, AAD_ROW_1, tampered, &err);
        expect_error(&err, AGYN_INTERNAL, "not canonical");
        free(tampered);
    }
    free(sealed);
}

/* Two ids with the same key material: relabelling a value's key id must still fail, because
 * the id is part of the wrapped key's AAD. */
static void test_key_id_is_bound_to_wrapped_key(void **state) {
    struct fixture *fx = *state;
    char path[192];
    snprintf(path, sizeof path, "%s/twins.json", fx->dir);
    const char *twins = "{\"active\": \"k-a\", \"keys\": ["
                        "{\"id\": \"k-a\", \"key\": \"" LEAKY_KEY_B64 "\"},"
                        "{\"id\": \"k-b\", \"key\": \"" LEAKY_KEY_B64 "\"}]}";
    write_file(path, twins, strlen(twins), 0600);
    struct agyn_error err = {0};
    struct keyring *kr = NULL;
    assert_int_equal(keyring_load(path, &kr, &err), 0);
    char *sealed = seal_or_fail(kr, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    assert_int_equal(strncmp(sealed, "agyn1:k-a:", 10), 0);
    assert_opens_to(kr, AAD_ROW_1, sealed, SECRET_TEXT, strlen(SECRET_TEXT));
    sealed[8] = 'b';
    assert_open_fails(kr, AAD_ROW_1, sealed, &err);
    expect_error(&err, AGYN_INTERNAL, "authentication tag mismatch");
    free(sealed);
    keyring_free(kr);
}

static void test_unknown_key_id_is_named(void **state) {
    struct fixture *fx = *state;
    char other_path[192];
    char other_id[KEYRING_ID_MAX];
    struct agyn_error err = {0};
    snprintf(other_path, sizeof other_path, "%s/other.json", fx->dir);
    assert_int_equal(keyring_create_file(other_path, other_id, &err), 0);
    struct keyring *other = NULL;
    assert_int_equal(keyring_load(other_path, &other, &err), 0);

    char *sealed = seal_or_fail(other, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    assert_open_fails(fx->kr, AAD_ROW_1, sealed, &err);
    char expected[256];
    snprintf(expected, sizeof expected,
             "value was encrypted with key %s, which is not in the keyring", other_id);
    expect_error(&err, AGYN_INTERNAL, expected);
    assert_opens_to(other, AAD_ROW_1, sealed, SECRET_TEXT, strlen(SECRET_TEXT));

    /* A stored form naming a key id that is in the keyring, but wrapped under another key. */
    char *swapped = malloc(strlen(sealed) + 1);
    assert_non_null(swapped);
    assert_int_equal(strlen(other_id), strlen(fx->first_id));
    strcpy(swapped, sealed);
    memcpy(swapped + 6, fx->first_id, strlen(fx->first_id));
    assert_open_fails(fx->kr, AAD_ROW_1, swapped, &err);
    expect_error(&err, AGYN_INTERNAL, "authentication tag mismatch");

    free(swapped);
    free(sealed);
    keyring_free(other);
}

static void test_secure_free_is_null_safe(void **state) {
    (void)state;
    secure_free(NULL);
    secure_free(NULL);
    char *s = strdup("secret");
    assert_non_null(s);
    secure_free(s);
    void *p = malloc(32);
    assert_non_null(p);
    secure_free(p);
}

/* ---- keyring files ---- */

static void test_key_id_format(void **state) {
    struct fixture *fx = *state;
    const char *id = fx->first_id;
    assert_int_equal(strlen(id), strlen("k-YYYYMMDD-0123abcd"));
    char today[16];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(today, sizeof today, "%Y%m%d", &utc);
    char expected_prefix[32];
    snprintf(expected_prefix, sizeof expected_prefix, "k-%s-", today);
    /* Tolerate a run across midnight UTC by checking the shape when the date differs. */
    if (strncmp(id, expected_prefix, strlen(expected_prefix)) != 0) {
        assert_int_equal(strncmp(id, "k-", 2), 0);
        for (int i = 2; i < 10; i++)
            assert_true(id[i] >= '0' && id[i] <= '9');
        assert_int_equal(id[10], '-');
    }
    for (int i = 11; i < 19; i++)
        assert_non_null(strchr("0123456789abcdef", id[i]));
    assert_true(keyring_id_is_valid(id));
    assert_false(keyring_id_is_valid(""));
    assert_false(keyring_id_is_valid("k:1"));
    assert_false(keyring_id_is_valid("k|1"));
    assert_false(keyring_id_is_valid(NULL));
    char long_id[KEYRING_ID_MAX + 1];
    memset(long_id, 'a', KEYRING_ID_MAX);
    long_id[KEYRING_ID_MAX] = '\0';
    assert_false(keyring_id_is_valid(long_id));
    long_id[KEYRING_ID_MAX - 1] = '\0';
    assert_true(keyring_id_is_valid(long_id));
}

static void test_keyring_create_add_remove_reload(void **state) {
    struct fixture *fx = *state;
    struct agyn_error err = {0};
    assert_int_equal(keyring_count(fx->kr), 1);
    assert_string_equal(keyring_active_id(fx->kr), fx->first_id);
    const char *created_at = NULL;
    int active = 0;
    assert_string_equal(keyring_id_at(fx->kr, 0, &created_at, &active), fx->first_id);
    assert_int_equal(active, 1);
    assert_int_equal(strlen(created_at), strlen("2026-11-26T19:00:00Z"));
    assert_int_equal(created_at[strlen(created_at) - 1], 'Z');
    assert_null(keyring_id_at(fx->kr, 1, &created_at, &active));
    assert_int_equal(file_mode(fx->path), 0600);

    /* Creating over an existing file is a conflict and leaves it alone. */
    char id[KEYRING_ID_MAX];
    assert_int_equal(keyring_create_file(fx->path, id, &err), -1);
    expect_error(&err, AGYN_CONFLICT, "already exists");

    char second_id[KEYRING_ID_MAX];
    assert_int_equal(keyring_add_key(fx->path, second_id, &err), 0);
    assert_string_not_equal(second_id, fx->first_id);
    assert_int_equal(file_mode(fx->path), 0600);
    assert_int_equal(keyring_count(fx->kr), 1); /* not seen until reloaded */
    assert_false(keyring_has(fx->kr, second_id));

    assert_int_equal(keyring_reload(fx->kr, fx->path, &err), 0);
    assert_int_equal(keyring_count(fx->kr), 2);
    assert_string_equal(keyring_active_id(fx->kr), second_id);
    assert_true(keyring_has(fx->kr, fx->first_id));
    assert_true(keyring_has(fx->kr, second_id));
    int actives = 0;
    for (size_t i = 0; i < keyring_count(fx->kr); i++) {
        const char *key_id = keyring_id_at(fx->kr, i, NULL, &active);
        actives += active;
        if (active)
            assert_string_equal(key_id, second_id);
    }
    assert_int_equal(actives, 1);

    /* The active key cannot be removed; an unknown one is not found. */
    assert_int_equal(keyring_remove_key(fx->path, second_id, &err), -1);
    expect_error(&err, AGYN_CONFLICT, second_id);
    assert_int_equal(keyring_remove_key(fx->path, "k-19990101-00000000", &err), -1);
    expect_error(&err, AGYN_NOT_FOUND, "k-19990101-00000000");
    assert_int_equal(keyring_remove_key(fx->path, "../etc", &err), -1);
    expect_error(&err, AGYN_INVALID_ARGUMENT, "invalid key id");

    /* Ids handed out earlier stay valid after the key is dropped by a reload. */
    const char *old_first = NULL;
    for (size_t i = 0; i < keyring_count(fx->kr); i++) {
        const char *key_id = keyring_id_at(fx->kr, i, NULL, NULL);
        if (strcmp(key_id, fx->first_id) == 0)
            old_first = key_id;
    }
    assert_non_null(old_first);

    assert_int_equal(keyring_remove_key(fx->path, fx->first_id, &err), 0);
    assert_int_equal(file_mode(fx->path), 0600);
    assert_int_equal(keyring_reload(fx->kr, fx->path, &err), 0);
    assert_int_equal(keyring_count(fx->kr), 1);
    assert_false(keyring_has(fx->kr, fx->first_id));
    assert_string_equal(old_first, fx->first_id);

    /* Only the keyring file remains: no temp files left behind. */
    assert_int_equal(count_dir_entries(fx->dir), 1);

    /* Operations on a missing file. */
    char missing[192];
    snprintf(missing, sizeof missing, "%s/missing.json", fx->dir);
    assert_int_equal(keyring_add_key(missing, NULL, &err), -1);
    expect_error(&err, AGYN_NOT_FOUND, "does not exist");
    struct keyring *kr = NULL;
    assert_int_equal(keyring_load(missing, &kr, &err), -1);
    assert_null(kr);
    expect_error(&err, AGYN_NOT_FOUND, "does not exist");
    snprintf(missing, sizeof missing, "%s/no-such-dir/keyring.json", fx->dir);
    assert_int_equal(keyring_create_file(missing, NULL, &err), -1);
    assert_int_equal(err.code, AGYN_INTERNAL);
}

static void test_file_mode_0600_required(void **state) {
    struct fixture *fx = *state;
    struct agyn_error err = {0};
    assert_int_equal(file_mode(fx->path), 0600);
    struct keyring *kr = NULL;

    assert_int_equal(chmod(fx->path, 0644), 0);
    assert_int_equal(keyring_load(fx->path, &kr, &err), -1);
    assert_null(kr);
    expect_error(&err, AGYN_INTERNAL, "must not be readable by others (mode 0644); chmod 600");
    expect_error(&err, AGYN_INTERNAL, fx->path);
    assert_int_equal(keyring_reload(fx->kr, fx->path, &err), -1);
    expect_error(&err, AGYN_INTERNAL, "(mode 0644)");
    assert_int_equal(keyring_add_key(fx->path, NULL, &err), -1);
    expect_error(&err, AGYN_INTERNAL, "(mode 0644)");

    const mode_t refused[] = {0640, 0604, 0620, 0602, 0610, 0601, 0666};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        assert_int_equal(chmod(fx->path, refused[i]), 0);
        assert_int_equal(keyring_load(fx->path, &kr, &err), -1);
        expect_error(&err, AGYN_INTERNAL, "chmod 600");
    }

    assert_int_equal(chmod(fx->path, 0400), 0); /* owner-only read-only is fine */
    assert_int_equal(keyring_load(fx->path, &kr, &err), 0);
    keyring_free(kr);
    assert_int_equal(chmod(fx->path, 0600), 0);
    assert_int_equal(keyring_load(fx->path, &kr, &err), 0);
    keyring_free(kr);
    /* The keyring that failed to reload still works. */
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, "v", 1);
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, "v", 1);
    free(sealed);
}

static void expect_keyring_file_refused(const char *path, const char *content, const char *needle) {
    write_file(path, content, strlen(content), 0600);
    struct agyn_error err = {0};
    struct keyring *kr = NULL;
    int rc = keyring_load(path, &kr, &err);
    if (rc == 0)
        print_error("keyring accepted: %s\n", content);
    assert_int_equal(rc, -1);
    assert_null(kr);
    expect_error(&err, AGYN_INTERNAL, needle);
    assert_null(strstr(err.message, LEAKY_KEY_B64));
    assert_null(strstr(err.message, "S2V5TWF0"));
}

static void test_hostile_keyring_files(void **state) {
    struct fixture *fx = *state;
    char path[192];
    snprintf(path, sizeof path, "%s/hostile.json", fx->dir);

    expect_keyring_file_refused(path, "", "not valid JSON");
    expect_keyring_file_refused(path, "this is not JSON " LEAKY_KEY_B64, "not valid JSON");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": [{\"id\": \"k-a\", \"key\": "
                                "\"" LEAKY_KEY_B64 "\"",
                                "not valid JSON");
    expect_keyring_file_refused(path, "{\"active\": " LEAKY_KEY_B64 "}", "not valid JSON");
    expect_keyring_file_refused(path, "[]", "must hold a JSON object");
    expect_keyring_file_refused(path, "{\"active\": \"k-a\"}", "\"keys\" must be an array");
    expect_keyring_file_refused(path, "{\"active\": \"k-a\", \"keys\": []}", "holds no keys");
    expect_keyring_file_refused(path,
                                "{\"keys\": [{\"id\": \"k-a\", \"key\": \"" LEAKY_KEY_B64 "\"}]}",
                                "\"active\" must name a key id");
    /* Wrong key lengths: 31 bytes, 33 bytes, unpadded, not base64, not a string, missing. */
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": [{\"id\": \"k-a\", \"key\": "
                                "\"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==\"}]}",
                                "key k-a must be the padded base64 of exactly 32 bytes");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": [{\"id\": \"k-a\", \"key\": "
                                "\"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\"}]}",
                                "exactly 32 bytes");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": [{\"id\": \"k-a\", \"key\": "
                                "\"S2V5TWF0ZXJpYWxTaG91bGROZXZlckxlYWsxMjM0NTY\"}]}",
                                "exactly 32 bytes");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": [{\"id\": \"k-a\", \"key\": "
                                "\"S2V5TWF0ZXJpYWxTaG91bGROZXZlckxlYWsxMjM0N*Y=\"}]}",
                                "exactly 32 bytes");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": [{\"id\": \"k-a\", \"key\": 42}]}",
                                "exactly 32 bytes");
    expect_keyring_file_refused(path, "{\"active\": \"k-a\", \"keys\": [{\"id\": \"k-a\"}]}",
                                "exactly 32 bytes");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": ["
                                "{\"id\": \"k-a\", \"key\": \"" LEAKY_KEY_B64 "\"},"
                                "{\"id\": \"k-a\", \"key\": \"" OTHER_KEY_B64 "\"}]}",
                                "lists key k-a twice");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-b\", \"keys\": ["
                                "{\"id\": \"k-a\", \"key\": \"" LEAKY_KEY_B64 "\"}]}",
                                "active key k-b is not among its keys");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": ["
                                "{\"id\": \"k:a\", \"key\": \"" LEAKY_KEY_B64 "\"}]}",
                                "keys[0] has a missing or invalid id");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": ["
                                "{\"id\": \"" LEAKY_KEY_B64 "\", \"key\": \"" LEAKY_KEY_B64 "\"}]}",
                                "invalid id");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"keys\": ["
                                "{\"id\": \"k-a\", \"key\": \"" LEAKY_KEY_B64
                                "\", \"created_at\": 7}]}",
                                "key k-a has an invalid created_at");
    expect_keyring_file_refused(path,
                                "{\"active\": \"k-a\", \"active\": \"k-a\", \"keys\": ["
                                "{\"id\": \"k-a\", \"key\": \"" LEAKY_KEY_B64 "\"}]}",
                                "not valid JSON (or repeats a field)");
    expect_keyring_file_refused(path, "{\"active\": \"k-a\", \"keys\": [\"k-a\"]}",
                                "keys[0] must be an object");

    /* Huge file: refused by size before parsing. */
    size_t huge = 2 * 1024 * 1024;
    char *big = malloc(huge + 1);
    assert_non_null(big);
    memset(big, ' ', huge);
    big[huge] = '\0';
    memcpy(big, "{\"keys\": [", 10);
    expect_keyring_file_refused(path, big, "too large");
    free(big);

    /* Not a regular file: a directory, and a FIFO (which must not block the open). */
    struct agyn_error err = {0};
    struct keyring *kr = NULL;
    assert_int_equal(keyring_load(fx->dir, &kr, &err), -1);
    expect_error(&err, AGYN_INTERNAL, "not a regular file");
    char fifo[192];
    snprintf(fifo, sizeof fifo, "%s/fifo", fx->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(keyring_load(fifo, &kr, &err), -1);
    expect_error(&err, AGYN_INTERNAL, "not a regular file");

    /* A hand-written file with short ids and unknown fields loads, and survives an add. */
    const char *valid = "{\"comment\": \"kept\", \"active\": \"k-20261126-1a2b\", \"keys\": ["
                        "{\"id\": \"k-20261126-1a2b\", \"key\": \"" LEAKY_KEY_B64 "\", "
                        "\"created_at\": \"2026-11-26T19:00:00Z\"},"
                        "{\"id\": \"legacy\", \"key\": \"" OTHER_KEY_B64 "\"}]}";
    write_file(path, valid, strlen(valid), 0600);
    assert_int_equal(keyring_load(path, &kr, &err), 0);
    assert_int_equal(keyring_count(kr), 2);
    assert_string_equal(keyring_active_id(kr), "k-20261126-1a2b");
    const char *created_at = NULL;
    assert_string_equal(keyring_id_at(kr, 1, &created_at, NULL), "legacy");
    assert_string_equal(created_at, "");
    char *sealed = seal_or_fail(kr, AAD_ROW_1, "v", 1);
    assert_opens_to(kr, AAD_ROW_1, sealed, "v", 1);
    free(sealed);
    keyring_free(kr);
    assert_int_equal(keyring_add_key(path, NULL, &err), 0);
    char text[4096];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    assert_true(n > 0);
    text[n] = '\0';
    assert_non_null(strstr(text, "\"comment\": \"kept\""));
    assert_non_null(strstr(text, LEAKY_KEY_B64));
}

static void test_failed_reload_keeps_keys(void **state) {
    struct fixture *fx = *state;
    struct agyn_error err = {0};
    char *sealed = seal_or_fail(fx->kr, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    write_file(fx->path, "{ broken", 8, 0600);
    assert_int_equal(keyring_reload(fx->kr, fx->path, &err), -1);
    expect_error(&err, AGYN_INTERNAL, "not valid JSON");
    assert_int_equal(keyring_count(fx->kr), 1);
    assert_string_equal(keyring_active_id(fx->kr), fx->first_id);
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, SECRET_TEXT, strlen(SECRET_TEXT));
    free(sealed);
}

static void test_ensure_key_reloads_once(void **state) {
    struct fixture *fx = *state;
    struct agyn_error err = {0};
    assert_int_equal(keyring_ensure_key(fx->kr, fx->path, fx->first_id, &err), 0);

    /* Another process adds a key and seals with it. */
    char new_id[KEYRING_ID_MAX];
    assert_int_equal(keyring_add_key(fx->path, new_id, &err), 0);
    struct keyring *other = NULL;
    assert_int_equal(keyring_load(fx->path, &other, &err), 0);
    char *sealed = seal_or_fail(other, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));
    keyring_free(other);

    assert_open_fails(fx->kr, AAD_ROW_1, sealed, &err);
    expect_error(&err, AGYN_INTERNAL, new_id);
    char key_id[KEYRING_ID_MAX];
    assert_int_equal(envelope_key_id(sealed, key_id), 0);
    assert_string_equal(key_id, new_id);
    assert_int_equal(keyring_ensure_key(fx->kr, fx->path, key_id, &err), 0);
    assert_opens_to(fx->kr, AAD_ROW_1, sealed, SECRET_TEXT, strlen(SECRET_TEXT));

    const char *bogus = "k-19990101-deadbeef";
    assert_int_equal(keyring_ensure_key(fx->kr, fx->path, bogus, &err), -1);
    char expected[256];
    snprintf(expected, sizeof expected, "key %s is not in the keyring %s", bogus, fx->path);
    expect_error(&err, AGYN_INTERNAL, expected);

    assert_int_equal(keyring_ensure_key(fx->kr, fx->path, "bad:id", &err), -1);
    expect_error(&err, AGYN_INTERNAL, "invalid key id");

    /* A failing reload is reported with the key id. */
    assert_int_equal(chmod(fx->path, 0644), 0);
    assert_int_equal(keyring_ensure_key(fx->kr, fx->path, bogus, &err), -1);
    expect_error(&err, AGYN_INTERNAL, bogus);
    expect_error(&err, AGYN_INTERNAL, "chmod 600");
    free(sealed);
}

/* ---- rewrap ---- */

static void test_rewrap_after_add_then_remove(void **state) {
    struct fixture *fx = *state;
    struct agyn_error err = {0};
    char *old_sealed = seal_or_fail(fx->kr, AAD_ROW_1, SECRET_TEXT, strlen(SECRET_TEXT));

    /* Already under the active key: an identical copy, unchanged. */
    int changed = -1;
    char *copy = envelope_rewrap(fx->kr, AAD_ROW_1, old_sealed, &changed, &err);
    assert_non_null(copy);
    assert_int_equal(changed, 0);
    assert_string_equal(copy, old_sealed);
    free(copy);

    char new_id[KEYRING_ID_MAX];
    assert_int_equal(keyring_add_key(fx->path, new_id, &err), 0);
    assert_int_equal(keyring_reload(fx->kr, fx->path, &err), 0);

    /* Wrong row: refused, nothing produced. */
    changed = -1;
    assert_null(envelope_rewrap(fx->kr, AAD_ROW_2, old_sealed, &changed, &err));
    assert_int_equal(changed, 0);
    expect_error(&err, AGYN_INTERNAL, "authentication tag mismatch");
    assert_null(envelope_rewrap(fx->kr, AAD_ROW_1, "agyn1:nonsense", &changed, &err));
    expect_error(&err, AGYN_INTERNAL, "not a valid agyn1 envelope");

    char *new_sealed = envelope_rewrap(fx->kr, AAD_ROW_1, old_sealed, &changed, &err);
    assert_non_null(new_sealed);
    assert_int_equal(changed, 1);
    char key_id[KEYRING_ID_MAX];
    assert_int_equal(envelope_key_id(new_sealed, key_id), 0);
    assert_string_equal(key_id, new_id);
    /* A fresh DEK: the wrapped-key part differs, not only the key id. */
    assert_string_not_equal(strchr(new_sealed + 6, ':'), strchr(old_sealed + 6, ':'));

    char *again = envelope_rewrap(fx->kr, AAD_ROW_1, new_sealed, &changed, &err);
    assert_non_null(again);
    assert_int_equal(changed, 0);
    assert_string_equal(again, new_sealed);
    free(again);

    assert_int_equal(keyring_remove_key(fx->path, fx->first_id, &err), 0);
    assert_int_equal(keyring_reload(fx->kr, fx->path, &err), 0);
    assert_opens_to(fx->kr, AAD_ROW_1, new_sealed, SECRET_TEXT, strlen(SECRET_TEXT));
    assert_open_fails(fx->kr, AAD_ROW_1, old_sealed, &err);
    expect_error(&err, AGYN_INTERNAL, fx->first_id);
    assert_null(envelope_rewrap(fx->kr, AAD_ROW_1, old_sealed, &changed, &err));
    expect_error(&err, AGYN_INTERNAL, "which is not in the keyring");
    free(new_sealed);
    free(old_sealed);
}

/* ---- concurrency ---- */

struct worker {
    const struct keyring *kr;
    atomic_int *stop;
    atomic_int *failures;
    int rounds;
    char failure[sizeof((struct agyn_error *)0)->message];
};

static void *seal_open_worker(void *arg) {
    struct worker *w = arg;
    char aad[128];
    char value[64];
    for (int i = 0; i < w->rounds || !atomic_load(w->stop); i++) {
        snprintf(aad, sizeof aad, "org/table/row-%d/field", i);
        int len = snprintf(value, sizeof value, "value-%d", i);
        struct agyn_error err = {0};
        char *sealed = envelope_seal(w->kr, aad, (const uint8_t *)value, (size_t)len, &err);
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        if (!sealed || envelope_open(w->kr, aad, sealed, &plain, &plain_len, &err) != 0 ||
            plain_len != (size_t)len || memcmp(plain, value, plain_len) != 0) {
            if (atomic_fetch_add(w->failures, 1) == 0)
                snprintf(w->failure, sizeof w->failure, "%s", err.message);
        }
        secure_free(plain);
        free(sealed);
        (void)keyring_active_id(w->kr);
        (void)keyring_count(w->kr);
    }
    return NULL;
}

static void test_concurrent_seal_open_during_reload(void **state) {
    struct fixture *fx = *state;
    enum { THREADS = 4, RELOADS = 12 };
    atomic_int stop = 0;
    atomic_int failures = 0;
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] =
            (struct worker){.kr = fx->kr, .stop = &stop, .failures = &failures, .rounds = 50};
        assert_int_equal(pthread_create(&threads[i], NULL, seal_open_worker, &workers[i]), 0);
    }
    struct agyn_error err = {0};
    for (int i = 0; i < RELOADS; i++) {
        assert_int_equal(keyring_add_key(fx->path, NULL, &err), 0);
        assert_int_equal(keyring_reload(fx->kr, fx->path, &err), 0);
        assert_int_equal(keyring_reload(fx->kr, fx->path, &err), 0);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        if (workers[i].failure[0])
            print_error("worker %d: %s\n", i, workers[i].failure);
    }
    assert_int_equal(atomic_load(&failures), 0);
    assert_int_equal(keyring_count(fx->kr), 1 + RELOADS);
}

struct adder {
    const char *path;
    int failures;
};

static void *add_keys_worker(void *arg) {
    struct adder *a = arg;
    for (int i = 0; i < 8; i++) {
        struct agyn_error err = {0};
        if (keyring_add_key(a->path, NULL, &err) != 0)
            a->failures++;
    }
    return NULL;
}

static void test_concurrent_adds_lose_no_key(void **state) {
    struct fixture *fx = *state;
    enum { ADDERS = 3 };
    struct adder adders[ADDERS];
    pthread_t threads[ADDERS];
    for (int i = 0; i < ADDERS; i++) {
        adders[i] = (struct adder){.path = fx->path};
        assert_int_equal(pthread_create(&threads[i], NULL, add_keys_worker, &adders[i]), 0);
    }
    for (int i = 0; i < ADDERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(adders[i].failures, 0);
    }
    struct agyn_error err = {0};
    assert_int_equal(keyring_reload(fx->kr, fx->path, &err), 0);
    assert_int_equal(keyring_count(fx->kr), 1 + ADDERS * 8);
    assert_int_equal(count_dir_entries(fx->dir), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_empty_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_one_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_one_mebibyte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_binary_with_nuls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_form_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_rejects_oversize_value, setup, teardown),
        cmocka_unit_test(test_envelope_aad_format),
        cmocka_unit_test_setup_teardown(test_aad_mismatch_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_byte_flip_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation_and_extension_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_stored_forms_are_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_canonical_base64_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_id_is_bound_to_wrapped_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_id_is_named, setup, teardown),
        cmocka_unit_test(test_secure_free_is_null_safe),
        cmocka_unit_test_setup_teardown(test_key_id_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyring_create_add_remove_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_mode_0600_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_keyring_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_reload_keeps_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure_key_reloads_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewrap_after_add_then_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_seal_open_during_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_adds_lose_no_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
