/* commands.h — agynd's subcommands, one file each, and the options they share. */
#ifndef AGYN_AGYND_COMMANDS_H
#define AGYN_AGYND_COMMANDS_H

#include "api/app.h"

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_admin_token(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_runner(int argc, char **argv);
int cmd_migrate(int argc, char **argv);

/* store_notify channel: the keyring file changed (keys add, remove, rewrap); every serving
 * process reloads it. */
#define KEYRING_CHANGE_CHANNEL "agyn_keyring"

/* Fills data_dir, database and keyring_file from the environment (AGYN_DATA_DIR,
 * AGYN_DATABASE, AGYN_KEYRING_FILE, AGYN_LISTEN) and defaults. */
void config_defaults(struct app_config *config);
/* Recomputes database/keyring paths after --data-dir changed, unless set explicitly. */
void config_derive_paths(struct app_config *config, int database_set, int keyring_set);

/* The options that say where agynd's state is, parsed alike by the maintenance subcommands
 * (init, keys, admin-token, backup, migrate): a command lists the CONFIG_OPTION_* entries it
 * takes in its getopt_long table, hands every option to config_location_option, then calls
 * config_location_finish. */
#define CONFIG_OPT_DATA_DIR 'd'
#define CONFIG_OPT_DATABASE 'b'
#define CONFIG_OPT_KEYRING_FILE 'k'
#define CONFIG_OPTION_DATA_DIR                                                                     \
    { "data-dir", required_argument, NULL, CONFIG_OPT_DATA_DIR }
#define CONFIG_OPTION_DATABASE                                                                     \
    { "database", required_argument, NULL, CONFIG_OPT_DATABASE }
#define CONFIG_OPTION_KEYRING_FILE                                                                 \
    { "keyring-file", required_argument, NULL, CONFIG_OPT_KEYRING_FILE }

struct config_location {
    int database_set; /* config.database is not to be derived from the data directory */
    int keyring_set;  /* nor config.keyring_file */
};

/* Set when AGYN_DATABASE / AGYN_KEYRING_FILE are (config_defaults took them over). */
struct config_location config_location_from_env(void);
/* Applies a getopt_long result that is one of the CONFIG_OPT_* options (arg: optarg) and
 * returns 1; returns 0 for any other option. */
int config_location_option(struct app_config *config, struct config_location *location, int opt,
                           const char *arg);
/* Derives what was not set from the (final) data directory. */
void config_location_finish(struct app_config *config, const struct config_location *location);

#endif
