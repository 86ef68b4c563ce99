/* credential_plugins.h — kubelet credential-provider plugins, configured by the operator exactly
 * as for the kubelet (--image-credential-provider-config FILE, a CredentialProviderConfig in
 * YAML or JSON, and --image-credential-provider-bin-dir DIR) and run at workload start for an
 * image pull secret with password_source "plugin": the plugin gets a CredentialProviderRequest
 * on stdin and answers a CredentialProviderResponse on stdout; the answer is cached (sealed,
 * short_lived_cache.h) by its cacheKeyType (Image, Registry, Global) for its cacheDuration.
 * Tenants only ever name a configured plugin; they never give a path or an argument. */
#ifndef AGYN_CREDENTIALS_CREDENTIAL_PLUGINS_H
#define AGYN_CREDENTIALS_CREDENTIAL_PLUGINS_H

#include <stddef.h>

#include <jansson.h>

#include "core/error.h"
#include "crypto/keyring.h"

#define CREDENTIAL_PLUGIN_CONFIG_API "kubelet.config.k8s.io/v1"
#define CREDENTIAL_PLUGIN_API "credentialprovider.kubelet.k8s.io/v1"
#define CREDENTIAL_PLUGIN_DEFAULT_TIMEOUT_MS 30000LL

struct credential_plugin {
    char *name;          /* the executable's file name in the bin dir */
    char *path;          /* bin_dir/name */
    char **match_images; /* kubelet globs (core/image_glob.h) */
    size_t match_count;
    long long default_cache_ms;
    char **argv; /* path's name, then args; NULL-terminated */
    char **envp; /* "NAME=value" from env, then PATH; NULL-terminated */
};

struct credential_plugins {
    struct credential_plugin *items;
    size_t count;
    long long timeout_ms; /* per run; the process group is killed after it */
};

/* Reads and checks the config file (YAML, or JSON, which is YAML too) and checks that every
 * provider's executable exists in bin_dir and is executable. Errors (AGYN_INVALID_ARGUMENT)
 * name the file and the field ("providers[0].matchImages[1]: ..."). */
int credential_plugins_load(const char *config_file, const char *bin_dir, long long timeout_ms,
                            struct credential_plugins **out, struct agyn_error *err);
/* Parses an already loaded document (a JSON value; tests and the fuzz target). */
int credential_plugins_from_json(const json_t *document, const char *bin_dir, long long timeout_ms,
                                 struct credential_plugins **out, struct agyn_error *err);
void credential_plugins_free(struct credential_plugins *plugins);

/* NULL when plugins is NULL or has no plugin of that name. */
const struct credential_plugin *credential_plugins_find(const struct credential_plugins *plugins,
                                                        const char *name);

/* The login the plugin gives for target, an image as "<registry>/<repository>" (what the
 * kubelet sends: no tag or digest) or a registry "<host>[/<path>]" (verify). The plugin must
 * match it (matchImages), run within the
 * timeout, exit 0 and answer a valid response with an auth entry matching the image. Failures
 * are AGYN_UNAVAILABLE when running again may help (timeout, non-zero exit, invalid answer) and
 * AGYN_UNPROCESSABLE when not (no matchImages entry matches); messages name the plugin and
 * carry its stderr (bounded, sanitized), never credentials. username/password are malloc'd
 * (free with secure_free). */
int credential_plugin_login(const struct keyring *kr, const struct credential_plugins *plugins,
                            const struct credential_plugin *plugin, const char *target,
                            char **username_out, char **password_out, struct agyn_error *err);

#endif
