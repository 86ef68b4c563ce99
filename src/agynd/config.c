/* config.c — agynd configuration defaults from the environment, and the options naming the
 * data directory, database and keyring that the maintenance subcommands share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agynd/commands.h"

static const char *env_or(const char *name, const char *fallback) {
    const char *value = getenv(name);
    return value && *value ? value : fallback;
}

void config_derive_paths(struct app_config *config, int database_set, int keyring_set) {
    if (!database_set)
        snprintf(config->database, sizeof config->database, "sqlite:%s/agyn.db", config->data_dir);
    if (!keyring_set)
        snprintf(config->keyring_file, sizeof config->keyring_file, "%s/keyring.json",
                 config->data_dir);
}

struct config_location config_location_from_env(void) {
    return (struct config_location){.database_set = *env_or("AGYN_DATABASE", "") != '\0',
                                    .keyring_set = *env_or("AGYN_KEYRING_FILE", "") != '\0'};
}

int config_location_option(struct app_config *config, struct config_location *location, int opt,
                           const char *arg) {
    switch (opt) {
    case CONFIG_OPT_DATA_DIR:
        snprintf(config->data_dir, sizeof config->data_dir, "%s", arg);
        return 1;
    case CONFIG_OPT_DATABASE:
        snprintf(config->database, sizeof config->database, "%s", arg);
        location->database_set = 1;
        return 1;
    case CONFIG_OPT_KEYRING_FILE:
        snprintf(config->keyring_file, sizeof config->keyring_file, "%s", arg);
        location->keyring_set = 1;
        return 1;
    default:
        return 0;
    }
}

void config_location_finish(struct app_config *config, const struct config_location *location) {
    config_derive_paths(config, location->database_set, location->keyring_set);
}

void config_defaults(struct app_config *config) {
    memset(config, 0, sizeof *config);
    snprintf(config->data_dir, sizeof config->data_dir, "%s", env_or("AGYN_DATA_DIR", "./var"));
    snprintf(config->listen, sizeof config->listen, "%s", env_or("AGYN_LISTEN", "127.0.0.1:8080"));
    config_derive_paths(config, 0, 0);
    if (getenv("AGYN_DATABASE") && *getenv("AGYN_DATABASE"))
        snprintf(config->database, sizeof config->database, "%s", getenv("AGYN_DATABASE"));
    if (getenv("AGYN_KEYRING_FILE") && *getenv("AGYN_KEYRING_FILE"))
        snprintf(config->keyring_file, sizeof config->keyring_file, "%s",
                 getenv("AGYN_KEYRING_FILE"));
    config->http_threads = 4;
    config->max_connections_per_client = 128;
    config->max_connections = 1000;
    config->outbound = (struct outbound_config){
        .threads = 8, .org_running = 2, .org_queued = 8, .timeout_ms = 15000};
    config->quotas = (struct org_quotas){.active_workloads = QUOTA_DEFAULT_ACTIVE_WORKLOADS,
                                         .secrets = QUOTA_DEFAULT_SECRETS,
                                         .image_pull_secrets = QUOTA_DEFAULT_IMAGE_PULL_SECRETS,
                                         .attachments = QUOTA_DEFAULT_ATTACHMENTS};
    snprintf(config->metrics_token, sizeof config->metrics_token, "%s",
             env_or("AGYN_METRICS_TOKEN", ""));
}
