/* docker_helpers.h — credential stores and helpers of a Docker config (docker_helpers.c). */
#ifndef AGYN_CLI_DOCKER_HELPERS_H
#define AGYN_CLI_DOCKER_HELPERS_H

#include <jansson.h>

/* Replaces the "credsStore" / "credHelpers" entries of config by auths entries with the
 * credentials `docker-credential-<helper> get` answers; each entry that cannot be resolved is
 * removed from auths and appended to problems as {"key", "message"} (never a secret). */
void docker_config_resolve_helpers(json_t *config, json_t *problems);

#endif
