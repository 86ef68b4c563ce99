/* test_oci_client.c — unit tests for the registry client's pure parts: WWW-Authenticate
 * parsing (with hostile and fuzzed input), registry error bodies to text, manifest and index
 * parsing with platform choice (with hostile manifests), the token cache's expiry and thread
 * safety, verified content-store ingests, the plain-HTTP policy and secret redaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/error.h"
#include "net/egress.h"
#include "registry/auth_challenge.h"
#include "registry/content_store.h"
#include "registry/error_body.h"
#include "registry/http.h"
#include "registry/lazy_ca_bundle.h"
#include "registry/manifest.h"
#include "registry/oci_client.h"
#include "registry/session.h"
#include "registry/token_cache.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DIGEST_C "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define DIGEST_D "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define DIGEST_EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- WWW-Authenticate ---- */

static void test_challenge_basic(void **state) {
    (void)state;
    struct auth_challenge c;
    assert_int_equal(auth_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BASIC);
    assert_string_equal(c.realm, "Registry Realm");
    assert_int_equal(auth_challenge_parse("Basic", &c), 0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BASIC);
    assert_string_equal(c.realm, "");
}

static void test_challenge_bearer(void **state) {
    (void)state;
    struct auth_challenge c;
    assert_int_equal(auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
                                          "service=\"registry.docker.io\","
                                          "scope=\"repository:library/nginx:pull\"",
                                          &c),
                     0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BEARER);
    assert_string_equal(c.realm, "https://auth.docker.io/token");
    assert_string_equal(c.service, "registry.docker.io");
    assert_string_equal(c.scope, "repository:library/nginx:pull");
    assert_string_equal(c.error, "");
}

static void test_challenge_spacing_case_and_bare_values(void **state) {
    (void)state;
    struct auth_challenge c;
    assert_int_equal(auth_challenge_parse("  bearer   REALM = \"https://r/t\" ,\tService=svc , "
                                          "error=\"insufficient_scope\"  ",
                                          &c),
                     0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BEARER);
    assert_string_equal(c.realm, "https://r/t");
    assert_string_equal(c.service, "svc");
    assert_string_equal(c.error, "insufficient_scope");
    assert_int_equal(auth_challenge_parse("Bearer realm=https://r:8443/token?a=b,service=s", &c),
                     0);
    assert_string_equal(c.realm, "https://r:8443/token?a=b");
    assert_string_equal(c.service, "s");
}

static void test_challenge_quoted_escapes_and_commas(void **state) {
    (void)state;
    struct auth_challenge c;
    assert_int_equal(auth_challenge_parse("Bearer realm=\"https://r/t?x=\\\"1\\\",y\","
                                          "scope=\"repository:a/b:pull,push\"",
                                          &c),
                     0);
    assert_string_equal(c.realm, "https://r/t?x=\"1\",y");
    assert_string_equal(c.scope, "repository:a/b:pull,push");
}

static void test_challenge_several_prefers_bearer(void **state) {
    (void)state;
    struct auth_challenge c;
    assert_int_equal(
        auth_challenge_parse("Basic realm=\"b\", Bearer realm=\"https://r\",service=\"s\"", &c), 0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BEARER);
    assert_string_equal(c.realm, "https://r");
    assert_int_equal(auth_challenge_parse("Bearer realm=\"https://r\", Basic realm=\"b\"", &c), 0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BEARER);
    assert_int_equal(auth_challenge_parse("Negotiate abc==, Basic realm=\"x\"", &c), 0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BASIC);
    assert_string_equal(c.realm, "x");
    assert_int_equal(auth_challenge_parse("Basic,Bearer realm=\"https://r\"", &c), 0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BEARER);
    assert_int_equal(auth_challenge_parse("Foo a=1, Basic realm=\"x\", Bar", &c), 0);
    assert_int_equal(c.scheme, AUTH_SCHEME_BASIC);
}

static void test_challenge_hostile(void **state) {
    (void)state;
    struct auth_challenge c;
    static const char *const bad[] = {
        "",
        "   ",
        ",,,",
        "Negotiate abc==",
        "Bearer realm=\"https://unterminated",
        "Bearer realm=\"a\r\nInjected: 1\"",
        "Bearer realm=\"a\x01\"",
        "Bearer realm=\"x\", realm=\"y\"",
        "Bearer service=\"s\"",
        "Bearer realm=\"\"",
        "Bearer realm=\"x\" service=\"s\"",
        "Bearer realm=\"x\"garbage",
        "Bearer realm=",
        "Bearer realm=\"abc\\",
        "=realm",
        "\"Bearer\" realm=x",
        "Bearer=realm",
        "Bearer realm=\"x\",,service=\"a\"b",
        "Bearer realm=x\x7f",
        "Bearer realm=\"x\";service=y",
        "Bäsic realm=x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.scheme = AUTH_SCHEME_BASIC;
        if (auth_challenge_parse(bad[i], &c) != -1)
            fail_msg("accepted hostile challenge #%zu: %s", i, bad[i]);
        assert_int_equal(c.scheme, AUTH_SCHEME_NONE);
    }
    assert_int_equal(auth_challenge_parse(NULL, &c), -1);
}

static void test_challenge_overlong_values(void **state) {
    (void)state;
    struct auth_challenge c;
    char header[4200];
    char realm[1100];
    memset(realm, 'a', sizeof realm - 1);
    realm[sizeof realm - 1] = '\0';
    snprintf(header, sizeof header, "Bearer realm=\"https://%s\"", realm);
    assert_int_equal(auth_challenge_parse(header, &c), -1);
    /* An unknown parameter may be long; it is skipped. */
    snprintf(header, sizeof header, "Bearer realm=\"https://r\",foo=\"%s%s\"", realm, realm);
    assert_int_equal(auth_challenge_parse(header, &c), 0);
    assert_string_equal(c.realm, "https://r");
    /* Longer than the scratch buffer: rejected, not overflowed. */
    char huge[9000];
    memcpy(huge, "Bearer realm=\"", 14);
    memset(huge + 14, 'z', sizeof huge - 16);
    huge[sizeof huge - 2] = '"';
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(auth_challenge_parse(huge, &c), -1);
}

static void test_challenge_fuzz(void **state) {
    (void)state;
    static const char alphabet[] = "Bearer Basic realm=service,\"\\ \t=,abc\x01\xff:/";
    char buf[96];
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rand_r(&seed) % (sizeof buf - 1));
        for (size_t i = 0; i < len; i++)
            buf[i] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        buf[len] = '\0';
        struct auth_challenge c;
        int rc = auth_challenge_parse(buf, &c);
        if (rc == 0) {
            assert_true(c.scheme == AUTH_SCHEME_BASIC || c.scheme == AUTH_SCHEME_BEARER);
            if (c.scheme == AUTH_SCHEME_BEARER)
                assert_true(c.realm[0] != '\0');
            for (const char *p = c.realm; *p; p++)
                assert_true((unsigned char)*p >= 0x20 || *p == '\t');
        } else {
            assert_int_equal(c.scheme, AUTH_SCHEME_NONE);
        }
    }
}

/* ---- error bodies ---- */

static const char *describe(long status, const char *body, struct registry_error_info *info) {
    registry_error_describe(status, body, body ? strlen(body) : 0, info);
    return info->text;
}

static void test_error_body_distribution_errors(void **state) {
    (void)state;
    struct registry_error_info info;
    assert_string_equal(describe(401,
                                 "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":"
                                 "\"authentication required\",\"detail\":null}]}\n",
                                 &info),
                        "unauthorized: authentication required");
    assert_true(registry_error_has_code(&info, "UNAUTHORIZED"));
    assert_false(registry_error_has_code(&info, "DENIED"));
    assert_string_equal(
        describe(404,
                 "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"},"
                 "{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to "
                 "registry\"}]}",
                 &info),
        "manifest unknown: manifest unknown; name unknown: repository name not known to registry");
    assert_true(registry_error_has_code(&info, "MANIFEST_UNKNOWN"));
    assert_true(registry_error_has_code(&info, "NAME_UNKNOWN"));
    assert_string_equal(describe(403, "{\"errors\":[{\"code\":\"DENIED\"}]}", &info), "denied");
    assert_string_equal(describe(403, "{\"errors\":[{\"message\":\"no access\"}]}", &info),
                        "no access");
}

static void test_error_body_other_shapes(void **state) {
    (void)state;
    struct registry_error_info info;
    assert_string_equal(describe(401, "Not Authorized\n", &info), "Not Authorized");
    assert_string_equal(describe(401, "", &info), "HTTP 401 Unauthorized");
    assert_string_equal(describe(401, NULL, &info), "HTTP 401 Unauthorized");
    assert_string_equal(describe(503, "  \r\n ", &info), "HTTP 503 Service Unavailable");
    assert_string_equal(describe(599, "", &info), "HTTP 599");
    assert_string_equal(describe(502, "<html><body>Bad gateway</body></html>", &info),
                        "HTTP 502 Bad Gateway");
    assert_string_equal(describe(401, "{\"details\":\"incorrect username or password\"}", &info),
                        "incorrect username or password");
    assert_string_equal(describe(400, "{\"error\":\"invalid_grant\"}", &info), "invalid_grant");
    assert_string_equal(describe(500, "{\"errors\":\"nope\",\"x\":1}", &info),
                        "HTTP 500 Internal Server Error");
    assert_string_equal(describe(500, "{\"errors\":[1,\"a\",{\"code\":7}]}", &info),
                        "HTTP 500 Internal Server Error");
    assert_string_equal(describe(500, "{not json", &info), "{not json");
    assert_int_equal(info.code_count, 0);
}

static void test_error_body_hostile_text(void **state) {
    (void)state;
    struct registry_error_info info;
    assert_string_equal(describe(401, "line1\r\nline2\ttab\x01 end\x7f", &info),
                        "line1 line2 tab end");
    assert_string_equal(describe(401, "bad \xff\xfe utf8 \xc3\xa9t\xc3\xa9", &info),
                        "bad ?? utf8 \xc3\xa9t\xc3\xa9");
    assert_string_equal(describe(401, "overlong \xc0\xaf and surrogate \xed\xa0\x80", &info),
                        "overlong ?? and surrogate ???");
    char *big = malloc(20000);
    memset(big, 'a', 19999);
    big[19999] = '\0';
    registry_error_describe(500, big, strlen(big), &info);
    assert_true(strlen(info.text) < REGISTRY_ERROR_TEXT_MAX);
    assert_true(strlen(info.text) > 400);
    assert_string_equal(info.text + strlen(info.text) - 3, "...");
    free(big);
    /* A multi-byte character is never cut in half at the limit. */
    char *wide = malloc(3000);
    size_t n = 0;
    while (n + 2 < 2999) {
        wide[n++] = (char)0xc3;
        wide[n++] = (char)0xa9;
    }
    wide[n] = '\0';
    registry_error_describe(500, wide, n, &info);
    size_t len = strlen(info.text);
    assert_string_equal(info.text + len - 3, "...");
    assert_int_equal((len - 3) % 2, 0);
    free(wide);
    /* Codes that are not identifiers are shown but not recorded. */
    describe(400, "{\"errors\":[{\"code\":\"BAD\\nCODE\",\"message\":\"m\"}]}", &info);
    assert_int_equal(info.code_count, 0);
    assert_string_equal(info.text, "bad code: m");
}

/* ---- manifests ---- */

static const char OCI_MANIFEST_JSON[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DIGEST_A
    "\",\"size\":1234},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":"
    "\"" DIGEST_B "\",\"size\":10},"
    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" DIGEST_C
    "\",\"size\":0}]}";

static const char DOCKER_MANIFEST_JSON[] =
    "{\"schemaVersion\":2,"
    "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":"
    "\"" DIGEST_A "\",\"size\":7},"
    "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
    "\"digest\":\"" DIGEST_B "\",\"size\":5000000000}]}";

static const char INDEX_JSON[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
    "\"manifests\":["
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DIGEST_A
    "\",\"size\":1,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DIGEST_B
    "\",\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":"
    "\"v8\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DIGEST_C
    "\",\"size\":3,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DIGEST_D
    "\",\"size\":4,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":"
    "\"v7\"}}]}";

static void test_manifest_oci_image(void **state) {
    (void)state;
    struct manifest m;
    struct agyn_error err = {0};
    assert_int_equal(manifest_parse(OCI_MANIFEST_JSON, strlen(OCI_MANIFEST_JSON),
                                    "application/vnd.oci.image.manifest.v1+json", &m, &err),
                     0);
    assert_int_equal(m.kind, MANIFEST_IMAGE);
    assert_string_equal(m.config.digest, DIGEST_A);
    assert_int_equal(m.config.size, 1234);
    assert_int_equal(m.entry_count, 2);
    assert_string_equal(m.entries[0].digest, DIGEST_B);
    assert_int_equal(m.entries[0].size, 10);
    assert_string_equal(m.entries[1].media_type, "application/vnd.oci.image.layer.v1.tar");
    manifest_free(&m);
}

static void test_manifest_docker_by_content_type(void **state) {
    (void)state;
    struct manifest m;
    struct agyn_error err = {0};
    assert_int_equal(manifest_parse(DOCKER_MANIFEST_JSON, strlen(DOCKER_MANIFEST_JSON),
                                    "application/vnd.docker.distribution.manifest.v2+json; "
                                    "charset=utf-8",
                                    &m, &err),
                     0);
    assert_int_equal(m.kind, MANIFEST_IMAGE);
    assert_string_equal(m.media_type, MEDIA_TYPE_DOCKER_MANIFEST);
    assert_int_equal(m.entries[0].size, UINT64_C(5000000000));
    manifest_free(&m);
    /* Without mediaType or a known Content-Type, the shape decides. */
    assert_int_equal(manifest_parse(DOCKER_MANIFEST_JSON, strlen(DOCKER_MANIFEST_JSON),
                                    "application/json", &m, &err),
                     0);
    assert_string_equal(m.media_type, MEDIA_TYPE_OCI_MANIFEST);
    manifest_free(&m);
}

static void test_manifest_index_platforms(void **state) {
    (void)state;
    struct manifest m;
    struct agyn_error err = {0};
    assert_int_equal(manifest_parse(INDEX_JSON, strlen(INDEX_JSON), NULL, &m, &err), 0);
    assert_int_equal(m.kind, MANIFEST_INDEX);
    assert_int_equal(m.entry_count, 4);
    const struct descriptor *d = manifest_choose_platform(&m, "linux", "amd64", NULL, &err);
    assert_non_null(d);
    assert_string_equal(d->digest, DIGEST_C);
    d = manifest_choose_platform(&m, NULL, "x86_64", NULL, &err);
    assert_non_null(d);
    assert_string_equal(d->digest, DIGEST_C);
    d = manifest_choose_platform(&m, "linux", "arm64", NULL, &err);
    assert_non_null(d);
    assert_string_equal(d->digest, DIGEST_B);
    d = manifest_choose_platform(&m, "linux", "aarch64", NULL, &err);
    assert_non_null(d);
    assert_string_equal(d->digest, DIGEST_B);
    d = manifest_choose_platform(&m, "linux", "arm/v7", NULL, &err);
    assert_non_null(d);
    assert_string_equal(d->digest, DIGEST_D);
    assert_null(manifest_choose_platform(&m, "linux", "arm", "v6", &err));
    assert_null(manifest_choose_platform(&m, "windows", "amd64", NULL, &err));
    assert_non_null(strstr(err.message, "no image for platform windows/amd64"));
    assert_non_null(strstr(err.message, "linux/arm64/v8"));
    assert_null(manifest_choose_platform(&m, "linux", "s390x", NULL, &err));
    manifest_free(&m);
}

static void test_manifest_variant_preferences(void **state) {
    (void)state;
    static const char list[] =
        "{\"schemaVersion\":2,\"mediaType\":"
        "\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":"
        "\"" DIGEST_A "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\","
        "\"variant\":\"v3\"}},"
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":"
        "\"" DIGEST_B "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":"
        "\"" DIGEST_C "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" DIGEST_D
        "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"386\"}}]}";
    struct manifest m;
    struct agyn_error err = {0};
    assert_int_equal(manifest_parse(list, strlen(list), MEDIA_TYPE_DOCKER_LIST, &m, &err), 0);
    const struct descriptor *d = manifest_choose_platform(&m, "linux", "amd64", NULL, &err);
    assert_string_equal(d->digest, DIGEST_B); /* no variant beats v3 */
    d = manifest_choose_platform(&m, "linux", "amd64", "v3", &err);
    assert_string_equal(d->digest, DIGEST_A);
    d = manifest_choose_platform(&m, "linux", "arm64/v8", NULL, &err);
    assert_string_equal(d->digest, DIGEST_C); /* arm64 without a variant is v8 */
    assert_null(manifest_choose_platform(&m, "linux", "386", NULL, &err)); /* nested index */
    manifest_free(&m);
}

static void expect_manifest_rejected(const char *body, const char *content_type,
                                     const char *message_part) {
    struct manifest m;
    struct agyn_error err = {0};
    if (manifest_parse(body, strlen(body), content_type, &m, &err) != -1)
        fail_msg("accepted hostile manifest: %s", body);
    assert_int_equal(err.code, AGYN_UNPROCESSABLE);
    if (message_part && !strstr(err.message, message_part))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, message_part);
    assert_null(m.entries);
}

#define LAYER(digest, size)                                                                        \
    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" digest          \
    "\",\"size\":" size "}"
#define CONFIG_OK                                                                                  \
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"           \
    "\"" DIGEST_A "\",\"size\":1}"
#define IMAGE_WITH_LAYERS(layers) "{\"schemaVersion\":2," CONFIG_OK ",\"layers\":[" layers "]}"

static void test_manifest_hostile(void **state) {
    (void)state;
    expect_manifest_rejected("", NULL, "not valid JSON");
    expect_manifest_rejected("not json", NULL, "not valid JSON");
    expect_manifest_rejected("[1,2]", NULL, "not a JSON object");
    expect_manifest_rejected("{\"schemaVersion\":1,\"fsLayers\":[]}", NULL, "schema 1");
    expect_manifest_rejected("{\"layers\":[]}", NULL, "schemaVersion");
    expect_manifest_rejected("{\"schemaVersion\":\"2\"}", NULL, "schemaVersion");
    expect_manifest_rejected("{\"schemaVersion\":2,\"schemaVersion\":2}", NULL, "not valid JSON");
    expect_manifest_rejected("{\"schemaVersion\":2,\"mediaType\":7}", NULL, "mediaType");
    expect_manifest_rejected("{\"schemaVersion\":2,\"mediaType\":\"text/\\u0001plain\"}", NULL,
                             "text/?plain");
    expect_manifest_rejected(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}",
        MEDIA_TYPE_OCI_INDEX, "does not match Content-Type");
    expect_manifest_rejected("{\"schemaVersion\":2}",
                             "application/vnd.docker.distribution.manifest.v1+prettyjws",
                             "schema 1");
    expect_manifest_rejected("{\"schemaVersion\":2,\"config\":{\"mediaType\":"
                             "\"application/vnd.cncf.helm.config.v1+json\",\"digest\":\"" DIGEST_A
                             "\",\"size\":1},"
                             "\"layers\":[]}",
                             NULL, "not a container image");
    expect_manifest_rejected("{\"schemaVersion\":2,\"layers\":[]}", NULL, "config");
    expect_manifest_rejected("{\"schemaVersion\":2," CONFIG_OK "}", NULL, "no layers array");
    expect_manifest_rejected("{\"schemaVersion\":2," CONFIG_OK ",\"layers\":{}}", NULL,
                             "no layers array");
    expect_manifest_rejected(IMAGE_WITH_LAYERS("7"), NULL, "not an object");
    expect_manifest_rejected(IMAGE_WITH_LAYERS(LAYER("sha256:../../../../etc/passwd", "1")), NULL,
                             "is not valid");
    expect_manifest_rejected(
        IMAGE_WITH_LAYERS(
            LAYER("sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "1")),
        NULL, "is not valid");
    expect_manifest_rejected(IMAGE_WITH_LAYERS(LAYER("sha256:abc", "1")), NULL, "is not valid");
    expect_manifest_rejected(IMAGE_WITH_LAYERS(LAYER(DIGEST_A "0", "1")), NULL, "is not valid");
    expect_manifest_rejected(IMAGE_WITH_LAYERS(LAYER("sha512:abcd", "1")), NULL,
                             "unsupported algorithm");
    expect_manifest_rejected(IMAGE_WITH_LAYERS(LAYER(DIGEST_B, "-1")), NULL, "size");
    expect_manifest_rejected(IMAGE_WITH_LAYERS(LAYER(DIGEST_B, "1.5")), NULL, "size");
    expect_manifest_rejected(IMAGE_WITH_LAYERS(LAYER(DIGEST_B, "\"10\"")), NULL, "size");
    expect_manifest_rejected(IMAGE_WITH_LAYERS(LAYER(DIGEST_B, "9223372036854775807")), NULL,
                             "size");
    expect_manifest_rejected(IMAGE_WITH_LAYERS("{\"digest\":\"" DIGEST_B "\",\"size\":1}"), NULL,
                             "mediaType");
    expect_manifest_rejected(
        IMAGE_WITH_LAYERS("{\"mediaType\":\"application/x-evil\",\"digest\":\"" DIGEST_B
                          "\",\"size\":1}"),
        NULL, "not a container image layer");
    expect_manifest_rejected(
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MEDIA_TYPE_OCI_MANIFEST
        "\",\"digest\":\"" DIGEST_A "\",\"size\":1,\"platform\":\"linux/amd64\"}]}",
        NULL, "invalid platform");
    expect_manifest_rejected(
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MEDIA_TYPE_OCI_MANIFEST
        "\",\"digest\":\"" DIGEST_A "\",\"size\":1,\"platform\":{\"os\":[]}}]}",
        NULL, "invalid platform");
}

static void test_manifest_limits(void **state) {
    (void)state;
    /* More layers than allowed. */
    size_t cap = 200 * (MANIFEST_MAX_LAYERS + 2);
    char *body = malloc(cap);
    size_t used = (size_t)snprintf(body, cap, "{\"schemaVersion\":2,%s,\"layers\":[", CONFIG_OK);
    for (int i = 0; i <= MANIFEST_MAX_LAYERS; i++)
        used += (size_t)snprintf(body + used, cap - used, "%s" LAYER(DIGEST_B, "1"), i ? "," : "");
    snprintf(body + used, cap - used, "]}");
    expect_manifest_rejected(body, NULL, "more than");
    free(body);
    /* Larger than 4 MiB, even when valid JSON. */
    size_t big = MANIFEST_MAX_BYTES + 2;
    body = malloc(big + 1);
    memset(body, ' ', big);
    memcpy(body, "{\"schemaVersion\":2}", 19);
    body[big] = '\0';
    struct manifest m;
    struct agyn_error err = {0};
    assert_int_equal(manifest_parse(body, big, NULL, &m, &err), -1);
    assert_non_null(strstr(err.message, "larger than"));
    /* Deep nesting is refused by the JSON parser, without a crash. */
    memset(body, '[', 300000);
    body[300000] = '\0';
    assert_int_equal(manifest_parse(body, 300000, NULL, &m, &err), -1);
    free(body);
}

static void test_digests(void **state) {
    (void)state;
    char digest[DIGEST_TEXT_MAX];
    digest_sha256("", 0, digest);
    assert_string_equal(digest, DIGEST_EMPTY);
    digest_sha256("abc", 3, digest);
    assert_string_equal(digest,
                        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(digest_is_sha256(DIGEST_EMPTY));
    assert_false(digest_is_sha256(NULL));
    assert_false(digest_is_sha256("sha256:"));
    assert_false(digest_is_sha256(DIGEST_EMPTY "/"));
    assert_false(digest_is_sha256(
        "SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_false(digest_is_sha256(
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g"));
}

/* ---- token cache ---- */

static void test_token_cache_keys(void **state) {
    (void)state;
    char a[TOKEN_CACHE_KEY_MAX], b[TOKEN_CACHE_KEY_MAX], c[TOKEN_CACHE_KEY_MAX];
    struct registry_auth alice = {"alice", "secret"}, wrong = {"alice", "wrong"};
    assert_int_equal(token_cache_key("r:5000", "repository:a:pull", &alice, a, sizeof a), 0);
    assert_int_equal(token_cache_key("r:5000", "repository:a:pull", &wrong, b, sizeof b), 0);
    assert_string_not_equal(a, b);
    assert_null(strstr(a, "secret"));
    assert_int_equal(token_cache_key("r:5000", "repository:a:pull", &alice, c, sizeof c), 0);
    assert_string_equal(a, c);
    assert_int_equal(token_cache_key("r:5000", "repository:b:pull", &alice, c, sizeof c), 0);
    assert_string_not_equal(a, c);
    assert_int_equal(token_cache_key("r:5000", "repository:a:pull", NULL, c, sizeof c), 0);
    assert_string_equal(c, "r:5000\nrepository:a:pull\n-");
    char small[16];
    assert_int_equal(token_cache_key("r:5000", "repository:a:pull", &alice, small, sizeof small),
                     -1);
}

static void test_token_cache_expiry(void **state) {
    (void)state;
    struct token_cache *cache = token_cache_new();
    char *token = NULL;
    double until = 0;
    double now = 1000000.0;
    double usable = token_usable_until(now, 2, NULL);
    assert_true(usable > now + 1.5 && usable < now + 2.0);
    assert_int_equal(token_cache_put(cache, "k", "tok-1", usable, now), 0);
    assert_int_equal(token_cache_get(cache, "k", now + 1, &token, &until), 0);
    assert_string_equal(token, "tok-1");
    assert_true(until == usable);
    free(token);
    assert_int_equal(token_cache_get(cache, "k", now + 2.5, &token, &until), -1);
    assert_null(token);
    assert_int_equal(token_cache_size(cache), 0); /* the expired entry was dropped */
    assert_int_equal(token_cache_get(cache, "other", now, &token, &until), -1);
    token_cache_free(cache);
}

static void test_token_lifetimes(void **state) {
    (void)state;
    double now;
    assert_int_equal(rfc3339_parse("2024-01-01T00:00:30Z", &now), 0);
    /* Default 60 s, less a 10% margin. */
    assert_true(token_usable_until(now, 0, NULL) == now + 54);
    assert_true(token_usable_until(now, -5, NULL) == now + 54);
    /* Capped at a day, margin at most 10 s. */
    assert_true(token_usable_until(now, 10L * 86400, NULL) == now + 86400 - 10);
    /* issued_at counts. */
    assert_true(token_usable_until(now, 300, "2024-01-01T00:00:00Z") == now - 30 + 300 - 10);
    /* issued_at in the future (clock skew) is ignored. */
    assert_true(token_usable_until(now, 300, "2024-01-01T00:10:00Z") == now + 290);
    /* issued_at that would make a fresh token already expired is ignored. */
    assert_true(token_usable_until(now, 60, "2023-12-31T00:00:00Z") == now + 54);
    assert_true(token_usable_until(now, 300, "garbage") == now + 290);
}

static void test_rfc3339(void **state) {
    (void)state;
    double t;
    assert_int_equal(rfc3339_parse("1970-01-01T00:00:00Z", &t), 0);
    assert_true(t == 0);
    assert_int_equal(rfc3339_parse("2024-02-29T12:34:56.5Z", &t), 0);
    assert_true(t == 1709210096.5);
    assert_int_equal(rfc3339_parse("2024-02-29T14:34:56+02:00", &t), 0);
    assert_true(t == 1709210096);
    assert_int_equal(rfc3339_parse("2024-02-29t12:34:56.123456789123z", &t), 0);
    static const char *const bad[] = {"",
                                      "2024-02-29",
                                      "2024-02-29 12:34:56Z",
                                      "2024-13-01T00:00:00Z",
                                      "2024-02-29T25:00:00Z",
                                      "2024-02-29T12:34:56",
                                      "2024-02-29T12:34:56.Z",
                                      "2024-02-29T12:34:56Zjunk",
                                      "2024-02-29T12:34:56+0200",
                                      "24-02-29T12:34:56Z",
                                      "2024-02-29T12:34:5xZ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (rfc3339_parse(bad[i], &t) != -1)
            fail_msg("accepted bad time %s", bad[i]);
    }
    assert_int_equal(rfc3339_parse(NULL, &t), -1);
}

static void test_token_cache_invalidate_and_capacity(void **state) {
    (void)state;
    struct token_cache *cache = token_cache_new();
    char *token = NULL;
    double until;
    token_cache_put(cache, "k", "old", 100, 0);
    token_cache_invalidate(cache, "k", "different");
    assert_int_equal(token_cache_get(cache, "k", 1, &token, &until), 0);
    free(token);
    token_cache_put(cache, "k", "new", 100, 0); /* replaces */
    assert_int_equal(token_cache_size(cache), 1);
    token_cache_invalidate(cache, "k", "new");
    assert_int_equal(token_cache_get(cache, "k", 1, &token, &until), -1);
    char key[32];
    for (int i = 0; i < TOKEN_CACHE_ENTRIES_MAX + 10; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        assert_int_equal(token_cache_put(cache, key, "t", 1000 + i, 0), 0);
    }
    assert_int_equal(token_cache_size(cache), TOKEN_CACHE_ENTRIES_MAX);
    /* The soonest-expiring entries made room. */
    assert_int_equal(token_cache_get(cache, "key-0", 1, &token, &until), -1);
    assert_int_equal(token_cache_get(cache, "key-1033", 1, &token, &until), 0);
    free(token);
    /* Expired entries are purged on put. */
    token_cache_put(cache, "fresh", "t", 5000, 4000);
    assert_int_equal(token_cache_size(cache), 1);
    token_cache_free(cache);
}

struct hammer_args {
    struct token_cache *cache;
    int id;
};

static void *hammer(void *arg) {
    struct hammer_args *a = arg;
    char key[16], token[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "k%d", i % 7);
        snprintf(token, sizeof token, "t%d-%d", a->id, i);
        double now = 1000 + i % 50;
        switch (i % 3) {
        case 0:
            token_cache_put(a->cache, key, token, now + (i % 5), now);
            break;
        case 1: {
            char *got = NULL;
            double until;
            if (token_cache_get(a->cache, key, now, &got, &until) == 0) {
                if (got[0] != 't')
                    abort();
                free(got);
            }
            break;
        }
        default:
            token_cache_invalidate(a->cache, key, token);
            break;
        }
    }
    return NULL;
}

static void test_token_cache_threads(void **state) {
    (void)state;
    struct token_cache *cache = token_cache_new();
    pthread_t threads[6];
    struct hammer_args args[6];
    for (int i = 0; i < 6; i++) {
        args[i] = (struct hammer_args){cache, i};
        assert_int_equal(pthread_create(&threads[i], NULL, hammer, &args[i]), 0);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(threads[i], NULL);
    assert_true(token_cache_size(cache) <= 7);
    token_cache_free(cache);
}

/* ---- content store ---- */

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void remove_tree(const char *root) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_content_store_ingest(void **state) {
    (void)state;
    char root[] = "/tmp/agyn-test-store-XXXXXX";
    assert_non_null(mkdtemp(root));
    char layout_root[600], path[800];
    snprintf(layout_root, sizeof layout_root, "%s/nested/store", root);
    struct content_store *store;
    struct agyn_error err = {0};
    assert_int_equal(content_store_open(layout_root, &store, &err), 0);
    snprintf(path, sizeof path, "%s/oci-layout", layout_root);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[100] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "{\"imageLayoutVersion\":\"1.0.0\"}\n");
    snprintf(path, sizeof path, "%s/index.json", layout_root);
    assert_int_equal(access(path, F_OK), 0);

    const char *abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_false(content_store_has_blob(store, abc, 3));
    assert_int_equal(content_store_put(store, abc, "abc", 3, &err), INGEST_COMMITTED);
    assert_true(content_store_has_blob(store, abc, 3));
    assert_true(content_store_has_blob(store, abc, UINT64_MAX));
    assert_false(content_store_has_blob(store, abc, 4));

    /* Wrong bytes: never stored under the claimed digest, no temp file left. */
    assert_int_equal(content_store_put(store, DIGEST_A, "abc", 3, &err), INGEST_DIGEST_MISMATCH);
    assert_string_equal(err.message, "blob " DIGEST_A " digest mismatch");
    assert_false(content_store_has_blob(store, DIGEST_A, UINT64_MAX));
    struct ingest *ingest;
    assert_int_equal(content_store_ingest_begin(store, DIGEST_B, 10, &ingest, &err), 0);
    assert_int_equal(content_store_ingest_write(ingest, "12345", 5), 0);
    assert_int_equal(content_store_ingest_write(ingest, "1234567", 7), -1); /* over the size */
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_SIZE_MISMATCH);
    assert_non_null(strstr(err.message, "size mismatch"));
    /* A restarted ingest starts from zero. */
    assert_int_equal(content_store_ingest_begin(store, abc, 3, &ingest, &err), 0);
    assert_int_equal(content_store_ingest_write(ingest, "xy", 2), 0);
    assert_int_equal(content_store_ingest_restart(ingest), 0);
    assert_int_equal(content_store_ingest_write(ingest, "abc", 3), 0);
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_COMMITTED);
    assert_int_equal(content_store_ingest_begin(store, DIGEST_C, 1, &ingest, &err), 0);
    content_store_ingest_abort(ingest);
    snprintf(path, sizeof path, "%s/ingest", layout_root);
    assert_int_equal(count_entries(path), 0);
    snprintf(path, sizeof path, "%s/blobs/sha256", layout_root);
    assert_int_equal(count_entries(path), 1);

    /* Hostile digests never name a path. */
    assert_int_equal(content_store_ingest_begin(store, "sha256:../../x", 1, &ingest, &err), -1);
    assert_false(content_store_has_blob(store, "sha256:../../../etc/passwd", UINT64_MAX));
    assert_int_equal(content_store_blob_path(store, "md5:abc", path, sizeof path), -1);
    content_store_close(store);
    /* Reopening keeps what is there. */
    assert_int_equal(content_store_open(layout_root, &store, &err), 0);
    assert_true(content_store_has_blob(store, abc, 3));
    content_store_close(store);
    assert_int_equal(content_store_open("", &store, &err), -1);
    remove_tree(root);
}

/* Writes data into ingest in pieces of `piece` bytes (pieces that do not divide the writer's
 * ring make it wrap mid-piece). */
static void write_pieces(struct ingest *ingest, const unsigned char *data, size_t len,
                         size_t piece) {
    for (size_t done = 0; done < len; done += piece)
        assert_int_equal(content_store_ingest_write(ingest, data + done,
                                                    len - done < piece ? len - done : piece),
                         0);
}

/* Blobs of a MiB and more are written and hashed by a thread of their own, with O_DIRECT where
 * the file system allows it: the same outcomes as inline (stored with the right bytes, the
 * unaligned tail included; digest and size mismatches, restart, abort), no temp file left, and
 * the ingest timing filled in. */
static void test_content_store_large_ingest(void **state) {
    (void)state;
    char root[] = "/tmp/agyn-test-store-XXXXXX";
    assert_non_null(mkdtemp(root));
    struct content_store *store;
    struct agyn_error err = {0};
    assert_int_equal(content_store_open(root, &store, &err), 0);
    size_t len = 3 * 1024 * 1024 + 12345;
    unsigned char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
    char digest[DIGEST_TEXT_MAX], path[800];
    digest_sha256((const char *)data, len, digest);

    struct ingest_timing timing = {0};
    struct ingest *ingest;
    /* Started over after 2 MiB, then the whole blob: stored, byte for byte. */
    assert_int_equal(content_store_ingest_begin(store, digest, len, &ingest, &err), 0);
    content_store_ingest_set_timing(ingest, &timing);
    write_pieces(ingest, data, 2 * 1024 * 1024, 70001);
    assert_int_equal(content_store_ingest_restart(ingest), 0);
    assert_int_equal(content_store_ingest_written(ingest), 0);
    /* Started over again after a piece that ends mid-block: the writer (O_DIRECT, whole 4 KiB
     * blocks) must flush the remainder when the restart drains it, not wait for more. */
    write_pieces(ingest, data, 1024 * 1024 + 100, 7777);
    assert_int_equal(content_store_ingest_restart(ingest), 0);
    assert_int_equal(content_store_ingest_written(ingest), 0);
    write_pieces(ingest, data, len, 524288 + 7);
    assert_int_equal(content_store_ingest_write(ingest, "x", 1), -1); /* past the size */
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_COMMITTED);
    assert_true(content_store_has_blob(store, digest, len));
    assert_true(timing.write_us >= 0 && timing.hash_us >= 0 && timing.sync_us >= 0);
    assert_int_equal(content_store_blob_path(store, digest, path, sizeof path), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *back = malloc(len + 1);
    assert_non_null(back);
    assert_int_equal(fread(back, 1, len + 1, f), len);
    fclose(f);
    assert_memory_equal(back, data, len);
    free(back);

    /* One byte changed: a digest mismatch, nothing stored under the digest. */
    data[len / 2] ^= 1;
    char other[DIGEST_TEXT_MAX];
    snprintf(other, sizeof other, "%s", DIGEST_A);
    assert_int_equal(content_store_ingest_begin(store, other, len, &ingest, &err), 0);
    write_pieces(ingest, data, len, 1 << 20);
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_DIGEST_MISMATCH);
    assert_false(content_store_has_blob(store, other, UINT64_MAX));
    /* Short: a size mismatch. Aborted while the thread writes: no temp file either. */
    assert_int_equal(content_store_ingest_begin(store, other, len, &ingest, &err), 0);
    write_pieces(ingest, data, len - 1, 65536);
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_SIZE_MISMATCH);
    assert_int_equal(content_store_ingest_begin(store, other, len, &ingest, &err), 0);
    write_pieces(ingest, data, len / 2, 300000);
    content_store_ingest_abort(ingest);
    snprintf(path, sizeof path, "%s/ingest", root);
    assert_int_equal(count_entries(path), 0);
    free(data);
    content_store_close(store);
    remove_tree(root);
}

/* A self-signed CA certificate named cn (its key is freed). */
static X509 *self_signed_ca(const char *cn) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *cert = X509_new();
    assert_non_null(cert);
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    X509_EXTENSION *ext =
        X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
    assert_non_null(ext);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
    EVP_PKEY_free(key);
    return cert;
}

static int verify_with(X509_STORE *store, X509 *cert) {
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
    int ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    return ok;
}

/* The system bundle (here SSL_CERT_FILE) is read at the first lookup, not when the store is
 * built, and then trusts what it holds and nothing else. */
static void test_lazy_ca_bundle(void **state) {
    (void)state;
    char bundle[] = "/tmp/agyn-test-bundle-XXXXXX";
    int fd = mkstemp(bundle);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    X509 *trusted = self_signed_ca("agyn test trusted CA");
    X509 *stranger = self_signed_ca("agyn test stranger CA");
    assert_int_equal(PEM_write_X509(f, trusted), 1);
    fclose(f);
    const char *saved = getenv("SSL_CERT_FILE");
    char *saved_copy = saved ? strdup(saved) : NULL;
    setenv("SSL_CERT_FILE", bundle, 1);
    X509_STORE *store = X509_STORE_new();
    assert_non_null(store);
    assert_int_equal(lazy_ca_bundle_add(store), 0);
    assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)), 0); /* not read yet */
    assert_int_equal(verify_with(store, trusted), 1);
    assert_true(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)) >= 1);
    assert_int_equal(verify_with(store, trusted), 1); /* from the store now */
    assert_int_not_equal(verify_with(store, stranger), 1);
    X509_STORE_free(store);
    if (saved_copy)
        setenv("SSL_CERT_FILE", saved_copy, 1);
    else
        unsetenv("SSL_CERT_FILE");
    free(saved_copy);
    X509_free(trusted);
    X509_free(stranger);
    unlink(bundle);
}

/* ---- HTTP policy ---- */

static void test_http_policy(void **state) {
    (void)state;
    assert_true(http_host_is_loopback("127.0.0.1:5000"));
    assert_true(http_host_is_loopback("127.1.2.3"));
    assert_true(http_host_is_loopback("localhost:5000"));
    assert_true(http_host_is_loopback("LOCALHOST"));
    assert_true(http_host_is_loopback("[::1]:5000"));
    assert_true(http_host_is_loopback("::1"));
    assert_true(http_host_is_loopback("[::ffff:127.0.0.1]:80"));
    assert_false(http_host_is_loopback("128.0.0.1"));
    assert_false(http_host_is_loopback("10.0.0.1:5000"));
    assert_false(http_host_is_loopback("localhost.evil.com"));
    assert_false(http_host_is_loopback("127.0.0.1.evil.com"));
    assert_false(http_host_is_loopback("[::2]:5000"));
    assert_false(http_host_is_loopback(""));
    assert_false(http_host_is_loopback("[::1"));

    static const char *const insecure[] = {"registry.lan:5000", NULL};
    struct http_policy policy = {.insecure_registries = insecure};
    assert_true(http_plain_allowed(&policy, "registry.lan:5000"));
    assert_false(http_plain_allowed(&policy, "registry.lan"));
    assert_false(http_plain_allowed(&policy, "registry.lan:5001"));
    /* A loopback registry may use plain HTTP only where the egress policy allows it. */
    struct agyn_error err = {0};
    struct egress_config deny_all = {0};
    assert_int_equal(egress_configure(&deny_all, &err), 0);
    assert_false(http_plain_allowed(&policy, "127.0.0.1:1"));
    static const char *const loopback[] = {"127.0.0.0/8", "::1/128", NULL};
    struct egress_config allow_loopback = {.allow = loopback};
    assert_int_equal(egress_configure(&allow_loopback, &err), 0);
    assert_true(http_plain_allowed(&policy, "127.0.0.1:1"));
    assert_true(http_plain_allowed(&policy, "[::1]:5000"));
    assert_true(http_plain_allowed(&policy, "localhost:5000"));
    assert_false(http_plain_allowed(&policy, "10.0.0.1:5000"));
    assert_true(http_url_allowed(&policy, "https://anything.example/x"));
    assert_true(http_url_allowed(&policy, "http://registry.lan:5000/v2/"));
    /* A redirect target or realm never gets plain HTTP for being loopback. */
    assert_false(http_url_allowed(&policy, "http://localhost:9/token"));
    assert_false(http_url_allowed(&policy, "http://127.0.0.1:9/internal"));
    /* ...only on a plain-HTTP registry's own origin, and never as a downgrade from https. */
    struct http_policy plain_session = {.insecure_registries = insecure,
                                        .registry_origin = "http://127.0.0.1:5000"};
    assert_true(http_url_allowed(&plain_session, "http://127.0.0.1:5000/token"));
    assert_false(http_url_allowed(&plain_session, "http://127.0.0.1:5001/token"));
    assert_true(http_url_allowed(&plain_session, "http://registry.lan:5000/token"));
    struct http_policy tls_session = {.insecure_registries = insecure,
                                      .registry_origin = "https://127.0.0.1:5000"};
    assert_false(http_url_allowed(&tls_session, "http://127.0.0.1:5000/token"));
    assert_false(http_url_allowed(&tls_session, "http://registry.lan:5000/token"));
    assert_true(http_url_allowed(&tls_session, "https://auth.example/token"));
    assert_false(http_url_allowed(&policy, "http://registry.lan/v2/"));
    assert_false(http_url_allowed(&policy, "http://example.com/token"));
    assert_false(http_url_allowed(&policy, "ftp://127.0.0.1/x"));
    assert_false(http_url_allowed(&policy, "file:///etc/passwd"));
    assert_false(http_url_allowed(&policy, "not a url"));

    assert_true(url_same_origin("https://r.example/v2/", "https://R.example:443/other"));
    assert_true(url_same_origin("http://127.0.0.1:5000/a", "http://127.0.0.1:5000/b?x"));
    assert_false(url_same_origin("https://r.example/", "http://r.example/"));
    assert_false(url_same_origin("http://127.0.0.1:5000/", "http://localhost:5000/"));
    assert_false(url_same_origin("https://r.example/", "https://r.example:8443/"));
    assert_false(url_same_origin("https://r.example/", "https://s3.example/"));
    char host[300];
    assert_int_equal(http_url_host("https://User:pw@r.example:8443/x?y", host, sizeof host), 0);
    assert_string_equal(host, "r.example:8443");
}

static void test_trust_store_sharing(void **state) {
    (void)state;
    struct agyn_error err = {0};
    X509_STORE *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(http_trust_store_acquire(NULL, &a, &err), 0);
    assert_int_equal(http_trust_store_acquire(NULL, &b, &err), 0);
    assert_ptr_equal(a, b); /* the system bundle is parsed once */
    assert_int_equal(http_trust_store_acquire("/nonexistent/ca.pem", &c, &err), -1);
    assert_null(c);
    assert_string_equal(err.field, "ca_file");
    assert_non_null(strstr(err.message, "cannot load CA certificates from /nonexistent/ca.pem"));
    http_trust_store_release(a);
    http_trust_store_release(b);
    http_trust_store_release(NULL);
    /* A client with an unreadable CA file is refused up front. */
    char root[] = "/tmp/agyn-test-store-XXXXXX";
    assert_non_null(mkdtemp(root));
    struct registry_client_config config = {.content_dir = root, .ca_file = "/nonexistent/ca.pem"};
    struct registry_client *client = NULL;
    assert_int_equal(registry_client_new(&config, &client, &err), -1);
    assert_null(client);
    config.ca_file = NULL;
    assert_int_equal(registry_client_new(&config, &client, &err), 0);
    registry_client_free(client);
    remove_tree(root);
}

/* ---- redaction ---- */

static void test_secret_redaction(void **state) {
    (void)state;
    struct registry_auth auth = {"alice", "hunter2-pass"};
    struct registry_session s;
    memset(&s, 0, sizeof s);
    s.auth = &auth;
    s.token = "eyJhbGciOiJSUzI1NiJ9.payload.signature";
    struct agyn_error err = {0};
    snprintf(err.message, sizeof err.message,
             "echo hunter2-pass and eyJhbGciOiJSUzI1NiJ9.payload.signature, hunter2-pass");
    snprintf(s.host, sizeof s.host, "registry.example:5000");
    registry_session_redact(&s, &err);
    assert_string_equal(err.message, "registry registry.example:5000: the error text was withheld "
                                     "because it contains the credential");
    snprintf(err.message, sizeof err.message,
             "echo only the token eyJhbGciOiJSUzI1NiJ9.payload.signature");
    registry_session_redact(&s, &err);
    assert_null(strstr(err.message, "eyJ"));
    snprintf(err.message, sizeof err.message, "unauthorized: incorrect username or password");
    registry_session_redact(&s, &err);
    assert_string_equal(err.message, "unauthorized: incorrect username or password");
    /* A very short password is searched for too: a message that contains it is withheld
     * whole (more text lost, never the password shown), one that does not is kept. */
    struct registry_auth short_auth = {"bob", "q"};
    s.auth = &short_auth;
    s.token = NULL;
    s.authorization = NULL;
    snprintf(err.message, sizeof err.message, "unauthorized: quota");
    registry_session_redact(&s, &err);
    assert_null(strstr(err.message, "quota"));
    assert_non_null(strstr(err.message, "withheld"));
    snprintf(err.message, sizeof err.message, "a message");
    registry_session_redact(&s, &err);
    assert_string_equal(err.message, "a message");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_basic),
        cmocka_unit_test(test_challenge_bearer),
        cmocka_unit_test(test_challenge_spacing_case_and_bare_values),
        cmocka_unit_test(test_challenge_quoted_escapes_and_commas),
        cmocka_unit_test(test_challenge_several_prefers_bearer),
        cmocka_unit_test(test_challenge_hostile),
        cmocka_unit_test(test_challenge_overlong_values),
        cmocka_unit_test(test_challenge_fuzz),
        cmocka_unit_test(test_error_body_distribution_errors),
        cmocka_unit_test(test_error_body_other_shapes),
        cmocka_unit_test(test_error_body_hostile_text),
        cmocka_unit_test(test_manifest_oci_image),
        cmocka_unit_test(test_manifest_docker_by_content_type),
        cmocka_unit_test(test_manifest_index_platforms),
        cmocka_unit_test(test_manifest_variant_preferences),
        cmocka_unit_test(test_manifest_hostile),
        cmocka_unit_test(test_manifest_limits),
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_token_cache_keys),
        cmocka_unit_test(test_token_cache_expiry),
        cmocka_unit_test(test_token_lifetimes),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_token_cache_invalidate_and_capacity),
        cmocka_unit_test(test_token_cache_threads),
        cmocka_unit_test(test_content_store_ingest),
        cmocka_unit_test(test_content_store_large_ingest),
        cmocka_unit_test(test_lazy_ca_bundle),
        cmocka_unit_test(test_http_policy),
        cmocka_unit_test(test_trust_store_sharing),
        cmocka_unit_test(test_secret_redaction),
    };
    return cmocka_run_group_tests_name("oci_client", tests, NULL, NULL);
}
