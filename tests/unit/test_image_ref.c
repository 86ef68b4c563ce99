/* test_image_ref.c — unit tests for image reference parsing: the valid and invalid cases of
 * distribution/reference (normalize_test.go, reference_test.go), Docker Hub normalization,
 * ports, IPv6, digests, length limits, the stricter choices documented in image_ref.h, and
 * hostile input (control bytes, non-ASCII, very long text, a random-input round trip). */
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

#define HEX64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define DIGEST64 "sha256:" HEX64
#define BUSYBOX_DIGEST "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
#define HEX_ID "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"

struct valid_case {
    const char *input;
    const char *registry;
    const char *repository;
    const char *tag;
    const char *digest;
};

static const struct valid_case valid_cases[] = {
    /* Docker Hub normalization (normalize_test.go) */
    {"nginx", "docker.io", "library/nginx", "latest", ""},
    {"nginx:1.25", "docker.io", "library/nginx", "1.25", ""},
    {"nginx@" DIGEST64, "docker.io", "library/nginx", "", DIGEST64},
    {"nginx:1.25@" DIGEST64, "docker.io", "library/nginx", "1.25", DIGEST64},
    {"busybox:latest@" BUSYBOX_DIGEST, "docker.io", "library/busybox", "latest", BUSYBOX_DIGEST},
    {"docker/docker", "docker.io", "docker/docker", "latest", ""},
    {"library/debian", "docker.io", "library/debian", "latest", ""},
    {"debian", "docker.io", "library/debian", "latest", ""},
    {"docker.io/docker/docker", "docker.io", "docker/docker", "latest", ""},
    {"docker.io/library/debian", "docker.io", "library/debian", "latest", ""},
    {"docker.io/debian", "docker.io", "library/debian", "latest", ""},
    {"index.docker.io/docker/docker", "docker.io", "docker/docker", "latest", ""},
    {"index.docker.io/library/debian", "docker.io", "library/debian", "latest", ""},
    {"index.docker.io/debian", "docker.io", "library/debian", "latest", ""},
    {"registry-1.docker.io/debian", "docker.io", "library/debian", "latest", ""},
    {"registry-1.docker.io/acme/app:v1", "docker.io", "acme/app", "v1", ""},
    {"Docker.IO/debian", "docker.io", "library/debian", "latest", ""},
    {"INDEX.docker.io/acme/app", "docker.io", "acme/app", "latest", ""},
    {"fooo/bar", "docker.io", "fooo/bar", "latest", ""},
    {"nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", "latest", ""},
    {"other/library", "docker.io", "other/library", "latest", ""},
    {"library/foo/bar", "docker.io", "library/foo/bar", "latest", ""},
    {"store/foo/bar", "docker.io", "store/foo/bar", "latest", ""},
    {"ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "latest", ""},
    {"test_com/foo", "docker.io", "test_com/foo", "latest", ""},
    {"docker/migrator", "docker.io", "docker/migrator", "latest", ""},
    {"docker.io/" HEX_ID, "docker.io", "library/" HEX_ID, "latest", ""},
    {"dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "docker.io",
     "library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "latest", ""},
    {"dbcc1", "docker.io", "library/dbcc1", "latest", ""},
    {"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io",
     "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "latest", ""},
    /* remote-name grammar (TestValidateRemoteName) */
    {"docker-rules/docker", "docker.io", "docker-rules/docker", "latest", ""},
    {"docker---rules/docker", "docker.io", "docker---rules/docker", "latest", ""},
    {"doc/docker", "docker.io", "doc/docker", "latest", ""},
    {"d/docker", "docker.io", "d/docker", "latest", ""},
    {"jess/t", "docker.io", "jess/t", "latest", ""},
    {"dock__er/docker", "docker.io", "dock__er/docker", "latest", ""},
    {"acme/a.b-c__d/e_f", "docker.io", "acme/a.b-c__d/e_f", "latest", ""},
    /* registries, ports, IPv4 */
    {"127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", "latest", ""},
    {"127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", "latest", ""},
    {"127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", "latest", ""},
    {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", "latest", ""},
    {"192.168.0.1", "docker.io", "library/192.168.0.1", "latest", ""},
    {"192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", ""},
    {"192.168.0.1:8/debian", "192.168.0.1:8", "debian", "latest", ""},
    {"192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", "latest", ""},
    {"192.168.1.1/repo", "192.168.1.1", "repo", "latest", ""},
    {"192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", ""},
    {"example.com/private/moonbase", "example.com", "private/moonbase", "latest", ""},
    {"example.com:8000/privatebasee", "example.com:8000", "privatebasee", "latest", ""},
    {"Example.COM:8000/private", "example.com:8000", "private", "latest", ""},
    {"test.com/foo", "test.com", "foo", "latest", ""},
    {"test.com:8080/foo", "test.com:8080", "foo", "latest", ""},
    {"test-com:8080/foo", "test-com:8080", "foo", "latest", ""},
    {"test:5000/repo", "test:5000", "repo", "latest", ""},
    {"test:5000/repo:tag", "test:5000", "repo", "tag", ""},
    {"test:5000/repo@" DIGEST64, "test:5000", "repo", "", DIGEST64},
    {"test:5000/repo:tag@" DIGEST64, "test:5000", "repo", "tag", DIGEST64},
    {"test.com/repo:tag", "test.com", "repo", "tag", ""},
    {"xn--n3h.com/foo", "xn--n3h.com", "foo", "latest", ""},
    {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "latest", ""},
    {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", ""},
    {"sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "latest", ""},
    {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
     "some-long-tag", ""},
    {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
     "test.example.com", ""},
    {"ghcr.io/acme/app:v1.2.3", "ghcr.io", "acme/app", "v1.2.3", ""},
    {"123456789012.dkr.ecr.us-west-2.amazonaws.com/app:1",
     "123456789012.dkr.ecr.us-west-2.amazonaws.com", "app", "1", ""},
    {"localhost:65535/x", "localhost:65535", "x", "latest", ""},
    {"host:1/x", "host:1", "x", "latest", ""},
    /* localhost */
    {"localhost/foo", "localhost", "foo", "latest", ""},
    {"localhost:5000/foo/bar:v1", "localhost:5000", "foo/bar", "v1", ""},
    {"LOCALHOST/foo", "localhost", "foo", "latest", ""},
    {"localhost", "docker.io", "library/localhost", "latest", ""},
    {"localhost:5000", "docker.io", "library/localhost", "5000", ""},
    /* names that look like hosts but have no '/': Docker Hub names with a tag */
    {"test_com", "docker.io", "library/test_com", "latest", ""},
    {"test.com:tag", "docker.io", "library/test.com", "tag", ""},
    {"test.com:5000", "docker.io", "library/test.com", "5000", ""},
    {"foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", ""},
    {"foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", ""},
    {"192.168.1.1:tag", "docker.io", "library/192.168.1.1", "tag", ""},
    {"docker.io", "docker.io", "library/docker.io", "latest", ""},
    /* IPv6 */
    {"[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "latest", ""},
    {"[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", "latest", ""},
    {"[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian",
     "latest", ""},
    {"[2001:db8::1]/repo", "[2001:db8::1]", "repo", "latest", ""},
    {"[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", ""},
    {"[2001:db8::1]:5000/repo@" DIGEST64, "[2001:db8::1]:5000", "repo", "", DIGEST64},
    {"[2001:db8::1]:5000/repo:tag@" DIGEST64, "[2001:db8::1]:5000", "repo", "tag", DIGEST64},
    {"[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "latest", ""},
    {"[::1]:5000/repo", "[::1]:5000", "repo", "latest", ""},
    {"[::1]/repo", "[::1]", "repo", "latest", ""},
    {"[FC00::ABCD]:5000/x", "[fc00::abcd]:5000", "x", "latest", ""},
    /* tags */
    {"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", ""},
    {"foo:_x", "docker.io", "library/foo", "_x", ""},
    {"foo:TAG_1.0-rc.1", "docker.io", "library/foo", "TAG_1.0-rc.1", ""},
    {"foo:1", "docker.io", "library/foo", "1", ""},
    {"foo:a..b--c", "docker.io", "library/foo", "a..b--c", ""},
    /* digests: 64-hex identifier with a tag is a name, as in Docker */
    {HEX_ID ":latest", "docker.io", "library/" HEX_ID, "latest", ""},
    {"xn--7o8h.com/myimage:xn--7o8h.com@" BUSYBOX_DIGEST, "xn--7o8h.com", "myimage", "xn--7o8h.com",
     BUSYBOX_DIGEST},
};

struct invalid_case {
    const char *input;
    const char *message_part;
};

static const struct invalid_case invalid_cases[] = {
    {"", "must not be empty"},
    {"https://github.com/docker/docker", "scheme"},
    {"http://ghcr.io/acme/app", "scheme"},
    {"ftp://x/y", "scheme"},
    {"docker://nginx", "scheme"},
    /* upper case */
    {"Foo/bar", "repository name must be lowercase"},
    {"Docker/docker", "repository name must be lowercase"},
    {"DOCKER/docker", "repository name must be lowercase"},
    {"Uppercase:tag", "repository name must be lowercase"},
    {"Nginx", "repository name must be lowercase"},
    {"docker/Docker", "repository name must be lowercase"},
    {"docker.io/docker/Docker", "repository name must be lowercase"},
    {"test:5000/Uppercase/lowercase:tag", "repository name must be lowercase"},
    {"ghcr.io/Acme/app", "repository name must be lowercase"},
    /* path components */
    {"-docker", "invalid repository path component"},
    {"-foo", "invalid repository path component"},
    {"-docker/docker", "invalid repository path component"},
    {"docker-/docker", "invalid repository path component"},
    {"-docker-/docker", "invalid repository path component"},
    {"____/____", "invalid repository path component"},
    {"_docker/_docker", "invalid repository path component"},
    /* with a '.' the first component is a registry host (and these are not valid ones) */
    {"dock..er/docker", "not a valid host name"},
    {"dock_.er/docker", "not a valid host name"},
    {"dock-.er/docker", "not a valid host name"},
    {"acme/dock..er/docker", "invalid repository path component"},
    {"acme/dock_.er/docker", "invalid repository path component"},
    {"acme/dock-.er/docker", "invalid repository path component"},
    {"dock___er/docker", "invalid repository path component"},
    {"aa/asdf$$^/aa", "invalid repository path component"},
    {"foo/bar.", "invalid repository path component"},
    {"foo/.bar", "invalid repository path component"},
    {"nginx:1.0:2.0", "invalid repository path component"},
    {"docker///docker", "empty path components"},
    {"docker.io/docker///docker", "empty path components"},
    {"docker/", "empty path components"},
    {"/foo", "empty path components"},
    {"foo//bar", "empty path components"},
    {"docker.io/", "repository name must not be empty"},
    {"ghcr.io/:tag", "repository name must not be empty"},
    {":justtag", "repository name must not be empty"},
    {"@" DIGEST64, "repository name must not be empty"},
    {":tag@" DIGEST64, "repository name must not be empty"},
    /* registries */
    {"-docker.io/docker/docker", "not a valid host name"},
    {"docker-.io/x", "not a valid host name"},
    {"exa_mple.com/foo", "not a valid host name"},
    {"example..com/foo", "not a valid host name"},
    {"example.com./foo", "not a valid host name"},
    {".example.com/foo", "not a valid host name"},
    {"[fc00::1]", "invalid"},
    {"[fc00::1]:5000", "invalid"},
    {"[2001:db8::1]:tag", "invalid"},
    {"fc00::1:5000/debian", "invalid port"},
    {"[fe80::1%eth0]:5000/debian", "not a valid IPv6 address"},
    {"[fe80::1%@invalidzone]:5000/repo", "invalid"},
    {"[2001:db8:3:4::192.0.2.33]:5000/debian", "not a valid IPv6 address"},
    {"[::g]/x", "not a valid IPv6 address"},
    {"[1:2:3:4:5:6:7:8:9]/x", "not a valid IPv6 address"},
    {"[]/x", "invalid repository path component"}, /* no '.' or ':': not a registry */
    {"[::1/foo", "without a closing ']'"},
    {"[::1]x/foo", "not a port"},
    {"localhost:0/foo", "invalid port"},
    {"localhost:65536/foo", "invalid port"},
    {"localhost:99999/foo", "invalid port"},
    {"localhost:05000/foo", "invalid port"},
    {"localhost:/foo", "invalid port"},
    {"host:abc/foo", "invalid port"},
    {"host:1:2/foo", "invalid port"},
    /* the host grammar registry patterns use (core/registry_host.h) */
    {"1.2.3/app", "not a valid IPv4 address"},
    {"1.2.3:5000/app", "not a valid IPv4 address"},
    {"example.123/app", "not a valid IPv4 address"},
    {"256.0.0.1/app", "not a valid IPv4 address"},
    {"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl.example.com/app",
     "must not be more than 63 characters"},
    /* identifiers */
    {HEX_ID, "hexadecimal identifier"},
    /* tags */
    {"nginx:", "tag must not be empty"},
    {"nginx:@" DIGEST64, "tag must not be empty"},
    {"nginx:-tag", "invalid tag"},
    {"nginx:.tag", "invalid tag"},
    {"nginx:ta+g", "invalid tag"},
    {"nginx:ta/g", "invalid"},
    /* digests */
    {"nginx@", "digest must not be empty"},
    {"repo@sha256:ffffffffffffffffffffffffffffffffff", "needs exactly 64 hex characters"},
    {"repo@sha256:" HEX64 "f", "needs exactly 64 hex characters"},
    {"validname@invaliddigest:" HEX64, "unsupported digest algorithm"},
    {"repo@md5:" HEX64, "unsupported digest algorithm"},
    {"repo@sha256:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
     "hex must be lowercase"},
    {"repo@sha512:" HEX64 HEX64, "sha512 digests are not supported"},
    {"repo@sha384:" HEX64 "ffffffffffffffffffffffffffffffff", "sha384 digests are not supported"},
    {"repo@sha512:" HEX64, "needs exactly 128 hex characters"},
    {"repo@sha256", "invalid digest"},
    {"repo@:" HEX64, "invalid digest"},
    {"repo@sha256:fffffffffffffffffffffffffffffff", "invalid digest"},
    {"repo@1sha:" HEX64, "invalid digest"},
    {"repo@sha-:" HEX64, "invalid digest"},
    {"repo@sha--256:" HEX64, "invalid digest"},
    {"repo@sha256:gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",
     "invalid digest"},
    {"repo@sha256:" HEX64 "@", "invalid digest"},
    {"a@b@c", "invalid digest"},
    {"repo@sha256:" HEX64 ":x", "invalid digest"},
    /* whitespace, control bytes, non-ASCII */
    {" nginx", "whitespace or control characters"},
    {"nginx ", "whitespace or control characters"},
    {"ngi nx", "whitespace or control characters"},
    {"ngi\tnx", "whitespace or control characters"},
    {"nginx\n", "whitespace or control characters"},
    {"nginx\r", "whitespace or control characters"},
    {"nginx:1\x01", "whitespace or control characters"},
    {"ng\x7finx", "whitespace or control characters"},
    {"ngínx", "only ASCII"},
    {"nginx:\xff\xfe", "only ASCII"},
    {"\xc0\xaf", "only ASCII"},
    {"ghcr.io/acme/app:v1\xe2\x80\xae", "only ASCII"},
};

static void expect_valid(const struct valid_case *c) {
    struct image_ref ref;
    struct agyn_error err = {0};
    if (image_ref_parse(c->input, "spec.image", &ref, &err) != 0)
        fail_msg("expected %s to parse, got: %s", c->input, err.message);
    if (strcmp(ref.registry, c->registry) != 0 || strcmp(ref.repository, c->repository) != 0 ||
        strcmp(ref.tag, c->tag) != 0 || strcmp(ref.digest, c->digest) != 0)
        fail_msg("%s: got registry=%s repository=%s tag=%s digest=%s", c->input, ref.registry,
                 ref.repository, ref.tag, ref.digest);
    assert_int_equal(err.code, AGYN_OK);
}

static void test_valid_references(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++)
        expect_valid(&valid_cases[i]);
}

static int is_zeroed(const struct image_ref *ref) {
    static const struct image_ref zero;
    return memcmp(ref, &zero, sizeof zero) == 0;
}

static void expect_invalid(const char *input, const char *message_part) {
    struct image_ref ref;
    memset(&ref, 'x', sizeof ref);
    struct agyn_error err = {0};
    if (image_ref_parse(input, "spec.image", &ref, &err) == 0)
        fail_msg("expected %s to be rejected, got %s/%s:%s@%s", input, ref.registry, ref.repository,
                 ref.tag, ref.digest);
    assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    assert_string_equal(err.field, "spec.image");
    if (!strstr(err.message, message_part))
        fail_msg("input %s: message %s lacks %s", input, err.message, message_part);
    if (strncmp(err.message, "image \"", 7) != 0)
        fail_msg("message does not start with image \"...\": %s", err.message);
    for (const char *p = err.message; *p; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
            fail_msg("message has a raw non-printable byte: %s", err.message);
    }
    assert_true(is_zeroed(&ref));
}

static void test_invalid_references(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++)
        expect_invalid(invalid_cases[i].input, invalid_cases[i].message_part);
}

static void test_error_message_is_exact(void **state) {
    (void)state;
    struct image_ref ref;
    struct agyn_error err = {0};
    assert_int_equal(image_ref_parse("Foo/bar", "image", &ref, &err), -1);
    assert_string_equal(err.message, "image \"Foo/bar\": repository name must be lowercase");
    assert_string_equal(err.field, "image");

    assert_int_equal(image_ref_parse("nginx\x01", NULL, &ref, &err), -1);
    assert_string_equal(err.field, "image");
    assert_string_equal(err.message,
                        "image \"nginx\\x01\": must not contain whitespace or control characters");

    assert_int_equal(image_ref_parse("a\"b", "x", &ref, &err), -1);
    assert_non_null(strstr(err.message, "image \"a\\\"b\""));
}

static void repeat(char *out, const char *piece, size_t times) {
    out[0] = '\0';
    for (size_t i = 0; i < times; i++)
        strcat(out, piece);
}

static void test_length_limits(void **state) {
    (void)state;
    char text[2048];
    struct image_ref ref;
    struct agyn_error err = {0};

    /* distribution: 127 "a/" then "a" is a 255-character path; 128 is too long. */
    repeat(text, "a/", 127);
    strcat(text, "a:tag-puts-this-over-max");
    assert_int_equal(image_ref_parse(text, "image", &ref, &err), 0);
    assert_int_equal(strlen(ref.repository), 255);
    assert_string_equal(ref.tag, "tag-puts-this-over-max");

    repeat(text, "a/", 128);
    strcat(text, "a:tag");
    expect_invalid(text, "must not be more than 255 characters");

    /* "library/" counts: a 247-character Docker Hub name fits, 248 does not. */
    memset(text, 'a', 247);
    text[247] = '\0';
    assert_int_equal(image_ref_parse(text, "image", &ref, &err), 0);
    assert_int_equal(strlen(ref.repository), 255);
    memset(text, 'a', 248);
    text[248] = '\0';
    expect_invalid(text, "must not be more than 255 characters");

    /* the long namespace of normalize_test.go */
    expect_invalid("this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_"
                   "not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_"
                   "valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_"
                   "namespace_because_its_lenth_is_greater_than_255/docker",
                   "must not be more than 255 characters");

    /* tags: 128 characters fit, 129 do not */
    strcpy(text, "foo:");
    memset(text + 4, 'T', 128);
    text[4 + 128] = '\0';
    assert_int_equal(image_ref_parse(text, "image", &ref, &err), 0);
    assert_int_equal(strlen(ref.tag), 128);
    strcpy(text, "foo:");
    memset(text + 4, 'T', 129);
    text[4 + 129] = '\0';
    expect_invalid(text, "tag must not be more than 128 characters");

    /* a registry host longer than 255 characters */
    memset(text, 'h', 300);
    memcpy(text + 300, ".io/x", 6);
    expect_invalid(text, "registry host must not be more than 255 characters");

    /* the whole text: 512 bytes at most */
    memset(text, 'a', IMAGE_REF_MAX + 1);
    text[IMAGE_REF_MAX + 1] = '\0';
    expect_invalid(text, "must not be more than 512 characters");
    text[IMAGE_REF_MAX] = '\0';
    expect_invalid(text, "must not be more than 255 characters");
}

static void test_huge_input(void **state) {
    (void)state;
    size_t size = 4 * 1024 * 1024;
    char *text = malloc(size + 1);
    assert_non_null(text);
    memset(text, 'a', size);
    text[size] = '\0';
    struct image_ref ref;
    struct agyn_error err = {0};
    assert_int_equal(image_ref_parse(text, "image", &ref, &err), -1);
    assert_non_null(strstr(err.message, "must not be more than 512"));
    assert_true(strlen(err.message) < 400); /* the input is quoted in part only */
    assert_non_null(strstr(err.message, "\"...: must not be more than 512"));
    free(text);
}

static void test_null_arguments(void **state) {
    (void)state;
    struct image_ref ref;
    struct agyn_error err = {0};
    assert_int_equal(image_ref_parse(NULL, "image", &ref, &err), -1);
    assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    assert_non_null(strstr(err.message, "must not be empty"));
    assert_int_equal(image_ref_parse("nginx", "image", NULL, &err), -1);
    assert_int_equal(image_ref_parse("nginx", "image", &ref, NULL), 0);
    assert_int_equal(image_ref_parse("Nginx", "image", &ref, NULL), -1);

    char buf[8] = "zzz";
    image_ref_format(NULL, buf, sizeof buf);
    assert_string_equal(buf, "");
    image_ref_format(&ref, NULL, 10);
    assert_string_equal(image_ref_api_host(NULL), "");
}

static void test_format(void **state) {
    (void)state;
    static const char *const cases[][2] = {
        {"nginx", "docker.io/library/nginx:latest"},
        {"nginx@" DIGEST64, "docker.io/library/nginx@" DIGEST64},
        {"INDEX.DOCKER.IO/acme/app:v1@" DIGEST64, "docker.io/acme/app:v1@" DIGEST64},
        {"[::1]:5000/repo", "[::1]:5000/repo:latest"},
        {"Localhost:5000/a/b:C", "localhost:5000/a/b:C"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct image_ref ref, again;
        struct agyn_error err = {0};
        char buf[1024];
        assert_int_equal(image_ref_parse(cases[i][0], "image", &ref, &err), 0);
        image_ref_format(&ref, buf, sizeof buf);
        assert_string_equal(buf, cases[i][1]);
        assert_int_equal(image_ref_parse(buf, "image", &again, &err), 0);
        assert_memory_equal(&ref, &again, sizeof ref);
    }

    /* a small buffer truncates safely */
    struct image_ref ref;
    struct agyn_error err = {0};
    assert_int_equal(image_ref_parse("ghcr.io/acme/app:v1", "image", &ref, &err), 0);
    char small[8];
    image_ref_format(&ref, small, sizeof small);
    assert_string_equal(small, "ghcr.io");
    image_ref_format(&ref, small, 1);
    assert_string_equal(small, "");
}

static void test_api_host(void **state) {
    (void)state;
    struct image_ref ref;
    struct agyn_error err = {0};
    assert_int_equal(image_ref_parse("nginx", "image", &ref, &err), 0);
    assert_string_equal(image_ref_api_host(&ref), "registry-1.docker.io");
    assert_int_equal(image_ref_parse("registry-1.docker.io/acme/app", "image", &ref, &err), 0);
    assert_string_equal(image_ref_api_host(&ref), "registry-1.docker.io");
    assert_int_equal(image_ref_parse("ghcr.io/acme/app", "image", &ref, &err), 0);
    assert_string_equal(image_ref_api_host(&ref), "ghcr.io");
    assert_int_equal(image_ref_parse("localhost:5000/app", "image", &ref, &err), 0);
    assert_string_equal(image_ref_api_host(&ref), "localhost:5000");
}

static void test_helpers(void **state) {
    (void)state;
    assert_true(image_ref_is_docker_hub_host("docker.io", 9));
    assert_true(image_ref_is_docker_hub_host("Index.Docker.IO", 15));
    assert_true(image_ref_is_docker_hub_host("registry-1.docker.io", 20));
    assert_false(image_ref_is_docker_hub_host("docker.io:443", 13));
    assert_false(image_ref_is_docker_hub_host("docker.io", 8));
    assert_false(image_ref_is_docker_hub_host("hub.docker.com", 14));
    assert_false(image_ref_is_docker_hub_host(NULL, 0));

    static const char *const good[] = {"a", "a1", "a.b", "a_b", "a__b", "a-b", "a---b", "1.2.3"};
    static const char *const bad[] = {"",      "A",    "-a",  "a-",  "a.", ".a", "a..b",
                                      "a___b", "a._b", "a/b", "a b", "_a", "a:b"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(image_ref_path_component_is_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (image_ref_path_component_is_valid(bad[i], strlen(bad[i])))
            fail_msg("component %s should be invalid", bad[i]);
    }
    assert_false(image_ref_path_component_is_valid(NULL, 3));
}

/* Every byte value at every position of a valid reference: never a crash, and bytes outside
 * printable ASCII are always rejected. */
static void test_every_byte_everywhere(void **state) {
    (void)state;
    const char *base = "registry.example.com:5000/team/app:v1@" DIGEST64;
    size_t base_len = strlen(base);
    char text[256];
    for (size_t pos = 0; pos <= base_len; pos++) {
        for (int byte = 1; byte < 256; byte++) {
            memcpy(text, base, pos);
            text[pos] = (char)byte;
            memcpy(text + pos + 1, base + pos, base_len - pos + 1);
            struct image_ref ref;
            struct agyn_error err = {0};
            int rc = image_ref_parse(text, "image", &ref, &err);
            if (byte <= 0x20 || byte >= 0x7F)
                assert_int_equal(rc, -1);
            if (rc == 0) {
                assert_true(strlen(ref.registry) < sizeof ref.registry);
                assert_true(strlen(ref.digest) < sizeof ref.digest);
            } else {
                assert_int_equal(err.code, AGYN_UNPROCESSABLE);
                assert_true(err.message[0] != '\0');
            }
        }
    }
}

/* Random text from an alphabet rich in separators: a parse either fails cleanly or gives a
 * reference whose canonical form parses back to the same value. */
static void test_random_round_trip(void **state) {
    (void)state;
    static const char alphabet[] = "abcxyzAZ019.-_:/@[]%";
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    size_t accepted = 0;
    for (int round = 0; round < 200000; round++) {
        char text[64];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = (size_t)(seed >> 58); /* 0..63 */
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned pick = (unsigned)(seed >> 33);
            text[i] = (pick % 50 == 0) ? (char)(pick >> 8) : alphabet[pick % (sizeof alphabet - 1)];
            if (text[i] == '\0')
                text[i] = 'a';
        }
        text[len] = '\0';
        struct image_ref ref, again;
        struct agyn_error err = {0};
        if (image_ref_parse(text, "image", &ref, &err) != 0) {
            assert_int_equal(err.code, AGYN_UNPROCESSABLE);
            continue;
        }
        accepted++;
        char canonical[1024];
        image_ref_format(&ref, canonical, sizeof canonical);
        if (image_ref_parse(canonical, "image", &again, &err) != 0)
            fail_msg("%s -> %s does not parse: %s", text, canonical, err.message);
        if (memcmp(&ref, &again, sizeof ref) != 0)
            fail_msg("%s -> %s is not stable", text, canonical);
        for (const char *p = ref.registry; *p; p++)
            assert_false(*p >= 'A' && *p <= 'Z');
    }
    assert_true(accepted > 100);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_references),
        cmocka_unit_test(test_invalid_references),
        cmocka_unit_test(test_error_message_is_exact),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_huge_input),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_api_host),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_every_byte_everywhere),
        cmocka_unit_test(test_random_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
