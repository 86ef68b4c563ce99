/* test_short_lived.c — the pure parts of short-lived registry logins: kubelet image globs
 * (core/image_glob), the ECR GetAuthorizationToken and STS AssumeRole answer readers
 * (providers/answers.h), the sealed cache (expiry, sharing one fetch, keys that no longer open)
 * and the CredentialProviderConfig checks (credentials/credential_plugins.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/image_glob.h"
#include "credentials/credential_plugins.h"
#include "credentials/short_lived_cache.h"
#include "crypto/envelope.h"
#include "crypto/keyring.h"
#include "providers/answers.h"
#include "providers/provider.h"

static void test_image_globs(void **state) {
    (void)state;
    static const struct {
        const char *glob, *target;
        bool match;
    } cases[] = {
        {"*.dkr.ecr.*.amazonaws.com", "123.dkr.ecr.us-east-1.amazonaws.com/app", true},
        {"*.dkr.ecr.*.amazonaws.com", "123.dkr.ecr.us-east-1.amazonaws.com.cn/app", false},
        {"*.dkr.ecr.*.amazonaws.com.cn", "123.dkr.ecr.cn-north-1.amazonaws.com.cn/app", true},
        {"app*.k8s.io", "app1.k8s.io/x", true},
        {"app*.k8s.io", "web.k8s.io/x", false},
        {"k8s.*", "k8s.io/x", true},
        {"*.k8s.io", "k8s.io/x", false}, /* label counts differ */
        {"registry.io:5000", "registry.io:5000/team/app", true},
        {"registry.io:5000", "registry.io/team/app", false},
        {"registry.io", "registry.io:5000/team/app", false},
        {"127.0.0.1:*", "127.0.0.1:5000/app", false}, /* no globs in ports */
        {"registry.io/team", "registry.io/team/app", true},
        {"registry.io/team", "registry.io/other/app", false},
        {"https://registry.io", "registry.io/app", true},
        {"a..b", "a.b.c/x", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (image_glob_matches(cases[i].glob, cases[i].target) != cases[i].match)
            fail_msg("glob %s vs %s: expected %d", cases[i].glob, cases[i].target, cases[i].match);
    }
    struct agyn_error err = {0};
    assert_int_equal(image_glob_validate("", "g", &err), -1);
    assert_int_equal(image_glob_validate("a b", "g", &err), -1);
    assert_int_equal(image_glob_validate("*.example.com", "g", &err), 0);
}

static void test_ecr_answers(void **state) {
    (void)state;
    struct provider_registry_login login;
    struct agyn_error err = {0};
    /* base64("AWS:123456789012-auth-token") as moto answers it */
    const char *good = "{\"authorizationData\":[{\"authorizationToken\":"
                       "\"QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu\",\"expiresAt\":1420070400.0}]}";
    assert_int_equal(aws_ecr_login_from_answer(good, strlen(good), &login, &err), 0);
    assert_string_equal(login.username, "AWS");
    assert_string_equal(login.password, "123456789012-auth-token");
    assert_true(login.expires_at > 1420070399 && login.expires_at < 1420070401);
    provider_login_free(&login);
    static const char *const bad[] = {
        "",
        "[]",
        "{\"authorizationData\":[]}",
        "{\"authorizationData\":[{\"authorizationToken\":\"not base64!\"}]}",
        "{\"authorizationData\":[{\"authorizationToken\":\"bm9jb2xvbg==\"}]}", /* "nocolon" */
        "{\"authorizationData\":[{\"authorizationToken\":\"OnB3\"}]}",         /* ":pw" */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        agyn_error_clear(&err);
        assert_int_equal(aws_ecr_login_from_answer(bad[i], strlen(bad[i]), &login, &err), -1);
        assert_int_equal(err.code, AGYN_UNAVAILABLE);
        assert_non_null(strstr(err.message, "GetAuthorizationToken"));
        assert_null(login.password);
    }
    char *id, *key, *token;
    const char *sts = "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
                      "<AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>s+/=</SecretAccessKey>"
                      "<SessionToken>tok</SessionToken></Credentials></AssumeRoleResult>"
                      "</AssumeRoleResponse>";
    assert_int_equal(aws_sts_credentials_from_answer(sts, strlen(sts), &id, &key, &token, &err), 0);
    assert_string_equal(id, "ASIAX");
    assert_string_equal(key, "s+/=");
    assert_string_equal(token, "tok");
    free(id), free(key), free(token);
    const char *partial = "<AccessKeyId>A</AccessKeyId>";
    assert_int_equal(
        aws_sts_credentials_from_answer(partial, strlen(partial), &id, &key, &token, &err), -1);
    assert_null(id);
}

static struct keyring *test_keyring(char *path, size_t size) {
    snprintf(path, size, "/tmp/agyn-short-lived-%d.json", (int)getpid());
    unlink(path);
    struct agyn_error err = {0};
    struct keyring *kr = NULL;
    assert_int_equal(keyring_create_file(path, NULL, &err), 0);
    assert_int_equal(keyring_load(path, &kr, &err), 0);
    return kr;
}

static int fetch_count;

static int fetch_value(void *arg, char **value_out, double *usable_until, struct agyn_error *err) {
    (void)err;
    fetch_count++;
    *value_out = strdup("login-value");
    *usable_until = *(double *)arg;
    return 0;
}

static void test_cache(void **state) {
    (void)state;
    char path[96];
    struct keyring *kr = test_keyring(path, sizeof path);
    short_lived_cache_clear();
    struct agyn_error err = {0};
    char *value = NULL;
    double far = 4e9, past = 1.0;
    fetch_count = 0;
    assert_int_equal(short_lived_cache_get(kr, "k1", fetch_value, &far, &value, &err), 0);
    assert_string_equal(value, "login-value");
    secure_free(value);
    assert_int_equal(short_lived_cache_get(kr, "k1", fetch_value, &far, &value, &err), 0);
    secure_free(value);
    assert_int_equal(fetch_count, 1); /* served from the cache */
    /* Expired on arrival: served, not kept. */
    assert_int_equal(short_lived_cache_get(kr, "k2", fetch_value, &past, &value, &err), 0);
    secure_free(value);
    assert_int_equal(short_lived_cache_peek(kr, "k2", &value), -1);
    assert_int_equal(short_lived_cache_size(), 1);
    short_lived_cache_put(kr, "k3", "other", far);
    assert_int_equal(short_lived_cache_peek(kr, "k3", &value), 0);
    assert_string_equal(value, "other");
    secure_free(value);
    short_lived_cache_clear();
    assert_int_equal(short_lived_cache_size(), 0);
    keyring_free(kr);
    unlink(path);
}

static void test_plugin_config(void **state) {
    (void)state;
    struct agyn_error err = {0};
    struct credential_plugins *plugins = NULL;
    json_t *doc = json_loads(
        "{\"apiVersion\":\"kubelet.config.k8s.io/v1\",\"kind\":\"CredentialProviderConfig\","
        "\"providers\":[{\"name\":\"sh\",\"matchImages\":[\"*.example.com\"],"
        "\"defaultCacheDuration\":\"12h\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\","
        "\"args\":[\"-c\",\"true\"],\"env\":[{\"name\":\"A\",\"value\":\"b\"}]}]}",
        0, NULL);
    assert_int_equal(credential_plugins_from_json(doc, "/bin", 0, &plugins, &err), 0);
    assert_int_equal(plugins->count, 1);
    const struct credential_plugin *sh = credential_plugins_find(plugins, "sh");
    assert_non_null(sh);
    assert_null(credential_plugins_find(plugins, "/bin/sh"));
    assert_string_equal(sh->path, "/bin/sh");
    assert_string_equal(sh->argv[0], "sh");
    assert_string_equal(sh->argv[2], "true");
    assert_null(sh->argv[3]);
    assert_string_equal(sh->envp[0], "A=b");
    assert_int_equal(strncmp(sh->envp[1], "PATH=", 5), 0);
    assert_int_equal(sh->default_cache_ms, 12LL * 3600 * 1000);
    assert_int_equal(plugins->timeout_ms, CREDENTIAL_PLUGIN_DEFAULT_TIMEOUT_MS);
    credential_plugins_free(plugins);
    /* PATH cannot be overridden; tokenAttributes is refused. */
    json_t *providers = json_object_get(doc, "providers");
    json_t *env = json_object_get(json_array_get(providers, 0), "env");
    json_object_set_new(json_array_get(env, 0), "name", json_string("PATH"));
    assert_int_equal(credential_plugins_from_json(doc, "/bin", 0, &plugins, &err), -1);
    assert_non_null(strstr(err.message, "PATH"));
    json_object_set_new(json_array_get(env, 0), "name", json_string("A"));
    json_object_set_new(json_array_get(providers, 0), "tokenAttributes", json_object());
    assert_int_equal(credential_plugins_from_json(doc, "/bin", 0, &plugins, &err), -1);
    assert_non_null(strstr(err.message, "tokenAttributes"));
    json_decref(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_globs),
        cmocka_unit_test(test_ecr_answers),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_plugin_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
