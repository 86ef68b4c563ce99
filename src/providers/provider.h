/* provider.h — remote secret providers behind one interface, one backend per file (vault.c,
 * aws_secrets_manager.c), found by type name. A backend validates its config and remote paths,
 * resolves a remote path to the current secret value, and tests connectivity. Backends never
 * put secret values (tokens, keys, resolved values) into error messages; they do include the
 * provider's own error text (Vault's "errors" array, AWS's __type/Message). */
#ifndef AGYN_PROVIDERS_PROVIDER_H
#define AGYN_PROVIDERS_PROVIDER_H

#include <jansson.h>

#include "core/error.h"

/* A registry login a provider issues (Amazon ECR's GetAuthorizationToken): both strings
 * malloc'd (free with provider_login_free); expires_at in Unix seconds, 0 when not given. */
struct provider_registry_login {
    char *username;
    char *password;
    double expires_at;
};

struct provider_backend {
    const char *type; /* "vault", "aws-secrets-manager" */
    /* Config keys that are credentials: write-only, encrypted at rest, never returned. */
    const char *const *secret_fields;
    /* Config keys that decide where the credentials are sent (Vault: address; AWS: region,
     * endpoint_url). Changing one requires restating every stored credential field. */
    const char *const *destination_fields;
    /* Checks a complete config object (after a PATCH merge). Unknown keys, missing required
     * keys, wrong types are AGYN_UNPROCESSABLE with field "config.<key>". */
    int (*validate_config)(const json_t *config, struct agyn_error *err);
    /* Checks a remote path's syntax; field names the request field ("remote_path"). */
    int (*validate_path)(const char *remote_path, const char *field, struct agyn_error *err);
    /* Fetches the current value. config has credentials in plaintext. *value_out is malloc'd
     * (free with secure_free). Errors: AGYN_NOT_FOUND (no such secret/key),
     * AGYN_PERMISSION_DENIED (provider refused the credentials), AGYN_UNAVAILABLE (cannot
     * connect, 5xx); the message starts with the provider type and carries its error. */
    int (*resolve)(const json_t *config, const char *remote_path, char **value_out,
                   struct agyn_error *err);
    /* Checks connectivity and authentication (Vault: token lookup-self; AWS: a signed call). */
    int (*test)(const json_t *config, struct agyn_error *err);
    /* Issues a registry login from the provider's credentials (aws-secrets-manager: ECR
     * GetAuthorizationToken, after STS AssumeRole when config has role_arn); NULL when the
     * backend has none. Errors follow resolve; the AWS error name is in the message. */
    int (*registry_login)(const json_t *config, struct provider_registry_login *out,
                          struct agyn_error *err);
};

/* Wipes and frees a login's strings. */
void provider_login_free(struct provider_registry_login *login);

/* NULL when unknown. */
const struct provider_backend *provider_find(const char *type);
/* NULL-terminated list of every backend, for validation messages and the OpenAPI enum. */
const struct provider_backend *const *provider_all(void);

/* Timeouts for every provider request (connect 5 s, total 10 s unless changed). */
void provider_set_timeouts(long connect_ms, long total_ms);
long provider_connect_timeout_ms(void);
long provider_total_timeout_ms(void);

#endif
