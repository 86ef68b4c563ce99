/* vault.c — the "vault" provider backend: reads one key of a HashiCorp Vault KV version 2
 * secret over Vault's HTTP API (GET /v1/<mount>/data/<path>, X-Vault-Token and optional
 * X-Vault-Namespace headers) and tests a token with /v1/auth/token/lookup-self.
 * Config: {"address": "https://vault:8200", "token": "...", "namespace": "team-a"}.
 * Remote path: "<mount>/<path...>/<key>", e.g. "secret/ci/registry/password". */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/redact.h"
#include "core/xalloc.h"
#include "providers/http.h"
#include "providers/answers.h"
#include "providers/provider.h"

#define VAULT_TYPE "vault"
#define VAULT_PATH_MAX 1024
#define VAULT_TOKEN_MAX 4096
#define VAULT_NAMESPACE_MAX 256
#define VAULT_ADDRESS_MAX 2048

static const char *const vault_secret_fields[] = {"token", NULL};
static const char *const vault_destination_fields[] = {"address", NULL};
static const char *const vault_config_keys[] = {"address", "token", "namespace", NULL};

struct vault_settings {
    const char *address; /* as configured; trailing '/' dropped when building URLs */
    const char *token;
    const char *namespace_name; /* NULL when not set */
};

/* A validated remote path split into its parts (pointers into one owned copy). */
struct vault_path {
    char *storage;
    const char *mount;
    const char *secret_path; /* segments between mount and key, '/'-separated */
    const char *key;
};

static int vault_validate_config(const json_t *config, struct agyn_error *err) {
    struct vault_settings settings;
    if (provider_config_check_object(VAULT_TYPE, config, vault_config_keys, err) != 0 ||
        provider_config_string(VAULT_TYPE, config, "address", true, VAULT_ADDRESS_MAX,
                               &settings.address, err) != 0 ||
        provider_config_string(VAULT_TYPE, config, "token", true, VAULT_TOKEN_MAX, &settings.token,
                               err) != 0 ||
        provider_config_string(VAULT_TYPE, config, "namespace", false, VAULT_NAMESPACE_MAX,
                               &settings.namespace_name, err) != 0)
        return -1;
    if (provider_validate_base_url(settings.address, true, "config.address", err) != 0) {
        agyn_error_prefix(err, VAULT_TYPE);
        return -1;
    }
    return 0;
}

static int vault_read_config(const json_t *config, struct vault_settings *settings,
                             struct agyn_error *err) {
    if (vault_validate_config(config, err) != 0)
        return -1;
    provider_config_string(VAULT_TYPE, config, "address", true, VAULT_ADDRESS_MAX,
                           &settings->address, err);
    provider_config_string(VAULT_TYPE, config, "token", true, VAULT_TOKEN_MAX, &settings->token,
                           err);
    provider_config_string(VAULT_TYPE, config, "namespace", false, VAULT_NAMESPACE_MAX,
                           &settings->namespace_name, err);
    return 0;
}

static int vault_validate_path(const char *remote_path, const char *field, struct agyn_error *err) {
    if (!remote_path || !*remote_path)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "vault: %s must not be empty", field);
    size_t len = strlen(remote_path);
    if (len > VAULT_PATH_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "vault: %s is longer than %d bytes", field,
                         VAULT_PATH_MAX);
    if (!provider_text_is_clean(remote_path, len))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "vault: %s must be UTF-8 text without control characters", field);
    size_t segments = 0;
    const char *segment = remote_path;
    for (;;) {
        const char *slash = strchr(segment, '/');
        size_t segment_len = slash ? (size_t)(slash - segment) : strlen(segment);
        if (segment_len == 0)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                             "vault: %s has an empty segment (leading, trailing or double '/')",
                             field);
        if ((segment_len == 1 && segment[0] == '.') ||
            (segment_len == 2 && segment[0] == '.' && segment[1] == '.'))
            return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                             "vault: %s must not contain \".\" or \"..\" segments", field);
        segments++;
        if (!slash)
            break;
        segment = slash + 1;
    }
    if (segments < 3)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "vault: %s must have the form <mount>/<path>/<key>", field);
    return 0;
}

static int vault_split_path(const char *remote_path, struct vault_path *path,
                            struct agyn_error *err) {
    memset(path, 0, sizeof *path);
    if (vault_validate_path(remote_path, "remote_path", err) != 0)
        return -1;
    path->storage = xstrdup(remote_path);
    char *first_slash = strchr(path->storage, '/');
    char *last_slash = strrchr(path->storage, '/');
    *first_slash = '\0';
    *last_slash = '\0';
    path->mount = path->storage;
    path->secret_path = first_slash + 1;
    path->key = last_slash + 1;
    return 0;
}

/* Appends "/v1/<mount>/data/<path>" with every segment percent-encoded. */
static void vault_append_data_url(struct dynbuf *url, const struct vault_path *path) {
    dynbuf_add_str(url, "/v1/");
    provider_add_url_escaped(url, path->mount);
    dynbuf_add_str(url, "/data");
    const char *segment = path->secret_path;
    while (segment) {
        const char *slash = strchr(segment, '/');
        size_t len = slash ? (size_t)(slash - segment) : strlen(segment);
        char piece[VAULT_PATH_MAX + 1];
        memcpy(piece, segment, len);
        piece[len] = '\0';
        dynbuf_add_str(url, "/");
        provider_add_url_escaped(url, piece);
        segment = slash ? slash + 1 : NULL;
    }
}

static void vault_append_base(struct dynbuf *url, const char *address) {
    size_t len = strlen(address);
    while (len > 0 && address[len - 1] == '/')
        len--;
    dynbuf_add(url, address, len);
}

/* GET url with the token (and namespace) headers. Errors carry the "vault: " prefix. */
static int vault_get(const struct vault_settings *settings, const char *url,
                     struct provider_http_response *resp, struct agyn_error *err) {
    struct provider_http_header headers[4] = {
        {"X-Vault-Token", settings->token},
        {"X-Vault-Request", "true"},
        {"Accept", "application/json"},
    };
    size_t header_count = 3;
    if (settings->namespace_name)
        headers[header_count++] =
            (struct provider_http_header){"X-Vault-Namespace", settings->namespace_name};
    struct provider_http_request req = {
        .method = "GET", .url = url, .headers = headers, .header_count = header_count};
    /* The message names the origin and curl's error: neither holds the token. */
    if (provider_http_perform(&req, resp, err) != 0) {
        agyn_error_prefix(err, VAULT_TYPE);
        return -1;
    }
    return 0;
}

/* Turns a non-200 response into "vault: <status>: <errors joined by '; '>". When Vault sends
 * no errors (a 404 for a missing secret has "errors": []), a 404 reads not_found_text. When
 * the errors contain the token, they are dropped whole for a fixed description. */
static int vault_status_error(const struct vault_settings *settings,
                              const struct provider_http_response *resp, const char *not_found_text,
                              struct agyn_error *err) {
    char detail[720] = "";
    json_t *body = json_loadb(resp->body, resp->body_len, 0, NULL);
    json_t *errors = json_is_object(body) ? json_object_get(body, "errors") : NULL;
    const char *const credentials[] = {settings->token, NULL};
    /* Looked for in the whole answer and in each decoded error before anything is cut short:
     * a credential cut at the end of a shortened message would still show its beginning. */
    bool reveals = resp->body && redact_text_reveals(resp->body, credentials);
    size_t index;
    json_t *item;
    json_array_foreach(errors, index, item) {
        if (json_is_string(item) && redact_text_reveals(json_string_value(item), credentials))
            reveals = true;
    }
    json_array_foreach(errors, index, item) {
        if (!json_is_string(item) || json_string_length(item) == 0)
            continue;
        char piece[256];
        provider_sanitize_text(piece, sizeof piece, json_string_value(item),
                               json_string_length(item));
        size_t used = strlen(detail);
        snprintf(detail + used, sizeof detail - used, "%s%s", used ? "; " : "", piece);
    }
    if (reveals) {
        OPENSSL_cleanse(detail, sizeof detail);
        snprintf(detail, sizeof detail, "%s (Vault's message withheld: it contains the token)",
                 provider_status_text(resp->status));
    }
    if (!detail[0] && !body)
        snprintf(detail, sizeof detail, "unexpected response (not JSON)");
    else if (!detail[0])
        snprintf(detail, sizeof detail, "%s",
                 resp->status == 404 ? not_found_text : "unexpected response");
    secure_json_wipe(body);
    json_decref(body);
    agyn_fail(err, provider_status_to_code(resp->status), "", "vault: %ld: %s", resp->status,
              detail);
    return -1;
}

int vault_error_from_answer(long status, const char *body, size_t len, const char *token,
                            struct agyn_error *err) {
    struct vault_settings settings = {.address = "", .token = token};
    struct provider_http_response resp = {.status = status, .body = (char *)body, .body_len = len};
    return vault_status_error(&settings, &resp, "no secret", err);
}

int vault_secret_from_answer(const char *answer, size_t len, const char *shown, const char *mount,
                             const char *key, char **value_out, struct agyn_error *err) {
    *value_out = NULL;
    int rc = -1;
    json_t *body = json_loadb(answer ? answer : "", answer ? len : 0, 0, NULL);
    json_t *secret = json_object_get(json_object_get(body, "data"), "data");
    json_t *value = json_object_get(secret, key);
    if (!body)
        agyn_fail(err, AGYN_UNAVAILABLE, "", "vault: 200: unexpected response (not JSON)");
    else if (!json_is_object(secret))
        agyn_fail(err, AGYN_UNAVAILABLE, "",
                  "vault: 200: response for %s has no data.data object (is %s a KV version 2 "
                  "mount?)",
                  shown, mount);
    else if (!value)
        agyn_fail(err, AGYN_NOT_FOUND, "", "vault: key \"%s\" not found at %s", key, shown);
    else if (!json_is_string(value))
        agyn_fail(err, AGYN_UNPROCESSABLE, "", "vault: key \"%s\" at %s is not a string", key,
                  shown);
    else {
        *value_out = xstrdup(json_string_value(value));
        rc = 0;
    }
    secure_json_wipe(body);
    json_decref(body);
    return rc;
}

static int vault_resolve(const json_t *config, const char *remote_path, char **value_out,
                         struct agyn_error *err) {
    *value_out = NULL;
    struct vault_settings settings;
    struct vault_path path;
    if (vault_read_config(config, &settings, err) != 0 ||
        vault_split_path(remote_path, &path, err) != 0)
        return -1;

    int rc = -1;
    char shown[VAULT_PATH_MAX + 16];
    snprintf(shown, sizeof shown, "%s/data/%s", path.mount, path.secret_path);
    struct dynbuf url = {0};
    vault_append_base(&url, settings.address);
    vault_append_data_url(&url, &path);
    struct provider_http_response resp = {0};
    if (vault_get(&settings, url.data, &resp, err) != 0)
        goto done;
    if (resp.status != 200) {
        char nothing[VAULT_PATH_MAX + 32];
        snprintf(nothing, sizeof nothing, "no secret at %s", shown);
        vault_status_error(&settings, &resp, nothing, err);
        goto done;
    }
    if (vault_secret_from_answer(resp.body, resp.body_len, shown, path.mount, path.key, value_out,
                                 err) != 0)
        goto done;
    rc = 0;
done:
    provider_http_response_free(&resp);
    dynbuf_free(&url);
    free(path.storage);
    return rc;
}

static int vault_test(const json_t *config, struct agyn_error *err) {
    struct vault_settings settings;
    if (vault_read_config(config, &settings, err) != 0)
        return -1;
    int rc = -1;
    struct dynbuf url = {0};
    vault_append_base(&url, settings.address);
    dynbuf_add_str(&url, "/v1/auth/token/lookup-self");
    struct provider_http_response resp = {0};
    if (vault_get(&settings, url.data, &resp, err) != 0)
        goto done;
    if (resp.status != 200) {
        vault_status_error(&settings, &resp, "no token lookup endpoint (is this Vault?)", err);
        goto done;
    }
    /* The answer echoes the token; only check that it is Vault's JSON, then wipe it. */
    json_t *body = json_loadb(resp.body, resp.body_len, 0, NULL);
    bool looks_right = json_is_object(json_object_get(body, "data"));
    secure_json_wipe(body);
    json_decref(body);
    if (!looks_right) {
        agyn_fail(err, AGYN_UNAVAILABLE, "",
                  "vault: 200: unexpected response to token lookup (no data object)");
        goto done;
    }
    rc = 0;
done:
    provider_http_response_free(&resp);
    dynbuf_free(&url);
    return rc;
}

const struct provider_backend vault_backend = {
    .type = VAULT_TYPE,
    .secret_fields = vault_secret_fields,
    .destination_fields = vault_destination_fields,
    .validate_config = vault_validate_config,
    .validate_path = vault_validate_path,
    .resolve = vault_resolve,
    .test = vault_test,
};
