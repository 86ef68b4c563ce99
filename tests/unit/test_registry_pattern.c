/* test_registry_pattern.c — unit tests for registry patterns: what parsing accepts and how it
 * normalizes (schemes, /v1/ and /v2/ suffixes, case, Docker Hub aliases), what it rejects, the
 * matching table (globs, ports, path prefixes on '/' boundaries, Docker Hub aliases),
 * specificity ordering, and hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/image_ref.h"
#include "core/registry_pattern.h"

#define LABEL63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"

struct normalize_case {
    const char *input;
    const char *formatted;
};

static const struct normalize_case normalize_cases[] = {
    {"ghcr.io", "ghcr.io"},
    {"GHCR.IO", "ghcr.io"},
    {"https://ghcr.io/", "ghcr.io"},
    {"http://ghcr.io", "ghcr.io"},
    {"HTTPS://GHCR.IO/Acme/", "ghcr.io/acme"},
    {"https://ghcr.io/v2/", "ghcr.io"},
    {"https://ghcr.io/v2", "ghcr.io"},
    {"ghcr.io/", "ghcr.io"},
    {"https://index.docker.io/v1/", "docker.io"},
    {"https://index.docker.io/v1", "docker.io"},
    {"index.docker.io", "docker.io"},
    {"registry-1.docker.io", "docker.io"},
    {"https://registry-1.docker.io/v2/", "docker.io"},
    {"Docker.IO", "docker.io"},
    {"docker.io:443", "docker.io:443"},     /* with a port it is not an alias */
    {"docker.io/nginx", "docker.io/nginx"}, /* kept as given: no library/ */
    {"docker.io/library/nginx", "docker.io/library/nginx"},
    {"index.docker.io/acme", "docker.io/acme"},
    {"registry.local:5000/team", "registry.local:5000/team"},
    {"registry.local:5000/team/v2/", "registry.local:5000/team"},
    {"registry.local:5000/team/v1", "registry.local:5000/team"},
    {"registry.local:5000/v2", "registry.local:5000"},
    {"ghcr.io/acme/v10", "ghcr.io/acme/v10"},
    {"ghcr.io/v1x", "ghcr.io/v1x"},
    {"*.dkr.ecr.us-west-2.amazonaws.com", "*.dkr.ecr.us-west-2.amazonaws.com"},
    {"123456789012.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.*.amazonaws.com"},
    {"*.*.example.com", "*.*.example.com"},
    {"*.example.com:5000/team", "*.example.com:5000/team"},
    {"localhost", "localhost"},
    {"localhost:5000", "localhost:5000"},
    {"localhost:65535", "localhost:65535"},
    {"registry:1", "registry:1"},
    {"10.0.0.1:5000", "10.0.0.1:5000"},
    {"0.0.0.0", "0.0.0.0"},
    {"255.255.255.255", "255.255.255.255"},
    {"[::1]:5000", "[::1]:5000"},
    {"[FC00::1]", "[fc00::1]"},
    {"https://[2001:db8::1]:5000/v2/", "[2001:db8::1]:5000"},
    {"ghcr.io/acme/app", "ghcr.io/acme/app"},
    {"quay.io/my_org/sub.repo", "quay.io/my_org/sub.repo"},
    {"quay.io/My-Org", "quay.io/my-org"},
    {"xn--n3h.com", "xn--n3h.com"},
    {"a.b", "a.b"},
    {"1a.example", "1a.example"},
    {LABEL63 ".com", LABEL63 ".com"},
    {"my-registry.example.com", "my-registry.example.com"},
};

struct invalid_case {
    const char *input;
    const char *message_part;
};

static const struct invalid_case invalid_cases[] = {
    {"", "must not be empty"},
    {" ghcr.io", "whitespace or control characters"},
    {"ghcr.io ", "whitespace or control characters"},
    {"gh cr.io", "whitespace or control characters"},
    {"ghcr.io\n", "whitespace or control characters"},
    {"ghcr.io\t", "whitespace or control characters"},
    {"ghcr.io\x01", "whitespace or control characters"},
    {"ghcr.io\x7f", "whitespace or control characters"},
    {"ghcr.ío", "only ASCII"},
    {"ghcr.io/\xff", "only ASCII"},
    {"user@ghcr.io", "user information"},
    {"https://user:pass@ghcr.io", "user information"},
    {"ghcr.io/acme@sha256:abc", "user information"},
    {"ghcr.io?x=1", "query"},
    {"ghcr.io/acme?x", "query"},
    {"ghcr.io#frag", "fragment"},
    {"ftp://ghcr.io", "only the http:// and https:// schemes"},
    {"docker://ghcr.io", "only the http:// and https:// schemes"},
    {"https://https://ghcr.io", "only the http:// and https:// schemes"},
    {"https://", "host must not be empty"},
    {"/acme", "host must not be empty"},
    {":5000", "host must not be empty"},
    {"*", "last label of the host must not be '*'"},
    {"*.*", "last label of the host must not be '*'"},
    {"example.*", "last label of the host must not be '*'"},
    {"*:5000", "last label of the host must not be '*'"},
    {"a*.example.com", "'*' must be a whole label"},
    {"*a.example.com", "'*' must be a whole label"},
    {"**.example.com", "'*' must be a whole label"},
    {"ex*ample.com", "'*' must be a whole label"},
    {"-ghcr.io", "must not start or end with '-'"},
    {"ghcr-.io", "must not start or end with '-'"},
    {"gh_cr.io", "only letters, digits and '-'"},
    {"ghcr!.io", "only letters, digits and '-'"},
    {"ghcr..io", "empty label"},
    {".ghcr.io", "empty label"},
    {"ghcr.io.", "empty label"},
    {LABEL63 "x.com", "must not be more than 63 characters"},
    {"ghcr.io:0", "port must be a number from 1 to 65535"},
    {"ghcr.io:65536", "port must be a number from 1 to 65535"},
    {"ghcr.io:99999", "port must be a number from 1 to 65535"},
    {"ghcr.io:123456", "port must be a number from 1 to 65535"},
    {"ghcr.io:080", "port must be a number from 1 to 65535"},
    {"ghcr.io:", "port must be a number from 1 to 65535"},
    {"ghcr.io:abc", "port must be a number from 1 to 65535"},
    {"ghcr.io:-1", "port must be a number from 1 to 65535"},
    {"ghcr.io:5000:1", "more than one ':'"},
    {"fc00::1", "more than one ':'"},
    {"256.0.0.1", "not a valid IPv4 address"},
    {"1.2.3", "not a valid IPv4 address"},
    {"1.2.3.4.5", "not a valid IPv4 address"},
    {"01.2.3.4", "not a valid IPv4 address"},
    {"*.2.3.4", "not a valid IPv4 address"},
    {"1.2.3.*", "last label of the host must not be '*'"},
    {"example.123", "not a valid IPv4 address"},
    {"1234", "not a valid IPv4 address"},
    {"[::1", "without a closing ']'"},
    {"[::g]", "not a valid IPv6 address"},
    {"[fe80::1%eth0]", "not a valid IPv6 address"},
    {"[::ffff:1.2.3.4]", "not a valid IPv6 address"},
    {"[1.2.3.4]", "not a valid IPv6 address"},
    {"[]", "not a valid IPv6 address"},
    {"[::1]x", "not a port"},
    {"[::1]:0", "port must be a number from 1 to 65535"},
    {"ghcr.io//acme", "empty components"},
    {"ghcr.io/acme//app", "empty components"},
    {"ghcr.io/acme//", "empty components"},
    {"ghcr.io/-acme", "invalid path component"},
    {"ghcr.io/acme$", "invalid path component"},
    {"ghcr.io/acme/.app", "invalid path component"},
    {"ghcr.io/a___b", "invalid path component"},
    {"ghcr.io/*", "invalid path component"},
    {"ghcr.io/acme:tag", "invalid path component"},
};

static void expect_normalized(const char *input, const char *expected) {
    struct registry_pattern pattern;
    struct agyn_error err = {0};
    if (registry_pattern_parse(input, "registry", &pattern, &err) != 0)
        fail_msg("expected %s to parse, got: %s", input, err.message);
    char buf[600];
    registry_pattern_format(&pattern, buf, sizeof buf);
    if (strcmp(buf, expected) != 0)
        fail_msg("%s: got %s, expected %s", input, buf, expected);
    /* normalization is idempotent */
    struct registry_pattern again;
    if (registry_pattern_parse(buf, "registry", &again, &err) != 0)
        fail_msg("normalized %s does not parse: %s", buf, err.message);
    assert_memory_equal(&pattern, &again, sizeof pattern);
}

static void test_parse_normalizes(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof normalize_cases / sizeof normalize_cases[0]; i++)
        expect_normalized(normalize_cases[i].input, normalize_cases[i].formatted);
}

static int is_zeroed(const struct registry_pattern *p) {
    static const struct registry_pattern zero;
    return memcmp(p, &zero, sizeof zero) == 0;
}

static void expect_rejected(const char *input, const char *message_part) {
    struct registry_pattern pattern;
    memset(&pattern, 'x', sizeof pattern);
    struct agyn_error err = {0};
    if (registry_pattern_parse(input, "secrets[0].registry", &pattern, &err) == 0)
        fail_msg("expected %s to be rejected, got %s/%s", input, pattern.host, pattern.path);
    assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    assert_string_equal(err.field, "secrets[0].registry");
    if (!strstr(err.message, message_part))
        fail_msg("input %s: message %s lacks %s", input, err.message, message_part);
    if (strncmp(err.message, "registry \"", 10) != 0)
        fail_msg("message does not start with registry \"...\": %s", err.message);
    for (const char *p = err.message; *p; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
            fail_msg("message has a raw non-printable byte: %s", err.message);
    }
    assert_true(is_zeroed(&pattern));
}

static void test_parse_rejects(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++)
        expect_rejected(invalid_cases[i].input, invalid_cases[i].message_part);
}

static void test_parse_limits(void **state) {
    (void)state;
    char text[2048];

    /* host names: 253 characters at most (four 63-character labels and dots make 255) */
    snprintf(text, sizeof text, "%s.%s.%s.%.61s", LABEL63, LABEL63, LABEL63, LABEL63);
    assert_int_equal(strlen(text), 253);
    expect_normalized(text, text);
    snprintf(text, sizeof text, "%s.%s.%s.%.62s", LABEL63, LABEL63, LABEL63, LABEL63);
    expect_rejected(text, "host must not be more than 253 characters");

    /* paths: 255 characters at most */
    strcpy(text, "ghcr.io/");
    memset(text + 8, 'a', 255);
    text[8 + 255] = '\0';
    expect_normalized(text, text);
    strcpy(text, "ghcr.io/");
    memset(text + 8, 'a', 256);
    text[8 + 256] = '\0';
    expect_rejected(text, "path must not be more than 255 characters");

    /* the whole text: REGISTRY_PATTERN_MAX bytes */
    memset(text, 'a', REGISTRY_PATTERN_MAX + 1);
    text[REGISTRY_PATTERN_MAX + 1] = '\0';
    expect_rejected(text, "must not be more than 512 characters");

    size_t size = 8 * 1024 * 1024;
    char *huge = malloc(size + 1);
    assert_non_null(huge);
    memset(huge, 'a', size);
    huge[size] = '\0';
    struct registry_pattern pattern;
    struct agyn_error err = {0};
    assert_int_equal(registry_pattern_parse(huge, "registry", &pattern, &err), -1);
    assert_true(strlen(err.message) < 400);
    free(huge);
}

static void test_null_arguments(void **state) {
    (void)state;
    struct registry_pattern pattern;
    struct agyn_error err = {0};
    assert_int_equal(registry_pattern_parse(NULL, "registry", &pattern, &err), -1);
    assert_non_null(strstr(err.message, "must not be empty"));
    assert_int_equal(registry_pattern_parse(NULL, NULL, &pattern, &err), -1);
    assert_string_equal(err.field, "registry");
    assert_int_equal(registry_pattern_parse("ghcr.io", "registry", NULL, &err), -1);
    assert_int_equal(registry_pattern_parse("ghcr.io", "registry", &pattern, NULL), 0);
    assert_int_equal(registry_pattern_parse("", "registry", &pattern, NULL), -1);

    struct image_ref image;
    assert_int_equal(image_ref_parse("ghcr.io/acme/app", "image", &image, &err), 0);
    assert_int_equal(registry_pattern_parse("ghcr.io", "registry", &pattern, &err), 0);
    assert_false(registry_pattern_matches(NULL, &image));
    assert_false(registry_pattern_matches(&pattern, NULL));
    struct registry_pattern empty = {0};
    assert_false(registry_pattern_matches(&empty, &image));

    char buf[8] = "zzz";
    registry_pattern_format(NULL, buf, sizeof buf);
    assert_string_equal(buf, "");
    registry_pattern_format(&pattern, NULL, 8);
    registry_pattern_format(&pattern, buf, 4);
    assert_string_equal(buf, "ghc");
}

struct match_case {
    const char *pattern;
    const char *image;
    int expected;
};

static const struct match_case match_cases[] = {
    /* exact hosts, case-insensitive */
    {"ghcr.io", "ghcr.io/acme/app", 1},
    {"GHCR.io", "GHCR.IO/acme/app", 1},
    {"ghcr.io", "docker.io/library/nginx", 0},
    {"ghcr.io", "evilghcr.io/x", 0},
    {"example.com", "example.com.evil.com/x", 0},
    {"evil.com", "example.com.evil.com/x", 0},
    /* ports: none matches none only */
    {"ghcr.io", "ghcr.io:443/acme/app", 0},
    {"ghcr.io:443", "ghcr.io/acme", 0},
    {"ghcr.io:443", "ghcr.io:443/acme", 1},
    {"localhost:5000", "localhost:5000/foo", 1},
    {"localhost:5000", "localhost:5001/foo", 0},
    {"localhost", "localhost/foo", 1},
    {"localhost", "localhost:5000/foo", 0},
    {"10.0.0.1:5000", "10.0.0.1:5000/x", 1},
    {"10.0.0.1", "10.0.0.2/x", 0},
    {"[::1]:5000", "[::1]:5000/repo", 1},
    {"[::1]:5000", "[::1]/repo", 0},
    {"[::1]", "[::1]/repo", 1},
    {"[FC00::1]:5000", "[fc00::1]:5000/x", 1},
    {"[::1]", "[::2]/repo", 0},
    /* globs: one whole label */
    {"*.example.com", "a.example.com/x", 1},
    {"*.example.com", "A.EXAMPLE.COM/x", 1},
    {"*.example.com", "example.com/x", 0},
    {"*.example.com", "a.b.example.com/x", 0},
    {"*.example.com", "a.example.org/x", 0},
    {"*.example.com", "a.example.com:5000/x", 0},
    {"*.example.com:5000", "a.example.com:5000/x", 1},
    {"*.example.com:5000", "a.example.com:5001/x", 0},
    {"*.*.example.com", "a.b.example.com/x", 1},
    {"*.*.example.com", "a.example.com/x", 0},
    {"*.dkr.ecr.us-west-2.amazonaws.com", "123456789012.dkr.ecr.us-west-2.amazonaws.com/app", 1},
    {"*.dkr.ecr.us-west-2.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app", 0},
    {"123456789012.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com/a", 1},
    {"123456789012.dkr.ecr.*.amazonaws.com", "999999999999.dkr.ecr.us-east-1.amazonaws.com/a", 0},
    {"*.docker.io", "nginx", 0},
    {"*.io", "ghcr.io/acme", 1},
    {"*.example.com", "[::1]/x", 0},
    {"*.example.com", "localhost/x", 0},
    /* path prefixes on '/' boundaries */
    {"ghcr.io/acme", "ghcr.io/acme", 1},
    {"ghcr.io/acme", "ghcr.io/acme/app", 1},
    {"ghcr.io/acme", "ghcr.io/acme/team/app:v1", 1},
    {"ghcr.io/acme", "ghcr.io/acmeco/app", 0},
    {"ghcr.io/acme", "ghcr.io/acme-co/app", 0},
    {"ghcr.io/acme", "ghcr.io/ac", 0},
    {"ghcr.io/acme/app", "ghcr.io/acme", 0},
    {"ghcr.io/acme/app", "ghcr.io/acme/app/sub", 1},
    {"ghcr.io/acme/app", "ghcr.io/acme/application", 0},
    {"GHCR.IO/ACME", "ghcr.io/acme/app", 1},
    {"*.example.com/team", "a.example.com/team/app", 1},
    {"*.example.com/team", "a.example.com/other/app", 0},
    /* Docker Hub aliases */
    {"docker.io", "nginx", 1},
    {"docker.io", "nginx@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     1},
    {"index.docker.io", "nginx", 1},
    {"https://index.docker.io/v1/", "library/nginx", 1},
    {"registry-1.docker.io", "docker.io/acme/app", 1},
    {"docker.io", "index.docker.io/acme/app", 1},
    {"docker.io", "registry-1.docker.io/acme/app", 1},
    {"docker.io", "ghcr.io/acme/app", 0},
    {"docker.io:443", "nginx", 0},
    {"docker.io/library", "nginx", 1},
    {"docker.io/library/nginx", "nginx:1.25", 1},
    {"docker.io/library/nginx", "nginx-extra", 0},
    {"docker.io/nginx", "nginx", 0}, /* "nginx" is library/nginx; the pattern is user nginx */
    {"docker.io/nginx", "nginx/nginx-ingress", 1},
    {"docker.io/acme", "acme/app", 1},
};

static void test_matching_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
        const struct match_case *c = &match_cases[i];
        struct registry_pattern pattern;
        struct image_ref image;
        struct agyn_error err = {0};
        if (registry_pattern_parse(c->pattern, "registry", &pattern, &err) != 0)
            fail_msg("pattern %s: %s", c->pattern, err.message);
        if (image_ref_parse(c->image, "image", &image, &err) != 0)
            fail_msg("image %s: %s", c->image, err.message);
        int got = registry_pattern_matches(&pattern, &image);
        if (got != c->expected)
            fail_msg("pattern %s vs image %s: got %d, expected %d", c->pattern, c->image, got,
                     c->expected);
    }
}

/* image_ref structs built by hand (not by image_ref_parse) still get the Docker Hub aliases. */
static void test_matching_unnormalized_image(void **state) {
    (void)state;
    struct registry_pattern pattern;
    struct agyn_error err = {0};
    assert_int_equal(registry_pattern_parse("docker.io", "registry", &pattern, &err), 0);
    struct image_ref image = {.registry = "index.docker.io", .repository = "library/nginx"};
    assert_true(registry_pattern_matches(&pattern, &image));
    struct image_ref upper = {.registry = "Registry-1.Docker.IO", .repository = "acme/app"};
    assert_true(registry_pattern_matches(&pattern, &upper));
    struct image_ref empty = {0};
    assert_false(registry_pattern_matches(&pattern, &empty));
}

static void insertion_sort(struct registry_pattern *items, size_t count) {
    for (size_t i = 1; i < count; i++) {
        struct registry_pattern current = items[i];
        size_t j = i;
        while (j > 0 && registry_pattern_compare_specificity(&items[j - 1], &current) > 0) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = current;
    }
}

static void test_specificity_ordering(void **state) {
    (void)state;
    static const char *const attached[] = {
        "*.example.com",          "a.example.com",   "a.example.com/team", "*.example.com/team/app",
        "a.example.com/team/app", "*.*.example.com", "b.example.com",
    };
    static const char *const expected[] = {
        "a.example.com/team/app", "a.example.com/team", "a.example.com",   "b.example.com",
        "*.example.com/team/app", "*.example.com",      "*.*.example.com",
    };
    enum { COUNT = sizeof attached / sizeof attached[0] };
    struct registry_pattern patterns[COUNT];
    struct agyn_error err = {0};
    for (size_t i = 0; i < COUNT; i++)
        assert_int_equal(registry_pattern_parse(attached[i], "registry", &patterns[i], &err), 0);

    for (size_t i = 0; i < COUNT; i++) {
        assert_int_equal(registry_pattern_compare_specificity(&patterns[i], &patterns[i]), 0);
        for (size_t j = 0; j < COUNT; j++) {
            int ab = registry_pattern_compare_specificity(&patterns[i], &patterns[j]);
            int ba = registry_pattern_compare_specificity(&patterns[j], &patterns[i]);
            assert_true((ab < 0 && ba > 0) || (ab > 0 && ba < 0) || (ab == 0 && ba == 0));
        }
    }

    insertion_sort(patterns, COUNT);
    for (size_t i = 0; i < COUNT; i++) {
        char buf[600];
        registry_pattern_format(&patterns[i], buf, sizeof buf);
        if (strcmp(buf, expected[i]) != 0)
            fail_msg("position %zu: got %s, expected %s", i, buf, expected[i]);
    }

    /* equal specificity: 0, so a stable sort keeps attachment order */
    struct registry_pattern a, b;
    assert_int_equal(registry_pattern_parse("ghcr.io/acme", "registry", &a, &err), 0);
    assert_int_equal(registry_pattern_parse("quay.io/other", "registry", &b, &err), 0);
    assert_int_equal(registry_pattern_compare_specificity(&a, &b), 0);
    /* more path segments beat fewer, whatever the path length in characters */
    assert_int_equal(registry_pattern_parse("ghcr.io/a/b", "registry", &a, &err), 0);
    assert_int_equal(registry_pattern_parse("ghcr.io/averyveryverylongname", "registry", &b, &err),
                     0);
    assert_true(registry_pattern_compare_specificity(&a, &b) < 0);
    /* fewer wildcards beat a longer path */
    assert_int_equal(registry_pattern_parse("ghcr.io", "registry", &a, &err), 0);
    assert_int_equal(registry_pattern_parse("*.ghcr.io/a/b/c", "registry", &b, &err), 0);
    assert_true(registry_pattern_compare_specificity(&a, &b) < 0);
}

/* Image references and registry patterns share one host grammar (core/registry_host.h): every
 * host is accepted by both or by neither. The first entries were accepted as image hosts but
 * refused as registries before the grammar was shared. */
static void test_hosts_agree_with_image_references(void **state) {
    (void)state;
    static const char *const hosts[] = {"1.2.3",
                                        "1.2.3:5000",
                                        "example.123",
                                        "1234:5000",
                                        "256.0.0.1",
                                        "01.2.3.4",
                                        LABEL63 "x.example.com",
                                        "ghcr.io",
                                        "GHCR.IO",
                                        "localhost",
                                        "localhost:5000",
                                        "127.0.0.1",
                                        "127.0.0.1:5000",
                                        "[::1]",
                                        "[::1]:5000",
                                        "[2001:DB8::1]:443",
                                        "registry-1.docker.io",
                                        "a.b.c.d.e",
                                        "x-1.example.com",
                                        "ghcr.io:65535",
                                        "ghcr.io:0",
                                        "ghcr.io:080",
                                        "ghcr.io:1:2",
                                        "[::1]x",
                                        "[fe80::1%eth0]",
                                        "-ghcr.io",
                                        "ghcr-.io",
                                        "gh_cr.io",
                                        "ghcr..io",
                                        ".ghcr.io"};
    char long_name[300];
    snprintf(long_name, sizeof long_name, "%s.%s.%s.%.62s", LABEL63, LABEL63, LABEL63, LABEL63);
    for (size_t i = 0; i <= sizeof hosts / sizeof hosts[0]; i++) {
        const char *host = i < sizeof hosts / sizeof hosts[0] ? hosts[i] : long_name;
        struct registry_pattern pattern;
        struct image_ref image;
        struct agyn_error pattern_err = {0}, image_err = {0};
        char image_text[400];
        snprintf(image_text, sizeof image_text, "%s/team/app:v1", host);
        int as_pattern = registry_pattern_parse(host, "registry", &pattern, &pattern_err);
        int as_image = image_ref_parse(image_text, "image", &image, &image_err);
        if (as_pattern != as_image)
            fail_msg("host %s: registry %s (%s), image %s (%s)", host,
                     as_pattern == 0 ? "accepted" : "refused", pattern_err.message,
                     as_image == 0 ? "accepted" : "refused", image_err.message);
        if (as_pattern == 0 && !registry_pattern_matches(&pattern, &image))
            fail_msg("host %s: the registry does not match its own image", host);
    }
}

static void test_every_byte_everywhere(void **state) {
    (void)state;
    const char *base = "https://a.example.com:5000/team/app/";
    size_t base_len = strlen(base);
    char text[128];
    for (size_t pos = 0; pos <= base_len; pos++) {
        for (int byte = 1; byte < 256; byte++) {
            memcpy(text, base, pos);
            text[pos] = (char)byte;
            memcpy(text + pos + 1, base + pos, base_len - pos + 1);
            struct registry_pattern pattern;
            struct agyn_error err = {0};
            int rc = registry_pattern_parse(text, "registry", &pattern, &err);
            if (byte <= 0x20 || byte >= 0x7F || byte == '@' || byte == '?' || byte == '#')
                assert_int_equal(rc, -1);
            if (rc != 0)
                assert_int_equal(err.code, AGYN_UNPROCESSABLE);
        }
    }
}

/* Random patterns and images: parsing never crashes, normalization is idempotent, and a
 * pattern made from an image's own registry and repository always matches that image. */
static void test_random_inputs(void **state) {
    (void)state;
    static const char alphabet[] = "abz09.-_:/*[]@?#AZ";
    uint64_t seed = 0x243F6A8885A308D3ull;
    size_t accepted = 0;
    for (int round = 0; round < 200000; round++) {
        char text[64];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = (size_t)(seed >> 58);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned pick = (unsigned)(seed >> 33);
            text[i] =
                (pick % 60 == 0) ? (char)((pick >> 8) | 1) : alphabet[pick % (sizeof alphabet - 1)];
        }
        text[len] = '\0';
        struct registry_pattern pattern, again;
        struct agyn_error err = {0};
        if (registry_pattern_parse(text, "registry", &pattern, &err) != 0) {
            assert_int_equal(err.code, AGYN_UNPROCESSABLE);
            continue;
        }
        accepted++;
        char buf[600];
        registry_pattern_format(&pattern, buf, sizeof buf);
        if (registry_pattern_parse(buf, "registry", &again, &err) != 0 ||
            memcmp(&pattern, &again, sizeof pattern) != 0)
            fail_msg("%s -> %s is not stable", text, buf);
    }
    assert_true(accepted > 100);

    static const char *const images[] = {
        "nginx", "ghcr.io/acme/app:v1", "localhost:5000/a/b",
        "[::1]:5000/x@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "a.b.c.example.com/team/app"};
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++) {
        struct image_ref image;
        struct registry_pattern pattern;
        struct agyn_error err = {0};
        char text[600];
        assert_int_equal(image_ref_parse(images[i], "image", &image, &err), 0);
        snprintf(text, sizeof text, "%s/%s", image.registry, image.repository);
        assert_int_equal(registry_pattern_parse(text, "registry", &pattern, &err), 0);
        assert_true(registry_pattern_matches(&pattern, &image));
        assert_int_equal(registry_pattern_parse(image.registry, "registry", &pattern, &err), 0);
        assert_true(registry_pattern_matches(&pattern, &image));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_normalizes),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_matching_table),
        cmocka_unit_test(test_matching_unnormalized_image),
        cmocka_unit_test(test_specificity_ordering),
        cmocka_unit_test(test_hosts_agree_with_image_references),
        cmocka_unit_test(test_every_byte_everywhere),
        cmocka_unit_test(test_random_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
