/* resolve.c — opening inline values and fetching remote ones for use. */
#include "credentials/resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/row.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"
#include "credentials/short_lived_cache.h"
#include "crypto/envelope.h"
#include "crypto/sealed_field.h"
#include "providers/provider.h"
#include "store/tables.h"

static int open_column(const struct resolve_context *ctx, const json_t *row, const char *table,
                       const char *column, char **plain_out, struct agyn_error *err) {
    struct sealed_location where = {row_text(row, "organization_id"), table, row_text(row, "id"),
                                    column};
    if (sealed_field_open(ctx->keyring, ctx->keyring_path, &where, row_text(row, column), plain_out,
                          err) != 0) {
        if (where.row_id && !strstr(err->message, where.row_id)) /* say which value failed */
            agyn_error_prefix(err, "%s.%s of row %s", table, column, where.row_id);
        return -1;
    }
    return 0;
}

int resolve_provider_config(const struct resolve_context *ctx, const json_t *provider_row,
                            json_t **config_out, struct agyn_error *err) {
    json_t *config = json_loads(row_text(provider_row, "config"), 0, NULL);
    if (!json_is_object(config)) {
        json_decref(config);
        config = json_object();
    }
    if (row_text(provider_row, "credentials_sealed")) {
        char *plain = NULL;
        if (open_column(ctx, provider_row, "secret_providers", "credentials_sealed", &plain, err) !=
            0) {
            json_decref(config);
            return -1;
        }
        json_t *credentials = json_loads(plain, 0, NULL);
        secure_free(plain);
        json_object_update(config, credentials);
        json_decref(credentials);
    }
    *config_out = config;
    return 0;
}

int resolve_remote(const struct resolve_context *ctx, const char *organization_id,
                   const char *provider_id, const char *remote_path, char **value_out,
                   struct agyn_error *err) {
    json_t *provider = NULL;
    if (store_get(ctx->store, &TABLE_SECRET_PROVIDERS, organization_id, provider_id, &provider,
                  err) != 0) {
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "provider_id", "secret provider %s no longer exists",
                      provider_id);
        return -1;
    }
    const struct provider_backend *backend = provider_find(row_text(provider, "type"));
    json_t *config = NULL;
    int rc = -1;
    if (!backend)
        agyn_fail(err, AGYN_INTERNAL, "provider_id", "secret provider \"%s\" has unknown type %s",
                  row_text(provider, "name"), row_text(provider, "type"));
    else if (resolve_provider_config(ctx, provider, &config, err) == 0)
        rc = backend->resolve(config, remote_path, value_out, err);
    if (rc != 0 && backend)
        agyn_error_prefix(err, "secret provider \"%s\" (%s), path \"%s\"",
                          row_text(provider, "name"), backend->type, remote_path);
    json_decref(config);
    json_decref(provider);
    return rc;
}

int resolve_secret_value(const struct resolve_context *ctx, const char *organization_id,
                         const char *secret_id, char **value_out, struct agyn_error *err) {
    json_t *secret = NULL;
    if (store_get(ctx->store, &TABLE_SECRETS, organization_id, secret_id, &secret, err) != 0) {
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "password_secret_id", "secret %s no longer exists",
                      secret_id);
        return -1;
    }
    int rc;
    if (row_text(secret, "value_sealed"))
        rc = open_column(ctx, secret, "secrets", "value_sealed", value_out, err);
    else
        rc = resolve_remote(ctx, organization_id, row_text(secret, "provider_id"),
                            row_text(secret, "remote_path"), value_out, err);
    if (rc != 0)
        agyn_error_prefix(err, "secret \"%s\"", row_text(secret, "name"));
    json_decref(secret);
    return rc;
}

int resolve_image_pull_password(const struct resolve_context *ctx, const json_t *row,
                                char **password_out, struct agyn_error *err) {
    const char *org = row_text(row, "organization_id");
    const char *source = row_text(row, "password_source");
    if (source && (strcmp(source, "ecr") == 0 || strcmp(source, "plugin") == 0))
        return agyn_fail(err, AGYN_INTERNAL, "password",
                         "a %s login has no stored password (resolve_image_pull_login)", source);
    if (row_text(row, "password_sealed"))
        return open_column(ctx, row, "image_pull_secrets", "password_sealed", password_out, err);
    if (row_text(row, "password_secret_id"))
        return resolve_secret_value(ctx, org, row_text(row, "password_secret_id"), password_out,
                                    err);
    if (row_text(row, "provider_id"))
        return resolve_remote(ctx, org, row_text(row, "provider_id"), row_text(row, "remote_path"),
                              password_out, err);
    return agyn_fail(err, AGYN_INTERNAL, "password", "image pull secret has no password source");
}

/* ---- short-lived logins ---------------------------------------------------------------- */

#define ECR_REFRESH_MARGIN_S 600.0 /* a cached ECR token is renewed 10 minutes before expiry */

struct ecr_fetch {
    const struct resolve_context *ctx;
    const json_t *provider;
    const struct provider_backend *backend;
};

static int ecr_fetch_login(void *arg, char **value_out, double *usable_until,
                           struct agyn_error *err) {
    struct ecr_fetch *fetch = arg;
    json_t *config = NULL;
    if (resolve_provider_config(fetch->ctx, fetch->provider, &config, err) != 0)
        return -1;
    struct provider_registry_login login = {0};
    int rc = fetch->backend->registry_login(config, &login, err);
    json_decref(config);
    if (rc != 0)
        return -1;
    json_t *value = json_pack("{s:s, s:s}", "username", login.username, "password", login.password);
    *value_out = value ? json_dumps(value, JSON_COMPACT) : NULL;
    secure_json_free(value);
    /* A token that arrives already expired (or without expiresAt) serves this start only. */
    *usable_until = login.expires_at > 0 ? login.expires_at - ECR_REFRESH_MARGIN_S : 0;
    provider_login_free(&login);
    if (!*value_out) /* json_pack fails only on invalid UTF-8 from the provider */
        return agyn_fail(err, AGYN_INTERNAL, "", "the ECR login is not valid UTF-8");
    return 0;
}

/* Splits a cached {"username", "password"} value. */
static int split_login(const char *value, char **username_out, char **password_out,
                       struct agyn_error *err) {
    json_t *login = json_loads(value, 0, NULL);
    const char *user = row_text(login, "username");
    const char *pass = row_text(login, "password");
    int rc = 0;
    if (user && pass) {
        *username_out = xstrdup(user);
        *password_out = xstrdup(pass);
    } else {
        rc = agyn_fail(err, AGYN_INTERNAL, "", "a cached registry login is malformed");
    }
    secure_json_free(login);
    return rc;
}

static int resolve_ecr_login(const struct resolve_context *ctx, const json_t *row,
                             char **username_out, char **password_out, struct agyn_error *err) {
    const char *org = row_text(row, "organization_id");
    const char *provider_id = row_text(row, "provider_id");
    json_t *provider = NULL;
    if (store_get(ctx->store, &TABLE_SECRET_PROVIDERS, org, provider_id, &provider, err) != 0) {
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, "provider_id", "secret provider %s no longer exists",
                      provider_id);
        return -1;
    }
    const struct provider_backend *backend = provider_find(row_text(provider, "type"));
    int rc = -1;
    if (!backend || !backend->registry_login) {
        agyn_fail(err, AGYN_UNPROCESSABLE, "provider_id",
                  "secret provider \"%s\" (%s) cannot issue ECR tokens", row_text(provider, "name"),
                  row_text(provider, "type"));
    } else {
        /* The provider's updated_at is part of the key: a changed config never reuses a token
         * issued under the old one. */
        char key[400];
        snprintf(key, sizeof key, "ecr/%s/%s/%s", org, provider_id,
                 row_text_or_empty(provider, "updated_at"));
        struct ecr_fetch fetch = {ctx, provider, backend};
        char *value = NULL;
        rc = short_lived_cache_get(ctx->keyring, key, ecr_fetch_login, &fetch, &value, err);
        if (rc == 0)
            rc = split_login(value, username_out, password_out, err);
        secure_free(value);
        if (rc != 0)
            agyn_error_prefix(err, "secret provider \"%s\" (%s)", row_text(provider, "name"),
                              backend->type);
    }
    json_decref(provider);
    return rc;
}

int resolve_image_pull_login(const struct resolve_context *ctx, const json_t *row,
                             const char *target, char **username_out, char **password_out,
                             struct agyn_error *err) {
    *username_out = *password_out = NULL;
    const char *source = row_text(row, "password_source");
    if (source && strcmp(source, "ecr") == 0)
        return resolve_ecr_login(ctx, row, username_out, password_out, err);
    if (source && strcmp(source, "plugin") == 0) {
        const struct credential_plugin *plugin =
            credential_plugins_find(ctx->plugins, row_text(row, "plugin"));
        if (!plugin)
            return agyn_fail(err, AGYN_UNPROCESSABLE, "plugin",
                             "credential-provider plugin \"%s\" is not configured on this server "
                             "(--image-credential-provider-config)",
                             row_text_or_empty(row, "plugin"));
        return credential_plugin_login(ctx->keyring, ctx->plugins, plugin, target, username_out,
                                       password_out, err);
    }
    if (resolve_image_pull_password(ctx, row, password_out, err) != 0)
        return -1;
    *username_out = xstrdup(row_text_or_empty(row, "username"));
    return 0;
}
