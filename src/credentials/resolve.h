/* resolve.h — turning stored credentials into plaintext at the moment of use (a workload
 * start, a verify, a provider test): inline values are opened from their sealed form, remote
 * ones fetched from their provider every time (never cached). Error messages say which
 * secret, which provider and what failed, never the value. */
#ifndef AGYN_CREDENTIALS_RESOLVE_H
#define AGYN_CREDENTIALS_RESOLVE_H

#include <jansson.h>

#include "core/error.h"
#include "credentials/credential_plugins.h"
#include "crypto/keyring.h"
#include "store/store.h"

struct resolve_context {
    struct store *store;
    struct keyring *keyring;
    const char *keyring_path; /* reloaded when a value names a key not loaded yet */
    /* The operator's credential-provider plugins; NULL when none are configured. */
    const struct credential_plugins *plugins;
};

/* A provider row's full config: stored public keys plus opened credentials (plaintext). */
int resolve_provider_config(const struct resolve_context *ctx, const json_t *provider_row,
                            json_t **config_out, struct agyn_error *err);
/* The current value of a provider's remote path. */
int resolve_remote(const struct resolve_context *ctx, const char *organization_id,
                   const char *provider_id, const char *remote_path, char **value_out,
                   struct agyn_error *err);
/* A Secret's value (inline or remote). */
int resolve_secret_value(const struct resolve_context *ctx, const char *organization_id,
                         const char *secret_id, char **value_out, struct agyn_error *err);
/* An image pull secret's password from whichever source it has (inline, secret, remote). */
int resolve_image_pull_password(const struct resolve_context *ctx, const json_t *row,
                                char **password_out, struct agyn_error *err);
/* An image pull secret's username and password for target ("<registry>/<repository>", or the
 * secret's registry for a verify): the stored username with the password above, or a
 * short-lived login — password_source "ecr" (GetAuthorizationToken through the AWS provider,
 * cached sealed until 10 minutes before expiresAt) or "plugin" (credential_plugins.h). Both
 * strings malloc'd (free with secure_free). */
int resolve_image_pull_login(const struct resolve_context *ctx, const json_t *row,
                             const char *target, char **username_out, char **password_out,
                             struct agyn_error *err);

#endif
